"""Money on an order: payments and refunds, settling, and cancelling with its late fee.

Amounts are integer fen. A payment given without an amount is what is due for its kind (the
deposit outstanding, the balance, the cancellation fee, the refund owed), so an operator
settling an order rarely types a number. The order model itself refuses a payment that
would take more than the order costs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hk.domain.money import format_money
from hk.domain.order import steps as order_steps
from hk.domain.order.model import PAYMENT_KIND_ZH, PAYMENT_METHOD_ZH, Order
from hk.domain.order.status import ORDER, LifecycleError, allowed
from hk.domain.order.steps import transition
from hk.domain.pricing import CancellationFee, cancellation_fee
from hk.errors import HkError, UsageError
from hk.services.orders.steps import change_order, with_changes
from hk.services.records import Stepped, choice_of, moment
from hk.store.archive import Archive


@dataclass(frozen=True)
class PaymentIn:
    """A payment as an operator records it; no amount means "what is due" for its kind."""

    kind: str
    method: str
    amount_fen: int | None = None
    note: str = ""


def _payment(order: Order, given: PaymentIn, at: dt.datetime) -> dict[str, Any]:
    kind = choice_of(given.kind, PAYMENT_KIND_ZH, "a payment kind")
    method = choice_of(given.method, PAYMENT_METHOD_ZH, "a payment method")
    amount = given.amount_fen
    if amount is None:
        due = {
            "deposit": order.deposit_outstanding(),
            "final": order.balance_due(),
            "cancellation_fee": order.cancellation_fee_fen
            - sum(p.amount_fen for p in order.payments if p.kind == "cancellation_fee"),
            "refund": -order.balance_due(),
        }[kind]
        if due <= 0:
            raise HkError(
                f"no {kind} ({PAYMENT_KIND_ZH[kind]}) is due on this order",
                hint="give the amount if money changed hands anyway",
            )
        amount = due
    return {"kind": kind, "amount_fen": amount, "method": method, "at": at, "note": given.note}


def _paid(order: Order, payments: Sequence[PaymentIn], at: dt.datetime) -> Order:
    for given in payments:
        order = with_changes(order, payments=[*order.payments, _payment(order, given, at)])
    return order


def pay(
    archive: Archive, ref: str, payments: Sequence[PaymentIn], at: dt.datetime | None = None
) -> Stepped[Order]:
    """Record money received or refunded; a confirmed order whose deposit is now in goes on
    to 待派工."""
    if not payments:
        raise UsageError("no payment given", hint="--pay deposit:100:wechat")
    actor, when = archive.operator(), moment(archive, at)

    def change(order: Order) -> Order:
        before = order.deposit_outstanding()
        order = _paid(order, payments, when)
        if order.status == "confirmed" and before and order.deposit_outstanding() == 0:
            order = transition(order, "to_dispatch", actor, when, "定金已收")
        return order

    return change_order(archive, ref, change)


def settle(
    archive: Archive,
    ref: str,
    payments: Sequence[PaymentIn] = (),
    at: dt.datetime | None = None,
    note: str = "",
) -> Stepped[Order]:
    """服务完成 → 已结算, recording the payments first; refused while money is still due."""
    actor, when = archive.operator(), moment(archive, at)

    def change(order: Order) -> Order:
        if "settled" not in allowed(order.status):
            raise ORDER.refuse(order.status, "settled")
        order = _paid(order, payments, when)
        if order.balance_due() > 0:
            raise LifecycleError(
                f"{format_money(order.balance_due())} is still due; record the payment before "
                "settling",
                hint="--pay final:METHOD records what is due (wechat, cash …)",
            )
        return transition(order, "settled", actor, when, note)

    return change_order(archive, ref, change)


def cancel(
    archive: Archive,
    ref: str,
    reason: str,
    *,
    waive_fee: bool = False,
    at: dt.datetime | None = None,
) -> Stepped[Order]:
    """Cancel for ``reason``; a late cancellation costs the fee of ``[pricing]`` unless waived."""
    actor, when = archive.operator(), moment(archive, at)
    fees: list[CancellationFee] = []  # the fee as computed inside the change, for the caller

    def change(order: Order) -> Order:
        if "cancelled" not in allowed(order.status):
            raise ORDER.refuse(order.status, "cancelled")
        fee = cancellation_fee(order.total_fen, order.window.start - when, archive.settings)
        if waive_fee and fee.fee_fen:
            waived = f"晚于免费取消时限取消，违约金{format_money(fee.fee_fen)}已免除"
            fee = fee.model_copy(update={"fee_fen": 0, "notes": [waived]})
        fees.append(fee)
        text = reason.strip()
        if fee.late and text:
            text += "（" + "，".join(fee.notes) + "）"
        return order_steps.cancel(order, actor, when, text, fee.fee_fen)

    changed = change_order(archive, ref, change)
    changed.notes = list(fees[-1].notes)
    return changed
