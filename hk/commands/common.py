"""What every command shares: the archive option, output helpers, error reporting."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from hk.domain.layout import Kind
    from hk.store.archive import Archive

from hk.errors import UsageError


@dataclass
class Options:
    """What the root command was given, and the archive once a command opened it."""

    archive: Path | None = None
    opened: Archive | None = None
    warned: set[str] = field(default_factory=set)
    """The broken files this command has named already."""


def _options(ctx: typer.Context) -> Options:
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


def archive_of(ctx: typer.Context) -> Archive:
    """The archive named by --archive, HK_ARCHIVE, the current folder or the default; opened
    once per command. When the command ends, the files its reads found broken are named on
    stderr (the services only record them: only commands print)."""
    from hk.store.archive import Archive

    opts = _options(ctx)
    if opts.opened is None:
        opts.opened = Archive.open(opts.archive)
        archive = opts.opened
        ctx.find_root().call_on_close(lambda: _warn_index(ctx, archive))
    return opts.opened


def _warn_index(ctx: typer.Context, archive: Archive) -> None:
    if "index" in archive.__dict__:  # only an index this command opened
        warn_broken(ctx, archive.index.broken)


def warn_broken(ctx: typer.Context, broken: dict[str, str]) -> None:
    """Files that failed to parse are named on stderr by every read: never a silent skip.
    Each file once per command, however many reads found it."""
    warned = _options(ctx).warned
    fresh = {p: m for p, m in broken.items() if p not in warned}
    if not fresh:
        return
    warned.update(fresh)
    n = len(fresh)
    sys.stderr.write(
        f"warning: {n} file{'s' if n != 1 else ''} could not be read and "
        f"{'are' if n != 1 else 'is'} left out; run `hk doctor`\n"
    )
    for path, problem in list(fresh.items())[:3]:
        line = problem if problem.startswith(path) else f"{path}: {problem}"
        sys.stderr.write(f"  {line}\n")


def write_out(out: str | Path, text: str) -> None:
    """Write a command's document to ``--out`` (``-``: stdout) and say where it went, through
    the one helper every named output uses (:func:`hk.store.output.write_output`)."""
    from hk.store.output import STDOUT, write_output

    write_output(out, text.encode("utf-8"), stdout=sys.stdout.buffer)
    if str(out) != STDOUT:
        say(f"wrote {out}")


def print_results(kind: Kind, items: list[dict[str, Any]], as_json: bool) -> None:
    """Search or list results: a table measured in terminal cells, or JSON."""
    from hk.services.lookup import render_table

    if as_json:
        print_json(items)
    elif items:
        sys.stdout.write(render_table(kind, items) + "\n")


def print_json(data: Any) -> None:
    import orjson

    sys.stdout.buffer.write(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
    )
    sys.stdout.flush()


Reason = Annotated[
    str | None,
    typer.Option(
        "--reason",
        help="Why the personal data is needed; recorded in `hk audit` (required with --reveal).",
    ),
]


def audit_reveal(reveal: bool, reason: str | None, what: str = "--reveal") -> str:
    """The reason for a reveal, checked before anything is shown ("" when not revealing)."""
    if not reveal:
        return (reason or "").strip()
    from hk.services.audit import require_reason

    return require_reason(reason, what)


SHEET_FIELDS = ("name", "address", "access_notes", "household", "taboos", "phones (masked)")
"""The personal data a worker's sheet carries; a revealed one adds the next."""
REVEALED_SHEET_FIELDS = ("phones", "health_notes", "household.care_notes")


def audit_document(
    archive: Archive,
    customers: list[str],
    revealed: bool,
    reason: str,
    out: object,
    document: str,
    fields: tuple[str, ...] | None = None,
) -> None:
    """Record a document with customers' personal data (a worker's sheet, a quote, a contract)
    in the audit trail: whose, which kinds (``fields``; a sheet's by default), why, and where
    it went (a file, or the screen or a pipe)."""
    from hk.services.audit import Access, record

    if fields is None:
        fields = SHEET_FIELDS[:-1] + REVEALED_SHEET_FIELDS if revealed else SHEET_FIELDS
    to_file = out is not None and str(out) != "-"
    to = "file" if to_file else destination()
    ids = sorted(set(customers))
    record(archive, Access("document", "customer", ids, fields, to, reason, document))


def destination() -> Literal["terminal", "stdout"]:
    """Where printed data goes, for the audit trail: a person's screen, or a pipe or file."""
    return "terminal" if sys.stdout.isatty() else "stdout"


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


def run_find(ctx: typer.Context, kind: Kind, query: str, limit: int, as_json: bool) -> None:
    """Search one kind and print the results; exit 1 when nothing matched (like grep)."""
    from hk.services.lookup import find

    items = find(archive_of(ctx).index, kind, query, limit)
    print_results(kind, items, as_json)
    if not items and not as_json:
        raise typer.Exit(1)


def run_list(ctx: typer.Context, kind: Kind, as_json: bool, **filters: Any) -> None:
    """List one kind with the index's filters and print the results."""
    from hk.services.lookup import list_rows

    print_results(kind, list_rows(archive_of(ctx).index, kind, **filters), as_json)


def parse_day(text: str, option: str, tz: str) -> str:
    """A day as ``YYYY-MM-DD``; ``today`` and ``tomorrow`` (in the archive's timezone) too."""
    value = text.strip().lower()
    today = dt.datetime.now(ZoneInfo(tz)).date()
    named = {
        "today": today,
        "今天": today,
        "tomorrow": today + dt.timedelta(days=1),
        "明天": today + dt.timedelta(days=1),
    }
    if value in named:
        return named[value].isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(
            f"{option}: '{text}' is not a day", hint="write it like 2026-12-01"
        ) from None


def parse_moment(text: str, tz: str, option: str) -> dt.datetime:
    """``2026-12-01 09:00`` (or ISO 8601) in the archive's timezone; a date alone is refused,
    since an appointment or an event needs its time of day."""
    value = text.strip().replace("T", " ")
    try:
        if len(value) <= 10:
            raise ValueError
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option}: '{text}' is not a date and time",
            hint=f"write it like {option} '2026-12-01 09:00'",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz))


At = Annotated[
    str | None, typer.Option("--at", help="When it happened, 'YYYY-MM-DD HH:MM' (default: now).")
]
"""``--at``: when a step happened, for commands that record one (read by :func:`moment_of`)."""


def moment_of(archive: Archive, text: str | None, option: str = "--at") -> dt.datetime | None:
    """``--at`` (or another moment option) in the archive's timezone; None when not given."""
    return None if text is None else parse_moment(text, archive.settings.locale.timezone, option)


def parse_hours(text: str | None) -> Decimal | None:
    """``--hours``: a positive number of hours (``3``, ``2.5``), or None when not given."""
    if text is None:
        return None
    try:
        hours = Decimal(text.strip())
    except InvalidOperation:
        raise UsageError(
            f"--hours: '{text}' is not a number of hours", hint="e.g. --hours 3 or --hours 2.5"
        ) from None
    if not hours.is_finite() or hours <= 0:
        raise UsageError(f"--hours must be more than 0, not {text}")
    return hours
