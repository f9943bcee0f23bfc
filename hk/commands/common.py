"""What every command shares: the archive option, output helpers, error reporting."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from hk.store.archive import Archive

from hk.errors import UsageError


@dataclass
class Options:
    archive: Path | None = None


def archive_of(ctx: typer.Context) -> Archive:
    """The archive named by --archive, HK_ARCHIVE, the current folder or the default."""
    from hk.store.archive import Archive

    root = ctx.find_root()
    opts = root.obj if isinstance(root.obj, Options) else Options()
    return Archive.open(opts.archive)


def print_json(data: Any) -> None:
    import orjson

    sys.stdout.buffer.write(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
    )
    sys.stdout.flush()


def say(text: str) -> None:
    """A line for a person (to stdout); commands stay quiet on success unless they show data."""
    sys.stdout.write(text + "\n")


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def require(value: str | None, option: str, prompt: str) -> str:
    """A required value: asked for in a terminal, a usage error (exit 2) otherwise."""
    if value:
        return value
    if interactive():
        answer: str = typer.prompt(prompt)
        return answer
    raise UsageError(f"missing {option}", hint=f"give it as {option} …")


def split_csv(values: list[str] | None) -> list[str]:
    """Accept both repeated options and comma-separated values (``--tag a,b --tag c``)."""
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    return out
