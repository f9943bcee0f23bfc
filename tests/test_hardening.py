"""A store that survives hostile or broken files (DESIGN §3, issue 14 item 5).

Each attack that once got through is tried again on a real archive, through the real CLI:
YAML alias bombs, data nested hundreds of levels deep, huge files, links and pipes in record
folders, broken and conflicted records, a stale index under ``hk dispatch plan``, and output
paths that are devices, pipes, links or nowhere. Each must now end in a located error or a
safe result, and every other record must still be read.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest

from hk.domain.layout import LAYOUT
from hk.errors import InvalidData, Problem
from hk.services.people import add_customer
from hk.store import codec
from hk.store.archive import Archive
from hk.store.limits import MAX_DEPTH, MAX_RECORD_BYTES
from tests.conftest import Hk, git, ok
from tests.orders_support import DAY
from tests.test_dispatch_plan import EAST, WEST, Town

ALIEN = "01M99G7MZZZZZZZZZZZZZZZZZZ"
"""The ID of the hostile file in each test (a valid ULID shape, so it is named like a record)."""


def customer(archive: Archive, name: str = "陈淑芬", phone: str = "13800138000") -> tuple[str, str]:
    """A valid customer written through hk: (code, path relative to the archive)."""
    _, saved = add_customer(archive, {"name": name, "phones": [phone]})
    assert saved.code
    return saved.code, saved.paths[0]


def hostile(root: Path, text: str, record_id: str = ALIEN) -> str:
    """A customer file written by hand; its path relative to the archive."""
    rel = f"customers/{record_id}.yaml"
    (root / rel).write_text(text, encoding="utf-8")
    return rel


def head(record_id: str = ALIEN) -> str:
    return f"id: {record_id}\nname: 某人\ncreated: 2026-03-01T09:00:00+08:00\n"


def alias_bomb(aliases: int) -> str:
    """One anchored list of 2 000 words and ``aliases`` aliases of it: a few hundred KB that
    stand for ``aliases`` × 2 000 words once built."""
    words = ", ".join(["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"] * 2000)
    return head() + f"notes_source: &a [{words}]\ntags: [" + ", ".join(["*a"] * aliases) + "]\n"


def doctor(hk: Hk) -> dict[str, Any]:
    result = hk.process("doctor", "--json")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == (0 if report["ok"] else 1)
    return report


def errors_of(report: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    return [e for e in report["errors"] if e["path"] == rel]


def listed(hk: Hk) -> subprocess.CompletedProcess[str]:
    """``hk customer list`` as a real process, which must end (a pipe must not block it)."""
    result = subprocess.run(
        [sys.executable, "-m", "hk", "--archive", str(hk.root), "customer", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


def names(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [c["name"] for c in json.loads(result.stdout)]


# --- 1. YAML aliases ----------------------------------------------------------------------------


def test_an_alias_is_refused_at_its_line_and_column_before_anything_is_built() -> None:
    text = alias_bomb(20_000)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidData) as caught:
            codec.parse_yaml(text, "customers/x.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (5, 8)  # the first *a on the tags line
    assert "alias *a" in problem.message and "anchored at line 4" in problem.message
    assert problem.hint and "hk never writes aliases" in problem.hint
    assert peak < 40 * len(text)  # the events of the text, not 40 million built words


def test_an_alias_bomb_is_named_by_listings_while_every_other_record_lists(
    archive: Archive, hk: Hk
) -> None:
    customer(archive)
    rel = hostile(hk.root, alias_bomb(20_000))
    result = listed(hk)
    assert result.returncode == 0 and names(result) == ["陈淑芬"]
    assert f"{rel}:5:8: the alias *a repeats another value" in result.stderr
    [error] = errors_of(doctor(hk), rel)
    assert (error["line"], error["column"]) == (5, 8)


def test_a_star_in_text_is_not_an_alias(archive: Archive) -> None:
    data = codec.parse_yaml(head() + "notes: '*8 号楼门禁 *123#'\n", "customers/x.yaml")
    assert data["notes"] == "*8 号楼门禁 *123#"


# --- 2. nesting depth ---------------------------------------------------------------------------


def flow(depth: int) -> str:
    return "[" * depth + "]" * depth


def block(depth: int) -> str:
    return "".join(f"{'  ' * level}k:\n" for level in range(depth)) + f"{'  ' * depth}x\n"


@pytest.mark.parametrize("depth", [300, 990])
def test_yaml_nested_hundreds_deep_is_a_located_error_on_every_read_path(
    archive: Archive, hk: Hk, tmp_path: Path, depth: int
) -> None:
    customer(archive)
    rel = hostile(hk.root, head() + f"notes: {flow(depth)}\n")
    assert names(listed(hk)) == ["陈淑芬"]  # the index build
    [error] = errors_of(doctor(hk), rel)
    assert error["message"] == f"not valid YAML: nested more than {MAX_DEPTH} levels deep"
    # The record's mapping is the first level: the bracket that opens level MAX_DEPTH + 1.
    assert (error["line"], error["column"]) == (4, 7 + MAX_DEPTH)
    shown = hk.process("show", ALIEN)
    assert shown.returncode == 1 and "nested more than" in shown.stderr
    assert "Traceback" not in shown.stderr
    edited = hk.process("edit", ALIEN, env={"HK_EDITOR": editor_script(tmp_path, "")})
    assert edited.returncode == 0, edited.stderr  # opened for repair, left unchanged
    assert "nothing changed" in edited.stdout
    shown_to_editor = (tmp_path / "shown.txt").read_text(encoding="utf-8").splitlines()
    assert "nested more than" in shown_to_editor[1]


def refusal(text: str) -> Problem:
    """The first problem of YAML that must not load."""
    with pytest.raises(InvalidData) as caught:
        codec.parse_yaml(text, "customers/x.yaml")
    return caught.value.problems[0]


def test_block_nesting_merge_chains_and_collection_tags_are_refused_too() -> None:
    deep = refusal(
        head() + "notes:\n" + "".join("  " + line for line in block(400).splitlines(True))
    )
    assert "nested more than" in deep.message and deep.line == 4 + MAX_DEPTH  # level 65
    chain = refusal(head() + "notes: " + "{<<: " * 500 + "{}" + "}" * 500 + "\n")
    assert "merge keys (<<) are not used" in chain.message and chain.line == 4
    omaps = refusal(head() + "notes: " + "!!omap [a: " * 400 + "x" + "]" * 400 + "\n")
    assert "tag:yaml.org,2002:omap is not used" in omaps.message
    assert codec.parse_yaml(head() + f"notes: {flow(MAX_DEPTH - 1)}\n", "c")["notes"]


@pytest.mark.parametrize("depth", [500, 2000])
def test_json_nested_deep_is_a_located_error(depth: int) -> None:
    text = '{\n  "id": "x",\n  "notes": ' + flow(depth) + "\n}\n"
    with pytest.raises(InvalidData) as caught:
        codec.parse_json(text, "orders/2026/03/x.json")
    [problem] = caught.value.problems
    assert problem.message == f"not valid JSON: nested more than {MAX_DEPTH} levels deep"
    assert problem.line == 3 and problem.column is not None
    assert problem.hint


def test_a_deep_order_file_is_listed_as_broken_and_doctor_locates_it(
    archive: Archive, hk: Hk
) -> None:
    rel = LAYOUT["order"].relpath(ALIEN)
    (hk.root / rel).parent.mkdir(parents=True)
    (hk.root / rel).write_text('{\n  "id": "' + ALIEN + '",\n  "x": ' + flow(700) + "\n}\n")
    result = hk.process("order", "list", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"{rel}:3:" in result.stderr and "nested more than" in result.stderr
    [error] = errors_of(doctor(hk), rel)
    assert error["line"] == 3


# --- 3. size ------------------------------------------------------------------------------------


def test_a_record_file_over_the_size_limit_is_refused_with_its_size(
    archive: Archive, hk: Hk
) -> None:
    customer(archive)
    rel = hostile(hk.root, head())
    os.truncate(hk.root / rel, 52 * (1 << 20))  # 52 MB, as found: sparse, never read
    result = listed(hk)
    assert names(result) == ["陈淑芬"]
    message = "the file is 52.0 MB; a record file may be at most 1.0 MB"
    assert f"{rel}: {message}" in result.stderr
    [error] = errors_of(doctor(hk), rel)
    assert error["message"] == message and error["hint"]
    shown = hk.process("show", ALIEN, "--raw")
    assert shown.returncode == 1 and message in shown.stderr and shown.stdout == ""


def test_a_file_just_under_the_limit_is_read() -> None:
    text = head() + "notes: |\n" + ("  " + "x" * 99 + "\n") * ((MAX_RECORD_BYTES - 200) // 102)
    assert len(text.encode()) < MAX_RECORD_BYTES
    assert codec.parse_yaml(text, "c")["notes"].startswith("x")


# --- 4. links and other files that are not records ---------------------------------------------


def test_a_link_to_a_file_outside_the_archive_is_never_read(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    customer(archive)
    outside = tmp_path / "secret.yaml"
    outside.write_text(head() + "notes: 外面的秘密\n", encoding="utf-8")
    rel = f"customers/{ALIEN}.yaml"
    (hk.root / rel).symlink_to(outside)
    result = listed(hk)
    assert names(result) == ["陈淑芬"]
    assert f"{rel}: a symbolic link, not a regular file" in result.stderr
    report = doctor(hk)
    [error] = errors_of(report, rel)
    assert "symbolic link" in error["message"] and "外面的秘密" not in json.dumps(report)
    shown = hk.process("show", ALIEN, "--raw")
    assert shown.returncode == 1 and "外面的秘密" not in shown.stdout + shown.stderr
    edited = hk.process("edit", ALIEN, env={"HK_EDITOR": "false"})
    assert edited.returncode == 1 and "symbolic link" in edited.stderr
    assert "外面的秘密" in outside.read_text(encoding="utf-8")


def test_a_dangling_link_and_a_folder_named_like_a_record_do_not_crash_doctor(
    archive: Archive, hk: Hk
) -> None:
    customer(archive)
    dangling = f"customers/{ALIEN}.yaml"
    (hk.root / dangling).symlink_to(hk.root / "nowhere.yaml")
    folder = "customers/01M99G7MYYYYYYYYYYYYYYYYYY.yaml"
    (hk.root / folder).mkdir()
    report = doctor(hk)
    assert "symbolic link" in errors_of(report, dangling)[0]["message"]
    assert "a folder, not a regular file" in errors_of(report, folder)[0]["message"]
    assert names(listed(hk)) == ["陈淑芬"]


def test_a_named_pipe_is_refused_without_being_opened(archive: Archive, hk: Hk) -> None:
    customer(archive)
    rel = f"customers/{ALIEN}.yaml"
    os.mkfifo(hk.root / rel)  # opening it for reading would block until someone writes
    result = listed(hk)
    assert names(result) == ["陈淑芬"] and "named pipe (FIFO)" in result.stderr
    assert "named pipe" in errors_of(doctor(hk), rel)[0]["message"]
    shown = hk.process("show", ALIEN)
    assert shown.returncode == 1 and "named pipe" in shown.stderr


def test_a_month_folder_that_is_a_link_is_refused_not_followed(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{ALIEN}.json").write_text('{"id": "' + ALIEN + '"}', encoding="utf-8")
    (hk.root / "orders").mkdir(exist_ok=True)
    (hk.root / "orders" / "2026").symlink_to(elsewhere)
    result = hk.process("order", "list", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []
    assert "orders/2026/: a symbolic link where a folder of records belongs" in result.stderr
    assert errors_of(doctor(hk), "orders/2026/")


def test_the_writer_never_writes_through_a_link(archive: Archive, hk: Hk, tmp_path: Path) -> None:
    code, rel = customer(archive)
    outside = tmp_path / "outside.yaml"
    shutil.copy(hk.root / rel, outside)
    before = outside.read_bytes()
    commits = git(hk.root, "rev-list", "--count", "HEAD")
    (hk.root / rel).unlink()
    (hk.root / rel).symlink_to(outside)
    result = hk.process("customer", "edit", code, "--notes", "改过")
    assert result.returncode == 1, result.stdout
    assert outside.read_bytes() == before and (hk.root / rel).is_symlink()
    assert git(hk.root, "rev-list", "--count", "HEAD") == commits
    assert "120000" not in git(hk.root, "ls-tree", "-r", "HEAD", "customers")


# --- 5. broken records can be shown and repaired ------------------------------------------------


def editor_script(tmp_path: Path, body: str) -> str:
    """An $EDITOR that keeps what it was shown (``shown.txt``) and runs ``body`` on the file
    (Python, with ``path`` and ``text`` set). Opened again (the save was invalid), it empties
    the file, which aborts the edit, and says so in ``again.txt``."""
    script = tmp_path / "editor.py"
    shown = tmp_path / "shown.txt"
    script.write_text(
        "import sys\nfrom pathlib import Path\n"
        "path = Path(sys.argv[1])\ntext = path.read_text(encoding='utf-8')\n"
        f"shown = Path({str(shown)!r})\n"
        "if shown.exists():\n"
        "    shown.with_name('again.txt').write_text(text, encoding='utf-8')\n"
        "    path.write_text('', encoding='utf-8')\n"
        "    sys.exit(0)\n"
        "shown.write_text(text, encoding='utf-8')\n" + body,
        encoding="utf-8",
    )
    return f"{sys.executable} {script}"


def test_an_invalid_record_is_found_by_its_code_shown_raw_and_repaired(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    code, rel = customer(archive)
    path = hk.root / rel
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("name: 陈淑芬", "name: [陈淑芬"), encoding="utf-8")
    shown = hk.process("show", code)
    assert shown.returncode == 1 and "no customer" not in shown.stderr
    assert f"{rel}:3:7: not valid YAML" in shown.stderr and f"hk edit {code}" in shown.stderr
    raw = hk.process("show", code, "--raw")
    assert raw.returncode == 1 and raw.stdout == path.read_text(encoding="utf-8")
    assert f"{rel} is not a valid record (1 problem)" in raw.stderr
    fix = "path.write_text(text.replace('name: [陈淑芬', 'name: 陈淑芬'), encoding='utf-8')\n"
    edited = hk.process("edit", code, env={"HK_EDITOR": editor_script(tmp_path, fix)})
    assert edited.returncode == 0, edited.stderr
    assert f"repaired {code}" in edited.stdout
    shown_to_editor = (tmp_path / "shown.txt").read_text(encoding="utf-8")
    assert shown_to_editor.startswith("# hk: this record is not valid yet")
    assert "# hk: line 5:7:" in shown_to_editor  # the problem's line, counted in the draft
    assert git(hk.root, "log", "-1", "--format=%s").strip() == f"customer {code}: repair the file"
    assert git(hk.root, "status", "--porcelain").strip() == ""
    assert json.loads(ok(hk("show", code, "--json")).stdout)["name"] == "陈淑芬"
    assert hk.process("show", code, "--raw").returncode == 0


def test_a_record_with_git_conflict_markers_says_so_and_is_repaired_in_the_editor(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    code, rel = customer(archive)
    git(hk.root, "checkout", "-qb", "colleague")
    ok(hk("customer", "edit", code, "--phone", "13900139000"))
    git(hk.root, "checkout", "-q", "-")
    ok(hk("customer", "edit", code, "--phone", "13700137000"))
    # git's own line merge, as someone who set hk's merge driver aside would get
    (hk.root / ".git" / "info" / "attributes").write_text("* merge=text\n", encoding="utf-8")
    merge = subprocess.run(
        ["git", "-C", str(hk.root), "merge", "colleague"], capture_output=True, text=True
    )
    assert merge.returncode != 0 and "CONFLICT" in merge.stdout
    result = listed(hk)
    assert names(result) == []
    assert "has unresolved merge conflict markers" in result.stderr
    shown = hk.process("show", code)
    assert shown.returncode == 1 and "unresolved merge conflict markers" in shown.stderr
    assert "hk sync" in shown.stderr
    keep_ours = (
        "import re\n"
        "path.write_text(re.sub(r'<<<<<<< .*?\\n(.*?)=======\\n.*?>>>>>>> .*?\\n', r'\\1', text,"
        " flags=re.S), encoding='utf-8')\n"
    )
    edited = hk.process("edit", code, env={"HK_EDITOR": editor_script(tmp_path, keep_ours)})
    assert edited.returncode == 0, edited.stderr
    assert "<<<<<<<" not in (hk.root / rel).read_text(encoding="utf-8")
    assert names(listed(hk)) == ["陈淑芬"]


def test_a_link_is_not_opened_for_repair(archive: Archive, hk: Hk, tmp_path: Path) -> None:
    customer(archive)
    (hk.root / f"customers/{ALIEN}.yaml").symlink_to(tmp_path / "whatever.yaml")
    edited = hk.process("edit", ALIEN, env={"HK_EDITOR": editor_script(tmp_path, "")})
    assert edited.returncode == 1 and "symbolic link" in edited.stderr
    assert not (tmp_path / "shown.txt").exists()


# --- 6. every read sees the files as they are ---------------------------------------------------


@pytest.fixture
def town(archive: Archive, archive_path: Path) -> Town:
    town = Town(archive, archive_path)
    town.worker("东", EAST)
    town.worker("西", WEST)
    town.customer("甲", EAST)
    town.customer("乙", WEST)
    return town


def test_dispatch_plan_never_routes_an_order_cancelled_by_hand(town: Town, tmp_path: Path) -> None:
    kept = town.order("甲", "09:00")
    cancelled = town.order("乙", "10:00")
    first = town.plan()
    assert sorted(j["code"] for r in first["routes"] for j in r["jobs"]) == sorted(
        [kept, cancelled]
    )
    # The cancel happens in a clone, and only its file comes back: written by hand, no hk.
    clone = tmp_path / "clone"
    git(town.archive.root, "clone", "-q", str(town.archive.root), str(clone))
    done = town.cli.__class__(clone)
    done.ok("order", "cancel", cancelled, "--reason", "客户改期")
    order_id = town.cli.json("order", "show", cancelled)["id"]
    rel = next(
        p.relative_to(clone) for p in (clone / "orders").rglob(f"{order_id}.json") if p.is_file()
    )
    (town.archive.root / rel).write_bytes((clone / rel).read_bytes())
    again = town.cli.json("dispatch", "plan", "--date", str(DAY))
    assert [j["code"] for r in again["routes"] for j in r["jobs"]] == [kept]
    applied = town.cli.json("dispatch", "plan", "--date", str(DAY), "--apply")
    assert applied["applied"] is True
    assert town.cli.json("order", "show", kept)["status"] == "dispatched"
    assert orjson.loads((town.archive.root / rel).read_bytes())["status"] == "cancelled"


def test_a_query_refreshes_what_it_reads_without_being_told(archive: Archive, hk: Hk) -> None:
    code, rel = customer(archive)
    reader = Archive(hk.root)
    assert reader.index.resolve("customer", code)[0]["name"] == "陈淑芬"
    other = Archive(hk.root)  # a later command: the file was edited by hand in between
    path = hk.root / rel
    path.write_text(path.read_text(encoding="utf-8").replace("陈淑芬", "陈淑华"), "utf-8")
    [row] = other.index.list("customer")
    assert row["name"] == "陈淑华"
    fresh = other.index.get(row["id"])
    assert fresh is not None and fresh["name"] == "陈淑华"


# --- 7. output paths ----------------------------------------------------------------------------


def read_fifo(path: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def reader() -> None:
        with open(path, "rb") as handle:
            got.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread, got


@pytest.mark.parametrize(
    "command",
    [
        ["export", "customers", "--out"],
        ["export", "customers", "--format", "json", "--out"],
        ["calendar", "export"],
    ],
)
def test_a_named_pipe_as_output_is_written_in_place_not_replaced(
    archive: Archive, hk: Hk, tmp_path: Path, command: list[str]
) -> None:
    customer(archive)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, got = read_fifo(fifo)
    result = hk.process(*command, str(fifo))
    thread.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert got and got[0]  # the reader got the whole file
    assert fifo.is_fifo()


def test_dash_is_stdout_and_no_file_named_dash_appears(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    customer(archive)
    result = hk.process("export", "customers", "--format", "json", "--out", "-", cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)[0]["姓名"] == "陈淑芬"
    ics = hk.process("calendar", "export", "-", cwd=tmp_path)
    assert ics.returncode == 0 and ics.stdout.startswith("BEGIN:VCALENDAR")
    assert not (tmp_path / "-").exists()


def test_a_link_as_output_is_refused_and_left_alone(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    for command in (["export", "customers", "--out"], ["calendar", "export"]):
        result = hk.process(*command, str(link))
        assert result.returncode == 1
        assert "is a symbolic link; hk does not write through links" in result.stderr
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "keep me"


def test_an_unwritable_output_path_is_a_user_error_without_a_traceback(
    archive: Archive, hk: Hk, tmp_path: Path, isolated_env: Path
) -> None:
    missing = tmp_path / "no-such-folder" / "客户.csv"
    result = hk.process("export", "customers", "--out", str(missing))
    assert result.returncode == 1
    assert "the folder" in result.stderr and "does not exist" in result.stderr
    assert "hint:" in result.stderr
    under_a_file = tmp_path / "file"
    under_a_file.write_text("", encoding="utf-8")
    result = hk.process("calendar", "export", str(under_a_file / "x.ics"))
    assert result.returncode == 1 and f"cannot write {under_a_file / 'x.ics'}" in result.stderr
    for output in (result.stderr, result.stdout):
        assert "Traceback" not in output and "internal error" not in output
    assert not list(isolated_env.rglob("crash.log"))


def test_a_regular_output_file_is_replaced_keeping_its_permissions(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    customer(archive)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "客户.csv"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o600)
    ok_run = hk.process("export", "customers", "--out", str(out))
    assert ok_run.returncode == 0, ok_run.stderr
    assert "陈淑芬" in out.read_text(encoding="utf-8-sig")
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["客户.csv"]  # no temp file left


def xlsx_to_stdout(hk: Hk) -> list[str]:
    """`hk export customers --format xlsx --out -` as a real process."""
    return [
        sys.executable,
        "-m",
        "hk",
        "--archive",
        str(hk.root),
        "export",
        "customers",
        "--format",
        "xlsx",
        "--out",
        "-",
    ]


def test_xlsx_on_a_terminal_is_refused_and_through_a_pipe_is_written(
    archive: Archive, hk: Hk
) -> None:
    customer(archive)
    primary, secondary = pty.openpty()
    try:
        result = subprocess.run(
            xlsx_to_stdout(hk),
            stdout=secondary,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(secondary)
        os.close(primary)
    assert result.returncode == 2 and "binary; it is not printed on a terminal" in result.stderr
    piped = subprocess.run(
        xlsx_to_stdout(hk),
        capture_output=True,
        timeout=60,
    )
    assert piped.returncode == 0 and piped.stdout.startswith(b"PK")


def test_a_document_render_uses_the_same_output_rules(town: Town, tmp_path: Path) -> None:
    code = town.order("甲", "09:00")
    sheet = town.cli("order", "sheet", code, "--out", "-")
    assert sheet.exit_code == 0 and "wrote" not in sheet.stdout and sheet.stdout.strip()
    link = tmp_path / "sheet.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    refused = town.cli("order", "sheet", code, "--out", str(link))
    assert refused.exit_code == 1 and "symbolic link" in refused.output
    assert not (tmp_path / "elsewhere.md").exists()
    town.plan("--apply")
    folder = tmp_path / "sheets"
    folder.mkdir()
    written = town.cli("dispatch", "sheet", "--date", str(DAY), "--out", str(folder / "all.md"))
    assert written.exit_code == 0, written.output
    assert (folder / "all.md").is_file()


def test_no_writer_writes_into_a_folder_that_is_a_link(
    archive: Archive, hk: Hk, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (hk.root / "customers").symlink_to(elsewhere)
    added = hk.process("customer", "add", "--name", "陈淑芬", "--phone", "13800138000")
    assert added.returncode == 1
    assert "customers/: a symbolic link where a folder of records belongs" in added.stderr
    rows = tmp_path / "客户.csv"
    rows.write_text("姓名,电话\n李四,13800138001\n", encoding="utf-8")
    imported = hk.process("import", "customers", str(rows))
    assert imported.returncode == 1 and "symbolic link" in imported.stdout + imported.stderr
    assert list(elsewhere.iterdir()) == []
