"""Return visits (回访), SPEC §2 and §4: each scheduling rule and its edges as pure rules, then
the visits as a new user meets them — through ``hk`` on real archives in temp dirs.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hk.domain.visit.owed import (
    History,
    Owed,
    Rules,
    Seen,
    add_months,
    due_by,
    is_low,
    last_contact,
    owed,
    written_due,
)
from hk.services import visits as visit_service
from hk.store.archive import Archive
from tests.orders_support import TZ, Shop, make_shop, when

RULES = Rules()
SERVED = dt.date(2026, 1, 31)
CUSTOMER = "01KAAAAAAAAAAAAAAAAAAAAAAA"
ORDER = "01KBBBBBBBBBBBBBBBBBBBBBBB"


def seen(
    type_: str,
    status: str,
    due: dt.date,
    done: dt.date | None = None,
    visit_id: str = "01KCCCCCCCCCCCCCCCCCCCCCCC",
) -> Seen:
    return Seen(visit_id, type_, status, due, done)


def history(
    *visits: Seen, services: int = 1, first: dt.date | None = SERVED, contract: bool = False
) -> History:
    return History(
        CUSTOMER, first, ORDER if first else None, services if first else 0, contract, tuple(visits)
    )


def cadence(h: History) -> list[Owed]:
    return [o for o in owed(h, RULES) if o.visit is None]


# --- the rules ---------------------------------------------------------------------------------


def test_no_completed_service_no_visit() -> None:
    assert owed(history(first=None), RULES) == []


def test_the_first_visit_is_due_within_seven_days_of_the_first_service() -> None:
    [first] = owed(history(), RULES)
    assert (first.type, first.due, first.order, first.visit) == (
        "first",
        dt.date(2026, 2, 7),
        ORDER,
        None,
    )
    assert first.key == f"first:{CUSTOMER}"
    assert first.days_overdue(dt.date(2026, 2, 7)) == 0
    assert first.days_overdue(dt.date(2026, 2, 10)) == 3
    assert first.days_overdue(dt.date(2026, 2, 1)) == 0


def test_first_within_days_comes_from_the_settings() -> None:
    [first] = owed(history(), Rules(first_within_days=3))
    assert first.due == dt.date(2026, 2, 3)


def test_any_visit_done_is_the_first_contact() -> None:
    done = seen("low_score", "done", dt.date(2026, 2, 2), dt.date(2026, 2, 1))
    [periodic] = owed(history(done), RULES)
    assert periodic.type == "periodic"
    assert periodic.due == dt.date(2026, 8, 1)


def test_a_one_off_customer_is_visited_every_six_months() -> None:
    done = seen("first", "done", dt.date(2026, 2, 7), dt.date(2026, 2, 5))
    [periodic] = cadence(history(done, services=1))
    assert periodic.due == dt.date(2026, 8, 5)
    assert "单次客户每6个月" in periodic.reason


def test_a_regular_customer_is_visited_every_three_months() -> None:
    done = seen("first", "done", dt.date(2026, 2, 7), dt.date(2026, 2, 5))
    [periodic] = cadence(history(done, services=2))
    assert periodic.due == dt.date(2026, 5, 5)
    assert periodic.key == f"periodic:{CUSTOMER}:2026-05-05"


def test_a_contract_makes_a_regular_customer_even_with_one_service() -> None:
    done = seen("first", "done", dt.date(2026, 2, 7), dt.date(2026, 2, 5))
    [periodic] = cadence(history(done, services=1, contract=True))
    assert periodic.due == dt.date(2026, 5, 5)


def test_the_months_come_from_the_settings() -> None:
    done = seen("first", "done", dt.date(2026, 2, 7), dt.date(2026, 2, 5))
    rules = Rules(active_every_months=2, one_off_every_months=4)
    assert [o.due for o in owed(history(done, services=3), rules)] == [dt.date(2026, 4, 5)]
    assert [o.due for o in owed(history(done, services=1), rules)] == [dt.date(2026, 6, 5)]


def test_a_visit_done_resets_the_periodic_count() -> None:
    first = seen("first", "done", dt.date(2026, 2, 7), dt.date(2026, 2, 5))
    later = seen("periodic", "done", dt.date(2026, 5, 5), dt.date(2026, 6, 20))
    [periodic] = cadence(history(first, later, services=2))
    assert periodic.due == dt.date(2026, 9, 20)
    assert last_contact(history(first, later)) == dt.date(2026, 6, 20)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 3, dt.date(2026, 4, 30)),
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
        (dt.date(2027, 11, 30), 3, dt.date(2028, 2, 29)),
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2028, 2, 29), 6, dt.date(2028, 8, 29)),
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2026, 10, 15), 3, dt.date(2027, 1, 15)),
        (dt.date(2026, 12, 31), 0, dt.date(2026, 12, 31)),
    ],
)
def test_months_later_ends_on_the_last_day_of_a_shorter_month(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(day, months) == expected


def test_a_periodic_visit_from_a_month_end_and_a_leap_day() -> None:
    month_end = seen("first", "done", dt.date(2026, 2, 7), dt.date(2026, 11, 30))
    assert [o.due for o in cadence(history(month_end, services=2))] == [dt.date(2027, 2, 28)]
    leap = seen("periodic", "done", dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert [o.due for o in cadence(history(leap, services=1))] == [dt.date(2028, 8, 29)]


def test_the_first_visit_of_a_service_at_a_year_end() -> None:
    [first] = owed(history(first=dt.date(2026, 12, 28)), RULES)
    assert first.due == dt.date(2027, 1, 4)


def test_cancelling_a_cadence_visit_skips_it() -> None:
    skipped = seen("first", "cancelled", dt.date(2026, 2, 7))
    [periodic] = cadence(history(skipped))
    assert periodic.due == dt.date(2026, 8, 7)
    skipped_periodic = seen("periodic", "cancelled", dt.date(2026, 8, 7))
    assert [o.due for o in cadence(history(skipped, skipped_periodic))] == [dt.date(2027, 2, 7)]


def test_a_cancelled_event_visit_is_no_contact() -> None:
    cancelled = seen("low_score", "cancelled", dt.date(2026, 2, 2))
    assert [o.type for o in owed(history(cancelled), RULES)] == ["first"]


def test_an_open_visit_due_first_stands_in_for_the_computed_one() -> None:
    low = seen("low_score", "due", dt.date(2026, 2, 2))
    found = owed(history(low), RULES)
    assert [(o.type, o.visit is not None) for o in found] == [("low_score", True)]
    assert found[0].key == "visit:01KCCCCCCCCCCCCCCCCCCCCCCC"


def test_an_open_visit_due_later_does_not_hide_one_owed_sooner() -> None:
    new_worker = seen("new_worker", "due", dt.date(2026, 3, 1))
    found = owed(history(new_worker), RULES)
    assert [o.type for o in found] == ["first", "new_worker"]
    assert [o.type for o in due_by(found, dt.date(2026, 2, 10))] == ["first"]


def test_a_cadence_visit_scheduled_by_hand_replaces_the_computed_one() -> None:
    moved = seen("first", "due", dt.date(2026, 3, 15))
    assert [(o.type, o.due) for o in owed(history(moved), RULES)] == [
        ("first", dt.date(2026, 3, 15))
    ]


def test_visits_written_at_an_event_fall_due_after_it() -> None:
    day = dt.date(2026, 2, 27)
    assert written_due("low_score", day, RULES) == dt.date(2026, 2, 28)
    assert written_due("low_score", day, Rules(low_score_within_days=2)) == dt.date(2026, 3, 1)
    assert written_due("after_complaint", day, RULES) == dt.date(2026, 3, 6)
    assert written_due("new_worker", day, Rules(first_within_days=3)) == dt.date(2026, 3, 2)


def test_a_score_at_or_below_the_setting_is_low() -> None:
    assert is_low(2, RULES) and is_low(1, RULES) and not is_low(3, RULES)
    assert is_low(3, Rules(low_score=3))


# --- on a real archive -------------------------------------------------------------------------

SCORES = [
    "--quality",
    "5",
    "--attitude",
    "5",
    "--hygiene",
    "5",
    "--punctuality",
    "5",
    "--overall",
    "5",
]


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def done_order(shop: Shop, day: int = 0) -> str:
    """An order of ``day`` days after the shop's day, served and finished now."""
    code = shop.dispatched("--start", when(day))
    shop.cli.ok("order", "start", code)
    shop.cli.ok("order", "finish", code, "--all-ok")
    return code


def today() -> dt.date:
    return dt.datetime.now(TZ).date()


def head_files(shop: Shop) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(shop.archive.root), "show", "--name-only", "--format=", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split("/")[0] for line in out.stdout.split()]


def due_json(shop: Shop, *args: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = shop.cli.json("visit", "due", *args)
    return data


def test_nothing_is_due_before_a_service_is_done(shop: Shop) -> None:
    shop.dispatched()
    assert due_json(shop, "--days", "400") == []
    assert shop.cli.ok("visit", "due").stdout == ""


def test_a_finished_order_owes_the_first_visit_computed_under_the_customer(shop: Shop) -> None:
    order = done_order(shop)
    due = today() + dt.timedelta(days=7)
    assert due_json(shop) == []
    [item] = due_json(shop, "--date", due.isoformat())
    assert item["type"] == "first" and item["computed"] is True
    assert item["due"] == due.isoformat() and item["days_overdue"] == 0
    assert item["customer_code"] == shop.customer and item["customer_name"] == "张三"
    assert item["order"] == shop.show(order)["id"] and item["visit"] is None
    later = (due + dt.timedelta(days=3)).isoformat()
    assert due_json(shop, "--date", later)[0]["days_overdue"] == 3
    table = shop.cli.ok("visit", "due", "--date", later).stdout.splitlines()
    assert table[0].split() == ["编号", "类型", "应回访", "逾期", "客户", "原因"]
    assert table[1].split()[:4] == [shop.customer, "首次回访", due.isoformat(), "3天"]
    assert due_json(shop, "--days", "7")[0]["type"] == "first"


def test_logging_the_first_visit_by_the_customer_code(shop: Shop) -> None:
    done_order(shop)
    out = shop.cli.ok(
        "visit",
        "log",
        shop.customer,
        "--method",
        "电话",
        "--note",
        "很满意",
        "--scores",
        "5/5/4/5/5",
        "--nps",
        "10",
    ).stdout
    code = out.split()[1].rstrip(":")
    assert out.startswith(f"visit {code}: done, lowest score 4") and code.startswith("V")
    visit = shop.cli.json("visit", "show", code)
    assert (visit["type"], visit["status"], visit["method"], visit["done_by"]) == (
        "first",
        "done",
        "phone",
        "测试员",
    )
    assert visit["outcome"] == "很满意" and visit["derived"]["scores"]["hygiene"] == 4
    survey = shop.cli.json("show", visit["survey"])
    assert survey["channel"] == "phone" and survey["nps"] == 10
    assert survey["services"] == ["BJ-HOURLY"] and survey["workers"] == [shop.cleaner_id]
    assert sorted(head_files(shop)) == ["surveys", "visits"]
    assert due_json(shop, "--days", "100") == []
    [periodic] = due_json(shop, "--days", "200")
    assert periodic["type"] == "periodic"
    assert periodic["due"] == add_months(today(), 6).isoformat()


def test_a_low_rating_can_open_its_complaint_at_once(shop: Shop) -> None:
    order = done_order(shop)
    out = shop.cli.ok(
        "order",
        "rate",
        order,
        "--quality",
        "2",
        "--attitude",
        "5",
        "--hygiene",
        "3",
        "--punctuality",
        "5",
        "--overall",
        "3",
        "--complaint",
        "油烟机没洗干净",
    ).stdout
    assert "complaint T" in out and "opened" in out
    [opened] = shop.cli.json("complaint", "list")
    assert opened["order"] == shop.show(order)["id"] and opened["status"] == "open"


def test_a_second_completed_service_makes_the_visits_three_monthly(shop: Shop) -> None:
    done_order(shop)
    shop.cli.ok("visit", "log", shop.customer, "--method", "wechat")
    done_order(shop, 1)
    [periodic] = visit_service.visits_due(shop.archive, today(), within_days=200)
    assert periodic.owed.due == add_months(today(), 3)
    assert periodic.owed.reason == "老客户每3个月回访"


def test_a_low_rating_schedules_a_follow_up_in_the_same_commit(shop: Shop) -> None:
    order = done_order(shop)
    out = shop.cli.ok(
        "order",
        "rate",
        order,
        "--quality",
        "4",
        "--attitude",
        "5",
        "--hygiene",
        "2",
        "--punctuality",
        "5",
        "--overall",
        "3",
    ).stdout
    assert "low score: return visit V" in out and f"hk complaint open --order {order}" in out
    assert sorted(head_files(shop)) == ["orders", "points", "surveys", "visits"]
    [item] = due_json(shop, "--days", "2")
    assert item["type"] == "low_score" and item["computed"] is False
    assert item["due"] == (today() + dt.timedelta(days=1)).isoformat()
    assert item["reason"] == "评分偏低：卫生 2 分"
    assert item["worker"] == shop.cleaner_id and item["key"] == f"visit:{item['visit']}"
    visit = shop.cli.json("visit", "show", item["code"])
    assert visit["trigger_survey"] == shop.show(order)["rating"]["survey"]


def test_a_good_rating_schedules_nothing(shop: Shop) -> None:
    order = done_order(shop)
    shop.cli.ok("order", "rate", order, *SCORES)
    assert sorted(head_files(shop)) == ["orders", "points", "surveys"]  # with the points earned
    assert [i["type"] for i in due_json(shop, "--days", "7")] == ["first"]


def test_the_low_score_threshold_comes_from_the_settings(shop: Shop) -> None:
    path = shop.archive.root / "hk.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("low_score = 2", "low_score = 3"), encoding="utf-8"
    )
    order = done_order(shop)
    shop.cli.ok("order", "rate", order, *SCORES[:-1], "3")
    assert [i["type"] for i in due_json(shop, "--days", "2")] == ["low_score"]


def test_a_low_score_at_a_visit_schedules_another_and_offers_a_complaint(shop: Shop) -> None:
    order = done_order(shop)
    out = shop.cli.ok(
        "visit",
        "log",
        shop.customer,
        "--method",
        "phone",
        "--scores",
        "3/4/2/5/3",
        "--note",
        "厨房没擦干净",
    ).stdout.splitlines()
    code = out[0].split()[1].rstrip(":")
    assert out[0] == f"visit {code}: done, lowest score 2"
    assert out[1].startswith("  low score: follow-up visit V")
    assert out[2] == (
        f"  to open a complaint: hk complaint open --order {order} --category quality --text '…'"
    )
    visit = shop.cli.json("visit", "show", code)
    follow = shop.cli.json("visit", "show", visit["follow_up"])
    assert (follow["type"], follow["status"], follow["trigger_survey"]) == (
        "low_score",
        "due",
        visit["survey"],
    )
    assert follow["due"] == (today() + dt.timedelta(days=1)).isoformat()
    assert shop.cli.json("complaint", "list") == []


def test_a_complaint_made_at_the_visit_is_opened_in_the_same_commit(shop: Shop) -> None:
    order = done_order(shop)
    data = shop.cli.json(
        "visit",
        "log",
        shop.customer,
        "--method",
        "phone",
        "--scores",
        "3/4/1/5/2",
        "--complaint",
        "油烟机没洗干净",
        "--complaint-category",
        "服务质量",
    )
    opened = data["logged"]["complaint_opened"]
    assert opened["kind"] == "complaint" and opened["code"].startswith("T")
    assert data["logged"]["follow_up_visit"]["code"].startswith("V")
    assert sorted(head_files(shop)) == ["complaints", "surveys", "visits", "visits"]
    complaint = shop.cli.json("complaint", "show", opened["code"])
    assert (complaint["visit"], complaint["order"], complaint["received_via"]) == (
        data["id"],
        shop.show(order)["id"],
        "visit",
    )
    assert complaint["worker"] == shop.cleaner_id and complaint["status"] == "open"


def test_in_a_terminal_a_low_score_asks_about_a_complaint(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hk.commands.visit as visit_command

    done_order(shop)
    monkeypatch.setattr(visit_command, "interactive", lambda: True)
    result = shop.cli(
        "visit",
        "log",
        shop.customer,
        "--method",
        "phone",
        "--scores",
        "2/2/2/2/2",
        "--note",
        "阿姨态度差",
        input="y\nattitude\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "同时登记投诉吗" in result.output and "complaint T" in result.output
    [complaint] = shop.cli.json("complaint", "list")
    assert complaint["category"] == "attitude"
    assert shop.cli.json("complaint", "show", complaint["code"])["description"] == "阿姨态度差"
    declined = shop.cli("visit", "log", complaint["code"], "--method", "phone")
    assert declined.exit_code == 2 and "is a complaint" in declined.output


def test_a_done_visit_cannot_be_logged_again_or_cancelled(shop: Shop) -> None:
    done_order(shop)
    code = shop.cli.json("visit", "log", shop.customer, "--method", "phone")["code"]
    again = shop.cli("visit", "log", code, "--method", "phone")
    assert again.exit_code == 1 and "已回访 done is final" in again.output
    cancel = shop.cli("visit", "cancel", code, "--reason", "x")
    assert cancel.exit_code == 1 and "final" in cancel.output


def test_cancelling_the_computed_first_visit_skips_to_the_periodic_one(shop: Shop) -> None:
    done_order(shop)
    data = shop.cli.json("visit", "cancel", shop.customer, "--reason", "客户不接电话回访")
    assert (data["type"], data["status"], data["events"][-1]["note"]) == (
        "first",
        "cancelled",
        "客户不接电话回访",
    )
    first_due = today() + dt.timedelta(days=7)
    [periodic] = due_json(shop, "--days", "400")
    assert (
        periodic["type"] == "periodic" and periodic["due"] == add_months(first_due, 6).isoformat()
    )
    missing = shop.cli("visit", "cancel", shop.customer)
    assert missing.exit_code == 2 and "--reason" in missing.output


def test_a_customer_with_two_open_visits_is_asked_which(shop: Shop) -> None:
    order = done_order(shop)
    shop.cli.ok("order", "rate", order, *SCORES[:-1], "1")
    shop.cli.ok(
        "visit",
        "add",
        shop.customer,
        "--type",
        "renewal",
        "--due",
        (today() + dt.timedelta(days=20)).isoformat(),
        "--reason",
        "续约前沟通",
    )
    result = shop.cli("visit", "log", shop.customer, "--method", "phone")
    assert result.exit_code == 2 and "2 open visits" in result.output
    assert "低分回访" in result.output and "续约回访" in result.output


def test_scores_are_five_numbers_or_named(shop: Shop) -> None:
    done_order(shop)
    for bad, words in (
        ("5/5/5", "not five scores"),
        ("5/5/5/5/6", "not a score from 1 to 5"),
        ("quality=5,overall=4", "missing attitude"),
        ("x=5", "'x' is not"),
    ):
        result = shop.cli("visit", "log", shop.customer, "--method", "phone", "--scores", bad)
        assert result.exit_code == 2 and words in result.output, result.output
    nps_alone = shop.cli("visit", "log", shop.customer, "--method", "phone", "--nps", "9")
    assert nps_alone.exit_code == 2 and "--scores" in nps_alone.output
    method = shop.cli("visit", "log", shop.customer, "--method", "fax")
    assert method.exit_code == 2 and "phone (电话)" in method.output
    assert due_json(shop, "--days", "7")[0]["type"] == "first"


def test_a_worker_replacement_schedules_the_new_worker_visit(
    archive: Archive, archive_path: Path
) -> None:
    shop = make_shop(archive, archive_path)
    other = shop.worker()
    start = today() - dt.timedelta(days=10)
    code = shop.cli.json(
        "contract",
        "new",
        "--customer",
        shop.customer,
        "--kind",
        "placement",
        "--start",
        start.isoformat(),
        "--months",
        "6",
        "--worker",
        shop.cleaner,
        "--service",
        "BM-LIVEIN",
        "--service-fee",
        "6800",
    )["code"]
    for party, name in (("customer", "张三"), ("worker", "王秀英"), ("company", "李经理")):
        shop.cli.ok("contract", "sign", code, "--party", party, "--name", name)
    shop.cli.ok("contract", "activate", code)
    day = today() + dt.timedelta(days=1)
    out = shop.cli.ok(
        "contract",
        "replace-worker",
        code,
        other,
        "--reason",
        "阿姨家中有事",
        "--date",
        day.isoformat(),
    ).stdout
    assert f"due {day + dt.timedelta(days=7)} (new worker" in out
    assert sorted(head_files(shop)) == ["contracts", "visits"]
    [item] = due_json(shop, "--days", "8")
    assert item["type"] == "new_worker" and item["due"] == (day + dt.timedelta(days=7)).isoformat()
    assert item["contract"] == shop.cli.json("contract", "show", code)["id"]
    assert shop.cli.json("visit", "show", item["code"])["worker"] != shop.cleaner_id


def test_no_new_worker_visit_when_the_setting_is_off(shop: Shop) -> None:
    path = shop.archive.root / "hk.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "after_replacement = true", "after_replacement = false"
        ),
        encoding="utf-8",
    )
    other = shop.worker()
    code = shop.cli.json(
        "contract",
        "new",
        "--customer",
        shop.customer,
        "--kind",
        "placement",
        "--start",
        today().isoformat(),
        "--months",
        "6",
        "--worker",
        shop.cleaner,
        "--service",
        "BM-LIVEIN",
        "--service-fee",
        "6800",
    )["code"]
    for party, name in (("customer", "张三"), ("worker", "王秀英"), ("company", "李经理")):
        shop.cli.ok("contract", "sign", code, "--party", party, "--name", name)
    shop.cli.ok("contract", "replace-worker", code, other, "--reason", "换人")
    assert head_files(shop) == ["contracts"]


def test_a_visit_added_by_hand_and_listed(shop: Shop) -> None:
    done_order(shop)
    due = (today() + dt.timedelta(days=30)).isoformat()
    made = shop.cli.json("visit", "add", shop.customer, "--type", "续约回访", "--due", due)
    assert (made["type"], made["due"], made["reason"]) == ("renewal", due, "手动安排")
    shop.cli.ok("visit", "log", shop.customer, "--type", "first", "--method", "onsite")
    rows = shop.cli.json("visit", "list")
    assert [(r["type"], r["status"]) for r in rows] == [("first", "done"), ("renewal", "due")]
    assert [r["type"] for r in shop.cli.json("visit", "list", "--status", "待回访")] == ["renewal"]
    assert [r["type"] for r in shop.cli.json("visit", "list", "--type", "first")] == ["first"]
    assert shop.cli.json("visit", "list", "--from", due, "--to", due)[0]["type"] == "renewal"
    table = shop.cli.ok("visit", "list").stdout.splitlines()
    assert table[0].split() == [
        "编号",
        "类型",
        "应回访",
        "状态",
        "客户",
        "回访时间",
        "方式",
        "原因",
    ]
    assert "首次回访" in table[1] and "上门" in table[1]
    text = shop.cli.ok("visit", "show", made["code"], "--history").stdout
    assert "续约回访" in text and "新建 → 待回访" in text
    wrong = shop.cli("visit", "add", shop.customer, "--type", "yearly", "--due", due)
    assert wrong.exit_code == 2 and "not a visit type" in wrong.output


def test_visits_due_for_the_reminders(shop: Shop) -> None:
    order = done_order(shop)
    shop.cli.ok("order", "rate", order, *SCORES[:-1], "2")
    found = visit_service.visits_due(shop.archive, today() + dt.timedelta(days=3))
    assert [(d.owed.type, d.days_overdue) for d in found] == [("low_score", 2)]
    assert found[0].key == f"visit:{found[0].owed.visit}"
    assert found[0].to_dict()["customer_name"] == "张三"
    assert visit_service.visits_due(shop.archive, today()) == []


def test_a_computed_visit_logged_meanwhile_is_not_logged_twice(shop: Shop) -> None:
    from hk.errors import ConflictError

    done_order(shop)
    found = visit_service.target(shop.archive, shop.customer)
    assert found.computed and found.loaded is None and found.visit.type == "first"
    check = visit_service._still_owed(shop.archive, found)
    assert check is not None
    check()
    shop.cli.ok("visit", "log", shop.customer, "--method", "phone")
    with pytest.raises(ConflictError, match="by someone else meanwhile"):
        check()
