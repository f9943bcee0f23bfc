"""Recording and reading the audit trail of personal data (see :mod:`hk.domain.audit`).

Commands and the TUI call :func:`record` after personal data has gone somewhere (shown in
full, exported, put in a document, sent); reveals and exports of sensitive fields need a
reason (:func:`require_reason`), asked before anything is shown.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hk.domain.audit import ACTION_ZH, Action, AuditEntry, Destination
from hk.domain.ids import new_id
from hk.domain.layout import Kind
from hk.errors import InvalidData, Problem
from hk.services.records import moment
from hk.store import audit as trail
from hk.store.archive import Archive


@dataclass(frozen=True)
class Access:
    """Personal data that went somewhere: what kind, of which records, why, and where to."""

    action: Action
    kind: Kind
    records: Sequence[str]
    fields: Sequence[str]
    to: Destination
    reason: str = ""
    channel: str = ""
    count: int | None = None
    """How many records; ``records`` may be empty for "every one of the kind" (an export)."""


def require_reason(reason: str | None, what: str) -> str:
    """The reason given for a reveal or an export of sensitive fields, or a refusal saying
    how to give one (PIPL asks why personal data is processed, each time)."""
    text = (reason or "").strip()
    if not text:
        raise InvalidData(
            [
                Problem(
                    message=f"{what} needs a reason; it is recorded in the audit log",
                    path="<input>",
                    field="reason",
                    hint='add --reason "…", e.g. --reason "客户来电核对身份"',
                )
            ]
        )
    return text


def record(archive: Archive, *accesses: Access, commit: bool = True) -> list[AuditEntry]:
    """Append one entry per access, in one commit (``commit=False``: written only, for a
    caller that commits them with its own log files; their paths are ``entry.relpath()``)."""
    at = moment(archive, None)
    operator = archive.operator()
    entries = [
        {
            "id": new_id(),
            "at": at.isoformat(),
            "operator": operator,
            "action": a.action,
            "kind": a.kind,
            "records": list(a.records),
            "count": len(a.records) if a.count is None else a.count,
            "fields": sorted(set(a.fields)),
            "reason": a.reason,
            "to": a.to,
            "channel": a.channel,
        }
        for a in accesses
    ]
    kinds = sorted({a.action for a in accesses})
    subject = "audit: " + ", ".join(ACTION_ZH[k] for k in kinds)
    return trail.append(archive, entries, subject if commit else None)


def record_reveal(
    archive: Archive,
    kind: Kind,
    record_id: str,
    reason: str | None,
    to: Destination,
    fields: Sequence[str] | None = None,
) -> AuditEntry:
    """Record that a record's sensitive values were shown in full; ``fields`` are the ones
    shown (default: every sealed field the record holds now)."""
    why = require_reason(reason, "revealing sensitive values")
    if fields is None:
        from hk.domain.kinds import KINDS
        from hk.services.records import load

        loaded, _ = load(archive, KINDS[kind], record_id)
        fields = [path for path, _ in loaded.sealed_values()]
    [entry] = record(archive, Access("reveal", kind, [record_id], fields, to, why))
    return entry


@dataclass(frozen=True)
class Filter:
    record: str | None = None
    operator: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    action: str | None = None


def entries(archive: Archive, where: Filter) -> list[AuditEntry]:
    """The trail, oldest first, narrowed by ``where`` (a record by ID, an operator, days)."""
    found, _ = trail.read(archive)
    tz = moment(archive, None).tzinfo
    out = []
    for entry in found:
        day = entry.at.astimezone(tz).date()
        if where.record and where.record not in entry.records:
            continue
        if where.operator and entry.operator != where.operator:
            continue
        if where.action and entry.action != where.action:
            continue
        if (where.since and day < where.since) or (where.until and day > where.until):
            continue
        out.append(entry)
    return out


def problems(archive: Archive) -> list[Problem]:
    """What is wrong with the trail: unreadable, edited or missing entries, now or in history."""
    _, found = trail.read(archive)
    return found + trail.rewritten(archive)


@dataclass(frozen=True)
class Flow:
    """Where personal data went over a period: one line per action, destination and kind."""

    action: str
    to: str
    channel: str
    kind: str
    times: int
    records: int
    fields: tuple[str, ...]
    operators: tuple[str, ...]


def flows(archive: Archive, where: Filter) -> list[Flow]:
    """The trail summed up by where the data went (定期核查隐私数据流转路径)."""
    groups: dict[tuple[str, str, str, str], list[AuditEntry]] = {}
    for entry in entries(archive, where):
        key = (entry.action, entry.to, entry.channel, entry.kind)
        groups.setdefault(key, []).append(entry)
    out = []
    for (action, to, channel, kind), items in sorted(groups.items()):
        fields = Counter(f for e in items for f in e.fields)
        out.append(
            Flow(
                action=action,
                to=to,
                channel=channel,
                kind=kind,
                times=len(items),
                records=sum(e.count for e in items),
                fields=tuple(sorted(fields)),
                operators=tuple(sorted({e.operator for e in items})),
            )
        )
    return out
