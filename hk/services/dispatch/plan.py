"""Daily dispatch (派工) over the archive: read a day, plan it, apply the plan, pin by hand.

The planning itself is pure (:mod:`hk.dispatch.day`); this module reads what it needs from the
index — the day's orders, their customers, the workers, who served whom before — and decides
who may take which job with the very rules ``hk order assign`` applies
(:func:`hk.services.orders.rules.assignment_breaches`), so a plan never proposes what an
assignment by hand would refuse.

Re-planning keeps what is settled: an order already dispatched or under way stays with its
worker and keeps its time, and an order pinned to a worker (``hk dispatch pin``) goes to that
worker or, if she cannot take it, is left out with the reason. A plan is only a proposal
until it is applied; applying writes every assignment in one commit, and refuses if any of
the day's orders changed since the plan was made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import orjson

from hk.dispatch.day import DayJob, DayWorker, Limits, Plan, Span, clock, minutes
from hk.dispatch.day import plan as solve_day
from hk.dispatch.travel import Travel, locate
from hk.domain.catalog import ServiceItem
from hk.domain.common import WEEKDAYS
from hk.domain.customer import Customer
from hk.domain.order.model import Order
from hk.domain.order.steps import transition
from hk.domain.worker import Worker
from hk.errors import ConflictError, HkError
from hk.services.orders.rules import assignment_breaches
from hk.store.archive import Archive
from hk.store.search import SEP
from hk.store.writer import SaveResult

PLANNED = ("to_dispatch",)
"""Orders the plan places: confirmed and waiting for a worker (待派工)."""
KEPT = ("dispatched", "in_service", "completed")
"""Orders of the day that already have their worker: the plan keeps them as they are."""
WAITING = ("pending", "confirmed")
"""Orders of the day not yet ready for dispatch: counted, not planned."""
IGNORED_RULES = ("double_booking", "availability")
"""Rules the routing itself enforces, with times: not reasons to exclude a worker outright."""


@dataclass
class Day:
    """What the planner reads from the archive for one day."""

    day: dt.date
    jobs: list[DayJob]
    workers: list[DayWorker]
    limits: Limits
    orders: dict[str, Order]
    waiting: list[str] = field(default_factory=list)
    fingerprint: tuple[tuple[str, str, str], ...] = ()


def limits_of(archive: Archive) -> Limits:
    """The ``[dispatch]`` settings in the planner's units."""
    cfg = archive.settings.dispatch
    lunch = _span(cfg.lunch)
    return Limits(
        travel=Travel(detour=cfg.detour, speed_kmh=cfg.speed_kmh),
        max_jobs=cfg.max_jobs,
        max_hours=cfg.max_hours,
        lunch=lunch,
        lunch_seconds=cfg.lunch_minutes * 60,
        preferred_seconds=cfg.preferred_minutes * 60,
        continuity_seconds=cfg.continuity_minutes * 60,
    )


def _span(text: str) -> Span:
    """``08:00-12:00`` as seconds from midnight."""
    begin, end = text.split("-")
    return _seconds(begin), _seconds(end)


def _seconds(hhmm: str) -> float:
    hours, mins = hhmm.split(":")
    return int(hours) * 3600 + int(mins) * 60


def midnight(archive: Archive, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(archive.settings.locale.timezone))


def read_day(archive: Archive, day: dt.date) -> Day:
    """The day's orders and the workers who could take them, with every rule worked out."""
    start = midnight(archive, day)
    rows = archive.index.list("order", day_from=day.isoformat(), day_to=day.isoformat())
    orders = {
        row["id"]: Order.model_validate(orjson.loads(row["data"]))
        for row in rows
        if row["category"] in (*PLANNED, *KEPT)
    }
    waiting = [row["id"] for row in rows if row["category"] in WAITING]
    customers = _customers(archive, {o.customer for o in orders.values()})
    worker_rows = archive.index.list("worker")
    workers = [Worker.model_validate(orjson.loads(row["data"])) for row in worker_rows]
    kept = {w for o in orders.values() if o.status in KEPT for w in o.workers}
    workers = [w for w in workers if w.status == "available" or w.id in kept]
    codes = {row["id"]: row["code"] or row["id"] for row in worker_rows}
    items = _items(archive)
    busy = _long_bookings(archive, day, start, set(orders))
    placed = _placed_on(archive, day)
    for order in [o for o in orders.values() if _long(o, start)]:
        if order.status in KEPT:  # a live-in role begun today: she is busy, not routed
            del orders[order.id]
            for worker_id in order.workers:
                begin = (order.window.start - start).total_seconds()
                busy.setdefault(worker_id, []).append((begin, 86400.0))
    places = archive.settings.dispatch.places
    day_workers = [
        _day_worker(archive, w, day, start, busy.get(w.id, []), codes[w.id], placed.get(w.id, ""))
        for w in workers
    ]
    served = _served_before(archive, day, set(customers), {w.id for w in workers})
    jobs = []
    for order in sorted(orders.values(), key=lambda o: (o.window.start, o.id)):
        customer = customers[order.customer]
        jobs.append(
            _day_job(
                archive,
                order,
                customer,
                workers,
                items,
                start,
                places,
                served.get(order.customer, {}),
            )
        )
    return Day(
        day=day,
        jobs=jobs,
        workers=day_workers,
        limits=limits_of(archive),
        orders=orders,
        waiting=waiting,
        fingerprint=_fingerprint(rows),
    )


def _long(order: Order, start: dt.datetime) -> bool:
    """A booking past the day's end (a 月嫂's 26 days): placement, not a route."""
    return order.window.end > start + dt.timedelta(days=1)


def _fingerprint(rows: Iterable[object]) -> tuple[tuple[str, str, str], ...]:
    """Each of the day's orders with its status and stored data: what applying rechecks."""
    return tuple(sorted((r["id"], r["category"], r["path"]) for r in rows))  # type: ignore[index]


def _customers(archive: Archive, ids: set[str]) -> dict[str, Customer]:
    out = {}
    for record_id in ids:
        row = archive.index.get(record_id)
        if row is None:
            raise HkError(
                f"an order names customer {record_id}, who is not in the archive",
                hint="run hk doctor",
            )
        out[record_id] = Customer.model_validate(orjson.loads(row["data"]))
    return out


def _items(archive: Archive) -> dict[str, ServiceItem]:
    return {
        item.code: item
        for item in (
            ServiceItem.model_validate(orjson.loads(row["data"]))
            for row in archive.index.list("service")
        )
    }


def _long_bookings(
    archive: Archive, day: dt.date, start: dt.datetime, today: set[str]
) -> dict[str, list[Span]]:
    """Orders begun on an earlier day that still hold a worker on ``day`` (a 月嫂's 26 days)."""
    end = start + dt.timedelta(days=1)
    rows = archive.index.list(
        "order",
        day_from=(day - dt.timedelta(days=62)).isoformat(),
        day_to=(day - dt.timedelta(days=1)).isoformat(),
    )
    out: dict[str, list[Span]] = {}
    for row in rows:
        if row["category"] in ("cancelled", "pending") or row["id"] in today:
            continue
        data = orjson.loads(row["data"])
        if not data.get("workers"):
            continue
        window = data["window"]
        until = dt.datetime.fromisoformat(window["end"])
        if until <= start:
            continue
        begin = max(dt.datetime.fromisoformat(window["start"]), start)
        span = ((begin - start).total_seconds(), (min(until, end) - start).total_seconds())
        for worker_id in data["workers"]:
            out.setdefault(worker_id, []).append(span)
    return out


def _placed_on(archive: Archive, day: dt.date) -> dict[str, str]:
    """Workers a signed or running placement contract holds on ``day``, with its code: a
    live-in nanny is not free for hourly jobs, whatever her record's status says."""
    from hk.services.dispatch.match import placement_spans

    out: dict[str, str] = {}
    for row in archive.index.list("contract"):
        data = orjson.loads(row["data"])
        if data.get("status") not in ("signed", "active"):
            continue
        for worker_id, busy in placement_spans(data, row["code"] or row["id"]):
            if busy.start <= day <= busy.end:
                out[worker_id] = busy.label
    return out


def _day_worker(
    archive: Archive,
    worker: Worker,
    day: dt.date,
    start: dt.datetime,
    busy: list[Span],
    code: str,
    placement: str = "",
) -> DayWorker:
    """Her working stretches of the day: weekly hours (or the default day), less leave,
    placements and long bookings."""
    home = locate(worker.home, archive.settings.dispatch.places) if worker.home else None
    if placement:
        off = f"长期在岗（{placement}）"
    elif worker.status != "available":
        off = "长期在岗" if worker.status == "placed" else "已停用"
    else:
        off = "请假" if worker.on_leave(day) else ""
    if off:
        return DayWorker(worker.id, code, worker.name, home, (), off)
    if worker.availability:
        ranges = worker.availability.get(WEEKDAYS[day.weekday()], [])
        spans = [_span(text) for text in ranges]
    else:
        spans = [_span(archive.settings.dispatch.day)]
    for taken in busy:
        spans = [piece for span in spans for piece in _minus(span, taken)]
    return DayWorker(
        worker.id, code, worker.name, home, tuple(spans), "" if spans else "不在每周可用时间内"
    )


def _minus(span: Span, taken: Span) -> list[Span]:
    a, b = span
    c, d = taken
    if d <= a or b <= c:
        return [span]
    return [piece for piece in ((a, c), (d, b)) if piece[1] > piece[0]]


def _served_before(
    archive: Archive, day: dt.date, customers: set[str], workers: set[str]
) -> dict[str, dict[str, int]]:
    """customer → worker → completed visits in the last ``continuity_days`` (from the index's
    links, without reading the orders)."""
    back = day - dt.timedelta(days=archive.settings.dispatch.continuity_days)
    out: dict[str, dict[str, int]] = {}
    for status in ("completed", "settled"):
        for row in archive.index.list(
            "order",
            category=status,
            day_from=back.isoformat(),
            day_to=(day - dt.timedelta(days=1)).isoformat(),
        ):
            refs = [ref for ref in (row["refs"] or "").split(SEP) if ref]
            if not refs or refs[0] not in customers:
                continue
            seen = out.setdefault(refs[0], {})
            for ref in refs[1:]:
                if ref in workers:
                    seen[ref] = seen.get(ref, 0) + 1
    return out


def _day_job(
    archive: Archive,
    order: Order,
    customer: Customer,
    workers: Sequence[Worker],
    items: dict[str, ServiceItem],
    start: dt.datetime,
    places: dict[str, tuple[float, float]],
    served: dict[str, int],
) -> DayJob:
    window = order.window
    seconds = float(
        order.expected_minutes * 60 if order.expected_minutes else window.duration().total_seconds()
    )
    earliest = (window.start - start).total_seconds()
    latest = max(earliest, (window.end - start).total_seconds() - seconds)
    excluded: dict[str, dict[str, str]] = {}
    for worker in workers:
        rules: dict[str, str] = {}
        for breach in assignment_breaches(order, worker, customer, items):
            if breach.rule not in IGNORED_RULES:
                rules.setdefault(breach.rule, breach.subject)
        if rules:
            excluded[worker.id] = rules
    names = [line.name or line.service for line in order.lines]
    fixed = order.workers[0] if order.status in KEPT and order.workers else None
    from hk.services.records import code_of

    return DayJob(
        id=order.id,
        code=code_of(archive, order.id) or order.id,
        customer=customer.id,
        customer_code=code_of(archive, customer.id) or customer.id,
        community=order.address.community,
        district=order.address.district,
        services="、".join(dict.fromkeys(names)),
        earliest=earliest,
        latest=latest,
        seconds=seconds,
        located=locate(order.address, places),
        excluded=excluded,
        preferred=frozenset(customer.preferred_workers),
        served_before=served,
        pinned=order.pinned_worker,
        fixed=fixed,
        status=order.status,
        days=(window.end - window.start).days + 1 if _long(order, start) else 0,
    )


# --- commands ------------------------------------------------------------------------------


def make_plan(
    archive: Archive, day: dt.date, time_limit_s: float | None = None
) -> tuple[Day, Plan]:
    """Read ``day`` and plan it; nothing is written."""
    inputs = read_day(archive, day)
    limit = time_limit_s if time_limit_s is not None else archive.settings.dispatch.time_limit_s
    result = solve_day(day, inputs.jobs, inputs.workers, inputs.limits, time_limit_s=limit)
    return inputs, result


def apply(
    archive: Archive,
    inputs: Day,
    result: Plan,
    at: dt.datetime | None = None,
    only: set[str] | None = None,
) -> SaveResult:
    """Dispatch every planned order to its worker in one commit (or, given ``only``, just
    the orders with those IDs: the operator accepts part of a plan, the rest stay 待派工).

    Only orders still 待派工 change; the event note says when the plan has her start and
    why she was chosen. The day's orders are read again under the lock: if any changed since
    the plan was made (another operator assigned or cancelled one), nothing is written.
    """
    from hk.services.records import load, moment
    from hk.store.writer import save_together

    when = moment(archive, at)
    actor = archive.operator()

    def unchanged() -> None:
        archive.index.refresh(["order"])  # look again: the plan's own read was a while ago
        rows = archive.index.list(
            "order", day_from=inputs.day.isoformat(), day_to=inputs.day.isoformat()
        )
        if _fingerprint(rows) != inputs.fingerprint:
            raise ConflictError(
                "the day's orders changed since the plan was made",
                hint="run hk dispatch plan again; nothing was written",
            )

    unchanged()
    changes = []
    for itinerary in result.itineraries:
        for visit in itinerary.visits:
            if visit.job.status not in PLANNED or (only is not None and visit.job.id not in only):
                continue
            order, loaded = load(archive, Order, visit.job.id)
            note = f"派工计划：{clock(visit.start)} 开始；" + "；".join(visit.reasons)
            start = min(
                midnight(archive, inputs.day) + dt.timedelta(minutes=minutes(visit.start)),
                order.window.end,
            )
            assigned = order.model_copy(
                update={"workers": [itinerary.worker.id], "planned_start": start}
            )
            changes.append((transition(assigned, "dispatched", actor, when, note), loaded))
    if not changes:
        raise HkError(
            "the plan assigns no order that is still waiting for dispatch",
            hint="nothing to apply; hk dispatch plan shows the day",
        )

    summary = f"dispatch {inputs.day.isoformat()}: assign {len(changes)} orders"
    return save_together(archive, changes, summary=summary, recheck=unchanged)


def plan_json(inputs: Day, result: Plan) -> dict[str, object]:
    """The plan as data for ``--json`` (and the TUI): times as ``HH:MM``, travel in minutes."""
    routes = []
    for itinerary in result.itineraries:
        worker = itinerary.worker
        routes.append(
            {
                "worker": worker.id,
                "worker_code": worker.code,
                "worker_name": worker.name,
                "leave_home": clock(itinerary.leave_home)
                if itinerary.leave_home is not None
                else None,
                "back_home": clock(itinerary.back_home)
                if itinerary.back_home is not None
                else None,
                "travel_minutes": minutes(itinerary.travel_seconds),
                "travel_km": round(itinerary.travel_metres / 1000, 1),
                "service_minutes": minutes(itinerary.service_seconds),
                "jobs": [
                    {
                        "order": v.job.id,
                        "code": v.job.code,
                        "customer_code": v.job.customer_code,
                        "community": v.job.community,
                        "services": v.job.services,
                        "arrive": clock(v.arrival),
                        "start": clock(v.start),
                        "end": clock(v.end),
                        "travel_minutes": minutes(v.travel_seconds),
                        "travel_km": round(v.travel_metres / 1000, 1),
                        "status": v.job.status,
                        "reasons": v.reasons,
                    }
                    for v in itinerary.visits
                ],
            }
        )
    unplaced = [
        {
            "order": job_id,
            "code": result.jobs[job_id].code,
            "customer_code": result.jobs[job_id].customer_code,
            "window": f"{clock(result.jobs[job_id].earliest)}–"
            f"{clock(result.jobs[job_id].latest + result.jobs[job_id].seconds)}",
            "services": result.jobs[job_id].services,
            "reason": why,
        }
        for job_id, why in result.unplaced.items()
    ]
    return {
        "date": inputs.day.isoformat(),
        "routes": routes,
        "unplaced": unplaced,
        "totals": {
            "jobs": len(result.jobs),
            "placed": result.placed,
            "unplaced": len(result.unplaced),
            "workers": len(routes),
            "travel_minutes": minutes(result.travel_seconds),
            "travel_km": round(result.travel_metres / 1000, 1),
            "waiting_confirmation": len(inputs.waiting),
            "seconds": round(result.seconds, 2),
        },
    }


# --- pins ----------------------------------------------------------------------------------


def pin(archive: Archive, order_ref: str, worker_ref: str | None) -> tuple[Order, SaveResult]:
    """Pin an order to a worker by hand (None: unpin); every later plan keeps the pin.

    A pin is refused when the worker breaks any assignment rule for the order: a plan would
    leave the order out anyway, and ``hk order assign --force`` is the way to send someone
    the rules would not.
    """
    from hk.services.orders.steps import known_items, load_order, workers_of
    from hk.services.records import code_of, load
    from hk.store.writer import save

    order, loaded = load_order(archive, order_ref)
    if order.status not in ("pending", "confirmed", "to_dispatch"):
        raise HkError(
            f"order {code_of(archive, order.id) or order.id} is already past dispatch "
            f"({order.status}); a pin only steers a plan",
            hint="hk order assign or hk order cancel change a dispatched order",
        )
    worker_id = None
    if worker_ref is not None:
        worker = workers_of(archive, [worker_ref])[0]
        customer, _ = load(archive, Customer, order.customer)
        breaches = [
            b
            for b in assignment_breaches(
                order, worker, customer, known_items(archive, order.services())
            )
            if b.rule not in IGNORED_RULES
        ]
        if breaches:
            who = f"{code_of(archive, worker.id) or worker.id} {worker.name}"
            raise HkError(
                f"cannot pin {who}:\n" + "\n".join(f"  {b.render()}" for b in breaches),
                hint="choose another worker, or assign by hand with hk order assign "
                "--force --reason",
            )
        worker_id = worker.id
    updated = order.model_copy(update={"pinned_worker": worker_id})
    return updated, save(archive, updated, loaded)


def summary_line(result: Plan) -> str:
    """``planned 42 of 45 jobs for 12 workers, travel 6 h 10 min (88.4 km)``."""
    total = minutes(result.travel_seconds)
    return (
        f"{result.placed} of {len(result.jobs)} jobs placed for "
        f"{len(result.itineraries)} workers; travel {total // 60} h {total % 60} min "
        f"({result.travel_metres / 1000:.1f} km); {len(result.unplaced)} unplaced"
    )
