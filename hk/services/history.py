"""A record's history from git: who changed which fields from what to what, and past states."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from hk.domain.fields import SEAL_PREFIX, Sealed, is_sealed_text, mask_id_number
from hk.domain.kinds import KINDS
from hk.domain.layout import Kind
from hk.errors import HkError, NotFound, UsageError
from hk.store import codec, git
from hk.store.archive import Archive
from hk.store.files import relpath_for

_MISSING = object()


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any
    sensitive: bool = False
    """Either value is sealed (shown masked unless revealed; a reveal is audited)."""


@dataclass
class Entry:
    commit: str
    operator: str
    when: str
    subject: str
    changes: list[FieldChange] = field(default_factory=list)


def blobs(archive: Archive, specs: list[str]) -> list[bytes | None]:
    """Contents of ``rev:path`` specs (or blob ids) through one ``git cat-file --batch``."""
    import subprocess

    proc = subprocess.run(
        ["git", "-C", str(archive.root), "cat-file", "--batch"],
        input=("\n".join(specs) + "\n").encode(),
        capture_output=True,
        check=True,
    )
    out, pos = proc.stdout, 0
    result: list[bytes | None] = []
    for _ in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            result.append(out[pos : pos + size])
            pos += size + 1
        else:
            result.append(None)
    return result


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"household": [{"relation": "母亲"}]}`` → ``{"household[0].relation": "母亲"}``.

    Lists of plain values stay whole (``phones``, ``tags``): a changed list reads better as
    old → new than item by item.
    """
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        out = {}
        for i, item in enumerate(data):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def shown(archive: Archive, record_id: str, fieldname: str, value: Any, reveal: bool) -> Any:
    """A stored value as a person may see it: a sealed one masked (or revealed, or locked),
    as ``hk show`` shows it; anything else as it is."""
    if is_sealed_text(value):
        if not archive.keyring.available():
            return "[locked]"
        plain = archive.keyring.try_unseal(record_id, Sealed(token=value))
        if plain is None:
            return "[locked]"
        if reveal:
            return plain
        return mask_id_number(plain) if fieldname.endswith("id_number") else "******"
    return value


def parse_version(data: bytes | None, path: str) -> dict[str, Any] | None:
    """A past version's stored data (None: the file did not exist then)."""
    if data is None:
        return None
    try:
        parsed = codec.parse(data.decode("utf-8"), path)
    except (HkError, UnicodeDecodeError):  # a past version that never parsed: shown as such
        return {"(unreadable)": True}
    return parsed if isinstance(parsed, dict) else {"(unreadable)": True}


def log(archive: Archive, kind: Kind, record_id: str, reveal: bool = False) -> list[Entry]:
    """Every commit that touched the record, newest first, with its field-level changes."""
    path = relpath_for(KINDS[kind], record_id)
    git.ensure_commit_graph(archive.root)
    out = git.run(archive.root, ["log", "--format=%H%x1f%an%x1f%aI%x1f%B%x1e", "--", path])
    commits = [c.strip("\n") for c in out.split("\x1e") if c.strip()]
    if not commits:
        raise NotFound(f"{path} has no history in git (not committed yet?)")
    parsed = []
    for raw in commits:
        sha, author, stamp, body = raw.split("\x1f", 3)
        when = _local(stamp, archive.settings.locale.timezone)
        op = re.search(r"^Operator: (.+)$", body, re.M)
        parsed.append((sha, op.group(1).strip() if op else author, when, body.split("\n")[0]))
    versions = blobs(archive, [f"{sha}:{path}" for sha, *_ in parsed])
    entries: list[Entry] = []
    previous: dict[str, Any] = {}
    for (sha, operator, when, subject), blob in reversed(list(zip(parsed, versions, strict=True))):
        data = parse_version(blob, path)
        flat = flatten(data) if data is not None else {}
        changes = []
        for key in dict.fromkeys([*previous, *flat]):
            old, new = previous.get(key, _MISSING), flat.get(key, _MISSING)
            if old != new and key != "updated":
                changes.append(
                    FieldChange(
                        key,
                        None if old is _MISSING else shown(archive, record_id, key, old, reveal),
                        None if new is _MISSING else shown(archive, record_id, key, new, reveal),
                        is_sealed_text(old) or is_sealed_text(new),
                    )
                )
        entries.append(Entry(sha, operator, when, subject, changes))
        previous = flat
    return list(reversed(entries))


def _local(stamp: str, tz: str) -> str:
    """A git ISO time in the archive's timezone, so ``hk log`` and ``--at`` agree."""
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(stamp).astimezone(ZoneInfo(tz)).isoformat()


def parse_when(text: str, tz: str) -> dt.datetime:
    """``2026-11-01``, ``2026-11-01 14:30`` or ISO 8601; a date means the end of that day."""
    from zoneinfo import ZoneInfo

    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(23, 59, 59), ZoneInfo(tz))
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"'{text}' is not a date or time", hint="write 2026-11-01 or '2026-11-01 14:30'"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz))


def data_at(archive: Archive, kind: Kind, record_id: str, when: dt.datetime) -> dict[str, Any]:
    """The record's stored data as it was at ``when`` (from the last commit before it)."""
    path = relpath_for(KINDS[kind], record_id)
    git.ensure_commit_graph(archive.root)
    sha = git.run(
        archive.root, ["rev-list", "-1", f"--before={when.isoformat()}", "HEAD", "--", path]
    ).strip()
    if not sha:
        raise NotFound(f"the record did not exist yet at {when.isoformat(sep=' ')}")
    data = parse_version(blobs(archive, [f"{sha}:{path}"])[0], path)
    if data is None:
        raise NotFound(f"the record was deleted before {when.isoformat(sep=' ')}")
    return data


def diff_view(archive: Archive, text: str) -> str:
    """A people file as ``git diff`` and ``git log -p`` show it (``hk textconv``).

    On a machine with the keys each sealed value becomes its masked form with a keyed mark
    (``5101************** #a3f09c``): a key holder's diff says which sensitive value changed,
    and to what masked form, without printing it. Without a key the sealed text stays as it
    is. The rest of the file is unchanged, line for line.
    """
    import re

    from hk.store.crypto import HkError as KeyProblem

    match = re.search(r"^id: *['\"]?([0-9A-HJKMNP-TV-Z]{26})", text, re.MULTILINE)
    if match is None or not archive.keyring.available():
        return text
    record_id = match.group(1)

    def shown(found: re.Match[str]) -> str:
        key, token = found.group(1), found.group(2)
        try:
            plain = archive.keyring.unseal(record_id, token)
            mark = archive.keyring.fingerprint(record_id, plain)
        except KeyProblem:
            return found.group(0)
        masked = mask_id_number(plain) if key == "id_number" else "******"
        return f"{found.group(0)[: found.start(2) - found.start(0)]}{masked} #{mark}"

    return re.sub(
        rf"^\s*(?:- )?(\w+): *({re.escape(SEAL_PREFIX)}[A-Za-z0-9_-]+)",
        shown,
        text,
        flags=re.MULTILINE,
    )
