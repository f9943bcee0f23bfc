"""``hk sync`` on clones of one archive served by a real git daemon on loopback.

Two operators' stories (different fields of one customer; the same field), the archive left as
it was when a merge would break a record, a push refused because the remote moved, short codes
that collide across clones, and three clones with hundreds of records each synced in every
order: every file valid, no conflict marker in any commit, no lost value, every clone the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hk.domain.customer import Customer
from hk.domain.ids import _code_digits, new_id
from hk.services.people import build_new
from hk.store.archive import Archive
from hk.store.writer import save
from tests.conftest import Hk, git, ok
from tests.sync_support import GitServer, git_server, head, office, tree

__all__ = ["git_server"]


def customer(hk: Hk, name: str, phone: str) -> str:
    added = json.loads(ok(hk("customer", "add", "--name", name, "--phone", phone, "--json")).stdout)
    return str(added["code"])


def shown(hk: Hk, code: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(hk("customer", "show", code, "--json")).stdout)
    return data


@pytest.fixture
def pair(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Hk]:
    """王店长 and 李会计, each with a clone of one archive."""
    return [Hk(r) for r in office(git_server, tmp_path, ["王店长", "李会计"], monkeypatch)]


# --- what a sync refuses --------------------------------------------------------------------


def test_a_sync_without_a_remote_says_how_to_add_one(hk: Hk) -> None:
    result = hk("sync")
    assert result.exit_code == 1
    assert "no remote to sync with" in result.output
    assert "git remote add origin URL" in result.output


def test_a_sync_refuses_hand_edits_git_does_not_have_and_names_them(pair: list[Hk]) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    customer(a, "刘芳", "13700137000")
    ok(a("sync"))
    path = next((b.root / "customers").glob("*.yaml"))
    path.write_text(path.read_text(encoding="utf-8") + "notes: 手改\n", encoding="utf-8")
    before = head(b.root)

    result = b("sync")
    assert result.exit_code == 1
    assert f"customers/{path.name}: changed, not committed" in result.output
    assert "git add" in result.output
    assert head(b.root) == before
    assert "手改" in path.read_text(encoding="utf-8")  # the hand edit is left alone
    del code


def test_an_incoming_record_that_does_not_validate_leaves_the_archive_as_it_was(
    pair: list[Hk],
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    path = next((a.root / "customers").glob("*.yaml"))
    text = path.read_text(encoding="utf-8").replace("13800138000", "not a phone")
    path.write_text(text, encoding="utf-8")
    git(a.root, "commit", "-qam", "hand edit")
    git(a.root, "push", "-q", "origin", "main")
    customer(b, "刘芳", "13700137000")
    before, files = head(b.root), sorted(p.name for p in (b.root / "customers").iterdir())

    result = b("sync")
    assert result.exit_code == 1
    assert f"customers/{path.name}:" in result.output and "phones" in result.output
    assert head(b.root) == before
    assert sorted(p.name for p in (b.root / "customers").iterdir()) == files
    assert git(b.root, "status", "--porcelain") == ""
    assert shown(b, code)["phones"] == ["+8613800138000"]


# --- different records, pushes that race ----------------------------------------------------


def test_records_made_on_two_clones_are_on_both_after_both_sync(pair: list[Hk]) -> None:
    a, b = pair
    first = customer(a, "陈淑芬", "13800138000")
    second = customer(b, "刘芳", "13700137000")
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "merged origin/main: 1 commit(s)" in out and "pushed 2 commit(s)" in out
    out = ok(a("sync")).output
    assert "fast-forward origin/main" in out
    assert head(a.root) == head(b.root)
    for hk in (a, b):
        assert shown(hk, first)["name"] == "陈淑芬" and shown(hk, second)["name"] == "刘芳"
    message = git(b.root, "log", "-1", "--format=%B")
    assert message.startswith("sync: merge origin/main") and "Operator: 李会计" in message
    assert len(git(b.root, "log", "-1", "--format=%P").split()) == 2
    assert "up to date with origin/main" in ok(a("sync")).output


def test_a_push_refused_because_the_remote_moved_fetches_merges_and_pushes_again(
    git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = (Hk(r) for r in office(git_server, tmp_path, ["甲", "乙", "丙"], monkeypatch))
    customer(b, "陈淑芬", "13800138000")
    customer(c, "刘芳", "13700137000")
    # the moment b has merged and is about to push, c pushes first
    hook = b.root / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\n[ -e '{tmp_path}/raced' ] && exit 0\ntouch '{tmp_path}/raced'\n"
        f"cd '{c.root}' && git push -q origin main\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    ok(b("sync"))
    assert (tmp_path / "raced").exists()
    ok(a("sync"))
    names = {p["name"] for p in json.loads(ok(a("customer", "list", "--json")).stdout)}
    assert names == {"陈淑芬", "刘芳"}
    assert git(b.root, "rev-parse", "origin/main") == git(a.root, "rev-parse", "HEAD")


# --- short codes ----------------------------------------------------------------------------


def colliding_ids() -> tuple[str, str]:
    """Two IDs, an older and a newer, whose 4-character codes are the same."""
    seen: dict[str, str] = {}
    ms = 1_790_000_000_000
    while True:
        ms += 1
        rid = new_id(ms)
        digits = _code_digits(rid)[:4]
        if digits in seen:
            return seen[digits], rid
        seen[digits] = rid


def made(archive: Archive, record_id: str, name: str, phone: str) -> None:
    """A customer with the ID given (the test needs two whose codes collide)."""
    record = build_new(archive, Customer, {"name": name, "phones": [phone]})
    save(archive, record.model_copy(update={"id": record_id}))


def test_codes_that_collide_across_clones_are_settled_the_same_way_everywhere(
    pair: list[Hk],
) -> None:
    a, b = pair
    older, newer = colliding_ids()
    made(Archive(a.root), newer, "新客户", "13600136000")
    made(Archive(b.root), older, "老客户", "13500135000")
    ok(a("sync"))
    ok(b("sync"))
    out = ok(a("sync")).output
    short = "K" + _code_digits(older)[:4]
    longer = "K" + _code_digits(newer)[:5]
    assert f"code changed: customer {short} → {longer} 新客户" in out
    for hk in (a, b):
        rows = json.loads(ok(hk("customer", "list", "--json")).stdout)
        codes = {r["name"]: r["code"] for r in rows}
        assert codes["老客户"] == short and codes["新客户"] == longer


# --- two operators, one customer ------------------------------------------------------------


def test_different_fields_of_one_customer_changed_on_two_clones_are_both_kept(
    pair: list[Hk],
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    ok(a("customer", "edit", code, "--phone", "13900139000"))
    ok(b("customer", "edit", code, "--tag", "高端客户", "--notes", "周三下午在家"))
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "1 record(s) changed on both sides merged field by field" in out
    assert "attic" not in out
    ok(a("sync"))
    for hk in (a, b):
        data = shown(hk, code)
        assert data["phones"] == ["+8613900139000"]
        assert data["tags"] == ["高端客户"] and data["notes"] == "周三下午在家"
        assert [r["code"] for r in json.loads(ok(hk("customer", "list", "--json")).stdout)] == [
            code
        ]
    assert tree(a.root) == tree(b.root)
    assert ok(a("doctor")).exit_code == 0


def at(env: pytest.MonkeyPatch, when: str) -> None:
    """Commits from now on are made at ``when`` (git's clock, which decides the later writer)."""
    env.setenv("GIT_AUTHOR_DATE", when)
    env.setenv("GIT_COMMITTER_DATE", when)


def test_one_field_changed_on_two_clones_keeps_the_later_value_and_the_other_in_the_attic(
    pair: list[Hk], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    at(monkeypatch, "2026-12-08T10:00:00+08:00")
    ok(a("customer", "edit", code, "--wechat", "chen_old"))
    at(monkeypatch, "2026-12-08T10:14:00+08:00")
    ok(b("customer", "edit", code, "--wechat", "chen_new"))
    at(monkeypatch, "2026-12-08T11:00:00+08:00")
    ok(a("sync"))
    out = ok(b("sync")).output
    assert (
        f"customer {code} 陈淑芬: wechat changed on both sides; kept 李会计's (2026-12-08 10:14), "
        "王店长's (2026-12-08 10:00) is in the attic"
    ) in out, out
    ok(a("sync"))
    for hk in (a, b):
        assert shown(hk, code)["wechat"] == "chen_new"
        listed = json.loads(ok(hk("conflicts", "--json")).stdout)
        assert [(c["code"], c["field"], c["kept"], c["lost"]) for c in listed] == [
            (code, "wechat", "chen_new", "chen_old")
        ]
        assert (listed[0]["kept_by"], listed[0]["kept_at"][:16]) == ("李会计", "2026-12-08T10:14")
        assert (listed[0]["lost_by"], listed[0]["lost_at"][:16]) == ("王店长", "2026-12-08T10:00")
    assert tree(a.root) == tree(b.root)
    assert ok(a("doctor")).exit_code == 0


def test_the_same_phone_changed_on_two_clones_keeps_one_and_the_other_is_in_hk_conflicts(
    pair: list[Hk], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    at(monkeypatch, "2026-12-08T10:14:00+08:00")
    ok(a("customer", "edit", code, "--phone", "13900139000"))
    at(monkeypatch, "2026-12-08T10:20:00+08:00")
    ok(b("customer", "edit", code, "--phone", "13700137000"))
    at(monkeypatch, "2026-12-08T11:00:00+08:00")
    ok(a("sync"))
    ok(b("sync"))
    ok(a("sync"))
    for hk in (a, b):
        assert shown(hk, code)["phones"] == ["+8613700137000"]
        out = ok(hk("conflicts")).output
        assert f"customer {code} 陈淑芬" in out and "王店长 2026-12-08 10:14" in out, out
        assert "李会计 2026-12-08 10:20" in out
    listed = json.loads(ok(a("conflicts", "--json")).stdout)
    assert [(c["field"], c["kept_by"], c["lost_by"]) for c in listed] == [
        ("phones", "李会计", "王店长")
    ]
    assert tree(a.root) == tree(b.root)
