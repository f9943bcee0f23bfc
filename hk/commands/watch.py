"""``hk watch``: start, stop or ask about the archive's file watcher (optional, Linux).

With the watcher running, a read asks it what changed instead of checking every record file's
stat data; without it, reads are exactly as correct, only slower on a very large archive.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hk.commands.common import archive_of, print_json, say

app = typer.Typer(
    help="A file watcher that spares each read a check of every record file (optional, Linux).",
    no_args_is_help=True,
)


@app.command()
def start(
    ctx: typer.Context,
    idle_hours: Annotated[
        float,
        typer.Option("--idle-hours", min=0.0001, help="Stop after this many hours without a read."),
    ] = 24.0,
) -> None:
    """Start the watcher in the background; nothing happens to one that already runs."""
    from hk.store import watch

    root = str(archive_of(ctx).root)
    before = watch.status(root)
    info = watch.start(root, idle_hours)
    if before is None:
        say(f"watcher started (pid {info['pid']}); log: {watch.log_path(root)}")
    else:
        say(f"watcher already running since {info.get('since') or 'just now'} (pid {info['pid']})")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the watcher (asked over its socket); reads go back to checking every file."""
    from hk.store import watch

    root = str(archive_of(ctx).root)
    say("watcher stopped" if watch.stop(root) else "watcher was not running")


@app.command()
def status(
    ctx: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Whether the watcher runs and answers, and since when."""
    from hk.store import watch

    root = str(archive_of(ctx).root)
    info = watch.status(root)
    locked = info is not None or watch.locked(root)
    if json:
        print_json({"running": locked, "answers": info is not None, **(info or {})})
        return
    if info is not None:
        say(f"watcher running since {info.get('since') or 'just now'} (pid {info['pid']})")
    elif locked:
        say("a watcher holds its lock but does not answer (reads check every file)")
    else:
        say("watcher not running (reads check every file)")
