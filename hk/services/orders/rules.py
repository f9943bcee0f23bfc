"""Order rules that look past the order itself: who may be sent, what else books the worker,
what a package has left, how long a booking lasts.

The lifecycle (:mod:`hk.domain.lifecycle`) knows one order; these rules need the worker, the
customer, the catalog and the worker's other orders. :func:`assignment_breaches` is pure, so
the same rule list serves the CLI, the TUI and a future dispatch planner; the functions that
read the archive only gather what it needs from the index, without parsing order files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import orjson

from hk.domain.catalog import Package, ServiceItem
from hk.domain.common import WEEKDAYS
from hk.domain.customer import Customer
from hk.domain.order.model import Order, Window
from hk.domain.pricing import PackageBalance
from hk.domain.worker import Worker
from hk.errors import HkError
from hk.store.archive import Archive

HARD_RULES = ("inactive", "blocked", "double_booking")
"""Rules no ``--force`` overrides: a worker who has left, one the customer refused, and one
who is somewhere else at that time. Every other rule is soft: an operator who knows better
(the worker agreed to come on her day off, the certificate is being renewed) may override it
with a reason, which the order's event log keeps."""

RULE_ZH = {
    "inactive": "阿姨已停用",
    "blocked": "客户拒绝该阿姨",
    "double_booking": "时间冲突",
    "skill": "缺少技能",
    "certificate": "证书无效",
    "leave": "请假",
    "gender": "性别要求",
    "age": "年龄要求",
    "availability": "不在可用时间",
}


@dataclass(frozen=True)
class Breach:
    """One assignment rule a worker does not meet, named so the operator can look it up."""

    rule: str
    message: str
    subject: str = ""
    """What the rule is about, for a tally of many workers: the skill or certificate missing."""

    @property
    def hard(self) -> bool:
        return self.rule in HARD_RULES

    def render(self) -> str:
        return f"{self.rule} ({RULE_ZH.get(self.rule, self.rule)}): {self.message}"


@dataclass(frozen=True)
class Booking:
    """Another order that holds a worker for a window (from the index, not the order file)."""

    order_id: str
    code: str
    start: dt.datetime
    end: dt.datetime

    def overlaps(self, window: Window) -> bool:
        """Windows that only touch (one ends at 12:00, the next starts at 12:00) do not clash."""
        return self.start < window.end and window.start < self.end


# --- assignment --------------------------------------------------------------------------------


def service_days(window: Window) -> list[dt.date]:
    """Every calendar day the window touches; a window ending at midnight ends the day before."""
    last = (window.end - dt.timedelta(microseconds=1)).date()
    day, days = window.start.date(), []
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def assignment_breaches(
    order: Order,
    worker: Worker,
    customer: Customer,
    items: dict[str, ServiceItem],
    bookings: Iterable[Booking] = (),
) -> list[Breach]:
    """Every rule ``worker`` breaks for ``order``, hard ones first; empty when they may go.

    ``items`` are the catalog items of the order's services (by code), for their required
    skills; ``bookings`` are the worker's other orders, cancelled ones left out.
    """
    found: list[Breach] = []
    if worker.status == "inactive":
        found.append(
            Breach(
                "inactive",
                "the worker is inactive (停用); reactivate them with hk worker edit first",
            )
        )
    if worker.id in customer.blocked_workers:
        found.append(Breach("blocked", "the customer asked never to send this worker"))
    for booking in bookings:
        if booking.order_id != order.id and booking.overlaps(order.window):
            found.append(
                Breach(
                    "double_booking",
                    f"already booked on order {booking.code} "
                    f"{booking.start:%Y-%m-%d %H:%M}–{booking.end:%H:%M}",
                )
            )
    found += _skill_breaches(order, worker, items)
    found += _certificate_breaches(order, worker)
    found += _leave_and_time_breaches(order, worker)
    found += _person_breaches(order, worker)
    return found


def _skill_breaches(order: Order, worker: Worker, items: dict[str, ServiceItem]) -> list[Breach]:
    needed: dict[str, list[str]] = {}
    for code in order.services():
        item = items.get(code)
        for skill in item.required_skills if item is not None else []:
            needed.setdefault(skill, []).append(f"{code} {item.name}" if item else code)
    for skill in order.requirements.skills:
        needed.setdefault(skill, []).append("the order's requirements")
    return [
        Breach("skill", f"lacks the skill {skill}, which {' and '.join(why)} needs", skill)
        for skill, why in needed.items()
        if worker.skill_level(skill) == 0
    ]


def _certificate_breaches(order: Order, worker: Worker) -> list[Breach]:
    days = service_days(order.window)
    out = []
    for kind in order.requirements.certificates:
        held = [c for c in worker.certificates if c.kind == kind]
        if not held:
            out.append(Breach("certificate", f"has no {kind} certificate", kind))
            continue
        invalid = [d for d in days if not any(c.valid_on(d) for c in held)]
        if invalid:
            expires = max((c.expires for c in held if c.expires), default=None)
            why = f" (it expires {expires.isoformat()})" if expires else ""
            out.append(
                Breach(
                    "certificate",
                    f"the {kind} certificate is not valid on {invalid[0].isoformat()}{why}",
                    kind,
                )
            )
    return out


def _leave_and_time_breaches(order: Order, worker: Worker) -> list[Breach]:
    out = []
    leave_days = [d for d in service_days(order.window) if worker.on_leave(d)]
    if leave_days:
        out.append(Breach("leave", f"is on leave on {leave_days[0].isoformat()}"))
    hours = hours_breach(worker, order.window.start, order.window.end)
    return [*out, hours] if hours else out


def hours_breach(worker: Worker, start: dt.datetime, end: dt.datetime) -> Breach | None:
    """The worker's weekly hours do not hold ``start``–``end`` (a service within one day;
    ending at midnight counts as 24:00). Workers without weekly hours, and bookings over
    several days (live-in roles), are not checked here."""
    if not worker.availability:
        return None
    midnight = dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(), start.tzinfo)
    if end.date() != start.date() and end != midnight:
        return None
    day = WEEKDAYS[start.weekday()]
    begin, until = f"{start:%H:%M}", "24:00" if end == midnight else f"{end:%H:%M}"
    ranges = worker.availability.get(day, [])
    if any(r[:5] <= begin and until <= r[6:] for r in ranges):
        return None
    hours = ", ".join(ranges) or "not at all"
    return Breach("availability", f"works {hours} on {day}, not {begin}–{until}")


def _person_breaches(order: Order, worker: Worker) -> list[Breach]:
    wanted = order.requirements
    out = []
    if wanted.gender is not None and worker.gender != wanted.gender:
        out.append(Breach("gender", f"the order asks for a {wanted.gender} worker"))
    if wanted.age_min is not None or wanted.age_max is not None:
        age = worker.age(order.window.start.date())
        low, high = wanted.age_min or 0, wanted.age_max or 200
        if age is None:
            out.append(
                Breach(
                    "age",
                    "the order has an age requirement and the worker's birth year is not recorded",
                )
            )
        elif not low <= age <= high:
            out.append(
                Breach(
                    "age",
                    f"is {age}; the order asks for {wanted.age_min or ''}–{wanted.age_max or ''}",
                )
            )
    return out


def bookings_of(archive: Archive, worker_id: str, window: Window) -> list[Booking]:
    """The worker's orders, not cancelled, that start before ``window`` ends.

    Long bookings (a 26-day 月嫂 job) start days before the window they clash with, so there is
    no lower bound on the day; the windows themselves are compared by the caller.
    """
    last_day = (window.end + dt.timedelta(days=1)).date().isoformat()
    rows = archive.index.list("order", ref=worker_id, day_to=last_day)
    out = []
    for row in rows:
        if row["category"] == "cancelled":
            continue
        data = orjson.loads(row["data"])
        if worker_id not in data.get("workers", []):
            continue
        out.append(
            Booking(
                order_id=row["id"],
                code=row["code"] or row["id"],
                start=dt.datetime.fromisoformat(data["window"]["start"]),
                end=dt.datetime.fromisoformat(data["window"]["end"]),
            )
        )
    return out


# --- packages ----------------------------------------------------------------------------------


def package_balance(
    archive: Archive, customer_id: str, package: Package, on: dt.date, exclude: str | None = None
) -> PackageBalance:
    """What is left of ``package`` for a new visit of the customer on ``on``.

    A purchase is not a record of its own yet, so the package's periods are read from the
    orders that use it: a period starts on the day of the first such order and lasts the
    package's validity; the first order after a period ends starts the next one (the customer
    renewed). The balance is that of the period holding ``on``, less the ``package_visits`` of
    every order in it, booked for earlier or later days; cancelled orders (a cancelled visit
    goes back to the package) and ``exclude`` are left out.
    """
    used: list[tuple[dt.date, dict[str, int]]] = []
    for row in archive.index.list("order", ref=customer_id):
        if row["category"] == "cancelled" or row["id"] == exclude:
            continue
        data = orjson.loads(row["data"])
        if data.get("package") != package.code or data.get("customer") != customer_id:
            continue
        day = dt.datetime.fromisoformat(data["window"]["start"]).date()
        visits: dict[str, int] = {}
        for line in data.get("lines", []):
            if line.get("package_visits"):
                visits[line["service"]] = visits.get(line["service"], 0) + line["package_visits"]
        used.append((day, visits))
    entries: list[tuple[dt.date, dict[str, int] | None]] = [*used, (on, None)]
    entries.sort(key=lambda entry: entry[0])
    periods: list[tuple[PackageBalance, list[dict[str, int]]]] = []
    ours = 0
    for day, entry in entries:
        if not periods or day > periods[-1][0].valid_until:
            periods.append((PackageBalance.new(package, day), []))
        if entry is None:
            ours = len(periods) - 1
        else:
            periods[-1][1].append(entry)
    period, taken = periods[ours]
    left = dict(period.visits_left)
    for visits in taken:
        for code, n in visits.items():
            left[code] = max(0, left.get(code, 0) - n)
    return period.model_copy(update={"visits_left": left})


# --- durations ---------------------------------------------------------------------------------


def default_quantity(item: ServiceItem, hours: Decimal | None) -> Decimal:
    """The quantity of a line given without one: the booked hours for an hourly item, else 1.

    An item priced by area has no sensible default: the operator must give the m².
    """
    if item.unit == "hour" and hours is not None:
        return hours
    if item.unit == "m2":
        raise HkError(
            f"{item.code} {item.name} is priced per m²: give the area",
            hint=f"e.g. --service {item.code}:85",
        )
    return Decimal(1)


def standard_minutes(lines: Sequence[tuple[ServiceItem, Decimal]]) -> int | None:
    """How long the lines take by the catalog, or None when one of them has no duration.

    An hourly item takes its quantity in hours; any other item its standard duration once per
    unit (two air conditioners take twice one). Items priced by area or month have no
    standard duration: their window must be given.
    """
    total = Decimal(0)
    for item, quantity in lines:
        if item.unit == "hour":
            total += quantity * 60
        elif item.duration_minutes and item.unit in ("visit", "day"):
            total += quantity * item.duration_minutes
        else:
            return None
    minutes = int(total)
    return minutes if minutes > 0 else None
