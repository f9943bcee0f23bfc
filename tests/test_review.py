"""Review before apply, on clones of one archive served by a real git daemon: a colleague's
changes are listed as field changes in words before they are merged; a proposal pushed to its
own branch is reviewed, then accepted or rejected by the owner."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from hk.services.audit import Filter, entries
from hk.services.sync import operator_slug
from hk.store.archive import Archive
from hk.tui.app import HkApp
from hk.tui.screens.dialogs import ChoiceDialog
from hk.tui.screens.review import ReviewScreen
from hk.tui.widgets.results import ResultTable
from tests.conftest import Hk, git, ok
from tests.sync_support import GitServer, git_server, head, office
from tests.test_tui import drive, rows
from tests.test_tui_snapshots import settle

__all__ = ["git_server"]

WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def code_of(output: str) -> str:
    found = re.search(r"\bK[0-9A-Z]{4,}\b", output)
    assert found, output
    return found.group(0)


@pytest.fixture
def pair(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Hk]:
    """王店长 (the owner) and 李会计, each with a clone, and one customer both have."""
    roots = office(git_server, tmp_path, ["王店长", "李会计"], monkeypatch)
    owner, colleague = Hk(roots[0]), Hk(roots[1])
    ok(owner("customer", "add", "--name", "陈淑芬", "--phone", "13800138000"))
    ok(owner("sync"))
    ok(colleague("sync"))
    return [owner, colleague]


def test_review_lists_a_colleagues_field_changes_before_they_apply(pair: list[Hk]) -> None:
    owner, colleague = pair
    code = code_of(ok(colleague("customer", "find", "陈淑芬")).output)
    ok(colleague("customer", "edit", code, "--phone", "13900139000", "--notes", "周三下午在家"))
    ok(colleague("sync"))
    before = head(owner.root)

    listed = ok(owner("review")).output
    assert re.search(
        rf"customer {code} 陈淑芬: phones 138 0013 8000 → 139 0013 9000, by 李会计, {WHEN}", listed
    ), listed
    assert re.search(rf"customer {code} 陈淑芬: notes — → 周三下午在家, by 李会计", listed), listed
    assert "updated" not in listed
    assert head(owner.root) == before  # nothing merged yet
    shown = ok(owner("customer", "show", code)).output
    assert "138" in shown and "139" not in shown

    ok(owner("review", "--accept"))
    assert "139 0013 9000" in ok(owner("customer", "show", code)).output
    assert "nothing incoming" in ok(owner("review")).output


def test_review_says_a_created_record_and_masks_sensitive_values(pair: list[Hk]) -> None:
    owner, colleague = pair
    ok(colleague("customer", "add", "--name", "刘芳", "--phone", "13700137000"))
    code = code_of(ok(colleague("customer", "find", "陈淑芬")).output)
    ok(
        colleague(
            "customer",
            "edit",
            code,
            "--id-number",
            "110101199003077571",
            "--consent-sensitive",
            "纸质签字",
        )
    )
    ok(colleague("sync"))

    listed = ok(owner("review")).output
    assert re.search(rf"customer K\w+ 刘芳: created, by 李会计, {WHEN}", listed), listed
    assert "id_number — → 1101**************" in listed
    assert "110101199003077571" not in listed
    assert owner("review", "--reveal").exit_code == 1  # a reveal needs a reason
    revealed = ok(owner("review", "--reveal", "--reason", "核对同事的修改")).output
    assert "id_number — → 110101199003077571" in revealed
    [entry] = entries(Archive(owner.root), Filter(action="reveal"))
    assert entry.fields == ["id_number"] and entry.reason == "核对同事的修改"

    data = json.loads(ok(owner("review", "--json")).output)
    assert data["commits"] == 2
    actions = {(c["title"], c["action"]) for c in data["changes"]}
    assert ("刘芳", "created") in actions and ("陈淑芬", "changed") in actions
    changed = next(c for c in data["changes"] if c["title"] == "陈淑芬")["changes"]
    sealed = next(c for c in changed if c["field"] == "id_number")
    assert sealed == {"field": "id_number", "old": None, "new": "1101**************"}


def test_sync_dry_run_shows_what_would_change_and_merges_nothing(pair: list[Hk]) -> None:
    owner, colleague = pair
    code = code_of(ok(colleague("customer", "find", "陈淑芬")).output)
    ok(colleague("customer", "edit", code, "--tag", "高端客户"))
    ok(colleague("sync"))
    ok(owner("customer", "edit", code, "--notes", "老客户"))
    before = head(owner.root)

    out = ok(owner("sync", "--dry-run")).output
    assert f"customer {code} 陈淑芬: tags — → 高端客户, by 李会计" in out
    assert "would push 1 commit(s)" in out
    assert head(owner.root) == before


def test_a_proposal_is_reviewed_then_accepted_by_the_owner(pair: list[Hk]) -> None:
    owner, colleague = pair
    code = code_of(ok(colleague("customer", "find", "陈淑芬")).output)
    ok(colleague("customer", "edit", code, "--tier", "黄金"))
    main_before = git(colleague.root, "rev-parse", "origin/main").strip()

    proposed = ok(colleague("propose")).output
    branch = proposed.splitlines()[0]
    assert re.fullmatch(r"propose/lihuiji-\d{4}-\d\d-\d\d", branch), proposed
    git(colleague.root, "fetch", "-q", "origin")
    assert git(colleague.root, "rev-parse", "origin/main").strip() == main_before

    listed = ok(owner("review", branch)).output
    assert f"customer {code} 陈淑芬: tier — → 黄金, by 李会计" in listed
    ok(owner("review", branch, "--accept"))
    assert "黄金" in ok(owner("customer", "show", code)).output
    ok(owner("sync"))
    ok(colleague("sync"))
    assert head(colleague.root) == head(owner.root)


def test_a_rejected_proposal_is_deleted_from_the_remote(pair: list[Hk]) -> None:
    owner, colleague = pair
    code = code_of(ok(colleague("customer", "find", "陈淑芬")).output)
    ok(colleague("customer", "edit", code, "--tier", "铂金"))
    branch = ok(colleague("propose")).output.splitlines()[0]

    ok(owner("review", f"origin/{branch}"))
    out = ok(owner("review", f"origin/{branch}", "--reject")).output
    assert f"deleted branch {branch} on origin" in out
    assert branch not in git(owner.root, "ls-remote", "origin")
    assert "铂金" not in ok(owner("customer", "show", code)).output
    refused = owner("review", "origin/main", "--reject")
    assert refused.exit_code == 1 and "cannot be rejected" in refused.output


def test_an_operator_name_becomes_an_ascii_branch_name() -> None:
    assert operator_slug("王店长") == "wangdianzhang"
    assert operator_slug("李会计") == "lihuiji"
    assert operator_slug("Anna Lee") == "annalee"
    assert re.fullmatch(r"op-[0-9a-f]{8}", operator_slug("★★"))


# --- the TUI's review page ------------------------------------------------------------------


def test_the_review_page_lists_a_colleagues_changes_and_accepts_them(pair: list[Hk]) -> None:
    owner, colleague = pair
    code = code_of(ok(colleague("customer", "find", "陈淑芬")).output)
    ok(colleague("customer", "edit", code, "--phone", "13900139000"))
    ok(colleague("sync"))

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+r")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, ReviewScreen)
        table = page.query_one("#review-changes", ResultTable)
        assert any(
            f"customer {code} 陈淑芬" in row and "phones" in row and "李会计" in row
            for row in rows(table)
        ), rows(table)
        assert "origin/main 有 1 个提交待合并" in str(page.query_one("#review-status").render())
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        dialog.query_one(OptionList).highlighted = 0  # "merge them"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is page
        assert rows(table) == []
        assert any("已合并 1 个提交" in n.message for n in app._notifications)

    drive(owner.root, scenario)
    assert json.loads(ok(owner("customer", "show", code, "--json")).stdout)["phones"] == [
        "+8613900139000"
    ]


def test_the_review_page_says_when_there_is_no_remote(office_root: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+r")
        await settle(pilot)
        status = str(app.screen.query_one("#review-status").render())
        assert "no remote to sync with" in status and "git remote add origin URL" in status
        await pilot.press("a")
        assert any("没有可接受的更改" in n.message for n in app._notifications)

    drive(office_root, scenario)


@pytest.fixture
def office_root(archive_path: Path) -> Path:
    return archive_path
