"""The command line (DESIGN §1 principle 4, §4): the new-user flow of the issue, help on every
command, exit codes, --json everywhere, and how the archive is found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from hk.cli import app
from hk.services.archive import init
from tests.conftest import HK_BIN, Hk, git, isolated_home, ok

ID_NUMBER = "510104199001011230"
WORKER_ID = "11010519491231002X"


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def at_time(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Make the next commits carry this date (git takes it from the environment)."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)


def editor_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Set EDITOR to a small Python script; ``path`` and ``text`` hold the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\npath = Path(sys.argv[1])\n"
        "text = path.read_text(encoding='utf-8')\n" + body,
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")


# --- the new-user flow -------------------------------------------------------------------


def test_the_new_user_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hk = Hk(tmp_path / "我的家政")
    created = ok(hk("init"))
    assert "created archive" in created.stdout

    at_time(monkeypatch, "2026-03-01T10:00:00+08:00")
    added = as_json(
        hk(
            "customer",
            "add",
            "--name",
            "张三",
            "--phone",
            "138 0013 8000",
            "--id-number",
            ID_NUMBER,
            "--health-note",
            "青霉素过敏",
            "--json",
        )
    )
    code = added["code"]
    assert added["name"] == "张三"
    assert added["phones"] == ["+8613800138000"]
    assert added["id_number"] == "5101**********1230"
    assert added["health_notes"] == "******"
    assert "青霉素" not in json.dumps(added, ensure_ascii=False)

    listing = ok(hk("customer", "find", "zs")).stdout
    assert code in listing and "张三" in listing and "138 0013 8000" in listing

    at_time(monkeypatch, "2026-03-02T10:00:00+08:00")
    assert ok(hk("customer", "edit", code, "--phone", "13900139000")).stdout == (
        f"updated customer {code}: phones\n"
    )

    at_time(monkeypatch, "2026-03-03T10:00:00+08:00")
    editor_script(
        tmp_path,
        monkeypatch,
        "path.write_text(text.replace('+8613900139000', '137 0013 7000'), encoding='utf-8')\n",
    )
    assert ok(hk("edit", code)).stdout == f"saved {code}: phones\n"

    log = ok(hk("log", code)).stdout.splitlines()
    chain = hk.root / ".git" / "objects" / "info" / "commit-graphs" / "commit-graph-chain"
    assert chain.is_file()  # git's graph with changed-path filters: later histories skip fast
    assert log[0].startswith("2026-03-03T10:00:00+08:00  测试员  ")
    assert "    phones: 139 0013 9000 → 137 0013 7000" in log
    assert "    phones: 138 0013 8000 → 139 0013 9000" in log
    assert any(line.startswith("2026-03-02T10:00:00+08:00  测试员  ") for line in log)
    assert any(line.startswith("2026-03-01T10:00:00+08:00  测试员  ") for line in log)
    assert log.index("    phones: 139 0013 9000 → 137 0013 7000") < log.index(
        "    phones: 138 0013 8000 → 139 0013 9000"
    )

    then = as_json(hk("show", code, "--at", "2026-03-01 12:00", "--json"))
    assert then["phones"] == ["+8613800138000"]
    between = ok(hk("show", code, "--at", "2026-03-02 12:00")).stdout
    assert "139 0013 9000" in between and "as of 2026-03-02 12:00" in between
    assert as_json(hk("show", code, "--json"))["phones"] == ["+8613700137000"]

    history = git(hk.root, "log", "-p", "--all")
    assert ID_NUMBER not in history and "青霉素过敏" not in history and "青霉素" not in history

    path = next((hk.root / "customers").glob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("'+8613700137000'", "'137 0013'"), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("- '137 0013'") + 1
    doctor = hk("doctor")
    assert doctor.exit_code == 1
    assert f"customers/{path.name}:{line}:" in doctor.output
    assert "phones[0]" in doctor.output


# --- help text -----------------------------------------------------------------------------------


def all_commands() -> Iterator[tuple[str, Any]]:
    def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        yield path, command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, f"{path} {name}")

    yield from walk(typer.main.get_command(app), "hk")


COMMANDS = list(all_commands())


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_and_option_has_help_text(path: str, command: Any) -> None:
    assert (command.help or "").strip(), f"{path} has no help text"
    for param in command.params:
        assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}: no help"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS])
def test_every_command_prints_its_help(path: str) -> None:
    result = Hk(Path("unused"))(*path.split()[1:], "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout


def test_hk_without_arguments_shows_the_commands() -> None:
    result = Hk(Path("unused")).runner.invoke(app, [])
    assert "customer" in result.output and "doctor" in result.output


# --- exit codes ----------------------------------------------------------------------------------


def test_success_exits_0_and_a_write_says_what_it_did(hk: Hk) -> None:
    result = ok(hk("customer", "add", "--name", "张三"))
    assert result.stdout.startswith("added customer K")


def test_a_missing_required_option_without_a_terminal_exits_2(hk: Hk) -> None:
    result = hk("customer", "add", "--phone", "13800138000")
    assert result.exit_code == 2
    assert "missing --name" in result.output
    assert not list(hk.root.glob("customers/*.yaml"))
    worker = hk("worker", "add", "--name", "王秀英")
    assert (worker.exit_code, "missing --gender" in worker.output) == (2, True)


def test_a_missing_option_in_a_real_process_exits_2_with_a_message(hk: Hk) -> None:
    result = hk.process("customer", "add")
    assert result.returncode == 2
    assert "missing --name" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_option_is_a_usage_error(hk: Hk) -> None:
    assert hk("customer", "add", "--colour", "red").exit_code == 2


def test_an_unknown_record_exits_1(hk: Hk) -> None:
    for args in (
        ["show", "KZZZZ"],
        ["customer", "show", "KZZZZ"],
        ["log", "KZZZZ"],
        ["customer", "edit", "KZZZZ", "--notes", "x"],
        ["worker", "show", "WZZZZ"],
        ["catalog", "show", "NOPE"],
        ["edit", "KZZZZ"],
    ):
        result = hk(*args)
        assert result.exit_code == 1, args
        assert result.output.startswith("error: "), args
        assert "hint: " in result.output, args


def test_invalid_input_exits_1_naming_the_option(hk: Hk) -> None:
    result = hk("customer", "add", "--name", "张三", "--phone", "12345")
    assert result.exit_code == 1
    assert "not a valid phone number" in result.output
    bad_id = hk("customer", "add", "--name", "张三", "--id-number", ID_NUMBER[:-1] + "9")
    assert bad_id.exit_code == 1
    assert "should be 0" in bad_id.output
    assert ID_NUMBER[:-1] not in bad_id.output


def test_a_stale_edit_exits_3(hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = as_json(hk("customer", "add", "--name", "张三", "--json"))["code"]
    record = next((hk.root / "customers").glob("*.yaml"))
    monkeypatch.setenv("REAL_FILE", str(record))
    editor_script(
        tmp_path,
        monkeypatch,
        "import os\nreal = Path(os.environ['REAL_FILE'])\n"
        "real.write_text(real.read_text(encoding='utf-8').replace('张三', '张四'), "
        "encoding='utf-8')\n"
        "path.write_text(text.replace('张三', '张叁'), encoding='utf-8')\n",
    )
    result = hk("edit", code)
    assert result.exit_code == 3
    assert "changed by someone else" in result.output
    kept = Path(result.output.split("your text is kept in ")[1].split(";")[0])
    shutil.rmtree(kept.parent)


def test_a_held_lock_exits_3(hk: Hk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HK_LOCK_TIMEOUT", "0.1")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\n"
            "from hk.store.lock import archive_lock\n"
            "with archive_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n"
            "    time.sleep(5)\n",
            str(hk.root / ".git" / "hk" / "lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        result = hk("customer", "add", "--name", "张三")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3
    assert "another hk process is writing" in result.output


def test_no_archive_is_a_user_error_with_a_hint(tmp_path: Path) -> None:
    result = Hk(tmp_path / "nowhere")("customer", "list")
    assert result.exit_code == 1
    assert "no hk archive" in result.output and "hk init" in result.output


# --- --json on every listing and show ------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hk, dict[str, str]]]:
    """An archive with one customer and one worker, built once: tests here only read."""
    with isolated_home(tmp_path_factory, "shop"):
        root = tmp_path_factory.mktemp("shop") / "archive"
        init(root)
        hk = Hk(root)
        customer = as_json(
            hk(
                "customer",
                "add",
                "--name",
                "张三",
                "--phone",
                "13800138000",
                "--community",
                "万科城",
                "--tag",
                "高端客户",
                "--json",
            )
        )
        worker = as_json(
            hk("worker", "add", "--name", "王秀英", "--gender", "女", "--skill", "保洁:3", "--json")
        )
        yield hk, {"customer": customer["code"], "worker": worker["code"]}


JSON_COMMANDS = [
    ["customer", "list"],
    ["customer", "list", "--tag", "高端客户"],
    ["customer", "find", "zs"],
    ["customer", "find", "nobody"],
    ["customer", "show", "{customer}"],
    ["worker", "list"],
    ["worker", "find", "wxy"],
    ["worker", "show", "{worker}"],
    ["catalog", "list"],
    ["catalog", "list", "--all"],
    ["catalog", "show", "BJ-DAILY"],
    ["catalog", "show", "PKG-MONTH"],
    ["show", "{customer}"],
    ["show", "{worker}"],
    ["show", "BJ-DAILY"],
    ["log", "{customer}"],
    ["show", "{customer}", "--at", "2099-01-01"],
    ["doctor"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=[" ".join(a) for a in JSON_COMMANDS])
def test_json_output_parses(shop: tuple[Hk, dict[str, str]], args: list[str]) -> None:
    hk, codes = shop
    result = hk(*[a.format(**codes) for a in args], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list | dict)


def test_catalog_list_json_has_services_and_packages(shop: tuple[Hk, dict[str, str]]) -> None:
    data = as_json(shop[0]("catalog", "list", "--json"))
    assert {"BJ-DAILY", "BJ-HOURLY"} <= {s["code"] for s in data["services"]}
    assert data["packages"]
    assert all(isinstance(s["price_fen"], int) for s in data["services"])


def test_listing_json_items_have_code_and_name(shop: tuple[Hk, dict[str, str]]) -> None:
    hk, codes = shop
    [item] = as_json(hk("customer", "list", "--json"))
    assert (item["code"], item["name"], item["community"], item["tags"]) == (
        codes["customer"],
        "张三",
        "万科城",
        ["高端客户"],
    )


def test_listings_without_json_are_aligned_tables(shop: tuple[Hk, dict[str, str]]) -> None:
    hk, codes = shop
    lines = ok(hk("customer", "list")).stdout.splitlines()
    assert lines[0].split() == ["编号", "姓名", "电话", "小区", "类别", "标签"]
    assert lines[1].split()[:2] == [codes["customer"], "张三"]
    catalog = ok(hk("catalog", "list")).stdout
    assert "BJ-DAILY" in catalog and "¥138.00/次" in catalog


# --- workers -------------------------------------------------------------------------------------


def test_worker_add_show_edit_find_and_list(hk: Hk) -> None:
    added = as_json(
        hk(
            "worker",
            "add",
            "--name",
            "王秀英",
            "--gender",
            "女",
            "--phone",
            "13600136000",
            "--birth-year",
            "1975",
            "--native-place",
            "四川南充",
            "--dialect",
            "四川话",
            "--id-number",
            WORKER_ID,
            "--skill",
            "保洁:3",
            "--skill",
            "烹饪:4:川菜/粤菜",
            "--cert",
            "健康证:A123:2027-05-01",
            "--experience",
            "8",
            "--available",
            "mon-fri 08:00-18:00",
            "--available",
            "sat 09:00-12:00",
            "--leave",
            "2026-12-01..2026-12-05:探亲",
            "--community",
            "万科城",
            "--json",
        )
    )
    code = added["code"]
    assert code.startswith("W")
    assert added["id_number"] == "1101**********002X"
    assert added["skills"] == [
        {"name": "保洁", "level": 3},
        {"name": "烹饪", "level": 4, "cuisines": ["川菜", "粤菜"]},
    ]
    assert added["certificates"] == [{"kind": "健康证", "number": "A123", "expires": "2027-05-01"}]
    assert added["availability"]["mon"] == ["08:00-18:00"]
    assert added["availability"]["sat"] == ["09:00-12:00"]
    assert added["leave"] == [{"start": "2026-12-01", "end": "2026-12-05", "reason": "探亲"}]
    assert added["home"]["community"] == "万科城"
    assert added["status"] == "available"

    shown = as_json(hk("worker", "show", code, "--json"))
    assert shown == added
    assert as_json(hk("worker", "show", code, "--reveal", "--json"))["id_number"] == WORKER_ID

    edited = ok(hk("worker", "edit", code, "--status", "placed", "--skill", "育儿:5"))
    assert edited.stdout == f"updated worker {code}: skills, status\n"
    shown = as_json(hk("worker", "show", code, "--json"))
    assert shown["skills"] == [{"name": "育儿", "level": 5}]
    assert shown["status"] == "placed"
    assert shown["home"]["community"] == "万科城"

    assert [w["code"] for w in as_json(hk("worker", "find", "wxy", "--json"))] == [code]
    assert [w["code"] for w in as_json(hk("worker", "list", "--skill", "育儿", "--json"))] == [code]
    assert as_json(hk("worker", "list", "--status", "available", "--json")) == []
    assert [w["code"] for w in as_json(hk("worker", "list", "--status", "placed", "--json"))] == [
        code
    ]


def test_worker_input_errors_are_usage_errors(hk: Hk) -> None:
    for extra in (
        ["--gender", "x"],
        ["--gender", "女", "--skill", "保洁:高"],
        ["--gender", "女", "--available", "monday 8-12"],
    ):
        result = hk("worker", "add", "--name", "王秀英", *extra)
        assert result.exit_code == 2, (extra, result.output)
        assert result.output.startswith("error: ")


# --- the catalog ---------------------------------------------------------------------------------


def test_catalog_show_gives_the_price_in_fen(hk: Hk) -> None:
    item = as_json(hk("catalog", "show", "bj-daily", "--json"))
    assert (item["code"], item["price_fen"], item["unit"]) == ("BJ-DAILY", 13800, "visit")
    assert "¥138.00" in ok(hk("catalog", "show", "BJ-DAILY")).stdout


def test_catalog_add_a_service_and_a_package(hk: Hk) -> None:
    service = as_json(
        hk(
            "catalog",
            "add",
            "--code",
            "bj-window",
            "--name",
            "擦窗",
            "--category",
            "家庭保洁",
            "--unit",
            "m2",
            "--price",
            "6.50",
            "--skill",
            "保洁",
            "--check",
            "窗框无积灰",
            "--json",
        )
    )
    assert (service["code"], service["price_fen"]) == ("BJ-WINDOW", 650)
    assert [c["item"] for c in service["checklist"]] == ["窗框无积灰"]
    package = as_json(
        hk(
            "catalog",
            "add",
            "--code",
            "TC-WIN",
            "--name",
            "擦窗季卡",
            "--item",
            "BJ-WINDOW:3",
            "--item",
            "BJ-DAILY:2",
            "--period",
            "quarter",
            "--price",
            "¥1,200",
            "--validity-days",
            "92",
            "--json",
        )
    )
    assert package["items"] == [
        {"service": "BJ-WINDOW", "visits": 3},
        {"service": "BJ-DAILY", "visits": 2},
    ]
    assert package["price_fen"] == 120000
    codes = {p["code"] for p in as_json(hk("catalog", "list", "--json"))["packages"]}
    assert "TC-WIN" in codes


def test_a_package_naming_an_unknown_service_is_refused(hk: Hk) -> None:
    result = hk(
        "catalog",
        "add",
        "--code",
        "TC-BAD",
        "--name",
        "坏套餐",
        "--item",
        "NOPE:2",
        "--period",
        "month",
        "--price",
        "100",
        "--validity-days",
        "30",
    )
    assert result.exit_code == 1
    assert "service NOPE, which is not in the catalog" in result.output
    assert hk("catalog", "show", "TC-BAD").exit_code == 1


def test_a_catalog_code_that_exists_is_refused(hk: Hk) -> None:
    result = hk(
        "catalog",
        "add",
        "--code",
        "BJ-DAILY",
        "--name",
        "重复",
        "--category",
        "家庭保洁",
        "--unit",
        "visit",
        "--price",
        "1",
    )
    assert result.exit_code == 1
    assert "already has an item with code BJ-DAILY" in result.output


def test_catalog_edit_changes_price_and_keeps_the_code(hk: Hk) -> None:
    assert ok(hk("catalog", "edit", "BJ-DAILY", "--price", "150")).stdout == (
        "updated BJ-DAILY: price_fen\n"
    )
    assert as_json(hk("catalog", "show", "BJ-DAILY", "--json"))["price_fen"] == 15000
    assert hk("catalog", "edit", "BJ-DAILY", "--code", "BJ-OTHER").exit_code == 2
    inactive = ok(hk("catalog", "edit", "BJ-DAILY", "--inactive"))
    assert "active" in inactive.stdout
    active = {s["code"] for s in as_json(hk("catalog", "list", "--json"))["services"]}
    assert "BJ-DAILY" not in active
    everything = as_json(hk("catalog", "list", "--all", "--json"))["services"]
    assert "BJ-DAILY" in {s["code"] for s in everything}


def test_a_catalog_code_cannot_change_even_in_the_editor(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = tmp_path / "rounds"
    editor_script(
        tmp_path,
        monkeypatch,
        f"counter = Path({str(counter)!r})\n"
        "n = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "counter.write_text(str(n))\n"
        "if n == 1:\n"
        "    path.write_text(text.replace('code: BJ-DAILY\\n', 'code: BJ-DAY\\n'), "
        "encoding='utf-8')\n"
        "else:\n"
        "    path.write_text('', encoding='utf-8')\n",
    )
    result = hk("edit", "BJ-DAILY")
    assert result.exit_code == 0
    assert "aborted" in result.stdout
    assert counter.read_text() == "2"
    assert as_json(hk("catalog", "show", "BJ-DAILY", "--json"))["code"] == "BJ-DAILY"
    assert hk("catalog", "show", "BJ-DAY").exit_code == 1


# --- tags ----------------------------------------------------------------------------------------


def test_customer_tag_adds_and_removes_tags(hk: Hk) -> None:
    code = as_json(hk("customer", "add", "--name", "张三", "--tag", "老客户", "--json"))["code"]
    assert ok(hk("customer", "tag", code, "高端客户", "重点维护客户")).stdout == (
        f"customer {code}: tags 老客户, 高端客户, 重点维护客户\n"
    )
    assert as_json(hk("customer", "tag", code, "--remove", "老客户", "--json")) == {
        "code": code,
        "tags": ["高端客户", "重点维护客户"],
    }
    assert as_json(hk("customer", "tag", code, "高端客户", "--json"))["tags"] == [
        "高端客户",
        "重点维护客户",
    ]
    listed = as_json(hk("customer", "list", "--tag", "重点维护客户", "--json"))
    assert [c["code"] for c in listed] == [code]
    assert git(hk.root, "log", "-1", "--format=%s").strip() == f"customer {code}: update tags"


def test_customer_edit_adds_and_removes_one_phone(hk: Hk) -> None:
    code = as_json(hk("customer", "add", "--name", "张三", "--phone", "13800138000", "--json"))[
        "code"
    ]
    ok(hk("customer", "edit", code, "--add-phone", "028-8888-6666"))
    ok(hk("customer", "edit", code, "--remove-phone", "138 0013 8000"))
    assert as_json(hk("customer", "show", code, "--json"))["phones"] == ["+862888886666"]


def test_customer_edit_with_nothing_new_changes_nothing(hk: Hk) -> None:
    code = as_json(hk("customer", "add", "--name", "张三", "--json"))["code"]
    head = git(hk.root, "rev-parse", "HEAD")
    assert ok(hk("customer", "edit", code, "--name", "张三")).stdout == (
        f"customer {code}: nothing changed\n"
    )
    assert git(hk.root, "rev-parse", "HEAD") == head


def test_an_address_part_changed_keeps_the_city_of_the_address(hk: Hk) -> None:
    added = ["--name", "张三", "--city", "重庆市", "--district", "渝中区", "--json"]
    code = as_json(hk("customer", "add", *added))["code"]
    ok(hk("customer", "edit", code, "--community", "解放碑"))
    (address,) = as_json(hk("customer", "show", code, "--json"))["addresses"]
    assert (address["city"], address["district"], address["community"]) == (
        "重庆市",
        "渝中区",
        "解放碑",
    )


def test_an_empty_value_clears_a_field_and_a_birthday_is_read_once(hk: Hk) -> None:
    added = ["--name", "张三", "--wechat", "zs", "--birthday", "1980/3/1", "--json"]
    code = as_json(hk("customer", "add", *added))["code"]
    assert as_json(hk("customer", "show", code, "--json"))["birthday"] == "1980-03-01"
    ok(hk("customer", "edit", code, "--wechat", "", "--birthday", ""))
    shown = as_json(hk("customer", "show", code, "--json"))
    assert (shown.get("wechat"), shown.get("birthday")) == (None, None)
    wrong = hk("customer", "edit", code, "--birthday", "1980-13-40")
    assert wrong.exit_code == 2 and "--birthday: '1980-13-40' is not a real date" in wrong.output


def test_a_referrer_is_named_by_code(hk: Hk) -> None:
    first = as_json(hk("customer", "add", "--name", "张三", "--json"))
    second = as_json(
        hk(
            "customer",
            "add",
            "--name",
            "李四",
            "--channel",
            "老客户介绍",
            "--referrer",
            first["code"],
            "--json",
        )
    )
    assert second["referrer"] == first["id"]
    assert f"{first['code']} 张三" in ok(hk("show", second["code"])).stdout
    assert hk("customer", "add", "--name", "王五", "--referrer", "KZZZZ").exit_code == 1


# --- hk init -------------------------------------------------------------------------------------


def test_init_says_where_the_key_is_and_how_to_back_it_up(tmp_path: Path) -> None:
    result = ok(Hk(tmp_path / "shop")("init", "--company", "成都好帮手家政"))
    key_line = next(line for line in result.stdout.splitlines() if "master.key" in line)
    key = Path(key_line.split(": ", 1)[1].split(" (")[0])
    assert key.is_file()
    assert tmp_path / "shop" not in key.parents
    assert "Back up" in result.stdout and "tar czf" in result.stdout
    assert str(key.parent) in result.stdout
    settings = (tmp_path / "shop" / "hk.toml").read_text(encoding="utf-8")
    assert 'name = "成都好帮手家政"' in settings


def test_init_makes_a_clean_git_repository_with_the_default_catalog(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    ok(Hk(root)("init"))
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    tracked = git(root, "ls-files").splitlines()
    assert "hk.toml" in tracked and ".gitignore" in tracked
    assert any(p.startswith("catalog/services/") for p in tracked)
    assert ok(Hk(root)("doctor")).exit_code == 0


def test_init_refuses_an_existing_archive_or_a_folder_with_files(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    ok(Hk(root)("init"))
    assert Hk(root)("init").exit_code == 1
    other = tmp_path / "papers"
    other.mkdir()
    (other / "合同.docx").write_bytes(b"x")
    result = Hk(other)("init")
    assert result.exit_code == 1
    assert "not empty" in result.output


# --- finding the archive -------------------------------------------------------------------------


def plain_hk(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real ``hk`` binary without --archive."""
    return subprocess.run(
        [HK_BIN, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}
    )


def test_the_archive_is_named_by_the_archive_option(hk: Hk, tmp_path: Path) -> None:
    ok(hk("customer", "add", "--name", "张三"))
    result = plain_hk("-C", str(hk.root), "customer", "list", "--json", cwd=tmp_path)
    assert [c["name"] for c in json.loads(result.stdout)] == ["张三"]


def test_the_archive_is_named_by_hk_archive(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(hk("customer", "add", "--name", "张三"))
    monkeypatch.setenv("HK_ARCHIVE", str(hk.root))
    in_process = hk.runner.invoke(app, ["customer", "list", "--json"])
    assert [c["name"] for c in json.loads(in_process.stdout)] == ["张三"]
    result = plain_hk("customer", "find", "zs", cwd=tmp_path)
    assert "张三" in result.stdout


def test_the_archive_is_found_walking_up_from_a_subfolder(hk: Hk) -> None:
    ok(hk("customer", "add", "--name", "张三"))
    deep = hk.root / "customers"
    for args in (["customer", "find", "zs"], ["customer", "list"], ["doctor"]):
        result = plain_hk(*args, cwd=deep)
        assert result.returncode == 0, result.stderr
    assert "张三" in plain_hk("customer", "find", "zs", cwd=deep).stdout


def test_without_any_hint_the_default_archive_in_the_data_folder_is_used(
    tmp_path: Path, isolated_env: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    created = plain_hk("init", cwd=elsewhere)
    assert created.returncode == 0, created.stderr
    default = isolated_env / ".local/share/hk/archive"
    assert (default / "hk.toml").is_file()
    assert plain_hk("customer", "add", "--name", "张三", cwd=elsewhere).returncode == 0
    assert "张三" in plain_hk("customer", "find", "zs", cwd=elsewhere).stdout
    assert len(list((default / "customers").glob("*.yaml"))) == 1
