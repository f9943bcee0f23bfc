"""Pricing rules (issue 3, item 2), one test per rule, on the catalog every archive starts with."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hk.domain.base import now
from hk.domain.catalog import Package, ServiceItem
from hk.domain.ids import new_id
from hk.domain.pricing import (
    LineRequest,
    PackageBalance,
    PriceBreakdown,
    cancellation_fee,
    price_line,
    price_lines,
)
from hk.domain.settings import Pricing, Settings
from hk.errors import HkError, InvalidData
from hk.store.archive import Archive

DAY = dt.date(2025, 3, 4)


def _catalog() -> dict[str, Any]:
    data = yaml.safe_load(resources.files("hk.data").joinpath("catalog.yaml").read_text("utf-8"))
    stamp = now()
    found: dict[str, Any] = {}
    for model, key in ((ServiceItem, "services"), (Package, "packages")):
        for entry in data[key]:
            found[entry["code"]] = model.model_validate(
                {"id": new_id(), "created": stamp, "updated": stamp, **entry}
            )
    return found


CATALOG = _catalog()


def item(code: str, **changes: Any) -> ServiceItem:
    found = CATALOG[code]
    assert isinstance(found, ServiceItem)
    return found.model_copy(update=changes)


def package(code: str) -> Package:
    found = CATALOG[code]
    assert isinstance(found, Package)
    return found


def config(**pricing: Any) -> Settings:
    """Settings as hk.toml would give them, with these ``[pricing]`` values."""
    return Settings.model_validate({"archive_id": "test", "pricing": pricing})


DEFAULTS = config()


def refused(call: Any, *args: Any, **kwargs: Any) -> HkError:
    with pytest.raises(HkError) as caught:
        call(*args, **kwargs)
    assert caught.value.exit_code == 1
    return caught.value


# --- units ----------------------------------------------------------------------------------------


def test_an_hourly_service_is_priced_per_hour() -> None:
    line = price_line(item("BJ-HOURLY"), 3, DEFAULTS)
    assert (line.unit, line.unit_price_fen, line.gross_fen, line.net_fen) == (
        "hour",
        4500,
        13500,
        13500,
    )


def test_hours_may_be_fractional() -> None:
    assert price_line(item("BJ-HOURLY"), "2.5", DEFAULTS).net_fen == 11250


def test_a_visit_service_is_priced_per_visit() -> None:
    assert price_line(item("BJ-DAILY"), 4, DEFAULTS).net_fen == 4 * 13800


def test_a_day_service_is_priced_per_day() -> None:
    line = price_line(item("YS-26"), 26, DEFAULTS)
    assert (line.unit, line.net_fen) == ("day", 26 * 52000)


def test_a_month_service_is_priced_per_month() -> None:
    line = price_line(item("BM-LIVEIN"), 3, DEFAULTS)
    assert (line.unit, line.net_fen) == ("month", 3 * 680000)


def test_an_area_service_is_priced_per_square_metre() -> None:
    line = price_line(item("BJ-DEEP"), Decimal("85.5"), DEFAULTS)
    assert (line.unit, line.net_fen) == ("m2", 68400)


@pytest.mark.parametrize("code", ["BJ-DAILY", "YS-26", "BM-LIVEIN"])
def test_visits_days_and_months_are_whole_numbers(code: str) -> None:
    assert "whole number" in refused(price_line, item(code), "1.5", DEFAULTS).message


# --- minimum quantity -----------------------------------------------------------------------------


def test_the_hourly_minimum_is_charged_with_a_note() -> None:
    line = price_line(item("BJ-HOURLY"), "1.5", DEFAULTS)
    assert (line.quantity, line.charged_quantity, line.minimum) == (Decimal("1.5"), 2, 2)
    assert line.net_fen == 9000
    assert line.notes == ["钟点工保洁2小时起，按2小时计费（预约1.5小时）"]


def test_booking_at_least_the_minimum_charges_what_is_booked() -> None:
    line = price_line(item("BJ-HOURLY"), 3, DEFAULTS)
    assert line.charged_quantity == 3 and line.notes == []


def test_a_minimum_by_code_or_category_beats_the_hourly_minimum() -> None:
    by_category = config(minimum={"企业客户": 4})
    assert price_line(item("QY-RECEP"), 2, by_category).charged_quantity == 4
    by_code = config(minimum={"BJ-DEEP": 60, "家庭保洁": 30})
    line = price_line(item("BJ-DEEP"), 45, by_code)
    assert (line.charged_quantity, line.net_fen) == (60, 60 * 800)
    assert line.notes == ["深度保洁60平方米起，按60平方米计费（预约45平方米）"]


def test_a_zero_minimum_charges_what_is_booked() -> None:
    assert price_line(item("BJ-HOURLY"), 1, config(min_hours=0)).net_fen == 4500


# --- tiers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "percent", "net", "notes"),
    [
        ("白银", 0, 13500, []),
        ("黄金", 5, 12825, ["黄金会员优惠5%：钟点工保洁减¥6.75"]),
        ("铂金", 10, 12150, ["铂金会员优惠10%：钟点工保洁减¥13.50"]),
    ],
)
def test_each_tier_gives_its_discount(tier: str, percent: int, net: int, notes: list[str]) -> None:
    line = price_line(item("BJ-HOURLY"), 3, DEFAULTS, tier)
    assert (line.discount_percent, line.discount_fen, line.net_fen) == (percent, 13500 - net, net)
    assert line.gross_fen - line.discount_fen == line.net_fen
    assert line.notes == notes


def test_a_customer_without_a_tier_pays_the_catalog_price() -> None:
    assert price_line(item("BJ-HOURLY"), 3, DEFAULTS, None).discount_fen == 0


def test_an_unknown_tier_is_refused() -> None:
    error = refused(price_line, item("BJ-HOURLY"), 3, DEFAULTS, "钻石")
    assert error.hint is not None and "白银" in error.hint


def test_items_without_member_discount_are_charged_in_full() -> None:
    exempt = config(no_tier_discount=["保姆", "YS-26"])
    for code in ("BM-LIVEIN", "YS-26"):
        line = price_line(item(code), 1, exempt, "铂金")
        assert line.discount_fen == 0 and line.net_fen == line.gross_fen
        assert line.notes[0] == f"{line.name}不参与会员折扣"
    assert price_line(item("BJ-DAILY"), 1, exempt, "铂金").discount_fen == 1380


def test_an_agreed_unit_price_replaces_the_catalog_price_with_a_note() -> None:
    line = price_line(item("BJ-DAILY"), 2, DEFAULTS, unit_price_fen=12000)
    assert (line.list_price_fen, line.unit_price_fen, line.net_fen) == (13800, 12000, 24000)
    assert line.notes == ["日常保洁（3小时）单价按约定¥120.00/次（标准价¥138.00）"]


# --- rounding ------------------------------------------------------------------------------------


def test_half_a_fen_rounds_up() -> None:
    line = price_line(item("BJ-HOURLY", price_fen=4501), "2.5", DEFAULTS)
    assert line.gross_fen == 11253  # 11252.5


def test_a_discount_is_rounded_once_per_line() -> None:
    # 4500 × 2.1 = 9450; 95% of it is 8977.5
    line = price_line(item("BJ-HOURLY"), "2.1", DEFAULTS, "黄金")
    assert (line.gross_fen, line.discount_fen, line.net_fen) == (9450, 472, 8978)


def test_rounding_to_the_yuan_when_settings_say_so() -> None:
    yuan = config(rounding="yuan")
    line = price_line(item("BJ-HOURLY", price_fen=4501), "2.5", yuan, "黄金")
    assert (line.gross_fen, line.net_fen) == (11300, 10700)  # 112.525 → 113, 106.90 → 107
    breakdown = price_lines([(item("BJ-HOURLY", price_fen=4501), "2.5")], yuan)
    assert "各行金额四舍五入到元，合计为各行之和" in breakdown.notes


def test_exact_amounts_need_no_rounding_note() -> None:
    assert price_lines([(item("BJ-DAILY"), 1)], DEFAULTS).notes == []


# --- packages ------------------------------------------------------------------------------------


def test_a_new_package_holds_every_visit_until_its_last_valid_day() -> None:
    balance = PackageBalance.new(package("PKG-MONTH"), dt.date(2025, 1, 1))
    assert balance.visits_left == {"BJ-DAILY": 4}
    assert balance.valid_until == dt.date(2025, 1, 31)
    breakdown = price_lines(
        [(item("BJ-DAILY"), 1)], DEFAULTS, package=balance, on=balance.valid_until
    )
    assert breakdown.total_fen == 0


def test_a_package_covers_some_visits_and_not_others() -> None:
    balance = PackageBalance(
        package="PKG-MONTH", visits_left={"BJ-DAILY": 2}, valid_until=dt.date(2025, 3, 31)
    )
    breakdown = price_lines(
        [(item("BJ-DAILY"), 3), (item("JD-AC"), 1)], DEFAULTS, "黄金", balance, on=DAY
    )
    daily, aircon = breakdown.lines
    assert (daily.package_visits, daily.covered_fen) == (2, 27600)
    assert (daily.discount_fen, daily.net_fen) == (690, 13110)  # the third visit, 5% off
    assert aircon.package_visits == 0 and aircon.net_fen == 11400
    assert breakdown.total_fen == 13110 + 11400
    assert breakdown.package is not None
    assert breakdown.package.consumed == {"BJ-DAILY": 2}
    assert breakdown.package.remaining == {"BJ-DAILY": 0}
    assert breakdown.package.covered_fen == 27600
    assert breakdown.package.balance().visits_left == {"BJ-DAILY": 0}
    assert "套餐PKG-MONTH抵扣日常保洁（3小时）2次，其余1次按价计费（该项剩余0次）" in daily.notes
    assert "套餐PKG-MONTH的日常保洁（3小时）已用完，可提醒客户续购" in breakdown.notes


def test_lines_take_package_visits_in_order() -> None:
    balance = PackageBalance.new(package("PKG-MONTH"), DAY)
    breakdown = price_lines(
        [(item("BJ-DAILY"), 3), (item("BJ-DAILY"), 3)], DEFAULTS, package=balance, on=DAY
    )
    assert [line.package_visits for line in breakdown.lines] == [3, 1]
    assert breakdown.total_fen == 2 * 13800
    assert "套餐PKG-MONTH的日常保洁（3小时）已用完，可提醒客户续购" in breakdown.notes


def test_a_package_visit_covers_a_service_priced_by_area_whole() -> None:
    balance = PackageBalance.new(package("PKG-YEAR"), DAY)
    breakdown = price_lines([(item("BJ-DEEP"), 120)], DEFAULTS, package=balance, on=DAY)
    assert breakdown.lines[0].covered_fen == 96000 and breakdown.total_fen == 0
    assert breakdown.package is not None and breakdown.package.remaining["BJ-DEEP"] == 0


def test_a_used_up_package_service_is_charged_with_a_note() -> None:
    balance = PackageBalance(
        package="PKG-MONTH", visits_left={"BJ-DAILY": 0}, valid_until=dt.date(2025, 3, 31)
    )
    line = price_lines([(item("BJ-DAILY"), 1)], DEFAULTS, package=balance, on=DAY).lines[0]
    assert line.net_fen == 13800
    assert line.notes == ["套餐PKG-MONTH中的日常保洁（3小时）已用完，按价计费"]


def test_few_visits_left_say_so_for_a_reminder() -> None:
    balance = PackageBalance.new(package("PKG-MONTH"), DAY)
    breakdown = price_lines([(item("BJ-DAILY"), 2)], DEFAULTS, package=balance, on=DAY)
    assert "套餐PKG-MONTH的日常保洁（3小时）仅剩2次，可提醒客户续购" in breakdown.notes


def test_an_expired_package_is_refused() -> None:
    balance = PackageBalance(
        package="PKG-MONTH", visits_left={"BJ-DAILY": 4}, valid_until=dt.date(2025, 3, 3)
    )
    error = refused(price_lines, [(item("BJ-DAILY"), 1)], DEFAULTS, package=balance, on=DAY)
    assert "expired on 2025-03-03" in error.message


# --- deposits ------------------------------------------------------------------------------------


def test_a_placement_priced_per_month_takes_one_months_fee_as_deposit() -> None:
    breakdown = price_lines([(item("BM-LIVEIN"), 12)], DEFAULTS, "黄金")
    assert breakdown.deposit_fen == 646000  # one month, 5% off
    assert breakdown.balance_fen == breakdown.total_fen - 646000
    assert "住家保姆定金按1个月服务费收取：¥6,460.00" in breakdown.notes


def test_a_maternity_nurse_takes_a_percentage_as_deposit() -> None:
    breakdown = price_lines([(item("YS-26"), 26)], DEFAULTS)
    assert breakdown.deposit_fen == 270400  # 20% of 26 × 520 yuan


def test_hourly_cleaning_takes_no_deposit() -> None:
    breakdown = price_lines([(item("BJ-HOURLY"), 3), (item("BJ-DAILY"), 1)], DEFAULTS)
    assert breakdown.deposit_fen == 0 and breakdown.balance_fen == breakdown.total_fen


def test_the_first_matching_deposit_rule_decides() -> None:
    rules = config(
        deposits=[{"service": "LR-CARE"}, {"unit": "month", "months": 1}, {"fixed_fen": 10000}]
    )
    breakdown = price_lines([(item("LR-CARE"), 6), (item("BM-DAY"), 6), (item("JD-AC"), 1)], rules)
    assert [line.deposit_fen for line in breakdown.lines] == [0, 520000, 10000]


def test_a_fixed_deposit_never_exceeds_the_line() -> None:
    line = price_line(item("BJ-HOURLY"), 2, config(deposits=[{"fixed_fen": 50000}]))
    assert line.deposit_fen == line.net_fen == 9000


def test_the_deposit_cap_holds_the_deposit_to_its_share_of_the_total() -> None:
    breakdown = price_lines([(item("BM-LIVEIN"), 1)], config(deposit_cap_percent=20))
    assert breakdown.deposit_fen == 136000
    assert "定金不超过总额的20%，由¥6,800.00调整为¥1,360.00" in breakdown.notes


def test_a_deposit_in_months_for_an_item_not_priced_per_month_is_refused() -> None:
    rules = config(deposits=[{"category": "月嫂", "months": 1}])
    error = refused(price_line, item("YS-26"), 26, rules)
    assert error.hint is not None and "[[pricing.deposits]]" in error.hint


def test_a_deposit_rule_takes_one_amount() -> None:
    with pytest.raises(ValueError, match="one of months, percent or fixed_fen"):
        config(deposits=[{"months": 1, "percent": 20}])


# --- impossible input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quantity", [0, -1, "0", "-2.5", Decimal("NaN"), "两小时", "1e9", "2.333", "10001"]
)
def test_a_quantity_that_no_order_holds_is_refused(quantity: Any) -> None:
    refused(price_line, item("BJ-HOURLY"), quantity, DEFAULTS)


def test_a_float_quantity_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        price_line(item("BJ-HOURLY"), 2.5, DEFAULTS)  # type: ignore[arg-type]


def test_an_inactive_item_is_refused() -> None:
    error = refused(price_line, item("ZN-SETUP", active=False), 1, DEFAULTS)
    assert "inactive" in error.message


def test_a_unit_mismatch_is_refused() -> None:
    error = refused(price_lines, [LineRequest(item("BJ-DEEP"), 3, unit="visit")], DEFAULTS)
    assert "priced per 平方米 (m2), not per 次 (visit)" in error.message


def test_nothing_to_price_is_refused() -> None:
    refused(price_lines, [], DEFAULTS)


# --- late cancellation ---------------------------------------------------------------------------


def test_cancelling_early_enough_costs_nothing() -> None:
    fee = cancellation_fee(13800, dt.timedelta(hours=24), DEFAULTS)
    assert (fee.fee_fen, fee.late) == (0, False)


def test_cancelling_late_costs_the_fee_or_the_percentage_if_more() -> None:
    assert cancellation_fee(13800, dt.timedelta(hours=3), DEFAULTS).fee_fen == 5000
    share = config(late_cancel_percent=50)
    fee = cancellation_fee(13800, dt.timedelta(hours=3), share)
    assert fee.fee_fen == 6900 and fee.notes == ["服务开始前不足24小时取消，收取违约金¥69.00"]
    assert cancellation_fee(3000, dt.timedelta(0), DEFAULTS).fee_fen == 3000  # never above it


# --- the sum of the lines ------------------------------------------------------------------------

SERVICES = [code for code, found in CATALOG.items() if isinstance(found, ServiceItem)]


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[LineRequest], Settings, str | None, PackageBalance]:
    lines = []
    for code in draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=6)):
        chosen = item(code, price_fen=draw(st.integers(0, 2_000_000)))
        if chosen.unit in ("hour", "m2"):
            quantity = Decimal(draw(st.integers(1, 50_000))) / 100
        else:
            quantity = Decimal(draw(st.integers(1, 60)))
        lines.append(LineRequest(chosen, quantity))
    rules = draw(
        st.sampled_from(
            [[], [{"unit": "month", "months": 2}, {"percent": 30}], [{"fixed_fen": 9999}]]
        )
    )
    pricing = {
        "rounding": draw(st.sampled_from(["fen", "jiao", "yuan"])),
        "deposit_cap_percent": draw(st.integers(0, 100)),
        "deposits": rules,
    }
    tier = draw(st.sampled_from([None, "白银", "黄金", "铂金"]))
    left = {code: draw(st.integers(0, 5)) for code in ("BJ-DAILY", "BJ-DEEP", "JD-AC")}
    balance = PackageBalance(package="PKG-YEAR", visits_left=left, valid_until=DAY)
    return lines, config(**pricing), tier, balance


@given(orders())
@settings(max_examples=150, deadline=None)
def test_the_total_is_the_sum_of_the_lines_for_any_input(
    order: tuple[list[LineRequest], Settings, str | None, PackageBalance],
) -> None:
    lines, rules, tier, balance = order
    breakdown = price_lines(lines, rules, tier, balance, on=DAY)
    assert breakdown.total_fen == sum(line.net_fen for line in breakdown.lines)
    assert breakdown.subtotal_fen == sum(line.gross_fen for line in breakdown.lines)
    assert (
        breakdown.subtotal_fen - breakdown.covered_fen - breakdown.discount_fen
        == breakdown.total_fen
    )
    quantum = {"fen": 1, "jiao": 10, "yuan": 100}[rules.pricing.rounding]
    for line in breakdown.lines:
        assert line.gross_fen - line.covered_fen - line.discount_fen == line.net_fen
        assert min(line.covered_fen, line.discount_fen, line.net_fen) >= 0
        assert line.net_fen % quantum == 0 and line.deposit_fen <= line.net_fen
    assert 0 <= breakdown.deposit_fen <= breakdown.total_fen
    assert breakdown.balance_fen == breakdown.total_fen - breakdown.deposit_fen
    assert breakdown.package is not None
    for code, used in breakdown.package.consumed.items():
        assert breakdown.package.remaining[code] == balance.visits_left[code] - used >= 0


def test_a_breakdown_copies_through_json_unchanged() -> None:
    balance = PackageBalance.new(package("PKG-QUARTER"), DAY)
    breakdown = price_lines(
        [(item("BJ-DAILY"), 2), (item("BJ-HOURLY"), "1.5")], DEFAULTS, "铂金", balance, on=DAY
    )
    assert PriceBreakdown.model_validate_json(breakdown.model_dump_json()) == breakdown


# --- settings ------------------------------------------------------------------------------------


def test_settings_without_a_pricing_section_load_with_defaults(archive: Archive) -> None:
    path = archive.root / "hk.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("# How orders and quotes are priced")], encoding="utf-8")
    assert "pricing" not in tomllib.loads(path.read_text(encoding="utf-8"))
    assert Archive(archive.root).settings.pricing == Pricing()


def test_hk_init_writes_an_hk_toml_whose_pricing_validates(archive: Archive) -> None:
    assert archive.settings.pricing == Pricing()
    assert [
        (r.unit, r.category, r.months, r.percent) for r in archive.settings.pricing.deposits
    ] == [("month", "", 1, 0), (None, "月嫂", 0, 20)]


def test_a_typo_in_the_pricing_section_is_refused(archive_path: Path) -> None:
    path = archive_path / "hk.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("min_hours =", "min_hour ="), encoding="utf-8"
    )
    with pytest.raises(InvalidData) as caught:
        _ = Archive(archive_path).settings
    assert any(p.field and "min_hour" in p.field for p in caught.value.problems)
