"""``hk batch``: apply JSON lines of changes (stdin or a file) in one commit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hk.commands.common import archive_of, say
from hk.errors import EXIT_USER, UsageError

if TYPE_CHECKING:
    from hk.services.batch import BatchReport

HELP = """Apply many changes from a script in one commit: one JSON object per line, on stdin or
from --file.

\b
  {"op": "customer.edit", "ref": "K7F3Q", "set": {"phone": ["13800138000"], "community": "万科城"}}
  {"op": "customer.add", "set": {"name": "张三", "phone": "13900139000", "tag": ["高端客户"]}}
  {"op": "worker.edit", "ref": "A2B3C", "set": {"skill": ["保洁:4", "烹饪:3:川菜"]}}
  {"op": "worker.add", "set": {"name": "王秀英", "gender": "女", "phone": "13700137000"}}

ref is the record's code or ID. The keys of set are the options of hk customer add/edit and
hk worker add/edit without their dashes (phone, add_phone, remove_phone, health_note,
prefer_worker, community, skill, cert, available …) and are checked the same way; a list
replaces the whole list, and an empty value ("" or []) clears a field. Lines apply in
order. If any line is refused nothing is written and every bad line is reported (line N:
error: …), unless --keep-going. Exit 0: all applied; 1: a line was refused; 2: usage; 3: the
archive is locked or a record changed meanwhile.
"""


def batch(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the lines from this file (- or none: stdin)."),
    ] = None,
    keep_going: Annotated[
        bool,
        typer.Option("--keep-going", help="Apply the valid lines even if some are refused."),
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per input line.")
    ] = False,
) -> None:
    from hk.services.batch import apply_batch

    lines = _read(file)
    report = apply_batch(archive_of(ctx), lines, keep_going=keep_going)
    if json:
        _print_json(report)
    else:
        _print_plain(report)
    if report.bad:
        raise typer.Exit(EXIT_USER)


batch.__doc__ = HELP


def _read(file: Path | None) -> list[str]:
    """The input's lines (UTF-8, a byte-order mark allowed); a missing file is a usage error."""
    if file is None or str(file) == "-":
        if sys.stdin.isatty():
            raise UsageError("no lines: hk batch reads them from stdin", hint="or give --file PATH")
        data = sys.stdin.buffer.read()
        where = "stdin"
    else:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror}") from None
        where = str(file)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{where} is not UTF-8 text (byte {exc.start})", hint="save it as UTF-8"
        ) from None
    # Not splitlines(): U+2028 may stand inside a JSON string and is no line break there.
    return [line.removesuffix("\r") for line in text.split("\n")]


def _print_json(report: BatchReport) -> None:
    import orjson

    out = sys.stdout.buffer
    for result in report.results:
        out.write(orjson.dumps(result.to_json()) + b"\n")
    sys.stdout.flush()


def _print_plain(report: BatchReport) -> None:
    """One line per problem (``line N: error: field: message`` and its hint), then a summary."""
    for result in report.bad:
        for problem in result.problems:
            where = f"{problem.field}: " if problem.field else ""
            typer.echo(f"line {result.line}: error: {where}{problem.message}", err=True)
            if problem.hint:
                typer.echo(f"  hint: {problem.hint}", err=True)
    if report.bad:
        typer.echo(report.summary(), err=True)
    else:
        say(report.summary())
