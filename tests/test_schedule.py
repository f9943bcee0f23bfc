"""The recurring-service schedule: its rules, its Chinese text and the command-line short form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hk.domain.schedule import Schedule, ScheduleError, ScheduleLine, parse_schedule

DAY = dt.date(2025, 3, 4)


def test_weekly_days_in_calendar_order_and_chinese_text() -> None:
    s = parse_schedule("weekly:fri,tue 09:00-12:00", DAY, None, ["BJ-DAILY:3"])
    assert s.rule == "weekly" and s.days == ["tue", "fri"] and s.interval == 1
    assert s.text_zh() == "每周二、周五 09:00-12:00"
    assert s.start_time() == dt.time(9) and s.end_time() == dt.time(12)
    assert s.services == [ScheduleLine(service="BJ-DAILY", quantity=Decimal(3))]
    assert s.short() == "weekly:tue,fri 09:00-12:00"


@pytest.mark.parametrize(
    ("text", "zh"),
    [
        ("weekdays 14:00-16:00", "工作日 14:00-16:00"),
        ("daily 08:00-10:00", "每天 08:00-10:00"),
        ("every:2 09:00-11:00", "每隔1天 09:00-11:00"),
        ("weekly/2:mon 09:00-12:00", "每2周的周一 09:00-12:00"),
        ("weekly:周二,四 09:00-12:00", "每周二、周四 09:00-12:00"),
    ],
)
def test_short_forms(text: str, zh: str) -> None:
    s = parse_schedule(text, DAY, dt.date(2025, 6, 30), [("BJ-DAILY", None)])
    assert s.text_zh() == zh
    assert parse_schedule(s.short(), DAY, s.ends, s.services) == s


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("weekly 09:00-12:00", "needs its days"),
        ("weekly:tue,tue 09:00-12:00", "listed twice"),
        ("weekly:xyz 09:00-12:00", "not a weekday"),
        ("daily 12:00-09:00", "ends before"),
        ("daily 9-12", "not a time range"),
        ("every:x 09:00-10:00", "every:N"),
        ("monthly 09:00-10:00", "not a schedule"),
        ("every:60 09:00-10:00", "interval"),
    ],
)
def test_bad_short_forms_say_why(text: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        parse_schedule(text, DAY, None, ["BJ-DAILY"])


def test_model_rules() -> None:
    base = {
        "rule": "daily",
        "time": "08:00-10:00",
        "starts": DAY,
        "services": [{"service": "BJ-DAILY"}],
    }
    assert Schedule.model_validate(base).days == []
    for bad in (
        {"days": ["mon"]},
        {"interval": 2},
        {"services": []},
        {"ends": DAY - dt.timedelta(days=1)},
        {"services": [{"service": "BJ-DAILY"}, {"service": "BJ-DAILY"}]},
    ):
        with pytest.raises(ValidationError):
            Schedule.model_validate({**base, **bad})
    with pytest.raises(ScheduleError, match="schedule"):
        parse_schedule("daily 08:00-10:00", DAY, None, [])
