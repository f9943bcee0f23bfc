"""The write path (DESIGN §3): lock → validate → refuse stale → atomic write → one commit → index.

Real git repositories, real files, real processes for the lock.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.errors import EXIT_CONFLICT, ConflictError, HkError, InvalidData
from hk.services.people import add_customer, add_worker, edit
from hk.services.records import load
from hk.store.archive import Archive
from hk.store.files import relpath_for
from hk.store.lock import archive_lock
from hk.store.writer import save, save_new_bulk
from tests.conftest import Hk

ID_NUMBER = "510104199001011230"


def git(archive: Archive, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(archive.root), *args], check=True, capture_output=True, text=True
    ).stdout


def head(archive: Archive) -> str:
    return git(archive, "rev-parse", "HEAD").strip()


def commit_count(archive: Archive) -> int:
    return int(git(archive, "rev-list", "--count", "HEAD"))


def new_customer(archive: Archive, **fields: Any) -> Customer:
    record, _ = add_customer(archive, {"name": "张三", "phones": ["13800138000"], **fields})
    return record


def trailers(archive: Archive, rev: str = "HEAD") -> dict[str, str]:
    """The commit's trailers as git itself parses them."""
    body = git(archive, "log", "-1", "--format=%B", rev)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=body,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines())


def files_in_commit(archive: Archive, rev: str = "HEAD") -> list[str]:
    out = git(archive, "show", "--name-only", "--format=", rev)
    return [line for line in out.splitlines() if line]


# --- one commit per write ------------------------------------------------------------------------


def test_creating_a_record_is_one_commit(archive: Archive) -> None:
    before = commit_count(archive)
    record = new_customer(archive)
    assert commit_count(archive) == before + 1
    assert files_in_commit(archive) == [relpath_for(Customer, record.id)]
    subject = git(archive, "log", "-1", "--format=%s")
    assert re.fullmatch(r"customer K[0-9A-Z]{4,}: create\n", subject)


def test_an_update_is_one_commit_naming_the_changed_fields(archive: Archive) -> None:
    record = new_customer(archive)
    before = commit_count(archive)
    _, result = edit(archive, "customer", record.id, {"phones": ["13900139000"]})
    assert commit_count(archive) == before + 1
    assert result.commit == head(archive)
    assert re.fullmatch(
        r"customer K[0-9A-Z]{4,}: update phones", git(archive, "log", "-1", "--format=%s").strip()
    )
    _, result = edit(archive, "customer", record.id, {"tags": ["高端客户"], "notes": "周三"})
    assert git(archive, "log", "-1", "--format=%s").strip().endswith(": update tags, notes")


def test_the_commit_message_carries_record_and_operator_trailers(archive: Archive) -> None:
    record = new_customer(archive)
    edit(archive, "customer", record.id, {"phones": ["13900139000"]})
    assert trailers(archive) == {"Record": record.id, "Operator": "测试员"}


def test_the_commit_subject_names_the_short_code(archive: Archive) -> None:
    record = new_customer(archive)
    code = archive.index.get(record.id)["code"]
    assert git(archive, "log", "-1", "--format=%s").strip() == f"customer {code}: create"


def test_a_bulk_save_is_one_commit_with_a_count(archive: Archive) -> None:
    stamp = now()
    records = [
        Customer.model_validate(
            {"id": new_id(), "created": stamp, "updated": stamp, "name": f"客户{i}"}
        )
        for i in range(5)
    ]
    before = commit_count(archive)
    save_new_bulk(archive, records, "import: 5 customers from a spreadsheet")
    assert commit_count(archive) == before + 1
    assert len(files_in_commit(archive)) == 5
    assert trailers(archive) == {"Records": "5", "Operator": "测试员"}


# --- who the operator is -------------------------------------------------------------------------


def test_the_operator_comes_from_hk_operator_first(archive: Archive) -> None:
    (archive.root / "hk.local.toml").write_text('operator = "王店长"\n', encoding="utf-8")
    new_customer(archive)
    assert trailers(archive)["Operator"] == "测试员"


def test_the_operator_comes_from_hk_local_toml_without_hk_operator(
    archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HK_OPERATOR")
    (archive_path / "hk.local.toml").write_text('operator = "王店长"\n', encoding="utf-8")
    archive = Archive(archive_path)
    new_customer(archive)
    assert trailers(archive)["Operator"] == "王店长"
    assert "hk.local.toml" not in git(archive, "ls-files")


def test_the_operator_comes_from_hk_toml_when_this_machine_names_none(
    archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HK_OPERATOR")
    settings = archive_path / "hk.toml"
    settings.write_text(
        'operator = "前台"\n' + settings.read_text(encoding="utf-8"), encoding="utf-8"
    )
    archive = Archive(archive_path)
    new_customer(archive)
    assert trailers(archive)["Operator"] == "前台"
    (archive_path / "hk.local.toml").write_text('operator = "王店长"\n', encoding="utf-8")
    new_customer(Archive(archive_path), name="李四")
    assert trailers(archive)["Operator"] == "王店长"


def test_the_operator_falls_back_to_the_git_user(
    archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HK_OPERATOR")
    archive = Archive(archive_path)
    git(archive, "config", "user.name", "李会计")
    new_customer(archive)
    assert trailers(archive)["Operator"] == "李会计"


# --- what is refused, and then nothing is written ------------------------------------------------


def assert_nothing_written(archive: Archive, before_head: str) -> None:
    assert head(archive) == before_head
    assert git(archive, "status", "--porcelain") == ""


def test_a_stale_edit_of_the_same_field_is_refused_with_exit_code_3_naming_it(
    archive: Archive,
) -> None:
    record = new_customer(archive)
    mine, loaded = load(archive, Customer, record.id)
    edit(archive, "customer", record.id, {"notes": "别人先改了", "phones": ["13700137000"]})
    path = archive.root / relpath_for(Customer, record.id)
    theirs = path.read_bytes()
    before = head(archive)

    mine.phones = ["+8613900139000"]
    with pytest.raises(ConflictError) as exc:
        save(archive, mine, loaded)
    assert exc.value.exit_code == EXIT_CONFLICT == 3
    assert "changed by someone else" in exc.value.message
    assert "in the same field: phones: saved meanwhile" in exc.value.message
    assert '["137****7000"]' in exc.value.message and '["139****9000"]' in exc.value.message
    assert "13700137000" not in exc.value.message and "notes" not in exc.value.message
    assert exc.value.hint is not None and "redo the change" in exc.value.hint
    assert path.read_bytes() == theirs
    assert_nothing_written(archive, before)


def test_a_stale_edit_of_other_fields_is_made_again_on_the_fresh_record(
    archive: Archive,
) -> None:
    record = new_customer(archive, tags=["老客户"])
    mine, loaded = load(archive, Customer, record.id)
    edit(archive, "customer", record.id, {"notes": "别人先改了", "tags": ["老客户", "VIP"]})
    before = commit_count(archive)
    mine.phones = ["+8613900139000"]
    mine.tags = ["老客户", "周末"]
    result = save(archive, mine, loaded)
    assert result.commit is not None and commit_count(archive) == before + 1
    assert sorted(result.changed_fields) == ["phones", "tags"]
    saved, _ = load(archive, Customer, record.id)
    assert saved.notes == "别人先改了"
    assert saved.phones == ["+8613900139000"]
    assert saved.tags == ["老客户", "VIP", "周末"]
    assert mine.notes == "别人先改了"  # the caller's record is the merged one
    assert git(archive, "status", "--porcelain") == ""


def test_a_stale_edit_already_made_by_the_other_saves_nothing(archive: Archive) -> None:
    record = new_customer(archive)
    mine, loaded = load(archive, Customer, record.id)
    edit(archive, "customer", record.id, {"notes": "一样的"})
    before = head(archive)
    mine.notes = "一样的"
    assert save(archive, mine, loaded).commit is None
    assert head(archive) == before


def test_a_hand_edit_between_load_and_save_also_makes_the_edit_stale(archive: Archive) -> None:
    record = new_customer(archive)
    mine, loaded = load(archive, Customer, record.id)
    path = archive.root / relpath_for(Customer, record.id)
    path.write_text(path.read_text(encoding="utf-8").replace("张三", "张叁"), encoding="utf-8")
    mine.name = "张三丰"
    with pytest.raises(ConflictError, match="name: saved meanwhile 张叁, yours 张三丰"):
        save(archive, mine, loaded)
    assert "张叁" in path.read_text(encoding="utf-8")


def test_a_stale_edit_of_a_record_removed_meanwhile_is_refused(archive: Archive) -> None:
    record = new_customer(archive)
    mine, loaded = load(archive, Customer, record.id)
    (archive.root / relpath_for(Customer, record.id)).unlink()
    mine.notes = "x"
    with pytest.raises(ConflictError, match="removed by someone else"):
        save(archive, mine, loaded)


def test_creating_over_an_existing_file_is_refused(archive: Archive) -> None:
    record = new_customer(archive)
    with pytest.raises(ConflictError, match="already exists"):
        save(archive, record.model_copy())


def test_a_category_not_in_hk_toml_is_refused_with_a_hint(archive: Archive) -> None:
    before = head(archive)
    with pytest.raises(InvalidData) as exc:
        new_customer(archive, category="擦皮鞋")
    [problem] = exc.value.problems
    assert problem.field == "category"
    assert "'擦皮鞋' is not one of: 家庭保洁" in problem.message
    assert problem.hint is not None and "hk.toml" in problem.hint
    assert_nothing_written(archive, before)
    assert not list((archive.root / "customers").glob("*.yaml"))


def test_a_channel_or_tier_not_in_hk_toml_is_refused(archive: Archive) -> None:
    with pytest.raises(InvalidData) as exc:
        new_customer(archive, channel="传单", tier="钻石")
    assert sorted(p.field or "" for p in exc.value.problems) == ["channel", "tier"]


def test_a_category_added_to_hk_toml_is_accepted(archive_path: Path) -> None:
    settings = archive_path / "hk.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace('"企业客户"]', '"企业客户", "擦皮鞋"]'),
        encoding="utf-8",
    )
    assert new_customer(Archive(archive_path), category="擦皮鞋").category == "擦皮鞋"


def test_a_referrer_that_does_not_exist_is_refused(archive: Archive) -> None:
    stamp = now()
    record = Customer.model_validate(
        {"id": new_id(), "created": stamp, "updated": stamp, "name": "李四", "referrer": new_id()}
    )
    before = head(archive)
    with pytest.raises(InvalidData) as exc:
        save(archive, record)
    [problem] = exc.value.problems
    assert problem.field == "referrer"
    assert "there is no customer with id" in problem.message
    assert_nothing_written(archive, before)


def test_a_referrer_must_be_a_customer_not_a_worker(archive: Archive) -> None:
    worker, _ = add_worker(archive, {"name": "王阿姨", "gender": "女"})
    stamp = now()
    record = Customer.model_validate(
        {"id": new_id(), "created": stamp, "updated": stamp, "name": "李四", "referrer": worker.id}
    )
    with pytest.raises(InvalidData, match="1 problem"):
        save(archive, record)


def test_an_existing_referrer_is_accepted_by_code(archive: Archive) -> None:
    referrer = new_customer(archive)
    code = archive.index.get(referrer.id)["code"]
    record = new_customer(archive, name="李四", referrer=code)
    assert record.referrer == referrer.id


def test_preferred_and_blocked_workers_must_exist(archive: Archive) -> None:
    stamp = now()
    record = Customer.model_validate(
        {
            "id": new_id(),
            "created": stamp,
            "updated": stamp,
            "name": "李四",
            "preferred_workers": [new_id()],
            "blocked_workers": [new_id()],
        }
    )
    with pytest.raises(InvalidData) as exc:
        save(archive, record)
    assert sorted(p.field or "" for p in exc.value.problems) == [
        "blocked_workers",
        "preferred_workers",
    ]


def test_an_unknown_record_named_as_referrer_is_a_user_error(archive: Archive) -> None:
    with pytest.raises(HkError) as exc:
        new_customer(archive, referrer="KZZZZ")
    assert exc.value.exit_code == 1
    assert "no customer with ID or code 'KZZZZ'" in exc.value.message


# --- exactly the paths written -------------------------------------------------------------------


def test_a_commit_contains_only_the_paths_written(archive: Archive) -> None:
    other = new_customer(archive, name="李四")
    (archive.root / "说明.txt").write_text("给新同事的说明\n", encoding="utf-8")
    other_path = archive.root / relpath_for(Customer, other.id)
    other_path.write_text(
        other_path.read_text(encoding="utf-8").replace("李四", "李肆"), encoding="utf-8"
    )
    git(archive, "add", "说明.txt", relpath_for(Customer, other.id))

    record = new_customer(archive)
    assert files_in_commit(archive) == [relpath_for(Customer, record.id)]
    edit(archive, "customer", record.id, {"phones": ["13900139000"]})
    assert files_in_commit(archive) == [relpath_for(Customer, record.id)]

    staged = git(archive, "-c", "core.quotepath=false", "diff", "--cached", "--name-only")
    assert sorted(staged.splitlines()) == sorted(["说明.txt", relpath_for(Customer, other.id)])


def test_no_personal_data_in_paths_or_commit_messages(archive: Archive) -> None:
    record = new_customer(
        archive,
        name="欧阳娜娜",
        id_number=ID_NUMBER,
        health_notes="青霉素过敏",
        wechat="nana_wx",
        addresses=[{"city": "成都市", "community": "万科城", "detail": "3栋2单元501"}],
    )
    edit(archive, "customer", record.id, {"phones": ["13900139000"], "name": "欧阳娜"})
    add_worker(
        archive,
        {
            "name": "王秀英",
            "gender": "女",
            "phone": "13700137000",
            "id_number": "11010519491231002X",
        },
    )
    messages = git(archive, "log", "--format=%B")
    paths = git(archive, "-c", "core.quotepath=false", "log", "--name-only", "--format=")
    for secret in (
        "欧阳",
        "娜",
        "王秀英",
        "13800138000",
        "13900139000",
        "13700137000",
        ID_NUMBER,
        "11010519491231002X",
        "青霉素",
        "nana_wx",
        "万科城",
        "3栋",
    ):
        assert secret not in messages
        assert secret not in paths


# --- the file on disk ----------------------------------------------------------------------------


def test_no_temp_files_are_left_behind(archive: Archive) -> None:
    record = new_customer(archive)
    edit(archive, "customer", record.id, {"notes": "x"})
    assert not [p for p in archive.root.rglob(".hk-*.tmp") if ".git" not in p.parts]


def test_a_written_record_is_in_the_index_at_once(archive: Archive) -> None:
    record = new_customer(archive)
    row = archive.index.get(record.id)
    assert row is not None and row["name"] == "张三"
    edit(archive, "customer", record.id, {"name": "张叁"})
    assert archive.index.get(record.id)["name"] == "张叁"


# --- the lock ------------------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from hk.store.lock import archive_lock
with archive_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(archive: Archive, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(archive.hk_dir / "lock"), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_writer_waits_for_the_lock_another_process_holds(archive: Archive) -> None:
    proc = hold_lock(archive, 0.8)
    started = time.monotonic()
    try:
        new_customer(archive)
        waited = time.monotonic() - started
    finally:
        proc.wait()
    assert waited >= 0.5


def test_a_lock_held_too_long_is_a_conflict(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HK_LOCK_TIMEOUT", "0.2")
    before = head(archive)
    proc = hold_lock(archive, 2)
    try:
        with pytest.raises(ConflictError, match="another hk process is writing") as exc:
            new_customer(archive)
    finally:
        proc.kill()
        proc.wait()
    assert exc.value.exit_code == 3
    assert_nothing_written(archive, before)


def test_reading_never_waits_for_the_write_lock(archive: Archive, hk: Hk) -> None:
    record = new_customer(archive)
    code = archive.index.get(record.id)["code"]
    proc = hold_lock(archive, 5)
    try:
        started = time.monotonic()
        for args in (
            ["customer", "find", "zs"],
            ["customer", "list"],
            ["show", code],
            ["log", code],
            ["doctor"],
        ):
            assert hk(*args).exit_code == 0, args
        assert hk.process("customer", "find", "zs").returncode == 0
        assert time.monotonic() - started < 4
    finally:
        proc.kill()
        proc.wait()


def test_the_lock_is_released_after_a_failed_write(archive: Archive) -> None:
    with pytest.raises(InvalidData):
        new_customer(archive, category="擦皮鞋")
    with archive_lock(archive.hk_dir / "lock", timeout=0):
        pass


WRITER = """
import sys
from pathlib import Path
from hk.services.people import add_customer
from hk.store.archive import Archive
archive = Archive(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    add_customer(archive, {"name": f"{sys.argv[2]}{i}", "phones": ["13800138000"]})
"""


def test_two_concurrent_writer_processes_are_serialised(archive: Archive) -> None:
    before = commit_count(archive)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(archive.root), name, "4"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("甲", "乙")
    ]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert commit_count(archive) == before + 8
    log = git(archive, "log", "--format=%s", f"-{8}")
    assert all(re.fullmatch(r"customer K[0-9A-Z]{4,}: create", s) for s in log.splitlines())
    assert git(archive, "status", "--porcelain") == ""
    git(archive, "fsck", "--no-progress")
    for rev in range(8):
        assert len(files_in_commit(archive, f"HEAD~{rev}")) == 1
    assert len(list((archive.root / "customers").glob("*.yaml"))) == 8
    archive.index.refresh()
    assert archive.index.count("customer") == 8


def test_a_direct_commit_builds_the_same_trees_git_would(archive: Archive) -> None:
    """The commit built from HEAD's trees: new nested folders, a change and a deletion; git
    agrees with every object (fsck), the index matches HEAD, and nothing else moved."""
    from hk.store import git as git_store

    root = archive.root
    (root / "notes" / "2027" / "01").mkdir(parents=True)
    (root / "notes" / "2027" / "01" / "a.txt").write_text("一\n", encoding="utf-8")
    (root / "notes" / "b.txt").write_text("二\n", encoding="utf-8")
    first = git_store.commit_direct(
        root, git_store.Change(("notes/2027/01/a.txt", "notes/b.txt"), "add notes")
    )
    assert first == git(archive, "rev-parse", "HEAD").strip()
    (root / "notes" / "b.txt").write_text("二改\n", encoding="utf-8")
    (root / "notes" / "2027" / "01" / "a.txt").unlink()
    second = git_store.commit_direct(
        root, git_store.Change(("notes/2027/01/a.txt", "notes/b.txt"), "change notes")
    )
    assert second is not None
    git(archive, "fsck", "--strict", "--no-progress")
    assert git(archive, "status", "--porcelain") == ""
    assert git(archive, "ls-tree", "-r", "--name-only", "HEAD", "notes").split() == ["notes/b.txt"]
    assert git(archive, "show", "HEAD:notes/b.txt") == "二改\n"
    assert git(archive, "log", "-1", "--format=%P").strip() == first


def test_records_saved_together_are_one_commit_or_nothing(archive: Archive) -> None:
    from hk.store.writer import save_together

    first, _ = add_customer(archive, {"name": "张三"})
    second, _ = add_customer(archive, {"name": "李四"})
    one, loaded_one = load(archive, Customer, first.id)
    two, loaded_two = load(archive, Customer, second.id)
    before = head(archive)
    edit(archive, "customer", second.id, {"notes": "别人改过"})
    after_other = head(archive)
    one.notes, two.notes = "一", "二"
    with pytest.raises(ConflictError):
        save_together(archive, [(one, loaded_one), (two, loaded_two)])
    assert head(archive) == after_other != before
    assert load(archive, Customer, first.id)[0].notes == ""

    one, loaded_one = load(archive, Customer, first.id)
    one.notes = "一"
    new = Customer.model_validate(
        {"id": new_id(), "created": now(), "updated": now(), "name": "王五"}
    )
    result = save_together(archive, [(one, loaded_one), (new, None)])
    assert result.commit == head(archive)
    changed = git(archive, "show", "--name-only", "--format=%s", "HEAD").split()
    assert sorted(changed[-2:]) == sorted(
        [relpath_for(Customer, first.id), relpath_for(Customer, new.id)]
    )
    assert load(archive, Customer, new.id)[0].name == "王五"
    assert archive.index.get(new.id) is not None


def test_records_saved_together_merge_a_stale_one_that_does_not_overlap(
    archive: Archive,
) -> None:
    from hk.store.writer import save_together

    first, _ = add_customer(archive, {"name": "张三"})
    second, _ = add_customer(archive, {"name": "李四"})
    one, loaded_one = load(archive, Customer, first.id)
    two, loaded_two = load(archive, Customer, second.id)
    edit(archive, "customer", second.id, {"wechat": "lisi"})
    one.notes, two.notes = "一", "二"
    result = save_together(archive, [(one, loaded_one), (two, loaded_two)])
    assert result.commit == head(archive)
    saved = load(archive, Customer, second.id)[0]
    assert (saved.notes, saved.wechat) == ("二", "lisi")
    assert load(archive, Customer, first.id)[0].notes == "一"
    assert git(archive, "status", "--porcelain") == ""


def test_a_direct_commit_changes_one_entry_of_a_large_folder_as_git_would(
    archive: Archive,
) -> None:
    from hk.store import git as git_store

    folder = archive.root / "many"
    folder.mkdir()
    names = [f"{n:04d}.txt" for n in range(300)] + ["sub.txt"]
    for name in names:
        (folder / name).write_text(name, encoding="utf-8")
    (folder / "run.sh").write_text("echo\n", encoding="utf-8")
    (folder / "run.sh").chmod(0o755)
    git(archive, "add", "many")
    git(archive, "commit", "-q", "-m", "many")
    (folder / "0150.txt").write_text("changed", encoding="utf-8")
    (folder / "run.sh").write_text("echo 2\n", encoding="utf-8")
    git_store.commit_direct(
        archive.root, git_store.Change(("many/0150.txt", "many/run.sh"), "change two")
    )
    git(archive, "fsck", "--strict", "--no-progress")
    assert git(archive, "status", "--porcelain") == ""
    assert git(archive, "show", "HEAD:many/0150.txt") == "changed"
    assert "100755" in git(archive, "ls-tree", "HEAD", "many/run.sh")
    assert git(archive, "diff", "--name-only", "HEAD~1", "HEAD").split() == [
        "many/0150.txt",
        "many/run.sh",
    ]


def test_a_direct_commit_carries_the_identity_git_would_give_it(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hk.store import git as git_store

    monkeypatch.setenv("GIT_AUTHOR_NAME", "前台 小李")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "front@example.com")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-22T10:00:00+08:00")
    (archive.root / "note.txt").write_text("一\n", encoding="utf-8")
    change = git_store.Change(("note.txt",), "说明：一\n\n正文")
    made = git_store.commit_direct(archive.root, change)
    assert made == git(archive, "rev-parse", "HEAD").strip()
    shown = git(archive, "log", "-1", "--format=%an|%ae|%cI|%s|%b")
    assert shown.strip() == "前台 小李|front@example.com|2026-11-22T10:00:00+08:00|说明：一|正文"
    git(archive, "fsck", "--strict", "--no-progress")
