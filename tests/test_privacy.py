"""PIPL rights from the command line: consent, a copy of one's data, erasure, retention."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from hk.domain.fields import SEAL_PREFIX
from hk.domain.reminders import consents_to_marketing
from hk.services.audit import Filter, entries
from hk.services.people import add_customer
from hk.store.archive import Archive
from hk.store.codec import parse
from hk.store.crypto import Keyring
from tests.conftest import git, ok
from tests.orders_support import Shop, make_shop

CANARY = "canary-哮喘-4417"
OTHER_CANARY = "canary-过敏-9902"
ID_NUMBER = "510104199001011230"


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    made = make_shop(archive, archive_path)
    made.cli.ok(
        "customer",
        "edit",
        made.customer,
        "--health-note",
        CANARY,
        "--id-number",
        ID_NUMBER,
        "--consent-sensitive",
        "纸质签字",
    )
    return made


def _stored(shop: Shop) -> dict[str, object]:
    """The customer's file as hk reads it (dates as text)."""
    path = f"customers/{shop.customer_id}.yaml"
    data: dict[str, object] = parse((shop.archive.root / path).read_text(), path)
    return data


def test_consents_are_recorded_listed_and_withdrawn(shop: Shop) -> None:
    cli = shop.cli
    ok(cli("consent", "add", shop.customer, "--purpose", "marketing", "--how", "微信确认"))
    ok(cli("consent", "add", shop.customer, "--purpose", "sensitive", "--how", "纸质签字",
           "--scope", "身份证号、健康状况"))  # fmt: skip
    listed = cli.json("consent", "list", shop.customer)
    assert [(c["purpose"], c["method"], c["in_force"]) for c in listed] == [
        ("敏感个人信息处理", "纸质签字", True),  # recorded with the fixture's sensitive values
        ("回访与优惠信息", "微信确认", True),
        ("敏感个人信息处理", "纸质签字", True),
    ]
    stored = _stored(shop)
    assert consents_to_marketing(stored, listed_day(listed))
    result = ok(cli("consent", "withdraw", shop.customer, "--purpose", "marketing"))
    assert "no greetings or offers" in result.stdout
    stored = _stored(shop)
    assert not consents_to_marketing(stored, listed_day(listed))
    withdrawn = cli("consent", "withdraw", shop.customer, "--purpose", "marketing")
    assert withdrawn.exit_code == 1 and "no consent in force" in withdrawn.output
    result = ok(cli("consent", "withdraw", shop.customer, "--purpose", "敏感个人信息处理"))
    assert f"hk privacy erase {shop.customer} --sensitive-only" in result.stdout
    missing = cli("consent", "add", shop.customer, "--purpose", "marketing", "--how", " ")
    assert missing.exit_code == 1 and "--how" in missing.output


def listed_day(listed: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.date.fromisoformat(listed[0]["date"])


def test_a_copy_holds_everything_about_the_person_and_is_audited(
    shop: Shop, tmp_path: Path
) -> None:
    order = shop.new()
    out = tmp_path / "copy"
    refused = shop.cli("privacy", "export", shop.customer, "--out", str(out))
    assert refused.exit_code == 1 and "--reason" in refused.output
    ok(shop.cli("privacy", "export", shop.customer, "--out", str(out), "--reason", "本人申请"))
    copy = json.loads((out / f"{shop.customer}.json").read_text())
    assert copy["person"]["health_notes"] == CANARY
    assert copy["person"]["id_number"] == ID_NUMBER
    assert [o["code"] for o in copy["records"]["order"]] == [order]
    page = (out / f"{shop.customer}.html").read_text()
    assert "个人信息副本" in page and CANARY in page and order in page
    assert (out / f"{shop.customer}.json").stat().st_mode & 0o077 == 0
    [entry] = entries(shop.archive, Filter(action="access-copy"))
    assert entry.records == [shop.customer_id] and entry.reason == "本人申请"
    assert set(entry.fields) == {"health_notes", "id_number"}


def _all_sealed_plaintexts(archive: Archive, keyring: Keyring | None = None) -> set[str]:
    """Every sealed value in every git object of the archive that opens with a key here
    (``keyring``: the keys of another archive folder, as for a clone of it)."""
    root = archive.root
    names = git(root, "cat-file", "--batch-all-objects", "--batch-check").splitlines()
    blobs = [line.split()[0] for line in names if line.split()[1] == "blob"]
    found: set[str] = set()
    keyring = keyring or Archive(root).keyring
    for sha in blobs:
        text = git(root, "cat-file", "-p", sha)
        if SEAL_PREFIX not in text:
            continue
        data = yaml.safe_load(text) if not text.lstrip().startswith("{") else json.loads(text)
        if not isinstance(data, dict) or "id" not in data:
            continue
        for token in _tokens(data):
            try:
                found.add(keyring.unseal(data["id"], token))
            except Exception:
                continue
    return found


def _tokens(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith(SEAL_PREFIX) else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tokens(v)]
    if isinstance(value, list):
        return [t for v in value for t in _tokens(v)]
    return []


def test_erasure_makes_every_copy_of_the_sensitive_values_unreadable(shop: Shop) -> None:
    other, _ = add_customer(
        shop.archive, {"name": "李四", "phones": ["13900139000"], "health_notes": OTHER_CANARY}
    )
    order = shop.new()
    assert CANARY in _all_sealed_plaintexts(shop.archive)
    busy = shop.cli("privacy", "erase", shop.customer, "--reason", "客户要求删除", "--yes")
    assert (
        busy.exit_code == 1
        and f"order {order}" in busy.output
        and "nothing was erased" in busy.output
    )
    ok(shop.cli("order", "cancel", order, "--reason", "客户取消"))
    done = ok(shop.cli("privacy", "erase", shop.customer, "--reason", "客户要求删除", "--yes"))
    assert "data key destroyed" in done.stdout
    person = _stored(shop)
    assert person["name"] == "（已删除）" and "phones" not in person and "erased" in person
    assert "health_notes" not in person and "id_number" not in person
    assert person["addresses"] == [{"city": "成都市", "district": "武侯区"}]
    shown = shop.show(order)
    assert shown["address"] == {"city": "成都市", "district": "武侯区"}
    assert shown["total_fen"] > 0, "business facts stay"
    plaintexts = _all_sealed_plaintexts(shop.archive)
    assert CANARY not in plaintexts and ID_NUMBER not in plaintexts
    assert OTHER_CANARY in plaintexts
    fresh = shop.archive.root.parent / "fresh-clone"  # as a colleague's new copy would be
    subprocess.run(["git", "clone", "-q", str(shop.archive.root), str(fresh)], check=True)
    in_clone = _all_sealed_plaintexts(Archive(fresh), shop.archive.keyring)
    assert CANARY not in in_clone and ID_NUMBER not in in_clone and OTHER_CANARY in in_clone
    assert ok(shop.cli("doctor")).exit_code == 0
    exported = json.loads(ok(shop.cli("export", "customers", "--format", "json")).stdout)
    assert [row["姓名"] for row in exported] == ["李四"]
    assert shop.cli.json("customer", "find", "张三") == []
    [entry] = entries(shop.archive, Filter(action="erase"))
    assert entry.records == [shop.customer_id] and entry.reason == "客户要求删除"
    assert "张三" not in git(shop.archive.root, "log", "-2", "--format=%B")
    assert other.id


def test_a_key_of_an_erased_person_left_on_another_machine_is_an_error(shop: Shop) -> None:
    key = shop.archive.keyring.folder / "people" / shop.customer_id
    kept = key.read_bytes()
    ok(shop.cli("privacy", "erase", shop.customer, "--reason", "客户要求删除", "--yes"))
    key.write_bytes(kept)  # as a colleague's machine still has it
    result = shop.cli("doctor")
    assert result.exit_code == 1
    assert "was erased, but their data key is still on this machine" in result.output
    fixed = ok(shop.cli("doctor", "--fix"))
    assert f"destroyed the data key of {shop.customer}, erased on another clone" in fixed.output
    assert not key.exists()


def test_sensitive_only_erasure_keeps_the_rest(shop: Shop) -> None:
    ok(shop.cli("privacy", "erase", shop.customer, "--sensitive-only", "--reason", "撤回同意",
                "--yes"))  # fmt: skip
    person = _stored(shop)
    assert person["name"] == "张三" and "health_notes" not in person and "erased" not in person
    assert CANARY not in _all_sealed_plaintexts(shop.archive)


def test_people_without_business_for_years_are_due_for_review(shop: Shop) -> None:
    path = shop.archive.root / f"customers/{shop.customer_id}.yaml"
    text = path.read_text()
    created = next(line for line in text.splitlines() if line.startswith("created:"))
    path.write_text(text.replace(created, "created: '2019-03-01T10:00:00+08:00'"))
    git(shop.archive.root, "commit", "-qam", "moved in from the old ledger")
    found = shop.cli.json("privacy", "due")
    assert [d["code"] for d in found] == [shop.customer]
    assert found[0]["last_business"] == "2019-03-01"
    shop.new()
    assert shop.cli.json("privacy", "due") == []


def test_purge_history_takes_every_past_version_out_of_git(shop: Shop) -> None:
    ok(shop.cli("customer", "edit", shop.customer, "--notes", "老客户，住万科城3栋"))
    git(shop.archive.root, "remote", "add", "origin", "https://example.com/archive.git")
    assert "万科城3栋" in git(shop.archive.root, "log", "-p", "--all", "--no-textconv")
    done = ok(
        shop.cli(
            "privacy",
            "erase",
            shop.customer,
            "--reason",
            "客户要求删除",
            "--purge-history",
            "--yes",
        )
    )
    assert "git push --force origin --all" in done.output
    root = shop.archive.root
    everything = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    for plain in ("万科城3栋", "张三", "13800138000"):
        assert plain not in everything, plain
    person = _stored(shop)
    assert person["name"] == "（已删除）"
    assert git(root, "status", "--porcelain").strip() == ""
    assert git(root, "remote", "get-url", "origin").strip() == "https://example.com/archive.git"
    assert ok(shop.cli("doctor")).exit_code == 0
    assert entries(shop.archive, Filter(action="erase"))
