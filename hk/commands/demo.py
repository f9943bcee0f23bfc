"""``hk demo``: build a demo archive of a small Chengdu company and show where to start."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hk.commands.common import say


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the demo archive (default: in the user's data "
            "folder). Only a previous demo archive there is replaced.",
        ),
    ] = None,
    no_tui: Annotated[
        bool,
        typer.Option(
            "--no-tui",
            help="Only build it, and print a tour of commands to "
            "try on it (on a terminal) or where it is.",
        ),
    ] = False,
) -> None:
    """Build a fresh demo archive (a small company in Chengdu, invented people) and open the
    TUI on it."""
    from hk.services.demo.build import build_demo, default_location, tour

    root = build_demo(out or default_location())
    if sys.stdout.isatty() and sys.stdin.isatty() and not no_tui:
        from hk.tui.app import make_app

        make_app(root).run()
        say(f"demo archive: {root}  (hk -C {root} opens it again)")
    elif sys.stdout.isatty():
        for line in tour(root):
            say(line)
    else:
        say(f"demo archive: {root}")
