"""What the dispatch board (派工) shows: a day's plan laid out on a grid of half hours.

The plan itself is :mod:`hk.services.dispatch.plan` (read the day, solve, apply, pin); this module
only shapes it for the board: which columns of the time grid each job covers (in terminal
cells, so that Chinese labels fit the block they name), who may be pinned to a job and why the
others may not, and which planned jobs are still waiting to be accepted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hk.dispatch.day import RULE_WORDS, clock
from hk.textwidth import cell_len, fit

if TYPE_CHECKING:
    from hk.dispatch.day import DayJob, Itinerary, Plan, Visit
    from hk.services.dispatch.plan import Day
    from hk.store.archive import Archive
    from hk.store.writer import SaveResult

BEGIN = 7 * 3600
"""The grid starts at 07:00 …"""
END = 21 * 3600
"""… and ends at 21:00 (a job outside is drawn at the edge)."""
STEP = 1800
"""One column of the grid is half an hour."""
SLOTS = (END - BEGIN) // STEP


@dataclass
class Board:
    """A day's plan as the board holds it (the inputs are kept: applying rechecks them)."""

    day: dt.date
    inputs: Day
    plan: Plan

    def job(self, job_id: str) -> DayJob:
        return self.plan.jobs[job_id]

    def visit(self, job_id: str) -> tuple[Itinerary, Visit] | None:
        """Where the plan put the job, if it did."""
        for itinerary in self.plan.itineraries:
            for visit in itinerary.visits:
                if visit.job.id == job_id:
                    return itinerary, visit
        return None

    def to_accept(self) -> list[str]:
        """Planned jobs still waiting for dispatch (待派工): what accepting would assign."""
        return [
            v.job.id
            for it in self.plan.itineraries
            for v in it.visits
            if v.job.status == "to_dispatch"
        ]

    @property
    def waiting(self) -> int:
        """Jobs of the day waiting for dispatch, placed or not."""
        return sum(1 for job in self.plan.jobs.values() if job.status == "to_dispatch")


def read_board(archive: Archive, day: dt.date, time_limit_s: float | None = None) -> Board:
    """Plan ``day`` (nothing is written); seconds at most, so callers run it in a worker."""
    from hk.services.dispatch.plan import make_plan

    inputs, plan = make_plan(archive, day, time_limit_s)
    return Board(day=day, inputs=inputs, plan=plan)


def accept(archive: Archive, board: Board, only: set[str] | None = None) -> SaveResult:
    """Dispatch the board's planned jobs (or only those in ``only``) in one commit."""
    from hk.services.dispatch.plan import apply

    return apply(archive, board.inputs, board.plan, only=only)


def pin(archive: Archive, order_id: str, worker_id: str | None) -> str:
    """Pin the order to the worker (None: unpin); the order's code, for the message."""
    from hk.services.dispatch.plan import pin as pin_order
    from hk.services.records import code_of

    order, _ = pin_order(archive, order_id, worker_id)
    return code_of(archive, order.id) or order.id


# --- the grid ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A job on a worker's row: columns ``first`` to ``last`` (cells, from the grid's start)."""

    job_id: str
    first: int
    last: int
    label: str
    travel_from: int
    status: str


def column(seconds: float, width: int) -> int:
    """The cell of the grid where ``seconds`` (from midnight) falls, ``width`` cells a slot."""
    inside = min(max(seconds, BEGIN), END)
    return int((inside - BEGIN) / STEP * width)


def blocks(itinerary: Itinerary, width: int) -> list[Block]:
    """The row of one worker: each visit from its start to its end, with the way to it."""
    out = []
    last_end = 0
    for visit in itinerary.visits:
        first = max(column(visit.start, width), last_end)
        last = max(first, math.ceil((min(max(visit.end, BEGIN), END) - BEGIN) / STEP * width) - 1)
        travel = max(column(visit.start - visit.travel_seconds, width), last_end)
        job = visit.job
        out.append(
            Block(
                job.id, first, last, label_of(job, last - first + 1), min(travel, first), job.status
            )
        )
        last_end = last + 1
    return out


def label_of(job: DayJob, cells: int) -> str:
    """The job's code and community, cut to ``cells`` (``cell_len``: Chinese is two wide)."""
    text = f"{job.code} {job.community or job.district}".strip()
    if cell_len(text) > cells:
        text = job.community or job.district or job.code
        if cell_len(text) > cells:
            text = job.code
    return fit(text, cells) if cells > 0 else ""


def hours(width: int) -> list[tuple[int, str]]:
    """Where each whole hour's mark goes on the ruler: (cell, ``07``)."""
    return [(column(h * 3600, width), f"{h:02d}") for h in range(BEGIN // 3600, END // 3600)]


def span_of(job: DayJob) -> str:
    """The job's window: ``09:00–11:00`` (latest start plus its length)."""
    return f"{clock(job.earliest)}–{clock(job.latest + job.seconds)}"


# --- pinning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A worker the operator might pin a job to; ``why`` says what stops her, if anything."""

    worker_id: str
    code: str
    name: str
    allowed: bool
    why: str
    planned: bool


def candidates(board: Board, job_id: str) -> list[Candidate]:
    """Every worker of the day for ``job_id``: those the rules allow first, the planned one
    at the top; the others with the rules that stop them (a pin to them is refused)."""
    job = board.job(job_id)
    placed = board.visit(job_id)
    planned_id = placed[0].worker.id if placed else None
    out = []
    for worker in board.inputs.workers:
        rules = job.excluded.get(worker.id, {})
        words = [
            RULE_WORDS.get(rule, rule) + (f" {detail}" if detail else "")
            for rule, detail in rules.items()
        ]
        if not worker.shifts and worker.off_reason:
            words.append(worker.off_reason)
        out.append(
            Candidate(
                worker.id,
                worker.code,
                worker.name,
                not rules,
                "、".join(words),
                worker.id == planned_id,
            )
        )
    out.sort(key=lambda c: (not c.planned, not c.allowed, c.code))
    return out
