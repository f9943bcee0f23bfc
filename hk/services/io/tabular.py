"""Spreadsheet tables of customers and workers: the columns hk knows, and reading a table file.

A company moving to hk brings the Excel sheet it kept until now, with whatever headers someone
typed years ago (姓名, 客户姓名, 手机号 …). Columns are recognised by synonyms after normalising
width, case and spacing; a column hk does not know is reported, never silently dropped.
Import (:mod:`hk.services.io.importing`) and export (:mod:`hk.services.io.export`) use
the same canonical headers, so an exported file imports again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hk.errors import HkError

KINDS = ("customer", "worker")
PLURALS = {"customer": "customers", "worker": "workers"}
IMPORT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".json")
SEALED_KEYS = ("id_number", "health_notes", "children_details")
"""Columns holding sensitive values: encrypted in the archive, masked in an export."""
HEADER_SEARCH_ROWS = 10
"""A sheet may have a title or a note above its header row; the header is looked for this far."""


class BadFile(HkError):
    """The file as a whole cannot be imported: unreadable, wrong format, no name column."""


@dataclass(frozen=True)
class Column:
    """One column of the table: the field it feeds, its export header and its other names."""

    key: str
    header: str
    synonyms: tuple[str, ...] = ()
    multi: bool = False
    """The cell holds several values (phones, tags, skills …)."""
    exported: bool = True
    """False for columns only read on import (a worker's 年龄 becomes the birth year)."""


_ADDRESS = (
    Column("city", "城市", ("所在城市", "city")),
    Column("district", "区", ("区县", "行政区", "所在区", "区域", "district")),
    Column("community", "小区", ("社区", "小区名称", "小区名", "楼盘", "community")),
    Column("detail", "地址", ("详细地址", "住址", "家庭住址", "服务地址", "门牌", "address")),
)

CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("code", "编号", ("客户编号", "code")),
    Column("name", "姓名", ("客户姓名", "名字", "客户名", "客户名称", "name")),
    Column(
        "phones",
        "电话",
        (
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "联系方式",
            "phone",
            "phones",
            "mobile",
            "tel",
        ),
        multi=True,
    ),
    Column("wechat", "微信", ("微信号", "wechat")),
    *_ADDRESS,
    Column("access_notes", "入户须知", ("门禁", "入户说明", "access_notes")),
    Column("category", "服务类型", ("类别", "客户类型", "客户类别", "服务类别", "category")),
    Column("channel", "来源", ("渠道", "获客渠道", "客户来源", "来源渠道", "channel", "source")),
    Column("tags", "标签", ("客户标签", "tags", "tag"), multi=True),
    Column("tier", "会员等级", ("等级", "会员", "会员级别", "tier")),
    Column("birthday", "生日", ("出生日期", "birthday")),
    Column("id_number", "身份证号", ("身份证", "身份证号码", "证件号", "证件号码", "id_number")),
    Column(
        "health_notes",
        "健康状况",
        ("健康", "健康情况", "过敏", "过敏史", "病史", "健康/过敏", "health", "health_notes"),
    ),
    Column("children_details", "孩子情况", ("儿童情况", "孩子", "children", "children_details")),
    Column("taboos", "服务禁忌", ("禁忌", "taboos"), multi=True),
    Column("notes", "备注", ("说明", "notes", "note", "remark", "remarks")),
)

WORKER_COLUMNS: tuple[Column, ...] = (
    Column("code", "编号", ("阿姨编号", "员工编号", "工号", "code")),
    Column("name", "姓名", ("阿姨姓名", "员工姓名", "名字", "name")),
    Column("gender", "性别", ("gender", "sex")),
    Column("birth_year", "出生年份", ("出生年", "出生日期", "出生年月", "birth_year")),
    Column("age", "年龄", ("age",), exported=False),
    Column("native_place", "籍贯", ("老家", "家乡", "native_place")),
    Column("dialects", "方言", ("会说方言", "dialects", "dialect"), multi=True),
    Column(
        "phones",
        "电话",
        (
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "联系方式",
            "phone",
            "mobile",
            "tel",
        ),
        multi=True,
    ),
    Column("wechat", "微信", ("微信号", "wechat")),
    Column("id_number", "身份证号", ("身份证", "身份证号码", "证件号", "证件号码", "id_number")),
    Column("skills", "技能", ("特长", "工种", "服务技能", "skills", "skill"), multi=True),
    Column("certificates", "证书", ("资格证书", "证书名称", "certificates"), multi=True),
    Column(
        "experience_years",
        "工作年限",
        ("从业年限", "工龄", "经验", "从业经验", "工作经验", "experience_years", "experience"),
    ),
    Column("status", "状态", ("工作状态", "status")),
    *_ADDRESS,
    Column("notes", "备注", ("说明", "notes", "note", "remark", "remarks")),
)

COLUMNS: dict[str, tuple[Column, ...]] = {"customer": CUSTOMER_COLUMNS, "worker": WORKER_COLUMNS}
REQUIRED: dict[str, tuple[str, ...]] = {"customer": ("name",), "worker": ("name", "gender")}

_SPACES = re.compile(r"[\s_\-]+")
_BRACKETED = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")


def normalize_header(text: object) -> str:
    """Compare headers ignoring width (ＮＡＭＥ, （ ）), case, spaces, ``_ -``, ``*`` and ``:``."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return _SPACES.sub("", s).strip("*:：")


def _lookup(kind: str) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in COLUMNS[kind]:
        for name in (col.header, col.key, *col.synonyms):
            table.setdefault(normalize_header(name), col)
    return table


_LOOKUPS = {kind: _lookup(kind) for kind in KINDS}


def match_header(kind: str, text: object) -> Column | None:
    """The column a header names, also when it carries a note in brackets (电话（必填）)."""
    key = normalize_header(text)
    if not key:
        return None
    found = _LOOKUPS[kind].get(key)
    if found is None:
        stripped = normalize_header(_BRACKETED.sub("", unicodedata.normalize("NFKC", str(text))))
        found = _LOOKUPS[kind].get(stripped) if stripped else None
    return found


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names the column."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class HeaderMap:
    """Which position of a row feeds which column, as found in one file's header row."""

    columns: dict[int, Column] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    """column key → the header as the file spells it (for messages in the user's words)"""
    unknown: list[tuple[int, str]] = field(default_factory=list)


def map_headers(kind: str, cells: list[Any], unit: str = "column") -> HeaderMap:
    """Match a header row; two columns for one single-valued field make the file ambiguous."""
    hmap = HeaderMap()
    first_pos: dict[str, int] = {}
    for pos, cell in enumerate(cells):
        text = cell_text(cell)
        if not text:
            continue
        col = match_header(kind, text)
        if col is None:
            hmap.unknown.append((pos, text))
            continue
        if col.key in first_pos and not col.multi:
            other = first_pos[col.key]
            raise BadFile(
                f"{_where(unit, other)} '{hmap.headers[col.key]}' and {_where(unit, pos)} "
                f"'{text}' both mean {col.header}",
                hint="rename or remove one of them",
            )
        first_pos.setdefault(col.key, pos)
        hmap.headers.setdefault(col.key, text)
        hmap.columns[pos] = col
    return hmap


def _where(unit: str, pos: int) -> str:
    return f"column {column_letter(pos)}" if unit == "column" else "key"


# --- cells ------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading ``'`` (CSV/XLSX injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula`, so a file hk exported imports with its original values."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates as ISO, everything trimmed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(cell_text(v) for v in value)
    return str(value).strip()


# --- reading files ----------------------------------------------------------------------------


@dataclass
class Table:
    """The rows of one file, each with its number as the user sees it (header = row 1)."""

    header_row: int
    header: list[Any]
    rows: list[tuple[int, list[Any]]]
    unit: str = "row"
    """``row`` for sheets; ``item`` for JSON, where the n-th object is item n"""
    notes: list[str] = field(default_factory=list)


def read_table(path: Path, kind: str) -> Table:
    """Read a .csv/.xlsx/.json file and find its header row; :class:`BadFile` if impossible."""
    suffix = path.suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        hint = (
            "save it as .xlsx (Excel: 文件 → 另存为 → Excel 工作簿)"
            if suffix == ".xls"
            else ("hk reads .csv, .xlsx and .json files")
        )
        raise BadFile(f"{path.name}: cannot import a '{suffix or 'no extension'}' file", hint=hint)
    try:
        if suffix == ".json":
            return _read_json(path, kind)
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path, kind)
        return _read_csv(path, kind)
    except FileNotFoundError:
        raise BadFile(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadFile(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise BadFile(f"{path}: permission denied") from None


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 as Excel in China writes."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise BadFile(
            f"{name}: the text is neither UTF-8 nor GB18030 (byte {exc.start})",
            hint="save it again as 'CSV UTF-8' or as .xlsx",
        ) from None


def _read_csv(path: Path, kind: str) -> Table:
    text = decode_text(path.read_bytes(), path.name)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;，", key=first.count) if first else ","
    if delimiter == "，" or not first.count(delimiter):
        delimiter = ","
    try:
        rows = list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1))
    except csv.Error as exc:
        raise BadFile(f"{path.name}: not a readable CSV file ({exc})") from None
    return _with_header(path.name, kind, [(n, _unescaped(r)) for n, r in rows])


def _unescaped(cells: Any) -> list[Any]:
    """A sheet's cells with hk's own formula escaping undone (JSON is never escaped)."""
    return [unescape_formula(v) if isinstance(v, str) and v[:1] == "'" else v for v in cells]


def _read_xlsx(path: Path, kind: str) -> Table:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise FileNotFoundError(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise BadFile(
            f"{path.name}: not a readable .xlsx file ({exc})",
            hint="open it in Excel or WPS and save it again as .xlsx",
        ) from None
    try:
        sheets = [wb.active, *(ws for ws in wb.worksheets if ws is not wb.active)]
        first_error: BadFile | None = None
        for ws in sheets:
            if ws is None or not hasattr(ws, "iter_rows"):
                continue
            ws.reset_dimensions()  # a stale dimension tag must not cut rows off
            rows = [(n, _unescaped(r)) for n, r in enumerate(ws.iter_rows(values_only=True), 1)]
            try:
                table = _with_header(path.name, kind, rows)
            except BadFile as exc:
                first_error = first_error or exc
                continue
            if len(wb.worksheets) > 1:
                table.notes.append(
                    f"read sheet '{ws.title}' only; the workbook has {len(wb.worksheets)} sheets"
                )
            return table
        raise first_error or BadFile(f"{path.name}: the workbook has no sheet")
    finally:
        wb.close()


def _read_json(path: Path, kind: str) -> Table:
    import orjson

    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise BadFile(f"{path.name}: not valid JSON ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise BadFile(
            f"{path.name}: expected a list of objects, one per {kind}",
            hint=f"as `hk export {PLURALS[kind]} --format json` writes it",
        )
    keys: list[str] = []
    for item in data:
        keys += [k for k in item if k not in keys]
    hmap = map_headers(kind, list(keys), unit="key")
    _require_columns(path.name, kind, hmap)
    rows = [(n, [item.get(k) for k in keys]) for n, item in enumerate(data, 1)]
    return Table(header_row=0, header=list(keys), rows=rows, unit="item")


def _with_header(name: str, kind: str, rows: list[tuple[int, list[Any]]]) -> Table:
    """Find the header row (the first of the top rows that names the name column)."""
    for i, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any((c := match_header(kind, cell_text(v))) and c.key == "name" for v in cells):
            hmap = map_headers(kind, cells)
            _require_columns(name, kind, hmap)
            return Table(header_row=number, header=cells, rows=rows[i + 1 :])
    if not any(any(cell_text(v) for v in cells) for _, cells in rows):
        raise BadFile(f"{name}: the file is empty")
    raise BadFile(
        f"{name}: no header row with a name column (姓名) in the first {HEADER_SEARCH_ROWS} rows",
        hint="the first row should hold the column titles, e.g. 姓名, 电话, 小区, 备注",
    )


def _require_columns(name: str, kind: str, hmap: HeaderMap) -> None:
    by_key = {c.key: c for c in COLUMNS[kind]}
    missing = [by_key[k].header for k in REQUIRED[kind] if k not in hmap.headers]
    if missing:
        raise BadFile(
            f"{name}: no {' or '.join(missing)} column; every {kind} needs one",
            hint="add the column (for workers: 性别 is 女 or 男)",
        )
