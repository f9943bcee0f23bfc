"""One spreadsheet row to a record's fields: splitting cells, dates, skills, statuses.

The sheets people kept by hand say the same thing many ways (保洁,烹饪 · 保洁、烹饪;
1980/3/1 · 1980年3月1日; 可接单 · 空闲), so the parsing lives here, apart from the import's
bookkeeping in :mod:`hk.services.io.importing`. Nothing here is validated against the
models yet; a cell that cannot be read at all becomes a problem in the user's words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from hk.services.io.tabular import SEALED_KEYS, cell_text


class CellError(ValueError):
    """A cell that cannot be turned into a field value; the message is for the user."""


# --- cell parsers -------------------------------------------------------------------------------

_LIST_SEP = re.compile(r"[,，、;；\n]+")
_LIST_SEP_SPACE = re.compile(r"[,，、;；\s]+")
_PHONE_SEP = re.compile(r"[/,，、;；\n]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+\d+")
"""How Excel saves a long number it shows as 1.38001E+10: the digits are lost."""
_NOT_DIGIT = re.compile(r"\D")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_YEAR = re.compile(r"(\d{4})\s*年?")
_YEARS = re.compile(r"(\d+(?:\.\d+)?)\s*(年|年以上|多年|\+)?")


def split_list(values: list[Any], spaces: bool = True) -> list[str]:
    """Several values in one cell: 保洁,烹饪 · 保洁、烹饪 · 保洁 烹饪 (spaces when allowed)."""
    sep = _LIST_SEP_SPACE if spaces else _LIST_SEP
    out: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            out += [p.strip() for p in sep.split(cell_text(item)) if p.strip()]
    return out


def split_phones(values: list[Any]) -> list[str]:
    """Numbers in one cell, split by ``/ , ， 、 ;`` — and by spaces only between whole numbers.

    ``138 0013 8000`` is one number written in groups; ``13800138000 13900139000`` is two.
    A plain 11-digit mobile is put in E.164 form here, which spares the slower phone parser.
    """
    out: list[str] = []
    for chunk in split_list(values, spaces=False) if values else []:
        for part in _PHONE_SEP.split(chunk):
            tokens = part.split()
            if len(tokens) > 1 and all(len(_NOT_DIGIT.sub("", t)) >= 7 for t in tokens):
                out += tokens
            elif part.strip():
                out.append(part.strip())
    return [_fast_mobile(p) for p in out]


def _fast_mobile(text: str) -> str:
    digits = text.replace(" ", "").replace("-", "")
    return "+86" + digits if _MOBILE.fullmatch(digits) else text


def parse_date(value: Any) -> str:
    """2026-03-01, 2026/3/1, 2026.3.1, 2026年3月1日, 20260301 or a date cell → ISO text."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = cell_text(value)
    m = _DATE.fullmatch(text)
    if m is None and re.fullmatch(r"\d{8}", text):
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if m is None:
        raise CellError(f"'{text}' is not a date; write it like 1980-03-01")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise CellError(f"'{text}' is not a real date") from None


def parse_year(value: Any) -> int:
    """1975, 1975年, or a full date (the year is kept)."""
    if isinstance(value, dt.date):
        return value.year
    text = cell_text(value)
    m = _YEAR.fullmatch(text)
    if m:
        return int(m[1])
    try:
        return int(parse_date(text)[:4])
    except CellError:
        raise CellError(f"'{text}' is not a year; write it like 1975") from None


def parse_years(value: Any, what: str) -> int:
    """A count of years: 5, 5年, 5.5 (rounded down), 10年以上."""
    text = cell_text(value)
    m = _YEARS.fullmatch(text)
    if m is None:
        raise CellError(f"'{text}' is not a number of years; write it like {what}")
    return int(float(m[1]))


GENDERS = {
    "女": "女",
    "男": "男",
    "女士": "女",
    "男士": "男",
    "女性": "女",
    "男性": "男",
    "f": "女",
    "m": "男",
    "female": "女",
    "male": "男",
}
STATUSES = {
    "available": "available",
    "可接单": "available",
    "空闲": "available",
    "待岗": "available",
    "在职": "available",
    "placed": "placed",
    "长期在岗": "placed",
    "在岗": "placed",
    "上户": "placed",
    "已上户": "placed",
    "inactive": "inactive",
    "停用": "inactive",
    "离职": "inactive",
    "暂停": "inactive",
}


def parse_skill(text: str) -> dict[str, Any]:
    """``保洁`` / ``保洁:3`` / ``烹饪:4:川菜/粤菜`` → name, level 1–5, cuisines."""
    parts = [p.strip() for p in text.replace("：", ":").split(":")]
    skill: dict[str, Any] = {"name": parts[0]}
    if len(parts) > 1 and parts[1]:
        if not parts[1].isdigit():
            raise CellError(f"'{text}': the level is a number 1–5, e.g. 保洁:3")
        skill["level"] = int(parts[1])
    if len(parts) > 2 and parts[2]:
        skill["cuisines"] = [c for c in re.split(r"[/、]", parts[2]) if c]
    return skill


def parse_certificate(text: str) -> dict[str, Any]:
    """``健康证`` / ``健康证:编号`` / ``健康证:编号:2027-05-01`` (kind, number, expiry)."""
    parts = [p.strip() for p in text.replace("：", ":").split(":")]
    cert: dict[str, Any] = {"kind": parts[0]}
    if len(parts) > 1 and parts[1]:
        cert["number"] = parts[1]
    if len(parts) > 2 and parts[2]:
        cert["expires"] = parse_date(parts[2])
    return cert


# --- rows to fields -----------------------------------------------------------------------------


class RowCells:
    """The non-empty cells of one row by column key, and the problems found turning them into
    fields (all of them, so one pass over the sheet shows everything to fix)."""

    def __init__(self, cells: dict[str, list[Any]]) -> None:
        self.cells = cells
        self.errors: list[tuple[str | None, str]] = []

    def __contains__(self, key: str) -> bool:
        return key in self.cells

    def values(self, key: str) -> list[Any]:
        return self.cells.get(key, [])

    def text(self, key: str) -> str:
        values = self.cells.get(key)
        return cell_text(values[0]) if values else ""

    def parse(self, key: str, parse: Callable[[Any], Any], value: Any = None) -> Any:
        """``parse`` the cell (or ``value``); None, with the problem noted, if it fails."""
        try:
            return parse(self.cells[key][0] if value is None else value)
        except CellError as exc:
            self.errors.append((key, str(exc)))
            return None


def _address(row: RowCells, default_city: str) -> dict[str, Any] | None:
    keys = ("city", "district", "community", "detail", "access_notes")
    given = {k: row.text(k) for k in keys if row.text(k)}
    if not any(k in given for k in keys[:4]):
        return None
    given.setdefault("city", default_city)
    return given


def customer_fields(row: RowCells, default_city: str, today: dt.date) -> dict[str, Any]:
    """A customer's fields from one row (not yet validated)."""
    fields: dict[str, Any] = {}
    for key in ("name", "wechat", "category", "channel", "tier", "notes", *SEALED_KEYS):
        if row.text(key):
            fields[key] = row.text(key)
    if "phones" in row:
        fields["phones"] = split_phones(row.values("phones"))
    if "tags" in row:
        fields["tags"] = split_list(row.values("tags"))
    if "taboos" in row:
        fields["taboos"] = split_list(row.values("taboos"), spaces=False)
    if "birthday" in row:
        fields["birthday"] = row.parse("birthday", parse_date)
    address = _address(row, default_city)
    if address:
        fields["addresses"] = [address]
    return {k: v for k, v in fields.items() if v is not None}


def worker_fields(row: RowCells, default_city: str, today: dt.date) -> dict[str, Any]:
    """A worker's fields from one row (not yet validated)."""
    fields: dict[str, Any] = {}
    for key in ("name", "native_place", "wechat", "notes", "id_number"):
        if row.text(key):
            fields[key] = row.text(key)
    if "gender" in row:
        fields["gender"] = row.parse("gender", _gender)
    if "birth_year" in row:
        fields["birth_year"] = row.parse("birth_year", parse_year)
    elif "age" in row:
        age = row.parse("age", lambda v: parse_years(v, "45"))
        fields["birth_year"] = None if age is None else today.year - age
    if "phones" in row:
        phones = split_phones(row.values("phones"))
        if len(phones) > 1:
            row.errors.append(
                ("phones", f"a worker has one phone number; this cell has {len(phones)}")
            )
        elif phones:
            fields["phone"] = phones[0]
    if "dialects" in row:
        fields["dialects"] = split_list(row.values("dialects"))
    if "skills" in row:
        skills = [row.parse("skills", parse_skill, s) for s in split_list(row.values("skills"))]
        fields["skills"] = [s for s in skills if s is not None]
    if "certificates" in row:
        items = split_list(row.values("certificates"), spaces=False)
        certs = [row.parse("certificates", parse_certificate, c) for c in items]
        fields["certificates"] = [c for c in certs if c is not None]
    if "experience_years" in row:
        fields["experience_years"] = row.parse("experience_years", lambda v: parse_years(v, "5"))
    if "status" in row:
        fields["status"] = row.parse("status", _status)
    home = _address(row, default_city)
    if home:
        fields["home"] = home
    return {k: v for k, v in fields.items() if v is not None}


def _gender(value: Any) -> str:
    text = cell_text(value)
    gender = GENDERS.get(text.lower())
    if gender is None:
        raise CellError(f"'{text}' is not 女 or 男")
    return gender


def _status(value: Any) -> str:
    text = cell_text(value)
    status = STATUSES.get(text.lower())
    if status is None:
        raise CellError(f"'{text}' is not a status: 可接单, 长期在岗 or 停用")
    return status


FIELD_BUILDERS: dict[str, Callable[[RowCells, str, dt.date], dict[str, Any]]] = {
    "customer": customer_fields,
    "worker": worker_fields,
}
