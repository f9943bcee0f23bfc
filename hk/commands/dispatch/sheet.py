"""``hk dispatch sheet``: each worker's day as a message to send and as a page to print.

Workers do not use hk (SPEC §1); once the day is dispatched, the operator sends each of them
this. The work is in :mod:`hk.services.dispatch.sheet`; this module reads options and writes
files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hk.commands.common import (
    Reason,
    archive_of,
    audit_document,
    audit_reveal,
    print_json,
    write_out,
)


def sheet(
    ctx: typer.Context,
    date: Annotated[
        str, typer.Option("--date", help="The day: YYYY-MM-DD, today or tomorrow.")
    ] = "tomorrow",
    worker: Annotated[
        str | None, typer.Option("--worker", help="Only this worker (code or ID).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="text: one short message per worker (printed under a '==== CODE 姓名 "
            "====' line that is not part of it); md or html: a printable page "
            "per worker, with each job's checklist and room to sign.",
        ),
    ] = "text",
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            help="An existing folder, or a path ending in /: one file per worker, "
            "DATE-CODE.txt, .md or .html (her code, never her name or phone), "
            "replacing a file of that name. Any other path: one file with "
            "everything, as it would print.",
        ),
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Add customers' full phones and health notes.")
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="Print each worker's day as JSON, with its message.")
    ] = False,
    reason: Reason = None,
) -> None:
    """Each worker's day (派工日程), as a message to send by SMS or WeChat or as a page to
    print: her jobs that start on the day (dispatched to her, or under way), in time order,
    with the travel from home and between jobs, access notes and customers' masked phones."""
    import datetime as dt

    from hk.commands.common import parse_day
    from hk.errors import UsageError
    from hk.services.dispatch import sheet as sheets

    why = audit_reveal(reveal, reason)
    archive = archive_of(ctx)
    kind = sheets.check_format(fmt)
    if json and out is not None:
        raise UsageError("--json prints to the terminal; give --json or --out, not both")
    day = dt.date.fromisoformat(parse_day(date, "--date", archive.settings.locale.timezone))
    days = sheets.worker_days(archive, day, worker, reveal)
    customers = [job["customer"]["id"] for d in days for job in d.jobs]
    if customers:
        audit_document(archive, customers, reveal, why, out, f"dispatch_sheet:{kind}")
    if json:
        print_json(
            [{**d.summary(), "message": sheets.render_day(archive, d, "text")} for d in days]
        )
        return
    if out is None:
        typer.echo(sheets.render_days(archive, days, kind), nl=False)
        return
    target = Path(out)
    if target.is_dir() or out.endswith(("/", "\\")):
        target.mkdir(parents=True, exist_ok=True)
        for d in days:
            write_out(target / sheets.file_name(d, kind), sheets.render_day(archive, d, kind))
        return
    write_out(out, sheets.render_days(archive, days, kind))


def register(app: typer.Typer) -> None:
    """Adds ``hk dispatch sheet``."""
    app.command("sheet")(sheet)
