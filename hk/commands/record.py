"""Commands on any record by ID or code: ``hk show``, ``hk log``, ``hk edit`` (and ``hk
textconv``, git's view of a people file in a diff)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.errors import HkError

if TYPE_CHECKING:
    from hk.domain.layout import Kind
    from hk.store.archive import Archive

from hk.commands.common import Reason, archive_of, audit_reveal, destination, print_json, say

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Reveal = Annotated[bool, typer.Option("--reveal", help="Show sensitive values in full.")]
Ref = Annotated[str, typer.Argument(help="Code or ID of any record (customer, worker, …).")]


def show_record(
    archive: Archive,
    kind: Kind | None,
    ref: str,
    reveal: bool,
    json: bool,
    at: str | None = None,
    extra: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Print one record (as of ``at``); ``extra`` adds derived fields (a customer's stage).

    A reveal needs a reason and is recorded in the audit trail once printed.
    """
    from hk.commands.render import render_record
    from hk.domain.kinds import KINDS
    from hk.errors import HkError, InvalidData, Problem
    from hk.services.records import display, file_text, load, resolve_id
    from hk.store.files import relpath_for

    why = audit_reveal(reveal, reason)
    kind, record_id = resolve_id(archive, kind, ref)
    model = KINDS[kind]
    if at is not None:
        from hk.services.history import data_at, parse_when
        from hk.store.files import validate_data

        when = parse_when(at, archive.settings.locale.timezone)
        data = data_at(archive, kind, record_id, when)
        record = validate_data(model, data, None, f"{model.folder}/{record_id}.yaml@{at}")
    else:
        try:
            record, _ = load(archive, model, record_id)
        except InvalidData as exc:  # say how to get at it, as well as what is wrong
            try:
                file_text(archive, model, record_id)
            except HkError:  # not a text file at all: only its own problem applies
                raise exc from None
            exc.problems.append(
                Problem(
                    message="the record cannot be shown until its file is repaired",
                    path=relpath_for(model, record_id),
                    hint=f"`hk show {ref} --raw` prints the file as it is; "
                    f"`hk edit {ref}` opens it for repair",
                )
            )
            raise
    shown = display(archive, record, reveal)
    shown.update(extra or {})
    if json:
        print_json(shown)
    else:
        for key in ("referrer", "preferred_workers", "blocked_workers"):
            if key in shown:
                shown[key] = _names(archive, shown[key])
        title = f"{record.title()}  {shown.get('code', '')}  {model.label_zh}"
        if at is not None:
            title += f"  (as of {at})"
        say(render_record(title, {k: v for k, v in shown.items() if k not in ("code", "name")}))
    if reveal:
        _audit_reveal(archive, kind, record_id, [p for p, _ in record.sealed_values()], why)


def _audit_reveal(
    archive: Archive, kind: Kind, record_id: str, fields: list[str], reason: str
) -> None:
    from hk.services.audit import record_reveal

    record_reveal(archive, kind, record_id, reason, destination(), fields)


def _names(archive: Archive, ids: str | list[str]) -> str | list[str]:
    """Record IDs as people read them: ``W3K9P 李桂芳``."""

    def one(record_id: str) -> str:
        row = archive.index.get(record_id)
        return f"{row['code']} {row['name']}" if row is not None else record_id

    return one(ids) if isinstance(ids, str) else [one(i) for i in ids]


def show(
    ctx: typer.Context,
    ref: Ref,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Show the record as it was then (YYYY-MM-DD[ HH:MM])."),
    ] = None,
    reveal: Reveal = False,
    reason: Reason = None,
    json: Json = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Print the file as it is on disk (sensitive values stay sealed), and its "
            "problems if it is not valid (then exit 1): also for a record that does not parse.",
        ),
    ] = False,
) -> None:
    """Show any record by code or ID, now or as it was at a past date."""
    if raw:
        if at is not None or reveal or json:
            from hk.errors import UsageError

            raise UsageError("--raw prints the file as it is; it takes no --at, --reveal or --json")
        show_raw(ctx, ref)
        return
    show_record(archive_of(ctx), None, ref, reveal, json, at, reason=reason)


def show_raw(ctx: typer.Context, ref: str) -> None:
    """The record's file as it is, then what is wrong with it (on stderr, exit 1)."""
    import sys

    from hk.domain.kinds import KINDS
    from hk.services.records import file_text, resolve_id

    archive = archive_of(ctx)
    kind, record_id = resolve_id(archive, None, ref)
    found = file_text(archive, KINDS[kind], record_id)
    sys.stdout.write(found.text)
    sys.stdout.flush()
    if not found.problems:
        return
    n = len(found.problems)
    if found.text and not found.text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stderr.write(f"{found.path} is not a valid record ({n} problem{'s' * (n != 1)}):\n")
    for problem in found.problems:
        sys.stderr.write(problem.render() + "\n")
    sys.stderr.write(f"  hint: `hk edit {ref}` opens the file for repair\n")
    raise typer.Exit(1)


def log(
    ctx: typer.Context, ref: Ref, reveal: Reveal = False, reason: Reason = None, json: Json = False
) -> None:
    """The record's history: who changed which fields, from what to what, and when."""
    from hk.commands.render import format_value
    from hk.services.history import log as history
    from hk.services.records import resolve_id

    why = audit_reveal(reveal, reason)
    archive = archive_of(ctx)
    kind, record_id = resolve_id(archive, None, ref)
    entries = history(archive, kind, record_id, reveal)
    if reveal:
        sealed = sorted({c.field for e in entries for c in e.changes if c.sensitive})
        _audit_reveal(archive, kind, record_id, sealed, why)
    if json:
        print_json(
            [
                {
                    "commit": e.commit,
                    "operator": e.operator,
                    "when": e.when,
                    "subject": e.subject,
                    "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in e.changes],
                }
                for e in entries
            ]
        )
        return
    for entry in entries:
        say(f"{entry.when}  {entry.operator}  {entry.subject}  [{entry.commit[:8]}]")
        if entry.changes and all(c.old is None for c in entry.changes) and entry is entries[-1]:
            say(f"    created with {len(entry.changes)} fields (hk show {ref} --at … shows them)")
            continue
        for change in entry.changes:
            old = "—" if change.old is None else format_value(change.field, change.old)
            new = "—" if change.new is None else format_value(change.field, change.new)
            say(f"    {change.field}: {old} → {new}")


def edit(ctx: typer.Context, ref: Ref) -> None:
    """Edit a record's file in $EDITOR; it is validated on save and re-opened if invalid."""
    from hk.services.editor import edit as edit_record

    archive = archive_of(ctx)
    outcome = edit_record(archive, ref)
    if outcome.aborted:
        say("edit aborted: the file was emptied; nothing changed")
    elif outcome.result is None or outcome.result.commit is None:
        say("nothing changed")
    elif outcome.repaired:
        say(f"repaired {outcome.result.code or ref}: the file is a valid record again")
    else:
        r = outcome.result
        say(f"saved {r.code or ref}: {', '.join(r.changed_fields) or 'no field changes'}")


def textconv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file git hands over.")],
) -> None:
    """Show a people file for git's diff: sealed values masked, with a mark that says whether
    they changed (set up by hk for `git diff` and `git log -p`)."""
    import sys

    from hk.services.history import diff_view

    text = file.read_text(encoding="utf-8", errors="replace")
    try:
        archive = archive_of(ctx)
    except HkError:  # not inside an archive: show the file as it is
        sys.stdout.write(text)
        return
    sys.stdout.write(diff_view(archive, text))
