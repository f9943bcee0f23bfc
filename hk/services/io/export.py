"""Export all customers or workers as a table: CSV (for Excel), XLSX or JSON.

The columns and headers are the import's (:mod:`hk.services.io.tabular`), so an export imports
again. Records come from the index (each row holds the record's data as JSON), which is fast
and never stale. The table is the spreadsheet view of a record: the first address only, no
household or history; the archive itself, under git, remains the complete copy.

Sensitive values are exported masked (ID numbers as ``5101**********1234``, other sensitive
text as ``******``) unless revealed on purpose; without the key they read ``[locked]``. Text a
spreadsheet would run as a formula gets a leading ``'`` in CSV and XLSX.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from hk.domain.fields import Sealed, format_phone, mask_id_number
from hk.domain.layout import kind_of
from hk.errors import UsageError
from hk.services.io.tabular import COLUMNS, KINDS, SEALED_KEYS, Column, escape_formula
from hk.store.archive import Archive

FORMATS = ("csv", "xlsx", "json")
LOCKED = "[locked]"
HIDDEN = "******"
STATUS_ZH = {"available": "可接单", "placed": "长期在岗", "inactive": "停用"}
SHEET_TITLES = {"customer": "客户", "worker": "阿姨"}
_LIST_JOIN = "、"
_PHONE_JOIN = " / "


@dataclass
class Export:
    """The table: headers and one dict per record (values are lists where a cell holds many)."""

    kind: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    """files that could not be read and are therefore not in the export"""

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def build_export(archive: Archive, kind: str, reveal: bool = False) -> Export:
    """Every record of ``kind`` as table rows, oldest first (the order they were added)."""
    if kind not in KINDS:
        raise UsageError(f"cannot export {kind}; hk exports customers and workers")
    if reveal and not archive.keyring.available():
        from hk.store.crypto import KeyMissing

        raise KeyMissing(
            "--reveal needs the master key, which is not on this machine",
            hint="export without --reveal (sensitive values masked), or restore the key",
        )
    broken = archive.index.refresh([kind_of(kind)]).broken
    columns = [c for c in COLUMNS[kind] if c.exported]
    export = Export(kind=kind, columns=columns, broken=broken)
    rows = sorted(archive.index.list(kind_of(kind)), key=lambda r: r["id"])
    to_row = _customer_row if kind == "customer" else _worker_row
    for row in rows:
        data = orjson.loads(row["data"])
        values = to_row(data)
        values["code"] = row["code"] or ""
        for key in SEALED_KEYS:
            if data.get(key):
                values[key] = _sensitive(archive, row["id"], key, data[key], reveal)
        export.rows.append(values)
    return export


def _address(data: dict[str, Any] | None) -> dict[str, Any]:
    data = data or {}
    return {k: data.get(k, "") for k in ("city", "district", "community", "detail")}


def _customer_row(data: dict[str, Any]) -> dict[str, Any]:
    addresses = data.get("addresses") or [{}]
    out = {
        k: data.get(k, "")
        for k in ("name", "wechat", "category", "channel", "tier", "birthday", "notes")
    }
    out.update(_address(addresses[0]))
    out["access_notes"] = addresses[0].get("access_notes", "")
    out["phones"] = list(data.get("phones", []))
    out["tags"] = list(data.get("tags", []))
    out["taboos"] = list(data.get("taboos", []))
    return out


def _worker_row(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data.get(k, "") for k in ("name", "gender", "native_place", "wechat", "notes")}
    out["birth_year"] = data.get("birth_year")
    out["experience_years"] = data.get("experience_years", 0)
    out["status"] = STATUS_ZH.get(data.get("status", "available"), data.get("status", ""))
    out["phones"] = [data["phone"]] if data.get("phone") else []
    out["dialects"] = list(data.get("dialects", []))
    out["skills"] = [_skill(s) for s in data.get("skills", [])]
    out["certificates"] = [_certificate(c) for c in data.get("certificates", [])]
    out.update(_address(data.get("home")))
    return out


def _skill(skill: dict[str, Any]) -> str:
    """The form the import reads back: 保洁 · 保洁:3 · 烹饪:4:川菜/粤菜."""
    text = skill["name"]
    level, cuisines = skill.get("level", 1), skill.get("cuisines", [])
    if level != 1 or cuisines:
        text += f":{level}"
    if cuisines:
        text += ":" + "/".join(cuisines)
    return str(text)


def _certificate(cert: dict[str, Any]) -> str:
    parts = [cert["kind"], cert.get("number", ""), cert.get("expires", "")]
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return ":".join(str(p) for p in parts)


def _sensitive(archive: Archive, record_id: str, key: str, token: str, reveal: bool) -> str:
    keyring = archive.keyring
    plain = keyring.try_unseal(record_id, Sealed(token=token)) if keyring.available() else None
    if plain is None:  # no key here, or the person was erased: nobody can read it
        return LOCKED
    if reveal:
        return plain
    return mask_id_number(plain) if key == "id_number" else HIDDEN


# --- writing ----------------------------------------------------------------------------------


def _cell(column: Column, value: Any) -> str:
    """A value as spreadsheet text (phones as people write them), escaped against formulas."""
    if value is None:
        return ""
    if isinstance(value, list):
        if column.key == "phones":
            text = _PHONE_JOIN.join(format_phone(p) for p in value)
        else:
            text = _LIST_JOIN.join(str(v) for v in value)
    else:
        text = str(value)
    return escape_formula(text)


def table_cells(export: Export) -> list[list[str]]:
    """The rows as spreadsheet text, headers first."""
    cols = export.columns
    return [export.headers] + [[_cell(c, row.get(c.key)) for c in cols] for row in export.rows]


def write_csv(export: Export, stream: IO[bytes]) -> None:
    """UTF-8 with a BOM and CRLF line ends: Excel in China opens it with Chinese intact."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(table_cells(export))
    stream.write(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


def write_json(export: Export, stream: IO[bytes]) -> None:
    """A list of objects keyed by the same headers; phones in E.164, lists as lists."""
    items = []
    for row in export.rows:
        item: dict[str, Any] = {}
        for col in export.columns:
            value = row.get(col.key)
            item[col.header] = value if value is not None else ("" if not col.multi else [])
        items.append(item)
    stream.write(orjson.dumps(items, option=orjson.OPT_INDENT_2) + b"\n")


def write_xlsx(export: Export, stream: IO[bytes]) -> None:
    """One sheet, header row frozen, every cell text (ID numbers and phones stay exact)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLES[export.kind])
    ws.freeze_panes = "A2"
    widths = {
        "name": 10,
        "phones": 16,
        "detail": 28,
        "notes": 30,
        "id_number": 20,
        "skills": 20,
        "community": 14,
        "tags": 16,
    }
    from hk.services.io.tabular import column_letter

    for i, col in enumerate(export.columns):
        ws.column_dimensions[column_letter(i)].width = widths.get(col.key, 10)
    for cells in table_cells(export):
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in cells])
    wb.save(stream)


def write_export(export: Export, fmt: str, out: Path | None, stdout: IO[bytes]) -> None:
    """Write ``export`` as ``fmt`` to the file ``out`` or, given none or ``-``, to ``stdout``
    (as :func:`hk.store.output.write_output` says: a file replaced atomically, a device
    written in place, a link refused, xlsx never on a terminal)."""
    from hk.store.output import STDOUT, write_output

    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'; use csv, xlsx or json")
    writer = {"csv": write_csv, "json": write_json, "xlsx": write_xlsx}[fmt]
    buf = io.BytesIO()
    writer(export, buf)
    binary = "xlsx" if fmt == "xlsx" else None
    write_output(STDOUT if out is None else out, buf.getvalue(), stdout=stdout, binary=binary)


def format_for(fmt: str | None, out: Path | None) -> str:
    """The format asked for, else the one ``--out``'s suffix names, else CSV."""
    if fmt:
        return fmt.lower()
    if out is not None and out.suffix.lower().lstrip(".") in FORMATS:
        return out.suffix.lower().lstrip(".")
    return "csv"
