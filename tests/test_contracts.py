"""Contracts from the command line (SPEC §2–§3): draft, render, sign, verify, activate, replace
the worker, renew, terminate, list — on real archives in temp dirs, through the ``hk`` app.

Contract dates are set around the real clock (today), as they would be in the office: the
signatures and events the commands date "now" fall inside the contracts.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.services.contracts.steps import add_months, new_contract
from hk.services.documents import digest
from hk.services.people import add_customer, add_worker
from hk.store.archive import Archive
from tests.conftest import Hk, git

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
START = TODAY - dt.timedelta(days=30)
ID_NUMBER = "11010519491231002X"


class Office:
    """An archive with 张三 (ID number on file), and the workers 王秀英 and 李桂芳."""

    def __init__(self, archive: Archive, hk: Hk) -> None:
        self.archive, self.hk = archive, hk
        customer, added = add_customer(
            archive,
            {
                "name": "张三",
                "phones": ["13800138000"],
                "id_number": ID_NUMBER,
                "addresses": [
                    {
                        "city": "成都市",
                        "district": "武侯区",
                        "community": "万科城",
                        "detail": "3栋2单元501",
                    }
                ],
            },
        )
        first, hired = add_worker(
            archive, {"name": "王秀英", "gender": "女", "phone": "13900139000"}
        )
        second, again = add_worker(archive, {"name": "李桂芳", "gender": "女"})
        assert added.code and hired.code and again.code
        self.customer, self.customer_id = added.code, customer.id
        self.worker, self.worker_id = hired.code, first.id
        self.other, self.other_id = again.code, second.id

    def ok(self, *args: str) -> Any:
        result = self.hk(*args)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def placement(self, *args: str, start: dt.date = START) -> str:
        base = [
            "contract",
            "new",
            "--customer",
            self.customer,
            "--kind",
            "placement",
            "--start",
            start.isoformat(),
        ]
        if "--worker" not in args:
            base += ["--worker", self.worker]
        if "--months" not in args and "--end" not in args:
            base += ["--months", "12"]
        if "--service-fee" not in args:
            base += ["--service-fee", "6800"]
        return str(
            self.json(
                *base, "--service", "BM-LIVEIN", "--intro-fee", "1500", "--deposit", "500", *args
            )["code"]
        )

    def signed(self, code: str, worker: bool = True) -> None:
        self.ok(
            "contract", "sign", code, "--party", "customer", "--name", "张三", "--method", "wechat"
        )
        if worker:
            self.ok("contract", "sign", code, "--party", "worker", "--name", "王秀英")
        self.ok(
            "contract",
            "sign",
            code,
            "--party",
            "company",
            "--name",
            "李经理",
            "--method",
            "in_person",
        )

    def active(self, *args: str, start: dt.date = START) -> str:
        code = self.placement(*args, start=start)
        self.signed(code)
        self.ok("contract", "activate", code)
        return code

    def show(self, code: str) -> dict[str, Any]:
        data: dict[str, Any] = self.json("contract", "show", code)
        return data

    def file(self, code: str) -> Path:
        return self.archive.root / "contracts" / f"{self.show(code)['id']}.yaml"


@pytest.fixture
def office(archive: Archive, hk: Hk) -> Office:
    return Office(archive, hk)


# --- the whole flow ------------------------------------------------------------------------------


def test_a_placement_from_draft_to_a_replaced_worker_still_verifies(
    office: Office, tmp_path: Path
) -> None:
    code = office.placement("--hours", "住家", "--rest", "每月休息4天", "--trial-days", "3")
    draft = office.show(code)
    assert draft["status"] == "draft" and draft["number"] == code
    assert draft["parties"]["customer"] == {"name": "张三", "phone": "138 0013 8000"}
    assert draft["end"] == (add_months(START, 12) - dt.timedelta(days=1)).isoformat()
    text = office.ok("contract", "render", code).stdout
    assert "三方家政服务合同" in text and "张三" in text and "王秀英" in text
    assert "人民币陆仟捌佰元整" in text and "人民币壹仟伍佰元整" in text
    assert "仲裁" in text and "调解" in text and "更换服务人员" in text
    assert ID_NUMBER not in text and "附件：签署与履约记录" not in text

    first = office.ok(
        "contract", "sign", code, "--party", "customer", "--name", "张三", "--method", "微信确认"
    ).stdout
    assert first.startswith(f"contract {code}: 草稿 draft  客户 张三 签字（微信确认）")
    office.ok("contract", "sign", code, "--party", "worker", "--name", "王秀英")
    last = office.ok("contract", "sign", code, "--party", "company", "--name", "李经理").stdout
    assert "草稿 draft → 已签署 signed" in last
    signed = office.show(code)
    assert signed["status"] == "signed"
    shas = {s["sha256"] for s in signed["signatures"]}
    assert len(shas) == 1

    assert "→ 生效 active" in office.ok("contract", "activate", code).stdout
    office.ok(
        "contract",
        "replace-worker",
        code,
        office.other,
        "--reason",
        "阿姨家中有事",
        "--operator",
        "前台小李",
    )
    now = office.show(code)
    assert now["worker"] == office.worker_id
    assert now["derived"]["current_worker"] == office.other_id
    assert now["replacements"][0]["operator"] == "前台小李"
    assert now["replacements"][0]["old"] == office.worker_id

    verified = office.ok("contract", "verify", code).stdout
    assert verified.count("  ok  ") == 3 and shas.pop() in verified
    document = office.ok("contract", "render", code).stdout
    terms = document.split("\n---\n")[0]
    assert digest(terms) == now["signatures"][0]["sha256"]
    assert "附件：签署与履约记录" in document
    assert "李桂芳" in document and "阿姨家中有事" in document
    events = [(e.get("from_status"), e["to_status"]) for e in now["events"]]
    assert events == [
        (None, "draft"),
        ("draft", "draft"),
        ("draft", "draft"),
        ("draft", "signed"),
        ("signed", "active"),
        ("active", "active"),
    ]
    history = office.ok("contract", "show", code, "--history").stdout
    assert "已签署 → 生效" in history and "更换阿姨" in history


def test_a_hand_edit_of_the_signed_terms_fails_verify(office: Office, archive: Archive) -> None:
    code = office.active()
    path = office.file(code)
    text = path.read_text(encoding="utf-8")
    assert "service_fee_fen: 680000" in text
    path.write_text(
        text.replace("service_fee_fen: 680000", "service_fee_fen: 880000"), encoding="utf-8"
    )
    git(archive.root, "commit", "-qam", "edit by hand")
    result = office.hk("contract", "verify", code)
    assert result.exit_code == 1
    assert "CHANGED" in result.stdout
    assert "service_fee_fen 680000 → 880000" in result.output
    assert "changed since it was signed" in result.output


def test_the_signed_text_ignores_later_contact_changes(office: Office) -> None:
    """Parties are copied into the contract: a customer's new phone does not touch it."""
    code = office.active()
    office.ok("customer", "edit", office.customer, "--phone", "13700137000")
    assert office.hk("contract", "verify", code).exit_code == 0


def test_signing_a_changed_draft_is_refused_until_restarted(
    office: Office, archive: Archive
) -> None:
    code = office.placement()
    office.ok("contract", "sign", code, "--party", "customer", "--name", "张三")
    path = office.file(code)
    path.write_text(
        path.read_text(encoding="utf-8").replace("deposit_fen: 50000", "deposit_fen: 80000"),
        encoding="utf-8",
    )
    git(archive.root, "commit", "-qam", "deposit changed")
    refused = office.hk("contract", "sign", code, "--party", "company", "--name", "李经理")
    assert refused.exit_code == 1
    assert "deposit_fen 50000 → 80000" in refused.output
    office.ok("contract", "sign", code, "--party", "company", "--name", "李经理", "--restart")
    after = office.show(code)
    assert [s["party"] for s in after["signatures"]] == ["company"]
    assert "原签字作废" in after["events"][-2]["note"]


# --- refused steps -----------------------------------------------------------------------------


def test_illegal_steps_name_the_allowed_ones(office: Office) -> None:
    code = office.placement()
    early = office.hk("contract", "activate", code)
    assert early.exit_code == 1
    assert "cannot go from 草稿 draft to 生效 active; allowed: 已签署 signed" in early.output
    office.signed(code)
    again = office.hk("contract", "sign", code, "--party", "customer", "--name", "张三")
    assert again.exit_code == 1 and "signatures are taken on a draft" in again.output
    renew = office.hk("contract", "renew", code)
    assert renew.exit_code == 1 and "allowed: 生效 active, 已终止 terminated" in renew.output
    office.ok("contract", "terminate", code, "--reason", "客户家中变故，未开始服务")
    final = office.hk("contract", "activate", code)
    assert final.exit_code == 1 and "已终止 terminated is final" in final.output


def test_parties_and_workers_are_checked(office: Office) -> None:
    code = office.json(
        "contract",
        "new",
        "--customer",
        office.customer,
        "--kind",
        "service",
        "--start",
        START.isoformat(),
        "--months",
        "3",
        "--service",
        "BJ-HOURLY",
        "--schedule",
        "weekly:tue 09:00-12:00",
    )["code"]
    stray = office.hk("contract", "sign", code, "--party", "worker", "--name", "王秀英")
    assert stray.exit_code == 1 and "not a party" in stray.output
    no_worker = office.placement("--worker", "")
    missing = office.hk("contract", "sign", no_worker, "--party", "worker", "--name", "某某")
    assert missing.exit_code == 1 and "names no worker" in missing.output
    bad = office.hk(
        "contract",
        "new",
        "--customer",
        office.customer,
        "--kind",
        "placement",
        "--start",
        START.isoformat(),
        "--months",
        "1",
        "--service-fee",
        "5000",
        "--schedule",
        "daily 08:00-10:00",
    )
    assert bad.exit_code == 2 and "not a schedule" in bad.output
    wrong = office.hk(
        "contract",
        "new",
        "--customer",
        office.customer,
        "--kind",
        "service",
        "--start",
        START.isoformat(),
        "--months",
        "1",
        "--service",
        "BJ-DAILY",
        "--schedule",
        "weekly:xyz 09:00-12:00",
    )
    assert wrong.exit_code == 2 and "not a weekday" in wrong.output
    active = office.active()
    same = office.hk("contract", "replace-worker", active, office.worker, "--reason", "x")
    assert same.exit_code == 2 and "already the contract's worker" in same.output


# --- renewal and termination ---------------------------------------------------------------------


def test_renewal_drafts_a_linked_successor_and_the_old_one_is_renewed_on_activation(
    office: Office,
) -> None:
    code = office.active()
    office.ok("contract", "replace-worker", code, office.other, "--reason", "换人")
    old = office.show(code)
    made = office.json("contract", "renew", code, "--service-fee", "7200")
    successor = made["code"]
    assert made["previous"] == old["id"] and made["status"] == "draft"
    assert made["start"] == (dt.date.fromisoformat(old["end"]) + dt.timedelta(days=1)).isoformat()
    assert made["worker"] == office.other_id and made["parties"]["worker"]["name"] == "李桂芳"
    assert made["service_fee_fen"] == 720000 and not made.get("signatures")
    twice = office.hk("contract", "renew", code)
    assert twice.exit_code == 1 and f"already renewed by {successor}" in twice.output
    assert office.show(code)["status"] == "active"

    office.ok("contract", "sign", successor, "--party", "customer", "--name", "张三")
    office.ok("contract", "sign", successor, "--party", "worker", "--name", "李桂芳")
    office.ok("contract", "sign", successor, "--party", "company", "--name", "李经理")
    out = office.ok("contract", "activate", successor).stdout
    assert f"contract {code}: 生效 active → 已续签 renewed" in out
    assert f"contract {successor}: 已签署 signed → 生效 active" in out
    renewed = office.show(code)
    assert renewed["status"] == "renewed" and renewed["renewed_by"] == made["id"]
    assert office.show(successor)["status"] == "active"
    assert f"续签为  {successor}" in office.ok("contract", "show", code).stdout
    assert office.hk("contract", "verify", code).exit_code == 0


def test_terminate_with_reason_and_date(office: Office) -> None:
    code = office.active()
    day = (TODAY + dt.timedelta(days=3)).isoformat()
    out = office.ok("contract", "terminate", code, "--reason", "客户搬家", "--date", day).stdout
    assert "生效 active → 已终止 terminated" in out
    ended = office.show(code)
    assert ended["termination"] == {"date": day, "reason": "客户搬家"}
    assert "本合同于" in office.ok("contract", "render", code).stdout
    late = office.active()
    after_end = office.hk(
        "contract",
        "terminate",
        late,
        "--reason",
        "x",
        "--date",
        (TODAY + dt.timedelta(days=800)).isoformat(),
    )
    assert after_end.exit_code == 1 and "ends on" in after_end.output


# --- listing -------------------------------------------------------------------------------------


def test_list_filters_and_derived_expiry(office: Office) -> None:
    running = office.active()
    old = office.active(start=TODAY - dt.timedelta(days=400))
    draft = office.placement("--worker", office.other)
    replaced = office.active()
    office.ok("contract", "replace-worker", replaced, office.other, "--reason", "换人")

    def codes(*args: str) -> set[str]:
        return {item["code"] for item in office.json("contract", "list", *args)}

    assert codes() == {running, old, draft, replaced}
    assert codes("--status", "expired") == {old}
    assert codes("--status", "生效") == {running, replaced}
    assert codes("--status", "draft") == {draft}
    assert codes("--worker", office.other) == {draft, replaced}
    assert codes("--customer", office.customer, "--ending-before", TODAY.isoformat()) == {old}
    assert office.show(old)["derived"]["status_now"] == "expired"
    table = office.ok("contract", "list").stdout
    assert "已到期" in table and "张三" in table


# --- documents -----------------------------------------------------------------------------------


def test_html_is_a4_with_the_parties_names_and_ids_only_when_revealed(
    office: Office, tmp_path: Path
) -> None:
    code = office.active()
    out = tmp_path / "contract.html"
    office.ok("contract", "render", code, "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "size: A4" in page and "<table>" in page
    assert "张三" in page and "王秀英" in page and "李经理" in page
    assert ID_NUMBER not in page
    assert office.hk("contract", "render", code, "--reveal").exit_code == 1  # no reason
    revealed = office.ok("contract", "render", code, "--reveal", "--reason", "签约核对").stdout
    assert ID_NUMBER in revealed
    assert office.hk("contract", "verify", code).exit_code == 0


def test_a_package_contract_with_a_schedule_is_two_party(office: Office) -> None:
    made = office.json(
        "contract",
        "new",
        "--customer",
        office.customer,
        "--kind",
        "package",
        "--package",
        "PKG-QUARTER",
        "--months",
        "3",
        "--start",
        START.isoformat(),
        "--schedule",
        "weekly:tue 09:00-12:00",
    )
    assert made["service_fee_fen"] == 158000 and made["fee_unit"] == "total"
    assert made["schedule"]["days"] == ["tue"]
    assert [(line["service"], line["visits"]) for line in made["lines"]] == [
        ("BJ-DAILY", 12),
        ("JD-HOOD", 1),
    ]
    text = office.ok("contract", "render", made["code"]).stdout
    assert "# 家政服务合同（套餐服务）" in text and "每周二 09:00-12:00" in text
    assert "家政服务员" not in text and "一式两份" in text
    assert "人民币壹仟伍佰捌拾元整" in text
    office.signed(made["code"], worker=False)
    assert office.show(made["code"])["status"] == "signed"


def test_a_service_contract_prices_each_visit_from_the_catalog(office: Office) -> None:
    made = office.json(
        "contract",
        "new",
        "--customer",
        office.customer,
        "--kind",
        "service",
        "--start",
        START.isoformat(),
        "--end",
        add_months(START, 1).isoformat(),
        "--service",
        "BJ-HOURLY",
        "--schedule",
        "weekdays 14:00-16:00",
        "--worker",
        office.worker,
    )
    assert made["lines"][0]["quantity"] == "2" and made["service_fee_fen"] == 9000
    assert made["fee_unit"] == "visit" and made["schedule"]["rule"] == "weekdays"
    assert "工作日 14:00-16:00" in office.ok("contract", "render", made["code"]).stdout


def test_new_contract_from_code(archive: Archive, office: Office) -> None:
    """What a quote accepted as a contract calls."""
    contract, result = new_contract(
        archive,
        office.customer,
        kind="service",
        start=START,
        months=2,
        services=[("BJ-DAILY", None, 12000)],
        schedule="every:2 09:00-12:00",
        deposit_fen=10000,
        clauses=["钥匙由物业代管"],
    )
    assert result.commit and contract.service_fee_fen == 12000
    assert contract.schedule is not None and contract.schedule.text_zh() == "每隔1天 09:00-12:00"
    text = office.ok("contract", "render", contract.number).stdout
    assert "钥匙由物业代管" in text and "人民币壹佰元整" in text
    with pytest.raises(TypeError, match="unknown terms"):
        new_contract(archive, office.customer, kind="service", start=START, months=1, colour="red")
