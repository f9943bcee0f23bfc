"""The points ledger (积分), SPEC §2 and §4: earned per completed and rated order, redeemable,
expiring after ``[points] expire_months`` oldest first, capped per year; the balance derived."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from rich.cells import cell_len

from hk.domain.points import (
    Move,
    PointsEntry,
    add_months,
    capped,
    earned_in_year,
    order_points,
    standing,
)
from hk.services import points
from hk.store.archive import Archive
from tests.orders_support import TZ, Shop, make_shop, when

SCORES = [
    "--quality",
    "5",
    "--attitude",
    "5",
    "--hygiene",
    "5",
    "--punctuality",
    "5",
    "--overall",
    "5",
]


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day} {time}").replace(tzinfo=TZ)


def move(n: int, kind: str, pts: int, day: str) -> Move:
    return Move(f"{n:026d}", kind, pts, at(day))


# --- the rules ----------------------------------------------------------------------------------


def test_an_order_earns_one_point_per_ten_yuan_floored() -> None:
    assert order_points(12_999, 10) == 12
    assert order_points(999, 10) == 0
    assert order_points(100_000, 20) == 50
    assert order_points(0, 10) == 0


def test_the_yearly_cap_limits_what_is_earned_in_a_calendar_year() -> None:
    assert capped(300, earned_this_year=4_800, yearly_cap=5_000) == 200
    assert capped(300, earned_this_year=5_000, yearly_cap=5_000) == 0
    assert capped(300, earned_this_year=9_000, yearly_cap=0) == 300  # 0: no cap
    moves = [
        move(1, "earn", 40, "2025-12-31"),
        move(2, "earn", 30, "2026-01-01"),
        move(3, "adjust", 500, "2026-02-01"),
    ]
    assert earned_in_year(moves, 2026) == 30


def test_points_expire_on_the_same_day_months_later() -> None:
    moves = [move(1, "earn", 100, "2025-03-15")]
    assert standing(moves, dt.date(2026, 3, 14), 12).balance == 100
    gone = standing(moves, dt.date(2026, 3, 15), 12)
    assert (gone.balance, gone.expired, gone.unwritten) == (0, 100, 100)
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)


def test_redemptions_use_the_oldest_points_first() -> None:
    moves = [
        move(1, "earn", 100, "2025-01-10"),
        move(2, "earn", 50, "2025-06-01"),
        move(3, "redeem", -120, "2025-12-01"),
    ]
    assert standing(moves, dt.date(2025, 12, 1), 12).balance == 30
    after_first = standing(moves, dt.date(2026, 1, 10), 12)
    assert (after_first.balance, after_first.expired) == (30, 0)  # the first lot was used up
    after_second = standing(moves, dt.date(2026, 6, 1), 12)
    assert (after_second.balance, after_second.expired) == (0, 30)


def test_points_expiring_within_thirty_days_are_named() -> None:
    moves = [move(1, "earn", 100, "2025-01-10"), move(2, "earn", 50, "2025-03-01")]
    now = standing(moves, dt.date(2025, 12, 20), 12)
    assert [(lot.expires, lot.left) for lot in now.expiring()] == [(dt.date(2026, 1, 10), 100)]
    assert now.expiring_points() == 100 and now.balance == 150


def test_an_expire_entry_writes_expiry_down_once() -> None:
    moves = [move(1, "earn", 100, "2025-01-10"), move(2, "redeem", -30, "2025-02-01")]
    before = standing(moves, dt.date(2026, 2, 1), 12)
    assert (before.balance, before.unwritten) == (0, 70)
    written = [*moves, move(3, "expire", -70, "2026-02-01")]
    after = standing(written, dt.date(2026, 3, 1), 12)
    assert (after.balance, after.expired, after.unwritten) == (0, 70, 0)


def test_a_balance_on_a_day_counts_only_the_entries_up_to_it() -> None:
    moves = [move(1, "earn", 100, "2025-01-10"), move(2, "redeem", -30, "2025-02-01")]
    assert standing(moves, dt.date(2025, 1, 31), 12).balance == 100
    assert standing(moves, dt.date(2025, 2, 1), 12).balance == 70


@pytest.mark.parametrize(
    ("kind", "pts", "extra", "message"),
    [
        ("earn", -5, {"order": "01KA0000000000000000000000"}, "earn points are positive"),
        ("earn", 5, {}, "name the order"),
        ("redeem", 5, {"reason": "券"}, "redeem points are negative"),
        ("adjust", 5, {}, "needs a reason"),
        ("adjust", 0, {"reason": "x"}, "0 points"),
    ],
)
def test_an_entry_with_the_wrong_sign_or_no_reason_is_refused(
    kind: str, pts: int, extra: dict[str, Any], message: str
) -> None:
    when = at("2026-01-01")
    with pytest.raises(ValidationError, match=message):
        PointsEntry.model_validate(
            {
                "id": "01KA0000000000000000000001",
                "created": when,
                "updated": when,
                "customer": "01KA0000000000000000000002",
                "type": kind,
                "points": pts,
                "at": when,
                **extra,
            }
        )


# --- the service, on real archives --------------------------------------------------------------


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def completed(shop: Shop, *args: str) -> str:
    code = shop.dispatched(*args)
    shop.cli.ok("order", "start", code)
    shop.cli.ok("order", "finish", code, "--all-ok")
    return code


def head_files(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(root), "show", "--name-only", "--format=", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line.split("/")[0] for line in out.split())


def test_rating_a_completed_order_earns_its_points_in_the_same_commit(shop: Shop) -> None:
    code = completed(shop)
    shop.cli.ok("order", "rate", code, *SCORES)
    assert head_files(shop.archive.root) == ["orders", "points", "surveys"]
    order = shop.show(code)
    data = shop.cli.json("points", "show", shop.customer)
    expected = order["total_fen"] // 1000
    assert expected > 0 and data["balance"] == expected
    [entry] = data["entries"]
    assert (entry["type"], entry["points"], entry["order"]) == ("earn", expected, order["id"])
    assert entry["reason"] == f"订单 {code} 完成并评价"


def test_an_order_earns_once(shop: Shop) -> None:
    code = completed(shop)
    unrated = shop.cli("points", "earn", code)
    assert unrated.exit_code == 1 and "not rated yet" in unrated.output
    shop.cli.ok("order", "rate", code, *SCORES)
    again = shop.cli("points", "earn", code)
    assert again.exit_code == 1 and "earned" in again.output and "already" in again.output
    assert len(shop.cli.json("points", "show", shop.customer)["entries"]) == 1


def test_an_order_rated_without_points_earns_them_by_hand(shop: Shop) -> None:
    code = completed(shop)
    shop.cli.ok("order", "rate", code, *SCORES)
    root = shop.archive.root
    subprocess.run(["git", "-C", str(root), "rm", "-q", "-r", "points"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "drop points"], check=True)
    assert shop.cli.json("points", "show", shop.customer)["balance"] == 0
    out = shop.cli.ok("points", "earn", code).stdout
    balance = shop.cli.json("points", "show", shop.customer)["balance"]
    assert balance > 0 and out.endswith(f"earned +{balance}; balance {balance}\n")


def test_an_order_not_done_earns_nothing(shop: Shop) -> None:
    code = shop.dispatched()
    refused = shop.cli("points", "earn", code)
    assert refused.exit_code == 1 and "once the service is done" in refused.output


def test_the_yearly_cap_holds_back_what_is_over_it(shop: Shop) -> None:
    settings = shop.archive.root / "hk.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("yearly_cap = 5000", "yearly_cap = 5"),
        encoding="utf-8",
    )
    code = completed(shop)
    shop.cli.ok("order", "rate", code, *SCORES)
    [entry] = shop.cli.json("points", "show", shop.customer)["entries"]
    assert entry["points"] == 5 and "年度上限 5" in entry["reason"]
    second = completed(shop, "--start", when(1))
    shop.cli.ok("order", "rate", second, *SCORES)
    assert len(shop.cli.json("points", "show", shop.customer)["entries"]) == 1


def test_an_earning_that_another_took_the_cap_from_meanwhile_is_refused(shop: Shop) -> None:
    """Two orders of a customer earning at once: the second to reach the lock sees the cap."""
    from hk.errors import ConflictError
    from hk.services.orders.steps import load_order

    settings = shop.archive.root / "hk.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("yearly_cap = 5000", "yearly_cap = 5"),
        encoding="utf-8",
    )
    first, second = completed(shop), completed(shop, "--start", when(1))
    for code in (first, second):
        shop.cli.ok("order", "rate", code, *SCORES)
    root = shop.archive.root
    subprocess.run(["git", "-C", str(root), "rm", "-q", "-r", "points"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "drop points"], check=True)
    archive = Archive(root)
    order, _ = load_order(archive, first)
    now = dt.datetime.now(dt.UTC)
    entry = points.earn_entry(archive, order, now)
    assert entry is not None and entry.points == 5
    points.earn(archive, second)  # the other order reaches the lock first
    with pytest.raises(ConflictError):
        points.still_earns(archive, order, now, entry.points)


def test_redeeming_more_than_the_balance_is_refused(shop: Shop) -> None:
    shop.cli.ok("points", "adjust", shop.customer, "100", "--reason", "开业赠送")
    too_much = shop.cli("points", "redeem", shop.customer, "101", "--for", "优惠券")
    assert too_much.exit_code == 1 and "the balance is 100 points" in too_much.output
    out = shop.cli.ok("points", "redeem", shop.customer, "60", "--for", "50元优惠券").stdout
    assert out.startswith("points J") and out.endswith("redeemed -60; balance 40\n")
    below = shop.cli("points", "adjust", shop.customer, "-41", "--reason", "录入错误")
    assert below.exit_code == 1 and "cannot take 41" in below.output
    shop.cli.ok("points", "adjust", shop.customer, "-40", "--reason", "录入错误")
    assert shop.cli.json("points", "show", shop.customer)["balance"] == 0


def test_an_adjustment_needs_a_reason_and_a_redemption_what_for(shop: Shop) -> None:
    assert shop.cli("points", "adjust", shop.customer, "10").exit_code == 2
    blank = shop.cli("points", "adjust", shop.customer, "10", "--reason", " ")
    assert blank.exit_code == 2 and "needs a reason" in blank.output
    assert shop.cli("points", "redeem", shop.customer, "10").exit_code == 2
    zero = shop.cli("points", "redeem", shop.customer, "0", "--for", "券")
    assert zero.exit_code == 2


def test_expire_writes_what_expired_once(shop: Shop) -> None:
    now = dt.datetime.now(TZ).replace(microsecond=0)
    points.adjust(shop.archive, shop.customer, 80, "老积分", at=now - dt.timedelta(days=400))
    points.adjust(shop.archive, shop.customer, 30, "新积分", at=now - dt.timedelta(days=10))
    assert shop.cli.json("points", "show", shop.customer)["balance"] == 30
    out = shop.cli.ok("points", "expire").stdout
    assert out.endswith(f"customer {shop.customer} -80 expired\n")
    assert shop.cli.ok("points", "expire").stdout == "nothing expired\n"
    data = shop.cli.json("points", "show", shop.customer)
    assert (data["balance"], data["expired"], data["unwritten"]) == (30, 80, 0)
    assert [e["type"] for e in data["entries"]] == ["expire", "adjust", "adjust"]


def test_expire_on_a_past_day_writes_only_what_had_expired_by_then(shop: Shop) -> None:
    points.adjust(shop.archive, shop.customer, 50, "一", at=at("2024-01-05"))
    points.adjust(shop.archive, shop.customer, 20, "二", at=at("2024-06-05"))
    assert shop.cli.json("points", "expire", "--date", "2025-02-01")[0]["points"] == -50
    assert shop.cli.json("points", "expire", "--date", "2025-02-01") == []
    assert shop.cli.json("points", "expire", "--date", "2025-07-01")[0]["points"] == -20


def test_show_lists_the_ledger_newest_first_in_aligned_columns(shop: Shop) -> None:
    shop.cli.ok(
        "points", "adjust", shop.customer, "100", "--reason", "开业赠送", "--at", "2026-01-02 10:00"
    )
    shop.cli.ok(
        "points", "redeem", shop.customer, "30", "--for", "优先派工", "--at", "2026-01-03 11:00"
    )
    lines = shop.cli.ok("points", "show", shop.customer, "--on", "2026-01-05").stdout.splitlines()
    assert lines[0] == f"积分 {shop.customer} 张三"
    assert lines[1] == "余额 balance: 70  （截至 2026-01-05）"
    head, first, second = lines[3:6]
    assert head.split() == ["编号", "时间", "类型", "积分", "说明", "经办"]
    assert first.split()[1:5] == ["2026-01-03", "11:00", "兑换", "-30"]
    assert second.split()[1:5] == ["2026-01-02", "10:00", "调整", "+100"]
    column = {
        cell_len(line[: line.index(word)])
        for line, word in ((head, "积分"), (first, "-30"), (second, "+100"))
    }
    assert len(column) == 1  # measured in terminal cells: Chinese takes two
    unknown = shop.cli("points", "show", "K0000")
    assert unknown.exit_code == 1 and "no customer" in unknown.output


# --- the customer page ---------------------------------------------------------------------------


def test_the_customer_page_shows_the_balance_and_the_latest_entries(shop: Shop) -> None:
    from hk.tui.app import make_app
    from hk.tui.widgets.fields import FieldsPanel
    from tests.test_tui import shown
    from tests.test_tui_snapshots import settle

    today = dt.datetime.now(TZ).date()
    points.adjust(
        shop.archive,
        shop.customer,
        120,
        "开业赠送",
        at=dt.datetime.combine(add_months(today, -12) + dt.timedelta(days=10), dt.time(9), TZ),
    )
    points.redeem(shop.archive, shop.customer, 20, "50元优惠券")
    app = make_app(shop.archive.root, today=today, refresh_seconds=600)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.open_record("customer", shop.customer_id)
            await settle(pilot)
            text = shown(app.screen.query_one("#panel-points", FieldsPanel))
            assert "余额" in text and "100 分" in text
            assert "30 天内到期" in text and "100 分" in text
            assert "兑换 -20  50元优惠券" in text and "调整 +120  开业赠送" in text

    asyncio.run(main())
