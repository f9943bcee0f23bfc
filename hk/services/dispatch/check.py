"""``hk dispatch check``: every hard rule of a day's assignments, checked from the archive.

This path shares nothing with the planner's translation or the solver: it reads the orders
that have a worker on the day, whoever assigned them (a plan, an operator by hand, another
machine after a pull), and replays each worker's day from the orders themselves — the
assignment rules, her working hours, overlaps, and the time to travel from one job to the
next — so a bug in planning shows up here rather than at a customer's door.

An assignment an operator forced past a soft rule (``hk order assign --force``) is still
listed, marked as overridden with the reason the event log keeps.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hk.dispatch.travel import Located, Travel, locate
from hk.domain.customer import Customer
from hk.domain.order.model import Order
from hk.domain.worker import Worker
from hk.services.orders.rules import RULE_ZH, assignment_breaches, hours_breach
from hk.services.orders.steps import known_items
from hk.store.archive import Archive

ASSIGNED = ("dispatched", "in_service", "completed", "settled")
TOLERANCE = 60.0
"""Seconds of slack when comparing times: plans and sheets are read to the minute."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: which order and worker, which rule, in words."""

    order: str
    worker: str
    rule: str
    message: str
    overridden: str = ""

    def render(self) -> str:
        label = f"{self.rule} ({RULE_ZH.get(self.rule, self.rule)})"
        text = f"  {self.order} {self.worker}: {label}: {self.message}"
        return text + (f"\n      overridden by hand: {self.overridden}" if self.overridden else "")


@dataclass
class Report:
    """The day's checked assignments, the rules they break and what could not be checked."""

    day: dt.date
    checked: int = 0
    workers: int = 0
    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"{self.day.isoformat()}: {self.checked} assignments of {self.workers} workers "
            f"checked, {len(self.violations)} violations"
        )
        out = [head]
        out += [v.render() for v in self.violations]
        out += [f"  note: {w}" for w in self.warnings]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "checked": self.checked,
            "workers": self.workers,
            "violations": [v.__dict__ for v in self.violations],
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class _Stint:
    order: Order
    code: str
    begin: dt.datetime
    end: dt.datetime
    place: Located | None


def check_day(archive: Archive, day: dt.date) -> Report:
    """Check every order with a worker on ``day`` against every hard rule."""
    from hk.services.records import code_of

    report = Report(day=day)
    rows = archive.index.list("order", day_from=day.isoformat(), day_to=day.isoformat())
    orders = [
        Order.model_validate(orjson.loads(r["data"])) for r in rows if r["category"] in ASSIGNED
    ]
    orders = [o for o in orders if o.workers]
    report.checked = sum(len(o.workers) for o in orders)
    cfg = archive.settings.dispatch
    travel = Travel(detour=cfg.detour, speed_kmh=cfg.speed_kmh)
    by_worker: dict[str, list[_Stint]] = {}
    for order in orders:
        code = code_of(archive, order.id) or order.id
        customer = _record(archive, Customer, order.customer)
        items = known_items(archive, order.services())
        place = locate(order.address, cfg.places)
        begin, end = order.service_span()
        stint = _Stint(order, code, begin, end, place)
        for worker_id in order.workers:
            worker = _record(archive, Worker, worker_id)
            who = code_of(archive, worker_id) or worker_id
            forced = _forced(order)
            for breach in assignment_breaches(order, worker, customer, items):
                if breach.rule in ("double_booking", "availability"):
                    continue
                report.violations.append(
                    Violation(code, who, breach.rule, breach.message, "" if breach.hard else forced)
                )
            report.violations += _hours(stint, worker, who, forced)
            if order.pinned_worker and order.pinned_worker not in order.workers:
                pinned = code_of(archive, order.pinned_worker) or order.pinned_worker
                report.violations.append(
                    Violation(
                        code, who, "pin", f"pinned to {pinned} by hand, assigned to someone else"
                    )
                )
            by_worker.setdefault(worker_id, []).append(stint)
    report.workers = len(by_worker)
    for worker_id, stints in by_worker.items():
        who = code_of(archive, worker_id) or worker_id
        report.violations += _sequence(stints, who, travel, report.warnings)
    return report


def _record(archive: Archive, model: type[Any], record_id: str) -> Any:
    from hk.services.records import indexed_data

    return model.model_validate(indexed_data(archive, record_id))


def _forced(order: Order) -> str:
    """The reason of the last forced assignment in the order's log, or ""."""
    for event in reversed(order.events):
        if event.to_status == "dispatched" and "强制派工" in event.note:
            return event.note
    return ""


def _hours(stint: _Stint, worker: Worker, who: str, forced: str) -> list[Violation]:
    """The service (as planned, not the whole window) inside the worker's weekly hours."""
    breach = hours_breach(worker, stint.begin, stint.end)
    return [Violation(stint.code, who, breach.rule, breach.message, forced)] if breach else []


def _sequence(
    stints: Iterable[_Stint], who: str, travel: Travel, warnings: list[str]
) -> list[Violation]:
    """No two services overlap, and each leaves time to travel to the next."""
    out = []
    ordered = sorted(stints, key=lambda s: (s.begin, s.end))
    for first, then in itertools.pairwise(ordered):
        if then.begin < first.end:
            out.append(
                Violation(
                    then.code,
                    who,
                    "double_booking",
                    f"overlaps {first.code} ({first.begin:%H:%M}–{first.end:%H:%M})",
                )
            )
            continue
        if first.place is None or then.place is None:
            missing = first.code if first.place is None else then.code
            warnings.append(f"{who}: travel to or from {missing} not checked (no coordinates)")
            continue
        needed = travel.seconds(first.place.point, then.place.point)
        gap = (then.begin - first.end).total_seconds()
        if gap + TOLERANCE < needed:
            out.append(
                Violation(
                    then.code,
                    who,
                    "travel",
                    f"starts {gap / 60:.0f} min after {first.code} ends, travel takes "
                    f"{needed / 60:.0f} min",
                )
            )
    return out
