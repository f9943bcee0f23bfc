"""Operations every record kind shares: find one by reference, load, show, save."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import orjson
from pydantic import ValidationError

from hk.domain.base import Record, now
from hk.domain.fields import Sealed, mask_id_number
from hk.domain.kinds import KINDS
from hk.domain.layout import Kind, kind_of
from hk.errors import InvalidData, NotFound, Problem, UsageError
from hk.store.archive import Archive
from hk.store.files import decode, parse_record, relpath_for
from hk.store.limits import read_record
from hk.store.writer import Loaded, SaveResult

R = TypeVar("R", bound=Record)
M = TypeVar("M", bound=Record)


@dataclass
class Stepped(Generic[R]):
    """A record after one step (taken, moved along its lifecycle, rated, logged): the one
    result every service step returns, so commands and the TUI report every step alike.

    ``events`` are those the step added to the record's log; ``made`` the other records the
    step wrote in the same commit (a rework order, a return visit, a survey, a complaint);
    ``notes`` what the operator should be told; ``file`` a document the step wrote.
    """

    record: R
    result: SaveResult
    events: list[Any] = field(default_factory=list)
    made: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file: Path | None = None

    def path(self) -> list[str]:
        """The statuses the step went through, from the first one it left (one, for a step
        that keeps the status)."""
        if not self.events:
            return [str(getattr(self.record, "status", ""))]
        first = self.events[0].from_status
        return [*([first] if first else []), *(e.to_status for e in self.events)]

    def made_of(self, model: type[M]) -> M | None:
        """The record of ``model``'s kind the step made with this one, if any."""
        return next((r for r in self.made if isinstance(r, model)), None)


LOCKED = "[locked]"
UNDECRYPTABLE = "[does not decrypt: run hk doctor]"
HIDDEN = "******"


def refs_by_kind(**refs: str | None) -> list[tuple[Kind, str]]:
    """The references given, each with its kind (``customer=…, worker=…``; None: not given)."""
    return [(kind_of(kind), ref) for kind, ref in refs.items() if ref]


def ensure_fresh(archive: Archive, *kinds: Kind) -> dict[str, str]:
    """Refresh the index for ``kinds``; return the files that could not be read (never hidden)."""
    return archive.index.refresh(list(kinds) or None).broken


def resolve_id(
    archive: Archive, kind: Kind | None, ref: str, refresh: bool = True
) -> tuple[Kind, str]:
    """(kind, id) of the one record ``ref`` names: an ID, a unique ID prefix, or a code.

    ``refresh=False`` is for a caller that refreshed the index itself just before, once for
    many references (``hk batch``): a refresh stats every file of the kind.
    """
    kinds = [kind] if kind else list(KINDS)
    if refresh:
        ensure_fresh(archive, *kinds)
    rows = archive.index.resolve(kind, ref)
    if not rows:
        broken = broken_named(archive, kinds, ref)
        if len(broken) == 1:
            return broken[0]
        if broken:
            ids = ", ".join(rid for _, rid in broken[:10])
            raise UsageError(f"'{ref}' matches several records: {ids}", hint="give more of the ID")
    if not rows:
        what = kind or "record"
        raise NotFound(
            f"no {what} with ID or code '{ref}'",
            hint=f"search with `hk {kind} find TEXT`" if kind else "check the code or ID",
        )
    if len(rows) > 1:
        codes = ", ".join(f"{r['code'] or r['id']}" for r in rows[:10])
        raise UsageError(f"'{ref}' matches several records: {codes}", hint="give more of the ID")
    return kind_of(rows[0]["kind"]), rows[0]["id"]


def broken_named(archive: Archive, kinds: list[Kind], ref: str) -> list[tuple[Kind, str]]:
    """(kind, id) of the files that failed to parse (the index keeps them, by path) whose name
    ``ref`` gives: the ID, an ID prefix of 8 or more characters, or the short code the ID
    gives when no other record holds it. A broken record is not in the index, but it must
    still be found to be shown and repaired (``hk show --raw``, ``hk edit``)."""
    from hk.domain.ids import is_id, next_code
    from hk.domain.layout import LAYOUT

    ref_up = ref.strip().upper()
    found: list[tuple[Kind, str]] = []
    for path in archive.index.broken:
        for kind in kinds:
            layout = LAYOUT[kind]
            if not (path.startswith(layout.folder + "/") and path.endswith(layout.suffix)):
                continue
            stem = path.rpartition("/")[2][: -len(layout.suffix)]
            if not is_id(stem) or layout.relpath(stem) != path:
                continue
            if (
                stem == ref_up
                or (len(ref_up) >= 8 and stem.startswith(ref_up))
                or (layout.code_prefix and ref_up == next_code(layout.code_prefix, stem, set()))
            ):
                found.append((kind, stem))
    return found


def load(archive: Archive, model: type[R], record_id: str) -> tuple[R, Loaded]:
    """Read and validate a record from its file (not from the index), for editing."""
    path = relpath_for(model, record_id)
    base = read_record(str(archive.root), path)
    if base is None:
        raise NotFound(f"{path} does not exist")
    record = parse_record(model, decode(base, path), path)
    return record, Loaded(record=record.model_copy(deep=True), path=path, base=base)


@dataclass
class FileText:
    """A record's file as it is on disk, valid or not: for showing it raw and repairing it."""

    path: str
    base: bytes
    text: str
    record: Record | None
    problems: list[Problem]


def file_text(archive: Archive, model: type[Record], record_id: str) -> FileText:
    """The record's file and what is wrong with it (nothing, for a valid record).

    Only a regular file within the size limit is read, and only UTF-8 text is shown: a link,
    a pipe, a huge or binary file raises its own located error instead.
    """
    path = relpath_for(model, record_id)
    base = read_record(str(archive.root), path)
    if base is None:
        raise NotFound(f"{path} does not exist")
    text = decode(base, path)
    try:
        return FileText(path, base, text, parse_record(model, text, path), [])
    except InvalidData as exc:
        return FileText(path, base, text, None, exc.problems)


def load_ref(archive: Archive, kind: Kind, ref: str) -> tuple[Record, Loaded]:
    _, record_id = resolve_id(archive, kind, ref)
    return load(archive, KINDS[kind], record_id)


def load_named(
    archive: Archive, model: type[R], ref: str, hint: str | None = None
) -> tuple[R, Loaded]:
    """The record of ``model``'s kind that ``ref`` names (code, ID or ID prefix), read from its
    file with what a save needs. ``hint``, when nothing is named, says where that kind is
    listed (in place of the generic search hint)."""
    try:
        _, record_id = resolve_id(archive, model.kind, ref)
    except NotFound as exc:
        if hint:
            exc.hint = hint
        raise
    return load(archive, model, record_id)


def indexed_data(archive: Archive, record_id: str) -> dict[str, Any]:
    """The record's stored data straight from the (fresh) index, without parsing its file."""
    row = archive.index.get(record_id)
    if row is None:
        raise NotFound(f"no record with ID {record_id}")
    data: dict[str, Any] = orjson.loads(row["data"])
    return data


def code_of(archive: Archive, record_id: str) -> str | None:
    row = archive.index.get(record_id)
    return str(row["code"]) if row is not None and row["code"] else None


def display(archive: Archive, record: Record, reveal: bool = False) -> dict[str, Any]:
    """The record as a user may see it: sensitive values masked, revealed, or locked.

    ID numbers show masked (``5101**************``); other sensitive text shows as ``******``;
    with ``reveal`` both show in full. Without the key they show as ``[locked]``.
    """
    from hk.store.files import stored_data

    data = stored_data(record)
    for path, value in record.sealed_values():
        _set_path(data, path, _shown(archive, record.id, path, value, reveal))
    code = code_of(archive, record.id) or record.own_code()
    return {"code": code, **data} if code and "code" not in data else data


def _shown(archive: Archive, record_id: str, path: str, value: Sealed, reveal: bool) -> str:
    from hk.store.crypto import KeyMissing, Undecryptable

    plain = value.plain
    if plain is None and value.token is not None and archive.keyring.available():
        try:
            plain = value.plain = archive.keyring.unseal(record_id, value.token)
        except KeyMissing:
            return LOCKED
        except Undecryptable:
            return UNDECRYPTABLE
    if plain is None:
        return LOCKED
    if reveal:
        return plain
    return mask_id_number(plain) if path.endswith("id_number") else HIDDEN


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b[2].c`` in nested data (the paths :meth:`Record.sealed_values` yields)."""
    import re

    target: Any = data
    steps = [s for s in re.split(r"\.|\[(\d+)\]", path) if s]
    for step in steps[:-1]:
        target = target[int(step)] if step.isdigit() else target[step]
    last = steps[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value


def update_fields(record: R, changes: dict[str, Any]) -> R:
    """A copy of ``record`` with ``changes`` applied and validated as a whole."""
    from hk.store import codec

    data = {name: getattr(record, name) for name in type(record).model_fields}
    data.update(changes)
    try:
        return type(record).model_validate(data)
    except ValidationError as exc:
        raise InvalidData(
            codec.problems_from_validation(exc, None, "<input>", type(record))
        ) from None


def _tz(archive: Archive) -> ZoneInfo:
    return ZoneInfo(archive.settings.locale.timezone)


def moment(archive: Archive, at: dt.datetime | None) -> dt.datetime:
    """``at`` in the archive's timezone if it has none, or now."""
    if at is None:
        return now(archive.settings.locale.timezone)
    return at if at.tzinfo is not None else at.replace(tzinfo=_tz(archive))


def refused(exc: ValidationError) -> InvalidData:
    """A rule broken by a change, in the words of the rule (no Pydantic wording): every
    problem with its field and, where one helps, a hint. The message is all of them on one
    line, for the TUI's notification; the CLI prints each on its own line."""
    from pydantic import BaseModel

    from hk.store import codec

    problems = codec.problems_from_validation(exc, None, "", BaseModel)
    for problem in problems:
        problem.path = None
    summary = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
    return InvalidData(problems, summary=summary)


def choice_of(text: str, names: dict[str, str], what: str) -> str:
    """A key of ``names`` given as itself or its Chinese name (``phone`` or ``电话``)."""
    value = text.strip()
    for key, zh in names.items():
        if value in (key, zh):
            return key
    choices = ", ".join(f"{k} ({zh})" for k, zh in names.items())
    raise UsageError(f"'{text}' is not {what}", hint=f"one of: {choices}")
