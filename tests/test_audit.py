"""The audit trail of personal data: reveals need a reason and are recorded; tampering shows."""

from __future__ import annotations

import json
from pathlib import Path

from hk.services.audit import Filter, entries
from hk.store.archive import Archive
from tests.conftest import Hk, git, ok

ID_NUMBER = "510104199001011230"


def _customer(hk: Hk, name: str = "陈淑芬", phone: str = "13800138000") -> dict[str, str]:
    return json.loads(
        ok(
            hk(
                "customer", "add", "--name", name, "--phone", phone,
                "--id-number", ID_NUMBER, "--health-note", "青霉素过敏",
                "--consent-sensitive", "纸质签字", "--json",
            )
        ).stdout
    )  # fmt: skip


def test_a_reveal_without_a_reason_is_refused_and_shows_nothing(hk: Hk) -> None:
    added = _customer(hk)
    result = hk.process("customer", "show", added["code"], "--reveal")
    assert result.returncode == 1
    assert "--reason" in result.stderr
    assert ID_NUMBER not in result.stdout
    assert entries(Archive(hk.root), Filter()) == []


def test_a_reveal_is_recorded_with_who_what_why_and_no_personal_data(hk: Hk) -> None:
    added = _customer(hk)
    result = hk.process(
        "customer", "show", added["code"], "--reveal", "--reason", "客户来电核对身份"
    )
    assert result.returncode == 0, result.stderr
    assert ID_NUMBER in result.stdout
    [entry] = entries(Archive(hk.root), Filter())
    assert entry.action == "reveal" and entry.kind == "customer"
    assert entry.records == [added["id"]]
    assert entry.fields == ["health_notes", "id_number"]
    assert entry.reason == "客户来电核对身份" and entry.operator == "测试员"
    assert entry.to == "stdout"
    text = "".join(p.read_text() for p in (hk.root / "audit").rglob("*.json"))
    assert ID_NUMBER not in text and "陈淑芬" not in text and "青霉素" not in text
    assert git(hk.root, "status", "--porcelain").strip() == "", "committed"
    listing = ok(hk.process("audit", "--record", added["code"]))
    assert "客户来电核对身份" in listing.stdout and "查看敏感信息" in listing.stdout
    assert "陈淑芬" not in git(hk.root, "log", "-1", "--format=%B")


def test_the_trail_filters_by_operator_and_sums_up_flows(hk: Hk) -> None:
    first, second = _customer(hk), _customer(hk, "李四", "13800138001")
    ok(hk.process("show", first["code"], "--reveal", "--reason", "核对"))
    ok(
        hk.process(
            "log", second["code"], "--reveal", "--reason", "查历史", env={"HK_OPERATOR": "王店长"}
        )
    )
    found = json.loads(ok(hk.process("audit", "--operator", "王店长", "--json")).stdout)
    assert [e["records"] for e in found] == [[second["id"]]]
    assert found[0]["fields"] == ["health_notes", "id_number"]
    flows = json.loads(ok(hk.process("audit", "flows", "--json")).stdout)
    assert flows == [
        {
            "action": "reveal", "to": "stdout", "channel": "", "kind": "customer", "times": 2,
            "records": 2, "fields": ["health_notes", "id_number"],
            "operators": ["测试员", "王店长"],
        }
    ]  # fmt: skip


def _entry_files(root: Path) -> list[Path]:
    return sorted((root / "audit").rglob("*.json"))


def test_an_entry_edited_by_hand_makes_doctor_fail_naming_it(hk: Hk) -> None:
    added = _customer(hk)
    ok(hk.process("customer", "show", added["code"], "--reveal", "--reason", "核对"))
    [path] = _entry_files(hk.root)
    path.write_text(path.read_text().replace("核对", "例行"))
    result = hk.process("doctor")
    assert result.returncode == 1
    assert str(path.relative_to(hk.root)) in result.stderr
    assert "changed after it was written" in result.stderr


def test_an_entry_removed_is_found_by_the_chain_and_in_history(hk: Hk) -> None:
    added = _customer(hk)
    for why in ("一", "二", "三"):
        ok(hk.process("customer", "show", added["code"], "--reveal", "--reason", why))
    _, middle, last = _entry_files(hk.root)
    middle.unlink()
    result = hk.process("doctor")
    assert result.returncode == 1
    assert str(last.relative_to(hk.root)) in result.stderr
    assert "before this one is missing" in result.stderr
    # the newest entry removed and committed: no successor to notice, git's history does
    git(hk.root, "checkout", "--", ".")
    last.unlink()
    git(hk.root, "commit", "-qam", "tidy")
    result = hk.process("doctor")
    assert result.returncode == 1
    assert f"{last.relative_to(hk.root)}: audit entry was removed by commit" in result.stderr
