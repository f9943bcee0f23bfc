"""The rules behind the order commands, one test per rule: who may be assigned (pure, on
models), how long a booking lasts, and what a package has left (on a real archive).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.domain.catalog import ServiceItem
from hk.domain.customer import Customer
from hk.domain.order.model import Order, Window
from hk.domain.order.steps import taken_event
from hk.domain.worker import Worker
from hk.errors import HkError
from hk.services.orders.rules import (
    HARD_RULES,
    Booking,
    assignment_breaches,
    default_quantity,
    service_days,
    standard_minutes,
)
from hk.store.archive import Archive
from tests.orders_support import DAY, Shop, make_shop, when

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
START = dt.datetime(2026, 3, 5, 9, 0, tzinfo=TZ)
ORDER_ID = "01JNZ8Q0000000000000000001"
OTHER_ID = "01JNZ8Q0000000000000000002"
CUSTOMER_ID = "01JNZ8Q00000000000000000K1"
WORKER_ID = "01JNZ8Q00000000000000000W1"


def item(code: str = "BJ-HOURLY", **changes: Any) -> ServiceItem:
    data = {
        "id": "01JNZ8Q00000000000000000S1",
        "created": T0,
        "updated": T0,
        "code": code,
        "name": "钟点工保洁",
        "category": "家庭保洁",
        "unit": "hour",
        "price_fen": 4500,
        "duration_minutes": 60,
        "required_skills": ["保洁"],
        **changes,
    }
    return ServiceItem.model_validate(data)


def order(hours: float = 3, **changes: Any) -> Order:
    end = START + dt.timedelta(hours=hours)
    return Order.model_validate(
        {
            "id": ORDER_ID,
            "created": T0,
            "updated": T0,
            "customer": CUSTOMER_ID,
            "address": {"city": "成都市", "district": "武侯区"},
            "window": {"start": START, "end": end},
            "lines": [
                {
                    "service": "BJ-HOURLY",
                    "quantity": 3,
                    "unit": "hour",
                    "unit_price_fen": 4500,
                    "gross_fen": 13500,
                    "amount_fen": 13500,
                }
            ],
            "total_fen": 13500,
            "channel": "phone",
            "events": [taken_event("前台", T0)],
            **changes,
        }
    )


def worker(**changes: Any) -> Worker:
    return Worker.model_validate(
        {
            "id": WORKER_ID,
            "created": T0,
            "updated": T0,
            "name": "王秀英",
            "gender": "女",
            "birth_year": 1980,
            "skills": [{"name": "保洁"}],
            "certificates": [{"kind": "健康证", "expires": dt.date(2026, 12, 31)}],
            **changes,
        }
    )


def customer(**changes: Any) -> Customer:
    return Customer.model_validate(
        {"id": CUSTOMER_ID, "created": T0, "updated": T0, "name": "张三", **changes}
    )


def rules(
    the_order: Order | None = None,
    the_worker: Worker | None = None,
    the_customer: Customer | None = None,
    bookings: list[Booking] | None = None,
) -> list[str]:
    found = assignment_breaches(
        the_order or order(),
        the_worker or worker(),
        the_customer or customer(),
        {"BJ-HOURLY": item()},
        bookings or [],
    )
    return [b.rule for b in found]


# --- assignment ------------------------------------------------------------------------------


def test_a_worker_who_meets_every_rule_breaks_none() -> None:
    assert (
        rules(
            order(
                requirements={
                    "certificates": ["健康证"],
                    "gender": "女",
                    "age_min": 40,
                    "age_max": 50,
                }
            )
        )
        == []
    )


def test_an_inactive_worker_a_blocked_one_and_a_double_booking_are_the_hard_rules() -> None:
    assert set(HARD_RULES) == {"inactive", "blocked", "double_booking"}
    booking = Booking(OTHER_ID, "D1", START + dt.timedelta(hours=1), START + dt.timedelta(hours=5))
    found = rules(
        the_worker=worker(status="inactive"),
        the_customer=customer(blocked_workers=[WORKER_ID]),
        bookings=[booking],
    )
    assert found == ["inactive", "blocked", "double_booking"]


def test_the_order_itself_is_no_double_booking() -> None:
    assert rules(bookings=[Booking(ORDER_ID, "D1", START, START + dt.timedelta(hours=3))]) == []


def test_bookings_that_only_touch_do_not_clash() -> None:
    before = Booking(OTHER_ID, "D1", START - dt.timedelta(hours=2), START)
    after = Booking(OTHER_ID, "D2", START + dt.timedelta(hours=3), START + dt.timedelta(hours=4))
    assert rules(bookings=[before, after]) == []


def test_skills_come_from_the_catalog_item_and_the_orders_requirements() -> None:
    assert rules(the_worker=worker(skills=[{"name": "育儿"}])) == ["skill"]
    found = assignment_breaches(
        order(requirements={"skills": ["烹饪", "育儿"]}),
        worker(),
        customer(),
        {"BJ-HOURLY": item()},
    )
    assert [b.message for b in found] == [
        "lacks the skill 烹饪, which the order's requirements needs",
        "lacks the skill 育儿, which the order's requirements needs",
    ]


def test_a_certificate_must_be_valid_on_every_day_of_the_booking() -> None:
    three_days = order(hours=50, requirements={"certificates": ["健康证"]})
    expiring = worker(certificates=[{"kind": "健康证", "expires": dt.date(2026, 3, 6)}])
    found = assignment_breaches(three_days, expiring, customer(), {})
    assert [b.message for b in found] == [
        "the 健康证 certificate is not valid on 2026-03-07 (it expires 2026-03-06)"
    ]
    not_yet = worker(certificates=[{"kind": "健康证", "issued": dt.date(2026, 3, 6)}])
    assert rules(order(requirements={"certificates": ["健康证"]}), not_yet) == ["certificate"]


def test_leave_on_any_day_of_the_booking_counts() -> None:
    on_leave = worker(leave=[{"start": dt.date(2026, 3, 7), "end": dt.date(2026, 3, 8)}])
    assert rules(order(hours=50), on_leave) == ["leave"]
    assert rules(order(), on_leave) == []


def test_weekly_hours_are_checked_for_a_booking_within_one_day() -> None:
    thursday = {"thu": ["08:00-12:00"]}
    assert rules(the_worker=worker(availability=thursday)) == []
    assert rules(order(hours=4), worker(availability=thursday)) == ["availability"]
    assert rules(the_worker=worker(availability={"mon": ["08:00-18:00"]})) == ["availability"]
    assert rules(order(hours=50), worker(availability=thursday)) == []
    assert rules(the_worker=worker(availability={})) == []


def test_gender_and_age_requirements() -> None:
    assert rules(order(requirements={"gender": "男"})) == ["gender"]
    assert rules(order(requirements={"age_max": 40})) == ["age"]
    assert rules(order(requirements={"age_min": 30}), worker(birth_year=None)) == ["age"]


def test_a_breach_renders_its_rule_in_english_and_chinese() -> None:
    found = assignment_breaches(order(), worker(status="inactive"), customer(), {})
    assert found[0].render().startswith("inactive (阿姨已停用): ")
    assert found[0].hard


# --- durations -------------------------------------------------------------------------------


def test_a_booking_ending_at_midnight_ends_the_day_before() -> None:
    window = Window(start=START, end=dt.datetime(2026, 3, 7, 0, 0, tzinfo=TZ))
    assert service_days(window) == [dt.date(2026, 3, 5), dt.date(2026, 3, 6)]


def test_the_catalog_duration_of_lines() -> None:
    hourly, visit = item(), item("JD-AC", unit="visit", duration_minutes=90)
    assert standard_minutes([(hourly, Decimal("2.5")), (visit, Decimal(2))]) == 330
    assert (
        standard_minutes([(item("BJ-DEEP", unit="m2", duration_minutes=None), Decimal(80))]) is None
    )
    assert (
        standard_minutes([(item("BM-DAY", unit="month", duration_minutes=None), Decimal(1))])
        is None
    )


def test_a_line_without_a_quantity_takes_the_booked_hours_or_one() -> None:
    assert default_quantity(item(), Decimal(4)) == 4
    assert default_quantity(item(), None) == 1
    assert default_quantity(item("JD-AC", unit="visit"), Decimal(4)) == 1
    with pytest.raises(HkError, match="give the area"):
        default_quantity(item("BJ-DEEP", unit="m2"), None)


# --- packages --------------------------------------------------------------------------------


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def packaged(shop: Shop, days: int) -> dict[str, Any]:
    code = shop.new("--service", "BJ-DAILY", "--start", when(days), "--package", "PKG-MONTH")
    return shop.show(code)


def test_a_package_covers_its_visits_and_then_charges(shop: Shop) -> None:
    covered = [packaged(shop, d) for d in (0, 7, 14, 21)]
    assert [o["total_fen"] for o in covered] == [0, 0, 0, 0]
    assert [o["lines"][0]["package_visits"] for o in covered] == [1, 1, 1, 1]
    out = shop.cli.ok(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-DAILY",
        "--start",
        when(28),
        "--package",
        "PKG-MONTH",
        "--channel",
        "phone",
    ).stdout
    assert "已用完，按价计费" in out and "¥131.10" in out


def test_a_cancelled_visit_goes_back_to_the_package(shop: Shop) -> None:
    first, second = packaged(shop, 0), packaged(shop, 7)
    packaged(shop, 14)
    packaged(shop, 21)
    shop.cli.ok("order", "cancel", second["code"], "--reason", "客户出差")
    assert packaged(shop, 28)["total_fen"] == 0
    assert first["package"] == "PKG-MONTH"


def test_an_order_after_the_package_period_starts_the_next_one(shop: Shop) -> None:
    for days in (0, 7, 14, 21):
        packaged(shop, days)
    later = shop.cli.ok(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-DAILY",
        "--start",
        when(31),
        "--package",
        "PKG-MONTH",
        "--channel",
        "phone",
    ).stdout
    assert f"有效期至{DAY + dt.timedelta(days=61)}" in later and "剩余3次" in later


def test_a_package_must_cover_a_service_of_the_order(shop: Shop) -> None:
    result = shop.cli(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "JD-AC",
        "--start",
        when(),
        "--package",
        "PKG-MONTH",
        "--channel",
        "phone",
    )
    assert result.exit_code == 1 and "covers none of these services" in result.output
    wrong = shop.cli(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "JD-AC",
        "--start",
        when(),
        "--package",
        "BJ-DAILY",
        "--channel",
        "phone",
    )
    assert wrong.exit_code == 1 and "is a service item, not a package" in wrong.output
