"""``hk import`` and ``hk export``: customers and workers to and from spreadsheets.

A thin layer over :mod:`hk.services.io.importing` and :mod:`hk.services.io.export`.
Exit codes: 0 done; 1 invalid rows (nothing imported) or a file that cannot be imported;
2 a wrong command line.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hk.commands.common import Reason, archive_of, print_json, say

if TYPE_CHECKING:
    from hk.services.io.export import Export

import_app = typer.Typer(
    help="Import customers or workers from a spreadsheet (.xlsx or .csv) in one commit.",
    no_args_is_help=True,
)
export_app = typer.Typer(
    help="Export all customers or workers as CSV, XLSX or JSON (sensitive values masked).",
    no_args_is_help=True,
)


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


FileArg = Annotated[
    Path,
    typer.Argument(
        help="The .xlsx or .csv file (UTF-8 or GB18030); the first row holds titles "
        "such as 姓名, 电话, 小区, 备注.",
        show_default=False,
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
]
SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Import the valid rows even if some are invalid "
        "(the invalid ones are reported and left out).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="csv, xlsx or json (default: from --out, else csv).",
        show_default=False,
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Write to this file (replaced atomically; a device or pipe is written as it "
        "is; a link is refused); '-' or none: stdout (xlsx only when it is not a terminal).",
        show_default=False,
    ),
]
RevealOpt = Annotated[
    bool,
    typer.Option("--reveal", help="Export ID numbers and health notes in full (needs the key)."),
]


def _import(
    ctx: typer.Context,
    kind: str,
    file: Path,
    dry_run: bool,
    skip_invalid: bool,
    json: bool,
    consent_sensitive: str | None = None,
) -> None:
    from hk.services.io.importing import import_file

    report = import_file(
        archive_of(ctx), kind, file, dry_run, skip_invalid, consent_sensitive=consent_sensitive
    )
    if json:
        print_json(report.to_json())
    else:
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for problem in report.problems:
            say(problem.render(report.unit))
        say(report.summary())
    if report.problems and not report.imported:
        raise typer.Exit(1)


@import_app.command("customers")
def import_customers(
    ctx: typer.Context,
    file: FileArg,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    consent_sensitive: Annotated[
        str | None,
        typer.Option(
            "--consent-sensitive",
            help="How the customers in the file consented to their sensitive data being kept "
            "(e.g. 纸质签字); recorded with each. Without it, rows with ID numbers or health "
            "notes are refused.",
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Import customers from an .xlsx or .csv file.

    Column titles are recognised in Chinese or English: 姓名, 电话/手机, 微信, 城市, 区, 小区,
    地址, 服务类型, 来源, 标签, 会员等级, 生日, 身份证号, 健康状况, 服务禁忌, 备注. Every bad
    row is reported by its row number; if any row is bad nothing is imported (unless
    --skip-invalid). A phone already in the archive, or twice in the file, makes a row bad.
    """
    _import(ctx, "customer", file, dry_run, skip_invalid, json, consent_sensitive)


@import_app.command("workers")
def import_workers(
    ctx: typer.Context,
    file: FileArg,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    json: Json = False,
) -> None:
    """Import workers from an .xlsx or .csv file.

    Column titles: 姓名, 性别, 出生年份 (or 年龄), 籍贯, 方言, 电话, 微信, 身份证号, 技能
    (保洁,烹饪:4:川菜), 证书 (健康证:编号:2027-05-01), 工作年限, 状态 (可接单/长期在岗/停用),
    城市, 区, 小区, 地址, 备注. Every bad row is reported by its row number; if any row is bad
    nothing is imported (unless --skip-invalid).
    """
    _import(ctx, "worker", file, dry_run, skip_invalid, json)


def _export(
    ctx: typer.Context,
    kind: str,
    fmt: Format | None,
    out: Path | None,
    reveal: bool,
    reason: str | None = None,
) -> None:
    from hk.commands.common import audit_reveal
    from hk.services.io.export import build_export

    why = audit_reveal(reveal, reason, "--reveal in an export")
    export = build_export(archive_of(ctx), kind, reveal=reveal)
    _write_export(ctx, export, fmt, out, why, reveal)


def _write_export(
    ctx: typer.Context,
    export: Export,
    fmt: Format | None,
    out: Path | None,
    reason: str,
    revealed: bool = False,
) -> None:
    """Write an export (``--out``, or ``-``/none for standard output) and record it in the
    audit trail: which kind, how many records, which columns, why, and where it went."""
    from hk.commands.common import destination, warn_broken
    from hk.domain.layout import kind_of
    from hk.services.audit import Access, record
    from hk.services.io.export import PLURALS_ALL, format_for, write_export
    from hk.services.io.tabular import SEALED_KEYS

    to_file = out is not None and str(out) != "-"
    chosen = format_for(fmt.value if fmt else None, out if to_file else None)
    warn_broken(ctx, export.broken)
    write_export(export, chosen, out if to_file else None, sys.stdout.buffer)
    fields = [
        c.key if revealed or c.key not in SEALED_KEYS else f"{c.key} (masked)"
        for c in export.columns
    ]
    to = "file" if to_file else destination()
    kind = kind_of(export.kind)
    access = Access("export", kind, [], fields, to, reason, chosen, len(export.rows))
    record(archive_of(ctx), access)
    if to_file:
        say(f"exported {len(export.rows)} {PLURALS_ALL[export.kind]} to {out}")


@export_app.command("customers")
def export_customers(
    ctx: typer.Context,
    format: FormatOpt = None,
    out: OutOpt = None,
    reveal: RevealOpt = False,
    reason: Reason = None,
) -> None:
    """Export all customers as CSV, XLSX or JSON.

    The column titles are the import's, so the file imports again. CSV is UTF-8 with a BOM
    for Excel; text starting with = + - @ gets a leading ' so a spreadsheet never runs it as
    a formula. ID numbers are masked unless --reveal.
    """
    _export(ctx, "customer", format, out, reveal, reason)


@export_app.command("workers")
def export_workers(
    ctx: typer.Context,
    format: FormatOpt = None,
    out: OutOpt = None,
    reveal: RevealOpt = False,
    reason: Reason = None,
) -> None:
    """Export all workers as CSV, XLSX or JSON.

    The column titles are the import's, so the file imports again. ID numbers are masked
    unless --reveal; text starting with = + - @ is escaped against formula injection.
    """
    _export(ctx, "worker", format, out, reveal, reason)


# --- business records ----------------------------------------------------------------------------

FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="Only from this day (YYYY-MM-DD; an order's appointment day)."),
]
ToOpt = Annotated[str | None, typer.Option("--to", help="Only up to this day (included).")]


def _export_records(
    ctx: typer.Context,
    kind: str,
    fmt: Format | None,
    out: Path | None,
    day_from: str | None,
    day_to: str | None,
    reason: str | None = None,
) -> None:
    """The orders, visits, complaints or surveys of a period, through the same writers."""
    from hk.commands.common import parse_day
    from hk.services.io.export import build_record_export

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    export = build_record_export(
        archive,
        kind,
        parse_day(day_from, "--from", tz) if day_from else None,
        parse_day(day_to, "--to", tz) if day_to else None,
    )
    _write_export(ctx, export, fmt, out, (reason or "").strip())


@export_app.command("orders")
def export_orders(
    ctx: typer.Context,
    format: FormatOpt = None,
    out: OutOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    reason: Reason = None,
) -> None:
    """Export orders (by appointment day) as CSV, XLSX or JSON: amounts in yuan, names."""
    _export_records(ctx, "order", format, out, from_, to, reason)


@export_app.command("visits")
def export_visits(
    ctx: typer.Context,
    format: FormatOpt = None,
    out: OutOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    reason: Reason = None,
) -> None:
    """Export return visits (by due day) as CSV, XLSX or JSON."""
    _export_records(ctx, "visit", format, out, from_, to, reason)


@export_app.command("complaints")
def export_complaints(
    ctx: typer.Context,
    format: FormatOpt = None,
    out: OutOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    reason: Reason = None,
) -> None:
    """Export complaints (by day received) as CSV, XLSX or JSON."""
    _export_records(ctx, "complaint", format, out, from_, to, reason)


@export_app.command("surveys")
def export_surveys(
    ctx: typer.Context,
    format: FormatOpt = None,
    out: OutOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    reason: Reason = None,
) -> None:
    """Export survey responses (by day answered) as CSV, XLSX or JSON."""
    _export_records(ctx, "survey", format, out, from_, to, reason)
