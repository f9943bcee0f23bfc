"""Survey responses (满意度调查), SPEC §2 and §6: scores typed in, and the summary — the average
of each dimension and the NPS — for a period, a worker, a service; from order ratings and
return visits alike, on real archives in temp dirs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hk.errors import UsageError
from hk.services.surveys import parse_scores, summarise
from hk.store.archive import Archive
from tests.orders_support import TZ, Shop, make_shop, when

DIMENSIONS = ("quality", "attitude", "hygiene", "punctuality", "overall")


def row(*scores: int, nps: int | None = None) -> dict[str, Any]:
    return {**dict(zip(DIMENSIONS, scores, strict=True)), "nps": nps}


# --- typing scores in --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "5/4/3/2/1",
        "5,4,3,2,1",
        "5 4 3 2 1",
        "5，4，3，2，1",
        "quality=5,attitude=4,hygiene=3,punctuality=2,overall=1",
        "overall=1, punctuality=2, hygiene=3, attitude=4, quality=5",
        "质量=5,态度=4,卫生=3,准时=2,总体=1",
        "q=5,a=4,h=3,p=2,o=1",
    ],
)
def test_scores_are_read_in_order_or_by_name(text: str) -> None:
    assert parse_scores(text) == {
        "quality": 5,
        "attitude": 4,
        "hygiene": 3,
        "punctuality": 2,
        "overall": 1,
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("5/4/3/2", "not five scores"),
        ("5/4/3/2/1/5", "not five scores"),
        ("5/4/3/2/0", "not a score from 1 to 5"),
        ("5/4/3/2/x", "not a score"),
        ("quality=5,quality=4,hygiene=3,punctuality=2,overall=1", "given twice"),
        ("quality=5,attitude=4", "missing hygiene, punctuality, overall"),
        ("taste=5", "'taste' is not a score"),
        ("5/4/3/2/overall=1", "not five scores"),
    ],
)
def test_scores_typed_wrong_are_refused_with_the_form(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words) as refused:
        parse_scores(text)
    assert "5/5/4/5/5" in str(refused.value.hint)


# --- the figures -------------------------------------------------------------------------------


def test_nothing_to_sum() -> None:
    found = summarise([])
    assert found.count == 0 and found.nps is None
    assert found.averages == dict.fromkeys(DIMENSIONS)


def test_averages_per_dimension_round_half_up_to_two_decimals() -> None:
    rows = [
        row(5, 4, 3, 2, 1),
        row(4, 4, 3, 2, 2),
        row(4, 5, 3, 3, 2),
        row(4, 4, 4, 3, 1),
        row(4, 4, 3, 3, 2),
        row(4, 4, 3, 3, 2),
        row(4, 4, 3, 3, 2),
        row(4, 4, 3, 3, 2),
    ]
    found = summarise(rows)
    assert found.count == 8
    assert found.averages == {
        "quality": 4.13,
        "attitude": 4.13,
        "hygiene": 3.13,
        "punctuality": 2.75,
        "overall": 1.75,
    }
    assert (
        summarise([row(5, 5, 5, 5, 4), row(4, 4, 4, 4, 4), row(4, 4, 4, 4, 4)]).averages["quality"]
        == 4.33
    )


@pytest.mark.parametrize(
    ("answers", "nps"),
    [
        ([10, 9, 9], 100),
        ([0, 6, 3], -100),
        ([7, 8, 7, 8], 0),
        ([9, 7, 6], 0),
        ([9, 7, 7], 33),
        ([9, 9, 6], 33),
        ([10, 6, 6], -33),
        ([9, 9, 8], 67),
        ([9, 7, 7, 7, 7, 7, 7, 7], 13),
        ([6, 7, 7, 7, 7, 7, 7, 7], -13),
        ([10], 100),
        ([6], -100),
    ],
)
def test_nps_is_promoters_less_detractors_in_points(answers: list[int], nps: int) -> None:
    found = summarise([row(5, 5, 5, 5, 5, nps=n) for n in answers])
    assert found.nps == nps
    assert found.promoters + found.passives + found.detractors == found.answered_nps == len(answers)


def test_nps_counts_only_those_who_answered_it() -> None:
    found = summarise([row(5, 5, 5, 5, 5, nps=10), row(5, 5, 5, 5, 5), row(1, 5, 5, 5, 5)])
    assert (found.count, found.answered_nps, found.nps, found.low) == (3, 1, 100, 1)
    assert summarise([row(5, 5, 5, 5, 5)]).nps is None


def test_nine_is_a_promoter_seven_a_passive_six_a_detractor() -> None:
    found = summarise([row(5, 5, 5, 5, 5, nps=n) for n in (9, 8, 7, 6, 0)])
    assert (found.promoters, found.passives, found.detractors) == (1, 2, 2)


def test_low_counts_a_score_at_or_below_the_setting() -> None:
    rows = [row(3, 5, 5, 5, 5), row(2, 5, 5, 5, 5), row(5, 5, 5, 5, 1)]
    assert summarise(rows).low == 2
    assert summarise(rows, low_score=3).low == 3


# --- on a real archive -------------------------------------------------------------------------


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def done_order(shop: Shop, day: int, *args: str, worker: str | None = None) -> str:
    code = shop.dispatched("--start", when(day), *args, worker=worker)
    shop.cli.ok("order", "start", code)
    shop.cli.ok("order", "finish", code, "--all-ok")
    return code


def rate(shop: Shop, code: str, scores: str, nps: int | None = None) -> None:
    numbers = scores.split("/")
    args = [a for d, n in zip(DIMENSIONS, numbers, strict=True) for a in (f"--{d}", n)]
    shop.cli.ok("order", "rate", code, *args, *(["--nps", str(nps)] if nps is not None else []))


def test_summary_by_worker_service_and_period(shop: Shop) -> None:
    other = shop.worker(skills=[{"name": "家电清洗", "level": 4}])
    first = done_order(shop, 0)
    second = done_order(shop, 1, "--service", "JD-AC", worker=other)
    rate(shop, first, "5/5/4/5/5", 10)
    rate(shop, second, "3/4/3/4/3", 6)
    shop.cli.ok(
        "visit",
        "log",
        shop.customer,
        "--method",
        "phone",
        "--scores",
        "4/4/4/4/4",
        "--nps",
        "8",
        "--type",
        "periodic",
    )
    whole = shop.cli.json("survey", "summary")
    assert whole["count"] == 3 and whole["nps"] == 0
    assert whole["averages"]["quality"] == 4.0 and whole["averages"]["overall"] == 4.0
    mine = shop.cli.json("survey", "summary", "--worker", shop.cleaner)
    assert (mine["count"], mine["nps"], mine["filters"]) == (1, 100, {"worker": shop.cleaner})
    theirs = shop.cli.json("survey", "summary", "--worker", other)
    assert (theirs["count"], theirs["nps"], theirs["averages"]["hygiene"]) == (1, -100, 3.0)
    ac = shop.cli.json("survey", "summary", "--service", "jd-ac")
    assert ac["count"] == 1 and ac["averages"]["quality"] == 3.0
    today = dt.datetime.now(TZ).date()
    period = shop.cli.json(
        "survey", "summary", "--from", today.isoformat(), "--to", today.isoformat()
    )
    assert period["count"] == 3
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert shop.cli.json("survey", "summary", "--from", tomorrow)["count"] == 0
    by_phone = shop.cli.json("survey", "summary", "--channel", "电话")
    assert by_phone["count"] == 1 and by_phone["nps"] == 0
    text = shop.cli.ok("survey", "summary").stdout
    assert "共 3 份" in text and "服务质量  4.00" in text
    assert "NPS     +0（推荐 1，中立 1，贬损 1，共 3 人回答）" in text
    reversed_days = shop.cli("survey", "summary", "--from", tomorrow, "--to", today.isoformat())
    assert reversed_days.exit_code == 2


def test_survey_list_shows_each_response(shop: Shop) -> None:
    code = done_order(shop, 0)
    rate(shop, code, "5/4/5/3/4")
    shop.cli.ok(
        "visit",
        "log",
        shop.customer,
        "--method",
        "wechat",
        "--scores",
        "5/5/5/5/5",
        "--nps",
        "9",
        "--comment",
        "很好",
    )
    items = shop.cli.json("survey", "list")
    assert [i["channel"] for i in items] == ["order_rate", "wechat"]
    assert items[0]["customer_name"] == "张三" and items[0]["worker_names"] == [
        f"{shop.cleaner} 王秀英"
    ]
    assert items[1]["nps"] == 9
    assert [
        i["channel"]
        for i in shop.cli.json("survey", "list", "--customer", shop.customer, "--channel", "wechat")
    ] == ["wechat"]
    table = shop.cli.ok("survey", "list").stdout.splitlines()
    assert table[0].split() == [
        "编号",
        "日期",
        "客户",
        "渠道",
        "质量",
        "态度",
        "卫生",
        "准时",
        "总体",
        "NPS",
        "阿姨",
    ]
    assert "订单评价" in table[1] and "微信" in table[2]
    assert shop.cli("survey", "list", "--channel", "fax").exit_code == 2


def test_an_empty_summary_says_so(shop: Shop) -> None:
    out = shop.cli.ok("survey", "summary").stdout
    assert out == "满意度汇总（全部）  共 0 份\n  NPS     无（没有推荐度回答）\n"
