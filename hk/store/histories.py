"""Each customer's service history, read from the index's rows: what the return-visit rules
need (SPEC §4), without loading a model or reading every order."""

from __future__ import annotations

import datetime as dt
import marshal
from typing import Any

import orjson

from hk.domain.visit.owed import History, Seen

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

SERVED = ("completed", "settled")
"""Order statuses that count as a completed service (for return visits)."""
CHUNK = 500
"""IDs per ``IN (…)`` query."""


def histories(db: sqlite3.Connection, since: dt.date | None = None) -> list[Any]:
    """Each customer's history as the visit rules read it (:class:`hk.domain.visit.owed.History`),
    from the index alone (the reminders and ``hk visit due`` both read them here, so they
    never disagree): their visit records, their completed services
    (how many, and the first: earliest start, then ID), whether a signed or active contract
    names them.

    The first service counts from the day its order's log says it was completed; that takes
    reading the order, so with ``since`` only first orders starting on or after it are read,
    and an older one counts from its start (a first visit due that long ago is past the
    reminders' catch-up anyway).
    """

    def day(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text[:10]) if text else None

    seen: dict[str, list[Seen]] = {}
    for rid, summary in db.execute("SELECT id, summary FROM records WHERE kind = 'visit'"):
        row = marshal.loads(summary)
        seen.setdefault(row["customer"], []).append(
            Seen(
                rid,
                row["type"],
                row["status"],
                dt.date.fromisoformat(row["due"]),
                day(row.get("done_at")),
                row.get("order"),
                row.get("contract"),
                row.get("complaint"),
                row.get("worker"),
                row.get("reason", ""),
            )
        )
    served, marks = {}, ",".join("?" * len(SERVED))
    for customer, count, first in db.execute(
        "SELECT substr(refs, 2, 26), count(*), min(substr(name, 1, 16) || char(31) || id)"
        f" FROM records WHERE kind = 'order' AND category IN ({marks}) GROUP BY 1",
        SERVED,
    ):
        served[customer] = (count, first.rpartition("\x1f")[2], first[:10])
    contracted = {
        c
        for (c,) in db.execute(
            "SELECT DISTINCT substr(refs, 2, 26) FROM records WHERE kind = 'contract'"
            " AND category IN ('signed', 'active')"
        )
    }
    firsts = {
        first
        for who, (_, first, _) in served.items()
        if not any(v.status == "done" for v in seen.get(who, ()))
        and (since is None or served[who][2] >= since.isoformat())
    }
    completed: dict[str, dt.date | None] = {}
    wanted = sorted(firsts)
    for i in range(0, len(wanted), CHUNK):
        args = wanted[i : i + CHUNK]
        marks = ",".join("?" * len(args))
        for rid, data in db.execute(f"SELECT id, data FROM records WHERE id IN ({marks})", args):
            completed[rid] = _completed(orjson.loads(data))
    out = []
    for who in sorted({*seen, *served}):
        visits = tuple(seen.get(who, []))
        count, first_order, first_day = served.get(who, (0, None, None))
        first_service = completed.get(first_order or "") or day(first_day)
        out.append(History(who, first_service, first_order, count, who in contracted, visits))
    return out


def _completed(order: dict[str, Any]) -> dt.date | None:
    """The day an order's log says its service was completed."""
    for event in order.get("events") or []:
        if event.get("to_status") == "completed":
            return dt.date.fromisoformat(str(event["at"])[:10])
    return None
