"""The order board driven by Pilot: each move runs the lifecycle step and is in the archive
afterwards; a move the lifecycle does not allow is refused with its reason, nothing written."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from hk.services.orders.steps import load_order
from hk.store.archive import Archive
from hk.tui.app import HkApp
from hk.tui.screens.dialogs import ChoiceDialog, FormDialog
from hk.tui.screens.orders import OrderColumn, OrdersScreen
from tests.test_tui import drive
from tests.test_tui_snapshots import TODAY, WANG, build_office, fixed_id, settle

ZHANG_TODAY = fixed_id(100, TODAY - dt.timedelta(days=3))
"""张三's order today at 09:00 (pending), the first card of the board."""
LI_TODAY = fixed_id(101, TODAY - dt.timedelta(days=3))
"""李四's order today at 14:00 (pending), the second card."""


@pytest.fixture
def office(tmp_path: Path) -> Path:
    return build_office(tmp_path / "office")


def status_of(root: Path, order_id: str) -> str:
    order, _ = load_order(Archive(root), order_id)
    return order.status


def commits(root: Path) -> int:
    out = subprocess.run(
        ["git", "-C", str(root), "rev-list", "--count", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out)


async def open_board(app: HkApp, pilot: Pilot[Any]) -> OrdersScreen:
    await pilot.press("f7")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, OrdersScreen)
    return screen


async def choose(app: HkApp, pilot: Pilot[Any], value: str) -> None:
    """Pick ``value`` in the choice dialog on top."""
    dialog = app.screen
    assert isinstance(dialog, ChoiceDialog)
    options = dialog.query_one(OptionList)
    options.highlighted = [v for v, _ in dialog.choices].index(value)
    await pilot.press("enter")
    await settle(pilot)


def test_moving_a_card_right_confirms_then_assigns_the_chosen_worker(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        board = await open_board(app, pilot)
        assert board.current_id() == ZHANG_TODAY
        await pilot.press("m")
        await settle(pilot)
        assert status_of(office, ZHANG_TODAY) == "to_dispatch"
        assert isinstance(board.focused, OrderColumn)
        assert board.focused.status == "to_dispatch" and board.current_id() == ZHANG_TODAY
        await pilot.press("m")
        await settle(pilot)
        await choose(app, pilot, WANG)
        assert app.screen is board
        assert board.focused.status == "dispatched"  # type: ignore[union-attr]

    drive(office, scenario)
    order, _ = load_order(Archive(office), ZHANG_TODAY)
    assert order.status == "dispatched" and order.workers == [WANG]
    assert [e.to_status for e in order.events] == [
        "pending",
        "confirmed",
        "to_dispatch",
        "dispatched",
    ]


def test_an_illegal_move_says_why_and_writes_nothing(office: Path) -> None:
    before = commits(office)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        board = await open_board(app, pilot)
        await pilot.press("down")
        assert board.current_id() == LI_TODAY
        await pilot.press("t")
        await settle(pilot)
        await choose(app, pilot, "in_service")
        messages = [n.message for n in app._notifications]
        assert any(
            "cannot go from 待确认 pending to 服务中 in_service" in m
            and "allowed: 已确认 confirmed, 已取消 cancelled" in m
            for m in messages
        )
        assert board.current_id() == LI_TODAY

    drive(office, scenario)
    assert status_of(office, LI_TODAY) == "pending"
    assert commits(office) == before


def test_cancelling_from_the_board_keeps_the_reason(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        board = await open_board(app, pilot)
        await pilot.press("down", "c")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        assert isinstance(dialog.focused, Input)
        await pilot.press(*list("customer away"))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is board
        assert board.focused.status == "cancelled"  # type: ignore[union-attr]

    drive(office, scenario)
    order, _ = load_order(Archive(office), LI_TODAY)
    assert order.status == "cancelled"
    assert order.events[-1].note.startswith("customer away")
    assert status_of(office, ZHANG_TODAY) == "pending"
