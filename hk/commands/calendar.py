"""``hk calendar export FILE.ics``: appointments, contract ends and return visits due, for a
calendar application (see :mod:`hk.remind.ics`)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from hk.commands.common import archive_of, print_json, say
from hk.errors import UsageError

app = typer.Typer(
    help="Calendar files (.ics) of appointments, contract ends and visits due.",
    no_args_is_help=True,
)


@app.command()
def export(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="The .ics file to write ('-': stdout; a device or pipe is written as it is, "
            "a link refused)."
        ),
    ],
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, today); default today.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day; default 60 days after the first.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Write the events from --from to --to as an RFC 5545 calendar file; importing a newer
    file updates the events (each keeps its UID)."""
    from hk.commands.common import parse_day
    from hk.remind.ics import export as write_ics

    to_stdout = str(file) == "-"
    if to_stdout and json:
        raise UsageError("--json prints the counts on stdout, where '-' writes the calendar")
    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    first = dt.date.fromisoformat(parse_day(from_ or "today", "--from", tz))
    last = dt.date.fromisoformat(parse_day(to, "--to", tz)) if to else None
    last = last or first + dt.timedelta(days=60)
    if last < first:
        raise UsageError("--to is before --from")
    done = write_ics(archive, first, last, file, sys.stdout.buffer)
    if json:
        print_json(
            {
                "file": str(file),
                "from": first.isoformat(),
                "to": last.isoformat(),
                "appointments": done.appointments,
                "contract_ends": done.contract_ends,
                "visits": done.visits,
            }
        )
    elif not to_stdout:  # with '-' stdout holds the calendar, nothing else
        say(
            f"wrote {file}: {done.appointments} appointments, {done.contract_ends} contract "
            f"ends, {done.visits} visits due ({first} – {last})"
        )
