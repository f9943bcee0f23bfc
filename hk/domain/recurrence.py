"""When a recurring service happens: the visits a :class:`Schedule` stands for between two days.

Pure: the schedule, the days asked for, the company's calendar and the worker's leave go in; the
visits (timezone-aware windows) and the days left out, each with its reason, come out. The
order generator (:mod:`hk.services.orders.recurring`) turns the visits into orders; a preview, a
reminder or a report may read them the same way.

The rules, as :mod:`hk.domain.schedule` states them:

- a visit falls on a day the rule names (``weekly`` days every ``interval`` weeks, counted from
  the Monday of the week of ``starts``; ``weekdays`` Monday to Friday; ``daily``;
  ``every_n_days`` on ``starts`` and every ``interval`` days after it), never before
  ``starts`` nor after ``ends``, and never outside the contract's own start and end;
- its window is the schedule's ``time`` on that day, on the wall clock of the archive's
  timezone (09:00 stays 09:00 across a daylight-saving change, in a zone that has one);
- a day the company is closed (``[calendar]`` in ``hk.toml``) or the worker is on leave is
  skipped, and said why: the visit is not moved to another day, since a customer who pays
  for Tuesdays expects the operator to agree any other day with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from hk.domain.common import DateSpan
from hk.domain.schedule import WEEKDAYS, Schedule
from hk.domain.settings import Calendar

SkipReason = Literal["closed", "leave"]
SKIP_ZH: dict[str, str] = {"closed": "公司休息", "leave": "阿姨请假"}


@dataclass(frozen=True)
class Visit:
    """One visit the schedule stands for: its day and its window, both in the archive's zone."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Skipped:
    """A day the schedule names on which no visit happens, and why."""

    day: dt.date
    reason: SkipReason
    detail: str = ""

    def text_zh(self) -> str:
        """``公司休息（春节）``, ``阿姨请假（探亲）``: what the report shows."""
        why = SKIP_ZH[self.reason]
        return f"{why}（{self.detail}）" if self.detail and self.detail != why else why


@dataclass
class Occurrences:
    """The visits in date order, and the days skipped, in date order too."""

    visits: list[Visit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def falls_on(schedule: Schedule, day: dt.date) -> bool:
    """True if the schedule's rule names ``day`` (within ``starts`` … ``ends``)."""
    if day < schedule.starts or (schedule.ends is not None and day > schedule.ends):
        return False
    if schedule.rule == "daily":
        return True
    if schedule.rule == "weekdays":
        return day.weekday() < 5
    if schedule.rule == "every_n_days":
        return (day - schedule.starts).days % schedule.interval == 0
    if WEEKDAYS[day.weekday()] not in schedule.days:
        return False
    weeks = (_monday(day) - _monday(schedule.starts)).days // 7
    return weeks % schedule.interval == 0


def schedule_days(
    schedule: Schedule,
    first: dt.date,
    last: dt.date,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Iterator[dt.date]:
    """The days from ``first`` to ``last`` (both included) the schedule names, in order.

    ``start`` and ``end`` are the contract's own dates: no visit falls outside them either.
    """
    low = max(d for d in (first, schedule.starts, start) if d is not None)
    high = min(d for d in (last, schedule.ends, end) if d is not None)
    day = low
    step = dt.timedelta(days=1)
    if schedule.rule == "every_n_days":
        # jump to the first day of the rhythm on or after ``low``
        behind = (low - schedule.starts).days % schedule.interval
        if behind:
            day = low + dt.timedelta(days=schedule.interval - behind)
        step = dt.timedelta(days=schedule.interval)
    while day <= high:
        if falls_on(schedule, day):
            yield day
        day += step


def window_on(
    schedule: Schedule, day: dt.date, tz: str | ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The visit's start and end on ``day``, on the wall clock of ``tz``."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return (
        dt.datetime.combine(day, schedule.start_time(), tzinfo=zone),
        dt.datetime.combine(day, schedule.end_time(), tzinfo=zone),
    )


def occurrences(
    schedule: Schedule,
    first: dt.date,
    last: dt.date,
    tz: str | ZoneInfo,
    *,
    calendar: Calendar | None = None,
    leave: Sequence[DateSpan] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Occurrences:
    """The visits of ``schedule`` from ``first`` to ``last``, and the days skipped, with why.

    ``calendar`` gives the days the company is closed; ``leave`` the worker's days off (each
    span both ends included; a :class:`hk.domain.worker.Leave` also gives its reason). A day
    that is both closed and a day of leave is reported as closed: nobody works that day.
    ``start``/``end`` bound the visits to the contract's term.
    """
    found = Occurrences()
    for day in schedule_days(schedule, first, last, start=start, end=end):
        closed = calendar.closed_on(day) if calendar is not None else None
        if closed:
            found.skipped.append(Skipped(day, "closed", closed))
            continue
        away = next((span for span in leave if span.covers(day)), None)
        if away is not None:
            found.skipped.append(Skipped(day, "leave", str(getattr(away, "reason", ""))))
            continue
        begin, finish = window_on(schedule, day, tz)
        found.visits.append(Visit(day, begin, finish))
    return found
