"""``hk report NAME``: the owner's reports (数据分析, SPEC §6) in the terminal, as JSON or CSV,
or as one printable HTML page.

The figures come from :mod:`hk.services.reports`; this module only lays them out: tables
measured in terminal cells (Chinese takes two), a bar drawn with Unicode blocks where a chart
reads faster, each headline figure with its change against the period before. Kept light: a
report in the terminal imports no Jinja2 (only ``--format html`` does) and no TUI.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import archive_of, print_json
from hk.services.reports.model import REPORT_NAMES

if TYPE_CHECKING:
    from hk.services.reports.model import Column, Figure, Report, Table
    from hk.store.archive import Archive

WIDTH = 80
"""Lines fit an 80-column terminal."""
BLOCKS = " ▏▎▍▌▋▊▉█"
NAMES = (*REPORT_NAMES, "all")
"""The reports by name, and ``all`` of them in one go."""


class By(StrEnum):
    month = "month"
    week = "week"
    day = "day"


class Format(StrEnum):
    text = "text"
    html = "html"


def report(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            help="revenue funnel customers retention workers satisfaction quality channels, "
            "or all.",
            show_default=False,
        ),
    ],
    from_: Annotated[
        str | None,
        typer.Option("--from", help="First day (YYYY-MM-DD; default: 11 months before this one)."),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    by: Annotated[By, typer.Option("--by", help="Group by month, week or day.")] = By.month,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (money in fen).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV, one block per table.")] = False,
    fmt: Annotated[
        Format, typer.Option("--format", help="text, or html: one printable A4 document.")
    ] = Format.text,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (default and '-': standard output)."),
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Only orders of this catalog code.")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", help="Only orders taken this way: phone wechat web walk_in platform."
        ),
    ] = None,
    district: Annotated[str | None, typer.Option("--district", help="Only this district.")] = None,
    community: Annotated[
        str | None, typer.Option("--community", help="Only this community (小区).")
    ] = None,
    worker: Annotated[
        str | None, typer.Option("--worker", help="Only this worker's work (code or ID).")
    ] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="Only customers of this tier.")] = None,
) -> None:
    """Reports for a period: revenue, funnel, customers, retention, workers, satisfaction,
    quality indicators, channels — with the change against the period before."""
    from hk.errors import UsageError
    from hk.services.reports.compute import report as make
    from hk.services.reports.model import Filters, Period

    if name not in NAMES:
        raise UsageError(f"no report '{name}'", hint=f"one of {', '.join(NAMES)}")
    archive = archive_of(ctx)
    start, end = _period(archive, from_, to)
    filters = Filters(
        service=service.upper() if service else None,
        channel=_channel(channel) if channel else None,
        district=district,
        community=community,
        worker=_worker(archive, worker) if worker else None,
        tier=tier,
    )
    reports = make(archive, name, Period(start, end, by.value), filters)
    if fmt == Format.html:
        _write(out, html(archive, reports).encode("utf-8"))
        return
    if as_json:
        print_json([r.to_dict() for r in reports] if name == "all" else reports[0].to_dict())
        return
    text = to_csv(reports) if as_csv else "\n\n".join(render(r) for r in reports) + "\n"
    if out is not None:
        _write(out, ("\ufeff" + text if as_csv else text).encode("utf-8"))
    else:
        sys.stdout.write(text)


def _period(archive: Archive, from_: str | None, to: str | None) -> tuple[dt.date, dt.date]:
    from hk.commands.common import parse_day
    from hk.errors import UsageError
    from hk.services.reports.model import add_months
    from hk.services.stages import today_of

    tz = archive.settings.locale.timezone
    end = dt.date.fromisoformat(parse_day(to, "--to", tz)) if to else today_of(archive)
    if from_:
        start = dt.date.fromisoformat(parse_day(from_, "--from", tz))
    else:
        start = add_months(end.replace(day=1), -11)
    if start > end:
        raise UsageError("--from is after --to", hint="give the first day, then the last")
    return start, end


def _channel(text: str) -> str:
    from hk.domain.order.model import CHANNEL_ZH
    from hk.services.records import choice_of

    return choice_of(text, CHANNEL_ZH, "an order channel")


def _worker(archive: Archive, ref: str) -> str:
    from hk.services.records import resolve_id

    return resolve_id(archive, "worker", ref)[1]


def _write(out: Path | None, data: bytes) -> None:
    """A report to ``--out`` through the one helper every named output uses (``-``: stdout;
    a device written in place, a link refused, an unwritable path a user error)."""
    from hk.store.output import STDOUT, write_output

    write_output(STDOUT if out is None else out, data, stdout=sys.stdout.buffer)


# --- numbers as text ---------------------------------------------------------------------------


def number(kind: str, value: Any, compact: bool = False) -> str:
    """A value as a table shows it: money in yuan, shares in %, scores to two decimals."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if kind == "fen":
        return f"{value / 100:,.2f}" if not compact else f"{value / 100:,.0f}"
    if kind == "pct":
        return f"{value * 100:.0f}" if compact else f"{value * 100:.1f}%"
    if kind in ("score", "ratio"):
        return f"{value:.2f}"
    if kind in ("hours", "days"):
        return f"{value:.1f}"
    if kind == "nps":
        return f"{value:+d}" if value else "0"
    return f"{value:,}"


def figure_text(f: Figure) -> str:
    value = ("¥" if f.kind == "fen" else "") + number(f.kind, f.value)
    change = f.change
    if change is None:
        return f"{f.title} {value}"
    arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
    return f"{f.title} {value} {arrow}{abs(change) * 100:.0f}%"


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``value`` against ``top`` in ``width`` cells, to an eighth."""
    if top <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = round(value / top * width * 8)
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


# --- the terminal ------------------------------------------------------------------------------


def render(report: Report) -> str:
    """One report as text for an 80-column terminal."""
    from hk.services.reports.model import BUCKET_TITLE

    head = f"{report.title}  {report.period.text()}"
    lines = [head, "═" * min(WIDTH, 2 * len(head))]
    lines.append(f"对比上期 {report.previous.text()} · 分组 {BUCKET_TITLE[report.period.by]}")
    if report.filters.any():
        lines.append(f"筛选 {report.filters.text()}")
    lines += _wrap([figure_text(f) for f in report.figures])
    for table in report.tables:
        lines += ["", f"■ {table.title}", *table_lines(table)]
    lines += ["", *_wrap_text("注：" + report.footnote)]
    return "\n".join(lines)


def _wrap(parts: list[str], sep: str = "   ") -> list[str]:
    from hk.textwidth import cell_len

    lines, line = [], ""
    for part in parts:
        if line and cell_len(line + sep + part) > WIDTH:
            lines.append(line)
            line = part
        else:
            line = f"{line}{sep}{part}" if line else part
    return [*lines, line] if line else lines


def _wrap_text(text: str) -> list[str]:
    from rich.cells import get_character_cell_size

    lines, line, used = [], "", 0
    for char in text:
        w = get_character_cell_size(char)
        if used + w > WIDTH:
            lines.append(line)
            line, used = "", 0
        line += char
        used += w
    return [*lines, line] if line else lines


def table_lines(table: Table) -> list[str]:
    """Aligned columns (text left, numbers right) and, if the table has a chart, a bar."""
    if not table.rows:
        return ["（无数据）"]
    for compact in (False, True):
        out = _lay_out(table, compact)
        if out is not None:
            return out
    return _lay_out(table, True, squeeze=True) or []


def _lay_out(table: Table, compact: bool, squeeze: bool = False) -> list[str] | None:
    from hk.textwidth import cell_len, fit

    gap = " " if compact else "  "
    columns = table.columns
    rows = table.rows + ([table.total] if table.total else [])
    cells = [[_cell(c, row.get(c.key), compact) for c in columns] for row in rows]
    heads = [c.title + ("%" if compact and c.kind == "pct" else "") for c in columns]
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    if squeeze:
        widths = [
            min(w, 12) if c.kind == "text" else w for w, c in zip(widths, columns, strict=True)
        ]
    used = sum(widths) + len(gap) * (len(widths) - 1)
    if used > WIDTH and not squeeze:
        return None
    chart = table.chart if len(table.rows) >= 2 else None
    room = WIDTH - used - len(gap)
    values = [r.get(chart) or 0 for r in table.rows] if chart else []
    top = max(values, default=0)
    if chart and (room < 6 or top <= 0):
        chart = None

    def line(parts: list[str]) -> str:
        out = []
        for part, width, col in zip(parts, widths, columns, strict=True):
            pad = " " * max(0, width - cell_len(part))
            out.append(fit(part, width) if col.kind == "text" else pad + part)
        return gap.join(out)

    lines = [line(heads)]
    for i, parts in enumerate(cells):
        text = line(parts)
        if chart and i < len(table.rows):
            text += gap + bar(values[i], top, min(room, 24))
        lines.append(text.rstrip())
    if table.total:
        lines.insert(len(lines) - 1, "─" * min(WIDTH, used))
    return lines


def _cell(column: Column, value: Any, compact: bool) -> str:
    return number(column.kind, value, compact)


# --- CSV ---------------------------------------------------------------------------------------


def to_csv(reports: list[Report]) -> str:
    """Every table of every report, one block each (a title line, the header, the rows);
    money in yuan, shares as fractions: numbers a spreadsheet adds up."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for report in reports:
        writer.writerow([f"{report.title} {report.period.text()}"])
        writer.writerow(["指标", "本期", "上期", "变化"])
        for f in report.figures:
            writer.writerow(
                [
                    f.title,
                    _raw(f.kind, f.value),
                    _raw(f.kind, f.previous),
                    "" if f.change is None else round(f.change, 4),
                ]
            )
        for table in report.tables:
            writer.writerow([])
            writer.writerow([f"{report.title} · {table.title}"])
            writer.writerow([c.title + ("(元)" if c.kind == "fen" else "") for c in table.columns])
            for row in table.rows + ([table.total] if table.total else []):
                writer.writerow([_raw(c.kind, row.get(c.key)) for c in table.columns])
        writer.writerow([])
    return buf.getvalue()


def _raw(kind: str, value: Any) -> Any:
    if value is None:
        return ""
    if kind == "fen" and not isinstance(value, str):
        return f"{value / 100:.2f}"
    if isinstance(value, float):
        return round(value, 4)
    return value


# --- HTML --------------------------------------------------------------------------------------


def html(archive: Archive, reports: list[Report]) -> str:
    """One self-contained A4 document: every report a section, charts as inline SVG."""
    from hk.services.documents import environment

    sections = []
    for report in reports:
        tables = []
        for table in report.tables:
            tables.append(
                {
                    "title": table.title,
                    "heads": [c.title + ("(元)" if c.kind == "fen" else "") for c in table.columns],
                    "numeric": [c.kind != "text" for c in table.columns],
                    "rows": [
                        [number(c.kind, row.get(c.key)) for c in table.columns]
                        for row in table.rows
                    ],
                    "total": [number(c.kind, table.total.get(c.key)) for c in table.columns]
                    if table.total
                    else None,
                    "chart": _chart(table),
                }
            )
        sections.append(
            {
                "title": report.title,
                "figures": [
                    {
                        "title": f.title,
                        "value": ("¥" if f.kind == "fen" else "") + number(f.kind, f.value),
                        "change": None if f.change is None else f"{f.change * 100:+.0f}%",
                        "up": (f.change or 0) >= 0,
                    }
                    for f in report.figures
                ],
                "tables": tables,
                "footnote": report.footnote,
            }
        )
    first = reports[0]
    env = environment(archive)
    company = archive.settings.company.name
    return str(
        env.get_template("report.html.j2").render(
            title=f"{company} 经营报表",
            company=company,
            period=first.period.text(),
            previous=first.previous.text(),
            filters=first.filters.text(),
            sections=sections,
        )
    )


def _chart(table: Table) -> list[dict[str, Any]] | None:
    """Bars for the SVG: label, value as text, and length from 0 to 1."""
    if not table.chart or len(table.rows) < 2:
        return None
    kind = next(c.kind for c in table.columns if c.key == table.chart)
    label_key = table.columns[0].key
    values = [(r.get(label_key), r.get(table.chart) or 0) for r in table.rows]
    top = max((v for _, v in values), default=0)
    if top <= 0:
        return None
    return [
        {"label": str(label), "text": number(kind, value), "share": max(value, 0) / top}
        for label, value in values[:24]
    ]
