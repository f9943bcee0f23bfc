"""Every customer's lifecycle stage (SPEC §3), from the index in a few SQL queries.

The rules are :func:`hk.domain.stage.stage`; this module gathers their facts the way the
reminders do (:mod:`hk.remind.gather`): an order's first ``refs`` entry is its customer, its
``category`` its status and its ``day`` its appointment, so one grouped query gives each
customer's order days without parsing an order. Contracts, open complaints and recent survey
responses are few, and read by their index rows as well.

A result is kept in memory under the day, the rules and the index's snapshot of each kind it
reads (replaced whenever a record of that kind changes), so a list filtered by stage, searched
keystroke by keystroke, works the stages out once.

Kept light to import, like :mod:`hk.services.lookup`: no Pydantic.
"""

from __future__ import annotations

import datetime as dt
import marshal
import threading
from typing import TYPE_CHECKING

from hk.domain.stage import STAGES, Facts, Stage, StageRules, stage

if TYPE_CHECKING:
    import sqlite3

    from hk.store.archive import Archive

KINDS = ("customer", "order", "contract", "complaint", "survey")
"""The kinds a stage depends on; refreshed before the stages are worked out."""
OPEN_COMPLAINTS = ("open", "in_progress")
RUNNING_CONTRACTS = ("signed", "active")

_cache: dict[str, tuple[tuple[object, ...], dict[str, Stage]]] = {}
_cache_lock = threading.Lock()


def rules_of(archive: Archive) -> StageRules:
    return StageRules.of(archive.settings.customers)


def today_of(archive: Archive) -> dt.date:
    """Today in the archive's timezone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(archive.settings.locale.timezone)).date()


def stages(
    archive: Archive, today: dt.date | None = None, *, refresh: bool = True
) -> dict[str, Stage]:
    """Customer ID → stage on ``today`` (default: today in the archive's timezone), for
    every customer; ``refresh=False`` reads the index as it is (the TUI keeps it current)."""
    index = archive.index
    kinds = [k for k in KINDS if k in index.specs]
    if refresh:
        index.refresh(kinds)
    day = today or today_of(archive)
    rules = rules_of(archive)
    key = (day, rules, index.freshness(kinds))
    with _cache_lock:
        cached = _cache.get(index.root)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = {
        customer: stage(facts, day, rules)
        for customer, facts in facts_of(index.db, day, rules).items()
    }
    with _cache_lock:
        _cache[index.root] = (key, found)
    return found


def stage_of(
    archive: Archive, customer: str, today: dt.date | None = None, *, refresh: bool = True
) -> Stage:
    """One customer's stage (by ID); all of them are worked out, and kept, at once."""
    return stages(archive, today, refresh=refresh).get(customer, "lead")


def with_stage(archive: Archive, wanted: str, today: dt.date | None = None) -> set[str]:
    """IDs of the customers in stage ``wanted`` (one of :data:`~hk.domain.stage.STAGES`)."""
    if wanted not in STAGES:
        from hk.errors import UsageError

        raise UsageError(f"unknown stage '{wanted}'", hint=f"one of {', '.join(STAGES)}")
    return {who for who, found in stages(archive, today).items() if found == wanted}


def facts_of(db: sqlite3.Connection, today: dt.date, rules: StageRules) -> dict[str, Facts]:
    """Each customer's facts from the index: one grouped query per kind."""
    orders: dict[str, list[dt.date]] = {}
    for customer, days in db.execute(
        "SELECT substr(refs, 2, 26), group_concat(DISTINCT day) FROM records"
        " WHERE kind = 'order' AND category != 'cancelled' GROUP BY 1"
    ):
        orders[customer] = [dt.date.fromisoformat(d) for d in days.split(",")]
    contracts: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for customer, summary in db.execute(
        "SELECT substr(refs, 2, 26), summary FROM records WHERE kind = 'contract'"
        " AND category IN (?, ?) AND day >= ?",
        [*RUNNING_CONTRACTS, today.isoformat()],
    ):
        row = marshal.loads(summary)
        contracts.setdefault(customer, []).append(
            (dt.date.fromisoformat(row["start"]), dt.date.fromisoformat(row["end"]))
        )
    complaints = dict(
        db.execute(
            "SELECT substr(refs, 2, 26), count(*) FROM records WHERE kind = 'complaint'"
            " AND category IN (?, ?) GROUP BY 1",
            OPEN_COMPLAINTS,
        )
    )
    since = today - dt.timedelta(days=rules.at_risk_score_days)
    scores: dict[str, tuple[dt.date, int]] = {}
    for customer, summary in db.execute(
        "SELECT substr(refs, 2, 26), summary FROM records WHERE kind = 'survey'"
        " AND day >= ? ORDER BY day, id",
        [since.isoformat()],
    ):
        row = marshal.loads(summary)
        day = dt.datetime.fromisoformat(row["at"]).date()
        if day <= today:
            scores[customer] = (day, min(int(row[d]) for d in SCORED if d in row))
    return {
        customer: Facts(
            orders.get(customer, ()),
            contracts.get(customer, ()),
            complaints.get(customer, 0),
            scores.get(customer),
        )
        for (customer,) in db.execute("SELECT id FROM records WHERE kind = 'customer'")
    }


SCORED = ("quality", "attitude", "hygiene", "punctuality", "overall")
"""The survey's scored dimensions (:data:`hk.domain.survey.DIMENSIONS`, 1–5)."""
