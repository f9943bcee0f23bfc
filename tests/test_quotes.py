"""Quotes from the command line (SPEC §2 报价单): make, show, render, send, then accept as orders
or reject; expiry; the lifecycle's refusals; listing and JSON.

Real archives in temp dirs, through the ``hk`` fixture; a quote from the past is made through
the service with a date in the past, as the command line always dates a new quote today.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.domain.quote import parse_frequency
from hk.services.people import add_customer, edit
from hk.services.quotes.steps import LineIn, new_quote
from hk.store.archive import Archive
from tests.conftest import Hk, ok

TZ = ZoneInfo("Asia/Shanghai")
DAY = (dt.datetime.now(TZ) + dt.timedelta(days=10)).date()
START = f"{DAY} 09:00"
CUSTOMER = {
    "name": "张三",
    "phones": ["13800138000"],
    "tier": "黄金",
    "addresses": [
        {
            "city": "成都市",
            "district": "武侯区",
            "community": "万科城",
            "detail": "3栋2单元501",
            "access_notes": "门禁 1234",
        }
    ],
    "id_number": "11010519491231002X",
    "health_notes": "青霉素过敏",
}


@pytest.fixture
def customer(archive: Archive) -> str:
    _, result = add_customer(archive, CUSTOMER)
    assert result.code
    return result.code


def as_json(hk: Hk, *args: str) -> Any:
    return json.loads(ok(hk(*args, "--json")).stdout)


def make(hk: Hk, customer: str, *args: str) -> str:
    """A new quote (3 hours of 钟点工 unless ``args`` name services); its code."""
    services = [] if "--service" in args else ["--service", "BJ-HOURLY:3"]
    return str(as_json(hk, "quote", "new", "--customer", customer, *services, *args)["code"])


def past_quote(archive: Archive, customer: str, days_ago: int = 10, valid_days: int = 3) -> str:
    """A quote made ``days_ago`` days ago, valid for ``valid_days``: expired now."""
    made = dt.datetime.now(TZ).replace(microsecond=0) - dt.timedelta(days=days_ago)
    quote = new_quote(archive, customer, [LineIn("JD-AC", 1)], valid_days=valid_days, at=made)
    assert quote.result.code
    return quote.result.code


def log_subjects(root: Path) -> list[str]:
    """The subjects of the archive's commits, newest first, without the audit trail's."""
    out = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%s"], check=True, capture_output=True, text=True
    ).stdout
    return [s for s in out.splitlines() if not s.startswith("audit:")]


# --- the whole flow ----------------------------------------------------------------------------


def test_a_quote_goes_from_draft_to_orders_priced_as_quoted(
    hk: Hk, customer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = make(
        hk,
        customer,
        "--service",
        "BJ-DEEP",
        "--service",
        "JD-AC:2",
        "--area",
        "120",
        "--discount",
        "50",
        "--discount-note",
        "新客优惠",
        "--note",
        "自带清洁剂",
    )
    shown = ok(hk("quote", "show", code)).stdout
    assert shown.startswith(f"报价单 {code}  草稿 draft\n")
    assert "120平方米" in shown and "额外优惠 -¥50.00（新客优惠）" in shown
    # 深度保洁 120 m² × ¥8 = ¥960 less 5% (黄金) = ¥912; 空调 2 × ¥120 less 5% = ¥228
    assert "合计    ¥1,090.00" in shown

    markdown = ok(hk("quote", "render", code, "--format", "md")).stdout
    assert markdown.startswith("# 我的家政服务有限公司\n")
    assert "张三" in markdown and "138\\*\\*\\*\\*8000" in markdown
    assert "13800138000" not in markdown and "青霉素" not in markdown
    assert "| **合计** | **¥1,090.00** |" in markdown and "人民币壹仟零玖拾元整" in markdown
    assert "会员优惠（黄金） | -¥60.00" in markdown and "额外优惠（新客优惠） | -¥50.00" in markdown
    page = tmp_path / "q.html"
    assert (
        ok(hk("quote", "render", code, "--format", "html", "--out", str(page))).stdout
        == f"wrote {page}\n"
    )
    assert "<table>" in page.read_text(encoding="utf-8")

    monkeypatch.chdir(tmp_path)
    sent = ok(hk("quote", "send", code, "--to", "customer", "--via", "wechat")).stdout
    written = tmp_path / f"报价单-{code}.html"
    assert sent == (
        f"quote {code}: 草稿 draft → 已发送 sent via wechat; document written to {written}\n"
    )
    assert "¥1,090.00" in written.read_text(encoding="utf-8")

    accepted = ok(
        hk("quote", "accept", code, "--as", "orders", "--start", START, "--hours", "6")
    ).stdout
    assert accepted.startswith(f"quote {code}: accepted; 1 order(s) created\n")
    quote = as_json(hk, "quote", "show", code)
    assert quote["status"] == "accepted" and len(quote["orders"]) == 1
    order = as_json(hk, "order", "show", quote["orders"][0])
    assert order["quote"] == quote["id"]
    assert order["total_fen"] == quote["total_fen"] == 109000
    assert order["discount_fen"] == 5000 and order["discount_note"] == "新客优惠"
    assert [line["amount_fen"] for line in order["lines"]] == [91200, 22800]
    assert order["notes"] == "自带清洁剂" and order["status"] == "pending"
    history = ok(hk("quote", "show", code, "--history")).stdout
    assert "草稿 → 已发送  微信发送给客户  sha256 " in history and "已发送 → 已接受" in history
    subjects = log_subjects(hk.root)
    assert subjects[:2] == [
        f"quote {code}: accepted as 1 order",
        f"quote {code}: update status, events",
    ]  # orders and the quote in one commit


def test_orders_keep_the_quoted_prices_when_the_tier_changes_later(
    hk: Hk, archive: Archive, customer: str, tmp_path: Path
) -> None:
    code = make(hk, customer, "--service", "JD-HOOD")
    edit(archive, "customer", customer, {"tier": "铂金"})
    ok(hk("quote", "send", code, "--via", "print", "--out", str(tmp_path / "q.html")))
    ok(hk("quote", "accept", code, "--as", "orders", "--start", START))
    order_id = as_json(hk, "quote", "show", code)["orders"][0]
    order = as_json(hk, "order", "show", order_id)
    assert order["total_fen"] == 14250  # ¥150 less 黄金 5%, as quoted; 铂金 would be ¥135


def test_a_weekly_service_becomes_a_month_of_orders_and_the_discount_is_shared(
    hk: Hk, customer: str, tmp_path: Path
) -> None:
    code = make(
        hk,
        customer,
        "--service",
        "BJ-DAILY",
        "--service",
        "JD-AC",
        "--frequency",
        "每周1次",
        "--frequency",
        "once",
        "--discount",
        "10",
        "--discount-note",
        "包月优惠",
    )
    quote = as_json(hk, "quote", "show", code)
    assert quote["lines"][0]["frequency"] == {"times": 1, "per": "week"}
    assert quote["derived"]["visits"] == [4, 1]
    # 日常保洁 ¥138 less 5% = ¥131.10, four visits; 空调 ¥114; less ¥10
    assert quote["total_fen"] == 4 * 13110 + 11400 - 1000
    ok(hk("quote", "send", code, "--via", "sms", "--format", "md", "--out", str(tmp_path / "q.md")))
    done = as_json(hk, "quote", "accept", code, "--as", "orders", "--start", START)
    assert done["orders"] == [o["id"] for o in done["created_orders"]]
    starts = [o["start"][:10] for o in done["created_orders"]]
    assert starts == [str(DAY + dt.timedelta(days=d)) for d in (0, 7, 14, 21)]
    assert sum(o["total_fen"] for o in done["created_orders"]) == quote["total_fen"]
    first = as_json(hk, "order", "show", done["orders"][0])
    assert [line["service"] for line in first["lines"]] == ["BJ-DAILY", "JD-AC"]


def test_a_rejected_quote_keeps_the_reason(hk: Hk, customer: str, tmp_path: Path) -> None:
    code = make(hk, customer)
    ok(hk("quote", "send", code, "--via", "email", "--out", str(tmp_path / "q.html")))
    assert (
        ok(hk("quote", "reject", code, "--reason", "价格太高")).stdout
        == f"quote {code}: 已发送 sent → 已拒绝 rejected\n"
    )
    quote = as_json(hk, "quote", "show", code)
    assert quote["status"] == "rejected" and quote["events"][-1]["note"] == "价格太高"
    assert hk("quote", "reject", code).exit_code == 2  # no --reason


# --- refusals ----------------------------------------------------------------------------------


def test_an_expired_quote_shows_as_expired_and_cannot_be_accepted(
    hk: Hk, archive: Archive, customer: str, tmp_path: Path
) -> None:
    code = past_quote(archive, customer)
    shown = ok(hk("quote", "show", code)).stdout
    assert shown.startswith(f"报价单 {code}  已过期 expired（草稿 draft")
    assert as_json(hk, "quote", "show", code)["derived"]["shown_status"] == "expired"
    refused = hk("quote", "send", code, "--via", "wechat", "--out", str(tmp_path / "q.html"))
    assert refused.exit_code == 1 and "expired on" in refused.stderr
    assert not (tmp_path / "q.html").exists()


def test_a_sent_quote_past_its_validity_is_refused_on_accept(
    hk: Hk, archive: Archive, customer: str, tmp_path: Path
) -> None:
    code = past_quote(archive, customer, days_ago=5, valid_days=10)
    ok(hk("quote", "send", code, "--via", "wechat", "--out", str(tmp_path / "q.html")))
    path = next((archive.root / "quotes").glob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    last = (dt.datetime.now(TZ) - dt.timedelta(days=1)).date()
    valid = next(line for line in text.splitlines() if line.startswith("valid_until:"))
    path.write_text(text.replace(valid, f"valid_until: {last}"), encoding="utf-8")
    subprocess.run(
        ["git", "-C", str(archive.root), "commit", "-qam", "shorten validity"], check=True
    )
    refused = hk("quote", "accept", code, "--as", "orders", "--start", START)
    assert refused.exit_code == 1
    assert f"the quote expired on {last} (已过期); it cannot be accepted" in refused.stderr
    assert "hk quote new" in refused.stderr
    listed = as_json(hk, "quote", "list", "--status", "expired")
    assert [q["code"] for q in listed] == [code] and listed[0]["shown_status_zh"] == "已过期"
    assert as_json(hk, "order", "list") == []


def test_illegal_steps_are_refused_naming_the_allowed_ones(
    hk: Hk, customer: str, tmp_path: Path
) -> None:
    code = make(hk, customer)
    draft = hk("quote", "accept", code, "--as", "orders", "--start", START)
    assert draft.exit_code == 1
    assert (
        "cannot go from 草稿 draft to 已接受 accepted; allowed: 已发送 sent, 已拒绝 rejected"
        in draft.stderr
    )
    assert "hk quote send" in draft.stderr
    ok(hk("quote", "reject", code, "--reason", "不需要了"))
    again = hk("quote", "send", code, "--via", "wechat", "--out", str(tmp_path / "q.html"))
    assert again.exit_code == 1
    assert (
        "cannot go from 已拒绝 rejected to 已发送 sent; allowed: none, 已拒绝 rejected is final"
    ) in again.stderr


def test_an_accepted_quote_cannot_be_accepted_twice(hk: Hk, customer: str, tmp_path: Path) -> None:
    code = make(hk, customer)
    ok(hk("quote", "send", code, "--via", "wechat", "--out", str(tmp_path / "q.html")))
    ok(hk("quote", "accept", code, "--as", "orders", "--start", START))
    twice = hk("quote", "accept", code, "--as", "orders", "--start", START)
    assert twice.exit_code == 1 and "已接受 accepted is final" in twice.stderr
    assert len(as_json(hk, "order", "list")) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--service", "BJ-DEEP"], "priced per m²: give the area"),
        (["--service", "BJ-HOURLY:2", "--discount", "20"], "needs a note saying why"),
        (["--service", "BJ-HOURLY:2", "--frequency", "每天"], "is not a frequency"),
        (["--service", "PKG-MONTH"], "is a package, not a service item"),
        (
            ["--service", "BJ-HOURLY:2", "--discount", "500", "--discount-note", "x"],
            "the discount is more than the quote",
        ),
    ],
)
def test_a_quote_that_cannot_be_priced_is_refused(
    hk: Hk, customer: str, args: list[str], message: str
) -> None:
    result = hk("quote", "new", "--customer", customer, *args)
    assert result.exit_code in (1, 2) and message in result.stderr
    assert not (hk.root / "quotes").exists() or not list((hk.root / "quotes").iterdir())


# --- listing and JSON --------------------------------------------------------------------------


def test_list_filters_by_status_customer_and_service(
    hk: Hk, archive: Archive, customer: str, tmp_path: Path
) -> None:
    other_customer = add_customer(archive, {**CUSTOMER, "name": "李四", "phones": ["13900139000"]})[
        1
    ].code
    assert other_customer
    hourly = make(hk, customer)
    hood = make(hk, customer, "--service", "JD-HOOD")
    other = make(hk, other_customer, "--service", "JD-AC")
    expired = past_quote(archive, customer)
    ok(hk("quote", "send", hood, "--via", "wechat", "--out", str(tmp_path / "q.html")))

    def codes(*args: str) -> list[str]:
        return [q["code"] for q in as_json(hk, "quote", "list", *args)]

    assert codes() == [expired, hourly, hood, other]
    assert codes("--status", "draft") == [hourly, other]
    assert codes("--status", "已发送") == [hood]
    assert codes("--status", "expired") == [expired]
    assert codes("--customer", other_customer) == [other]
    assert codes("--service", "jd-hood") == [hood]
    assert codes("--limit", "1") == [other]
    table = ok(hk("quote", "list")).stdout.splitlines()
    assert table[0].split() == ["编号", "日期", "状态", "客户", "服务", "金额", "有效期至"]
    assert "已过期" in table[1] and "张三" in table[1]
    assert hk("quote", "list", "--status", "lost").exit_code == 2


def test_json_shows_the_quote_with_its_derived_values(hk: Hk, customer: str) -> None:
    data = as_json(
        hk, "quote", "new", "--customer", customer, "--service", "YS-26:26", "--valid-days", "7"
    )
    assert data["code"].startswith("Q") and data["status"] == "draft"
    assert data["valid_until"] == str(dt.datetime.now(TZ).date() + dt.timedelta(days=7))
    assert data["deposit_fen"] == round(data["total_fen"] * 0.2)  # 月嫂: 20% deposit rule
    assert data["derived"] == {
        "shown_status": "draft",
        "expired": False,
        "gross_fen": 26 * 52000,
        "tier_discount_fen": 26 * 2600,
        "lines_fen": data["total_fen"],
        "visits": [1],
    }
    assert any("定金" in note for note in data["pricing_notes"])
    assert "id_number" not in json.dumps(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每周1次", (1, "week")),
        ("weekly:2", (2, "week")),
        ("monthly:4", (4, "month")),
        ("每月2次", (2, "month")),
        ("once", None),
        ("一次性", None),
    ],
)
def test_frequencies_read_as_people_write_them(text: str, expected: Any) -> None:
    frequency = parse_frequency(text)
    assert (None if frequency is None else (frequency.times, frequency.per)) == expected


def test_a_quote_holds_for_the_days_hk_toml_says(hk: Hk, customer: str, archive: Archive) -> None:
    today = dt.datetime.now(TZ).date()
    first = as_json(hk, "quote", "new", "--customer", customer, "--service", "BJ-DAILY")
    assert first["valid_until"] == str(today + dt.timedelta(days=15))
    toml = archive.root / "hk.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("valid_days = 15", "valid_days = 30"),
        encoding="utf-8",
    )
    second = as_json(hk, "quote", "new", "--customer", customer, "--service", "BJ-DAILY")
    assert second["valid_until"] == str(today + dt.timedelta(days=30))
