"""The one field-level three-way merge of record data: git merges, ``hk sync`` and two saves
of one record at the same moment all put versions back together with this code.

Pure: no git, no files, no clock. A caller gives the common ancestor's data (the real merge
base, or the bytes an edit was loaded from), each side's data with who changed it and when,
and gets the merged data and the values that lost (for the attic). Which value wins is
declared per kind and field in :mod:`hk.domain.merging`; this module carries it out.

Every decision depends only on the three versions and the sides' (time, operator, data),
never on which side is "ours": swapping the sides gives the same record and the same losers,
so every clone that merges the same histories writes the same bytes.

The merged record must validate. Fields merged one by one can break a rule that ties fields
together (a status and its event log, an order's lines and its total), so the merge tries
three levels and takes the first that validates:

1. field by field, as the rules say;
2. every top-level field changed on both sides taken whole from the later writer;
3. then, one by one in field order, each field only the earlier writer changed goes back to
   the later writer's value, the earlier's to the attic, until the record validates (at the
   end of the line it is the later writer's record as it is).

Sealed (encrypted) values are compared as the tokens they are stored as, never decrypted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from hk.domain.base import Record
from hk.domain.layout import LAYOUT, Kind, kind_of_path
from hk.domain.merging import Rule, rule_for
from hk.errors import HkError, InvalidData
from hk.store import codec
from hk.store.files import decode, serialise, validate_data

RECORD: Final = "*"
"""A :class:`Loser`'s field when a whole record was deleted on one side and changed on the
other: the change is kept (``kept`` is ``"changed"``), the deletion is the loser."""
CHANGED: Final = "changed"
DELETED: Final = "deleted"


@dataclass(frozen=True)
class Side:
    """One side of a merge: its record data (None: the file is absent), who changed it, when.

    ``data`` is the stored canonical form (:func:`hk.store.codec.canonical_data`, or a file as
    parsed and canonicalised); ``at`` is the commit time of that side's last change to the file.
    """

    data: dict[str, Any] | None
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class Loser:
    """A value that lost a merge: the attic keeps it with the value that was kept."""

    field: str
    kept: Any
    lost: Any
    kept_by: str
    kept_at: dt.datetime
    lost_by: str
    lost_at: dt.datetime


@dataclass
class Merged:
    """The merged record data (None: the record is gone on both sides) and what lost."""

    data: dict[str, Any] | None
    losers: list[Loser] = field(default_factory=list)


class _Missing:
    """A field absent from canonical data (its empty default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


# --- the merge of record data -----------------------------------------------------------------


def merge_data(kind: Kind, base: dict[str, Any] | None, ours: Side, theirs: Side) -> Merged:
    """Merge two versions of one record of ``kind`` changed apart from ``base``.

    A side that did not change the record gives way to the other, silently. A record
    deleted on one side and changed on the other is kept as changed (data is never lost),
    with the deletion as the loser (field :data:`RECORD`). Raises :class:`InvalidData` when
    not even the later writer's own record is valid.
    """
    early, late = _ordered(ours, theirs)
    a, b = early.data, late.data
    if a == b:
        return Merged(_copy(ours.data))
    if base == a:
        return Merged(_copy(b))
    if base == b:
        return Merged(_copy(a))
    if a is None or b is None:
        kept, lost = (late, early) if a is None else (early, late)
        return Merged(_copy(kept.data), [_loser(RECORD, CHANGED, DELETED, kept, lost)])
    start = {} if base is None else base
    model = _model(kind)
    path = LAYOUT[kind].relpath(str(b.get("id") or a.get("id") or ""))
    first_error: InvalidData | None = None
    for level in (_FIELDS, _BOTH_CHANGED):
        run = _Run(kind, early, late, level)
        data = run.mapping((), start, a, b)
        try:
            return Merged(canonical(model, data, path), run.losers)
        except InvalidData as exc:
            first_error = first_error or exc
    losers = run.losers
    for key, lost in _changed_by(kind, start, a):
        kept = b.get(key, MISSING)
        if data.get(key, MISSING) == kept:
            continue
        if kept is MISSING:
            data.pop(key, None)
        else:
            data[key] = kept
        losers.append(_loser(key, kept, lost, late, early))
        try:
            return Merged(canonical(model, data, path), losers)
        except InvalidData:
            continue
    assert first_error is not None
    raise first_error


def canonical(model: type[Record], data: dict[str, Any], path: str) -> dict[str, Any]:
    """``data`` validated as a record of ``model`` and put back in canonical form.

    A sensitive value someone wrote into a file by hand, not sealed yet, stays as the text it
    was (the next save seals it); everything else is as :func:`codec.canonical_data` writes it.
    """
    return record_data(validate_data(model, data, None, path))


def record_data(record: Record) -> dict[str, Any]:
    """The canonical data of ``record``; a sensitive value not sealed yet stays as its text
    (the next save seals it), where :func:`codec.canonical_data` would refuse it."""
    from pydantic_core import PydanticSerializationError

    try:
        return codec.canonical_data(record)
    except PydanticSerializationError:
        copy = record.model_copy(deep=True)
        for _, value in copy.sealed_values():
            if value.token is None:
                value.token = value.plain
        return codec.canonical_data(copy)


def _model(kind: Kind) -> type[Record]:
    from hk.domain.kinds import KINDS

    return KINDS[kind]


def _ordered(ours: Side, theirs: Side) -> tuple[Side, Side]:
    """(earlier writer, later writer): by time, then operator, then data, so that every
    machine, whichever side it calls its own, decides the same."""

    def key(side: Side) -> tuple[float, str, bytes]:
        return (_timestamp(side.at), side.by, _ident(side.data))

    return (ours, theirs) if key(ours) <= key(theirs) else (theirs, ours)


def _timestamp(at: dt.datetime) -> float:
    return at.timestamp() if at.tzinfo is not None else at.replace(tzinfo=dt.UTC).timestamp()


def _ident(value: Any) -> bytes:
    """One byte string per value (keys sorted), to compare and order values of any shape."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)


def _copy(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if data is None else orjson.loads(orjson.dumps(data, default=str))


def _loser(name: str, kept: Any, lost: Any, winner: Side, loser: Side) -> Loser:
    return Loser(
        field=name,
        kept=None if kept is MISSING else kept,
        lost=None if lost is MISSING else lost,
        kept_by=winner.by,
        kept_at=winner.at,
        lost_by=loser.by,
        lost_at=loser.at,
    )


_FIELDS = 1
"""Merge level: every field by its rule."""
_BOTH_CHANGED = 2
"""Merge level: a top-level field changed on both sides is taken whole from the later writer."""


class _Run:
    """One merge of one record at one level; collects the losers."""

    def __init__(self, kind: Kind, early: Side, late: Side, level: int) -> None:
        self.kind = kind
        self.early = early
        self.late = late
        self.level = level
        self.losers: list[Loser] = []

    def value(self, path: tuple[str, ...], base: Any, a: Any, b: Any) -> Any:
        """The merged value of the field at ``path``: ``a`` the earlier writer's, ``b`` the
        later's."""
        if a == b:
            return a
        if a == base:
            return b
        if b == base:
            return a
        rule = rule_for(self.kind, path)
        if rule is not None and rule.strategy in ("max", "first"):
            return _latest(a, b) if rule.strategy == "max" else _first(base, a, b)
        if self.level == _BOTH_CHANGED and len(path) == 1:
            rule = Rule("lww")
        if rule is None:
            rule = _by_shape(base, a, b)
        if rule.strategy == "lww" or not _fits(rule, base, a, b):
            return self.lww(_dotted(path), a, b)
        if rule.strategy == "fields":
            return self.mapping(path, _as(dict, base), _as(dict, a), _as(dict, b))
        base_l, a_l, b_l = _as(list, base), _as(list, a), _as(list, b)
        if rule.strategy == "union":
            if _replaced_both_ways(base_l, a_l, b_l):
                return self.lww(_dotted(path), a, b)
            return _union(base_l, a_l, b_l)
        if rule.strategy == "append":
            return _by_time(_union(base_l, a_l, b_l))
        assert rule.key is not None
        return self.entries(path, rule.key, base_l, a_l, b_l)

    def lww(self, name: str, a: Any, b: Any) -> Any:
        """Both sides changed one value: the later writer's wins, the earlier's is a loser."""
        self.losers.append(_loser(name, b, a, self.late, self.early))
        return b

    def mapping(
        self, path: tuple[str, ...], base: dict[str, Any], a: dict[str, Any], b: dict[str, Any]
    ) -> dict[str, Any]:
        """Key by key, in the base's order, then the earlier writer's new keys, then the later's."""
        out: dict[str, Any] = {}
        for key in dict.fromkeys([*base, *a, *b]):
            value = self.value(
                (*path, key), base.get(key, MISSING), a.get(key, MISSING), b.get(key, MISSING)
            )
            if value is not MISSING:
                out[key] = value
        return out

    def entries(
        self, path: tuple[str, ...], key: str, base: list[Any], a: list[Any], b: list[Any]
    ) -> list[Any]:
        """Entry by entry, each named by its ``key`` field (a set of whole entries if a list
        names one entry twice)."""
        named = [_named(items, key) for items in (base, a, b)]
        if any(n is None for n in named):
            return _union(base, a, b)
        base_m, a_m, b_m = (n for n in named if n is not None)
        out = []
        for name in dict.fromkeys([*base_m, *a_m, *b_m]):
            was, x, y = base_m.get(name, MISSING), a_m.get(name, MISSING), b_m.get(name, MISSING)
            label = f"{_dotted(path)}[{name}]"
            if x in (y, was):
                entry = y
            elif y == was:
                entry = x
            elif x is MISSING:  # removed by the earlier writer, changed by the later: kept
                entry = y
                self.losers.append(_loser(label, y, MISSING, self.late, self.early))
            elif y is MISSING:
                entry = x
                self.losers.append(_loser(label, x, MISSING, self.early, self.late))
            else:
                entry = self.lww(label, x, y)
            if entry is not MISSING:
                out.append(entry)
        return out


def _changed_by(kind: Kind, base: dict[str, Any], side: dict[str, Any]) -> list[tuple[str, Any]]:
    """The top-level fields ``side`` changed from ``base`` (bookkeeping left out), in order."""
    out = []
    for key in dict.fromkeys([*base, *side]):
        rule = rule_for(kind, (key,))
        if rule is not None and rule.strategy in ("max", "first"):
            continue
        value = side.get(key, MISSING)
        if value != base.get(key, MISSING):
            out.append((key, value))
    return out


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _by_shape(base: Any, a: Any, b: Any) -> Rule:
    """The rule of a field the domain declares none for, from the shape of its values."""
    present = [v for v in (base, a, b) if v is not MISSING and v is not None]
    if present and all(isinstance(v, dict) for v in present):
        return Rule("fields")
    if present and all(isinstance(v, list) for v in present):
        items = [item for v in present for item in v]
        if items and all(isinstance(item, dict) for item in items):
            if all("id" in item for item in items):
                return Rule("entries", "id")
            if all("at" in item for item in items):
                return Rule("append")
        return Rule("union")
    return Rule("lww")


def _fits(rule: Rule, base: Any, a: Any, b: Any) -> bool:
    """Whether the values have the shape the rule needs (a list, a mapping); else lww."""
    shape: type = dict if rule.strategy == "fields" else list
    if rule.strategy == "lww":
        return True
    present = [v for v in (base, a, b) if v is not MISSING and v is not None]
    return bool(present) and all(isinstance(v, shape) for v in present)


def _as(shape: type, value: Any) -> Any:
    """An absent or null value as the empty list or mapping (canonical data leaves them out)."""
    return shape() if value is MISSING or value is None else value


def _union(base: list[Any], a: list[Any], b: list[Any]) -> list[Any]:
    """Kept on both sides in the base's order, then the earlier's additions, then the later's."""
    in_a, in_b = {_ident(x) for x in a}, {_ident(x) for x in b}
    in_base = {_ident(x) for x in base}
    out, seen = [], set()
    for items, keep in (
        (base, lambda k: k in in_a and k in in_b),
        (a, lambda k: k not in in_base),
        (b, lambda k: k not in in_base),
    ):
        test: Callable[[bytes], bool] = keep
        for item in items:
            ident = _ident(item)
            if ident not in seen and test(ident):
                seen.add(ident)
                out.append(item)
    return out


def _replaced_both_ways(base: list[Any], a: list[Any], b: list[Any]) -> bool:
    """Whether both sides took out one same item and each put in something else: the same
    value (a phone number) changed two ways, a conflict rather than two additions."""
    in_base = {_ident(x) for x in base}
    in_a, in_b = {_ident(x) for x in a}, {_ident(x) for x in b}
    added_a, added_b = in_a - in_base, in_b - in_base
    return bool((in_base - in_a) & (in_base - in_b)) and bool(added_a) and bool(added_b)


def _by_time(events: list[Any]) -> list[Any]:
    """Events in time order; events of one moment keep the order they had (stable sort)."""

    def at(event: Any) -> float:
        when = _parse_time(event.get("at")) if isinstance(event, dict) else None
        return float("inf") if when is None else _timestamp(when)

    return sorted(events, key=at)


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _latest(a: Any, b: Any) -> Any:
    """The later of two timestamps (``updated``); a missing one gives way."""
    if a is MISSING or b is MISSING:
        return b if a is MISSING else a
    ta, tb = _parse_time(a), _parse_time(b)
    if ta is not None and tb is not None and _timestamp(ta) != _timestamp(tb):
        return a if _timestamp(ta) > _timestamp(tb) else b
    return max(a, b, key=_ident)


def _first(base: Any, a: Any, b: Any) -> Any:
    """The base's value, or the earlier of two (``created`` of a record made on both sides)."""
    if base is not MISSING:
        return base
    if a is MISSING or b is MISSING:
        return b if a is MISSING else a
    ta, tb = _parse_time(a), _parse_time(b)
    if ta is not None and tb is not None and _timestamp(ta) != _timestamp(tb):
        return a if _timestamp(ta) < _timestamp(tb) else b
    return min(a, b, key=_ident)


def _named(items: list[Any], key: str) -> dict[str, Any] | None:
    """Entries by name (the text of their ``key`` field); None if two share a name."""
    out: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict) and key in item:
            name = str(item[key])
        else:
            name = "=" + _ident(item).decode()
        if name in out:
            return None
        out[name] = item
    return out


# --- the merge of record files ----------------------------------------------------------------


class NotARecord(HkError):
    """A path that is not a record file: git's own merge handles it."""


@dataclass
class FileMerge:
    """A merged record file: its canonical text (None: absent on both sides) and the losers."""

    text: bytes | None
    losers: list[Loser]
    kind: Kind
    record_id: str


def merge_file(
    path: str,
    base: bytes | None,
    ours: bytes | None,
    theirs: bytes | None,
    ours_meta: tuple[str, dt.datetime],
    theirs_meta: tuple[str, dt.datetime],
) -> FileMerge:
    """Merge three versions of the record file at ``path`` (relative to the archive root).

    Each version is parsed with hk's codec and validated as a record of the path's kind
    (:class:`InvalidData`, located, if one is not); the merge is :func:`merge_data` with each
    side's (operator, time). The result is validated again and written canonically, keeping
    the comments of "ours" in a YAML file. Raises :class:`NotARecord` for any other file.
    """
    kind = kind_of_path(path)
    if kind is None:
        raise NotARecord(f"{path} is not a record file")
    model = _model(kind)
    base_d, ours_d, theirs_d = (_read(model, path, raw) for raw in (base, ours, theirs))
    merged = merge_data(kind, base_d, Side(ours_d, *ours_meta), Side(theirs_d, *theirs_meta))
    stem = path.rpartition("/")[2].rpartition(".")[0]
    if merged.data is None:
        return FileMerge(None, merged.losers, kind, stem)
    if merged.data == ours_d and ours is not None:
        text = ours
    elif merged.data == theirs_d and theirs is not None:
        text = theirs
    else:
        record = validate_data(model, merged.data, None, path)
        old = ours.decode("utf-8") if ours is not None and not path.endswith(".json") else None
        text = serialise(record, old, data=merged.data).encode("utf-8")
    return FileMerge(text, merged.losers, kind, str(merged.data.get("id") or stem))


def file_data(path: str, raw: bytes | None) -> dict[str, Any] | None:
    """The record file ``path`` holding ``raw`` as canonical data, validated (None: absent)."""
    kind = kind_of_path(path)
    if kind is None:
        raise NotARecord(f"{path} is not a record file")
    return _read(_model(kind), path, raw)


def _read(model: type[Record], path: str, raw: bytes | None) -> dict[str, Any] | None:
    """One version of a record file as canonical data; None if the file is absent."""
    if raw is None:
        return None
    text = decode(raw, path)
    return record_data(validate_data(model, codec.parse(text, path), text, path))
