"""The dispatch board (派工): a day's plan as workers × hours, accepted in whole or in part.

The planner (:func:`hk.services.dispatch.plan.make_plan`) runs in a worker, as it may search for
seconds; the board then shows each worker's day on a grid of half hours from 07:00 to 21:00,
her jobs as blocks labelled with the order's code and community, the reasons of the job under
the cursor (为何), and the jobs the plan left out with theirs. The operator selects jobs with
Space and accepts those (or all of them) in one commit, pins a job to a worker by hand (the
plan keeps the pin from then on) or unpins it, and plans again. Nothing is written unless
asked; errors of the archive (a pin the rules refuse, a day changed meanwhile) come back as
notifications through the app's one handler.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from hk.dispatch.day import clock, minutes
from hk.textwidth import fit
from hk.tui.data.dispatch import (
    SLOTS,
    Block,
    Board,
    Candidate,
    accept,
    blocks,
    candidates,
    hours,
    pin,
    read_board,
    span_of,
)
from hk.tui.keys import bind, localize
from hk.tui.screens.base import HkScreen
from hk.tui.widgets.fields import FieldsPanel, Pair
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.dispatch.day import DayWorker
    from hk.store.archive import Archive
    from hk.store.writer import SaveResult
    from hk.tui.i18n import Texts

NAME_CELLS = 16
"""Cells of a row's head: the worker's code and name."""


class Timeline(Widget, can_focus=True):
    """Workers × half hours; the cursor moves from job to job, Space selects one."""

    BINDINGS: ClassVar[list[Any]] = [
        bind("left", "move(0, -1)", "job_left", show=False),
        bind("right", "move(0, 1)", "job_right", show=False),
        bind("up", "move(-1, 0)", "job_up", show=False),
        bind("down", "move(1, 0)", "job_down", show=False),
        bind("space", "pick", "toggle"),
    ]

    class Moved(Message):
        """The cursor is on another job (or on none)."""

        def __init__(self, job_id: str | None) -> None:
            super().__init__()
            self.job_id = job_id

    cursor: reactive[tuple[int, int]] = reactive((0, 0))

    def __init__(self, texts: Texts, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.texts = texts
        self.help_key = "help.timeline"
        self.board: Board | None = None
        self.rows: list[tuple[DayWorker, list[str]]] = []
        self.selected: set[str] = set()
        localize(self, texts)

    def show(self, board: Board, selected: set[str]) -> None:
        """Lay out ``board``: workers with jobs in the plan's order, then the idle ones."""
        keep = self.job_id()
        self.board, self.selected = board, selected
        busy = [(it.worker, [v.job.id for v in it.visits]) for it in board.plan.itineraries]
        seen = {worker.id for worker, _ in busy}
        self.rows = busy + [(w, []) for w in board.inputs.workers if w.id not in seen]
        where = next(
            (
                (r, i)
                for r, (_, ids) in enumerate(self.rows)
                for i, job_id in enumerate(ids)
                if job_id == keep
            ),
            None,
        )
        first = next(((r, 0) for r, (_, ids) in enumerate(self.rows) if ids), (0, 0))
        self.cursor = where or first
        self.styles.height = len(self.rows) + 3
        self.refresh(layout=True)
        self.post_message(self.Moved(self.job_id()))

    def job_id(self) -> str | None:
        row, index = self.cursor
        if row < len(self.rows) and index < len(self.rows[row][1]):
            return self.rows[row][1][index]
        return None

    def action_move(self, down: int, across: int) -> None:
        row, index = self.cursor
        if across:
            ids = self.rows[row][1] if row < len(self.rows) else []
            index = min(max(index + across, 0), max(len(ids) - 1, 0))
            self.cursor = (row, index)
        else:
            step = row + down
            while 0 <= step < len(self.rows) and not self.rows[step][1]:
                step += down
            if 0 <= step < len(self.rows):
                self.cursor = (step, min(index, len(self.rows[step][1]) - 1))
        self.post_message(self.Moved(self.job_id()))

    def action_pick(self) -> None:
        """Select the job under the cursor for accepting (only jobs waiting for dispatch)."""
        job_id = self.job_id()
        if self.board is None or job_id is None or job_id not in self.board.to_accept():
            return
        self.selected ^= {job_id}
        self.refresh()
        self.post_message(self.Moved(job_id))

    def watch_cursor(self) -> None:
        self.refresh()

    def slot_cells(self) -> int:
        """Cells of one half hour: as many as the width allows, at least one."""
        width = self.content_region.width or 120
        return max(1, (width - NAME_CELLS) // SLOTS)

    def render(self) -> Text:
        width = self.slot_cells()
        out = Text(no_wrap=True, overflow="crop")
        out.append(fit("", NAME_CELLS))
        ruler = [" "] * (SLOTS * width)
        for cell, mark in hours(width):
            for i, char in enumerate(mark):
                if cell + i < len(ruler):
                    ruler[cell + i] = char
        out.append("".join(ruler) + "\n", style="bold")
        if self.board is None:
            return out
        current = self.job_id()
        plan = {it.worker.id: it for it in self.board.plan.itineraries}
        for worker, _ids in self.rows:
            head = fit(f"{worker.code} {worker.name}", NAME_CELLS - 1) + " "
            out.append(head, style="bold" if worker.id in plan else "dim")
            if worker.id in plan:
                self._row(out, blocks(plan[worker.id], width), width, current)
            else:
                off = worker.off_reason or ("" if worker.shifts else self.texts("disp.off"))
                self._background(out, 0, SLOTS * width, width, off)
            out.append("\n")
        return out

    def _row(self, out: Text, row: list[Block], width: int, current: str | None) -> None:
        at = 0
        for block in row:
            self._background(out, at, block.travel_from, width)
            if block.first > block.travel_from:
                out.append("─" * (block.first - block.travel_from), style="yellow dim")
            out.append(block.label, style=self._style(block, current))
            at = block.last + 1
        self._background(out, at, SLOTS * width, width)

    def _style(self, block: Block, current: str | None) -> str:
        if block.status != "to_dispatch":
            style = "white on grey35"
        elif block.job_id in self.selected:
            style = "black on green"
        else:
            style = "black on dark_cyan"
        if block.job_id == current and self.has_focus:
            style += " bold reverse"
        elif block.job_id == current:
            style += " bold underline"
        return style

    @staticmethod
    def _background(out: Text, first: int, last: int, width: int, words: str = "") -> None:
        """Empty cells from ``first`` up to ``last``: a dot at each half hour, or ``words``."""
        if last <= first:
            return
        if words:
            out.append(fit(words, last - first), style="dim italic")
            return
        out.append(
            "".join("·" if cell % (2 * width) == 0 else " " for cell in range(first, last)),
            style="dim",
        )


class PinPicker(ModalScreen[str | None]):
    """The workers a job could be pinned to: those the rules allow first (Escape: none)."""

    BINDINGS: ClassVar[list[Any]] = [bind("escape", "dismiss_none", "pick_cancel")]

    def __init__(self, title: str, choices: list[Candidate], texts: Texts) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.texts = texts
        localize(self, texts)

    def compose(self) -> ComposeResult:
        t = self.texts
        options = []
        for c in self.choices:
            label = Text(fit(f"{c.code} {c.name}", 16))
            if c.planned:
                label.append(t("disp.planned_here"), style="green")
            if not c.allowed:
                label.append(c.why, style="dim")
            elif c.why:
                label.append(c.why, style="yellow")
            options.append(Option(label, id=c.worker_id, disabled=not c.allowed))
        with Vertical(id="pin-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = t("disp.pick_hint")
            yield OptionList(*options, id="pin-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class DispatchScreen(HkScreen):
    """A day's plan: plan, look, select, accept, pin, plan again."""

    TITLE_KEY: ClassVar[str] = "screen.dispatch"
    HELP_KEY: ClassVar[str] = "help.dispatch"
    AUTO_FOCUS: ClassVar[str | None] = "#timeline"
    BINDINGS: ClassVar[list[Any]] = [
        bind("left_square_bracket", "day(-1)", "prev_day"),
        bind("right_square_bracket", "day(1)", "next_day"),
        bind("r", "replan", "replan"),
        bind("a", "accept_all", "accept_all"),
        bind("s", "accept_selected", "accept_some"),
        bind("p", "pin", "pin"),
        bind("u", "unpin", "unpin"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day: dt.date | None = None
        self.board: Board | None = None
        self.selected: set[str] = set()
        self.planning = False

    def compose(self) -> ComposeResult:
        t = self.texts
        yield from self.header()
        yield Static(t("list.loading"), id="dispatch-status")
        with Vertical(id="dispatch-body"):
            yield Timeline(t, id="timeline")
            with Horizontal(id="dispatch-lower"):
                yield FieldsPanel(t("disp.why"), id="why", empty=t("disp.no_job"))
                yield ResultTable("help.unplaced", id="unplaced", fit_last=True)
        yield from self.footer()

    def on_mount(self) -> None:
        super().on_mount()
        t = self.texts
        self.day = self.hk.today() + dt.timedelta(days=1)
        table = self.query_one("#unplaced", ResultTable)
        table.border_title = t("disp.unplaced", n=0)
        table.set_columns(
            [
                t("disp.window"),
                t("col.code"),
                t("col.customer"),
                t("col.community"),
                t("disp.reason"),
            ]
        )

    # --- planning -----------------------------------------------------------------------------

    def load(self) -> None:
        day = self.day or self.hk.today() + dt.timedelta(days=1)
        self.ready = False
        self.planning = True
        self._status()

        def job(archive: Archive) -> Board:
            return read_board(archive, day)

        self.work("plan", job, self.show_board)

    def show_board(self, board: Board) -> None:
        if board.day != self.day:  # the operator went on to another day meanwhile
            return
        t = self.texts
        self.board = board
        self.planning = False
        self.selected &= set(board.to_accept())
        self.query_one("#timeline", Timeline).show(board, self.selected)
        table = self.query_one("#unplaced", ResultTable)
        table.border_title = t("disp.unplaced", n=len(board.plan.unplaced))
        rows = []
        for job_id, why in board.plan.unplaced.items():
            job = board.job(job_id)
            rows.append(
                (
                    job_id,
                    [span_of(job), job.code, job.customer_code, job.community or job.district, why],
                )
            )
        table.show_rows(rows)
        self._status()
        self.show_why()
        self.ready = True

    def _status(self) -> None:
        t = self.texts
        day = self.day
        parts = [f"{day:%Y-%m-%d} {t.weekday(day.weekday())}" if day else ""]
        board = self.board
        if board is not None and board.day == day:
            plan = board.plan
            parts.append(
                t(
                    "disp.counts",
                    waiting=board.waiting,
                    placed=plan.placed,
                    unplaced=len(plan.unplaced),
                    workers=len(plan.itineraries),
                    travel=minutes(plan.travel_seconds),
                )
            )
            parts.append(t("disp.selected", n=len(self.selected)))
            if board.inputs.waiting:
                parts.append(t("disp.unconfirmed", n=len(board.inputs.waiting)))
        if self.planning:
            parts.append(t("disp.planning"))
        self.query_one("#dispatch-status", Static).update(Text(" · ".join(p for p in parts if p)))

    def action_day(self, step: int) -> None:
        if self.day is not None:
            self.day += dt.timedelta(days=step)
        self.selected = set()
        self.reload()

    def action_replan(self) -> None:
        self.reload()

    # --- the job under the cursor ---------------------------------------------------------------

    def current_job(self) -> str | None:
        table = self.query_one("#unplaced", ResultTable)
        if self.focused is table:
            return table.current_id()
        return self.query_one("#timeline", Timeline).job_id()

    def on_timeline_moved(self, _event: Timeline.Moved) -> None:
        self.show_why()
        self._status()

    def on_data_table_row_highlighted(self, _event: Any) -> None:
        self.show_why()

    def on_descendant_focus(self, _event: Any) -> None:
        self.show_why()

    def show_why(self) -> None:
        panel = self.query_one("#why", FieldsPanel)
        job_id = self.current_job()
        if self.board is None or job_id is None or job_id not in self.board.plan.jobs:
            panel.show([])
            return
        panel.show(self.why_lines(self.board, job_id))

    def why_lines(self, board: Board, job_id: str) -> list[Pair]:
        t = self.texts
        job = board.job(job_id)
        lines: list[Pair] = [
            (t("col.code"), f"{job.code}  {t.order_status(job.status)}"),
            (t("col.customer"), f"{job.customer_code} {job.community or job.district}"),
            (t("col.services"), job.services),
            (t("disp.window"), span_of(job)),
        ]
        if job.pinned:
            names = {w.id: f"{w.code} {w.name}" for w in board.inputs.workers}
            lines.append((t("disp.pinned"), names.get(job.pinned, job.pinned)))
        placed = board.visit(job_id)
        if placed is not None:
            itinerary, visit = placed
            worker = itinerary.worker
            chosen = job_id in self.selected
            lines.append(
                (
                    t("disp.worker"),
                    f"{worker.code} {worker.name}" + (t.paren(t("disp.chosen")) if chosen else ""),
                )
            )
            lines.append(
                (
                    t("disp.time"),
                    f"{clock(visit.start)}–{clock(visit.end)}  "
                    + t(
                        "disp.travel",
                        n=minutes(visit.travel_seconds),
                        km=round(visit.travel_metres / 1000, 1),
                    ),
                )
            )
            lines.append((t("disp.why"), "\n".join(visit.reasons)))
        elif job_id in board.plan.unplaced:
            lines.append((t("disp.reason"), Text(board.plan.unplaced[job_id], style="red")))
        return lines

    # --- accept ------------------------------------------------------------------------------

    def action_accept_all(self) -> None:
        self._accept(None)

    def action_accept_selected(self) -> None:
        if not self.selected:
            self.notify(self.texts("disp.select_first"), severity="warning")
            return
        self._accept(set(self.selected))

    def _accept(self, only: set[str] | None) -> None:
        board = self.board
        if board is None or self.planning:
            return

        def job(archive: Archive) -> SaveResult:
            return accept(archive, board, only)

        def done(result: SaveResult) -> None:
            self.notify(self.texts("disp.accepted", n=len(result.paths)))
            self.selected = set()
            self.reload()

        self.work("accept", job, done)

    # --- pins --------------------------------------------------------------------------------

    def action_pin(self) -> None:
        board, job_id = self.board, self.current_job()
        if board is None or job_id is None:
            return
        job = board.job(job_id)
        title = self.texts("disp.pin_title", code=job.code, place=job.community or job.district)

        def chosen(worker_id: str | None) -> None:
            if worker_id is not None:
                self._pin(job_id, worker_id)

        self.app.push_screen(PinPicker(title, candidates(board, job_id), self.texts), chosen)

    def action_unpin(self) -> None:
        job_id = self.current_job()
        if job_id is not None:
            self._pin(job_id, None)

    def _pin(self, job_id: str, worker_id: str | None) -> None:
        def job(archive: Archive) -> str:
            return pin(archive, job_id, worker_id)

        def done(code: str) -> None:
            key = "disp.pinned_msg" if worker_id else "disp.unpinned_msg"
            self.notify(self.texts(key, code=code))
            self.reload()

        self.work("pin", job, done)
