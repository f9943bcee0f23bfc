"""The search index (DESIGN §3 read path): found by what operators type, never stale, derived.

The index lives in .git/hk and may be deleted at any time; it must see every change to the
files however it was made: hk itself, an editor, a file manager, git checkout, git pull.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.fields import phone_digits
from hk.domain.ids import assign_codes, new_id
from hk.services.people import add_customer, add_worker, edit
from hk.store.archive import Archive, init
from hk.store.records import relpath_for, serialise
from tests.conftest import Hk, git, isolated_home


def customer(archive: Archive, name: str, **fields: Any) -> Customer:
    record, _ = add_customer(archive, {"name": name, **fields})
    return record


def found(hk: Hk, query: str, kind: str = "customer") -> list[str]:
    """Names ``hk KIND find QUERY --json`` returns, in its order."""
    result = hk(kind, "find", query, "--json")
    assert result.exit_code == 0, result.output
    return [item["name"] for item in json.loads(result.stdout)]


def codes(hk: Hk, kind: str = "customer") -> dict[str, str]:
    result = hk(kind, "list", "--json")
    return {item["id"]: item["code"] for item in json.loads(result.stdout)}


def write_by_hand(archive: Archive, name: str, record_id: str | None = None) -> Customer:
    """A customer file created outside hk (a file manager, a script, another tool)."""
    stamp = now()
    record = Customer.model_validate(
        {"id": record_id or new_id(), "created": stamp, "updated": stamp, "name": name}
    )
    path = archive.root / relpath_for(Customer, record.id)
    path.parent.mkdir(exist_ok=True)
    path.write_text(serialise(record), encoding="utf-8")
    return record


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Hk:
    """A few customers and a worker to search among, built once: tests here only read."""
    with isolated_home(tmp_path_factory, "people"):
        root = tmp_path_factory.mktemp("people") / "archive"
        init(root)
        archive = Archive(root)
        customer(
            archive,
            "张三",
            phones=["13800138000", "028-8888-6666"],
            tags=["高端客户"],
            addresses=[{"city": "成都市", "district": "武侯区", "community": "万科城"}],
        )
        customer(
            archive,
            "李四",
            phones=["13912345678"],
            tags=["季度服务套餐"],
            addresses=[{"city": "成都市", "district": "高新区", "community": "中海城南一号"}],
            wechat="lisi_cd",
        )
        customer(archive, "曾小华", phones=["13700001111"])
        customer(archive, "单田芳", phones=["15000002222"])
        customer(archive, "欧阳娜娜")
        add_worker(
            archive,
            {
                "name": "王秀英",
                "gender": "女",
                "phone": "13600136000",
                "native_place": "四川南充",
                "skills": [{"name": "育儿", "level": 4}],
            },
        )
    return Hk(root)


# --- found by what operators type ----------------------------------------------------------------


def test_find_by_name_and_by_part_of_a_name(people: Hk) -> None:
    assert found(people, "张三") == ["张三"]
    assert found(people, "欧阳") == ["欧阳娜娜"]
    assert found(people, "小华") == ["曾小华"]


def test_find_by_full_pinyin(people: Hk) -> None:
    assert found(people, "zhangsan") == ["张三"]
    assert found(people, "ZhangSan") == ["张三"]
    assert found(people, "zhang") == ["张三"]
    assert found(people, "ouyangnana") == ["欧阳娜娜"]


def test_find_by_initials(people: Hk) -> None:
    assert found(people, "zs") == ["张三"]
    assert found(people, "ls") == ["李四"]
    assert found(people, "oynn") == ["欧阳娜娜"]


def test_find_by_every_reading_of_a_polyphonic_surname(people: Hk) -> None:
    for query in ("zengxiaohua", "cengxiaohua", "zxh", "zeng"):
        assert found(people, query) == ["曾小华"], query
    for query in ("shantianfang", "dantianfang", "stf", "shan"):
        assert found(people, query) == ["单田芳"], query


@pytest.mark.parametrize(
    "query",
    [
        "13800138000",
        "138",
        "0013",
        "8000",
        "138-0013-8000",
        "138 0013 8000",
        "+86 138 0013 8000",
        "88886666",
        "028",
    ],
)
def test_find_by_any_part_of_a_phone_number(people: Hk, query: str) -> None:
    assert found(people, query) == ["张三"]


def test_find_by_a_phone_typed_with_full_width_digits(people: Hk) -> None:
    assert found(people, "１３８００１３８０００") == ["张三"]


def test_find_by_tag_and_by_part_of_a_tag(people: Hk) -> None:
    assert found(people, "高端客户") == ["张三"]
    assert found(people, "季度") == ["李四"]


def test_find_by_community_and_district(people: Hk) -> None:
    assert found(people, "万科城") == ["张三"]
    assert found(people, "中海") == ["李四"]
    assert found(people, "高新区") == ["李四"]


def test_find_by_wechat_and_by_code(people: Hk) -> None:
    assert found(people, "lisi_cd") == ["李四"]
    index = Archive(people.root).index
    code = next(c for i, c in codes(people).items() if index.get(i)["name"] == "曾小华")
    assert found(people, code) == ["曾小华"]
    assert found(people, code.lower()) == ["曾小华"]


def test_an_exact_name_ranks_before_a_partial_match(archive: Archive, hk: Hk) -> None:
    customer(archive, "张三丰")
    customer(archive, "张三")
    assert found(hk, "张三") == ["张三", "张三丰"]


def test_the_trigram_index_finds_what_a_scan_of_every_record_finds(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queries of three characters or more go through ``grams``; after adds, edits, hand
    edits and deletes it must agree with reading every record's terms, order included."""
    from hk.store import index as index_module

    rng = random.Random(5)
    surnames, given = "张王李赵刘陈杨黄周吴", "伟芳娜秀英敏静丽强磊军洋勇艳杰涛明超"
    made = []
    for _ in range(60):
        name = rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.randint(1, 2)))
        made.append(
            customer(
                archive,
                name,
                phones=[f"13{rng.randint(0, 999_999_999):09d}"],
                tags=[rng.choice(["高端客户", "需发票", "老人同住"])],
            )
        )
    for record in made[:10]:
        edit(
            archive, "customer", record.id, {"name": record.name + "华", "phones": ["13500135000"]}
        )
    write_by_hand(archive, "欧阳娜娜")
    for record in made[10:15]:
        (archive.root / relpath_for(Customer, record.id)).unlink()
    index = archive.index
    index.refresh()
    queries = {
        "135001",
        "欧阳娜",
        "ouyang",
        "ouyangnana",
        "需发票",
        "高端客",
        "zhangwei",
        "0013",
        "nonexistent",
        "13%",
    }
    for record in made:
        digits = phone_digits(record.phones[0])
        start = rng.randint(0, len(digits) - 4)
        queries |= {record.name, digits[start : start + 4], record.name[:3]}

    def grams() -> int:
        return int(index.db.execute("SELECT count(*) FROM grams").fetchone()[0])

    people = index.count("customer") + index.count("worker")
    assert grams() == people  # kept by the triggers: one row per searched record
    by_grams = {q: [r["id"] for r in index.find("customer", q, 0)] for q in sorted(queries)}
    index.rebuild()
    assert grams() == people  # filled in one pass by a rebuild
    assert {q: [r["id"] for r in index.find("customer", q, 0)] for q in by_grams} == by_grams
    monkeypatch.setattr(index_module, "SEARCHED", ())
    by_scan = {q: [r["id"] for r in index.find("customer", q, 0)] for q in sorted(queries)}
    assert by_grams == by_scan
    assert by_grams["13500135000"[:6]]  # the edited phones are found
    assert len(by_grams["欧阳娜"]) == 1
    assert not any(set(by_grams[q]) & {r.id for r in made[10:15]} for q in by_grams)


def test_search_text_is_taken_literally_not_as_a_pattern(people: Hk) -> None:
    assert found(people, "%") == []
    assert found(people, "_") == ["李四"]


def test_nothing_found_exits_1_without_json_and_0_with_it(people: Hk) -> None:
    assert people("customer", "find", "王五").exit_code == 1
    result = people("customer", "find", "王五", "--json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])


def test_list_filters_by_tag_and_community(people: Hk) -> None:
    by_tag = json.loads(people("customer", "list", "--tag", "高端客户", "--json").stdout)
    assert [c["name"] for c in by_tag] == ["张三"]
    by_community = json.loads(
        people("customer", "list", "--community", "中海城南一号", "--json").stdout
    )
    assert [c["name"] for c in by_community] == ["李四"]


def test_workers_are_found_by_name_skill_and_native_place(people: Hk) -> None:
    for query in ("王秀英", "wxy", "wangxiuying", "育儿", "南充", "0136"):
        assert found(people, query, "worker") == ["王秀英"], query
    assert found(people, "wxy") == []


# --- never stale ---------------------------------------------------------------------------------


def test_a_write_through_hk_is_found_at_once(archive: Archive, hk: Hk) -> None:
    record = customer(archive, "张三")
    assert found(hk, "zs") == ["张三"]
    edit(archive, "customer", record.id, {"name": "李四"})
    assert found(hk, "zs") == []
    assert found(hk, "ls") == ["李四"]


def rewrite_in_place(path: Path, old: str, new: str) -> None:
    """Overwrite bytes inside the file (same inode, no truncation), as some editors do."""
    data = path.read_bytes()
    replaced = data.replace(old.encode(), new.encode())
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, replaced, 0)
        if len(replaced) < len(data):
            os.ftruncate(fd, len(replaced))
    finally:
        os.close(fd)


def test_a_hand_edit_in_place_is_seen(archive: Archive, hk: Hk) -> None:
    record = customer(archive, "张三")
    assert found(hk, "zs") == ["张三"]
    rewrite_in_place(archive.root / relpath_for(Customer, record.id), "张三", "王小二")
    assert found(hk, "wxe") == ["王小二"]
    assert found(hk, "zs") == []


def test_a_same_size_hand_edit_with_the_same_mtime_is_seen(archive: Archive, hk: Hk) -> None:
    """The racy case: size and mtime unchanged, only the content differs."""
    record = customer(archive, "张三")
    path = archive.root / relpath_for(Customer, record.id)
    assert found(hk, "zs") == ["张三"]
    before = path.stat()
    rewrite_in_place(path, "张三", "李四")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert found(hk, "ls") == ["李四"]
    assert found(hk, "zs") == []


def test_an_edit_saved_by_rename_is_seen(archive: Archive, hk: Hk) -> None:
    record = customer(archive, "张三")
    path = archive.root / relpath_for(Customer, record.id)
    assert found(hk, "zs") == ["张三"]
    tmp = path.with_name("draft.tmp")
    tmp.write_text(path.read_text(encoding="utf-8").replace("张三", "赵六"), encoding="utf-8")
    os.replace(tmp, path)
    assert found(hk, "zl") == ["赵六"]


def test_a_file_added_by_hand_is_seen(archive: Archive, hk: Hk) -> None:
    customer(archive, "张三")
    assert found(hk, "ls") == []
    write_by_hand(archive, "李四")
    assert found(hk, "ls") == ["李四"]
    assert len(codes(hk)) == 2


def test_a_file_removed_by_hand_is_seen(archive: Archive, hk: Hk) -> None:
    record = customer(archive, "张三")
    assert found(hk, "zs") == ["张三"]
    (archive.root / relpath_for(Customer, record.id)).unlink()
    assert found(hk, "zs") == []
    assert hk("show", record.id).exit_code == 1


def test_a_checkout_of_an_older_commit_is_seen(archive: Archive, hk: Hk) -> None:
    record = customer(archive, "张三")
    edit(archive, "customer", record.id, {"name": "张叁丰"})
    later = customer(archive, "李四")
    assert found(hk, "zs") == ["张叁丰"]
    git(archive.root, "checkout", "-q", "HEAD~2")
    assert found(hk, "zs") == ["张三"]
    assert found(hk, "ls") == []
    git(archive.root, "checkout", "-q", "main")
    assert found(hk, "zs") == ["张叁丰"]
    assert found(hk, "ls") == ["李四"]
    assert hk("show", later.id).exit_code == 0


def test_a_pull_from_another_clone_is_seen(archive: Archive, hk: Hk, tmp_path: Path) -> None:
    record = customer(archive, "张三")
    assert found(hk, "zs") == ["张三"]
    clone_root = tmp_path / "colleague"
    subprocess.run(["git", "clone", "-q", str(archive.root), str(clone_root)], check=True)
    git(clone_root, "config", "user.name", "同事")
    git(clone_root, "config", "user.email", "colleague@example.com")
    colleague = Archive(clone_root)
    customer(colleague, "李四")
    edit(colleague, "customer", record.id, {"name": "张叁"})

    git(archive.root, "pull", "-q", "--ff-only", str(clone_root), "main")
    assert found(hk, "zs") == ["张叁"]
    assert found(hk, "ls") == ["李四"]


def test_the_index_never_holds_a_record_twice_after_changes(archive: Archive, hk: Hk) -> None:
    record = customer(archive, "张三")
    for name in ("张叁", "张仨", "张三"):
        edit(archive, "customer", record.id, {"name": name})
    rewrite_in_place(archive.root / relpath_for(Customer, record.id), "张三", "张叁")
    assert found(hk, "zhang") == ["张叁"]
    assert archive.index.count("customer") == 1


# --- broken files are reported, not skipped ------------------------------------------------------


def test_a_file_that_fails_to_parse_is_named_on_stderr_by_every_read(
    archive: Archive, hk: Hk
) -> None:
    customer(archive, "张三")
    broken = write_by_hand(archive, "李四")
    path = archive.root / relpath_for(Customer, broken.id)
    path.write_text(
        path.read_text(encoding="utf-8").replace("name: 李四", "name: [李四"), encoding="utf-8"
    )
    rel = relpath_for(Customer, broken.id)
    for _ in range(2):
        result = hk.process("customer", "find", "zs")
        assert result.returncode == 0
        assert "张三" in result.stdout
        assert "warning: 1 file could not be read" in result.stderr
        assert rel in result.stderr
    listing = hk.process("customer", "list")
    assert rel in listing.stderr


def test_a_file_with_an_invalid_value_is_reported_with_its_line(archive: Archive, hk: Hk) -> None:
    record = write_by_hand(archive, "李四")
    path = archive.root / relpath_for(Customer, record.id)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "name: 李四\n", "name: 李四\nphones:\n- '12345'\n"
        ),
        encoding="utf-8",
    )
    result = hk.process("customer", "find", "ls")
    assert f"{relpath_for(Customer, record.id)}:4:" in result.stderr
    assert "phones[0]" in result.stderr


def test_a_repaired_file_is_found_again(archive: Archive, hk: Hk) -> None:
    record = write_by_hand(archive, "李四")
    path = archive.root / relpath_for(Customer, record.id)
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("name: 李四", "name: [李四"), encoding="utf-8")
    assert found(hk, "ls") == []
    path.write_text(good, encoding="utf-8")
    result = hk.process("customer", "find", "ls")
    assert "李四" in result.stdout
    assert result.stderr == ""


# --- derived: rebuilt from the files at any time -------------------------------------------------


def test_deleting_the_index_loses_nothing(people: Hk) -> None:
    before = codes(people)
    names = found(people, "城")
    shutil.rmtree(people.root / ".git" / "hk")
    assert codes(people) == before
    assert found(people, "城") == names
    assert found(people, "zs") == ["张三"]


def test_an_index_of_an_older_schema_is_rebuilt_on_the_first_read(people: Hk) -> None:
    """A new hk over an index an older one built: nothing changed in the files, yet the first
    read finds everything (the old tables and their snapshots go before any is trusted)."""
    import sqlite3

    names = found(people, "城")
    db = sqlite3.connect(people.root / ".git" / "hk" / "index.sqlite")
    db.execute("PRAGMA user_version = 1")
    db.close()
    assert found(people, "城") == names
    assert found(people, "zs") == ["张三"]


def test_reindex_rebuilds_from_the_files(people: Hk) -> None:
    before = codes(people)
    result = people("reindex")
    assert result.exit_code == 0
    assert "indexed 27 records" in result.stdout
    assert codes(people) == before


def test_the_index_is_inside_git_and_never_committed(people: Hk) -> None:
    assert (people.root / ".git" / "hk").is_dir()
    assert ".git/hk" not in git(people.root, "ls-files")
    assert git(people.root, "status", "--porcelain") == ""


# --- short codes ---------------------------------------------------------------------------------


def code_of(record_id: str) -> str:
    return assign_codes("K", [record_id])[record_id]


def colliding_ids(count: int, seed: int = 7) -> list[str]:
    """``count`` IDs whose four-character codes are all the same (found by brute force)."""
    rng = random.Random(seed)
    groups: dict[str, list[str]] = defaultdict(list)
    base = 1_700_000_000_000
    while True:
        rid = new_id(base + rng.randrange(10**9))
        group = groups[code_of(rid)]
        group.append(rid)
        if len(group) == count:
            return sorted(group)


def test_codes_have_a_prefix_and_four_characters() -> None:
    rid = new_id()
    code = code_of(rid)
    assert code.startswith("K") and len(code) == 5
    assert code_of(rid) == code


def test_codes_are_unique_among_many_records() -> None:
    ids = [new_id() for _ in range(3000)]
    assigned = assign_codes("K", ids)
    assert len(set(assigned.values())) == len(ids)


def test_codes_do_not_depend_on_the_order_records_are_seen() -> None:
    ids = [new_id() for _ in range(500)] + colliding_ids(3)
    shuffled = ids[:]
    random.Random(1).shuffle(shuffled)
    assert assign_codes("K", ids) == assign_codes("K", shuffled)


def test_a_collision_gives_the_older_record_the_short_code() -> None:
    older, newer = colliding_ids(2)
    assigned = assign_codes("K", [newer, older])
    assert assigned[older] == code_of(older)
    assert len(assigned[newer]) == 6
    assert assigned[newer].startswith(assigned[older])


def test_three_colliding_records_get_three_codes() -> None:
    ids = colliding_ids(3)
    assigned = assign_codes("K", ids)
    assert len(set(assigned.values())) == 3
    assert len(assigned[ids[0]]) == 5


def test_a_newer_record_never_changes_existing_codes() -> None:
    ids = [new_id(1_700_000_000_000 + i) for i in range(200)]
    before = assign_codes("K", ids)
    after = assign_codes("K", [*ids, new_id(1_800_000_000_000)])
    assert {i: after[i] for i in ids} == before


def test_colliding_records_in_an_archive_get_distinct_codes(archive: Archive, hk: Hk) -> None:
    older, newer = colliding_ids(2)
    write_by_hand(archive, "李四", newer)
    write_by_hand(archive, "张三", older)
    assigned = codes(hk)
    assert assigned == assign_codes("K", [older, newer])
    shown = json.loads(hk("show", assigned[newer], "--json").stdout)
    assert shown["name"] == "李四"
    assert json.loads(hk("show", assigned[older], "--json").stdout)["name"] == "张三"


def test_codes_in_the_index_are_the_same_on_every_machine(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    """Two machines that learnt of the same records in a different order agree on codes."""
    older, newer = colliding_ids(2, seed=11)
    write_by_hand(archive, "李四", newer)
    customer(archive, "王五")
    first_seen = codes(hk)
    write_by_hand(archive, "张三", older)
    git(archive.root, "add", "customers")
    git(archive.root, "commit", "-qm", "merge from a colleague")
    clone_root = tmp_path / "elsewhere"
    subprocess.run(["git", "clone", "-q", str(archive.root), str(clone_root)], check=True)
    here, there = codes(hk), codes(Hk(clone_root))
    assert here == there
    assert here[older] == first_seen[newer]
    assert here[newer] != first_seen[newer]


def test_a_code_given_at_creation_is_the_code_in_the_index(archive: Archive, hk: Hk) -> None:
    result = hk("customer", "add", "--name", "张三")
    code = result.stdout.split()[2]
    assert list(codes(hk).values()) == [code]
    assert found(hk, code) == ["张三"]


# --- a search in a process of its own ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["customer", "find", "zs"],
        ["customer", "find", "zs", "--json"],
        ["customer", "find", "0013", "--limit", "1"],
        ["customer", "find", "城"],
        ["customer", "find", "王五"],
        ["customer", "find", "王五", "--json"],
        ["worker", "find", "wxy"],
        ["worker", "find", "育儿", "--json"],
    ],
)
def test_a_search_prints_the_same_in_its_own_process_and_in_process(
    people: Hk, args: list[str]
) -> None:
    own = people.process(*args)
    in_process = people(*args)
    assert (in_process.exit_code, in_process.stdout) == (own.returncode, own.stdout)


def test_a_search_names_a_broken_file_and_still_finds_the_rest(archive: Archive, hk: Hk) -> None:
    customer(archive, "张三")
    record = write_by_hand(archive, "李四")
    (archive.root / relpath_for(Customer, record.id)).write_text("name: [\n", encoding="utf-8")
    found = hk.process("customer", "find", "zs")
    assert found.returncode == 0 and "张三" in found.stdout
    assert relpath_for(Customer, record.id) in found.stderr
