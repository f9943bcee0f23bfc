"""The attic as operators use it: what lost a merge, and putting a value back (``hk conflicts``);
and the merge driver git runs for record files (``hk merge-driver``).

Values are masked unless revealed: sealed tokens as ``******`` (the plain text with
``reveal`` and the key on this machine), phone numbers as ``138****8000``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hk.domain.conflicts import RECORD_FIELD, AtticEntry, is_attic_path, masked
from hk.domain.fields import is_sealed_text
from hk.domain.kinds import KINDS
from hk.domain.layout import kind_of_path
from hk.domain.merging import rule_for
from hk.errors import HkError, InvalidData, NotFound, UsageError
from hk.store import attic, git
from hk.store.archive import Archive
from hk.store.writer import SaveResult, save, settle_pending, write_files

Keep = Literal["kept", "lost"]


@dataclass
class OpenConflict:
    """One open attic entry as listed: the record's code and name, where the entry is kept."""

    entry: AtticEntry
    path: str
    code: str
    name: str

    def to_dict(self, archive: Archive, reveal: bool = False) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        e = self.entry
        zone = ZoneInfo(archive.settings.locale.timezone)
        return {
            "kind": e.kind,
            "record": e.record,
            "code": self.code,
            "name": self.name,
            "field": e.field,
            "kept": shown_value(archive, e.record, e.kept, reveal),
            "kept_by": e.kept_by,
            "kept_at": e.kept_at.astimezone(zone).isoformat(),
            "lost": shown_value(archive, e.record, e.lost, reveal),
            "lost_by": e.lost_by,
            "lost_at": e.lost_at.astimezone(zone).isoformat(),
            "file": self.path,
        }


def shown_value(archive: Archive, record_id: str, value: Any, reveal: bool) -> Any:
    """``value`` masked, or with ``reveal`` its sealed tokens opened (``[locked]`` without the
    key here); never the token itself."""
    if not reveal:
        return masked(value)
    if is_sealed_text(value):
        from hk.domain.fields import Sealed

        plain = archive.keyring.try_unseal(record_id, Sealed(token=value))
        return plain if plain is not None else "[locked]"
    if isinstance(value, list):
        return [shown_value(archive, record_id, v, reveal) for v in value]
    if isinstance(value, dict):
        return {k: shown_value(archive, record_id, v, reveal) for k, v in value.items()}
    return value


def open_conflicts(archive: Archive) -> list[OpenConflict]:
    """Every entry of the attic not resolved yet, oldest first; values a merge driver set
    aside are moved into the attic first."""
    settle_pending(archive)
    found: list[OpenConflict] = []
    names: dict[str, tuple[str, str]] = {}
    for relpath in attic.files(archive.root):
        for entry in attic.read(archive.root, relpath):
            if entry.resolved:
                continue
            if entry.record not in names:
                names[entry.record] = _code_and_name(archive, entry)
            code, name = names[entry.record]
            found.append(OpenConflict(entry, relpath, code, name))
    found.sort(key=lambda c: c.entry.order())
    return found


def _code_and_name(archive: Archive, entry: AtticEntry) -> tuple[str, str]:
    archive.index.refresh([entry.kind])
    row = archive.index.get(entry.record)
    if row is None:
        return entry.record, ""
    return str(row["code"] or entry.record), str(row["name"] or "")


@dataclass
class Resolution:
    """What ``hk conflicts resolve`` did: the record, the field, the value it has now."""

    conflict: OpenConflict
    keep: Keep
    result: SaveResult | None
    commit: str | None
    fields: list[str] = field(default_factory=list)
    """Every field resolved: more than the one asked for when fields that only make sense
    together lost in one merge (an order's status and its event log)."""


def resolve(archive: Archive, ref: str, field: str, keep: Keep, now: dt.datetime) -> Resolution:
    """Settle the newest open entry of ``field`` of the record ``ref`` names (code or ID).

    ``keep="lost"`` puts the lost value back into the record; ``"kept"`` confirms the value
    the merge kept. Every open entry of that field is marked resolved, in the same commit as
    the record's change.
    """
    from hk.services.records import load, resolve_id

    conflicts = open_conflicts(archive)
    mine = [c for c in conflicts if ref.upper() in (c.code.upper(), c.entry.record)]
    if not mine:
        _, record_id = resolve_id(archive, None, ref)
        mine = [c for c in conflicts if c.entry.record == record_id]
    if not mine:
        raise NotFound(f"no open conflict for {ref}", hint="`hk conflicts` lists the open ones")
    chosen = [c for c in mine if c.entry.field == field]
    if not chosen:
        fields = ", ".join(dict.fromkeys(c.entry.field for c in mine))
        raise UsageError(
            f"{mine[0].code} has no open conflict over '{field}'",
            hint=f"its open conflicts are over: {fields}",
        )
    newest = chosen[-1]
    entry = newest.entry
    if keep == "lost" and entry.field == RECORD_FIELD:
        raise UsageError(
            f"{newest.code} was deleted on one side and changed on the other; hk keeps records",
            hint=f"confirm it with `hk conflicts resolve {newest.code} '*' --keep kept`",
        )
    operator = archive.operator()
    if keep == "kept":
        files = _marked(archive, chosen, keep, operator, now)
        commit = write_files(archive, files, _subject(newest, keep))
        return Resolution(newest, keep, None, commit, [entry.field])
    model = KINDS[entry.kind]
    record, loaded = load(archive, model, entry.record)
    from hk.store.files import validate_data
    from hk.store.merge import record_data

    data = record_data(record)
    put(data, entry.kind, entry.field, entry.lost)
    try:
        changed = validate_data(model, data, None, loaded.path)
    except InvalidData as exc:
        # Fields that only make sense together (a status and its event log) lost together,
        # in one merge: put them back together, or not at all.
        together = [
            c
            for c in mine
            if c.entry.field != entry.field
            and (c.entry.lost_at, c.entry.lost_by) == (entry.lost_at, entry.lost_by)
        ]
        for other in together:
            put(data, other.entry.kind, other.entry.field, other.entry.lost)
        try:
            changed = validate_data(model, data, None, loaded.path)
        except InvalidData:
            raise exc from None
        chosen += [c for c in mine if c.entry.field in {o.entry.field for o in together}]
    files = _marked(archive, chosen, keep, operator, now)
    result = save(archive, changed, loaded, also=files)
    settled = list(dict.fromkeys(c.entry.field for c in chosen))
    if result.commit is None:  # the record holds that value already
        commit = write_files(archive, files, _subject(newest, keep))
        return Resolution(newest, keep, result, commit, settled)
    return Resolution(newest, keep, result, result.commit, settled)


def _subject(conflict: OpenConflict, keep: Keep) -> str:
    value = "kept value confirmed" if keep == "kept" else "lost value put back"
    return f"conflicts: {conflict.entry.kind} {conflict.code} {conflict.entry.field}: {value}"


def _marked(
    archive: Archive, chosen: list[OpenConflict], keep: Keep, operator: str, now: dt.datetime
) -> list[tuple[str, bytes]]:
    """The attic files with the chosen entries marked resolved."""
    out = []
    for relpath in dict.fromkeys(c.path for c in chosen):
        keys = {c.entry.key() for c in chosen if c.path == relpath}
        entries = [
            e.model_copy(
                update={
                    "resolved": True,
                    "resolved_by": operator,
                    "resolved_at": now,
                    "resolution": keep,
                }
            )
            if not e.resolved and e.key() in keys
            else e
            for e in attic.read(archive.root, relpath)
        ]
        out.append((relpath, attic.dump(entries)))
    return out


_STEP = re.compile(r"([^.\[\]]+)(?:\[(.*?)\])?(?:\.|$)")


def put(data: dict[str, Any], kind: Any, field: str, value: Any) -> None:
    """Set the field at ``field`` (``a.b``, ``list[entry name]``) of record data to ``value``;
    None removes it (or the entry). The names are those :mod:`hk.store.merge` gives losers."""
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(field) if m.group(1)]
    if not steps:
        raise UsageError(f"'{field}' is not a field")
    target: dict[str, Any] = data
    path: tuple[str, ...] = ()
    for n, (name, entry) in enumerate(steps):
        path = (*path, name)
        last = n == len(steps) - 1
        if entry is not None:
            items = target.setdefault(name, [])
            key = _entry_key(kind, path, items)
            index = next(
                (i for i, item in enumerate(items) if _entry_name(item, key) == entry), None
            )
            if value is None and index is not None:
                items.pop(index)
            elif index is not None:
                items[index] = value
            elif value is not None:
                items.append(value)
            return
        if last:
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
            return
        target = target.setdefault(name, {})


def _entry_key(kind: Any, path: tuple[str, ...], items: list[Any]) -> str:
    rule = rule_for(kind, path)
    if rule is not None and rule.key:
        return rule.key
    return "id"


def _entry_name(item: Any, key: str) -> str:
    import orjson

    if isinstance(item, dict) and key in item:
        return str(item[key])
    return "=" + orjson.dumps(item, option=orjson.OPT_SORT_KEYS, default=str).decode()


# --- git's merge driver ---------------------------------------------------------------------------


class NotMerged(HkError):
    """The driver leaves the file to git's own merge (conflict markers): not a record file."""


def merge_driver(base: Path, ours: Path, theirs: Path, relpath: str, root: Path) -> int:
    """Merge the record file ``relpath`` from git's three temporary files into ``ours``.

    Returns how many values lost (set aside for the attic). Raises :class:`NotMerged` for a
    file that is not a record or an attic file, and :class:`InvalidData` (located) when a
    version does not read as a record: git then marks the file as a conflict.
    """
    versions = [p.read_bytes() if p.exists() else None for p in (base, ours, theirs)]
    if is_attic_path(relpath):
        ours.write_bytes(attic.merge_texts(relpath, *versions))
        return 0
    if kind_of_path(relpath) is None:
        raise NotMerged(f"{relpath} is not a record file")
    from hk.store.merge import merge_file

    merged_in = _merged_commit()
    result = merge_file(
        relpath,
        versions[0],
        versions[1],
        versions[2],
        ours_meta=_side(root, "HEAD", relpath, versions[1]),
        theirs_meta=_side(root, merged_in, relpath, versions[2]),
    )
    if result.text is None:
        raise NotMerged(f"{relpath} is gone on both sides")
    ours.write_bytes(result.text)
    if result.losers:
        entries = attic.entries_of(result.kind, result.record_id, result.losers)
        attic.queue_pending(_git_dir(root) / "hk", entries, merged_in)
    return len(result.losers)


def _merged_commit() -> str | None:
    """The commit ``git merge`` is bringing in (git names it in ``GITHEAD_<id>``)."""
    heads = [k[len("GITHEAD_") :] for k in os.environ if k.startswith("GITHEAD_")]
    return heads[0] if len(heads) == 1 else None


def _side(root: Path, rev: str | None, relpath: str, raw: bytes | None) -> tuple[str, dt.datetime]:
    """(operator, time) of a side's last change to the file: its commit's ``Operator:``
    trailer (else author) and commit time; without a commit, the record's ``updated``."""
    if rev is not None:
        fmt = "--format=%cI%x00%an%x00%(trailers:key=Operator,valueonly)"
        out = git.run(root, ["log", "-1", fmt, rev, "--", relpath], check=False).strip()
        if out:
            stamp, author, operator = [*out.split("\0"), "", ""][:3]
            when = dt.datetime.fromisoformat(stamp)
            return (operator.strip().split("\n")[0] or author, when)
    return ("", _updated(relpath, raw))


def _updated(relpath: str, raw: bytes | None) -> dt.datetime:
    from hk.store import codec

    try:
        data = codec.parse(raw.decode("utf-8"), relpath) if raw else None
        return dt.datetime.fromisoformat(str(data["updated"]))  # type: ignore[index]
    except (HkError, TypeError, KeyError, ValueError, UnicodeDecodeError):
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _git_dir(root: Path) -> Path:
    found = git.run(root, ["rev-parse", "--absolute-git-dir"], check=False).strip()
    return Path(found) if found else root / ".git"
