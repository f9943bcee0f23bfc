"""Orders (SPEC §2) and their lifecycle (SPEC §3), in the domain alone: no archive, no clock.

One test per rule, named after the rule. Times are fixed (``at`` is always given), so every
run sees the same orders.
"""

from __future__ import annotations

import datetime as dt
import itertools
import marshal
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hk.domain.common import Address
from hk.domain.order.model import (
    CHANNEL_ZH,
    PAYMENT_KIND_ZH,
    PAYMENT_METHOD_ZH,
    Location,
    Order,
    OrderLine,
    Window,
)
from hk.domain.order.status import (
    STATUS_ZH,
    STATUSES,
    TRANSITIONS,
    IllegalTransition,
    LifecycleError,
    allowed,
    label,
)
from hk.domain.order.steps import cancel, late_cancellation_fee, rework, taken_event, transition
from hk.errors import EXIT_USER, HkError

TZ = ZoneInfo("Asia/Shanghai")
TAKEN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
START = dt.datetime(2026, 3, 5, 9, 0, tzinfo=TZ)
END = dt.datetime(2026, 3, 5, 12, 0, tzinfo=TZ)

ORDER_ID = "01JNZ8Q0000000000000000001"
REWORK_ID = "01JNZ8Q0000000000000000002"
CUSTOMER_ID = "01JNZ8Q00000000000000000K1"
WORKER_ID = "01JNZ8Q00000000000000000W1"
OTHER_WORKER = "01JNZ8Q00000000000000000W2"

MAIN_LINE = [
    "pending",
    "confirmed",
    "to_dispatch",
    "dispatched",
    "in_service",
    "completed",
    "settled",
]
BEFORE_COMPLETED = MAIN_LINE[:5]


def line(**changes: Any) -> dict[str, Any]:
    """Three hours of daily cleaning at ¥45 an hour."""
    return {
        "service": "BJ-DAILY",
        "name": "日常保洁",
        "quantity": 3,
        "unit": "hour",
        "unit_price_fen": 4500,
        "gross_fen": 13500,
        "amount_fen": 13500,
        **changes,
    }


def order_data(**changes: Any) -> dict[str, Any]:
    """A valid pending order: three hours of daily cleaning at ¥45 an hour, taken by phone."""
    return {
        "id": ORDER_ID,
        "created": TAKEN,
        "updated": TAKEN,
        "customer": CUSTOMER_ID,
        "address": {
            "city": "成都市",
            "district": "武侯区",
            "community": "万科城",
            "detail": "3栋2单元501",
        },
        "window": {"start": START, "end": END},
        "expected_minutes": 180,
        "lines": [line()],
        "total_fen": 13500,
        "channel": "phone",
        "events": [taken_event("前台小李", TAKEN)],
        **changes,
    }


def make(**changes: Any) -> Order:
    return Order.model_validate(order_data(**changes))


def changed(order: Order, **changes: Any) -> Order:
    """A copy with ``changes``, validated as a whole (what a command does before a transition)."""
    data = {name: getattr(order, name) for name in Order.model_fields}
    data.update(changes)
    return Order.model_validate(data)


def paid_in_full(order: Order, at: dt.datetime) -> Order:
    due = order.balance_due()
    if due <= 0:
        return order
    payment = {"kind": "final", "amount_fen": due, "method": "wechat", "at": at}
    return changed(order, payments=[*order.payments, payment])


def order_in(status: str, **changes: Any) -> Order:
    """An order walked from pending to ``status`` along the lifecycle, with a worker assigned."""
    order = make(workers=[WORKER_ID], **changes)
    at = TAKEN
    path = ["pending", "cancelled"] if status == "cancelled" else MAIN_LINE
    for target in path[1 : path.index(status) + 1]:
        at += dt.timedelta(hours=1)
        if target == "settled":
            order = paid_in_full(order, at)
        order = transition(
            order, target, "前台小李", at, note="客户取消" if target == "cancelled" else ""
        )
    return order


def after(order: Order, hours: int = 1) -> dt.datetime:
    return order.events[-1].at + dt.timedelta(hours=hours)


def pay(*payments: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"kind": k, "amount_fen": a, "method": "wechat", "at": TAKEN} for k, a in payments]


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return "\n".join(str(e["msg"]) for e in exc.value.errors())


# --- the table ----------------------------------------------------------------------------------

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
FORBIDDEN = [(a, b) for a, b in itertools.product(STATUSES, STATUSES) if (a, b) not in ALLOWED]


def test_the_lifecycle_is_the_one_of_the_spec() -> None:
    assert {s: allowed(s) for s in STATUSES} == {
        "pending": ["confirmed", "cancelled"],
        "confirmed": ["to_dispatch", "cancelled"],
        "to_dispatch": ["dispatched", "cancelled"],
        "dispatched": ["in_service", "cancelled"],
        "in_service": ["completed", "cancelled"],
        "completed": ["settled"],
        "settled": [],
        "cancelled": [],
    }


def test_statuses_channels_and_payments_have_chinese_labels() -> None:
    assert STATUS_ZH == {
        "pending": "待确认",
        "confirmed": "已确认",
        "to_dispatch": "待派工",
        "dispatched": "已派工",
        "in_service": "服务中",
        "completed": "服务完成",
        "settled": "已结算",
        "cancelled": "已取消",
    }
    assert label("to_dispatch") == "待派工 to_dispatch"
    assert set(CHANNEL_ZH) == {"phone", "wechat", "web", "walk_in", "platform"}
    assert set(PAYMENT_KIND_ZH) == {"deposit", "final", "refund", "cancellation_fee"}
    assert set(PAYMENT_METHOD_ZH) == {"cash", "wechat", "alipay", "bank", "card"}


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_each_allowed_transition_changes_the_status_and_appends_one_event(
    source: str, target: str
) -> None:
    order = paid_in_full(order_in(source), after(order_in(source)))
    at = after(order)
    moved = transition(order, target, "派单员老王", at, note="备注")
    assert moved.status == target
    assert moved.events[:-1] == order.events
    last = moved.events[-1]
    assert (last.from_status, last.to_status, last.actor, last.at, last.note) == (
        source,
        target,
        "派单员老王",
        at,
        "备注",
    )
    assert moved.updated == at


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_each_forbidden_transition_is_refused_naming_the_allowed_ones(
    source: str, target: str
) -> None:
    order = paid_in_full(order_in(source), after(order_in(source)))
    with pytest.raises(IllegalTransition) as exc:
        transition(order, target, "前台小李", after(order), note="原因")
    text = exc.value.message
    assert text.startswith(f"cannot go from {label(source)} to {label(target)}; allowed: ")
    assert all(label(option) in text for option in allowed(source))
    if not allowed(source):
        assert text.endswith(f"none, {label(source)} is final")
    assert exc.value.allowed == allowed(source)


def test_an_illegal_transition_names_the_states_in_chinese_and_english_and_exits_1() -> None:
    with pytest.raises(HkError) as exc:
        transition(make(), "in_service", "前台小李", after(make()))
    assert exc.value.message == (
        "cannot go from 待确认 pending to 服务中 in_service; "
        "allowed: 已确认 confirmed, 已取消 cancelled"
    )
    assert exc.value.exit_code == EXIT_USER == 1


def at_once(order: Order) -> dt.datetime:
    return order.events[-1].at


@pytest.mark.parametrize(
    ("attempt", "message"),
    [
        pytest.param(
            lambda: transition(make(), "finished", "前台小李", after(make())),
            "'finished' is not an order status; statuses: 待确认 pending, 已确认 confirmed",
            id="an unknown status is refused with the statuses listed",
        ),
        pytest.param(
            lambda: transition(
                changed(order_in("to_dispatch"), workers=[]),
                "dispatched",
                "派单员老王",
                after(order_in("to_dispatch")),
            ),
            "assign a worker before the order goes to 已派工 dispatched",
            id="dispatch needs a worker",
        ),
        pytest.param(
            lambda: transition(
                order_in("completed"), "settled", "财务小陈", after(order_in("completed"))
            ),
            "¥135.00 is still due",
            id="settling needs the balance paid",
        ),
        pytest.param(
            lambda: transition(make(), "cancelled", "前台小李", after(make()), note="  "),
            "a cancellation needs a reason",
            id="a cancellation needs a reason",
        ),
        pytest.param(
            lambda: cancel(make(), "前台小李", after(make()), reason="临时取消", fee_fen=13501),
            "between ¥0.00 and the order total (¥135.00), not ¥135.01",
            id="a cancellation fee is never above the total",
        ),
        pytest.param(
            lambda: transition(
                make(), "confirmed", "前台小李", at_once(make()) - dt.timedelta(minutes=1)
            ),
            "the log only grows",
            id="an event is never dated before the last one",
        ),
        pytest.param(
            lambda: transition(make(), "confirmed", "前台小李", dt.datetime(2026, 3, 3, 9)),
            "has no timezone",
            id="an event time has a timezone",
        ),
        pytest.param(
            lambda: transition(make(), "confirmed", " ", after(make())),
            "the actor is empty",
            id="an event names who did it",
        ),
    ],
)
def test_a_move_the_order_is_not_ready_for_is_refused_with_the_reason(
    attempt: Callable[[], Order], message: str
) -> None:
    with pytest.raises(LifecycleError) as exc:
        attempt()
    assert message in exc.value.message
    assert exc.value.exit_code == EXIT_USER


def test_an_event_at_the_same_moment_as_the_last_is_accepted() -> None:
    assert transition(make(), "confirmed", "前台小李", at_once(make())).status == "confirmed"


# --- cancelling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", BEFORE_COMPLETED)
def test_an_order_can_be_cancelled_from_every_state_before_completed(source: str) -> None:
    order = order_in(source)
    done = cancel(order, "前台小李", after(order), reason="客户临时有事")
    assert (done.status, done.events[-1].note) == ("cancelled", "客户临时有事")


@pytest.mark.parametrize("source", ["completed", "settled", "cancelled"])
def test_an_order_cannot_be_cancelled_once_completed(source: str) -> None:
    order = order_in(source)
    with pytest.raises(IllegalTransition):
        cancel(order, "前台小李", after(order), reason="客户反悔")


def test_a_cancellation_fee_is_what_a_cancelled_order_costs() -> None:
    order = cancel(make(), "前台小李", after(make()), reason="临时取消", fee_fen=3000)
    assert (order.cancellation_fee_fen, order.amount_due(), order.balance_due()) == (
        3000,
        3000,
        3000,
    )


def test_a_cancelled_prepaid_order_owes_the_customer_what_was_paid_beyond_the_fee() -> None:
    order = cancel(
        make(deposit_fen=8000, payments=pay(("deposit", 5000))),
        "前台小李",
        after(make()),
        reason="临时取消",
        fee_fen=2000,
    )
    assert (order.balance_due(), order.deposit_outstanding()) == (-3000, 0)
    refunded = changed(order, payments=pay(("deposit", 5000), ("refund", 3000)))
    assert refunded.balance_due() == 0


def test_cancellation_fee_payments_never_exceed_the_fee() -> None:
    order = cancel(make(), "前台小李", after(make()), reason="临时取消", fee_fen=2000)
    fee = {"kind": "cancellation_fee", "amount_fen": 2500, "method": "cash", "at": after(order)}
    with pytest.raises(ValidationError) as exc:
        changed(order, payments=[fee])
    assert "more than the fee" in messages(exc)


# --- the late-cancellation fee ------------------------------------------------------------------

NOTICE = dt.timedelta(hours=24)


@pytest.mark.parametrize(
    ("at", "fee"),
    [
        pytest.param(START - NOTICE, 0, id="exactly the notice period ahead is free"),
        pytest.param(START - NOTICE - dt.timedelta(seconds=1), 0, id="earlier is free"),
        pytest.param(
            START - NOTICE + dt.timedelta(seconds=1),
            5000,
            id="one second inside the notice period costs the fee",
        ),
        pytest.param(START + dt.timedelta(minutes=30), 5000, id="after the start is late"),
        pytest.param(
            (START - NOTICE).astimezone(dt.UTC),
            0,
            id="the notice is absolute time whatever the timezone",
        ),
    ],
)
def test_cancelling_late_costs_the_fee(at: dt.datetime, fee: int) -> None:
    assert make().is_late_cancellation(at, 24) is bool(fee)
    assert late_cancellation_fee(make(), at, hours=24, fee_fen=5000) == fee


def test_the_late_fee_is_never_more_than_the_order_total() -> None:
    assert late_cancellation_fee(make(), START, hours=24, fee_fen=20000) == 13500


# --- the event log -------------------------------------------------------------------------------


def test_a_transition_never_changes_the_order_it_was_given() -> None:
    order = order_in("to_dispatch")
    before = order.model_dump()
    moved = transition(order, "dispatched", "派单员老王", after(order))
    assert moved is not order
    assert order.model_dump() == before


def test_events_append_and_earlier_events_never_change() -> None:
    order = make(workers=[WORKER_ID])
    for target in MAIN_LINE[1:6]:
        moved = transition(order, target, "派单员老王", after(order))
        assert len(moved.events) == len(order.events) + 1
        assert moved.events[: len(order.events)] == order.events
        assert moved.keeps_history_of(order)
        order = moved
    with pytest.raises(ValidationError):
        order.events[0].note = "改写历史"  # type: ignore[misc]


def test_a_version_that_drops_or_rewrites_an_event_does_not_keep_the_history() -> None:
    order = order_in("dispatched")
    assert not changed(make(workers=[WORKER_ID]), status="pending").keeps_history_of(order)
    rewritten = [order.events[0].model_copy(update={"actor": "别人"}), *order.events[1:]]
    assert not changed(order, events=rewritten).keeps_history_of(order)


def test_an_event_records_who_when_a_note_and_where() -> None:
    order = order_in("dispatched")
    place = Location(text="万科城3栋门口", lat=30.6, lon=104.05)
    started = transition(order, "in_service", "王秀英", after(order), note="已到达", location=place)
    assert (started.events[-1].actor, started.events[-1].location) == ("王秀英", place)
    with pytest.raises(ValidationError, match="both lat and lon"):
        Location(lat=30.6)
    with pytest.raises(ValidationError, match="needs a text or coordinates"):
        Location()


def test_a_stored_log_never_skips_a_step_nor_goes_back_in_time() -> None:
    order = order_in("confirmed")
    skipped = order.events[-1].model_copy(update={"to_status": "dispatched"})
    with pytest.raises(ValidationError) as exc:
        changed(
            order, workers=[WORKER_ID], status="dispatched", events=[*order.events[:-1], skipped]
        )
    assert "which the lifecycle does not allow" in messages(exc)
    early = order.events[-1].model_copy(update={"at": TAKEN - dt.timedelta(days=1)})
    with pytest.raises(ValidationError) as exc:
        changed(order, events=[*order.events[:-1], early])
    assert "earlier than the event before it" in messages(exc)


# --- the rules of the record ---------------------------------------------------------------------

FEE = {"kind": "cancellation_fee", "amount_fen": 2000, "method": "cash", "at": TAKEN}
RATING = {
    "quality": 5,
    "attitude": 5,
    "hygiene": 4,
    "punctuality": 2,
    "overall": 4,
    "nps": 9,
    "comment": "干净，就是晚到了",
}
COVERED = line(
    quantity=1,
    unit="visit",
    unit_price_fen=13500,
    package_visits=1,
    covered_fen=13500,
    amount_fen=0,
)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"discount_fen": 1875},
            "less a discount of 1875 = 11625",
            id="the total is the lines less the discount",
        ),
        pytest.param(
            {"discount_fen": 14000, "total_fen": 0},
            "discount (14000 fen) is more than",
            id="a discount is never more than the lines",
        ),
        pytest.param(
            {"deposit_fen": 13600},
            "deposit (13600 fen) is more than the total",
            id="the deposit is never more than the total",
        ),
        pytest.param(
            {"payments": pay(("final", 0))}, "greater than 0", id="a payment is more than zero"
        ),
        pytest.param(
            {"payments": pay(("deposit", 5000), ("final", 9000))},
            "payments less refunds (14000 fen) are more than the total (13500)",
            id="payments less refunds never exceed the total",
        ),
        pytest.param(
            {"payments": pay(("deposit", 3000), ("refund", 3001))},
            "more than was received",
            id="refunds never exceed what was received",
        ),
        pytest.param(
            {"cancellation_fee_fen": 2000},
            "cancelled order only",
            id="a cancellation fee belongs to a cancelled order",
        ),
        pytest.param(
            {"payments": [FEE]},
            "cancelled order only",
            id="a cancellation fee payment belongs to a cancelled order",
        ),
        pytest.param(
            {"window": {"start": START, "end": START}},
            "ends before (or when) it starts",
            id="the window ends after it starts",
        ),
        pytest.param(
            {"window": {"start": START, "end": START - dt.timedelta(minutes=1)}},
            "ends before (or when) it starts",
            id="the window does not end before it starts",
        ),
        pytest.param(
            {"window": {"start": dt.datetime(2026, 3, 5, 9), "end": END}},
            "timezone",
            id="window times carry a timezone",
        ),
        pytest.param(
            {"lines": [], "total_fen": 0}, "at least 1 item", id="an order has at least one line"
        ),
        pytest.param(
            {"lines": [COVERED], "total_fen": 0},
            "names no package",
            id="a line covered by a package names the package",
        ),
        pytest.param(
            {"status": "confirmed"},
            "the event log ends at 待确认 pending",
            id="the status is where the event log ends",
        ),
        pytest.param(
            {"status": "confirmed", "events": []},
            "the event log ends at 待确认 pending",
            id="an order without events is pending",
        ),
        pytest.param(
            {
                "status": "confirmed",
                "events": [
                    taken_event("前台小李", TAKEN).model_copy(update={"to_status": "confirmed"})
                ],
            },
            "taken as pending",
            id="the log starts with the order taken as pending",
        ),
        pytest.param(
            {"rating": RATING},
            "once the service is done",
            id="a rating comes once the service is done",
        ),
        pytest.param(
            {"rework_of": ORDER_ID}, "rework of itself", id="an order is not a rework of itself"
        ),
        pytest.param({"contract": "not an id"}, "should match pattern", id="links are record ids"),
        pytest.param(
            {"requirements": {"age_min": 50, "age_max": 30}},
            "age_min is above age_max",
            id="the required age range is ordered",
        ),
        pytest.param(
            {"colour_of_door": "red"},
            "Extra inputs are not permitted",
            id="unknown keys are refused",
        ),
    ],
)
def test_an_order_breaking_a_rule_is_refused_with_the_rule_named(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        make(**changes)
    assert message in messages(exc)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"gross_fen": 13000, "amount_fen": 13000},
            "gross_fen is 13000 but 3 × 4500 fen is 13500",
            id="the gross is the charged quantity times the unit price",
        ),
        pytest.param(
            {"quantity": "2.5", "unit_price_fen": 4555, "gross_fen": 11438, "amount_fen": 11438},
            "gross_fen is 11438",
            id="the gross is at most one rounding away",
        ),
        pytest.param(
            {"discount_fen": 675},
            "less 0 covered and 675 discount is 12825",
            id="the amount is the gross less package cover and member discount",
        ),
        pytest.param(
            {"covered_fen": 13500, "amount_fen": 0},
            "package_visits is 0",
            id="package cover comes with package visits",
        ),
        pytest.param(
            {"charged_quantity": 2, "gross_fen": 9000, "amount_fen": 9000},
            "less than booked",
            id="the charged quantity is at least the booked one",
        ),
        pytest.param(
            {"quantity": "1.333", "gross_fen": 5999, "amount_fen": 5999},
            "2 decimal places",
            id="a quantity has at most two decimals",
        ),
        pytest.param({"quantity": 0}, "greater than 0", id="a quantity is more than zero"),
        pytest.param(
            {"quantity": "1.5", "unit": "visit", "gross_fen": 6750, "amount_fen": 6750},
            "visits are counted whole",
            id="visits days and months are counted whole",
        ),
        pytest.param(
            {"discount": 5},
            "Extra inputs are not permitted",
            id="unknown keys are refused in lines too",
        ),
    ],
)
def test_a_line_breaking_a_rule_is_refused_with_the_rule_named(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        make(lines=[line(**changes)], total_fen=changes.get("amount_fen", 13500))
    assert message in messages(exc)


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gross", [11388, 11390, 11400, 11338])
def test_a_line_gross_may_be_rounded_once_to_the_fen_jiao_or_yuan(gross: int) -> None:
    """2.5 hours at ¥45.55 is 11387.5 fen: 11388 to the fen, 11390 to the jiao, 11400 to
    the yuan; half a yuan either way is as far as a rounding goes."""
    assert OrderLine.model_validate(
        line(quantity="2.5", unit_price_fen=4555, gross_fen=gross, amount_fen=gross)
    )


def test_a_line_shows_its_minimum_charge_package_cover_and_member_discount() -> None:
    minimum = OrderLine.model_validate(
        line(quantity="1.5", charged_quantity=2, gross_fen=9000, discount_fen=450, amount_fen=8550)
    )
    assert (minimum.billed_quantity(), minimum.amount_fen) == (2, 8550)
    assert make(lines=[COVERED], total_fen=0, package="PKG-Q").total_fen == 0


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("2.50", "2.5"), ("3.0", "3"), (100, "100"), ("1E+2", "100"), (Decimal("0.25"), "0.25")],
)
def test_a_quantity_is_a_decimal_with_one_text_however_it_was_typed(
    typed: object, kept: str
) -> None:
    fen = int(Decimal(kept) * 100)
    quantity = OrderLine.model_validate(
        line(quantity=typed, unit="m2", unit_price_fen=100, gross_fen=fen, amount_fen=fen)
    ).quantity
    assert isinstance(quantity, Decimal)
    assert str(quantity) == kept


def test_several_lines_add_up_to_the_total_less_the_discount() -> None:
    lines = [
        line(),
        line(
            service="JD-AC",
            name="空调清洗",
            quantity=2,
            unit="visit",
            unit_price_fen=12000,
            gross_fen=24000,
            amount_fen=24000,
        ),
    ]
    order = make(lines=lines, discount_fen=1875, discount_note="优惠券", total_fen=35625)
    assert (order.subtotal_fen(), order.total_fen) == (37500, 35625)


def test_amount_paid_and_balance_due_are_derived_from_the_payments() -> None:
    order = make(deposit_fen=5000, payments=pay(("deposit", 3000)))
    assert (order.amount_paid(), order.balance_due(), order.deposit_outstanding()) == (
        3000,
        10500,
        2000,
    )
    assert "amount_paid" not in order.model_dump()
    refunded = make(payments=pay(("deposit", 5000), ("final", 9000), ("refund", 500)))
    assert (refunded.amount_paid(), refunded.balance_due()) == (13500, 0)


def test_duration_is_the_window_and_actual_duration_the_logged_service() -> None:
    order = order_in("dispatched")
    assert (order.duration(), order.actual_duration()) == (dt.timedelta(hours=3), None)
    began = transition(order, "in_service", "王秀英", START + dt.timedelta(minutes=5))
    done = transition(began, "completed", "王秀英", START + dt.timedelta(hours=3, minutes=5))
    assert done.actual_duration() == dt.timedelta(hours=3)


# --- the record ----------------------------------------------------------------------------------


def test_the_address_is_a_snapshot_not_the_customers_own() -> None:
    address = Address(city="成都市", community="万科城", detail="3栋2单元501")
    order = make(address=address)
    address.detail = "5栋1单元101"
    assert order.address.detail == "3栋2单元501"


def test_each_worker_is_assigned_once() -> None:
    assert make(workers=[WORKER_ID, OTHER_WORKER, WORKER_ID]).workers == [WORKER_ID, OTHER_WORKER]


def test_a_done_order_keeps_its_rating_and_checklist() -> None:
    results = [
        {"item": "厨房台面", "passed": True},
        {"item": "卫生间地面", "passed": False, "note": "有水渍"},
    ]
    order = changed(
        order_in("completed"),
        rating=RATING,
        checklist=results,
        requirements={"gender": "女", "age_min": 30, "age_max": 50, "certificates": ["健康证"]},
    )
    assert order.rating is not None
    assert order.rating.lowest() == 2
    assert order.checklist_passed() == (1, 2)
    with pytest.raises(ValidationError, match="listed twice"):
        changed(order, checklist=[*results, {"item": "厨房台面", "passed": False}])


@pytest.mark.parametrize("bad", [{"quality": 0}, {"overall": 6}, {"nps": 11}, {"nps": -1}])
def test_scores_are_1_to_5_and_nps_0_to_10(bad: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        changed(order_in("completed"), rating={**RATING, **bad})


def test_the_summary_lists_status_start_customer_workers_and_total() -> None:
    summary = make(workers=[WORKER_ID]).summary()
    assert summary == {
        "status": "pending",
        "start": "2026-03-05T09:00:00+08:00",
        "customer": CUSTOMER_ID,
        "workers": [WORKER_ID],
        "total_fen": 13500,
        "services": ["BJ-DAILY"],
        "channel": "phone",
    }
    assert marshal.loads(marshal.dumps(summary)) == summary


def test_the_index_finds_orders_by_service_and_community_and_filters_by_status() -> None:
    terms = make().index_terms()
    assert {"BJ-DAILY", "日常保洁", "万科城", "武侯区"} <= set(terms["terms"])
    assert (terms["tags"], terms["communities"], terms["category"]) == (
        ["BJ-DAILY"],
        ["万科城"],
        ["pending"],
    )
    assert make().title() == "2026-03-05 09:00 BJ-DAILY"


# --- rework ------------------------------------------------------------------------------------

REWORK_WINDOW = Window(start=START + dt.timedelta(days=2), end=END + dt.timedelta(days=2))


@pytest.mark.parametrize("source", ["completed", "settled"])
def test_a_rework_is_a_new_pending_order_linked_to_the_original(source: str) -> None:
    original = order_in(
        source, contract=REWORK_ID, package="PKG-Q", requirements={"skills": ["深度保洁"]}
    )
    redo = rework(
        original,
        order_id=REWORK_ID.replace("2", "3"),
        actor="客服小赵",
        at=after(original),
        window=REWORK_WINDOW,
        note="客户投诉厨房未清洁",
    )
    assert (redo.rework_of, redo.status) == (original.id, "pending")
    assert [(e.from_status, e.to_status, e.note) for e in redo.events] == [
        (None, "pending", "客户投诉厨房未清洁")
    ]
    for kept in ("customer", "address", "channel", "requirements", "contract"):
        assert getattr(redo, kept) == getattr(original, kept)
    assert (redo.package, redo.workers, redo.payments) == (None, [], [])
    assert [(item.service, item.amount_fen) for item in redo.lines] == [("BJ-DAILY", 0)]
    assert original.status == source


def test_a_rework_may_be_charged() -> None:
    deep = OrderLine.model_validate(
        line(service="BJ-DEEP", quantity=2, unit_price_fen=6000, gross_fen=12000, amount_fen=12000)
    )
    original = order_in("completed")
    redo = rework(
        original,
        order_id=REWORK_ID,
        actor="客服小赵",
        at=after(original),
        window=REWORK_WINDOW,
        lines=[deep],
    )
    assert redo.total_fen == 12000


@pytest.mark.parametrize("source", [*BEFORE_COMPLETED, "cancelled"])
def test_a_rework_is_only_of_a_completed_or_settled_order(source: str) -> None:
    with pytest.raises(LifecycleError, match="only a completed or settled order"):
        rework(
            order_in(source),
            order_id=REWORK_ID,
            actor="客服小赵",
            at=after(make()),
            window=REWORK_WINDOW,
        )


# --- any order, any sequence of attempts ---------------------------------------------------


@st.composite
def orders(draw: st.DrawFn) -> Order:
    """Valid pending orders of every shape: several priced lines, discounts, a prepayment.

    Built the way commands build them (prices that add up), since orders drawn field by field
    almost never add up; a round-trip test of the store can use it (walk it with
    :func:`transition` for the other states).
    """
    lines = []
    for n in range(draw(st.integers(1, 3))):
        unit = draw(st.sampled_from(["hour", "m2", "visit", "day", "month"]))
        places = 2 if unit in ("hour", "m2") else 0
        quantity = Decimal(draw(st.integers(1, 100_000 if places else 100))).scaleb(-places)
        price = draw(st.integers(0, 200_000))
        gross = int((quantity * price).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        discount = draw(st.integers(0, gross))
        lines.append(
            line(
                service=f"SVC-{n}",
                name=draw(st.sampled_from(["", "日常保洁"])),
                quantity=str(quantity),
                unit=unit,
                unit_price_fen=price,
                gross_fen=gross,
                discount_fen=discount,
                amount_fen=gross - discount,
            )
        )
    subtotal = sum(item["amount_fen"] for item in lines)
    discount = draw(st.integers(0, subtotal))
    total = subtotal - discount
    start = draw(
        st.datetimes(
            min_value=dt.datetime(2024, 1, 1),
            max_value=dt.datetime(2030, 1, 1),
            timezones=st.just(TZ),
        )
    )
    paid, deposit = draw(st.integers(0, total)), draw(st.integers(0, total))
    return make(
        lines=lines,
        discount_fen=discount,
        total_fen=total,
        deposit_fen=deposit,
        window={"start": start, "end": start + dt.timedelta(minutes=draw(st.integers(30, 600)))},
        channel=draw(st.sampled_from(sorted(CHANNEL_ZH))),
        workers=[WORKER_ID],
        payments=pay(("deposit", paid)) if paid else [],
        notes=draw(st.sampled_from(["", "有猫，进门换鞋\n钥匙在物业"])),
    )


@settings(max_examples=80, deadline=None)
@given(orders(), st.lists(st.sampled_from(STATUSES), max_size=12))
def test_any_sequence_of_attempted_transitions_keeps_the_log_consistent_with_the_status(
    order: Order, targets: list[str]
) -> None:
    """Attempts in any order: the allowed ones move the order, the others change nothing; the
    result still reads back from JSON to the same order and the same text."""
    moves, at = 0, TAKEN
    for target in targets:
        at += dt.timedelta(minutes=30)
        if target == "settled":
            order = paid_in_full(order, at)
        before = order
        if target in allowed(order.status):
            order = transition(order, target, "前台小李", at, note="原因")
            moves += 1
        else:
            with pytest.raises(IllegalTransition):
                transition(order, target, "前台小李", at, note="原因")
            assert order == before
        assert order.keeps_history_of(before)
    assert len(order.events) == moves + 1
    assert order.events[-1].to_status == order.status
    for earlier, later in itertools.pairwise(order.events):
        assert later.from_status == earlier.to_status
        assert later.to_status in TRANSITIONS[earlier.to_status]
    text = order.model_dump_json()
    assert Order.model_validate_json(text) == order
    assert Order.model_validate_json(text).model_dump_json() == text
