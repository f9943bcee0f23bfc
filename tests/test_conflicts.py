"""Several writers, one record: stale edits re-applied, real overlaps refused, the attic,
``hk conflicts`` and the git merge driver. Real processes, real git, real clones."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from hk.store.archive import Archive
from hk.store.lock import archive_lock
from tests.conftest import HK_BIN, Hk, ok


def add_customer(hk: Hk, *args: str) -> tuple[str, Path]:
    data = json.loads(
        ok(
            hk("customer", "add", "--name", "陈淑芬", "--phone", "13800138000", *args, "--json")
        ).stdout
    )
    return data["code"], hk.root / "customers" / f"{data['id']}.yaml"


def field_of(path: Path, name: str) -> object:
    from hk.store import codec

    return codec.parse(path.read_text(encoding="utf-8"), str(path)).get(name)


# --- local concurrency: a stale edit is made again on the fresh record ----------------------------


def test_parallel_edits_of_different_fields_never_refuse_each_other(hk: Hk) -> None:
    code, path = add_customer(hk, "--address", "1栋101")
    loops = {
        field: subprocess.Popen(
            [
                "bash",
                "-c",
                f'for i in $(seq 20); do "{HK_BIN}" --archive "{hk.root}" customer edit {code} '
                f'--{field} "{field}$i" >/dev/null 2>>"$ERR" || echo "exit $? at $i"; done',
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**_env(), "ERR": str(hk.root.parent / f"{field}.err")},
        )
        for field in ("notes", "wechat", "address")
    }
    refusals = {field: proc.communicate(timeout=300)[0] for field, proc in loops.items()}
    errors = {f: (hk.root.parent / f"{f}.err").read_text(encoding="utf-8") for f in loops}
    assert refusals == {"notes": "", "wechat": "", "address": ""}, errors
    assert field_of(path, "notes") == "notes20"
    assert field_of(path, "wechat") == "wechat20"
    addresses = field_of(path, "addresses")
    assert isinstance(addresses, list) and addresses[0]["detail"] == "address20"
    status = subprocess.run(
        ["git", "-C", str(hk.root), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.stdout == ""


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _two_edits_while_locked(hk: Hk, code: str, one: list[str], two: list[str]) -> list:
    """Start two edits that both read the record while the archive is locked, then let them
    write one after the other: the second is stale, for certain."""
    archive = Archive(hk.root)
    with archive_lock(archive.hk_dir / "lock"):
        procs = [
            subprocess.Popen(
                [HK_BIN, "--archive", str(hk.root), "customer", "edit", code, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in (one, two)
        ]
        time.sleep(3)  # both have started, read the record and wait for the lock
    return [(p.wait(timeout=60), *p.communicate()) for p in procs]


def test_two_edits_of_different_fields_read_at_once_both_land(hk: Hk) -> None:
    code, path = add_customer(hk)
    results = _two_edits_while_locked(hk, code, ["--notes", "带钥匙"], ["--wechat", "chen_sf"])
    assert [r[0] for r in results] == [0, 0], results
    assert field_of(path, "notes") == "带钥匙"
    assert field_of(path, "wechat") == "chen_sf"


def test_two_edits_of_the_same_field_read_at_once_one_exits_3_naming_it(hk: Hk) -> None:
    code, path = add_customer(hk)
    results = _two_edits_while_locked(
        hk, code, ["--phone", "13700137000"], ["--phone", "13900139000"]
    )
    assert sorted(r[0] for r in results) == [0, 3], results
    [refused] = [r for r in results if r[0] == 3]
    message = refused[2]
    assert f"customer {code} was changed by someone else since it was opened" in message
    assert "in the same field: phones: saved meanwhile" in message
    assert "137****7000" in message and "139****9000" in message
    assert "13700137000" not in message and "13900139000" not in message
    assert "redo the change" in message
    [landed] = [r for r in results if r[0] == 0]
    assert field_of(path, "phones") in (["+8613700137000"], ["+8613900139000"])
    assert landed[0] == 0


def test_a_sealed_value_in_an_overlap_is_never_printed(hk: Hk) -> None:
    code, _ = add_customer(hk)
    results = _two_edits_while_locked(
        hk, code, ["--health-note", "对海鲜过敏"], ["--health-note", "高血压"]
    )
    assert sorted(r[0] for r in results) == [0, 3], results
    [refused] = [r for r in results if r[0] == 3]
    assert "health_notes: saved meanwhile ******, yours ******" in refused[2]
    assert "海鲜" not in refused[2] and "高血压" not in refused[2]
    assert "enc:v1:" not in refused[2]


# --- two clones, plain git pull with the merge driver ---------------------------------------------


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=check
    )


def clone(hk: Hk, name: str, operator: str) -> Hk:
    """A clone of the archive, with its own git identity; an hk command in it sets up the
    merge driver (git's config is not cloned)."""
    root = hk.root.parent / name
    git(hk.root.parent, "clone", "-q", str(hk.root), str(root))
    git(root, "config", "user.name", operator)
    git(root, "config", "user.email", "op@example.com")
    other = Hk(root)
    ok(other("customer", "list"))
    return other


def edit_as(hk: Hk, operator: str, code: str, *args: str) -> None:
    result = hk.process("customer", "edit", code, *args, env={"HK_OPERATOR": operator})
    assert result.returncode == 0, result.stderr


def pull(hk: Hk) -> subprocess.CompletedProcess[str]:
    return git(hk.root, "pull", "--no-rebase", "--no-edit", check=False)


def test_init_marks_record_folders_for_the_driver_and_a_clone_gets_it_configured(
    hk: Hk,
) -> None:
    tracked = git(hk.root, "ls-files").stdout.split()
    assert ".gitattributes" in tracked
    attributes = (hk.root / ".gitattributes").read_text(encoding="utf-8")
    assert "customers/** merge=hk" in attributes and "orders/** merge=hk" in attributes
    assert "conflicts/** merge=hk" in attributes
    assert "merge-driver %O %A %B %P" in git(hk.root, "config", "merge.hk.driver").stdout
    root = hk.root.parent / "plain-clone"
    git(hk.root.parent, "clone", "-q", str(hk.root), str(root))
    assert git(root, "config", "merge.hk.driver", check=False).stdout == ""
    ok(Hk(root)("customer", "list"))
    assert "merge-driver" in git(root, "config", "merge.hk.driver").stdout
    assert "customers/** merge=hk" in (root / ".git" / "info" / "attributes").read_text()


def test_git_pull_merges_different_fields_of_one_customer(hk: Hk) -> None:
    code, path = add_customer(hk, "--tag", "老客户")
    other = clone(hk, "b", "李助理")
    edit_as(hk, "王店长", code, "--phone", "13900139000")
    edit_as(other, "李助理", code, "--tag", "VIP", "--notes", "带钥匙")
    merged = pull(other)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    mine = other.root / path.relative_to(hk.root)
    text = mine.read_text(encoding="utf-8")
    assert "<<<<<<<" not in text and ">>>>>>>" not in text
    assert field_of(mine, "phones") == ["+8613900139000"]
    assert field_of(mine, "tags") == ["VIP"]
    assert field_of(mine, "notes") == "带钥匙"
    assert "MERGE_HEAD" not in git(other.root, "status").stdout
    shown = json.loads(ok(other("customer", "show", code, "--json")).stdout)
    assert shown["notes"] == "带钥匙"
    assert json.loads(ok(other("conflicts", "--json")).stdout) == []


def test_git_pull_of_the_same_field_keeps_one_and_the_other_goes_to_the_attic(hk: Hk) -> None:
    code, path = add_customer(hk)
    other = clone(hk, "b", "李助理")
    edit_as(hk, "王店长", code, "--phone", "13700137000")
    edit_as(other, "李助理", code, "--phone", "13600136000", "--notes", "改了号码")
    merged = pull(other)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "changed on both sides" in merged.stderr
    mine = other.root / path.relative_to(hk.root)
    phones = field_of(mine, "phones")
    assert phones in (["+8613700137000"], ["+8613600136000"])
    assert field_of(mine, "notes") == "改了号码"
    assert "<<<<<<<" not in mine.read_text(encoding="utf-8")

    listed = ok(other("conflicts"))
    assert f"customer {code} 陈淑芬" in listed.stdout and "phones" in listed.stdout
    assert "137****7000" in listed.stdout and "136****6000" in listed.stdout
    assert "13700137000" not in listed.stdout
    assert "王店长" in listed.stdout and "李助理" in listed.stdout
    [entry] = json.loads(ok(other("conflicts", "--json")).stdout)
    assert entry["field"] == "phones" and entry["code"] == code
    assert {entry["kept_by"], entry["lost_by"]} == {"王店长", "李助理"}
    winner = "王店长" if phones == ["+8613700137000"] else "李助理"
    assert entry["kept_by"] == winner
    revealed = json.loads(ok(other("conflicts", "--json", "--reveal")).stdout)
    assert {revealed[0]["kept"][0], revealed[0]["lost"][0]} == {
        "+8613700137000",
        "+8613600136000",
    }
    # the attic is committed, nothing is left pending or uncommitted
    assert git(other.root, "status", "--porcelain").stdout == ""
    assert not (other.root / ".git" / "hk" / "attic-pending.jsonl").exists()
    attic_files = git(other.root, "ls-files", "conflicts").stdout.split()
    assert len(attic_files) == 1 and attic_files[0].endswith(f"/{entry['record']}.yaml")

    before = int(git(other.root, "rev-list", "--count", "HEAD").stdout)
    done = ok(other("conflicts", "resolve", code, "phones", "--keep", "lost"))
    assert "lost value put back" in done.stdout
    assert field_of(mine, "phones") == [
        "+8613600136000" if winner == "王店长" else "+8613700137000"
    ]
    assert int(git(other.root, "rev-list", "--count", "HEAD").stdout) == before + 1
    changed = git(other.root, "show", "--name-only", "--format=", "HEAD").stdout.split()
    assert sorted(changed) == sorted([attic_files[0], str(mine.relative_to(other.root))])
    assert json.loads(ok(other("conflicts", "--json")).stdout) == []
    assert "resolved: true" in (other.root / attic_files[0]).read_text(encoding="utf-8")


def test_the_next_write_moves_the_set_aside_values_into_the_attic(hk: Hk) -> None:
    code, _ = add_customer(hk)
    other = clone(hk, "b", "李助理")
    edit_as(hk, "王店长", code, "--wechat", "wang")
    edit_as(other, "李助理", code, "--wechat", "li")
    assert pull(other).returncode == 0
    assert (other.root / ".git" / "hk" / "attic-pending.jsonl").exists()
    edit_as(other, "李助理", code, "--notes", "下一次写入")
    assert not (other.root / ".git" / "hk" / "attic-pending.jsonl").exists()
    assert git(other.root, "ls-files", "conflicts").stdout.strip()
    log = git(other.root, "log", "--format=%s", "-3").stdout
    assert "kept in the attic" in log


def test_an_aborted_merge_leaves_nothing_in_the_attic(hk: Hk) -> None:
    code, _ = add_customer(hk)
    other = clone(hk, "b", "李助理")
    edit_as(hk, "王店长", code, "--wechat", "wang")
    edit_as(other, "李助理", code, "--wechat", "li")
    # a file hk does not merge conflicts, so the merge stops and is aborted
    for root, text in ((hk.root, "甲\n"), (other.root, "乙\n")):
        (root / "README.txt").write_text(text, encoding="utf-8")
        git(root, "add", "README.txt")
        git(root, "commit", "-q", "-m", "readme")
    stopped = pull(other)
    assert stopped.returncode != 0 and "README.txt" in stopped.stdout
    listed = json.loads(ok(other("conflicts", "--json")).stdout)  # mid-merge: nothing settled
    assert listed == []
    git(other.root, "merge", "--abort")
    assert json.loads(ok(other("conflicts", "--json")).stdout) == []
    assert not (other.root / ".git" / "hk" / "attic-pending.jsonl").exists()
    assert git(other.root, "ls-files", "conflicts").stdout == ""


def test_the_driver_leaves_files_that_are_not_records_to_git(hk: Hk, tmp_path: Path) -> None:
    for name, text in (("o", "a\n"), ("a", "b\n"), ("b", "c\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    args = [str(tmp_path / n) for n in ("o", "a", "b")]
    result = hk.process("merge-driver", *args, "hk.toml")
    assert result.returncode == 1
    assert (tmp_path / "a").read_text(encoding="utf-8") == "b\n"
    broken = hk.process("merge-driver", *args, "customers/01JF0000000000000000000001.yaml")
    assert broken.returncode == 1
    assert "is left to git" in broken.stderr
    assert "merge-driver" not in ok(hk("--help")).stdout


def test_attic_files_changed_on_both_clones_keep_every_entry(hk: Hk) -> None:
    code, _ = add_customer(hk)
    other = clone(hk, "b", "李助理")
    third = clone(hk, "c", "张会计")
    for clone_, value in ((hk, "wang"), (other, "li"), (third, "zhang")):
        edit_as(clone_, "x", code, "--wechat", value)
    # b and c each merge a's change: the same record, a different loser each
    for clone_ in (other, third):
        assert pull(clone_).returncode == 0
        ok(clone_("conflicts"))
    git(other.root, "pull", "--no-rebase", "--no-edit", str(third.root), "main")
    ok(other("conflicts"))
    files = git(other.root, "ls-files", "conflicts").stdout.split()
    assert len(files) == 1
    text = (other.root / files[0]).read_text(encoding="utf-8")
    assert "<<<<<<<" not in text
    entries = json.loads(ok(other("conflicts", "--json")).stdout)
    assert len(entries) >= 2
    assert git(other.root, "status", "--porcelain").stdout == ""


def test_a_sealed_value_that_loses_is_kept_sealed_and_shown_masked(hk: Hk) -> None:
    code, _ = add_customer(hk)
    other = clone(hk, "b", "李助理")
    edit_as(hk, "王店长", code, "--health-note", "对海鲜过敏")
    edit_as(other, "李助理", code, "--health-note", "高血压")
    assert pull(other).returncode == 0
    listed = ok(other("conflicts"))
    assert "health_notes" in listed.stdout and "******" in listed.stdout
    assert "海鲜" not in listed.stdout and "高血压" not in listed.stdout
    assert "enc:v1:" not in listed.stdout
    history = git(other.root, "log", "-p").stdout
    assert "海鲜" not in history and "高血压" not in history
    [entry] = json.loads(ok(other("conflicts", "--json", "--reveal")).stdout)
    assert {entry["kept"], entry["lost"]} == {"对海鲜过敏", "高血压"}


def test_put_sets_dotted_fields_and_named_entries() -> None:
    from hk.services.conflicts import put

    data: dict = {"preferences": {"cooking_taste": "清淡"}, "skills": [{"name": "保洁"}]}
    put(data, "customer", "preferences.cooking_taste", "微辣")
    put(data, "customer", "preferences.skills", ["做饭"])
    put(data, "worker", "skills[保洁]", {"name": "保洁", "level": 5})
    put(data, "worker", "skills[育儿]", {"name": "育儿", "level": 2})
    assert data == {
        "preferences": {"cooking_taste": "微辣", "skills": ["做饭"]},
        "skills": [{"name": "保洁", "level": 5}, {"name": "育儿", "level": 2}],
    }
    put(data, "worker", "skills[保洁]", None)
    put(data, "customer", "preferences.cooking_taste", None)
    assert data == {"preferences": {"skills": ["做饭"]}, "skills": [{"name": "育儿", "level": 2}]}


def code_of(hk: Hk, *args: str) -> str:
    """The code of the record a command made (its --json output)."""
    return str(json.loads(ok(hk(*args, "--json")).stdout)["code"])


def test_an_order_cancelled_on_one_clone_and_dispatched_on_the_other(hk: Hk) -> None:
    """Status and event log only make sense together: the later writer's lifecycle is kept,
    the other's goes to the attic, and putting it back puts back both together."""
    from tests.orders_support import when

    customer, _ = add_customer(
        hk, "--district", "武侯区", "--community", "万科城", "--address", "1栋"
    )
    worker = code_of(
        hk, "worker", "add", "--name", "王秀英", "--gender", "女", "--skill", "保洁:4",
        "--available", "mon-sun 07:00-21:00",
    )  # fmt: skip
    order = code_of(
        hk, "order", "new", "--customer", customer, "--service", "BJ-DAILY:3", "--start", when()
    )
    ok(hk("order", "confirm", order))  # no deposit: on to 待派工 (to dispatch)
    other = clone(hk, "b", "李助理")
    cancelled = hk.process("order", "cancel", order, "--reason", "客户有事")
    assert cancelled.returncode == 0, cancelled.stderr
    time.sleep(1.1)  # the dispatch is the later change, by commit time
    sent = other.process("order", "assign", order, worker, env={"HK_OPERATOR": "李助理"})
    assert sent.returncode == 0, sent.stderr
    assert pull(other).returncode == 0
    shown = json.loads(ok(other("order", "show", order, "--json")).stdout)
    assert shown["status"] == "dispatched"
    open_ = json.loads(ok(other("conflicts", "--json")).stdout)
    assert sorted(c["field"] for c in open_) == ["events", "status"]
    assert ok(other("doctor")).exit_code == 0

    done = ok(other("conflicts", "resolve", order, "status", "--keep", "lost"))
    assert "status, events: lost value put back" in done.stdout
    shown = json.loads(ok(other("order", "show", order, "--json")).stdout)
    assert shown["status"] == "cancelled"
    assert json.loads(ok(other("conflicts", "--json")).stdout) == []
