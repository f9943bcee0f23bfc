"""Switching the TUI's language live (F10, or "language" in the command palette): every page,
its title, columns and footer keys in the other language, without a restart, and back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from hk.tui.app import HkApp
from hk.tui.screens.customer import CustomerScreen
from hk.tui.screens.customers import CustomersScreen
from hk.tui.screens.dashboard import DashboardScreen
from hk.tui.widgets.fields import FieldsPanel
from hk.tui.widgets.results import ResultTable
from tests.test_tui_snapshots import ZHANG, app_on, build_office, settle


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import isolated_home

    with isolated_home(tmp_path_factory, "tui-language"):
        return build_office(tmp_path_factory.mktemp("office") / "archive")


def run(root: Path, scenario: Any) -> None:
    app = app_on(root)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


def footer_words(app: HkApp) -> set[str]:
    return {
        active.binding.description
        for active in app.screen.active_bindings.values()
        if active.binding.show
    }


def columns(table: ResultTable) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


async def switch(pilot: Pilot[Any]) -> None:
    await pilot.press("f10")
    await settle(pilot)


def test_f10_switches_the_dashboard_and_the_customers_list_to_english_and_back(
    office: Path,
) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one("#today", FieldsPanel).border_title.startswith("今天 ")
        await switch(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert app.texts.language == "en"
        assert (app.title, screen.sub_title) == ("hk housekeeping CRM", "Dashboard")
        assert screen.query_one("#today", FieldsPanel).border_title.startswith("Today ")
        assert {"Customers", "Workers", "Help"} <= footer_words(app)
        assert "Time" in columns(screen.query_one("#upcoming", ResultTable))

        await pilot.press("f3")
        await settle(pilot)
        customers = app.screen
        assert isinstance(customers, CustomersScreen)
        assert customers.sub_title == "Customers"
        assert columns(customers.query_one("#results", ResultTable))[:2] == ["Code", "Name"]
        assert customers.query_one("#search", Input).placeholder.startswith("name/pinyin")
        stage = customers.query_one("#filter-stage", Select)
        assert [str(p) for p, _ in stage._options[1:3]] == ["Lead", "New"]
        assert len(customers.query_one("#results", ResultTable).rows) == 3

        await switch(pilot)
        customers = app.screen
        assert isinstance(customers, CustomersScreen)
        assert (app.title, customers.sub_title) == ("hk 家政客户管理", "客户")
        assert columns(customers.query_one("#results", ResultTable))[:2] == ["编号", "姓名"]
        assert {"客户", "阿姨", "帮助"} <= footer_words(app)
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen.query_one("#today", FieldsPanel).border_title.startswith("今天 ")

    run(office, scenario)


def test_a_customer_page_open_over_the_list_is_reopened_in_the_new_language(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        app.open_record("customer", ZHANG)
        await settle(pilot)
        await switch(pilot)
        page = app.screen
        assert isinstance(page, CustomerScreen) and page.record_id == ZHANG
        assert page.sub_title == "Customer"
        assert page.query_one("#panel-basics", FieldsPanel).border_title == "Basics"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.screen.sub_title == "Customers"
        await switch(pilot)

    run(office, scenario)


def test_the_language_is_a_command_of_the_palette(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"language")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.texts.language == "en"
        assert app.screen.query_one("#today", FieldsPanel).border_title.startswith("Today ")

    run(office, scenario)


def test_an_open_form_holds_the_switch_and_keeps_what_was_typed(office: Path) -> None:
    """The typed input of a form is never dropped by a rebuild of the pages."""
    from hk.tui.screens.forms import FormScreen

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form in app.forms_open
        await pilot.press(*"王五")
        await switch(pilot)
        assert app.texts.language == "zh_CN"
        assert app.screen is form and "王五" in form.values().values()

    run(office, scenario)


def test_the_language_and_theme_chosen_are_there_at_the_next_start(office: Path) -> None:
    """Kept in the operator's own hk.local.toml, under [tui], with what was there before."""
    from hk.tui.app import make_app

    local = office / "hk.local.toml"
    local.write_text(
        '# mine\noperator = "小王"\n\n[tui.keys]\ncustomers = "f3"\n', encoding="utf-8"
    )
    try:

        async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
            await switch(pilot)
            await pilot.press("f9")
            await settle(pilot)

        run(office, scenario)
        text = local.read_text(encoding="utf-8")
        assert text.startswith('# mine\noperator = "小王"\n') and 'customers = "f3"' in text
        later = make_app(office)
        assert later.texts.language == "en"
        assert later.settings.theme == "light"
    finally:
        local.unlink()
