"""Archive-wide commands: ``hk init``, ``hk reindex``, ``hk doctor``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hk.commands.common import archive_of, print_json, say

if TYPE_CHECKING:
    from hk.services.doctor import Fixed
    from hk.store.archive import Archive


def init(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Folder for the new archive.")] = None,
    company: Annotated[str | None, typer.Option(help="Company name for documents.")] = None,
    city: Annotated[str, typer.Option(help="Default city for addresses.")] = "成都市",
) -> None:
    """Create a new archive: a git repository with hk.toml, the default catalog and a key."""
    from hk.commands.common import Options
    from hk.services.archive import init as init_archive
    from hk.store.archive import locate

    opts = ctx.find_root().obj
    target = path or (opts.archive if isinstance(opts, Options) and opts.archive else None)
    report = init_archive(target or locate(None), company=company, city=city)
    say(f"created archive {report.root}")
    say(
        f"encryption key: {report.key_dir / 'master.key'}"
        + ("" if report.key_created else " (existing key reused)")
    )
    say("  ID numbers, health notes and children's details are encrypted with it.")
    say(f"  Back up the whole folder {report.key_dir} somewhere safe and NOT in the archive:")
    say(f"    tar czf hk-keys.tgz -C {report.key_dir.parent} {report.key_dir.name}")
    say("  Without it those values stay locked; everything else keeps working.")


def reindex(ctx: typer.Context) -> None:
    """Rebuild the search index from the files (it is derived; deleting it loses nothing)."""
    from hk.commands.common import warn_broken

    archive = archive_of(ctx)
    report = archive.index.rebuild()
    warn_broken(ctx, report.broken)
    say(f"indexed {report.parsed} records")


def doctor(
    ctx: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="First finish what an interrupted write left: a half-done bulk write, "
            "leftover temp files.",
        ),
    ] = False,
) -> None:
    """Check every file of the archive; report all problems; exit 1 if there are errors."""
    from hk.services.doctor import check_archive

    archive = archive_of(ctx)
    fixed = _fix(archive, quiet=json) if fix else None
    report = check_archive(archive)
    if json:
        data = report.to_json()
        if fixed is not None:
            data["fixed"] = {
                "recovered": fixed.recovered,
                "removed": fixed.removed,
                "shredded": fixed.shredded,
            }
        print_json(data)
    else:
        for problem in report.errors:
            typer.echo(problem.render(), err=True)
        for problem in report.warnings:
            typer.echo("warning: " + problem.render(), err=True)
        status = "ok" if report.ok else f"{len(report.errors)} problem(s)"
        say(
            f"checked {report.checked} files: {status}"
            + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
        )
    if not report.ok:
        raise typer.Exit(1)


def _fix(archive: Archive, quiet: bool) -> Fixed:
    """``hk doctor --fix``: repair, and say what was repaired (unless the output is JSON)."""
    from hk.services.doctor import fix

    fixed = fix(archive)
    if not quiet:
        if fixed.recovered:
            say(fixed.recovered)
        if fixed.removed:
            n = len(fixed.removed)
            say(f"removed {n} leftover temp file{'s' if n != 1 else ''}")
        for code in fixed.shredded:
            say(f"destroyed the data key of {code}, erased on another clone")
    return fixed
