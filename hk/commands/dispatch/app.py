"""``hk dispatch``: tomorrow's routes for hourly jobs (plan, check, pin), ranked candidates for
long-term placements (match), and each worker's day as a message or a page (sheet).

The command family is one Typer app; each part lives in its own module and adds its commands
through ``register``, so this file stays a table of contents.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    help="Dispatch (派工): plan a day's routes, check them, pin jobs by hand, match workers to "
    "long-term roles, print the workers' sheets.",
    no_args_is_help=True,
)

PARTS = ("plan", "match", "sheet")
"""The modules of :mod:`hk.commands.dispatch` holding the commands, in the order help lists them."""

for _part in PARTS:
    importlib.import_module(f"hk.commands.dispatch.{_part}").register(app)
