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
        bool, typer.Option("--no-tui", help="Only build it and print where it is.")
    ] = False,
) -> None:
    """Build a fresh demo archive (a small company in Chengdu, invented people) to try hk on."""
    from hk.services.demo import build_demo, default_location, tour

    root = build_demo(out or default_location())
    if sys.stdout.isatty() and not no_tui:
        for line in tour(root):
            say(line)
    else:
        say(f"demo archive: {root}")
