"""The ``hk`` command line: a thin Typer layer over :mod:`hk.services`.

Errors a user can fix print as ``error: …`` with a hint and the exit codes of DESIGN §4; any
other exception is a bug: one line on screen, the traceback in a log file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from hk import __version__
from hk.commands.common import Options
from hk.errors import HkError


class HkGroup(typer.core.TyperGroup):
    """Turns :class:`HkError` into its message and exit code, in every way hk is invoked."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except HkError as exc:
            typer.echo(render_error(exc), err=True)
            ctx.exit(exc.exit_code)


OTHER_OPTIONS = {
    "price_fen": "--price",
    "required_skills": "--skill",
    "checklist": "--check",
    "items": "--item",
}
"""Record fields whose option is not named after them, beyond customers and workers (whose
options come from the typed changes of :mod:`hk.services.people`)."""


def option_of(field: str) -> str:
    """The option that sets a record field, to name it in an error: from the same declaration
    that turns the options into fields (:data:`hk.services.people.INPUT_OF_FIELD`)."""
    from hk.services.people import INPUT_OF_FIELD

    for inputs in INPUT_OF_FIELD.values():
        if field in inputs:
            name = inputs[field]
            return name if name == "address" else "--" + name.replace("_", "-")
    return OTHER_OPTIONS.get(field, "--" + field.replace("_", "-"))


def render_error(exc: HkError) -> str:
    """Problems with command-line input name the option, not a file."""
    from hk.errors import InvalidData

    if not isinstance(exc, InvalidData):
        return exc.render()
    lines = []
    for problem in exc.problems:
        if problem.path == "<input>":
            head = (problem.field or "").split(".")[0].split("[")[0]
            option = option_of(head)
            text = f"error: {option}: {problem.message}"
        elif problem.path is None:  # a rule a change broke, named by the record's field
            text = f"error: {problem.field}: {problem.message}" if problem.field else ""
            text = text or f"error: {problem.message}"
        else:
            lines.append(problem.render())
            continue
        if problem.hint:
            text += f"\n  hint: {problem.hint}"
        lines.append(text)
    return "\n".join(lines)


def _root() -> typer.Typer:
    return typer.Typer(
        cls=HkGroup,
        name="hk",
        help="hk — customers, workers, orders and dispatch for a housekeeping company (家政), "
        "kept as plain files under git.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hk {__version__}")
        raise typer.Exit()


ARCHIVE_OPTION = ("--archive", "-C")
"""The root option that names the archive: declared once, for Typer and for :func:`first_pass`."""


def main(
    ctx: typer.Context,
    archive: Annotated[
        Path | None,
        typer.Option(
            *ARCHIVE_OPTION,
            envvar="HK_ARCHIVE",
            help="Archive folder (default: nearest hk.toml upwards, then the user's archive).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    ctx.obj = Options(archive=archive)


SUBAPPS: dict[str, str] = {
    "customer": "customer:app",
    "worker": "worker:app",
    "catalog": "catalog:app",
    "order": "order.app:app",
    "quote": "quote.app:app",
    "contract": "contract.app:app",
    "import": "io:import_app",
    "export": "io:export_app",
    "watch": "watch:app",
    "dispatch": "dispatch.app:app",
    "visit": "visit:app",
    "complaint": "complaint:app",
    "survey": "survey:app",
    "cron": "cron:app",
    "calendar": "calendar:app",
    "points": "points:app",
    "config": "config:app",
    "key": "key:app",
    "audit": "audit:app",
    "consent": "consent:app",
    "privacy": "privacy:app",
    "conflicts": "conflicts:app",
}
"""Each command group, as the module of :mod:`hk.commands` that holds it and its name there."""
COMMANDS: dict[str, str] = {
    "init": "archive:init",
    "reindex": "archive:reindex",
    "doctor": "archive:doctor",
    "show": "record:show",
    "log": "record:log",
    "edit": "record:edit",
    "demo": "demo:demo",
    "tui": "tui:tui",
    "remind": "remind:remind",
    "batch": "batch:batch",
    "merge-driver": "conflicts:merge_driver",
    "textconv": "record:textconv",
    "report": "report:report",
    "sync": "sync:sync",
    "review": "sync:review",
    "propose": "sync:propose",
}
"""Each single command, the same way. Only the module of the command in use is imported."""


HIDDEN = {"merge-driver", "textconv"}
"""Commands not listed in the help: run by git, not by people."""


def _load(where: str) -> Any:
    import importlib

    module, name = where.split(":")
    return getattr(importlib.import_module(f"hk.commands.{module}"), name)


def _register(root: typer.Typer, names: list[str]) -> typer.Typer:
    root.callback()(main)
    for name in names:
        if name in SUBAPPS:
            root.add_typer(_load(SUBAPPS[name]), name=name)
        else:
            root.command(name, hidden=name in HIDDEN)(_load(COMMANDS[name]))
    return root


_WHOLE: list[typer.Typer] = []


def whole_app() -> typer.Typer:
    """The application with every command, built once (help, completion, tests)."""
    if not _WHOLE:
        _WHOLE.append(_register(_root(), [*COMMANDS, *SUBAPPS]))
    return _WHOLE[0]


def __getattr__(name: str) -> Any:
    """``hk.cli.app`` is :func:`whole_app`, built only when someone asks for it."""
    if name == "app":
        return whole_app()
    raise AttributeError(name)


def first_pass(argv: list[str]) -> list[str]:
    """The command line after the root's ``--archive``/``-C`` option: what names the command.

    Not a second parser: Typer parses everything; this only looks past the one root option
    that takes a value, to choose which command to build.
    """
    args = list(argv)
    while args:
        if args[0] in ARCHIVE_OPTION and len(args) >= 2:
            args = args[2:]
        elif args[0].startswith(ARCHIVE_OPTION[0] + "="):
            args = args[1:]
        else:
            break
    return args


def _app_for(argv: list[str]) -> typer.Typer:
    """The whole app, or one holding just the command asked for.

    Typer builds every command's options before it runs one; building only the one in use
    saves tens of milliseconds on each call. Help, completion and anything unusual get the
    whole app.
    """
    args = first_pass(argv)
    if os.environ.get("_HK_COMPLETE") or not args or args[0] not in {*SUBAPPS, *COMMANDS}:
        return whole_app()
    return _register(_root(), [args[0]])


def opens_tui(args: list[str]) -> bool:
    """``hk`` alone (or with only ``--archive``) on a terminal opens the TUI; elsewhere (a
    pipe, cron) it prints the help as before."""
    return not first_pass(args) and sys.stdin.isatty() and sys.stdout.isatty()


def run(argv: list[str] | None = None) -> None:
    """Run the CLI; map errors to messages and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    if opens_tui(args):
        args = [*args, "tui"]
    try:
        _app_for(args)(args=args, prog_name="hk", standalone_mode=True)
    except HkError as exc:  # raised outside a command (e.g. while parsing options)
        typer.echo(render_error(exc), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except (SystemExit, typer.Exit):
        raise
    except Exception:  # anything else is a bug: one line on screen, the traceback in the log
        sys.exit(report_crash(args))


def report_crash(args: list[str] | None = None) -> int:
    """A bug: one line for the user, the traceback in the crash log (without the command
    line's values: only the command's name, see :mod:`hk.store.crashlog`)."""
    from hk.store import crashlog

    exc = sys.exc_info()[1]
    assert exc is not None
    where = crashlog.record(command_name(sys.argv[1:] if args is None else args), exc, __version__)
    typer.echo(f"hk: internal error: {type(exc).__name__}: {exc} — details in {where}", err=True)
    return 1


def command_name(argv: list[str]) -> str:
    """The command a command line runs (``customer add``), none of its values."""
    args = first_pass(argv)
    if not args or args[0] not in {*SUBAPPS, *COMMANDS}:
        return "hk"
    words = ["hk", args[0]]
    if args[0] in SUBAPPS and len(args) > 1 and args[1].replace("-", "").isalpha():
        words.append(args[1] if args[1].isascii() else "?")
    return " ".join(words)
