"""The schedule of a recurring service (周期服务): which days, what time, which services.

A package or service contract (包月保洁, 每周两次钟点工 …) carries one :class:`Schedule`; the
orders it stands for are generated from it elsewhere (:mod:`hk.domain.recurrence`). This module
only says what a schedule *is* and how it reads, so that the contract, the order generator and a
hand-edited file all agree on one shape:

- ``weekly``: on the listed ``days``, every ``interval`` weeks (``interval`` 2 = 隔周), the
  weeks counted from the week of ``starts``;
- ``weekdays``: Monday to Friday (工作日), every week;
- ``daily``: every day;
- ``every_n_days``: ``starts``, then every ``interval`` days after it (2 = 隔天).

``time`` is the visit's window on the day, ``HH:MM-HH:MM``, starting before it ends on the same
day. ``starts`` is the first day the schedule may produce a visit, ``ends`` (inclusive) the last.

The command line writes a schedule in a short form, read by :func:`parse_schedule`::

    weekly:tue,fri 09:00-12:00      每周二、周五
    weekly/2:mon 09:00-12:00        每2周的周一
    weekdays 14:00-16:00            工作日
    daily 08:00-10:00               每天
    every:2 09:00-11:00             每隔1天
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from hk.domain.base import Strict
from hk.domain.catalog import CATALOG_CODE
from hk.domain.common import duplicates

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""In calendar order: ``WEEKDAYS[date.weekday()]`` is that date's weekday."""
WEEKDAY_ZH: dict[str, str] = {
    "mon": "周一",
    "tue": "周二",
    "wed": "周三",
    "thu": "周四",
    "fri": "周五",
    "sat": "周六",
    "sun": "周日",
}
Rule = Literal["weekly", "weekdays", "daily", "every_n_days"]
RULE_ZH: dict[str, str] = {
    "weekly": "每周",
    "weekdays": "工作日",
    "daily": "每天",
    "every_n_days": "每隔N天",
}

TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
"""``HH:MM-HH:MM`` on a 24-hour clock; ``24:00`` is not a time of day."""

Quantity = Annotated[Decimal, Field(gt=0, le=10_000, decimal_places=2)]


class ScheduleLine(Strict):
    """One service each visit brings, with its quantity (hours, m² …) when not the default."""

    service: str = Field(pattern=CATALOG_CODE, description="catalog code of the service item")
    quantity: Quantity | None = Field(
        None, description="per visit; none means the service's default quantity"
    )

    @field_validator("quantity")
    @classmethod
    def _one_text(cls, value: Decimal | None) -> Decimal | None:
        """One text per quantity: ``3.0`` is kept as ``3``."""
        return None if value is None else Decimal(format(value.normalize(), "f"))


class Schedule(Strict):
    """When a recurring service happens; see the module docstring for each rule."""

    rule: Rule
    days: list[Weekday] = Field(default_factory=list, description="weekly only")
    interval: int = Field(
        1, ge=1, le=52, description="weekly: every N weeks; every_n_days: every N days"
    )
    time: str = Field(description="HH:MM-HH:MM, e.g. 09:00-12:00")
    starts: dt.date = Field(description="first day it may produce a visit")
    ends: dt.date | None = Field(None, description="last day (inclusive), or open-ended")
    services: list[ScheduleLine] = Field(min_length=1)

    @field_validator("days")
    @classmethod
    def _calendar_order(cls, value: list[Weekday]) -> list[Weekday]:
        """Days kept in calendar order, so a file reads the same whoever wrote it."""
        twice = duplicates(list(value))
        if twice:
            raise ValueError(f"listed twice: {', '.join(twice)}")
        return sorted(value, key=WEEKDAYS.index)

    @field_validator("time")
    @classmethod
    def _time_range(cls, value: str) -> str:
        match = TIME_RANGE.match(value.replace(" ", ""))
        if not match:
            raise ValueError(f"'{value}' is not a time range like 09:00-12:00")
        start, end = value.replace(" ", "").split("-")
        if end <= start:
            raise ValueError(f"'{value}' ends before (or when) it starts")
        return f"{start}-{end}"

    @model_validator(mode="after")
    def _rule_fits(self) -> Schedule:
        if self.rule == "weekly" and not self.days:
            raise ValueError("a weekly schedule needs its days (e.g. tue, fri)")
        if self.rule != "weekly" and self.days:
            raise ValueError(f"days are for a weekly schedule, not {self.rule}")
        if self.rule in ("weekdays", "daily") and self.interval != 1:
            raise ValueError(f"a {self.rule} schedule has no interval (got {self.interval})")
        if self.ends is not None and self.ends < self.starts:
            raise ValueError(f"the schedule ends ({self.ends}) before it starts ({self.starts})")
        twice = duplicates([line.service for line in self.services])
        if twice:
            raise ValueError(f"service listed twice: {', '.join(twice)}")
        return self

    def start_time(self) -> dt.time:
        """When each visit starts."""
        return dt.time.fromisoformat(self.time.split("-")[0])

    def end_time(self) -> dt.time:
        """When each visit ends (same day)."""
        return dt.time.fromisoformat(self.time.split("-")[1])

    def text_zh(self) -> str:
        """The schedule as a contract says it: ``每周二、周五 09:00-12:00``."""
        return f"{self.rule_zh()} {self.time}"

    def rule_zh(self) -> str:
        """The days part alone: ``每周二、周五``, ``每2周的周一``, ``工作日``, ``每隔1天``."""
        if self.rule == "weekly":
            days = "、".join(WEEKDAY_ZH[d] for d in self.days)
            if self.interval == 1:
                return "每" + days
            return f"每{self.interval}周的{days}"
        if self.rule == "weekdays":
            return "工作日"
        if self.rule == "daily" or self.interval == 1:
            return "每天"
        return f"每隔{self.interval - 1}天"

    def short(self) -> str:
        """The command-line form of this schedule (what :func:`parse_schedule` reads)."""
        if self.rule == "weekly":
            every = "" if self.interval == 1 else f"/{self.interval}"
            return f"weekly{every}:{','.join(self.days)} {self.time}"
        if self.rule == "every_n_days":
            return f"every:{self.interval} {self.time}"
        return f"{self.rule} {self.time}"


_DAY_NAMES: dict[str, Weekday] = {
    **{d: d for d in WEEKDAYS},
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    "周一": "mon",
    "周二": "tue",
    "周三": "wed",
    "周四": "thu",
    "周五": "fri",
    "周六": "sat",
    "周日": "sun",
    "周天": "sun",
    "一": "mon",
    "二": "tue",
    "三": "wed",
    "四": "thu",
    "五": "fri",
    "六": "sat",
    "日": "sun",
}

SCHEDULE_FORMS = (
    "weekly:tue,fri 09:00-12:00",
    "weekly/2:mon 09:00-12:00",
    "weekdays 14:00-16:00",
    "daily 08:00-10:00",
    "every:2 09:00-11:00",
)
"""Examples of the short form, for help texts and error hints."""

_SHORT = re.compile(
    r"^(?P<rule>weekly|weekdays|daily|every)(?:/(?P<weeks>\d+))?(?::(?P<arg>\S+))?"
    r"\s+(?P<time>\S+)$"
)


class ScheduleError(ValueError):
    """A schedule the user wrote that cannot be read or breaks a rule; the text says which."""


def line_of(text: str) -> ScheduleLine:
    """``BJ-DAILY`` or ``BJ-DAILY:3`` (3 of the service's unit per visit) → a line."""
    code, _, qty = text.strip().partition(":")
    quantity: Decimal | None = None
    if qty:
        try:
            quantity = Decimal(qty)
        except InvalidOperation:
            raise ScheduleError(f"'{qty}' is not a quantity (in '{text}')") from None
    try:
        return ScheduleLine(service=code.strip().upper(), quantity=quantity)
    except ValidationError as exc:
        raise ScheduleError(_first_message(exc, text)) from None


def parse_schedule(
    text: str,
    starts: dt.date,
    ends: dt.date | None = None,
    services: Iterable[str | ScheduleLine | tuple[str, Decimal | None]] = (),
) -> Schedule:
    """Read the short form (see the module docstring) into a validated :class:`Schedule`.

    ``services`` are the lines each visit brings: ``ScheduleLine``, ``(code, quantity or
    None)`` or ``"CODE[:QTY]"``. Raises :class:`ScheduleError` with a readable message.
    """
    match = _SHORT.match(" ".join(text.strip().lower().split()))
    if not match:
        raise ScheduleError(
            f"'{text}' is not a schedule; write it like one of: " + "; ".join(SCHEDULE_FORMS)
        )
    rule_word, weeks, arg, time = match["rule"], match["weeks"], match["arg"], match["time"]
    days: list[str] = []
    interval = 1
    if rule_word == "weekly":
        if not arg:
            raise ScheduleError("a weekly schedule needs its days: weekly:tue,fri 09:00-12:00")
        days = [_day_of(part) for part in re.split(r"[,，、]", arg) if part]
        interval = int(weeks) if weeks else 1
        rule = "weekly"
    elif weeks:
        raise ScheduleError(f"'/{weeks}' (every N weeks) is for weekly schedules only")
    elif rule_word == "every":
        if not arg or not arg.isdigit():
            raise ScheduleError("write every N days as every:N, e.g. every:2 09:00-11:00")
        interval, rule = int(arg), "every_n_days"
    else:
        if arg:
            raise ScheduleError(f"'{rule_word}' takes no ':{arg}'")
        rule = rule_word
    lines = [_as_line(s) for s in services]
    try:
        return Schedule.model_validate(
            {
                "rule": rule,
                "days": days,
                "interval": interval,
                "time": time,
                "starts": starts,
                "ends": ends,
                "services": lines,
            }
        )
    except ValidationError as exc:
        raise ScheduleError(_first_message(exc, text)) from None


def _day_of(word: str) -> str:
    day = _DAY_NAMES.get(word.strip().lower())
    if day is None:
        raise ScheduleError(f"'{word}' is not a weekday; use mon tue wed thu fri sat sun")
    return day


def _as_line(
    value: str | ScheduleLine | tuple[str, Decimal | None] | Sequence[object],
) -> ScheduleLine:
    if isinstance(value, ScheduleLine):
        return value
    if isinstance(value, str):
        return line_of(value)
    code, quantity = value
    try:
        return ScheduleLine.model_validate({"service": code, "quantity": quantity})
    except ValidationError as exc:
        raise ScheduleError(_first_message(exc, str(code))) from None


def _first_message(exc: ValidationError, text: str) -> str:
    messages = []
    for error in exc.errors():
        msg = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(p) for p in error["loc"])
        messages.append(f"{where}: {msg}" if where else msg)
    return f"schedule '{text}': " + "; ".join(messages)
