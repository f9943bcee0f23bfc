"""``hk tui``: the office TUI on the archive (also what ``hk`` alone opens on a terminal)."""

from __future__ import annotations

from typing import Annotated

import typer

from hk.commands.common import archive_of


def tui(
    ctx: typer.Context,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="zh_CN or en (default: [tui] or [locale] language)."),
    ] = None,
    theme: Annotated[
        str | None, typer.Option("--theme", help="dark or light (default: [tui] theme).")
    ] = None,
) -> None:
    """Open the office TUI: dashboard, customers, workers (F1 for help, Ctrl+P for commands)."""
    from hk.errors import UsageError

    if lang not in (None, "zh_CN", "en"):
        raise UsageError(f"--lang must be zh_CN or en, not '{lang}'")
    if theme not in (None, "dark", "light"):
        raise UsageError(f"--theme must be dark or light, not '{theme}'")
    archive = archive_of(ctx)
    from hk.tui.app import make_app

    make_app(archive.root, language=lang, theme=theme).run()
