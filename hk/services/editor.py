"""``hk edit``: a record in $EDITOR, validated on save, re-opened with the errors on top.

Like ``git commit``: the file is a private copy; saving it unchanged or empty aborts; an
invalid file comes back with one ``# hk:`` line per problem above it. Nothing reaches the
archive until the text is valid, and then it goes through the ordinary write path.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hk.domain.kinds import KINDS
from hk.errors import ConflictError, HkError, InvalidData, Problem
from hk.services.records import file_text, resolve_id
from hk.store import codec
from hk.store.archive import Archive
from hk.store.files import validate_data
from hk.store.writer import Loaded, SaveResult, save

HEADER = "# hk: "


@dataclass
class EditOutcome:
    result: SaveResult | None
    aborted: bool = False
    kept_at: Path | None = None
    repaired: bool = False
    """The file was not a valid record before the edit, and now is."""


def editor_command() -> list[str]:
    for var in ("HK_EDITOR", "VISUAL", "EDITOR"):
        value = os.environ.get(var)
        if value:
            return shlex.split(value)
    return ["vi"]


def run_editor(path: Path) -> None:
    cmd = editor_command()
    try:
        proc = subprocess.run([*cmd, str(path)])
    except FileNotFoundError:
        raise HkError(f"the editor '{cmd[0]}' was not found", hint="set EDITOR") from None
    if proc.returncode != 0:
        raise HkError(f"the editor exited with status {proc.returncode}; nothing was saved")


def strip_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(HEADER):
        lines.pop(0)
    return "".join(lines)


def header_for(problems: list[Problem]) -> str:
    lines = [f"{HEADER}this record is not valid yet; fix it and save (empty the file to abort)"]
    offset = len(problems) + 1
    for p in problems:
        where = f"line {p.line + offset}" if p.line else "file"
        if p.line and p.column:
            where += f":{p.column}"
        hint = f" ({p.hint})" if p.hint else ""
        field = f"{p.field}: " if p.field else ""
        lines.append(f"{HEADER}{where}: {field}{p.message}{hint}")
    return "\n".join(lines) + "\n"


def edit(archive: Archive, ref: str, editor: Callable[[Path], None] = run_editor) -> EditOutcome:
    """Edit the record ``ref`` names in the editor, and save it once it is valid.

    A record whose file does not parse or validate (a hand edit gone wrong, merge conflict
    markers) opens too, with its problems on top, as an invalid save would come back: this is
    how such a file is repaired. Only a file that is no text at all (a link, a pipe, a huge or
    binary file) is refused.
    """
    kind, record_id = resolve_id(archive, None, ref)
    model = KINDS[kind]
    found = file_text(archive, model, record_id)
    original = found.text
    folder = Path(tempfile.mkdtemp(prefix="hk-edit-"))
    os.chmod(folder, 0o700)
    draft = folder / Path(found.path).name
    header = header_for(found.problems) if found.problems else ""
    draft.write_text(header + original, encoding="utf-8")
    keep = False
    try:
        while True:
            editor(draft)
            text = strip_header(draft.read_text(encoding="utf-8"))
            if not text.strip():
                return EditOutcome(None, aborted=True)
            if text == original:
                return EditOutcome(None)
            try:
                data = codec.parse(text, found.path)
                if isinstance(data, dict) and data.get("id") != record_id:
                    line = next(
                        (n for n, t in enumerate(text.splitlines(), 1) if t.startswith("id:")), None
                    )
                    raise InvalidData(
                        [
                            Problem(
                                message="the id cannot change",
                                field="id",
                                path=found.path,
                                line=line,
                                column=1 if line else None,
                                hint=f"put back id: {record_id}",
                            )
                        ]
                    )
                new = validate_data(model, data, text, found.path)
                if found.record is None:  # a repair: nothing valid to compare with
                    loaded = Loaded(new.model_copy(deep=True), found.path, found.base, broken=True)
                    return EditOutcome(save(archive, new, loaded, text=text), repaired=True)
                loaded = Loaded(found.record.model_copy(deep=True), found.path, found.base)
                return EditOutcome(save(archive, new, loaded, text=text))
            except InvalidData as exc:
                draft.write_text(header_for(exc.problems) + text, encoding="utf-8")
            except ConflictError:
                keep = True
                raise ConflictError(
                    f"{kind} {ref} was changed by someone else while you edited it",
                    hint=f"your text is kept in {draft}; open the record again and redo it",
                ) from None
    finally:
        if not keep:
            draft.unlink(missing_ok=True)
            folder.rmdir()
