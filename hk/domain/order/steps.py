"""Moving an order along its lifecycle, and the rules each move must meet (SPEC §3).

Every function here is pure: it takes the order and the time (``at``) and returns a new order;
nothing reads the clock, so the same call always gives the same result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hk.domain.money import format_money
from hk.domain.order.model import Location, Order, OrderEvent, OrderLine, Window
from hk.domain.order.status import (
    NEEDS_A_WORKER,
    ORDER,
    REWORKABLE,
    LifecycleError,
    OrderStatus,
    label,
)


def transition(
    order: Order,
    to: str,
    actor: str,
    at: dt.datetime,
    note: str = "",
    location: Location | None = None,
) -> Order:
    """A new order in state ``to`` with one event appended; ``order`` itself is left as it was.

    Refuses (:class:`IllegalTransition`) a move the table does not allow, and
    (:class:`LifecycleError`) one the order is not ready for: dispatching without a worker,
    settling with money still due, cancelling without a reason, an event dated before the last.
    """
    return _move(order, ORDER.known(to), actor, at, note, location, {})


def cancel(
    order: Order,
    actor: str,
    at: dt.datetime,
    reason: str,
    fee_fen: int = 0,
    location: Location | None = None,
) -> Order:
    """Cancel ``order`` for ``reason``, charging ``fee_fen`` (see :func:`late_cancellation_fee`).

    The reason is the note of the cancel event; the fee is kept on the order, and what was paid
    beyond it becomes a refund owed (a negative balance due).
    """
    if fee_fen < 0 or fee_fen > order.total_fen:
        raise LifecycleError(
            f"a cancellation fee is between ¥0.00 and the order total "
            f"({format_money(order.total_fen)}), not {format_money(fee_fen)}"
        )
    return _move(order, "cancelled", actor, at, reason, location, {"cancellation_fee_fen": fee_fen})


def late_cancellation_fee(order: Order, at: dt.datetime, hours: float, fee_fen: int) -> int:
    """The fee for cancelling ``order`` at ``at`` under the rule "``hours`` ahead is free".

    ``fee_fen`` when the appointment starts less than ``hours`` after ``at`` (or has started),
    0 when it is ``hours`` or more away; never more than the order total.
    """
    if not order.is_late_cancellation(at, hours):
        return 0
    return max(0, min(fee_fen, order.total_fen))


def _move(
    order: Order,
    target: OrderStatus,
    actor: str,
    at: dt.datetime,
    note: str,
    location: Location | None,
    changes: dict[str, Any],
) -> Order:
    ORDER.check(order.status, target)
    _check_ready(order, target, note)
    event = _event(order, actor, at, order.status, target, note, location)
    data = {name: getattr(order, name) for name in type(order).model_fields}
    data.update(changes, status=target, updated=at, events=[*order.events, event])
    return type(order).model_validate(data)


def _check_ready(order: Order, target: OrderStatus, note: str) -> None:
    if target == "cancelled" and not note.strip():
        raise LifecycleError("a cancellation needs a reason")
    if target in NEEDS_A_WORKER and not order.workers:
        raise LifecycleError(f"assign a worker before the order goes to {label(target)}")
    if target == "settled" and order.balance_due() != 0:
        raise LifecycleError(
            f"{format_money(order.balance_due())} is still due; record the payment before settling"
        )


def _event(
    order: Order | None,
    actor: str,
    at: dt.datetime,
    source: OrderStatus | None,
    target: OrderStatus,
    note: str,
    location: Location | None,
) -> OrderEvent:
    if not actor.strip():
        raise LifecycleError("every event names who did it; the actor is empty")
    if at.tzinfo is None or at.utcoffset() is None:
        raise LifecycleError(f"the time {at:%Y-%m-%d %H:%M} has no timezone")
    if order is not None and order.events and at < order.events[-1].at:
        last = order.events[-1].at
        raise LifecycleError(
            f"the time {at.isoformat()} is before the last event ({last.isoformat()}); "
            "the log only grows"
        )
    return OrderEvent(
        at=at, actor=actor, from_status=source, to_status=target, note=note, location=location
    )


def taken_event(actor: str, at: dt.datetime, note: str = "") -> OrderEvent:
    """The first event of a new order: taken by ``actor`` at ``at``, as pending."""
    return _event(None, actor, at, None, "pending", note, None)


def rework(
    original: Order,
    *,
    order_id: str,
    actor: str,
    at: dt.datetime,
    window: Window,
    note: str = "",
    lines: list[OrderLine] | None = None,
) -> Order:
    """A new pending order (返工) that redoes ``original``, linked to it by ``rework_of``.

    Same customer, address, requirements, channel and contract; no workers yet (dispatch picks
    again), no package visit consumed, no deposit. The lines are the original's at no charge
    unless ``lines`` says otherwise: a rework is normally on the company.
    """
    if original.status not in REWORKABLE:
        raise LifecycleError(
            "only a completed or settled order can be reworked; this one is "
            f"{label(original.status)}"
        )
    if lines is None:
        free = {
            "unit_price_fen": 0,
            "gross_fen": 0,
            "package_visits": 0,
            "covered_fen": 0,
            "discount_fen": 0,
            "amount_fen": 0,
        }
        lines = [line.model_copy(update=free) for line in original.lines]
    return type(original).model_validate(
        {
            "id": order_id,
            "created": at,
            "updated": at,
            "customer": original.customer,
            "address": original.address,
            "window": window,
            "expected_minutes": original.expected_minutes,
            "lines": lines,
            "total_fen": sum(line.amount_fen for line in lines),
            "channel": original.channel,
            "requirements": original.requirements.model_copy(deep=True),
            "contract": original.contract,
            "rework_of": original.id,
            "events": [taken_event(actor, at, note)],
        }
    )
