"""Orders (订单): take one, move it through its lifecycle, keep every step (SPEC §2–§3).

Each function reads the order from its file, applies one rule of :mod:`hk.domain.lifecycle`
and saves it through :func:`hk.store.writer.save`: one commit per step, refused when someone
else changed the order since it was read. The operator (:meth:`Archive.operator`) is the actor
of every event, and times are now, in the archive's timezone, unless the caller gives one (an
operator entering what happened earlier in the day).

SPEC §3 keeps 已确认 confirmed and 待派工 to_dispatch apart: an order is confirmed with the
customer, and is ready to dispatch once its deposit (定金) is in. :func:`confirm` therefore goes
on to 待派工 by itself when no deposit is outstanding, and
:func:`hk.services.orders.money.pay` does when the deposit arrives; :func:`to_dispatch` releases
a confirmed order without its deposit, with a reason.

Money (pay, settle, cancel) is in :mod:`hk.services.orders.money`, rating and rework in
:mod:`hk.services.orders.aftercare`, and the assignment and package rules in
:mod:`hk.services.orders.rules`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hk.domain.catalog import Package, ServiceItem
from hk.domain.common import Address
from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.domain.order.model import (
    CHANNEL_ZH,
    ChecklistResult,
    Location,
    Order,
    OrderLine,
)
from hk.domain.order.status import ORDER, LifecycleError, allowed
from hk.domain.order.steps import taken_event, transition
from hk.domain.pricing import (
    LineRequest,
    PackageBalance,
    PriceBreakdown,
    PricedLine,
    parse_quantity,
    price_lines,
)
from hk.domain.worker import Worker
from hk.errors import HkError, UsageError
from hk.services.orders.rules import (
    Breach,
    assignment_breaches,
    bookings_of,
    default_quantity,
    package_balance,
    standard_minutes,
)
from hk.services.records import (
    Stepped,
    choice_of,
    load,
    load_named,
    load_ref,
    moment,
    refused,
    resolve_id,
)
from hk.store.archive import Archive
from hk.store.writer import Loaded, SaveResult, save

MAX_EXPECTED_MINUTES = 60 * 24 * 31
"""The longest expected duration an order stores (a month); longer bookings keep only the
window."""


@dataclass
class Taken:
    """A new order, its commit, and the price breakdown that explains its amounts."""

    order: Order
    result: SaveResult
    breakdown: PriceBreakdown


@dataclass(frozen=True)
class Check:
    """One checklist result as typed: the item by number (1, 2 …) or by (part of) its text."""

    item: str
    passed: bool
    note: str = ""


class AssignmentRefused(HkError):
    """A worker breaks an assignment rule; ``breaches`` names each rule, worker by worker."""

    def __init__(self, message: str, breaches: dict[str, list[Breach]], hint: str) -> None:
        super().__init__(message, hint=hint)
        self.breaches = breaches


# --- shared -----------------------------------------------------------------------------------


def _build(data: dict[str, Any]) -> Order:
    try:
        return Order.model_validate(data)
    except ValidationError as exc:
        raise refused(exc) from None


def with_changes(order: Order, **changes: Any) -> Order:
    """A copy of ``order`` with ``changes``, validated as a whole."""
    data = {name: getattr(order, name) for name in Order.model_fields}
    data.update(changes)
    return _build(data)


def load_order(archive: Archive, ref: str) -> tuple[Order, Loaded]:
    """The order ``ref`` names (code or ID), read from its file, with what a save needs."""
    return load_named(archive, Order, ref, "list orders with hk order list (--customer, --date …)")


def change_order(archive: Archive, ref: str, change: Callable[[Order], Order]) -> Stepped[Order]:
    """Apply ``change`` to the order ``ref`` names and save the result over what was read."""
    order, loaded = load_order(archive, ref)
    try:
        updated = change(order)
    except ValidationError as exc:
        raise refused(exc) from None
    return Stepped(updated, save(archive, updated, loaded), updated.events[len(order.events) :])


def channel_of(text: str) -> str:
    """``phone`` or ``电话`` → ``phone``; anything else is refused with the choices."""
    return choice_of(text, CHANNEL_ZH, "an order channel")


def service_items(archive: Archive, codes: Sequence[str]) -> dict[str, ServiceItem]:
    """The catalog items with these codes; a package code is refused as a service."""
    from hk.services.catalog import by_code

    items: dict[str, ServiceItem] = {}
    for code in codes:
        item = by_code(archive, code)
        if isinstance(item, Package):
            raise HkError(
                f"{item.code} is a package, not a service item",
                hint=f"give the service with --service and add --package {item.code}",
            )
        items[item.code] = item
    return items


# --- taking an order --------------------------------------------------------------------------


def new_order(archive: Archive, request: OrderRequest) -> Taken:
    """Take an order: price it for the customer, copy their address, log it as 待确认; one
    commit."""
    order, breakdown = build_order(archive, request)
    return Taken(order, save(archive, order), breakdown)


@dataclass(frozen=True)
class OrderRequest:
    """An order as asked for, before it is priced: the customer (code or ID), the lines
    (service code, quantity: None is the booked hours for an hourly item and 1 otherwise),
    the start, how it came in, and what else the caller knows.

    The window ends at ``end``, after ``hours``, or after the catalog's standard duration of
    the lines. ``address`` is the customer's address by number, from 1, or an
    :class:`Address` (a contract's). With ``package`` the lines use its visits left (see
    :func:`package_balance`). An order from a quote keeps the quoted prices: ``unit_prices``
    (agreed, by line; None is the catalog's), ``tier`` (as priced then; "" for none) and the
    quote's extra discount, and links back by ``quote`` (its ID). An order from a contract's
    schedule links back by ``contract`` (its ID), notes ``taken_note`` on its first event, and,
    when several are made in one commit, takes the package balance the previous one left
    (``package_left``) instead of the archive's, which does not hold them yet.
    """

    customer: str
    lines: Sequence[tuple[str, Decimal | int | str | None]]
    start: dt.datetime
    channel: str
    end: dt.datetime | None = None
    hours: Decimal | None = None
    address: int | Address = 1
    requirements: dict[str, Any] | None = None
    notes: str = ""
    package: str | None = None
    at: dt.datetime | None = None
    quote: str | None = None
    unit_prices: Sequence[int | None] | None = None
    tier: str | None = None
    discount_fen: int = 0
    discount_note: str = ""
    contract: str | None = None
    package_left: PackageBalance | None = None
    taken_note: str = ""


def build_order(archive: Archive, request: OrderRequest) -> tuple[Order, PriceBreakdown]:
    """A new order, priced and validated but not saved (:func:`new_order` saves one; a quote's
    acceptance saves several in one commit)."""
    customer_ref, lines, start = request.customer, request.lines, request.start
    channel, end, hours, address = request.channel, request.end, request.hours, request.address
    requirements, notes, package, at = (
        request.requirements,
        request.notes,
        request.package,
        request.at,
    )
    quote, unit_prices, tier = request.quote, request.unit_prices, request.tier
    discount_fen, discount_note = request.discount_fen, request.discount_note
    contract, package_left, taken_note = request.contract, request.package_left, request.taken_note
    record, _ = load_ref(archive, "customer", customer_ref)
    assert isinstance(record, Customer)
    customer = record
    if not lines:
        raise UsageError("an order needs at least one service", hint="--service CODE[:QTY]")
    if not customer.addresses:
        raise HkError(
            "the customer has no address to send a worker to",
            hint="add one with hk customer edit … --district … --address …",
        )
    if isinstance(address, Address):
        where = address
    elif not 1 <= address <= len(customer.addresses):
        raise UsageError(
            f"the customer has {len(customer.addresses)} address(es); there is no address {address}"
        )
    else:
        where = customer.addresses[address - 1]
    start = moment(archive, start)
    if end is not None:
        end = moment(archive, end)
        if end <= start:
            raise UsageError(
                "the appointment ends before (or when) it starts", hint="check --start and --end"
            )
        hours = (Decimal(int((end - start).total_seconds())) / 3600).quantize(Decimal("0.01"))
    elif hours is not None:
        if hours <= 0:
            raise UsageError(f"--hours must be more than 0, not {hours}")
        end = start + dt.timedelta(minutes=int(hours * 60))
    items = service_items(archive, [code for code, _ in lines])
    booked = []
    for code, quantity in lines:
        item = items[code.strip().upper()]
        booked.append(
            (
                item,
                default_quantity(item, hours)
                if quantity is None
                else parse_quantity(quantity, item),
            )
        )
    minutes = standard_minutes(booked)
    if end is None:
        if minutes is None:
            raise UsageError(
                "the catalog gives no standard duration for these services",
                hint="give --end or --hours",
            )
        end = start + dt.timedelta(minutes=minutes)
    balance, package_code = None, None
    if package:
        held = _package(archive, package, items)
        package_code = held.code
        balance = (
            package_left
            if package_left is not None
            else package_balance(archive, customer.id, held, start.date())
        )
    agreed = list(unit_prices or [None] * len(booked))
    breakdown = price_lines(
        [
            LineRequest(item, quantity, unit_price_fen=price)
            for (item, quantity), price in zip(booked, agreed, strict=True)
        ],
        archive.settings,
        (customer.tier if tier is None else tier) or None,
        balance,
        on=start.date(),
    )
    total = breakdown.total_fen - discount_fen
    taken = moment(archive, at)
    window_minutes = int((end - start).total_seconds() // 60)
    expected = minutes if minutes is not None else window_minutes
    order = _build(
        {
            "id": new_id(),
            "created": taken,
            "updated": taken,
            "customer": customer.id,
            "address": where,
            "window": {"start": start, "end": end},
            "expected_minutes": expected if 0 < expected <= MAX_EXPECTED_MINUTES else None,
            "lines": [_order_line(line) for line in breakdown.lines],
            "discount_fen": discount_fen,
            "discount_note": discount_note,
            "total_fen": total,
            "deposit_fen": max(0, min(breakdown.deposit_fen, total)),
            "channel": channel_of(channel),
            "requirements": requirements or {},
            "package": package_code,
            "notes": notes,
            "quote": quote,
            "contract": contract,
            "events": [taken_event(archive.operator(), taken, taken_note)],
        }
    )
    return order, breakdown


def _package(archive: Archive, code: str, items: dict[str, ServiceItem]) -> Package:
    from hk.services.catalog import by_code

    held = by_code(archive, code)
    if not isinstance(held, Package):
        raise HkError(
            f"{held.code} is a service item, not a package",
            hint="see the packages with hk catalog list",
        )
    if not {i.service for i in held.items} & set(items):
        covered = ", ".join(i.service for i in held.items)
        raise HkError(
            f"package {held.code} covers none of these services (it covers {covered})",
            hint="leave out --package, or book a service the package holds",
        )
    return held


def _order_line(priced: PricedLine) -> OrderLine:
    """An order line from a priced line: the amounts copied as pricing explained them."""
    charged = priced.charged_quantity
    return OrderLine(
        service=priced.code,
        name=priced.name,
        quantity=priced.quantity,
        charged_quantity=None if charged == priced.quantity else charged,
        unit=priced.unit,
        unit_price_fen=priced.unit_price_fen,
        gross_fen=priced.gross_fen,
        package_visits=priced.package_visits,
        covered_fen=priced.covered_fen,
        discount_fen=priced.discount_fen,
        amount_fen=priced.net_fen,
    )


# --- confirming and dispatching ---------------------------------------------------------------


def confirm(
    archive: Archive, ref: str, note: str = "", at: dt.datetime | None = None
) -> Stepped[Order]:
    """待确认 → 已确认, and on to 待派工 when no deposit is outstanding (two events, one commit)."""
    actor, when = archive.operator(), moment(archive, at)

    def change(order: Order) -> Order:
        order = transition(order, "confirmed", actor, when, note)
        if order.deposit_outstanding() == 0:
            why = "定金已收" if order.deposit_fen else "无需定金"
            order = transition(order, "to_dispatch", actor, when, why)
        return order

    return change_order(archive, ref, change)


def to_dispatch(
    archive: Archive, ref: str, note: str = "", at: dt.datetime | None = None
) -> Stepped[Order]:
    """已确认 → 待派工; with a deposit still outstanding only with a note saying why."""
    from hk.domain.money import format_money

    actor, when = archive.operator(), moment(archive, at)

    def change(order: Order) -> Order:
        owed = order.deposit_outstanding()
        if owed and order.status == "confirmed" and not note.strip():
            raise LifecycleError(
                f"a deposit of {format_money(owed)} is outstanding",
                hint="record it with hk order pay, or give --note saying why it is waived",
            )
        return transition(order, "to_dispatch", actor, when, note)

    return change_order(archive, ref, change)


def assign(
    archive: Archive,
    ref: str,
    worker_refs: Sequence[str],
    *,
    force: bool = False,
    reason: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> Stepped[Order]:
    """待派工 → 已派工 with these workers, if each meets every assignment rule.

    A soft rule (skills, certificates, leave, availability, gender, age) gives way to
    ``force`` with a ``reason``, which the event's note keeps; a hard one (inactive, blocked
    by the customer, double booking) never does.
    """
    order, loaded = load_order(archive, ref)
    if "dispatched" not in allowed(order.status):
        error = ORDER.refuse(order.status, "dispatched")
        if order.status == "confirmed":
            error.hint = "hk order ready moves it to 待派工 (after the deposit, or with a note)"
        raise error
    if not worker_refs:
        raise UsageError("name the worker to assign")
    workers = workers_of(archive, worker_refs)
    customer, _ = load(archive, Customer, order.customer)
    items = known_items(archive, order.services())
    found = {}
    for worker in workers:
        breaches = assignment_breaches(
            order, worker, customer, items, bookings_of(archive, worker.id, order.window)
        )
        if breaches:
            found[worker.id] = breaches
    forced = _check_breaches(archive, workers, found, force, reason)
    text = note.strip()
    if forced:
        forcing = f"强制派工（越过 {', '.join(forced)}）：{reason.strip()}"
        text = f"{text}；{forcing}" if text else forcing

    def no_double_booking() -> None:
        """Bookings again, under the write lock: another operator may have just assigned."""
        for worker in workers:
            clash = [
                b
                for b in assignment_breaches(
                    order, worker, customer, items, bookings_of(archive, worker.id, order.window)
                )
                if b.rule == "double_booking"
            ]
            if clash:
                _check_breaches(archive, [worker], {worker.id: clash}, force, reason)

    try:
        assigned = with_changes(order, workers=[*order.workers, *(w.id for w in workers)])
        updated = transition(assigned, "dispatched", archive.operator(), moment(archive, at), text)
    except ValidationError as exc:
        raise refused(exc) from None
    return Stepped(
        updated,
        save(archive, updated, loaded, recheck=no_double_booking),
        updated.events[len(order.events) :],
    )


def workers_of(archive: Archive, refs: Sequence[str]) -> list[Worker]:
    out: dict[str, Worker] = {}
    for ref in refs:
        _, worker_id = resolve_id(archive, "worker", ref)
        worker, _ = load(archive, Worker, worker_id)
        out.setdefault(worker.id, worker)
    return list(out.values())


def known_items(archive: Archive, codes: Sequence[str]) -> dict[str, ServiceItem]:
    """The order's catalog items that still exist (a removed item requires no skill)."""
    out = {}
    for code in codes:
        try:
            out.update(service_items(archive, [code]))
        except HkError:
            continue
    return out


def _check_breaches(
    archive: Archive,
    workers: list[Worker],
    found: dict[str, list[Breach]],
    force: bool,
    reason: str,
) -> list[str]:
    """The soft rules forced past; raises when a rule stands."""
    if not found:
        return []
    from hk.services.records import code_of

    hard = sorted({b.rule for bs in found.values() for b in bs if b.hard})
    soft = sorted({b.rule for bs in found.values() for b in bs if not b.hard})
    if force and not hard:
        if not reason.strip():
            raise UsageError(
                "--force needs --reason: the event log keeps why a rule was overridden"
            )
        return soft
    lines = []
    for worker in workers:
        for breach in found.get(worker.id, []):
            who = f"{code_of(archive, worker.id) or worker.id} {worker.name}"
            lines.append(f"  {who}: {breach.render()}")
    if hard:
        hint = f"{', '.join(hard)} can never be overridden; choose another worker"
    else:
        hint = f'--force --reason "…" overrides {", ".join(soft)}'
    raise AssignmentRefused("cannot assign:\n" + "\n".join(lines), found, hint)


# --- service ----------------------------------------------------------------------------------


def start(
    archive: Archive,
    ref: str,
    at: dt.datetime | None = None,
    location: Location | None = None,
    note: str = "",
) -> Stepped[Order]:
    """已派工 → 服务中: the worker arrived and began, where the location says."""
    actor, when = archive.operator(), moment(archive, at)

    def change(order: Order) -> Order:
        return transition(order, "in_service", actor, when, note, location)

    return change_order(archive, ref, change)


def acceptance_items(archive: Archive, order: Order) -> list[str]:
    """The acceptance checklist (验收清单) of the order's services, each item once."""
    items = known_items(archive, order.services())
    return list(dict.fromkeys(c.item for item in items.values() for c in item.checklist))


def finish(
    archive: Archive,
    ref: str,
    checks: Sequence[Check] = (),
    *,
    all_ok: bool = False,
    at: dt.datetime | None = None,
    location: Location | None = None,
    note: str = "",
) -> Stepped[Order]:
    """服务中 → 服务完成 with the checklist results; ``all_ok`` passes every item not named."""
    actor, when = archive.operator(), moment(archive, at)

    def change(order: Order) -> Order:
        items = acceptance_items(archive, order)
        results = {}
        for check in checks:
            item = _checklist_item(check.item, items)
            if item in results:
                raise UsageError(f"checklist item given twice: {item}")
            results[item] = ChecklistResult(item=item, passed=check.passed, note=check.note)
        if all_ok:
            for item in items:
                results.setdefault(item, ChecklistResult(item=item, passed=True))
        ordered = [results[i] for i in items if i in results]
        ordered += [r for i, r in results.items() if i not in items]
        checked = with_changes(order, checklist=ordered) if ordered else order
        return transition(checked, "completed", actor, when, note, location)

    return change_order(archive, ref, change)


def _checklist_item(given: str, items: list[str]) -> str:
    """The item a check names: its number, its text, or a part of its text only it holds."""
    text = given.strip()
    if not items:
        return text
    listing = "; ".join(f"{n} {item}" for n, item in enumerate(items, 1))
    if text.isdigit():
        n = int(text)
        if 1 <= n <= len(items):
            return items[n - 1]
        raise UsageError(f"there is no checklist item {n}", hint=f"items: {listing}")
    if text in items:
        return text
    matches = [item for item in items if text in item]
    if len(matches) == 1:
        return matches[0]
    what = "several" if matches else "no"
    raise UsageError(f"'{text}' names {what} checklist items", hint=f"items: {listing}")
