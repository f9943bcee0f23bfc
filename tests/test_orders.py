"""Orders from the command line (SPEC §2–§3, issue 3 item 1): the whole flow from the phone call
to the money, taking an order, deposits and the dispatch queue, and every assignment rule.

Real archives in temp dirs; appointments are days ahead of the real clock, so the events the
commands date "now" come before them, as they would in the office.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hk.store.archive import Archive
from tests.orders_support import DAY, Shop, make_shop, when


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


# --- the whole flow --------------------------------------------------------------------------


def test_an_order_goes_from_the_phone_call_to_the_money(shop: Shop) -> None:
    cli = shop.cli
    code = shop.new()
    assert cli.ok("order", "confirm", code).stdout == (
        f"order {code}: 待确认 pending → 已确认 confirmed → 待派工 to_dispatch\n"
    )
    assert "→ 已派工 dispatched" in cli.ok("order", "assign", code, shop.cleaner).stdout
    cli.ok("order", "start", code, "--location", "万科城北门", "--lat", "30.6", "--lon", "104.05")
    cli.ok("order", "finish", code, "--check", "1=ok", "--check", "冰箱=fail:没除味", "--all-ok")
    cli.ok(
        "order",
        "rate",
        code,
        "--quality",
        "5",
        "--attitude",
        "5",
        "--hygiene",
        "4",
        "--punctuality",
        "5",
        "--overall",
        "5",
        "--nps",
        "9",
        "--comment",
        "很细心",
    )
    settled = cli.ok("order", "settle", code, "--pay", "final:wechat").stdout
    assert settled == f"order {code}: 服务完成 completed → 已结算 settled\n"

    order = shop.show(code)
    assert order["status"] == "settled"
    assert [e["to_status"] for e in order["events"]] == [
        "pending",
        "confirmed",
        "to_dispatch",
        "dispatched",
        "in_service",
        "completed",
        "settled",
    ]
    assert {e["actor"] for e in order["events"]} == {"测试员"}
    assert order["workers"] == [shop.cleaner_id]
    assert order["payments"][0]["amount_fen"] == order["total_fen"] == 12825
    assert order["derived"]["balance_due_fen"] == 0
    assert order["rating"]["hygiene"] == 4 and order["rating"]["nps"] == 9
    assert sum(r["passed"] for r in order["checklist"]) == len(order["checklist"]) - 1
    assert order["events"][4]["location"] == {"text": "万科城北门", "lat": 30.6, "lon": 104.05}


def test_show_history_tells_the_story(shop: Shop) -> None:
    code = shop.dispatched()
    shop.cli.ok("order", "start", code, "--location", "万科城北门")
    text = shop.cli.ok("order", "show", code, "--history").stdout
    history = text[text.index("历史") :].splitlines()[1:]
    assert len(history) == 5
    assert re.match(r"^\s+\d{4}-\d\d-\d\d \d\d:\d\d  测试员  新建 → 待确认$", history[0])
    assert history[2].endswith("已确认 → 待派工  无需定金")
    assert history[4].endswith("已派工 → 服务中  @ 万科城北门")
    plain = shop.cli.ok("order", "show", code).stdout
    assert "历史" not in plain
    assert f"{shop.cleaner} 王秀英" in plain and "门禁 1234" in plain


def test_a_new_order_is_priced_for_the_customers_tier_at_their_chosen_address(shop: Shop) -> None:
    out = shop.cli.ok(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-HOURLY",
        "--service",
        "JD-AC:2",
        "--start",
        when(),
        "--hours",
        "4",
        "--address",
        "2",
        "--channel",
        "微信",
        "--notes",
        "带梯子",
    ).stdout
    assert "¥399.00" in out and "黄金会员优惠5%" in out
    code = out.split()[2].rstrip(":")
    order = shop.show(code)
    assert [(line["service"], line["quantity"], line["amount_fen"]) for line in order["lines"]] == [
        ("BJ-HOURLY", "4", 17100),
        ("JD-AC", "2", 22800),
    ]
    assert order["lines"][0]["discount_fen"] == 900
    assert order["address"]["community"] == "望江苑"
    assert order["channel"] == "wechat" and order["notes"] == "带梯子"
    assert order["window"]["end"].startswith(f"{DAY}T13:00")
    assert "from_status" not in order["events"][0]


def test_a_minimum_charge_is_explained_when_the_order_is_taken(shop: Shop) -> None:
    out = shop.cli.ok(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-HOURLY:1",
        "--start",
        when(),
        "--channel",
        "phone",
    ).stdout
    assert "2小时起" in out


@pytest.mark.parametrize(
    ("service", "extra", "end"),
    [
        ("BJ-DAILY", [], "12:00"),
        ("JD-AC:2", [], "11:00"),
        ("BJ-HOURLY", ["--hours", "2.5"], "11:30"),
        ("BJ-DEEP:90", ["--end", when(0, "15:00")], "15:00"),
    ],
)
def test_the_window_ends_by_end_hours_or_the_catalogs_duration(
    shop: Shop, service: str, extra: list[str], end: str
) -> None:
    order = shop.show(shop.new("--service", service, *extra))
    assert order["window"]["end"].startswith(f"{DAY}T{end}")


def test_a_service_priced_by_area_needs_its_area_and_an_end(shop: Shop) -> None:
    no_area = shop.cli(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-DEEP",
        "--start",
        when(),
        "--hours",
        "6",
        "--channel",
        "phone",
    )
    assert no_area.exit_code == 1 and "give the area" in no_area.output
    no_end = shop.cli(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-DEEP:90",
        "--start",
        when(),
        "--channel",
        "phone",
    )
    assert no_end.exit_code == 2 and "--end or --hours" in no_end.output


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("--customer", "missing --customer"),
        ("--start", "missing --start"),
        ("--service", "missing --service"),
    ],
)
def test_missing_values_are_not_asked_for_without_a_terminal(
    shop: Shop, drop: str, message: str
) -> None:
    args = {
        "--customer": shop.customer,
        "--service": "BJ-DAILY",
        "--start": when(),
        "--channel": "phone",
    }
    del args[drop]
    result = shop.cli("order", "new", *[x for pair in args.items() for x in pair])
    assert result.exit_code == 2 and message in result.output


def test_an_order_without_a_channel_came_in_by_phone(shop: Shop) -> None:
    result = shop.cli(
        "order",
        "new",
        "--customer",
        shop.customer,
        "--service",
        "BJ-DAILY",
        "--start",
        when(),
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["channel"] == "phone"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-12-01"], "is not a date and time"),
        (["--channel", "fax"], "is not an order channel"),
        (["--service", "PKG-MONTH"], "is a package, not a service item"),
        (["--address", "3"], "there is no address 3"),
        (["--hours", "3", "--end", when(0, "12:00")], "not both"),
    ],
)
def test_bad_order_input_is_refused_with_the_reason(
    shop: Shop, args: list[str], message: str
) -> None:
    given = {
        "--customer": shop.customer,
        "--service": "BJ-DAILY",
        "--start": when(),
        "--channel": "phone",
    }
    flat = [x for k, v in given.items() if k not in args for x in (k, v)]
    result = shop.cli("order", "new", *flat, *args)
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert "Traceback" not in result.output


# --- deposits and the dispatch queue ---------------------------------------------------------


def test_a_deposit_holds_a_confirmed_order_until_it_is_paid(shop: Shop) -> None:
    code = shop.new("--service", "YS-26:26", "--start", when(5, "08:00"))
    assert shop.show(code)["deposit_fen"] == 256880
    assert shop.cli.ok("order", "confirm", code).stdout.endswith("已确认 confirmed\n")
    refused = shop.cli("order", "assign", code, shop.cleaner)
    assert refused.exit_code == 1
    assert "allowed: 待派工 to_dispatch, 已取消 cancelled" in refused.output
    assert "hk order ready" in refused.output
    out = shop.cli.ok("order", "pay", code, "--pay", "deposit:wechat").stdout
    assert "定金 ¥2,568.80 微信" in out and "已确认 confirmed → 待派工 to_dispatch" in out
    assert shop.show(code)["status"] == "to_dispatch"


def test_ready_without_the_deposit_needs_a_note(shop: Shop) -> None:
    code = shop.new("--service", "YS-26:26", "--start", when(5, "08:00"))
    shop.cli.ok("order", "confirm", code)
    bare = shop.cli("order", "ready", code)
    assert bare.exit_code == 1 and "deposit of ¥2,568.80 is outstanding" in bare.output
    shop.cli.ok("order", "ready", code, "--note", "老客户，定金到岗后付")
    assert shop.show(code)["events"][-1]["note"] == "老客户，定金到岗后付"


# --- assignment rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_args", "worker_fields", "rule"),
    [
        (["--service", "JD-AC"], {"skills": [{"name": "保洁"}]}, "skill"),
        (["--require-skill", "烹饪"], {}, "skill"),
        (["--require-cert", "育婴师"], {}, "certificate"),
        (
            ["--require-cert", "健康证"],
            {"certificates": [{"kind": "健康证", "expires": DAY - dt.timedelta(days=1)}]},
            "certificate",
        ),
        (
            [],
            {"leave": [{"start": DAY, "end": DAY + dt.timedelta(days=2), "reason": "探亲"}]},
            "leave",
        ),
        (
            [],
            {
                "availability": {
                    d: ["13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                }
            },
            "availability",
        ),
        (["--require-gender", "男"], {}, "gender"),
    ],
)
def test_a_soft_rule_refuses_until_forced_with_a_reason(
    shop: Shop, order_args: list[str], worker_fields: dict[str, Any], rule: str
) -> None:
    code = shop.new(*order_args)
    shop.cli.ok("order", "confirm", code)
    worker = shop.worker(**worker_fields)
    refused = shop.cli("order", "assign", code, worker)
    assert refused.exit_code == 1
    assert f"{worker} 李桂芳: {rule} (" in refused.output
    assert f'--force --reason "…" overrides {rule}' in refused.output
    no_reason = shop.cli("order", "assign", code, worker, "--force")
    assert no_reason.exit_code == 2 and "--force needs --reason" in no_reason.output
    shop.cli.ok("order", "assign", code, worker, "--force", "--reason", "客户同意")
    order = shop.show(code)
    assert order["status"] == "dispatched"
    assert order["events"][-1]["note"] == f"强制派工（越过 {rule}）：客户同意"


@pytest.mark.parametrize(
    ("rule", "setup"),
    [
        ("inactive", "inactive"),
        ("blocked", "blocked"),
        ("double_booking", "booked"),
    ],
)
def test_a_hard_rule_is_never_overridden(shop: Shop, rule: str, setup: str) -> None:
    from hk.services.people import edit

    worker = shop.worker(status="inactive") if setup == "inactive" else shop.cleaner
    if setup == "blocked":
        edit(shop.archive, "customer", shop.customer, {"blocked_workers": [shop.cleaner]})
    if setup == "booked":
        shop.dispatched("--start", when(0, "08:00"))
    code = shop.new("--start", when(0, "10:00"))
    shop.cli.ok("order", "confirm", code)
    for extra in ([], ["--force", "--reason", "就要她"]):
        refused = shop.cli("order", "assign", code, worker, *extra)
        assert refused.exit_code == 1, refused.output
        assert f": {rule} (" in refused.output
        assert f"{rule} can never be overridden" in refused.output
    assert shop.show(code)["status"] == "to_dispatch"


def test_windows_that_only_touch_or_a_cancelled_order_do_not_double_book(shop: Shop) -> None:
    morning = shop.dispatched("--start", when(0, "09:00"))
    shop.dispatched("--start", when(0, "12:00"))
    clash = shop.new("--start", when(0, "11:00"))
    shop.cli.ok("order", "confirm", clash)
    assert "double_booking" in shop.cli("order", "assign", clash, shop.cleaner).output
    shop.cli.ok("order", "cancel", morning, "--reason", "客户改期")
    second = shop.cli("order", "assign", clash, shop.cleaner)
    assert "double_booking" in second.output and morning not in second.output


def test_a_long_booking_that_started_days_before_still_clashes(shop: Shop) -> None:
    code = shop.new("--service", "LR-HOSP:5", "--start", when(-2, "08:00"))
    shop.cli.ok("order", "confirm", code)
    nurse = shop.worker(skills=[{"name": "老人护理"}, {"name": "保洁"}])
    shop.cli.ok("order", "assign", code, nurse)
    later = shop.new("--start", when(1, "09:00"))
    shop.cli.ok("order", "confirm", later)
    assert "double_booking" in shop.cli("order", "assign", later, nurse).output


def test_two_workers_go_together_and_each_is_checked(shop: Shop) -> None:
    helper = shop.worker()
    code = shop.new("--service", "BJ-DEEP:100", "--hours", "6")
    shop.cli.ok("order", "confirm", code)
    refused = shop.cli("order", "assign", code, shop.cleaner, helper)
    assert refused.exit_code == 1 and "深度保洁" in refused.output
    assert shop.cleaner in refused.output and helper in refused.output
    shop.cli.ok("order", "assign", code, shop.cleaner, helper, "--force", "--reason", "两人配合")
    assert len(shop.show(code)["workers"]) == 2


# --- help ------------------------------------------------------------------------------------


def test_every_order_command_and_option_has_help_text(shop: Shop) -> None:
    import typer.main

    from hk.commands.order import app as order_cmds

    group = typer.main.get_command(order_cmds.app)
    commands = getattr(group, "commands", {})
    assert set(commands) == {
        "new",
        "list",
        "show",
        "confirm",
        "ready",
        "assign",
        "start",
        "finish",
        "pay",
        "settle",
        "cancel",
        "rate",
        "rework",
        "sheet",
        "generate",
    }
    for name, command in commands.items():
        assert (command.help or "").strip(), name
        for param in command.params:
            assert (getattr(param, "help", None) or "").strip(), f"{name} {param.name}"
        assert "Usage:" in shop.cli.ok("order", name, "--help").stdout


def test_a_customers_and_a_workers_orders_are_found_by_reference_before_and_after_reindex(
    shop: Shop,
) -> None:
    """The index keeps who each order belongs to in a table of its own (kept by triggers, and
    filled in one pass by a rebuild); both ways find the same orders."""
    from hk.store.archive import Archive

    first = shop.dispatched()
    second = shop.dispatched("--start", when(1))
    shop.cli.ok(
        "order", "new", "--customer", shop.customer, "--service", "BJ-HOURLY", "--start", when(2)
    )

    def refs() -> tuple[set[str], set[str]]:
        index = Archive(shop.archive.root).index
        index.refresh()
        mine = {r["code"] for r in index.list("order", ref=shop.customer_id)}
        hers = {r["code"] for r in index.list("order", ref=shop.cleaner_id)}
        return mine, hers

    mine, hers = refs()
    assert {first, second} <= mine and len(mine) == 3
    assert hers == {first, second}
    shop.cli.ok("reindex")
    assert refs() == (mine, hers)
