"""Import customers or workers from a spreadsheet (.csv, .xlsx) or a JSON table, in one commit.

Every row is turned into the real record model and checked like any other record (phones,
ID-card numbers, hk.toml lists), plus duplicates inside the file and against the archive. Every
problem of every row is collected, in the sheet's own row numbers, so the user fixes the sheet
once. All or nothing by default: one bad row and nothing is written, unless the caller skips
the invalid rows on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hk.domain.base import Record, now
from hk.domain.ids import new_id
from hk.domain.kinds import KINDS as MODELS
from hk.domain.layout import kind_of
from hk.errors import UsageError
from hk.services.io.fields import FIELD_BUILDERS, SCIENTIFIC, RowCells
from hk.services.io.tabular import (
    KINDS,
    PLURALS,
    SEALED_KEYS,
    Column,
    Table,
    cell_text,
    column_letter,
    map_headers,
    read_table,
)
from hk.store.archive import Archive

HIDDEN_VALUES = frozenset({"******", "[locked]"})
"""What an export writes for sensitive values it does not reveal; such cells carry no value."""


@dataclass
class RowProblem:
    """One thing wrong with one row, in the user's words: row number, their header, a message."""

    row: int
    column: str | None
    message: str

    def render(self, unit: str = "row") -> str:
        where = f"{unit} {self.row}: "
        return where + (f"{self.column}: " if self.column else "") + self.message

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """What an import found and did; the command prints it, ``--json`` dumps it."""

    kind: str
    rows: int = 0
    """data rows that hold something (empty rows not counted)"""
    empty_rows: int = 0
    valid: int = 0
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    commit: str | None = None
    unit: str = "row"

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    def summary(self) -> str:
        bad = len(self.bad_rows)
        if self.dry_run:
            text = f"dry run: {_count(self.valid, self.unit)} valid"
            return text + (f", {bad} invalid" if bad else "") + ", nothing written"
        if self.imported:
            text = f"imported {_count(self.imported, self.kind)}"
            return text + (f", {_count(bad, self.unit)} skipped" if bad else "")
        if bad:
            return (
                f"nothing imported: {bad} of {_count(self.rows, self.unit)} "
                f"{'is' if bad == 1 else 'are'} invalid "
                f"(fix them, or import the rest with --skip-invalid)"
            )
        return f"nothing to import: no {PLURALS[self.kind]} in the file"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "empty_rows": self.empty_rows,
            "valid": self.valid,
            "imported": self.imported,
            "skipped": len(self.bad_rows),
            "dry_run": self.dry_run,
            "commit": self.commit,
            "unit": self.unit,
            "problems": [p.to_json() for p in self.problems],
            "warnings": self.warnings,
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# --- the import ---------------------------------------------------------------------------------


def import_file(
    archive: Archive,
    kind: str,
    path: Path,
    dry_run: bool = False,
    skip_invalid: bool = False,
    consent_sensitive: str | None = None,
) -> ImportReport:
    """Validate every row of ``path`` and, unless told otherwise, write them in one commit.

    A customer's sensitive values (ID number, health, children) need her consent
    (PIPL Art. 29): ``consent_sensitive`` says how the customers in the file gave it (the
    office's paper forms), and is recorded with each customer who has such values; without
    it those rows are refused.

    Nothing is written on a dry run, nor when any row is invalid and ``skip_invalid`` is
    False. The caller decides the exit code from the report.
    """
    if kind not in KINDS:
        raise UsageError(f"cannot import {kind}; hk imports customers and workers")
    table = read_table(path, kind)
    hmap = map_headers(kind, table.header, "key" if table.unit == "item" else "column")
    report = ImportReport(kind=kind, dry_run=dry_run, unit=table.unit)
    report.warnings += table.notes
    report.warnings += [
        f"column {_column_name(table.unit, pos)} '{text}' is not a field hk knows; "
        "it was not imported"
        for pos, text in hmap.unknown
    ]
    if any(c.key == "code" for c in hmap.columns.values()):
        report.warnings.append(
            f"column '{hmap.headers['code']}' was not imported: hk gives every record its own code"
        )
    records, hidden = _validate_rows(
        archive, kind, table, hmap.columns, hmap.headers, report, consent_sensitive
    )
    for key, count in hidden.items():
        report.warnings.append(
            f"column '{hmap.headers[key]}': {count} masked or locked values were left out "
            "(export with --reveal to carry them over)"
        )
    report.valid = len(records)
    if dry_run or not records or (report.problems and not skip_invalid):
        return report
    from hk.store.writer import save_new_bulk

    result = save_new_bulk(archive, records, f"{kind}: import {len(records)} records")
    report.imported = len(records)
    report.commit = result.commit
    return report


def _column_name(unit: str, pos: int) -> str:
    return column_letter(pos) if unit == "row" else str(pos + 1)


def _validate_rows(
    archive: Archive,
    kind: str,
    table: Table,
    columns: dict[int, Column],
    headers: dict[str, str],
    report: ImportReport,
    consent_sensitive: str | None = None,
) -> tuple[list[Record], dict[str, int]]:
    """Every row to a record; problems go into ``report``; returns the valid records."""
    order = {col.key: pos for pos, col in sorted(columns.items(), reverse=True)}
    check = _RowChecker(archive, kind, headers, order, table.unit, consent_sensitive)
    report.warnings += check.warnings
    hidden: dict[str, int] = {}
    ids = sorted(new_id() for _ in table.rows)  # row order becomes ID (and listing) order
    records: list[Record] = []
    positions = sorted(columns.items())
    for (number, cells), record_id in zip(table.rows, ids, strict=True):
        by_key: dict[str, list[Any]] = {}
        for pos, col in positions:
            value = cells[pos] if pos < len(cells) else None
            if value is None or value == [] or (isinstance(value, str) and not value.strip()):
                continue
            by_key.setdefault(col.key, []).append(value)
        if not by_key and not any(cell_text(v) for v in cells):
            report.empty_rows += 1
            continue
        report.rows += 1
        for key in SEALED_KEYS:
            if key in by_key and _is_hidden(cell_text(by_key[key][0])):
                del by_key[key]
                hidden[key] = hidden.get(key, 0) + 1
        record, problems = check(number, record_id, by_key)
        report.problems += problems
        if record is not None:
            records.append(record)
    return records, hidden


class _RowChecker:
    """Validates one row after another, remembering phones and ID numbers already seen."""

    def __init__(
        self,
        archive: Archive,
        kind: str,
        headers: dict[str, str],
        order: dict[str, int],
        unit: str,
        consent_sensitive: str | None = None,
    ) -> None:
        self.kind = kind
        self.consent_sensitive = (consent_sensitive or "").strip()
        self.model = MODELS[kind_of(kind)]
        self.build = FIELD_BUILDERS[kind]
        self.settings = archive.settings
        self.stamp = now(self.settings.locale.timezone)
        self.headers = headers
        self.order = order
        """column key → its position, so a row's problems read left to right"""
        self.unit = unit
        self.warnings: list[str] = []
        self.existing = _existing_phones(archive, kind, self.warnings)
        self.seen_phones: dict[str, int] = {}
        self.seen_ids: dict[str, int] = {}

    def __call__(
        self, number: int, record_id: str, by_key: dict[str, list[Any]]
    ) -> tuple[Record | None, list[RowProblem]]:
        from hk.domain.rules import settings_problems

        found = _lost_digits(by_key)
        row = RowCells(by_key)
        fields = self.build(row, self.settings.locale.city, self.stamp.date())
        found += row.errors
        try:
            record: Record | None = self.model.model_validate(
                {"id": record_id, "created": self.stamp, "updated": self.stamp, **fields}
            )
        except ValidationError as exc:
            record = None
            told = {key for key, _ in row.errors}  # a bad cell is not also "required"
            errors = [
                (_key_of(e["loc"], by_key), _message(e)) for e in exc.errors(include_url=False)
            ]
            found += [(key, message) for key, message in errors if key not in told]
        # hk.toml lists are checked even when the row failed validation, to report everything
        listed = record or self.model.model_construct(
            **{k: v for k, v in fields.items() if k in ("category", "channel", "tier")}
        )
        found += [
            (p.field, p.message + self._did_you_mean(p.field, p.message))
            for p in settings_problems(listed, self.settings, "")
        ]
        if record is not None:
            record, unconsented = self._consented(record)
            found += unconsented
            found += self._duplicates(number, record, remember=not found)
        found.sort(key=lambda f: self.order.get(f[0] or "", len(self.order)))
        problems = [RowProblem(number, _header(self.headers, k), m) for k, m in found]
        return (None if problems else record), problems

    def _consented(self, record: Record) -> tuple[Record, list[tuple[str | None, str]]]:
        """The customer with the file's consent for her sensitive values recorded, or the
        problems of values that have none (see :func:`import_file`)."""
        from hk.domain.customer import Customer

        if not isinstance(record, Customer):
            return record, []
        today = self.stamp.date()
        paths = record.unconsented_sensitive(today)
        if not paths:
            return record, []
        if not self.consent_sensitive:
            return record, [
                (
                    path,
                    "sensitive data needs the customer's recorded consent (PIPL Art. 29); "
                    "if the customers in this file gave it, import with --consent-sensitive "
                    "纸质签字 (or how they gave it)",
                )
                for path in paths
            ]
        from hk.domain.common import Consent
        from hk.services.consent import sensitive_consent

        consent = Consent.model_validate(
            sensitive_consent(self.consent_sensitive, "导入时的同意书", today)
        )
        return record.model_copy(update={"consents": [*record.consents, consent]}), []

    def _did_you_mean(self, key: str | None, message: str) -> str:
        """'保洁' is not one of … → did you mean 家庭保洁? (the sheet's words are often short)."""
        import difflib

        customers = self.settings.customers
        allowed = {
            "category": customers.categories,
            "channel": customers.channels,
            "tier": self.settings.tier_names(),
        }.get(key or "", [])
        value = message.split("'")[1] if message.count("'") >= 2 else ""
        close = [a for a in allowed if value and value in a]
        close = close or difflib.get_close_matches(value, allowed, n=1)
        return f"; did you mean {close[0]}?" if len(close) == 1 else ""

    def _duplicates(
        self, number: int, record: Record, remember: bool
    ) -> list[tuple[str | None, str]]:
        """Phones already in the archive or earlier in the file; ID numbers twice in the file.

        The row is remembered only if it is clean (``remember`` and no duplicate), so a row
        that will not be imported never makes a later one a duplicate.
        """
        found: list[tuple[str | None, str]] = []
        phones = _phones_of(record)
        for phone in phones:
            if phone in self.existing:
                found.append(
                    (
                        "phones",
                        f"{_show_phone(phone)} already belongs to {self.kind} "
                        f"{self.existing[phone]}",
                    )
                )
            elif phone in self.seen_phones:
                found.append(
                    (
                        "phones",
                        f"{_show_phone(phone)} is also in {self.unit} {self.seen_phones[phone]}",
                    )
                )
        sealed = getattr(record, "id_number", None)
        id_plain = sealed.plain if sealed is not None else None  # as validated: upper-case
        if id_plain and id_plain in self.seen_ids:
            found.append(
                (
                    "id_number",
                    f"the same ID-card number is also in {self.unit} {self.seen_ids[id_plain]}",
                )
            )
        if remember and not found:
            self.seen_phones.update((p, number) for p in phones)
            if id_plain:
                self.seen_ids[id_plain] = number
        return found


def _lost_digits(by_key: dict[str, list[Any]]) -> list[tuple[str | None, str]]:
    """Phones and ID numbers Excel turned into numbers: the digits are gone, say so plainly.

    The cells are dropped so the same value is not reported again as merely invalid.
    """
    found: list[tuple[str | None, str]] = []
    for key in ("phones", "id_number"):
        values = by_key.get(key, [])
        if any(isinstance(v, str) and SCIENTIFIC.fullmatch(v.strip()) for v in values):
            found.append(
                (
                    key,
                    f"'{cell_text(values[0])}': Excel saved the number in scientific "
                    "notation and lost digits; format the column as text and retype it",
                )
            )
            del by_key[key]
        elif key == "id_number" and any(
            isinstance(v, float | int) and not isinstance(v, bool) for v in values
        ):
            found.append(
                (
                    key,
                    "Excel stored this ID-card number as a number and may have lost "
                    "its last digits; format the column as text and retype it",
                )
            )
            del by_key[key]
    return found


def _header(headers: dict[str, str], key: str | None) -> str | None:
    return headers.get(key, key) if key else None


def _phones_of(record: Record) -> list[str]:
    phones = getattr(record, "phones", None)
    if phones is not None:
        return list(phones)
    phone = getattr(record, "phone", None)
    return [phone] if phone else []


_MASKED_ID = re.compile(r"[0-9A-Za-z]{0,6}\*{3,}[0-9A-Za-z]{0,6}")


def _is_hidden(text: str) -> bool:
    return text in HIDDEN_VALUES or bool(_MASKED_ID.fullmatch(text))


COLUMN_OF_FIELD = {"phone": "phones", "addresses": "detail", "home": "detail"}
"""Model fields whose errors belong to a column of another name."""


def _key_of(loc: tuple[int | str, ...], cells: dict[str, list[Any]]) -> str | None:
    """The column a Pydantic error location comes from (``addresses.0.city`` → city)."""
    for step in reversed(loc):
        if isinstance(step, str) and step in cells:
            return step
    for step in loc:
        if isinstance(step, str):
            return COLUMN_OF_FIELD.get(step, step)
    return None


def _message(err: Any) -> str:
    if err["type"] == "missing":
        return "this field is required"
    if err["type"] == "literal_error" and err["loc"] and err["loc"][-1] == "gender":
        return "write 女 or 男"
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


def _show_phone(e164: str) -> str:
    from hk.domain.fields import format_phone

    return format_phone(e164)


def _existing_phones(archive: Archive, kind: str, warnings: list[str]) -> dict[str, str]:
    """Every phone already in the archive for ``kind``, with its record's code and name."""
    import orjson

    broken = archive.index.refresh([kind_of(kind)]).broken
    if broken:
        warnings.append(
            f"{len(broken)} {kind} files could not be read (run `hk doctor`); "
            "phones in them were not checked for duplicates"
        )
    out: dict[str, str] = {}
    key = "phones" if kind == "customer" else "phone"
    for row in archive.index.list(kind_of(kind)):
        data = orjson.loads(row["data"])
        value = data.get(key)
        for phone in value if isinstance(value, list) else [value] if value else []:
            out.setdefault(phone, f"{row['code']} ({row['name']})")
    return out
