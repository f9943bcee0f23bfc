"""``hk cron``: the daily ``hk remind --send`` in the user's crontab (see :mod:`hk.remind.cron`)."""

from __future__ import annotations

import sys

import typer

from hk.commands.common import archive_of, say

app = typer.Typer(
    help="The daily reminder run in your crontab: install, show, remove.", no_args_is_help=True
)


@app.command()
def install(ctx: typer.Context) -> None:
    """Add (or update) the crontab line that runs `hk remind --send` every day at
    [reminders] daily_at.

    Install it on one machine of the archive only: two machines that send before pulling
    each other's record of what was sent would both send.
    """
    from hk.remind import cron

    line, replaced, warnings = cron.install(archive_of(ctx))
    say(("updated" if replaced else "installed") + f": {line}")
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")


@app.command()
def show(ctx: typer.Context) -> None:
    """Print this archive's crontab line (exit 1 if there is none)."""
    from hk.remind import cron

    line = cron.show(archive_of(ctx))
    if line is None:
        sys.stderr.write("no crontab line for this archive; add one with `hk cron install`\n")
        raise typer.Exit(1)
    say(line)


@app.command()
def remove(ctx: typer.Context) -> None:
    """Take this archive's line out of the crontab (other lines stay as they are)."""
    from hk.remind import cron

    if cron.remove(archive_of(ctx)):
        say("removed the daily reminder run from the crontab")
    else:
        say("no crontab line for this archive")
