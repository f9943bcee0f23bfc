"""``hk batch`` (DESIGN §3, §4, §6): JSON lines of changes, each checked as the CLI checks it,
all applied in one commit or none of them, with a report per line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from hk.services.batch import apply_batch
from hk.store.archive import Archive
from hk.store.lock import archive_lock
from tests.conftest import HK_BIN, Hk, git, ok


def line(op: str, ref: str | None = None, **values: Any) -> str:
    data: dict[str, Any] = {"op": op, "set": values}
    if ref is not None:
        data["ref"] = ref
    return json.dumps(data, ensure_ascii=False)


def lines(*items: str) -> str:
    return "\n".join(items) + "\n"


def add_customer(hk: Hk, name: str, phone: str) -> str:
    added = json.loads(ok(hk("customer", "add", "--name", name, "--phone", phone, "--json")).stdout)
    return str(added["code"])


def show(hk: Hk, kind: str, code: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(hk(kind, "show", code, "--json")).stdout)
    return data


def commits(hk: Hk) -> int:
    return int(git(hk.root, "rev-list", "--count", "HEAD"))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every record file's bytes (what must not change when a batch is refused)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }


def test_n_lines_are_one_commit(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    b = add_customer(hk, "李四", "13800138001")
    before = commits(hk)
    result = hk(
        "batch",
        input=lines(
            line("customer.edit", a, community="万科城"),
            line("customer.edit", b, tag=["高端客户"], phone=["13900139000"]),
            line("customer.add", name="王五", phone="13700137000", category="家庭保洁"),
            line("worker.add", name="王秀英", gender="女", skill=["保洁:4", "烹饪:3:川菜"]),
        ),
    )
    assert ok(result).stdout == "applied 4 lines in one commit\n"
    assert commits(hk) == before + 1
    subject = git(hk.root, "log", "-1", "--format=%s").strip()
    assert subject == "batch: 1 customer add, 2 customer edit, 1 worker add"
    assert show(hk, "customer", a)["addresses"][0]["community"] == "万科城"
    edited = show(hk, "customer", b)
    assert (edited["tags"], edited["phones"]) == (["高端客户"], ["+8613900139000"])
    assert git(hk.root, "status", "--porcelain") == ""
    found = json.loads(ok(hk("customer", "find", "王五", "--json")).stdout)
    assert [c["name"] for c in found] == ["王五"]
    worker = json.loads(ok(hk("worker", "list", "--json")).stdout)
    assert [w["name"] for w in worker] == ["王秀英"]


def test_a_bad_line_refuses_the_whole_batch(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    files, before = snapshot(hk.root), commits(hk)
    result = hk(
        "batch",
        input=lines(
            line("customer.edit", a, community="万科城"),
            line("customer.edit", a, phone=["12345"]),
            line("customer.add", name="王五", category="不存在的类别"),
        ),
    )
    assert result.exit_code == 1
    assert "line 2: error: phone: " in result.output
    assert "line 3: error: category: " in result.output
    assert "line 1" not in result.output
    assert "nothing written: 2 of 3 lines refused" in result.output
    assert commits(hk) == before
    assert snapshot(hk.root) == files
    assert git(hk.root, "status", "--porcelain") == ""
    assert show(hk, "customer", a).get("addresses") is None


def test_keep_going_applies_the_good_lines_in_one_commit(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    before = commits(hk)
    result = hk(
        "batch",
        "--keep-going",
        input=lines(
            line("customer.edit", a, notes="周三上午"),
            line("customer.edit", "KZZZZ", notes="x"),
            line("customer.add", name="王五"),
        ),
    )
    assert result.exit_code == 1
    assert "line 2: error: ref: no customer with ID or code 'KZZZZ'" in result.output
    assert "applied 2 lines in one commit, 1 refused" in result.output
    assert commits(hk) == before + 1
    assert show(hk, "customer", a)["notes"] == "周三上午"


def test_every_line_gets_a_json_report(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    result = hk(
        "batch",
        "--json",
        input=lines(
            line("customer.edit", a, community="万科城", notes="门卫处取钥匙"),
            "",
            "{not json",
            line("customer.edt", a, notes="x"),
            line("customer.edit", a, colour="red"),
            line("worker.add", name="王秀英", gender="x"),
        ),
    )
    assert result.exit_code == 1
    reports = [json.loads(text) for text in result.stdout.splitlines()]
    assert [r["line"] for r in reports] == [1, 3, 4, 5, 6]  # the blank line 2 is skipped
    first = reports[0]
    assert (first["ok"], first["applied"], first["code"]) == (True, False, a)
    assert first["changed"] == ["addresses", "notes"]
    assert [r["ok"] for r in reports[1:]] == [False] * 4
    assert reports[1]["message"].startswith("not valid JSON")
    assert (reports[2]["field"], reports[2]["hint"]) == ("op", "did you mean 'customer.edit'?")
    assert (reports[3]["field"], reports[3]["message"]) == ("colour", "unknown field")
    assert reports[4]["field"] == "gender" and reports[4]["hint"] == "write 女 or 男 (f or m)"
    assert all(r["message"] and r["hint"] for r in reports[1:])


def test_a_chinese_value_round_trips(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    ok(hk("batch", input=lines(line("customer.edit", a, community="万科城·二期", notes="怕猫"))))
    shown = show(hk, "customer", a)
    assert (shown["addresses"][0]["community"], shown["notes"]) == ("万科城·二期", "怕猫")
    text = next((hk.root / "customers").glob("*.yaml")).read_text(encoding="utf-8")
    assert "万科城·二期" in text and "\\u" not in text


def test_edits_of_one_record_apply_in_order(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    ok(
        hk(
            "batch",
            input=lines(
                line("customer.edit", a, notes="第一次", phone=["13900139000"]),
                line("customer.edit", a, notes="第二次", add_phone=["13700137000"]),
                line("customer.edit", a, remove_phone=["13900139000"]),
            ),
        )
    )
    shown = show(hk, "customer", a)
    assert (shown["notes"], shown["phones"]) == ("第二次", ["+8613700137000"])


def test_lines_come_from_stdin_or_a_file(hk: Hk, tmp_path: Path) -> None:
    a = add_customer(hk, "张三", "13800138000")
    path = tmp_path / "changes.jsonl"
    path.write_text(lines(line("customer.edit", a, notes="从文件")), encoding="utf-8-sig")
    ok(hk("batch", "--file", str(path)))
    assert show(hk, "customer", a)["notes"] == "从文件"
    ok(hk("batch", "--file", "-", input=lines(line("customer.edit", a, notes="从标准输入"))))
    assert show(hk, "customer", a)["notes"] == "从标准输入"
    missing = hk("batch", "--file", str(tmp_path / "none.jsonl"))
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_an_empty_value_clears_a_field(hk: Hk) -> None:
    added = ["--name", "张三", "--wechat", "zs", "--tag", "高端客户", "--birthday", "1980-03-01"]
    a = str(json.loads(ok(hk("customer", "add", *added, "--json")).stdout)["code"])
    worker = ["--name", "王秀英", "--gender", "女", "--birth-year", "1976", "--experience", "8"]
    w = str(json.loads(ok(hk("worker", "add", *worker, "--json")).stdout)["code"])
    ok(
        hk(
            "batch",
            input=lines(
                line("customer.edit", a, wechat="", tag=[], birthday=""),
                line("worker.edit", w, birth_year="", experience=""),
            ),
        )
    )
    shown = show(hk, "customer", a)
    assert [shown.get(key) for key in ("wechat", "tags", "birthday")] == [None, None, None]
    assert shown["name"] == "张三"
    cleared = show(hk, "worker", w)
    assert (cleared.get("birth_year"), cleared["experience_years"]) == (None, 0)


def test_null_is_refused_and_a_number_is_not_text(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    w = str(
        json.loads(ok(hk("worker", "add", "--name", "王秀英", "--gender", "女", "--json")).stdout)[
            "code"
        ]
    )
    result = hk(
        "batch",
        input=lines(line("customer.edit", a, tag=None), line("worker.edit", w, birth_year="1976")),
    )
    assert result.exit_code == 1
    assert "line 1: error: tag: null is not a value here" in result.output
    assert "line 2: error: birth_year: a whole number" in result.output
    assert show(hk, "customer", a).get("tags") is None


def run_batch(hk: Hk, text: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``hk batch`` as a real process reading ``text`` on stdin."""
    return subprocess.run(
        [HK_BIN, "--archive", str(hk.root), "batch"],
        input=text,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_a_real_process_reads_stdin_and_a_held_lock_exits_3(hk: Hk) -> None:
    a = add_customer(hk, "张三", "13800138000")
    run = run_batch(hk, lines(line("customer.edit", a, notes="进程")))
    assert (run.returncode, run.stdout) == (0, "applied 1 line in one commit\n")
    with archive_lock(Archive(hk.root).hk_dir / "lock"):
        held = run_batch(hk, lines(line("customer.edit", a, notes="锁")), HK_LOCK_TIMEOUT="0.2")
    assert held.returncode == 3 and "another hk process" in held.stderr
    assert show(hk, "customer", a)["notes"] == "进程"


def test_worker_edits_use_the_worker_options(hk: Hk) -> None:
    added = json.loads(
        ok(hk("worker", "add", "--name", "王秀英", "--gender", "女", "--json")).stdout
    )
    code = added["code"]
    ok(
        hk(
            "batch",
            input=lines(
                line("worker.edit", code, skill=["育儿:5"], available=["mon-fri 08:00-18:00"]),
                line("worker.edit", code, community="万科城", experience=6),
            ),
        )
    )
    shown = show(hk, "worker", code)
    assert shown["skills"] == [{"name": "育儿", "level": 5}]
    assert shown["availability"]["mon"] == ["08:00-18:00"]
    assert (shown["home"]["community"], shown["experience_years"]) == ("万科城", 6)


def test_the_service_returns_a_report_and_prints_nothing(
    archive: Archive, capsys: Any, hk: Hk
) -> None:
    a = add_customer(hk, "张三", "13800138000")
    report = apply_batch(archive, [line("customer.edit", a, notes="服务层")])
    assert report.commit is not None and report.applied == 1 and not report.bad
    assert capsys.readouterr().out == ""


def test_the_help_documents_the_line_format(hk: Hk) -> None:
    text = ok(hk("batch", "--help")).stdout
    assert '"op": "customer.edit"' in text and "--keep-going" in text and "--file" in text
