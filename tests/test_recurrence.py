"""The visits a schedule stands for (hk.domain.recurrence): one test per rule, fixed dates.

Pure: no archive, no clock. 2027-03-01 is a Monday; 2028 is a leap year.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from hk.domain.common import DateSpan
from hk.domain.recurrence import (
    Skipped,
    falls_on,
    occurrences,
    schedule_days,
    window_on,
)
from hk.domain.schedule import Schedule
from hk.domain.settings import Calendar, Settings
from hk.domain.worker import Leave

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON = dt.date(2027, 3, 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def schedule(rule: str = "weekly", **fields: Any) -> Schedule:
    data: dict[str, Any] = {
        "rule": rule,
        "time": "09:00-12:00",
        "starts": MON,
        "services": [{"service": "BJ-HOURLY"}],
    }
    if rule == "weekly":
        data["days"] = ["tue"]
    return Schedule.model_validate({**data, **fields})


def days(s: Schedule, first: str, last: str, **bounds: Any) -> list[str]:
    return [day.isoformat() for day in schedule_days(s, d(first), d(last), **bounds)]


# --- the rules ---------------------------------------------------------------------------------


def test_weekly_falls_on_the_named_days_of_every_week() -> None:
    s = schedule(days=["tue", "fri"])
    assert days(s, "2027-03-01", "2027-03-14") == [
        "2027-03-02",
        "2027-03-05",
        "2027-03-09",
        "2027-03-12",
    ]


def test_every_other_week_counts_weeks_from_the_week_of_starts() -> None:
    # starts on a Thursday: the week of starts (from Monday 03-01) is week 0, so the Tuesday
    # before starts is not a visit, the Tuesday of week 2 is
    s = schedule(days=["tue", "fri"], interval=2, starts=d("2027-03-04"))
    assert days(s, "2027-03-01", "2027-03-31") == [
        "2027-03-05",
        "2027-03-16",
        "2027-03-19",
        "2027-03-30",
    ]


def test_every_other_week_keeps_its_rhythm_whatever_day_generation_starts() -> None:
    s = schedule(interval=2)
    everything = days(s, "2027-03-01", "2027-06-30")
    assert days(s, "2027-04-07", "2027-06-30") == [x for x in everything if x >= "2027-04-07"]
    assert everything[:3] == ["2027-03-02", "2027-03-16", "2027-03-30"]


def test_weekdays_are_monday_to_friday() -> None:
    s = schedule("weekdays")
    assert days(s, "2027-03-04", "2027-03-10") == [
        "2027-03-04",
        "2027-03-05",
        "2027-03-08",
        "2027-03-09",
        "2027-03-10",
    ]


def test_daily_is_every_day_across_a_month_end() -> None:
    s = schedule("daily", starts=d("2027-02-27"))
    assert days(s, "2027-02-01", "2027-03-02") == [
        "2027-02-27",
        "2027-02-28",
        "2027-03-01",
        "2027-03-02",
    ]


def test_every_other_day_counts_from_starts() -> None:
    s = schedule("every_n_days", interval=2, starts=d("2027-03-03"))
    assert days(s, "2027-03-01", "2027-03-10") == [
        "2027-03-03",
        "2027-03-05",
        "2027-03-07",
        "2027-03-09",
    ]
    # asked from a day off the rhythm, the rhythm holds
    assert days(s, "2027-03-06", "2027-03-10") == ["2027-03-07", "2027-03-09"]
    assert days(s, "2027-03-07", "2027-03-07") == ["2027-03-07"]


def test_every_three_days_runs_through_the_leap_day() -> None:
    s = schedule("every_n_days", interval=3, starts=d("2028-02-23"))
    assert days(s, "2028-02-20", "2028-03-08") == [
        "2028-02-23",
        "2028-02-26",
        "2028-02-29",
        "2028-03-03",
        "2028-03-06",
    ]


def test_the_leap_day_is_a_tuesday_like_any_other() -> None:
    s = schedule(starts=d("2028-02-01"))
    assert "2028-02-29" in days(s, "2028-02-01", "2028-03-31")
    assert falls_on(s, d("2028-02-29"))


def test_month_ends_of_short_and_long_months() -> None:
    s = schedule("daily", starts=d("2027-01-30"))
    got = days(s, "2027-01-30", "2027-05-01")
    for month_end in ("2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"):
        assert month_end in got
    assert len(got) == (d("2027-05-01") - d("2027-01-30")).days + 1


def test_no_visit_before_starts_or_after_ends() -> None:
    s = schedule("daily", starts=d("2027-03-03"), ends=d("2027-03-05"))
    assert days(s, "2027-03-01", "2027-03-31") == ["2027-03-03", "2027-03-04", "2027-03-05"]
    assert not falls_on(s, d("2027-03-02")) and not falls_on(s, d("2027-03-06"))


def test_a_schedule_that_ends_before_the_horizon_stops_there() -> None:
    s = schedule(ends=d("2027-03-20"))
    assert days(s, "2027-03-01", "2027-12-31") == ["2027-03-02", "2027-03-09", "2027-03-16"]


def test_the_contracts_term_bounds_the_visits_too() -> None:
    s = schedule("weekdays")
    assert days(s, "2027-03-01", "2027-03-31", start=d("2027-03-10"), end=d("2027-03-12")) == [
        "2027-03-10",
        "2027-03-11",
        "2027-03-12",
    ]


def test_nothing_when_the_range_is_empty_or_before_starts() -> None:
    s = schedule("daily", starts=d("2027-06-01"))
    assert days(s, "2027-03-01", "2027-05-31") == []
    assert days(s, "2027-07-02", "2027-07-01") == []


# --- windows -----------------------------------------------------------------------------------


def test_a_window_is_the_schedules_time_in_the_archives_timezone() -> None:
    found = occurrences(schedule(), MON, d("2027-03-09"), "Asia/Shanghai")
    assert [(v.day, v.start, v.end) for v in found.visits] == [
        (
            d("2027-03-02"),
            dt.datetime(2027, 3, 2, 9, tzinfo=SHANGHAI),
            dt.datetime(2027, 3, 2, 12, tzinfo=SHANGHAI),
        ),
        (
            d("2027-03-09"),
            dt.datetime(2027, 3, 9, 9, tzinfo=SHANGHAI),
            dt.datetime(2027, 3, 9, 12, tzinfo=SHANGHAI),
        ),
    ]
    assert found.visits[0].start.utcoffset() == dt.timedelta(hours=8)
    assert found.visits[0].start.isoformat() == "2027-03-02T09:00:00+08:00"


def test_shanghai_has_no_daylight_saving_so_every_window_is_utc_plus_8() -> None:
    found = occurrences(
        schedule("daily", starts=d("2027-01-01")), d("2027-01-01"), d("2027-12-31"), SHANGHAI
    )
    assert len(found.visits) == 365
    assert {v.start.utcoffset() for v in found.visits} == {dt.timedelta(hours=8)}
    assert {v.end - v.start for v in found.visits} == {dt.timedelta(hours=3)}


def test_in_a_zone_with_daylight_saving_the_wall_clock_time_is_kept() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # clocks go forward on 2027-03-28
    s = schedule("daily", starts=d("2027-03-27"))
    before, after = (window_on(s, d(day), berlin)[0] for day in ("2027-03-27", "2027-03-29"))
    assert (before.hour, after.hour) == (9, 9)
    assert before.utcoffset() == dt.timedelta(hours=1)
    assert after.utcoffset() == dt.timedelta(hours=2)


# --- skipped days ------------------------------------------------------------------------------


def test_a_closed_day_is_skipped_with_its_reason() -> None:
    calendar = Calendar(closed=["2027-03-09 店休"])
    found = occurrences(schedule(), MON, d("2027-03-16"), SHANGHAI, calendar=calendar)
    assert [v.day.isoformat() for v in found.visits] == ["2027-03-02", "2027-03-16"]
    assert found.skipped == [Skipped(d("2027-03-09"), "closed", "店休")]
    assert found.skipped[0].text_zh() == "公司休息（店休）"


def test_a_closed_range_and_a_closed_weekday_are_skipped() -> None:
    calendar = Calendar(closed=["2027-03-03..2027-03-05 春节"], closed_weekdays=["mon"])
    found = occurrences(schedule("weekdays"), MON, d("2027-03-09"), SHANGHAI, calendar=calendar)
    assert [v.day.isoformat() for v in found.visits] == ["2027-03-02", "2027-03-09"]
    assert [(s.day.isoformat(), s.detail) for s in found.skipped] == [
        ("2027-03-01", "每周一休息"),
        ("2027-03-03", "春节"),
        ("2027-03-04", "春节"),
        ("2027-03-05", "春节"),
        ("2027-03-08", "每周一休息"),
    ]


def test_the_workers_leave_is_skipped_with_its_reason() -> None:
    leave = [Leave(start=d("2027-03-08"), end=d("2027-03-12"), reason="探亲")]
    found = occurrences(schedule(), MON, d("2027-03-16"), SHANGHAI, leave=leave)
    assert [v.day.isoformat() for v in found.visits] == ["2027-03-02", "2027-03-16"]
    assert found.skipped == [Skipped(d("2027-03-09"), "leave", "探亲")]
    assert found.skipped[0].text_zh() == "阿姨请假（探亲）"


def test_leave_without_a_reason_is_still_leave() -> None:
    found = occurrences(
        schedule(),
        MON,
        d("2027-03-02"),
        SHANGHAI,
        leave=[DateSpan(start=d("2027-03-02"), end=d("2027-03-02"))],
    )
    assert found.visits == []
    assert found.skipped[0].text_zh() == "阿姨请假"


def test_a_day_both_closed_and_on_leave_counts_as_closed() -> None:
    found = occurrences(
        schedule(),
        MON,
        d("2027-03-02"),
        SHANGHAI,
        calendar=Calendar(closed=["2027-03-02"]),
        leave=[Leave(start=d("2027-03-01"), end=d("2027-03-05"))],
    )
    assert found.skipped == [Skipped(d("2027-03-02"), "closed", "公司休息日")]


def test_days_the_schedule_does_not_name_are_not_reported_as_skipped() -> None:
    found = occurrences(
        schedule(),
        MON,
        d("2027-03-07"),
        SHANGHAI,
        calendar=Calendar(closed=["2027-03-01..2027-03-07"]),
    )
    assert [s.day.isoformat() for s in found.skipped] == ["2027-03-02"]


# --- the [calendar] settings -------------------------------------------------------------------


def test_closed_days_are_written_one_way() -> None:
    calendar = Calendar(
        closed=[d("2027-05-01"), " 2027-10-01 .. 2027-10-07  国庆 ", "2027-02-16..2027-02-16"]
    )
    assert calendar.closed == ["2027-05-01", "2027-10-01..2027-10-07 国庆", "2027-02-16"]
    assert calendar.closed_on(d("2027-10-07")) == "国庆"
    assert calendar.closed_on(d("2027-10-08")) is None


@pytest.mark.parametrize("bad", ["2027-02-30", "2027-03-10..2027-03-01", "春节", "2027/02/16"])
def test_a_closed_day_that_is_not_a_day_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="closed"):
        Calendar(closed=[bad])


def test_a_closed_weekday_must_be_a_weekday_and_listed_once() -> None:
    with pytest.raises(ValidationError):
        Calendar.model_validate({"closed_weekdays": ["sunday"]})
    with pytest.raises(ValidationError, match="listed twice"):
        Calendar(closed_weekdays=["sun", "sun"])


def test_settings_without_a_calendar_section_close_no_day() -> None:
    settings = Settings(archive_id="x")
    assert settings.calendar.closed == [] and settings.calendar.closed_weekdays == []
    assert settings.calendar.closed_on(MON) is None
