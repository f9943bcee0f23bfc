"""The office TUI driven by Textual's Pilot, on real archives (git, SQLite, files).

Each test names the rule it checks: search as you type, the customer's page, reveal needs the
key, the keyboard reaches everything, changes made outside appear, keys rebind from settings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent

from hk.domain.customer import Customer
from hk.services.audit import Filter, entries
from hk.services.people import add_customer, edit
from hk.services.records import load
from hk.store.archive import Archive
from hk.tui.app import HkApp, make_app
from hk.tui.data.lists import Filters, search
from hk.tui.i18n import EN, ZH
from hk.tui.screens.customer import CustomerScreen
from hk.tui.screens.customers import CustomersScreen
from hk.tui.screens.dashboard import DashboardScreen
from hk.tui.screens.help import HelpScreen
from hk.tui.screens.worker import WorkerScreen
from hk.tui.screens.workers import WorkersScreen
from hk.tui.widgets.fields import FieldsPanel
from hk.tui.widgets.results import ResultTable
from tests.conftest import Hk
from tests.test_tui_snapshots import LI, TODAY, WANG, ZHANG, build_office, settle

Scenario = Callable[[HkApp, Pilot[Any]], Awaitable[None]]


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A fresh copy of the snapshot office: these tests change it."""
    return build_office(tmp_path / "office")


def drive(
    root: Path, scenario: Scenario, *, size: tuple[int, int] = (120, 40), **options: Any
) -> None:
    """Run ``scenario`` against the TUI on ``root``, in a headless terminal of ``size``."""
    options.setdefault("refresh_seconds", 600)
    app = make_app(root, today=TODAY, **options)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


def rows(table: ResultTable) -> list[str]:
    """Each row of a table as one line of text."""
    out = []
    for index in range(table.row_count):
        cells = table.get_row_at(index)
        out.append(" ".join(c.plain if isinstance(c, Text) else str(c) for c in cells))
    return out


def shown(widget: Static) -> str:
    """What a panel shows, as plain text."""
    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*list(text))
    await settle(pilot)


# --- search ---------------------------------------------------------------------------------


def test_customers_are_found_by_pinyin_initials_and_by_phone_digits(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomersScreen)
        table = screen.query_one("#results", ResultTable)
        assert len(rows(table)) == 3
        await type_text(pilot, "zs")
        assert [r.split()[1] for r in rows(table)] == ["张三"]
        await pilot.press("escape")
        await settle(pilot)
        await type_text(pilot, "1002")
        assert [r.split()[1] for r in rows(table)] == ["李四"]
        assert "共 1 条" in str(screen.query_one("#status", Static).render())

    drive(office, scenario)


def test_filters_narrow_the_list_by_tier_and_tag(office: Path) -> None:
    archive = Archive(office)
    names = [r["name"] for r in search(archive, "customer", "", Filters(tier="铂金")).rows]
    assert names == ["周敏"]
    names = [r["name"] for r in search(archive, "customer", "", Filters(tag="高端客户")).rows]
    assert names == ["张三"]
    assert search(archive, "customer", "z", Filters(category="钟点工")).rows == []


def test_a_long_result_says_how_many_it_shows_of_more(
    office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hk.tui.screens.lists.CAP", 2)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        status = str(app.screen.query_one("#status", Static).render())
        assert status == "显示 2 条，超过 2 条：请输入更多搜索条件"
        assert app.screen.query_one("#results", ResultTable).row_count == 2

    drive(office, scenario)


# --- the customer's page --------------------------------------------------------------------


def test_enter_opens_the_customer_page_with_profile_household_and_taboos(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await type_text(pilot, "zhangsan")
        await pilot.press("enter")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, CustomerScreen)
        assert page.record_id == ZHANG
        assert "张三" in str(page.query_one("#record-title", Static).render())
        assert "高端客户" in shown(page.query_one("#panel-basics", FieldsPanel))
        assert "万科城" in shown(page.query_one("#panel-addresses", FieldsPanel))
        assert "耳背" in shown(page.query_one("#panel-household", FieldsPanel))
        assert "不进书房" in shown(page.query_one("#panel-taboos", FieldsPanel))
        assert "王秀英" in shown(page.query_one("#panel-workers", FieldsPanel))
        assert "纸质签字" in shown(page.query_one("#panel-consents", FieldsPanel))
        orders = rows(page.query_one("#orders-table", ResultTable))
        assert len(orders) == 2 and all("待确认" in o for o in orders)
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)

    drive(office, scenario)


def test_sensitive_values_are_masked_until_revealed(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", ZHANG)
        await settle(pilot)
        page = app.screen
        sensitive = page.query_one("#panel-sensitive", FieldsPanel)
        assert "5101**************" in shown(sensitive)
        assert "尘螨过敏" not in shown(sensitive)
        assert "高血压" not in shown(page.query_one("#panel-household", FieldsPanel))
        await pilot.press("v")  # asks why: Escape reveals nothing
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "尘螨过敏" not in shown(sensitive)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("enter")  # no reason given: refused
        await settle(pilot)
        assert "尘螨过敏" not in shown(sensitive)
        assert "请填写原因" in "\n".join(n.message for n in app._notifications)
        await pilot.press("v")
        await settle(pilot)
        for key in "check":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)
        assert "510107196809120427" in shown(sensitive)
        assert "尘螨过敏" in shown(sensitive)
        assert "高血压" in shown(page.query_one("#panel-household", FieldsPanel))
        await pilot.press("v")
        await settle(pilot)
        assert "尘螨过敏" not in shown(sensitive)

    drive(office, scenario)
    [entry] = entries(Archive(office), Filter(record=ZHANG))
    assert (entry.action, entry.reason, entry.to) == ("reveal", "check", "screen")
    assert "id_number" in entry.fields


def test_consents_are_recorded_and_withdrawn_on_the_customer_page(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", ZHANG)
        await settle(pilot)
        page = app.screen
        assert isinstance(page, CustomerScreen)
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, "wechat")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is page
        assert "wechat" in shown(page.query_one("#panel-consents", FieldsPanel))
        await pilot.press("C")
        await settle(pilot)
        await pilot.press("enter")  # the first consent in force
        await settle(pilot)
        assert "已撤回" in "\n".join(n.message for n in app._notifications)

    drive(office, scenario)
    customer, _ = load(Archive(office), Customer, ZHANG)
    added = [c for c in customer.consents if c.method == "wechat"]
    assert [c.purpose for c in added] == ["敏感个人信息处理"]
    assert any(c.withdrawn is not None for c in customer.consents)


def test_reveal_needs_the_key(office: Path) -> None:
    key = Archive(office).keyring.master_path
    key.rename(key.with_name("master.key.away"))

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", ZHANG)
        await settle(pilot)
        page = app.screen
        assert isinstance(page, CustomerScreen)
        await pilot.press("v")
        await settle(pilot)
        assert not page.revealed
        assert "本机没有这份档案的密钥" in "\n".join(n.message for n in app._notifications)
        sensitive = shown(page.query_one("#panel-sensitive", FieldsPanel))
        assert "510107196809120427" not in sensitive
        assert "[locked]" in sensitive

    drive(office, scenario)


def test_the_history_shows_each_change_field_by_field(office: Path) -> None:
    edit(Archive(office), "customer", ZHANG, {"tier": "铂金"})

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", ZHANG)
        await settle(pilot)
        await pilot.press("7")
        assert app.screen.query_one(TabbedContent).active == "history"
        history = rows(app.screen.query_one("#history-table", ResultTable))
        assert any("tier: 黄金 → 铂金" in line for line in history)
        assert any("测试员" in line for line in history)

    drive(office, scenario)


def test_a_customers_visits_and_complaints_have_tabs_of_their_own(tmp_path: Path) -> None:
    from hk.services.complaints import ComplaintIn, open_complaint
    from hk.services.visits import schedule

    root = build_office(tmp_path / "archive")
    archive = Archive(root)
    open_complaint(archive, ComplaintIn("quality", "厨房油烟机没擦干净"), customer=ZHANG)
    schedule(archive, ZHANG, "periodic", TODAY + dt.timedelta(days=3), "季度回访")

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", ZHANG)
        await settle(pilot)
        await pilot.press("4")
        assert app.screen.query_one(TabbedContent).active == "visits"
        visits = rows(app.screen.query_one("#visits-table", ResultTable))
        assert any("季度回访" in line and "待回访" in line for line in visits)
        await pilot.press("5")
        assert app.screen.query_one(TabbedContent).active == "complaints"
        complaints = rows(app.screen.query_one("#complaints-table", ResultTable))
        assert any("服务质量" in line and "待处理" in line for line in complaints)

    drive(root, scenario)


# --- the keyboard reaches everything --------------------------------------------------------


def test_every_page_is_reachable_with_the_keyboard_alone(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, WorkersScreen)
        await type_text(pilot, "wxy")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkerScreen) and app.screen.record_id == WANG
        assert "2026-03-20" in shown(app.screen.query_one("#panel-certificates", FieldsPanel))
        await pilot.press("2", "3", "1", "escape", "f2")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.focused is not None and app.screen.focused.id == "upcoming"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.record_id == ZHANG
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, DashboardScreen)

    drive(office, scenario)


def test_the_palette_offers_every_action_and_opens_a_customer_by_search(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "阿姨")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkersScreen)
        await pilot.press("ctrl+p")
        await type_text(pilot, "lisi")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.record_id == LI

    drive(office, scenario)


def test_help_names_the_focused_widget_and_every_key_with_its_id(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen.focused, Input)
        await pilot.press("f1")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "拼音首字母" in str(help_screen.query_one("#help-text", Static).render())
        keys = help_screen.query_one("#help-keys")
        ids = {str(keys.get_row_at(i)[2]) for i in range(keys.row_count)}  # type: ignore[attr-defined]
        assert {"help", "dashboard", "customers", "workers", "search", "clear"} <= ids

    drive(office, scenario)


def test_keys_rebind_from_the_operators_own_settings(office: Path) -> None:
    (office / "hk.local.toml").write_text(
        '[tui]\nlanguage = "en"\n[tui.keys]\ncustomers = "f6"\nno_such_action = "f7"\n',
        encoding="utf-8",
    )

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        assert app.screen.sub_title == "Dashboard"
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert any("no_such_action" in n.message for n in app._notifications)

    drive(office, scenario)


# --- the archive changes outside ------------------------------------------------------------


def test_a_customer_added_outside_appears_without_restart(office: Path) -> None:
    hk = Hk(office)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#results", ResultTable)
        assert len(rows(table)) == 3
        result = hk.process(
            "customer", "add", "--name", "赵六", "--phone", "13700137000", "--category", "家庭保洁"
        )
        assert result.returncode == 0, result.stderr
        for _ in range(50):
            await pilot.pause(0.1)
            await settle(pilot)
            if len(rows(table)) == 4:
                break
        assert any("赵六" in line for line in rows(table))

    drive(office, scenario, refresh_seconds=0.5)


def test_a_page_follows_an_edit_made_outside(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", ZHANG)
        await settle(pilot)
        await asyncio.to_thread(
            edit, Archive(office), "customer", ZHANG, {"taboos": ["不进书房", "不用钢丝球"]}
        )
        app.action_refresh_archive()
        await settle(pilot)
        assert "不用钢丝球" in shown(app.screen.query_one("#panel-taboos", FieldsPanel))

    drive(office, scenario)


# --- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_counts_today_and_tomorrow_by_status(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        board = app.screen
        assert isinstance(board, DashboardScreen) and board.ready
        assert "待确认" in shown(board.query_one("#today", FieldsPanel))
        assert "共 2 单" in shown(board.query_one("#tomorrow", FieldsPanel))
        month = shown(board.query_one("#month", FieldsPanel))
        assert "新客户" in month
        upcoming = rows(board.query_one("#upcoming", ResultTable))
        assert [line.split()[0] for line in upcoming] == ["03-10", "03-10", "03-11", "03-11"]
        assert "王秀英" in rows(board.query_one("#expiring", ResultTable))[0]
        assert "证书到期" in shown(board.query_one("#reminders", FieldsPanel))

    drive(office, scenario)


def test_an_error_in_a_read_becomes_a_notification(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("customer", "01ZZZZZZZZZZZZZZZZZZZZZZZZ")
        await settle(pilot)
        assert any(
            n.severity == "error" and "does not exist" in n.message for n in app._notifications
        )
        assert app.is_running

    drive(office, scenario)


# --- words ----------------------------------------------------------------------------------


def test_both_languages_have_every_word() -> None:
    assert set(ZH) == set(EN)


def test_english_pages_speak_english(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        assert "Today" in str(app.screen.query_one("#today", FieldsPanel).border_title)
        await pilot.press("f4")
        await settle(pilot)
        assert "available" in "\n".join(rows(app.screen.query_one("#results", ResultTable)))

    drive(office, scenario, language="en")


def test_the_app_starts_at_the_day_it_is_given(office: Path) -> None:
    app = make_app(office, today=dt.date(2026, 1, 1))
    assert app.today() == dt.date(2026, 1, 1)
    assert make_app(office).today() != dt.date(1970, 1, 1)


def test_a_customer_added_in_process_is_searchable(office: Path) -> None:
    add_customer(Archive(office), {"name": "钱七", "phones": ["13600136000"]})
    found = search(Archive(office), "customer", "qq", Filters())
    assert [r["name"] for r in found.rows] == ["钱七"]
