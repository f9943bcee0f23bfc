"""Orders after dispatch, and finding them again (SPEC §3, issue 3 item 1): the checklist,
money and settling, cancelling late, rating, rework, illegal steps, ``hk order list`` and what
the commits say.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from hk.store.archive import Archive
from tests.orders_support import CLEANER, CUSTOMER, DAY, TZ, Shop, git_log, make_shop, when


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def in_service(shop: Shop, *args: str) -> str:
    code = shop.dispatched(*args)
    shop.cli.ok("order", "start", code)
    return code


def completed(shop: Shop, *args: str) -> str:
    code = in_service(shop, *args)
    shop.cli.ok("order", "finish", code, "--all-ok")
    return code


# --- the checklist ---------------------------------------------------------------------------


def test_show_numbers_the_checklist_that_finish_refers_to(shop: Shop) -> None:
    code = in_service(shop)
    text = shop.cli.ok("order", "show", code).stdout
    assert "验收清单" in text and "  6. 冰箱内部整理除味" in text
    shop.cli.ok("order", "finish", code, "--check", "6=fail:没除味", "--check", "地面=ok")
    checklist = shop.show(code)["checklist"]
    assert [(c["item"][:4], c.get("passed"), c.get("note", "")) for c in checklist] == [
        ("地面清扫", True, ""),
        ("冰箱内部", False, "没除味"),
    ]


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("9=ok", "there is no checklist item 9"),
        ("擦窗=ok", "names no checklist items"),
        ("清洁=ok", "names several checklist items"),
        ("1=maybe", "is not a checklist result"),
    ],
)
def test_a_check_that_names_no_one_item_is_refused(shop: Shop, check: str, message: str) -> None:
    code = in_service(shop)
    result = shop.cli("order", "finish", code, "--check", check)
    assert result.exit_code == 2 and message in result.output
    assert shop.show(code)["status"] == "in_service"


# --- money -----------------------------------------------------------------------------------


def test_settling_is_refused_while_money_is_due(shop: Shop) -> None:
    code = completed(shop)
    refused = shop.cli("order", "settle", code)
    assert refused.exit_code == 1
    assert "¥128.25 is still due" in refused.output and "--pay final:" in refused.output
    part = shop.cli("order", "settle", code, "--pay", "final:100:cash")
    assert part.exit_code == 1 and "¥28.25 is still due" in part.output
    assert "payments" not in shop.show(code)
    shop.cli.ok("order", "settle", code, "--pay", "final:100:cash", "--pay", "尾款:28.25:微信")
    order = shop.show(code)
    assert [(p["kind"], p["amount_fen"], p["method"]) for p in order["payments"]] == [
        ("final", 10000, "cash"),
        ("final", 2825, "wechat"),
    ]


def test_a_payment_beyond_the_total_is_refused(shop: Shop) -> None:
    code = shop.new()
    result = shop.cli("order", "pay", code, "--pay", "deposit:500:wechat")
    assert result.exit_code == 1 and "more than the total" in result.output
    bad = shop.cli("order", "pay", code, "--pay", "deposit:100:paypal")
    assert bad.exit_code == 2 and "is not a payment method" in bad.output


def test_a_late_cancellation_costs_the_fee_from_the_settings(shop: Shop) -> None:
    soon = (dt.datetime.now(TZ) + dt.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    code = shop.dispatched("--start", soon)
    out = shop.cli.ok("order", "cancel", code, "--reason", "客户临时出差").stdout
    assert out.startswith(f"order {code}: 已派工 dispatched → 已取消 cancelled\n")
    assert "收取违约金¥50.00" in out
    order = shop.show(code)
    assert order["cancellation_fee_fen"] == 5000
    assert order["derived"]["balance_due_fen"] == 5000
    assert order["events"][-1]["note"].startswith("客户临时出差（服务开始前不足24小时取消")
    shop.cli.ok("order", "pay", code, "--pay", "cancellation_fee:wechat")
    assert shop.show(code)["derived"]["balance_due_fen"] == 0


def test_an_early_cancellation_is_free_and_a_late_fee_may_be_waived(shop: Shop) -> None:
    early = shop.new()
    assert "不收取费用" in shop.cli.ok("order", "cancel", early, "--reason", "改期").stdout
    assert shop.show(early).get("cancellation_fee_fen", 0) == 0
    soon = (dt.datetime.now(TZ) + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    late = shop.new("--start", soon)
    shop.cli.ok("order", "cancel", late, "--reason", "老人住院", "--waive-fee")
    order = shop.show(late)
    assert order.get("cancellation_fee_fen", 0) == 0
    assert order["events"][-1]["note"] == "老人住院（晚于免费取消时限取消，违约金¥50.00已免除）"


def test_a_cancellation_needs_a_reason(shop: Shop) -> None:
    code = shop.new()
    result = shop.cli("order", "cancel", code)
    assert result.exit_code == 2 and "missing --reason" in result.output


def test_a_prepaid_cancelled_order_owes_a_refund(shop: Shop) -> None:
    code = shop.new()
    shop.cli.ok("order", "pay", code, "--pay", "deposit:100:wechat")
    shop.cli.ok("order", "cancel", code, "--reason", "客户取消")
    assert shop.show(code)["derived"]["balance_due_fen"] == -10000
    out = shop.cli.ok("order", "pay", code, "--pay", "refund:wechat").stdout
    assert "退款 ¥100.00 微信" in out and "due ¥0.00" in out


# --- rating and rework -----------------------------------------------------------------------


def test_a_rating_comes_after_the_service_and_only_once(shop: Shop) -> None:
    scores = [
        "--quality",
        "5",
        "--attitude",
        "4",
        "--hygiene",
        "5",
        "--punctuality",
        "3",
        "--overall",
        "4",
    ]
    code = in_service(shop)
    early = shop.cli("order", "rate", code, *scores)
    assert early.exit_code == 1 and "rated once the service is done" in early.output
    shop.cli.ok("order", "finish", code, "--all-ok")
    missing = shop.cli("order", "rate", code, *scores[:-2])
    assert missing.exit_code == 2 and "missing --overall" in missing.output
    out = shop.cli.ok("order", "rate", code, *scores, "--comment", "准时").stdout
    match = re.fullmatch(rf"order {code}: rated, lowest score 3; survey (S\w+)\n", out)
    assert match is not None, out
    order = shop.show(code)
    survey = shop.cli.json("show", match.group(1))
    assert order["rating"]["survey"] == survey["id"]
    assert (survey["order"], survey["customer"], survey["channel"]) == (
        order["id"],
        order["customer"],
        "order_rate",
    )
    assert [survey[k] for k in ("quality", "attitude", "hygiene", "punctuality", "overall")] == [
        5,
        4,
        5,
        3,
        4,
    ]
    assert survey["comment"] == "准时" and survey["services"] == ["BJ-HOURLY"]
    log = subprocess.run(
        ["git", "-C", str(shop.archive.root), "show", "--stat", "--format=%s", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout
    assert "orders/" in log and "surveys/" in log and "points/" in log  # the points it earned
    assert "3 files changed" in log
    again = shop.cli("order", "rate", code, *scores)
    assert again.exit_code == 1 and "rated already" in again.output
    out_of_range = shop.cli("order", "rate", code, *scores[:-1], "6")
    assert out_of_range.exit_code == 2


def test_a_rework_is_a_free_new_order_linked_to_the_original(shop: Shop) -> None:
    original = completed(shop)
    out = shop.cli.ok(
        "order", "rework", original, "--start", when(2, "14:00"), "--note", "冰箱未除味"
    ).stdout
    match = re.match(r"created order (\w+): rework of", out)
    assert match is not None, out
    code = match.group(1)
    rework = shop.show(code)
    first = shop.show(original)
    assert rework["rework_of"] == first["id"]
    assert "total_fen" not in rework or rework["total_fen"] == 0
    assert rework["status"] == "pending" and rework["events"][0]["note"] == "冰箱未除味"
    assert rework["window"]["start"].startswith(f"{DAY + dt.timedelta(days=2)}T14:00")
    assert rework["window"]["end"].startswith(f"{DAY + dt.timedelta(days=2)}T17:00")
    assert rework["address"] == first["address"]
    assert shop.cli.json("order", "show", original)["reworks"] == [rework["id"]]
    assert f"返工单  {code}" in shop.cli.ok("order", "show", original).stdout


def test_only_a_completed_order_is_reworked(shop: Shop) -> None:
    code = shop.new()
    result = shop.cli("order", "rework", code, "--start", when(2))
    assert result.exit_code == 1 and "only a completed or settled order" in result.output


# --- illegal steps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "command", "allowed"),
    [
        ([], ["start"], "allowed: 已确认 confirmed, 已取消 cancelled"),
        ([], ["settle"], "allowed: 已确认 confirmed, 已取消 cancelled"),
        (["confirm"], ["confirm"], "allowed: 已派工 dispatched, 已取消 cancelled"),
        (["confirm", "assign"], ["finish"], "allowed: 服务中 in_service, 已取消 cancelled"),
        (
            ["confirm", "assign", "start", "finish"],
            ["cancel", "--reason", "不要了"],
            "allowed: 已结算 settled",
        ),
        (["cancel"], ["confirm"], "allowed: none, 已取消 cancelled is final"),
    ],
)
def test_an_illegal_step_exits_1_naming_the_allowed_ones(
    shop: Shop, steps: list[str], command: list[str], allowed: str
) -> None:
    code = shop.new()
    for step in steps:
        extra = {"assign": [shop.cleaner], "cancel": ["--reason", "客户取消"]}.get(step, [])
        shop.cli.ok("order", step, code, *extra)
    before = shop.show(code)
    result = shop.cli("order", command[0], code, *command[1:])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot go from ") and allowed in result.output
    assert shop.show(code) == before


def test_an_event_before_the_last_one_is_refused(shop: Shop) -> None:
    code = shop.dispatched()
    past = (dt.datetime.now(TZ) - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    result = shop.cli("order", "start", code, "--at", past)
    assert result.exit_code == 1 and "the log only grows" in result.output


# --- finding orders --------------------------------------------------------------------------


@pytest.fixture
def busy(shop: Shop) -> dict[str, str]:
    """Five orders over three days, two customers, two workers, three channels."""
    from hk.services.people import add_customer

    _, other = add_customer(
        shop.archive, {**CUSTOMER, "name": "李四", "phones": ["13900139000"], "tier": ""}
    )
    helper = shop.worker()
    codes = {
        "a": shop.dispatched("--start", when(0, "09:00")),
        "b": shop.dispatched("--start", when(1, "09:00"), "--service", "JD-AC", worker=helper),
        "c": shop.new("--start", when(1, "14:00"), "--channel", "wechat"),
        "d": shop.new("--start", when(2, "09:00")),
    }
    shop.cli.ok(
        "order",
        "new",
        "--customer",
        str(other.code),
        "--service",
        "BJ-DAILY",
        "--start",
        when(2, "13:00"),
        "--channel",
        "web",
    )
    codes["e"] = shop.cli.json("order", "list", "--customer", str(other.code))[0]["code"]
    codes["helper"] = helper
    codes["other"] = str(other.code)
    return codes


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([], "abcde"),
        (["--status", "dispatched"], "ab"),
        (["--status", "待确认"], "cde"),
        (["--date", "+1"], "bc"),
        (["--from", "+1", "--to", "+2"], "bcde"),
        (["--to", "+0"], "a"),
        (["--customer", "other"], "e"),
        (["--worker", "helper"], "b"),
        (["--worker", "cleaner"], "a"),
        (["--service", "JD-AC"], "b"),
        (["--channel", "wechat"], "c"),
        (["--channel", "web", "--status", "pending"], "e"),
        (["--customer", "main", "--worker", "cleaner"], "a"),
        (["--limit", "2"], "ab"),
    ],
)
def test_list_filters_orders(
    shop: Shop, busy: dict[str, str], filters: list[str], expected: str
) -> None:
    names = {
        "other": busy["other"],
        "helper": busy["helper"],
        "cleaner": shop.cleaner,
        "main": shop.customer,
    }
    args = []
    for arg in filters:
        if arg.startswith("+"):
            arg = str(DAY + dt.timedelta(days=int(arg[1:])))
        args.append(names.get(arg, arg))
    rows = shop.cli.json("order", "list", *args)
    assert [r["code"] for r in rows] == [busy[k] for k in expected]


def test_list_shows_a_table_in_chinese(shop: Shop, busy: dict[str, str]) -> None:
    lines = shop.cli.ok("order", "list", "--date", str(DAY)).stdout.splitlines()
    assert lines[0].split() == ["编号", "开始", "状态", "客户", "服务", "阿姨", "金额"]
    assert lines[1].split() == [
        busy["a"],
        str(DAY),
        "09:00",
        "已派工",
        shop.customer,
        "张三",
        "BJ-HOURLY",
        shop.cleaner,
        "王秀英",
        "¥128.25",
    ]


def test_list_json_names_the_customer_and_workers(shop: Shop, busy: dict[str, str]) -> None:
    row = shop.cli.json("order", "list", "--worker", shop.cleaner)[0]
    assert row["customer_code"] == shop.customer and row["customer_name"] == "张三"
    assert row["worker_names"] == [f"{shop.cleaner} 王秀英"]
    assert row["status_zh"] == "已派工" and row["total_fen"] == 12825


def test_list_knows_today_and_tomorrow_in_the_archives_timezone(shop: Shop) -> None:
    tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    code = shop.new("--start", f"{tomorrow} 10:00")
    assert [r["code"] for r in shop.cli.json("order", "list", "--date", "tomorrow")] == [code]
    assert shop.cli.json("order", "list", "--date", "today") == []


def test_bad_list_filters_are_usage_errors(shop: Shop) -> None:
    for args in (
        ["--status", "done"],
        ["--date", "soon"],
        ["--date", str(DAY), "--from", str(DAY)],
    ):
        assert shop.cli("order", "list", *args).exit_code == 2


# --- what the commits say --------------------------------------------------------------------


def test_commits_name_the_order_and_the_fields_never_personal_data(shop: Shop) -> None:
    code = completed(shop, "--notes", "张三家里有猫")
    shop.cli.ok("order", "settle", code, "--pay", "final:wechat")
    log = git_log(shop.archive.root)
    subjects = [m.strip().splitlines()[0] for m in log.split("\0") if m.strip()]
    orders = [s for s in subjects if s.startswith("order ")]
    assert orders[-1] == f"order {code}: create"
    assert orders[0] == f"order {code}: update status, events, payments"
    assert all(re.fullmatch(rf"order {code}: (create|update [a-z_, ]+)", s) for s in orders)
    for private in (
        CUSTOMER["name"],
        "13800138000",
        CLEANER["name"],
        "万科城",
        "3栋2单元501",
        "猫",
    ):
        assert str(private) not in "\n".join(orders), private


def test_every_step_prints_the_order_as_json_when_asked(shop: Shop) -> None:
    code = shop.new()
    confirmed = shop.cli.json("order", "confirm", code)
    assert confirmed["code"] == code and confirmed["status"] == "to_dispatch"
    assert shop.cli.json("order", "assign", code, shop.cleaner)["workers"]
    assert shop.cli.json("order", "start", code)["status"] == "in_service"
    assert shop.cli.json("order", "finish", code, "--all-ok")["checklist"]
    assert shop.cli.json("order", "settle", code, "--pay", "final:cash")["status"] == "settled"
    shown = shop.cli.json("order", "show", code)
    assert shown["derived"] == {
        "amount_paid_fen": 12825,
        "balance_due_fen": 0,
        "deposit_outstanding_fen": 0,
    }
