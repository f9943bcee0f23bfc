"""Recurring service (周期服务): the orders a contract's schedule stands for, up to a horizon.

:func:`generate` turns the visits of every contract in force (签署 signed or 生效 active, with a
schedule) into orders, from today up to ``until``: priced by
:func:`hk.services.orders.steps.build_order` as ``hk order new`` prices one but at the
contract's agreed unit prices, at the contract's address, linked to the contract and its
package, and saved together in one commit. It is idempotent: a visit whose start already has an
order of the contract gets no second one, so cron may run it every night.

What a generated order looks like:

- its first event says it was generated from the contract's schedule (the mark
  :func:`reschedule` looks for, so it never cancels an order an operator booked by hand);
- it is 待确认 pending, like any order taken: the operator confirms it with the customer and
  dispatches it, so a change of schedule can still remake it (a dispatched order is never
  touched);
- it is priced at the contract's agreed unit prices, with the customer's tier and package;
- its first event names the contract's worker on that day (after any replacement, 更换阿姨),
  checked against every assignment rule of :mod:`hk.services.orders.rules`, bookings made in the
  same run included, or says which rule would keep her from it.

A visit gets no order when the company is closed or the worker is on leave (see
:mod:`hk.domain.recurrence`), when its time has passed, when the order once made for it was
cancelled (a customer who cancels one Tuesday does not get it back the next night), or when the
contract already has another order that day for the same services (moved by hand, or kept
while the schedule changed): each such day is reported with its reason.

:func:`reschedule` is the path for a schedule that changed: it cancels, through the lifecycle
and with a note naming the change, the contract's generated orders that are still to come and
not yet dispatched (待确认, 已确认, 待派工) and no longer match the schedule, then generates the
missing ones. Dispatched, started, finished and past orders are never touched; a dispatched
order that no longer matches is reported for the operator to handle.
"""

from __future__ import annotations

import datetime as dt
import marshal
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hk.domain.catalog import ServiceItem
from hk.domain.contract import Contract
from hk.domain.customer import Customer
from hk.domain.order import steps as order_steps
from hk.domain.order.model import Order
from hk.domain.pricing import PackageBalance
from hk.domain.recurrence import Skipped, occurrences, schedule_days, window_on
from hk.domain.worker import Worker
from hk.errors import HkError, NotFound
from hk.services.orders.rules import Booking, assignment_breaches, bookings_of, default_quantity
from hk.services.orders.steps import (
    OrderRequest,
    build_order,
    change_order,
    service_items,
    with_changes,
)
from hk.services.records import code_of, ensure_fresh, load, moment, resolve_id
from hk.store.archive import Archive
from hk.store.writer import SaveResult, save_new_bulk

IN_FORCE = ("signed", "active")
"""Contract statuses whose schedule makes orders. A signed contract binds the company from its
start date even before someone marks it active, so its first visits are planned too."""
UNDISPATCHED = ("pending", "confirmed", "to_dispatch")
"""Orders a schedule change may still cancel: nobody has been sent yet."""
GENERATED = "排班生成"
"""In the note of a generated order's first event."""
RESCHEDULED = "排班变更"
"""The start of the note of an order cancelled because the schedule changed."""
CHANNEL = "phone"
"""The channel of a generated order: the contract came in the way most orders do (there is
no channel for "from a contract"; the order's ``contract`` link says where it came from)."""

Reason = Literal["closed", "leave", "past", "cancelled", "same_day", "dispatched", "refused"]
REASON_ZH: dict[str, str] = {
    "closed": "公司休息",
    "leave": "阿姨请假",
    "past": "时间已过",
    "cancelled": "该次已取消",
    "same_day": "当天已有本合同订单",
    "dispatched": "已派工，未改动",
    "refused": "无法生成",
}


@dataclass(frozen=True)
class Skip:
    """A visit (or a whole contract, ``day`` None) that got no order, and why."""

    contract: str
    day: dt.date | None
    reason: Reason
    detail: str = ""

    def text_zh(self) -> str:
        why = REASON_ZH[self.reason]
        return f"{why}（{self.detail}）" if self.detail and self.detail != why else why


@dataclass(frozen=True)
class Made:
    """An order generated for a visit: the contract's number, the contract's worker suggested
    for it (None when there is none, or a rule keeps her from it) and, without one, why not."""

    order: Order
    contract: str
    worker: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Dropped:
    """An order cancelled because it no longer matches its contract's schedule."""

    order: Order
    contract: str
    was: str


@dataclass
class Run:
    """What one run did (or, with ``dry_run``, would do)."""

    until: dt.date
    dry_run: bool = False
    contracts: list[str] = field(default_factory=list)
    created: list[Made] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    cancelled: list[Dropped] = field(default_factory=list)
    existing: int = 0
    result: SaveResult | None = None

    def to_json(self, archive: Archive) -> dict[str, Any]:
        """The run as plain data for ``--json``: orders with their codes once saved."""

        def order(o: Order) -> dict[str, Any]:
            return {
                "id": o.id,
                "code": code_of(archive, o.id) if not self.dry_run else None,
                "start": o.window.start.isoformat(),
                "end": o.window.end.isoformat(),
                "status": o.status,
                "services": o.services(),
                "total_fen": o.total_fen,
                "workers": list(o.workers),
            }

        return {
            "until": self.until.isoformat(),
            "dry_run": self.dry_run,
            "contracts": self.contracts,
            "created": [
                {**order(m.order), "contract": m.contract, "worker": m.worker, "note": m.note}
                for m in self.created
            ],
            "existing": self.existing,
            "skipped": [
                {
                    "contract": s.contract,
                    "day": s.day.isoformat() if s.day else None,
                    "reason": s.reason,
                    "text": s.text_zh(),
                }
                for s in self.skipped
            ],
            "cancelled": [
                {**order(d.order), "contract": d.contract, "was": d.was} for d in self.cancelled
            ],
            "commit": self.result.commit if self.result else None,
        }


# --- generating --------------------------------------------------------------------------------


def generate(
    archive: Archive,
    until: dt.date,
    contract_ref: str | Sequence[str] | None = None,
    at: dt.datetime | None = None,
    *,
    dry_run: bool = False,
) -> Run:
    """Create the missing orders of every contract in force with a schedule (or of the ones
    ``contract_ref`` names: a code or ID, or several) for its visits from today to ``until``;
    one commit for them all.

    ``at`` is "now" (default: the clock, in the archive's timezone). A contract named on
    purpose that cannot make orders (no schedule, not in force) is refused with the reason.
    """
    return _Generator(archive, at, dry_run).run(until, _refs(contract_ref))


def reschedule(
    archive: Archive,
    contract_ref: str | Sequence[str],
    until: dt.date | None = None,
    at: dt.datetime | None = None,
    *,
    dry_run: bool = False,
) -> Run:
    """After the schedule of ``contract_ref`` (one or several) changed: cancel its future
    undispatched generated orders that no longer match, then generate the missing ones.

    Each cancellation is one commit (one event in the order's log); the new orders are one
    commit together. They are made up to ``until``, and at least as far as the orders cancelled
    reached, so a change never leaves a gap where the old schedule had been generated. A
    contract no longer in force (terminated, expired) or without a schedule keeps none of them.
    """
    return _Generator(archive, at, dry_run).reschedule(_refs(contract_ref) or [], until)


def _refs(given: str | Sequence[str] | None) -> list[str] | None:
    if given is None:
        return None
    return [given] if isinstance(given, str) else list(given)


class _Generator:
    """One run: the clock, and what is read once (customers, workers, catalog items) or built
    up along the way (bookings and package balances of the orders made so far)."""

    def __init__(self, archive: Archive, at: dt.datetime | None, dry_run: bool) -> None:
        self.archive = archive
        self.tz = ZoneInfo(archive.settings.locale.timezone)
        self.now = moment(archive, at).astimezone(self.tz)
        self.today = self.now.date()
        self.actor = archive.operator()
        self.dry_run = dry_run
        self.customers: dict[str, Customer] = {}
        self.workers: dict[str, Worker | None] = {}
        self.items: dict[str, ServiceItem] = {}
        self.booked: dict[str, list[Booking]] = {}
        self.packages: dict[tuple[str, str], PackageBalance] = {}
        self.dropped: set[str] = set()
        self.kept: set[str] = set()
        ensure_fresh(archive, "contract", "order")

    # --- the run ---------------------------------------------------------------------------

    def run(self, until: dt.date, refs: list[str] | None) -> Run:
        run = Run(until=until, dry_run=self.dry_run)
        if refs is not None:
            contracts = [self.contract(ref) for ref in refs]
            for contract in contracts:
                why = not_generating(contract, self.today)
                if why:
                    raise HkError(
                        f"contract {contract.number} makes no orders: {why}",
                        hint="a contract in force (signed or active) with a schedule does",
                    )
        else:
            contracts = self.in_force()
        for contract in contracts:
            run.contracts.append(contract.number)
            self.plan_safely(contract, until, run)
        self.save(run, f"Generate {{n}} orders from contract schedules up to {until.isoformat()}")
        return run

    def reschedule(self, refs: list[str], until: dt.date | None) -> Run:
        run = Run(until=until or self.today, dry_run=self.dry_run)
        contracts = [self.contract(ref) for ref in refs]
        for contract in contracts:
            run.contracts.append(contract.number)
            horizon = self.drop_stale(contract, run, until or self.today)
            run.until = max(run.until, horizon)
            if not not_generating(contract, self.today):
                self.plan_safely(contract, horizon, run)
        self.save(
            run, f"Generate {{n}} orders after a schedule change, up to {run.until.isoformat()}"
        )
        return run

    def plan_safely(self, contract: Contract, until: dt.date, run: Run) -> None:
        """:meth:`plan`, with a contract that cannot be priced reported, not fatal: one broken
        contract must not keep a nightly run from making everyone else's orders."""
        try:
            self.plan(contract, until, run)
        except HkError as exc:
            run.skipped.append(Skip(contract.number, None, "refused", exc.message))

    def save(self, run: Run, summary: str) -> None:
        if run.created and not self.dry_run:
            orders = [made.order for made in run.created]
            run.result = save_new_bulk(self.archive, orders, summary.format(n=len(orders)))

    def drop_stale(self, contract: Contract, run: Run, horizon: dt.date) -> dt.date:
        """Cancel the contract's generated orders to come that no longer match its schedule;
        the last day one of them was booked for (or ``horizon``, if later)."""
        why = not_generating(contract, self.today)
        if contract.termination is not None:
            now_is = f"已终止，最后服务日 {contract.termination.date}"
        else:
            now_is = f"现为 {contract.schedule.text_zh()}" if contract.schedule and not why else why
        note = f"{RESCHEDULED}：合同 {contract.number} {now_is}"
        for order in self.future_orders(contract):
            if self.matches(contract, order):
                continue
            code = code_of(self.archive, order.id) or order.id
            if order.status not in UNDISPATCHED:
                run.skipped.append(
                    Skip(
                        contract.number,
                        self.day_of(order),
                        "dispatched",
                        f"{code} 不再符合排班，请人工处理",
                    )
                )
                self.kept.add(order.id)
                continue
            if not is_generated(order):
                continue
            dropped = self.cancel(order, note)
            if dropped is None:
                run.skipped.append(
                    Skip(
                        contract.number,
                        self.day_of(order),
                        "dispatched",
                        f"{code} 刚被派工，未取消",
                    )
                )
                continue
            run.cancelled.append(Dropped(dropped, contract.number, order.status))
            self.dropped.add(order.id)
            horizon = max(horizon, self.day_of(order))
        return horizon

    # --- contracts -------------------------------------------------------------------------

    def contract(self, ref: str) -> Contract:
        _, contract_id = resolve_id(self.archive, "contract", ref)
        contract, _ = load(self.archive, Contract, contract_id)
        return contract

    def in_force(self) -> list[Contract]:
        """Every contract in force today with a schedule, oldest first."""
        out = []
        for row in self.archive.index.list("contract"):
            if row["category"] not in IN_FORCE:
                continue
            contract, _ = load(self.archive, Contract, row["id"])
            if not not_generating(contract, self.today):
                out.append(contract)
        return out

    # --- one contract ----------------------------------------------------------------------

    def plan(self, contract: Contract, until: dt.date, run: Run) -> None:
        """Add the contract's missing orders (and skipped days) from today to ``until``."""
        schedule = contract.schedule
        assert schedule is not None
        rows = self.archive.index.list(
            "order", ref=contract.id, day_from=self.today.isoformat(), day_to=until.isoformat()
        )
        at_start: dict[dt.datetime, list[Any]] = {}
        on_day: dict[dt.date, list[Any]] = {}
        for row in rows:
            data = marshal.loads(row["summary"])
            start = dt.datetime.fromisoformat(data["start"]).astimezone(self.tz)
            at_start.setdefault(start, []).append(row)
            if row["category"] != "cancelled":
                on_day.setdefault(start.date(), []).append((row, data))
        services = sorted(line.service for line in schedule.services)
        for first, last, worker_id in worker_spans(contract, self.today, until):
            worker = self.worker(worker_id)
            found = occurrences(
                schedule,
                first,
                last,
                self.tz,
                calendar=self.archive.settings.calendar,
                leave=worker.leave if worker else (),
                start=contract.start,
                end=last_day(contract),
            )
            run.skipped += [self.skip(contract, s) for s in found.skipped]
            for visit in found.visits:
                taken = [r for r in at_start.get(visit.start, []) if self.holds(r)]
                if taken:
                    cancelled = [r for r in taken if r["category"] == "cancelled"]
                    if len(cancelled) == len(taken):
                        run.skipped.append(
                            Skip(
                                contract.number,
                                visit.day,
                                "cancelled",
                                cancelled[0]["code"] or cancelled[0]["id"],
                            )
                        )
                    else:
                        run.existing += 1
                    continue
                if visit.start <= self.now:
                    run.skipped.append(
                        Skip(contract.number, visit.day, "past", f"{visit.start:%H:%M}")
                    )
                    continue
                other = [
                    (row, data)
                    for row, data in on_day.get(visit.day, [])
                    if sorted(data.get("services", [])) == services
                    and row["id"] not in self.dropped
                ]
                if other and all(row["id"] in self.kept for row, _ in other):
                    continue  # already reported: a dispatched order off the new schedule
                if other:
                    row, data = other[0]
                    start = dt.datetime.fromisoformat(data["start"]).astimezone(self.tz)
                    run.skipped.append(
                        Skip(
                            contract.number,
                            visit.day,
                            "same_day",
                            f"{row['code'] or row['id']} {start:%H:%M}",
                        )
                    )
                    continue
                run.created.append(self.make(contract, visit.start, visit.end, worker))

    def holds(self, row: Any) -> bool:
        """True if the order at a visit's start keeps the visit from being made again: any
        order but one cancelled because the schedule changed."""
        if row["category"] != "cancelled":
            return True
        if row["id"] in self.dropped:
            return False
        order, _ = load(self.archive, Order, row["id"])
        last = order.events[-1] if order.events else None
        return not (last is not None and last.note.startswith(RESCHEDULED))

    def skip(self, contract: Contract, skipped: Skipped) -> Skip:
        reason: Reason = skipped.reason
        return Skip(contract.number, skipped.day, reason, skipped.detail)

    def make(
        self, contract: Contract, start: dt.datetime, end: dt.datetime, worker: Worker | None
    ) -> Made:
        """The order of one visit, 待确认 like any order taken, at the contract's prices.

        The operator confirms it with the customer and dispatches it (``hk order confirm``,
        ``hk order assign``, or the day's dispatch plan); until then a change of schedule may
        still cancel and remake it. The first event names the contract's worker for that day,
        or the assignment rule that would keep her from it.
        """
        schedule = contract.schedule
        assert schedule is not None
        key = (contract.customer, contract.package or "")
        balance = self.packages.get(key)
        if balance is not None and start.date() > balance.valid_until:
            balance = None
        agreed = {line.service: line.unit_price_fen for line in contract.lines}
        note = f"按合同 {contract.number} {GENERATED}（{schedule.text_zh()}）"
        order, breakdown = build_order(
            self.archive,
            OrderRequest(
                contract.customer,
                [(line.service, line.quantity) for line in schedule.services],
                start,
                channel=CHANNEL,
                end=end,
                address=contract.address,
                package=contract.package,
                contract=contract.id,
                package_left=balance,
                at=self.now,
                taken_note=note,
                unit_prices=[agreed.get(line.service) for line in schedule.services],
            ),
        )
        if breakdown.package is not None:
            self.packages[key] = breakdown.package.balance()
        if worker is None:
            return Made(order, contract.number, None, "合同未指定阿姨")
        why_not = self.breaches(order, worker)
        suggestion = f"合同阿姨 {worker.name}" + (f"，但：{why_not}" if why_not else "")
        order = with_changes(
            order, events=[order.events[0].model_copy(update={"note": f"{note}；{suggestion}"})]
        )
        if not why_not:
            self.booked.setdefault(worker.id, []).append(
                Booking(order.id, "（本次生成）", order.window.start, order.window.end)
            )
        return Made(
            order, contract.number, None if why_not else worker.id, suggestion if why_not else ""
        )

    def breaches(self, order: Order, worker: Worker) -> str:
        """The assignment rules the contract's worker breaks for ``order``, in words."""
        customer = self.customer(order.customer)
        items = {code: self.item(code) for code in order.services()}
        bookings = [
            *bookings_of(self.archive, worker.id, order.window),
            *self.booked.get(worker.id, []),
        ]
        found = assignment_breaches(order, worker, customer, items, bookings)
        return "；".join(b.render() for b in found)

    # --- a schedule change -----------------------------------------------------------------

    def future_orders(self, contract: Contract) -> list[Order]:
        """The contract's orders not cancelled that start after now, earliest first."""
        out = []
        for row in self.archive.index.list(
            "order", ref=contract.id, day_from=self.today.isoformat()
        ):
            if row["category"] == "cancelled":
                continue
            order, _ = load(self.archive, Order, row["id"])
            if order.contract == contract.id and order.window.start > self.now:
                out.append(order)
        return sorted(out, key=lambda o: o.window.start)

    def matches(self, contract: Contract, order: Order) -> bool:
        """True if ``order`` is one of the visits the contract's schedule now stands for:
        on one of its days within its term (to the termination, if any), in its window, with
        its services, quantities and package."""
        schedule = contract.schedule
        if schedule is None or contract.status == "draft":
            return False
        day = self.day_of(order)
        if not any(schedule_days(schedule, day, day, start=contract.start, end=last_day(contract))):
            return False
        start, end = window_on(schedule, day, self.tz)
        if (order.window.start, order.window.end) != (start, end):
            return False
        if order.package != contract.package:
            return False
        hours = (Decimal(int((end - start).total_seconds())) / 3600).quantize(Decimal("0.01"))
        wanted = {}
        for line in schedule.services:
            item = self.item(line.service)
            wanted[item.code] = (
                line.quantity if line.quantity is not None else default_quantity(item, hours)
            ).normalize()
        return {line.service: line.quantity.normalize() for line in order.lines} == wanted

    def cancel(self, order: Order, note: str) -> Order | None:
        """Cancel ``order`` (no fee: the company changed the plan); None if it was dispatched
        meanwhile. With ``dry_run`` the cancelled order is only computed."""

        def change(current: Order) -> Order:
            if current.status not in UNDISPATCHED:
                raise _Dispatched()
            return order_steps.cancel(current, self.actor, self.now, note)

        if self.dry_run:
            return change(order)
        try:
            return change_order(self.archive, order.id, change).record
        except _Dispatched:
            return None

    # --- what is read once -----------------------------------------------------------------

    def day_of(self, order: Order) -> dt.date:
        return order.window.start.astimezone(self.tz).date()

    def customer(self, customer_id: str) -> Customer:
        if customer_id not in self.customers:
            self.customers[customer_id] = load(self.archive, Customer, customer_id)[0]
        return self.customers[customer_id]

    def worker(self, worker_id: str | None) -> Worker | None:
        if worker_id is None:
            return None
        if worker_id not in self.workers:
            try:
                self.workers[worker_id] = load(self.archive, Worker, worker_id)[0]
            except NotFound:
                self.workers[worker_id] = None
        return self.workers[worker_id]

    def item(self, code: str) -> ServiceItem:
        if code not in self.items:
            self.items.update(service_items(self.archive, [code]))
        return self.items[code.strip().upper()]


class _Dispatched(HkError):
    """The order was dispatched between reading and cancelling it."""

    def __init__(self) -> None:
        super().__init__("the order was dispatched meanwhile")


# --- pure helpers ------------------------------------------------------------------------------


def not_generating(contract: Contract, today: dt.date) -> str:
    """Why ``contract`` makes no orders today ("" when it does)."""
    from hk.domain.contract import STATUS_ZH

    status = contract.status_on(today)
    if status not in IN_FORCE:
        return f"状态为{STATUS_ZH[status]}（{status}）"
    if contract.schedule is None:
        return "没有排班（no schedule）"
    if contract.end < today:
        return f"已于 {contract.end} 结束"
    return ""


def last_day(contract: Contract) -> dt.date:
    """The contract's last day of service: its end, or the day it was terminated."""
    return contract.termination.date if contract.termination is not None else contract.end


def worker_on(contract: Contract, day: dt.date) -> str | None:
    """The contract's worker on ``day``: the signed one, or whoever replaced them by then."""
    current = contract.worker
    for replacement in contract.replacements:
        if replacement.date <= day:
            current = replacement.new
    return current


def worker_spans(
    contract: Contract, first: dt.date, last: dt.date
) -> list[tuple[dt.date, dt.date, str | None]]:
    """``first`` … ``last`` cut where a replacement takes over: (from, to, worker) each."""
    cuts = sorted({r.date for r in contract.replacements if first < r.date <= last})
    starts = [first, *cuts]
    ends = [*(cut - dt.timedelta(days=1) for cut in cuts), last]
    return [(a, b, worker_on(contract, a)) for a, b in zip(starts, ends, strict=True) if a <= b]


def is_generated(order: Order) -> bool:
    """True if the order was made from a schedule (its first event says so)."""
    return bool(order.events) and GENERATED in order.events[0].note
