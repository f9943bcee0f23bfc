"""The dashboard's figures (SPEC §1: the operator's morning), from the index alone.

- today's and tomorrow's orders, counted by status, and listed;
- this month's key figures (:mod:`hk.services.reports.month`, counted as ``hk report``
  counts them);
- what is waiting for the office: today's reminders by rule (what ``hk remind`` lists for
  the office), return visits due or overdue, and complaints still open;
- workers whose certificates or insurance run out within ``[reminders] certificate_days``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from hk.services.lookup import summary
from hk.services.orders.listing import list_items
from hk.services.reports.month import MonthFigures, month_figures
from hk.tui.data.lists import expiring

if TYPE_CHECKING:
    from hk.store.archive import Archive


@dataclass
class DayOrders:
    day: dt.date
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass
class Dashboard:
    today: DayOrders
    tomorrow: DayOrders
    month: MonthFigures
    orders: list[dict[str, Any]]
    """Today's and tomorrow's orders, in time order, with customer and worker names."""
    expiring: list[tuple[str, str, str, dt.date]]
    """(worker ID, worker name, what, day) for certificates running out soon."""
    certificate_days: int


@dataclass
class Queues:
    """What waits for the office; read after the figures (it takes seconds at scale)."""

    reminders: dict[str, int] = field(default_factory=dict)
    """Today's reminders for the office, counted by rule (in the digest's order)."""
    visits: list[dict[str, Any]] = field(default_factory=list)
    """Return visits due today or overdue, most overdue first (``hk visit due``'s rows)."""
    complaints: list[dict[str, Any]] = field(default_factory=list)
    """Complaints not yet resolved or rejected, oldest first (``hk complaint list``'s rows)."""


STATUS_ORDER = (
    "pending",
    "confirmed",
    "to_dispatch",
    "dispatched",
    "in_service",
    "completed",
    "settled",
    "cancelled",
)


def dashboard(archive: Archive, today: dt.date) -> Dashboard:
    index = archive.index
    tomorrow = today + dt.timedelta(days=1)
    rows = [
        summary(r)
        for r in index.list("order", day_from=today.isoformat(), day_to=tomorrow.isoformat())
    ]
    days = {today: DayOrders(today), tomorrow: DayOrders(tomorrow)}
    for row in rows:
        day = dt.date.fromisoformat(row["start"][:10])
        if day in days:
            counts = days[day].by_status
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    items = sorted(list_items(index, rows), key=lambda item: item["start"])
    settings = archive.settings
    within = settings.reminders.certificate_days
    return Dashboard(
        today=days[today],
        tomorrow=days[tomorrow],
        month=month_figures(archive, today),
        orders=items,
        expiring=_expiring(archive, today, within),
        certificate_days=within,
    )


def queues(archive: Archive, today: dt.date) -> Queues:
    return Queues(
        reminders_due(archive, today), visits_due(archive, today), open_complaints(archive)
    )


def reminders_due(archive: Archive, today: dt.date) -> dict[str, int]:
    """Today's office reminders by rule, as ``hk remind`` gathers them."""
    from hk.domain.reminders import RULES
    from hk.remind.config import RemindConfig
    from hk.remind.gather import gather

    found = gather(archive.index, today, RemindConfig.from_settings(archive.settings))
    counts: dict[str, int] = {}
    for item in found.items:
        if item.audience == "office":
            counts[item.rule] = counts.get(item.rule, 0) + 1
    return {rule: counts[rule] for rule in RULES if rule in counts}


def visits_due(archive: Archive, today: dt.date) -> list[dict[str, Any]]:
    """``hk visit due`` on ``today`` (the same service, in this process), most overdue first.

    The histories come from the index's columns in a few SQL queries (reading only the first
    order of customers still waiting for their first visit), so this runs in the TUI's worker
    thread without reading every order.
    """
    from hk.services.visits import visits_due as due

    found = [d.to_dict() for d in due(archive, today)]
    return sorted(found, key=lambda d: -int(d["days_overdue"]))


def open_complaints(archive: Archive) -> list[dict[str, Any]]:
    from hk.services.complaints import list_complaints

    return list_complaints(archive, open_only=True)


def _expiring(archive: Archive, today: dt.date, within: int) -> list[tuple[str, str, str, dt.date]]:
    """Certificates and insurance of working workers (not inactive ones) running out soon."""
    out = []
    for status in ("available", "placed"):
        for row in archive.index.list("worker", category=status):
            for what, day in expiring(orjson.loads(row["data"]), today, within):
                out.append((row["id"], row["name"], what, day))
    return sorted(out, key=lambda item: item[3])
