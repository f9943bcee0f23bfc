"""Complaints (投诉), SPEC §2–§4: opened against an order, answered by the response deadline,
handed on, resolved with compensation and a rework order (and the visit after a complaint),
or rejected — as pure rules, and through ``hk`` on real archives in temp dirs.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hk.domain.complaint import Complaint, IllegalComplaintStep, made_event, sla_state, step
from hk.domain.ids import new_id
from hk.services.complaints import complaints_near_sla
from hk.store.archive import Archive
from tests.orders_support import TZ, Shop, make_shop, when

RECEIVED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def complaint(**changes: Any) -> Complaint:
    data = {
        "id": new_id(),
        "created": RECEIVED,
        "updated": RECEIVED,
        "customer": new_id(),
        "category": "quality",
        "description": "油烟机没洗干净",
        "received_at": RECEIVED,
        "response_due": RECEIVED + dt.timedelta(hours=24),
        "events": [made_event("小李", RECEIVED)],
        **changes,
    }
    return Complaint.model_validate(data)


# --- the rules ---------------------------------------------------------------------------------


def test_an_open_complaint_nears_its_deadline_in_the_last_quarter() -> None:
    c = complaint()
    assert c.sla_state(RECEIVED + dt.timedelta(hours=17, minutes=59)) == "running"
    assert c.sla_state(RECEIVED + dt.timedelta(hours=18)) == "near"
    assert c.sla_state(RECEIVED + dt.timedelta(hours=24)) == "near"
    assert c.sla_state(RECEIVED + dt.timedelta(hours=24, seconds=1)) == "overdue"


def test_the_first_step_out_of_open_is_the_response() -> None:
    c = complaint()
    taken = step(c, "in_progress", "小李", RECEIVED + dt.timedelta(hours=3), assignee="王姐")
    assert taken.responded_at() == RECEIVED + dt.timedelta(hours=3)
    assert taken.sla_state(RECEIVED + dt.timedelta(days=5)) == "met"
    late = step(c, "rejected", "小李", RECEIVED + dt.timedelta(hours=30), resolution="不属实")
    assert late.sla_state(RECEIVED + dt.timedelta(days=5)) == "late"
    assert late.closed_at() == RECEIVED + dt.timedelta(hours=30)
    assert (
        sla_state(
            RECEIVED, RECEIVED + dt.timedelta(hours=4), None, RECEIVED + dt.timedelta(hours=3)
        )
        == "near"
    )


def test_the_lifecycle_refuses_what_it_does_not_allow() -> None:
    c = complaint()
    done = step(c, "resolved", "小李", RECEIVED, resolution="已道歉")
    with pytest.raises(IllegalComplaintStep) as refused:
        step(done, "in_progress", "小李", RECEIVED, assignee="王姐")
    assert "已解决 resolved is final" in str(refused.value)
    with pytest.raises(IllegalComplaintStep, match="allowed: 处理中"):
        step(c, "open", "小李", RECEIVED)
    moved = step(
        step(c, "in_progress", "小李", RECEIVED, assignee="王姐"),
        "in_progress",
        "小李",
        RECEIVED,
        assignee="张姐",
    )
    assert moved.assignee == "张姐" and len(moved.events) == 3


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"status": "resolved"}, "says how it ended"),
        ({"compensation_fen": 5000}, "come with the resolution"),
        ({"response_due": RECEIVED}, "response_due must be after received_at"),
        ({"status": "in_progress", "events": [made_event("小李", RECEIVED)]}, "names who handles"),
    ],
)
def test_a_file_that_breaks_a_rule_is_refused_with_the_rule(
    changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        complaint(**changes)


def test_a_rework_needs_the_order_complained_of() -> None:
    with pytest.raises(ValidationError, match="names none"):
        step(complaint(), "resolved", "小李", RECEIVED, resolution="返工", rework=new_id())


def test_the_event_log_must_lead_to_the_status() -> None:
    with pytest.raises(ValidationError, match="event log ends at 待处理"):
        complaint(status="rejected", resolution="不属实")


# --- on a real archive -------------------------------------------------------------------------


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def done_order(shop: Shop) -> str:
    code = shop.dispatched("--start", when())
    shop.cli.ok("order", "start", code)
    shop.cli.ok("order", "finish", code, "--all-ok")
    return code


def now() -> dt.datetime:
    return dt.datetime.now(TZ).replace(second=0, microsecond=0)


def head_files(shop: Shop) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(shop.archive.root), "show", "--name-only", "--format=", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(line.split("/")[0] for line in out.stdout.split())


def opened(shop: Shop, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = shop.cli.json(
        "complaint", "open", "--category", "quality", "--text", "厨房油污没处理", *args
    )
    return data


def test_a_complaint_against_an_order_names_its_customer_and_worker(shop: Shop) -> None:
    order = done_order(shop)
    out = shop.cli.ok(
        "complaint",
        "open",
        "--order",
        order,
        "--category",
        "服务质量",
        "--text",
        "厨房油污没处理",
        "--severity",
        "严重",
    ).stdout
    assert out.startswith("complaint T") and "opened; answer by" in out
    [row] = shop.cli.json("complaint", "list")
    assert (row["customer"], row["worker"], row["order"]) == (
        shop.customer_id,
        shop.cleaner_id,
        shop.show(order)["id"],
    )
    assert (row["status"], row["severity"], row["sla"]) == ("open", "serious", "running")
    received = dt.datetime.fromisoformat(row["received_at"])
    assert dt.datetime.fromisoformat(row["response_due"]) - received == dt.timedelta(hours=24)
    table = shop.cli.ok("complaint", "list").stdout.splitlines()
    assert table[0].split() == [
        "编号",
        "收到",
        "状态",
        "类别",
        "程度",
        "客户",
        "阿姨",
        "响应时限",
        "时限",
    ]
    assert "待处理" in table[1] and "王秀英" in table[1] and "处理时限内" in table[1]


def test_the_response_deadline_comes_from_the_settings(shop: Shop) -> None:
    path = shop.archive.root / "hk.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "complaint_sla_hours = 24", "complaint_sla_hours = 4"
        ),
        encoding="utf-8",
    )
    received = now() - dt.timedelta(hours=3, minutes=30)
    data = opened(
        shop, "--customer", shop.customer, "--received", received.strftime("%Y-%m-%d %H:%M")
    )
    assert dt.datetime.fromisoformat(data["response_due"]) == received + dt.timedelta(hours=4)
    assert data["derived"]["sla"] == "near"
    assert data.get("worker") is None and data.get("order") is None


def test_whose_complaint_must_be_clear(shop: Shop) -> None:
    nobody = shop.cli("complaint", "open", "--category", "quality", "--text", "x")
    assert nobody.exit_code == 2 and "--order" in nobody.output
    order = done_order(shop)
    from hk.services.people import add_customer

    _, other = add_customer(shop.archive, {"name": "李四", "phones": ["13900139000"]})
    wrong = shop.cli(
        "complaint",
        "open",
        "--order",
        order,
        "--customer",
        str(other.code),
        "--category",
        "quality",
        "--text",
        "x",
    )
    assert wrong.exit_code == 2 and "another customer's" in wrong.output
    future = (now() + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    late = shop.cli(
        "complaint",
        "open",
        "--order",
        order,
        "--category",
        "quality",
        "--text",
        "x",
        "--received",
        future,
    )
    assert late.exit_code == 2 and "later than now" in late.output
    category = shop.cli("complaint", "open", "--order", order, "--category", "noise", "--text", "x")
    assert category.exit_code == 2 and "物品损坏" in category.output


def test_open_assign_resolve_with_rework_and_the_visit_after(shop: Shop) -> None:
    order = done_order(shop)
    code = opened(shop, "--order", order)["code"]
    out = shop.cli.ok("complaint", "assign", code, "--to", "店长王姐").stdout
    assert out == f"complaint {code}: in progress, handled by 店长王姐\n"
    start = now() + dt.timedelta(days=2)
    out = shop.cli.ok(
        "complaint",
        "resolve",
        code,
        "--resolution",
        "免费返工并赔偿50元",
        "--compensation",
        "50",
        "--rework",
        start.strftime("%Y-%m-%d %H:%M"),
    ).stdout.splitlines()
    assert out[0] == f"complaint {code}: resolved, compensation ¥50.00"
    assert out[1].startswith("  rework order D") and out[1].endswith("待确认 pending")
    visit_due = (now().date() + dt.timedelta(days=7)).isoformat()
    assert out[2].startswith("  return visit V") and out[2].endswith(
        f"due {visit_due} (投诉后回访)"
    )
    assert head_files(shop) == ["complaints", "orders", "visits"]
    data = shop.cli.json("complaint", "show", code)
    assert (data["status"], data["compensation_fen"], data["assignee"]) == (
        "resolved",
        5000,
        "店长王姐",
    )
    rework = shop.cli.json("order", "show", data["rework"])
    assert rework["rework_of"] == shop.show(order)["id"] and rework["total_fen"] == 0
    assert code in rework["events"][0]["note"]
    [visit] = data["derived"]["follow_up_visits"]
    assert (visit["type"], visit["status"], visit["due"]) == ("after_complaint", "due", visit_due)
    [due] = shop.cli.json("visit", "due", "--days", "7")
    assert due["complaint"] == data["id"] and due["worker"] == shop.cleaner_id
    assert [e["to_status"] for e in data["events"]] == ["open", "in_progress", "resolved"]
    text = shop.cli.ok("complaint", "show", code, "--history").stdout
    assert "赔偿    ¥50.00" in text and "投诉后回访" in text and "处理中 → 已解决" in text
    again = shop.cli("complaint", "resolve", code, "--resolution", "x")
    assert again.exit_code == 1 and "已解决 resolved is final" in again.output


def test_resolved_on_the_phone_without_a_rework(shop: Shop) -> None:
    code = opened(shop, "--customer", shop.customer)["code"]
    data = shop.cli.json("complaint", "resolve", code, "--resolution", "已道歉")
    assert data["status"] == "resolved" and data["derived"]["sla"] == "met"
    assert data["rework_order"] is None and data.get("rework") is None
    no_order = opened(shop, "--customer", shop.customer)["code"]
    refused = shop.cli(
        "complaint", "resolve", no_order, "--resolution", "返工", "--rework", when(3)
    )
    assert refused.exit_code == 1 and "names no order" in refused.output
    money = shop.cli("complaint", "resolve", no_order, "--resolution", "x", "--compensation", "abc")
    assert money.exit_code == 2


def test_no_visit_after_a_complaint_when_the_setting_is_off(shop: Shop) -> None:
    path = shop.archive.root / "hk.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "after_complaint = true", "after_complaint = false"
        ),
        encoding="utf-8",
    )
    code = opened(shop, "--customer", shop.customer)["code"]
    shop.cli.ok("complaint", "resolve", code, "--resolution", "已道歉")
    assert head_files(shop) == ["complaints"]


def test_a_rejected_complaint_keeps_the_reason_and_schedules_nothing(shop: Shop) -> None:
    code = opened(shop, "--customer", shop.customer)["code"]
    missing = shop.cli("complaint", "reject", code)
    assert missing.exit_code == 2 and "--reason" in missing.output
    data = shop.cli.json("complaint", "reject", code, "--reason", "经核实不属实")
    assert (data["status"], data["resolution"]) == ("rejected", "经核实不属实")
    assert data["derived"]["follow_up_visits"] == []
    assert "驳回    经核实不属实" in shop.cli.ok("complaint", "show", code).stdout


def test_listing_filters(shop: Shop) -> None:
    order = done_order(shop)
    first = opened(shop, "--order", order)["code"]
    second = opened(shop, "--customer", shop.customer)["code"]
    shop.cli.ok("complaint", "reject", second, "--reason", "不属实")
    assert [r["code"] for r in shop.cli.json("complaint", "list", "--open")] == [first]
    assert [r["code"] for r in shop.cli.json("complaint", "list", "--status", "已驳回")] == [second]
    assert [r["code"] for r in shop.cli.json("complaint", "list", "--worker", shop.cleaner)] == [
        first
    ]
    both = shop.cli.json("complaint", "list", "--customer", shop.customer, "--worker", shop.cleaner)
    assert [r["code"] for r in both] == [first]
    tomorrow = (now().date() + dt.timedelta(days=1)).isoformat()
    assert shop.cli.json("complaint", "list", "--from", tomorrow) == []


def test_complaints_near_their_deadline_for_the_reminders(shop: Shop) -> None:
    base = now() - dt.timedelta(hours=30)
    stamp = base.strftime("%Y-%m-%d %H:%M")
    overdue = opened(shop, "--customer", shop.customer, "--received", stamp)
    near = opened(
        shop,
        "--customer",
        shop.customer,
        "--received",
        (base + dt.timedelta(hours=10)).strftime("%Y-%m-%d %H:%M"),
    )
    answered = opened(shop, "--customer", shop.customer, "--received", stamp)
    opened(shop, "--customer", shop.customer)
    shop.cli.ok("complaint", "assign", answered["code"])
    found = complaints_near_sla(shop.archive, base + dt.timedelta(hours=30))
    assert [(a.code, a.state) for a in found] == [
        (overdue["code"], "overdue"),
        (near["code"], "near"),
    ]
    assert found[0].hours_left == -6.0 and found[1].hours_left == 4.0
    assert found[0].key == f"complaint:{overdue['id']}:overdue"
    assert found[1].to_dict()["customer_name"] == "张三"
    assert complaints_near_sla(shop.archive, base) == []
