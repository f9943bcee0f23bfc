"""``hk privacy``: a person's copy of their data, erasure, and who is due for review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hk.commands.common import Reason, archive_of, print_json, say
from hk.textwidth import fit

app = typer.Typer(
    help="Personal data rights (PIPL): a copy for the person, erasure, retention review.",
    no_args_is_help=True,
)

Person = Annotated[str, typer.Argument(help="Code or ID of a customer or a worker.")]


@app.command("export")
def export(
    ctx: typer.Context,
    person: Person,
    out: Annotated[Path, typer.Option("--out", help="The folder to write the copy into.")],
    reason: Reason = None,
) -> None:
    """Everything hk holds about a person (PIPL Art. 45), as JSON and a readable HTML page.

    Sensitive values are in full: the copy is for the person. Recorded in `hk audit`.
    """
    from hk.services.privacy import personal_copy, write_copy

    archive = archive_of(ctx)
    copy = personal_copy(archive, person)
    for path in write_copy(archive, copy, out, reason):
        say(f"wrote {path}")


@app.command("erase")
def erase(
    ctx: typer.Context,
    person: Person,
    reason: Reason = None,
    sensitive_only: Annotated[
        bool,
        typer.Option(
            "--sensitive-only",
            help="Only the sensitive values (ID number, health, children): when that consent "
            "is withdrawn.",
        ),
    ] = False,
    purge_history: Annotated[
        bool,
        typer.Option(
            "--purge-history",
            help="Also remove every past version of their records from git's history "
            "(git-filter-repo): every commit changes, every clone must be made again.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person (PIPL Art. 47): destroy their data key, redact their name, phones,
    addresses and notes here and in what belongs to them; business facts stay.

    Every copy of their sensitive values, in every clone and in git's history, becomes
    unreadable once the key is gone; other operators' machines drop their copy of the key at
    their next `hk doctor --fix`. Refused while they have business under way.
    """
    from hk.commands.common import interactive
    from hk.services.privacy import erase as erase_person

    if not yes:
        if not interactive():
            from hk.errors import UsageError

            raise UsageError("erasing cannot be undone: add --yes to confirm")
        question = f"erase {person}? This cannot be undone"
        if purge_history:
            question += (
                "; git's history will be rewritten: every operator must clone the archive "
                "again after you force-push it"
            )
        typer.confirm(question, abort=True)
    done = erase_person(archive_of(ctx), person, reason, sensitive_only, purge_history)
    what = "sensitive data" if sensitive_only else "personal data"
    say(f"erased the {what} of {done.kind} {done.code}: {done.redacted} record(s) redacted")
    say("  data key destroyed" if done.key_destroyed else "  there was no data key on this machine")
    if purge_history:
        say("  every past version of their records is gone from git's history")
        for remote in done.purged:
            say(f"  replace the history on {remote}: git push --force {remote} --all")
        say("  every other copy of the archive must be cloned again (old clones still hold it)")
    else:
        say("  remind every operator to run `hk doctor --fix` after their next sync")


@app.command("due")
def due(
    ctx: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """People with no business for longer than [privacy] retention_years: review, then
    erase those whose data is no longer needed."""
    from dataclasses import asdict

    from hk.services.privacy import due_for_review

    archive = archive_of(ctx)
    found = due_for_review(archive)
    if json:
        print_json([{**asdict(d), "last_business": d.last_business.isoformat()} for d in found])
        return
    for d in found:
        say(f"{fit(d.code, 7)} {fit(d.name, 10)} {d.kind:<9} last business {d.last_business}")
    years = archive.settings.privacy.retention_years
    say(f"{len(found)} people with no business for more than {years} years")
