"""Export all customers or workers as a table: CSV (for Excel), XLSX or JSON.

The columns and headers are the import's (:mod:`hk.services.io.tabular`), so an export imports
again. Records come from the index (each row holds the record's data as JSON), which is fast
and never stale. The table is the spreadsheet view of a record: the first address only, no
household or history; the archive itself, under git, remains the complete copy.

Sensitive values are exported masked (ID numbers as ``5101**************``, other sensitive
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
from hk.services.io.tabular import COLUMNS, KINDS, PLURALS, SEALED_KEYS, Column, escape_formula
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
    """Every record of ``kind`` as table rows, oldest first (the order they were added).

    Erased people are left out: their tombstones hold nothing to export (PIPL Art. 47)."""
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
        if data.get("erased"):
            continue
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


# --- business records: orders, visits, complaints, surveys ---------------------------------------

RECORD_KINDS = ("order", "visit", "complaint", "survey")
RECORD_PLURALS = {
    "order": "orders",
    "visit": "visits",
    "complaint": "complaints",
    "survey": "surveys",
}
SHEET_TITLES.update({"order": "订单", "visit": "回访", "complaint": "投诉", "survey": "满意度调查"})
PLURALS_ALL = {**PLURALS, **RECORD_PLURALS}
RECORD_COLUMNS: dict[str, list[Column]] = {
    "order": [
        Column("code", "编号"),
        Column("day", "预约日期"),
        Column("time", "开始时间"),
        Column("status", "状态"),
        Column("customer", "客户"),
        Column("services", "服务项目", multi=True),
        Column("district", "区"),
        Column("community", "小区"),
        Column("channel", "渠道"),
        Column("workers", "阿姨", multi=True),
        Column("total", "金额(元)"),
        Column("discount", "整单优惠(元)"),
        Column("received", "已收(元)"),
        Column("refunded", "退款(元)"),
        Column("cancellation_fee", "取消费(元)"),
        Column("overall", "总体评分"),
    ],
    "visit": [
        Column("code", "编号"),
        Column("due", "到期日"),
        Column("status", "状态"),
        Column("type", "类型"),
        Column("customer", "客户"),
        Column("worker", "阿姨"),
        Column("method", "方式"),
        Column("done_at", "完成时间"),
        Column("done_by", "经办"),
        Column("outcome", "结果"),
    ],
    "complaint": [
        Column("code", "编号"),
        Column("received_at", "收到时间"),
        Column("status", "状态"),
        Column("category", "类别"),
        Column("severity", "严重程度"),
        Column("customer", "客户"),
        Column("worker", "阿姨"),
        Column("response_due", "回复期限"),
        Column("resolution", "处理结果"),
        Column("compensation", "赔偿(元)"),
    ],
    "survey": [
        Column("code", "编号"),
        Column("at", "时间"),
        Column("customer", "客户"),
        Column("workers", "阿姨", multi=True),
        Column("services", "服务项目", multi=True),
        Column("quality", "服务质量"),
        Column("attitude", "服务态度"),
        Column("hygiene", "卫生"),
        Column("punctuality", "准时"),
        Column("overall", "总体"),
        Column("nps", "推荐意愿(NPS)"),
        Column("channel", "来源"),
        Column("comment", "评价"),
    ],
}
"""The columns of each business record's export: what an owner's spreadsheet of it holds."""


def build_record_export(
    archive: Archive, kind: str, day_from: str | None = None, day_to: str | None = None
) -> Export:
    """The orders (by appointment day), visits (by due day), complaints (by day received) or
    survey responses (by day answered) of a period, oldest first, names instead of IDs."""
    from hk.services.lookup import Names

    if kind not in RECORD_KINDS:
        raise UsageError(f"cannot export {kind}; hk exports {', '.join(PLURALS_ALL.values())}")
    broken = archive.index.refresh([kind_of(kind)]).broken
    export = Export(kind=kind, columns=RECORD_COLUMNS[kind], broken=broken)
    names = Names(archive.index)
    labels = _labels(kind)
    rows = archive.index.list(kind_of(kind), day_from=day_from, day_to=day_to)
    for row in sorted(rows, key=lambda r: (r["day"], r["id"])):
        data = orjson.loads(row["data"])
        values = _RECORD_ROWS[kind](data, names, labels)
        values["code"] = row["code"] or ""
        export.rows.append(values)
    return export


def _yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, rest = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{rest:02d}"


def _when(stamp: str | None) -> str:
    """``2025-03-17 18:00`` from an ISO timestamp (in the record's own offset)."""
    return stamp[:16].replace("T", " ") if stamp else ""


def _labels(kind: str) -> dict[str, dict[str, str]]:
    """Chinese names of the codes a record's columns hold."""
    if kind == "order":
        from hk.domain.order.model import CHANNEL_ZH
        from hk.domain.order.status import STATUS_ZH

        return {"status": STATUS_ZH, "channel": CHANNEL_ZH}
    if kind == "visit":
        from hk.domain.visit.model import METHOD_ZH, STATUS_ZH, TYPE_ZH

        return {"status": STATUS_ZH, "type": TYPE_ZH, "method": METHOD_ZH}
    if kind == "complaint":
        from hk.domain.complaint import CATEGORY_ZH, SEVERITY_ZH, STATUS_ZH

        return {"status": STATUS_ZH, "category": CATEGORY_ZH, "severity": SEVERITY_ZH}
    from hk.domain.survey import CHANNEL_ZH

    return {"channel": CHANNEL_ZH}


def _named(labels: dict[str, dict[str, str]], key: str, value: str | None) -> str:
    return labels[key].get(value or "", value or "")


def _order_row(
    data: dict[str, Any], names: Any, labels: dict[str, dict[str, str]]
) -> dict[str, Any]:
    payments = data.get("payments") or []

    def paid(*kinds: str) -> int:
        return sum(int(p["amount_fen"]) for p in payments if p["kind"] in kinds)

    address = data.get("address") or {}
    start = data["window"]["start"]
    rating = data.get("rating") or {}
    return {
        "day": start[:10],
        "time": start[11:16],
        "status": _named(labels, "status", data.get("status")),
        "customer": names(data["customer"]),
        "services": [
            f"{line.get('name') or line['service']}×{line['quantity']}" for line in data["lines"]
        ],
        "district": address.get("district", ""),
        "community": address.get("community", ""),
        "channel": _named(labels, "channel", data.get("channel")),
        "workers": [names(w) for w in data.get("workers") or []],
        "total": _yuan(data.get("total_fen", 0)),
        "discount": _yuan(data.get("discount_fen", 0)),
        "received": _yuan(paid("deposit", "final", "cancellation_fee")),
        "refunded": _yuan(paid("refund")),
        "cancellation_fee": _yuan(data.get("cancellation_fee_fen", 0)),
        "overall": rating.get("overall", ""),
    }


def _visit_row(
    data: dict[str, Any], names: Any, labels: dict[str, dict[str, str]]
) -> dict[str, Any]:
    return {
        "due": data["due"],
        "status": _named(labels, "status", data.get("status")),
        "type": _named(labels, "type", data.get("type")),
        "customer": names(data["customer"]),
        "worker": names(data["worker"]) if data.get("worker") else "",
        "method": _named(labels, "method", data.get("method")),
        "done_at": _when(data.get("done_at")),
        "done_by": data.get("done_by", ""),
        "outcome": data.get("outcome", ""),
    }


def _complaint_row(
    data: dict[str, Any], names: Any, labels: dict[str, dict[str, str]]
) -> dict[str, Any]:
    return {
        "received_at": _when(data["received_at"]),
        "status": _named(labels, "status", data.get("status")),
        "category": _named(labels, "category", data.get("category")),
        "severity": _named(labels, "severity", data.get("severity")),
        "customer": names(data["customer"]),
        "worker": names(data["worker"]) if data.get("worker") else "",
        "response_due": _when(data.get("response_due")),
        "resolution": data.get("resolution", ""),
        "compensation": _yuan(data.get("compensation_fen", 0)),
    }


def _survey_row(
    data: dict[str, Any], names: Any, labels: dict[str, dict[str, str]]
) -> dict[str, Any]:
    return {
        "at": _when(data["at"]),
        "customer": names(data["customer"]),
        "workers": [names(w) for w in data.get("workers") or []],
        "services": list(data.get("services") or []),
        **{k: data[k] for k in ("quality", "attitude", "hygiene", "punctuality", "overall")},
        "nps": data.get("nps"),
        "channel": _named(labels, "channel", data.get("channel")),
        "comment": data.get("comment", ""),
    }


_RECORD_ROWS = {
    "order": _order_row,
    "visit": _visit_row,
    "complaint": _complaint_row,
    "survey": _survey_row,
}
