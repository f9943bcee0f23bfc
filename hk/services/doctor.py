"""``hk doctor``: check every file of the archive and report every problem, not the first."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any

from hk.domain.base import Record
from hk.domain.customer import Customer
from hk.domain.kinds import KINDS
from hk.domain.layout import LAYOUT, KindLayout
from hk.domain.rules import settings_problems
from hk.errors import HkError, InvalidData, Problem
from hk.services.audit import problems as audit_problems
from hk.store import git
from hk.store.archive import SETTINGS_FILE, Archive
from hk.store.files import decode, parse_record
from hk.store.limits import listed_size, read_record, refusal


@dataclass
class Report:
    checked: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }


def check_archive(archive: Archive) -> Report:
    report = Report()
    try:
        settings = archive.settings
        report.checked += 1
    except InvalidData as exc:
        report.errors += exc.problems
        settings = None
    records: dict[str, Record] = {}
    for model in KINDS.values():
        layout = LAYOUT[model.kind]
        for rel in _files(archive, layout):
            if rel.endswith("/"):
                report.errors += _folder_problems(archive, rel)
                continue
            name = rel.rsplit("/", 1)[-1]
            if name.startswith(".hk-") and name.endswith(".tmp"):
                report.warnings.append(
                    Problem(
                        message="a temporary file left by an interrupted write (the record itself "
                        "is intact)",
                        path=rel,
                        hint="delete it",
                    )
                )
                continue
            if not name.endswith(layout.suffix):
                if not name.startswith("."):
                    report.warnings.append(
                        Problem(message="not a record file; hk ignores it", path=rel)
                    )
                continue
            report.checked += 1
            stem = name[: -len(layout.suffix)]
            if layout.partitioned and rel != layout.relpath(stem):
                report.errors.append(
                    Problem(
                        message="the file is not in its month folder; hk looks for it elsewhere",
                        path=rel,
                        hint=f"move it to {layout.relpath(stem)}",
                    )
                )
                continue
            try:
                data = read_record(str(archive.root), rel)
                if data is None:  # removed while the check ran
                    continue
                record = parse_record(model, decode(data, rel), rel)
            except InvalidData as exc:
                report.errors += exc.problems
                continue
            records[record.id] = record
            if settings is not None:
                report.errors += settings_problems(record, settings, rel)
    report.errors += _reference_problems(records)
    report.errors += _duplicate_codes(records)
    report.errors += audit_problems(archive)
    report.warnings += _git_warnings(archive)
    report.warnings += _key_warnings(archive, records)
    report.errors += erased_keys_present(archive, records)
    report.warnings += _plaintext_warnings(records)
    return report


@dataclass
class Fixed:
    """What ``hk doctor --fix`` repaired before checking."""

    recovered: str | None = None
    """what became of a bulk write a killed process left half done, if there was one"""
    removed: list[str] = field(default_factory=list)
    """leftover temp files removed"""
    shredded: list[str] = field(default_factory=list)
    """codes of erased people whose data key this machine still had, now destroyed"""


def fix(archive: Archive) -> Fixed:
    """Repair what an interrupted write leaves (``--fix``); the check then runs as always."""
    from hk.store.writer import tidy

    found, removed = tidy(archive)
    recovered = None
    if found is not None:
        done = "finished (it was committed)" if found.forward else "undone (it was not committed)"
        recovered = f"a bulk write of {found.paths} files interrupted by a killed process: {done}"
    return Fixed(recovered, removed, shred_erased_keys(archive))


def shred_erased_keys(archive: Archive) -> list[str]:
    """Destroy the data keys of people erased on another clone (PIPL Art. 47): until then the
    old copies of their sensitive values in git's history open on this machine."""
    import orjson

    archive.index.refresh(["customer", "worker"])
    shredded = []
    for kind in ("customer", "worker"):
        for row in archive.index.list(kind):
            if orjson.loads(row["data"]).get("erased") and archive.keyring.destroy(row["id"]):
                shredded.append(str(row["code"] or row["id"]))
    return shredded


def _files(archive: Archive, layout: KindLayout) -> list[str]:
    """Every entry in a kind's folder (and its month folders), relative to the archive, but
    the folders themselves: a file of any type, and a link (to a folder or not), never
    followed. The read of each refuses what is not a regular record file."""
    try:
        top = os.lstat(archive.root / layout.folder)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(top.st_mode):  # a link in place of the folder: not followed
        return [f"{layout.folder}/"]
    out: list[str] = []
    _walk(str(archive.root), layout.folder, out, layout.partitioned)
    return sorted(out)


def _walk(root: str, rel: str, out: list[str], deeper: bool) -> None:
    """Entries under ``rel``; with ``deeper``, of its month folders too. A link where a
    month folder could be is listed with a trailing ``/``, as the index lists it."""
    try:
        entries = list(os.scandir(os.path.join(root, rel)))
    except (FileNotFoundError, NotADirectoryError):
        return
    for item in entries:
        if deeper and item.is_dir(follow_symlinks=False):
            _walk(root, f"{rel}/{item.name}", out, deeper)
        elif deeper and item.name.isdigit() and item.is_symlink():
            out.append(f"{rel}/{item.name}/")
        else:
            out.append(f"{rel}/{item.name}")


def _folder_problems(archive: Archive, rel: str) -> list[Problem]:
    """What is wrong with an entry listed where a folder of records belongs."""
    try:
        st = os.lstat(archive.root / rel.rstrip("/"))
    except FileNotFoundError:
        return []
    refused = refusal(rel, listed_size(st.st_mode, st.st_size))
    return refused.problems if refused is not None else []


def _reference_problems(records: dict[str, Record]) -> list[Problem]:
    problems = []
    for record in records.values():
        if not isinstance(record, Customer):
            continue
        path = f"{record.folder}/{record.id}.yaml"
        refs = [
            ("referrer", "customer", [record.referrer] if record.referrer else []),
            ("preferred_workers", "worker", record.preferred_workers),
            ("blocked_workers", "worker", record.blocked_workers),
        ]
        for fieldname, kind, ids in refs:
            for rid in ids:
                target = records.get(rid)
                if target is None or target.kind != kind:
                    problems.append(
                        Problem(
                            message=f"refers to {kind} {rid}, which does not exist",
                            path=path,
                            field=fieldname,
                        )
                    )
    return problems


def _duplicate_codes(records: dict[str, Record]) -> list[Problem]:
    seen: dict[str, Record] = {}
    problems = []
    for record in sorted(records.values(), key=lambda r: r.id):
        code = record.own_code()
        if not code:
            continue
        if code in seen:
            problems.append(
                Problem(
                    message=f"code {code} is also used by {seen[code].folder}/{seen[code].id}.yaml",
                    path=f"{record.folder}/{record.id}.yaml",
                    field="code",
                    hint="catalog codes must be unique; rename one of them",
                )
            )
        else:
            seen[code] = record
    return problems


def _git_warnings(archive: Archive) -> list[Problem]:
    try:
        out = git.run(archive.root, ["status", "--porcelain", "-z", "--untracked-files=all"])
    except HkError as exc:
        return [Problem(message=f"git status failed: {exc.message}")]
    warnings = []
    for entry in filter(None, out.split("\0")):
        status, path = entry[:2], entry[3:]
        if path == SETTINGS_FILE or any(path.startswith(m.folder + "/") for m in KINDS.values()):
            warnings.append(
                Problem(
                    message=f"not committed ({status.strip() or 'changed'}): "
                    "a hand edit, or a write interrupted before its commit",
                    path=path,
                    hint="review with `git diff`, then commit it or `git checkout` it",
                )
            )
    return warnings


def _key_warnings(archive: Archive, records: dict[str, Record]) -> list[Problem]:
    sealed = [r for r in records.values() if any(True for _ in r.sealed_values())]
    if not sealed:
        return []
    if not archive.keyring.available():
        return [
            Problem(
                message=f"the master key is not on this machine; {len(sealed)} records have "
                "sensitive values that show as locked",
                path=str(archive.keyring.master_path),
                hint="restore the key folder from your backup",
            )
        ]
    people = archive.keyring.folder / "people"
    missing = [r for r in sealed if not (people / r.id).exists()]
    if missing:
        return [
            Problem(
                message=f"{len(missing)} records have no data key here; their sensitive values "
                "are locked",
                path=str(people),
                hint="restore people/ from your key backup",
            )
        ]
    from hk.store.crypto import HkError

    problems = []
    for record in sealed:
        for fieldname, value in record.sealed_values():
            if value.token is None:
                continue
            try:
                archive.keyring.unseal(record.id, value.token)
            except HkError:
                problems.append(
                    Problem(
                        message="this sensitive value does not decrypt with the record's key "
                        "(copied from another record, or damaged)",
                        path=f"{record.folder}/{record.id}.yaml",
                        field=fieldname,
                        hint="enter the value again with the record's edit command",
                    )
                )
    return problems


def erased_keys_present(archive: Archive, records: dict[str, Record]) -> list[Problem]:
    """Data keys of erased people still on this machine (erased on another clone): while the
    key is here, the old copies of their sensitive values in git's history can be read."""
    return [
        Problem(
            message="this person was erased, but their data key is still on this machine",
            path=f"{record.folder}/{record.id}.yaml",
            field="erased",
            hint=f"delete {archive.keyring.folder / 'people' / record.id} "
            "(`hk doctor --fix` does it)",
        )
        for record in records.values()
        if getattr(record, "erased", None) and archive.keyring.has_key(record.id)
    ]


def _plaintext_warnings(records: dict[str, Record]) -> list[Problem]:
    """Sensitive values typed into a file as plain text: encrypted on the next save, but a
    manual ``git commit`` before that would put them into the history."""
    return [
        Problem(
            message="a sensitive value is in plain text in the file",
            path=f"{record.folder}/{record.id}.yaml",
            field=fieldname,
            hint="save the record through hk (e.g. `hk edit`) to encrypt it before committing",
        )
        for record in records.values()
        for fieldname, value in record.sealed_values()
        if value.token is None
    ]
