"""``hk remind``: what is due today (SPEC §4), listed, previewed (``--dry-run``) or sent.

The listing and the dry run read the index; ``--send`` goes through the archive's write path.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from hk.commands.common import archive_of, print_json, say, warn_broken
from hk.errors import UsageError

AUDIENCES = {"office": "office", "customers": "customer", "workers": "worker"}


def remind(
    ctx: typer.Context,
    date: Annotated[
        str | None,
        typer.Option("--date", help="The day (YYYY-MM-DD, today, tomorrow); default today."),
    ] = None,
    audience: Annotated[
        list[str] | None,
        typer.Option("--audience", help="office, customers or workers (repeatable; default all)."),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send", help="Send what is due and not yet sent, through the channels of hk.toml."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show only what --send would send now; send nothing.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Reminders due today: appointments, contract ends, certificates, deposits, quotes,
    packages, birthdays, lapsed customers. Each occasion is sent once per channel, however
    often cron runs; the sent log is committed in the archive."""
    from hk.commands.common import parse_day
    from hk.remind import listing
    from hk.remind.config import RemindConfig

    archive = archive_of(ctx)
    config = RemindConfig.from_settings(archive.settings)
    day = dt.date.fromisoformat(parse_day(date or "today", "--date", config.timezone))
    wrong = [a for a in audience or [] if a not in AUDIENCES]
    if wrong:
        raise UsageError(
            f"--audience: '{wrong[0]}' is not an audience", hint="office, customers or workers"
        )
    audiences = tuple(dict.fromkeys(AUDIENCES[a] for a in audience or [])) or (
        "office",
        "customer",
        "worker",
    )
    if not send or dry_run:
        shown = listing.listing(archive.index, str(archive.root), day, config, audiences, dry_run)
        warn_broken(ctx, shown.broken)
        if json:
            print_json(shown.to_json())
        elif shown.items:
            say(listing.table(shown.items))
        return
    from hk.remind.send import send as send_due

    outcome = send_due(archive, day, config, audiences)
    warn_broken(ctx, outcome.broken)
    if json:
        print_json(
            {
                "date": day.isoformat(),
                "sent": outcome.sent,
                "commit": outcome.commit,
                "path": outcome.path,
                "failures": [
                    {"channel": f.channel, "error": f.error, "occasions": f.occasions}
                    for f in outcome.failures
                ],
            }
        )
    for failure in outcome.failures:
        sys.stderr.write(
            f"error: channel {failure.channel}: {failure.error} — "
            f"{failure.occasions} reminder{'s' if failure.occasions != 1 else ''} "
            "not sent; the next run tries again\n"
        )
    if outcome.failures:
        raise typer.Exit(1)
