"""The dispatch board (F6) driven by Pilot on a small town: it plans tomorrow, shows why each
job went where and why the others were left out, pins by hand, plans again, and accepts the
plan in whole or in part, in one commit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from hk.store.archive import Archive
from hk.tui.app import HkApp, make_app
from hk.tui.data.dispatch import SLOTS, blocks, candidates, read_board
from hk.tui.screens.dispatch import DispatchScreen, PinPicker, Timeline
from hk.tui.widgets.fields import FieldsPanel
from hk.tui.widgets.results import ResultTable
from tests.conftest import git
from tests.orders_support import DAY
from tests.test_dispatch_plan import EAST, WEST, Town
from tests.test_tui import rows, shown
from tests.test_tui_snapshots import settle

Scenario = Callable[[HkApp, Pilot[Any]], Awaitable[None]]


@pytest.fixture
def town(archive: Archive, archive_path: Path) -> Town:
    """Two workers, one in the east and one in the west who also cleans appliances."""
    town = Town(archive, archive_path)
    town.worker("东", EAST)
    town.worker("西", WEST, skills=[{"name": "保洁", "level": 4}, {"name": "家电清洗"}])
    return town


def drive(root: Path, scenario: Scenario) -> None:
    """Run ``scenario`` on the TUI whose "tomorrow" is the town's day."""
    app = make_app(root, today=DAY - dt.timedelta(days=1), language="zh_CN", refresh_seconds=600)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("f6")
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


def day_of_town(town: Town) -> dict[str, str]:
    """Two jobs either side of town and one nobody has the skill for: codes by name."""
    town.customer("甲", EAST)
    town.customer("乙", WEST)
    return {
        "east": town.order("甲", "09:00"),
        "west": town.order("乙", "13:00"),
        "smart": town.order("甲", "15:00", "ZN-SETUP"),
    }


def order_id(town: Town, code: str) -> str:
    return str(town.cli.json("order", "show", code)["id"])


def commits(town: Town) -> int:
    return int(git(town.archive.root, "rev-list", "--count", "HEAD"))


async def cursor_to(pilot: Pilot[Any], timeline: Timeline, job_id: str) -> None:
    """Move the board's cursor onto ``job_id`` with the arrow keys."""
    for key in ("down", "down", "right", "up", "up", "right"):
        if timeline.job_id() == job_id:
            return
        await pilot.press(key)
    assert timeline.job_id() == job_id


def test_plan_pin_replan_and_accept_all_write_one_commit(town: Town) -> None:
    codes = day_of_town(town)
    ids = {name: order_id(town, code) for name, code in codes.items()}

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        screen = app.screen
        assert isinstance(screen, DispatchScreen) and screen.day == DAY
        assert screen.board is not None
        unplaced = screen.query_one("#unplaced", ResultTable)
        [left] = rows(unplaced)
        assert codes["smart"] in left and "没有符合条件的阿姨" in left
        assert unplaced.virtual_size.width <= unplaced.size.width  # the reason is cut, not
        # scrolled sideways: the panel beside it shows it whole
        timeline = screen.query_one("#timeline", Timeline)
        await cursor_to(pilot, timeline, ids["east"])
        why = shown(screen.query_one("#why", FieldsPanel))
        assert codes["east"] in why and "为何" in why and "东阿姨" in why
        await pilot.press("p")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PinPicker)
        west = next(i for i, c in enumerate(picker.choices) if c.code == town.workers["西"])
        picker.query_one(OptionList).highlighted = west
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        board = screen.board
        assert board is not None
        routes = {it.worker.code: [v.job.code for v in it.visits] for it in board.plan.itineraries}
        assert routes == {town.workers["西"]: [codes["east"], codes["west"]]}
        await cursor_to(pilot, timeline, ids["east"])
        assert "手动指定" in shown(screen.query_one("#why", FieldsPanel))
        before = commits(town)
        await pilot.press("a")
        await settle(pilot)
        assert commits(town) == before + 1
        assert "已派工" in shown(screen.query_one("#why", FieldsPanel))

    drive(town.archive.root, scenario)
    subject = git(town.archive.root, "log", "-1", "--format=%s").strip()
    assert subject == f"dispatch {DAY}: assign 2 orders"
    for name in ("east", "west"):
        order = town.cli.json("order", "show", codes[name])
        assert order["status"] == "dispatched" and order["workers"] == [town.ids["西"]]
    assert town.cli.json("order", "show", codes["smart"])["status"] == "to_dispatch"


def test_accept_selected_dispatches_only_the_jobs_chosen_with_space(town: Town) -> None:
    codes = day_of_town(town)
    ids = {name: order_id(town, code) for name, code in codes.items()}

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        screen = app.screen
        assert isinstance(screen, DispatchScreen)
        await pilot.press("s")  # nothing selected: a warning, nothing written
        await settle(pilot)
        timeline = screen.query_one("#timeline", Timeline)
        await cursor_to(pilot, timeline, ids["west"])
        await pilot.press("space")
        assert screen.selected == {ids["west"]}
        await pilot.press("s")
        await settle(pilot)
        assert screen.selected == set()

    before = commits(town)
    drive(town.archive.root, scenario)
    assert commits(town) == before + 1
    assert town.cli.json("order", "show", codes["west"])["status"] == "dispatched"
    assert town.cli.json("order", "show", codes["east"])["status"] == "to_dispatch"


def test_a_pin_the_rules_refuse_is_not_offered_and_the_day_changes_with_brackets(
    town: Town,
) -> None:
    codes = day_of_town(town)
    board = read_board(Archive(town.archive.root), DAY)
    smart = candidates(board, order_id(town, codes["smart"]))
    assert smart and not any(c.allowed for c in smart)
    assert all("缺少技能" in c.why for c in smart)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        screen = app.screen
        assert isinstance(screen, DispatchScreen)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.day == DAY + dt.timedelta(days=1)
        assert screen.board is not None and screen.board.plan.jobs == {}
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.board is not None and len(screen.board.plan.jobs) == 3

    drive(town.archive.root, scenario)


def test_blocks_sit_on_their_half_hours_and_labels_fit_their_cells(town: Town) -> None:
    from rich.cells import cell_len

    codes = day_of_town(town)
    board = read_board(Archive(town.archive.root), DAY)
    for itinerary in board.plan.itineraries:
        for block in blocks(itinerary, 3):
            visit = board.visit(block.job_id)
            assert visit is not None
            start = visit[1].start
            assert block.first == int((start - 7 * 3600) / 1800 * 3)
            assert cell_len(block.label) == block.last - block.first + 1
            assert block.last < SLOTS * 3
    assert codes["east"] in {v.job.code for it in board.plan.itineraries for v in it.visits}
