"""A customer's lifecycle stage (SPEC §3): one test per rule and boundary, then the service
over a real archive's index and ``hk customer list --stage``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from hk.domain.settings import Customers
from hk.domain.stage import Facts, StageRules, stage, usual_interval
from hk.services.people import add_customer
from hk.store.archive import Archive
from tests.orders_support import CUSTOMER, Shop, make_shop

TODAY = dt.date(2026, 6, 1)
RULES = StageRules(lapsed_days=90, at_risk_factor=1.5, at_risk_score=2, at_risk_score_days=90)


def ago(*days: int) -> list[dt.date]:
    return [TODAY - dt.timedelta(days=d) for d in days]


def of(**facts: Any) -> str:
    return stage(Facts(**facts), TODAY, RULES)


# --- the domain rule -----------------------------------------------------------------------------


def test_a_customer_without_orders_is_a_lead() -> None:
    assert of() == "lead"


def test_one_order_makes_a_new_customer() -> None:
    assert of(order_days=ago(10)) == "new"


def test_several_orders_on_one_day_are_still_a_first_order() -> None:
    assert of(order_days=ago(10, 10)) == "new"


def test_a_first_booking_still_to_come_makes_a_new_customer() -> None:
    assert of(order_days=[TODAY + dt.timedelta(days=5)]) == "new"


def test_ordering_within_the_usual_interval_is_active() -> None:
    assert of(order_days=ago(35, 21, 7)) == "active"


def test_overdue_by_exactly_the_factor_is_still_active() -> None:
    # usual interval 14 days; 1.5 × 14 = 21 days since the last order is the boundary
    assert of(order_days=ago(49, 35, 21)) == "active"


def test_overdue_by_more_than_the_factor_is_at_risk() -> None:
    assert of(order_days=ago(50, 36, 22)) == "at_risk"


def test_a_booking_ahead_keeps_an_overdue_customer_active() -> None:
    assert of(order_days=[*ago(50, 36, 22), TODAY + dt.timedelta(days=3)]) == "active"


def test_the_usual_interval_is_the_median_gap() -> None:
    assert usual_interval(ago(40, 30, 20, 0)) == 10
    assert usual_interval(ago(30, 20, 5, 0)) == 10
    assert usual_interval(ago(3)) is None


def test_an_open_complaint_puts_a_customer_at_risk() -> None:
    assert of(order_days=ago(35, 21, 7), open_complaints=1) == "at_risk"


def test_an_open_complaint_puts_a_new_customer_at_risk() -> None:
    assert of(order_days=ago(3), open_complaints=1) == "at_risk"


def test_a_recent_low_score_puts_a_customer_at_risk() -> None:
    assert of(order_days=ago(35, 21, 7), last_score=(ago(7)[0], 2)) == "at_risk"


def test_a_score_above_the_low_score_does_not() -> None:
    assert of(order_days=ago(35, 21, 7), last_score=(ago(7)[0], 3)) == "active"


def test_a_low_score_counts_for_its_days_and_no_longer() -> None:
    assert of(order_days=ago(35, 21, 7), last_score=(ago(90)[0], 1)) == "at_risk"
    assert of(order_days=ago(35, 21, 7), last_score=(ago(91)[0], 1)) == "active"


def test_no_order_for_the_lapsed_days_is_lapsed() -> None:
    assert of(order_days=ago(120, 90)) == "lapsed"
    assert of(order_days=ago(120, 89)) == "at_risk"


def test_a_new_customer_lapses_too() -> None:
    assert of(order_days=ago(90)) == "lapsed"
    assert of(order_days=ago(89)) == "new"


def test_lapsed_comes_before_an_open_complaint() -> None:
    assert of(order_days=ago(100), open_complaints=2) == "lapsed"


def test_a_lapsed_customer_who_orders_again_is_won_back() -> None:
    assert of(order_days=ago(200, 100, 2)) == "won_back"


def test_a_gap_just_short_of_the_lapse_is_not_a_win_back() -> None:
    assert of(order_days=ago(150, 91, 2)) == "active"


def test_a_lapsed_customer_who_books_again_is_won_back_from_the_booking() -> None:
    assert of(order_days=[*ago(150), TODAY + dt.timedelta(days=4)]) == "won_back"


def test_a_won_back_customer_who_orders_again_is_active() -> None:
    assert of(order_days=ago(200, 100, 20, 2)) == "active"


def test_a_running_contract_makes_a_customer_active() -> None:
    running = [(TODAY - dt.timedelta(days=200), TODAY + dt.timedelta(days=30))]
    assert of(contracts=running) == "active"
    assert of(order_days=ago(300), contracts=running, open_complaints=1) == "active"


def test_a_contract_counts_on_its_first_and_last_day_only_while_it_runs() -> None:
    assert of(contracts=[(TODAY, TODAY + dt.timedelta(days=30))]) == "active"
    assert of(contracts=[(TODAY - dt.timedelta(days=30), TODAY)]) == "active"
    assert of(order_days=ago(120), contracts=[(ago(400)[0], ago(1)[0])]) == "lapsed"
    assert of(contracts=[(TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=30))]) == "lead"


def test_the_rules_come_from_the_settings() -> None:
    rules = StageRules.of(
        Customers.model_validate(
            {"lapsed_days": 30, "at_risk_factor": 2, "at_risk_score": 3, "at_risk_score_days": 10}
        )
    )
    assert rules == StageRules(30, 2.0, 3, 10)
    assert stage(Facts(order_days=ago(30)), TODAY, rules) == "lapsed"
    assert stage(Facts(order_days=ago(29)), TODAY, rules) == "new"
    assert stage(Facts(order_days=ago(29, 25, 20)), TODAY, rules) == "at_risk"


def test_the_default_rules_are_those_of_the_spec() -> None:
    assert StageRules.of(Customers()) == RULES


# --- over a real archive -------------------------------------------------------------------------


@pytest.fixture
def shop(archive: Archive, archive_path: Any) -> Shop:
    return make_shop(archive, archive_path)


def test_stages_come_from_the_index(shop: Shop) -> None:
    from hk.services.stages import stage_of, stages

    lead, _ = add_customer(shop.archive, {**CUSTOMER, "name": "李四", "phones": ["13900139000"]})
    shop.new()
    found = stages(shop.archive)
    assert found[shop.customer_id] == "new"
    assert found[lead.id] == "lead"
    assert stage_of(shop.archive, lead.id) == "lead"


def test_a_cancelled_order_is_not_an_order(shop: Shop) -> None:
    from hk.services.stages import stage_of

    code = shop.new()
    shop.cli.ok("order", "cancel", code, "--reason", "客户改期")
    assert stage_of(shop.archive, shop.customer_id) == "lead"


def test_the_stages_follow_a_change_to_the_archive(shop: Shop) -> None:
    from hk.services.stages import stage_of

    assert stage_of(shop.archive, shop.customer_id) == "lead"
    shop.new()
    assert stage_of(shop.archive, shop.customer_id) == "new"


def test_customer_list_by_stage(shop: Shop) -> None:
    add_customer(shop.archive, {**CUSTOMER, "name": "李四", "phones": ["13900139000"]})
    shop.new()
    cli = shop.cli
    leads = cli.json("customer", "list", "--stage", "lead")
    assert [(c["name"], c["stage"]) for c in leads] == [("李四", "lead")]
    new = cli.ok("customer", "list", "--stage", "新客户").stdout
    assert "张三" in new and "李四" not in new
    assert cli.ok("customer", "list", "--stage", "lapsed").stdout == ""
    everyone = {c["name"]: c["stage"] for c in cli.json("customer", "list")}
    assert everyone == {"张三": "new", "李四": "lead"}


def test_customer_list_refuses_an_unknown_stage(shop: Shop) -> None:
    result = shop.cli("customer", "list", "--stage", "vip")
    assert result.exit_code == 2
    assert "'vip' is not a stage" in result.output and "at_risk (有流失风险)" in result.output


def test_customer_show_names_the_stage(shop: Shop) -> None:
    shop.new()
    cli = shop.cli
    assert cli.json("customer", "show", shop.customer)["stage"] == "new"
    shown = cli.ok("customer", "show", shop.customer).stdout
    assert any(line.split() == ["阶段", "新客户"] for line in shown.splitlines())
    assert json.loads(cli.ok("show", shop.customer, "--json").stdout).get("stage") is None


# --- in the TUI ----------------------------------------------------------------------------------


def test_the_customers_list_filters_by_stage(tmp_path: Any) -> None:
    import asyncio

    from textual.widgets import Select

    from hk.tui.screens.customers import CustomersScreen
    from hk.tui.widgets.results import ResultTable
    from tests.test_tui import rows
    from tests.test_tui_snapshots import app_on, build_office, settle

    root = build_office(tmp_path / "office")
    add_customer(Archive(root), {**CUSTOMER, "name": "赵六", "phones": ["13700137000"]})
    app = app_on(root)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("f3")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CustomersScreen)
            stage = screen.query_one("#filter-stage", Select)
            labels = [str(prompt) for prompt, _ in stage._options[1:]]
            assert labels == ["潜在客户", "新客户", "活跃", "有流失风险", "已流失", "已挽回"]
            table = screen.query_one("#results", ResultTable)
            stage.value = "lead"
            await settle(pilot)
            assert [r.split()[1] for r in rows(table)] == ["赵六"]
            stage.value = "new"
            await settle(pilot)
            assert sorted(r.split()[1] for r in rows(table)) == ["周敏", "张三", "李四"]
            await pilot.press("z")
            await settle(pilot)
            assert [r.split()[1] for r in rows(table)] == ["张三", "周敏"]
            stage.value = "lapsed"
            await settle(pilot)
            assert rows(table) == []

    asyncio.run(main())


def test_the_customer_page_shows_the_stage(tmp_path: Any) -> None:
    import asyncio

    from hk.tui.widgets.fields import FieldsPanel
    from tests.test_tui import shown
    from tests.test_tui_snapshots import ZHANG, app_on, build_office, settle

    app = app_on(build_office(tmp_path / "office"))

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.open_record("customer", ZHANG)
            await settle(pilot)
            assert "客户阶段  新客户" in shown(app.screen.query_one("#panel-basics", FieldsPanel))

    asyncio.run(main())


def test_an_open_complaint_lists_the_customer_at_risk(shop: Shop) -> None:
    order = shop.new()
    shop.cli.ok(
        "complaint", "open", "--order", order, "--category", "服务质量", "--text", "厨房油污没处理"
    )
    assert [c["name"] for c in shop.cli.json("customer", "list", "--stage", "at_risk")] == ["张三"]
    assert "有流失风险" in shop.cli.ok("customer", "show", shop.customer).stdout


def test_a_customer_back_after_the_lapse_is_won_back(shop: Shop) -> None:
    today = dt.date.today()
    for days in (200, 100):
        shop.new("--start", f"{today - dt.timedelta(days=days)} 09:00")
    assert shop.cli.json("customer", "show", shop.customer)["stage"] == "lapsed"
    shop.new()
    assert shop.cli.json("customer", "show", shop.customer)["stage"] == "won_back"
