"""``hk import`` and ``hk export``: moving a company's Excel sheet into hk and back out.

Real archives in temp dirs; the commands run through Typer's CliRunner on an app that mounts
the import and export sub-apps the way ``hk.cli`` does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from hk.cli import HkGroup, main
from hk.commands import io as io_cmds
from hk.services.archive import init
from hk.services.audit import Filter, entries
from hk.store.archive import Archive
from tests.conftest import Hk

VALID_ID = "11010519491231002X"
MASKED_ID = "1101**************"

CUSTOMER_HEADER = ["客户姓名", "手机号", "小区", "详细地址", "服务类型", "来源", "备注", "身份证号"]
CUSTOMER_ROWS = [
    ["张三", "138 0013 8000", "万科城", "3栋2单元501", "家庭保洁", "门店", "周末上门", VALID_ID],
    ["李四", "13900139000/028 8888 6666", "", "", "保姆", "美团", "", ""],
]


def _app() -> typer.Typer:
    app = typer.Typer(cls=HkGroup)
    app.callback()(main)
    app.add_typer(io_cmds.import_app, name="import")
    app.add_typer(io_cmds.export_app, name="export")
    return app


APP = _app()


def run(root: Path, *args: str) -> Any:
    return CliRunner().invoke(APP, ["--archive", str(root), *args], catch_exceptions=False)


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def head(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def commit_count(root: Path) -> int:
    out = subprocess.run(
        ["git", "-C", str(root), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out)


def people(root: Path, kind: str = "customer") -> list[tuple[str, list[str]]]:
    """(name, phones) of every record, from the index, sorted."""
    archive = Archive(root)
    archive.index.refresh([kind])
    out = []
    for row in archive.index.list(kind):
        data = orjson.loads(row["data"])
        phones = data.get("phones") or ([data["phone"]] if data.get("phone") else [])
        out.append((row["name"], sorted(phones)))
    return sorted(out)


# --- import -----------------------------------------------------------------------------------


def test_csv_with_chinese_headers_imports_in_one_commit(archive_path: Path, tmp_path: Path) -> None:
    before = commit_count(archive_path)
    path = write_csv(tmp_path / "客户.csv", [CUSTOMER_HEADER, *CUSTOMER_ROWS])
    result = run(archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 2 customers"
    assert commit_count(archive_path) == before + 1
    message = subprocess.run(
        ["git", "-C", str(archive_path), "log", "-1", "--format=%B"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert message.startswith("customer: import 2 records")
    assert "张三" not in message and "13800138000" not in message
    assert people(archive_path) == [
        ("张三", ["+8613800138000"]),
        ("李四", ["+8613900139000", "+862888886666"]),
    ]
    files = "".join(p.read_text() for p in (archive_path / "customers").glob("*.yaml"))
    assert "enc:v1:" in files and VALID_ID not in files


def test_gb18030_csv_as_excel_in_china_writes_it(archive_path: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [CUSTOMER_HEADER, *CUSTOMER_ROWS], encoding="gb18030")
    result = run(archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path))
    assert result.exit_code == 0, result.output
    assert [name for name, _ in people(archive_path)] == ["张三", "李四"]


def test_xlsx_rows_are_numbered_as_in_the_sheet(archive_path: Path, tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["2024年客户表"],
        ["姓名", "电话", "小区", "生日", "会员等级", "身份证号"],
        ["王五", 13800138000, "保利花园", "1980/3/1", "黄金"],
        [],
        ["赵六", "123", "", "1980年2月30日", "钻石"],
        ["钱七", "13700137000", "", "", "", 110105194912310000],
    ]
    path = write_xlsx(tmp_path / "c.xlsx", rows)
    before = head(archive_path)
    result = run(archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "row 5: 电话: '123' is not a valid phone number" in lines[0]
    assert any(line.startswith("row 5: 生日: '1980年2月30日' is not a real date") for line in lines)
    assert any(line.startswith("row 5: 会员等级: '钻石' is not one of") for line in lines)
    assert "row 6: 身份证号: Excel stored this ID-card number as a number" in lines[-2]
    assert not any(line.startswith("row 3") for line in lines)
    assert lines[-1].startswith("nothing imported: 2 of 3 rows are invalid")
    assert head(archive_path) == before
    assert people(archive_path) == []


def test_skip_invalid_imports_the_valid_rows(archive_path: Path, tmp_path: Path) -> None:
    rows = [CUSTOMER_HEADER, *CUSTOMER_ROWS, ["王五", "123", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "c.csv", rows)
    result = run(
        archive_path,
        "import",
        "customers",
        "--consent-sensitive",
        "纸质签字",
        str(path),
        "--skip-invalid",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "row 4: 手机号: '123' is not a valid phone number; mobiles have 11 digits "
        "(138 0013 8000), landlines an area code (028 8888 6666)",
        "imported 2 customers, 1 row skipped",
    ]
    assert [name for name, _ in people(archive_path)] == ["张三", "李四"]


def test_dry_run_writes_nothing(archive_path: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [CUSTOMER_HEADER, *CUSTOMER_ROWS])
    before = head(archive_path)
    result = run(
        archive_path,
        "import",
        "customers",
        "--consent-sensitive",
        "纸质签字",
        str(path),
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "dry run: 2 rows valid, nothing written"
    assert head(archive_path) == before
    assert not (archive_path / "customers").exists() or not any(
        (archive_path / "customers").iterdir()
    )


def test_duplicate_phones_in_the_file_and_in_the_archive(
    archive_path: Path, tmp_path: Path
) -> None:
    from hk.services.people import add_customer

    _, saved = add_customer(Archive(archive_path), {"name": "老客户", "phones": ["13700137000"]})
    rows = [
        ["姓名", "电话"],
        ["甲", "13800138000"],
        ["乙", "138-0013-8000"],
        ["丙", "137 0013 7000"],
        [" ", ""],
        ["丁", "13600136000"],
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    result = run(
        archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path), "--json"
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["empty_rows"] == 1 and report["rows"] == 4 and report["valid"] == 2
    assert report["problems"] == [
        {"row": 3, "column": "电话", "message": "138 0013 8000 is also in row 2"},
        {
            "row": 4,
            "column": "电话",
            "message": f"137 0013 7000 already belongs to customer {saved.code} (老客户)",
        },
    ]


def test_excel_damage_and_near_misses_are_explained(archive_path: Path, tmp_path: Path) -> None:
    rows = [
        ["姓名", "电话", "身份证号", "服务类型"],
        ["张三", "1.38001E+10", "5.10104E+17", "保洁"],
    ]
    result = run(
        archive_path,
        "import",
        "customers",
        "--consent-sensitive",
        "纸质签字",
        str(write_csv(tmp_path / "c.csv", rows)),
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:3] == [
        "row 2: 电话: '1.38001E+10': Excel saved the number in scientific notation and lost "
        "digits; format the column as text and retype it",
        "row 2: 身份证号: '5.10104E+17': Excel saved the number in scientific notation and lost "
        "digits; format the column as text and retype it",
        "row 2: 服务类型: '保洁' is not one of: 家庭保洁, 钟点工, 保姆, 育儿嫂, 月嫂, 老人陪护, "
        "家电清洗, 企业客户; did you mean 家庭保洁?",
    ]


def test_the_same_id_number_twice_in_a_file(archive_path: Path, tmp_path: Path) -> None:
    rows = [["姓名", "性别", "身份证"], ["甲", "女", VALID_ID], ["乙", "女", VALID_ID.lower()]]
    result = run(archive_path, "import", "workers", str(write_csv(tmp_path / "w.csv", rows)))
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first == "row 3: 身份证: the same ID-card number is also in row 2"


def test_unknown_columns_are_reported_not_dropped(archive_path: Path, tmp_path: Path) -> None:
    rows = [["姓名", "喜欢的颜色", "ＴＡＧＳ"], ["张三", "红", "VIP 老客户"]]
    path = write_csv(tmp_path / "c.csv", rows)
    result = run(archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path))
    assert result.exit_code == 0, result.output
    assert "warning: column B '喜欢的颜色' is not a field hk knows" in result.stderr
    archive = Archive(archive_path)
    archive.index.refresh(["customer"])
    assert orjson.loads(archive.index.list("customer")[0]["data"])["tags"] == ["VIP", "老客户"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.csv", "电话,备注\n13800138000,x\n", "no header row with a name column"),
        ("c.xls", "", "cannot import a '.xls' file"),
        ("c.xlsx", "not a zip", "not a readable .xlsx file"),
        ("missing.csv", None, "no such file"),
    ],
)
def test_a_file_that_cannot_be_imported_is_exit_1(
    archive_path: Path, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run(archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path))
    assert result.exit_code == 1
    assert message in result.stderr


def test_workers_import_with_skills_and_age(archive_path: Path, tmp_path: Path) -> None:
    rows = [
        ["姓名", "性别", "年龄", "籍贯", "手机", "技能", "工作年限", "状态"],
        ["刘阿姨", "女", "48", "四川南充", "13500135000", "保洁,烹饪:4:川菜/粤菜", "8年", "可接单"],
        ["陈师傅", "男士", "", "", "", "家电清洗", "", "长期在岗"],
        ["周阿姨", "不详", "", "", "", "保洁:九", "", "休假"],
    ]
    path = write_csv(tmp_path / "w.csv", rows)
    result = run(archive_path, "import", "workers", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "row 4: 性别: '不详' is not 女 or 男",
        "row 4: 技能: '保洁:九': the level is a number 1–5, e.g. 保洁:3",
        "row 4: 状态: '休假' is not a status: 可接单, 长期在岗 or 停用",
    ]
    archive = Archive(archive_path)
    archive.index.refresh(["worker"])
    liu = next(
        orjson.loads(r["data"]) for r in archive.index.list("worker") if r["name"] == "刘阿姨"
    )
    assert liu["skills"] == [
        {"name": "保洁", "level": 1},
        {"name": "烹饪", "level": 4, "cuisines": ["川菜", "粤菜"]},
    ]
    assert liu["experience_years"] == 8 and liu["phone"] == "+8613500135000"
    assert liu["birth_year"] == dt.date.today().year - 48 and liu["status"] == "available"


# --- export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_imports_again_with_the_same_names_and_phones(
    archive_path: Path, tmp_path: Path, fmt: str
) -> None:
    path = write_csv(tmp_path / "c.csv", [CUSTOMER_HEADER, *CUSTOMER_ROWS])
    assert (
        run(
            archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path)
        ).exit_code
        == 0
    )
    out = tmp_path / f"export.{fmt}"
    result = run(archive_path, "export", "customers", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"exported 2 customers to {out}"
    fresh = tmp_path / "fresh"
    init(fresh)
    again = run(fresh, "import", "customers", "--consent-sensitive", "纸质签字", str(out))
    assert again.exit_code == 0, again.output
    assert "'编号' was not imported" in again.stderr
    assert "1 masked or locked values were left out" in again.stderr
    assert people(fresh) == people(archive_path)


def test_workers_export_round_trip(archive_path: Path, tmp_path: Path) -> None:
    rows = [
        ["姓名", "性别", "出生年份", "电话", "技能", "证书"],
        ["刘阿姨", "女", "1976", "13500135000", "烹饪:4:川菜", "健康证:A001:2027-05-01"],
    ]
    assert (
        run(archive_path, "import", "workers", str(write_csv(tmp_path / "w.csv", rows))).exit_code
        == 0
    )
    out = tmp_path / "w.xlsx"
    assert run(archive_path, "export", "workers", "-o", str(out)).exit_code == 0
    fresh = tmp_path / "fresh"
    init(fresh)
    assert run(fresh, "import", "workers", str(out)).exit_code == 0
    archive = Archive(fresh)
    archive.index.refresh(["worker"])
    data = orjson.loads(archive.index.list("worker")[0]["data"])
    assert data["skills"] == [{"name": "烹饪", "level": 4, "cuisines": ["川菜"]}]
    assert data["certificates"] == [{"kind": "健康证", "number": "A001", "expires": "2027-05-01"}]
    assert data["birth_year"] == 1976


def test_formula_cells_are_escaped_in_csv_and_xlsx_not_json(
    archive_path: Path, tmp_path: Path
) -> None:
    rows = [["姓名", "备注", "微信"], ['=HYPERLINK("x")', "@SUM(A1)", "-2+3"]]
    assert (
        run(
            archive_path,
            "import",
            "customers",
            "--consent-sensitive",
            "纸质签字",
            str(write_csv(tmp_path / "c.csv", rows)),
        ).exit_code
        == 0
    )
    result = run(archive_path, "export", "customers", "--format", "csv")
    assert result.exit_code == 0
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:2] == ["编号", "姓名"]
    record = dict(zip(table[0], table[1], strict=True))
    assert record["姓名"] == '\'=HYPERLINK("x")'
    assert record["备注"] == "'@SUM(A1)" and record["微信"] == "'-2+3"

    out = tmp_path / "c.xlsx"
    assert run(archive_path, "export", "customers", "--out", str(out)).exit_code == 0
    ws = load_workbook(out).active
    assert ws is not None
    assert ws["B2"].value == '\'=HYPERLINK("x")' and ws["B2"].data_type == "s"

    items = json.loads(run(archive_path, "export", "customers", "--format", "json").stdout)
    assert items[0]["姓名"] == '=HYPERLINK("x")' and items[0]["备注"] == "@SUM(A1)"


def test_id_numbers_are_masked_unless_revealed(archive_path: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [CUSTOMER_HEADER, *CUSTOMER_ROWS])
    assert (
        run(
            archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path)
        ).exit_code
        == 0
    )
    masked = run(archive_path, "export", "customers", "-f", "json")
    assert MASKED_ID in masked.stdout and VALID_ID not in masked.stdout
    refused = run(archive_path, "export", "customers", "-f", "csv", "--reveal")
    assert refused.exit_code == 1 and "--reason" in refused.output
    assert VALID_ID not in refused.stdout
    revealed = run(
        archive_path, "export", "customers", "-f", "csv", "--reveal", "--reason", "交接给新店长"
    )
    assert VALID_ID in revealed.stdout
    masked_entry, revealed_entry = entries(Archive(archive_path), Filter(action="export"))
    assert (masked_entry.channel, masked_entry.to, masked_entry.count) == ("json", "stdout", 2)
    assert "id_number (masked)" in masked_entry.fields and "name" in masked_entry.fields
    assert revealed_entry.reason == "交接给新店长" and "id_number" in revealed_entry.fields
    assert VALID_ID not in revealed_entry.model_dump_json()


def test_xlsx_export_goes_to_stdout_only_when_it_is_not_a_terminal(archive_path: Path) -> None:
    result = run(archive_path, "export", "customers", "--format", "xlsx")  # stdout: a pipe
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"PK")  # a zip: the workbook itself
    # On a terminal it is refused: tests/test_hardening.py runs it in a pseudo-terminal.


def test_sensitive_values_without_a_consent_are_refused(archive_path: Path, tmp_path: Path) -> None:
    rows = [
        ["姓名", "电话", "身份证号"],
        ["甲", "13800138000", VALID_ID],
        ["乙", "13800138001", ""],
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    result = run(archive_path, "import", "customers", str(path))
    assert result.exit_code == 1
    assert "row 2: 身份证号: sensitive data needs the customer's recorded consent" in result.output
    assert "--consent-sensitive" in result.output
    imported = run(
        archive_path, "import", "customers", "--consent-sensitive", "纸质签字", str(path)
    )
    assert imported.exit_code == 0, imported.output
    hk = Hk(archive_path)
    listed = json.loads(hk("customer", "list", "--json").output)
    first = next(c for c in listed if c["name"] == "甲")
    consents = json.loads(hk("consent", "list", first["code"], "--json").output)
    assert [(c["purpose"], c["method"]) for c in consents] == [("敏感个人信息处理", "纸质签字")]
    second = next(c for c in listed if c["name"] == "乙")
    assert json.loads(hk("consent", "list", second["code"], "--json").output) == []
