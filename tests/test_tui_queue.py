"""The office's queue driven by Pilot: a visit due is listed and logged from the queue, and
the archive has it done afterwards, with the scores kept as a survey response."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from hk.domain.survey import Survey
from hk.services.records import load
from hk.services.visits import load_visit, schedule
from hk.store.archive import Archive
from hk.tui.app import HkApp
from hk.tui.screens.dialogs import FormDialog
from hk.tui.screens.queue import QueueScreen
from hk.tui.widgets.results import ResultTable
from tests.test_tui import drive, rows
from tests.test_tui_snapshots import TODAY, TZ, ZHANG, build_office, settle


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, str]:
    """The office, with a renewal visit to 张三 two days overdue; and that visit's code."""
    root = build_office(tmp_path / "office")
    archive = Archive(root)
    scheduled = schedule(
        archive,
        ZHANG,
        "renewal",
        TODAY - dt.timedelta(days=2),
        "续约前沟通",
        at=dt.datetime.combine(TODAY - dt.timedelta(days=5), dt.time(9), TZ),
    )
    archive.index.close()
    assert scheduled.result.code
    return root, scheduled.result.code


def test_a_visit_due_is_logged_from_the_queue(office: tuple[Path, str]) -> None:
    root, code = office

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f8")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        visits = queue.query_one("#queue-visits", ResultTable)
        assert any(
            "张三" in row and "逾期2天" in row and "续约前沟通" in row for row in rows(visits)
        )
        assert queue.focused is visits
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        for score in ("5", "4", "5", "5", "5"):
            await pilot.press(score, "tab")
        await pilot.press("9", "tab", *list("renewing for a year"), "enter")
        await settle(pilot)
        assert app.screen is queue
        assert not any("张三" in row for row in rows(visits))
        assert any("回访已登记" in n.message for n in app._notifications)

    drive(root, scenario)
    archive = Archive(root)
    visit, _ = load_visit(archive, code)
    assert visit.status == "done" and visit.method == "phone"
    assert visit.outcome == "renewing for a year"
    assert visit.survey is not None
    survey, _ = load(archive, Survey, visit.survey)
    assert (survey.quality, survey.attitude, survey.overall, survey.nps) == (5, 4, 5, 9)
