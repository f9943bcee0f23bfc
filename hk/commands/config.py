"""``hk config show``: the effective settings, and where each value came from.

Settings come from ``hk.toml`` (the office's, committed), then ``hk.local.toml`` (this
operator's, never committed), then the ``HK_*`` variables the settings declare; see
:mod:`hk.store.settings`. Secrets are printed as ``***`` with where they are read from.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from hk.commands.common import archive_of, print_json, say
from hk.store.settings import DEFAULT, MASK

app = typer.Typer(help="This archive's settings and where each value comes from.")


@app.command()
def show(
    ctx: typer.Context,
    prefix: Annotated[
        str,
        typer.Argument(help="Only keys starting with this, e.g. tui or notify.channels."),
    ] = "",
    changed: Annotated[
        bool,
        typer.Option("--changed", help="Only values a file or a variable sets (no defaults)."),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"key": {"value": ..., "source": ...}} (secrets add "secret": true).',
        ),
    ] = False,
) -> None:
    """Print every effective setting with its source: default, hk.toml, hk.local.toml or
    env HK_…

    An invalid hk.toml or hk.local.toml is reported with file, line, field and a hint.
    """

    entries = archive_of(ctx).loaded_settings.entries()
    shown = [
        e
        for e in entries
        if _under(e.key, prefix) and not (changed and e.source == DEFAULT and not e.secret)
    ]
    if as_json:
        out: dict[str, dict[str, Any]] = {}
        for e in shown:
            out[e.key] = {"value": e.value, "source": e.source}
            if e.secret:
                out[e.key]["secret"] = True
        print_json(out)
        return
    from hk.textwidth import cell_len

    rows = [(e.source, e.key, _text(e.value, e.secret)) for e in shown]
    source_width = max((cell_len(r[0]) for r in rows), default=0)
    key_width = max((cell_len(r[1]) for r in rows), default=0)
    for source, key, value in rows:
        say(
            source
            + " " * (source_width - cell_len(source) + 2)
            + key
            + " " * (key_width - cell_len(key) + 2)
            + value
        )


def _under(key: str, prefix: str) -> bool:
    """Whether ``key`` is ``prefix`` or lies under it (``tui`` holds ``tui.keys.help``)."""
    return not prefix or key == prefix or key.startswith((f"{prefix}.", f"{prefix}["))


def _text(value: Any, secret: bool) -> str:
    """A value as TOML would spell it (near enough); a secret as ``***`` or ``(not set)``."""
    if secret and value is None:
        return "(not set)"
    if secret and value == MASK:
        return MASK
    return json.dumps(value, ensure_ascii=False)
