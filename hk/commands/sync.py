"""``hk sync``, ``hk review`` and ``hk propose``: sharing one archive through a git remote."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import (
    Reason,
    archive_of,
    audit_reveal,
    destination,
    print_json,
    say,
)

if TYPE_CHECKING:
    from hk.services.review import Incoming, RecordChange
    from hk.services.sync import Outcome
    from hk.store.archive import Archive

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Reveal = Annotated[
    bool, typer.Option("--reveal", help="Show sensitive values in full (needs the key).")
]
VALUE_CELLS = 60
"""A value longer than this (in terminal cells) is cut, with … at the end."""


def sync(
    ctx: typer.Context,
    remote: Annotated[
        str | None, typer.Argument(help="Remote to sync with (default: the branch's, or origin).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Fetch and show what would change; merge nothing."),
    ] = False,
    reveal: Reveal = False,
    reason: Reason = None,
    json: Json = False,
) -> None:
    """Fetch the remote, merge its changes record by record, push ours.

    Fields changed on one side only are simply taken; a field both sides changed keeps the
    later change and the other value goes to the attic (hk conflicts). Every record the merge
    touches is validated first: an invalid one stops the sync, leaving the archive as it was.
    """
    why = audit_reveal(reveal, reason)
    archive = archive_of(ctx)
    if dry_run:
        from hk.services.review import audit_revealed, default_remote, incoming, resolve_target

        found = incoming(
            archive, resolve_target(archive, remote or default_remote(archive)), reveal
        )
        if json:
            print_json(found.to_json())
        else:
            show_incoming(found)
        if reveal:
            audit_revealed(archive, found, why, destination())
        if json:
            return
        if found.outgoing:
            say(f"would push {found.outgoing} commit(s) to {_where(found)}")
        return
    from hk.services.sync import sync as run_sync

    report = run_sync(archive, remote)
    if json:
        print_json({**outcome_json(report.outcome), "pushed": report.pushed})
        return
    show_outcome(archive, report.outcome)
    target = report.outcome.target
    if report.pushed:
        say(f"pushed {report.pushed} commit(s) to {target.remote}/{target.branch}")
    elif report.outcome.step == "none":
        say(f"up to date with {target.remote}/{target.branch}")


def review(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            help="A remote (its branch), REMOTE/BRANCH, or a branch such as propose/… "
            "(default: the remote the archive syncs with).",
            metavar="[REMOTE|BRANCH]",
        ),
    ] = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="Merge the changes (without pushing).")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Delete the proposed branch from its remote.")
    ] = False,
    reveal: Reveal = False,
    reason: Reason = None,
    json: Json = False,
) -> None:
    """Incoming changes before they apply: each record's changed fields, who, when.

    Sensitive values are masked unless --reveal. --accept merges what is listed (as hk sync
    does, without pushing: hk sync pushes); --reject deletes a proposed branch.
    """
    from hk.errors import UsageError

    archive = archive_of(ctx)
    if accept and reject:
        raise UsageError("--accept and --reject exclude each other")
    if reject:
        from hk.services.sync import reject as run_reject

        if name is None:
            raise UsageError(
                "--reject needs the branch to reject", hint="hk review BRANCH --reject"
            )
        rejected = run_reject(archive, name)
        where = f" on {rejected.remote}" if rejected.remote else ""
        say(f"rejected: deleted branch {rejected.branch}{where}")
        return
    if accept:
        from hk.services.sync import accept as run_accept

        outcome = run_accept(archive, name)
        if json:
            print_json(outcome_json(outcome))
            return
        show_outcome(archive, outcome)
        if outcome.step == "none":
            say(f"nothing to accept: {outcome.target.name} has no change this archive lacks")
        elif outcome.target.remote:
            say("accepted; `hk sync` shares it")
        return
    from hk.services.review import audit_revealed, incoming, resolve_target

    why = audit_reveal(reveal, reason)
    found = incoming(archive, resolve_target(archive, name), reveal)
    if reveal:
        audit_revealed(archive, found, why, destination())
    if json:
        print_json(found.to_json())
        return
    show_incoming(found)
    if found.changes:
        say(f"accept with `hk review {name + ' ' if name else ''}--accept`")


def propose(
    ctx: typer.Context,
    remote: Annotated[
        str | None, typer.Argument(help="Remote to propose to (default: the branch's, or origin).")
    ] = None,
) -> None:
    """Push the changes made here to a branch of their own for the owner to review, instead
    of to the shared branch; prints the branch's name."""
    from hk.services.sync import propose as run_propose

    proposal = run_propose(archive_of(ctx), remote)
    say(proposal.branch)
    say(
        f"pushed {proposal.commits} commit(s) to {proposal.remote}; the owner reviews them with "
        f"`hk review {proposal.branch}` and accepts (--accept) or rejects (--reject)"
    )


# --- rendering ------------------------------------------------------------------------------


def _where(found: Incoming) -> str:
    target = found.target
    return f"{target.remote}/{target.branch}" if target.remote else target.branch


def show_incoming(found: Incoming) -> None:
    """One line per field change (see :func:`change_lines`), or that nothing comes in."""
    if found.target.ref is None:
        say(f"{_where(found)} does not exist yet: nothing incoming")
        return
    if not found.commits:
        say(f"nothing incoming from {_where(found)}")
        return
    say(f"{found.commits} commit(s) incoming from {_where(found)}:")
    for line in change_lines(found.changes):
        say("  " + line)


def change_lines(changes: list[RecordChange]) -> list[str]:
    """``customer K9F13 陈淑芬: phone 138… → 139…, by 王店长, 2026-12-08 10:14``; a created or
    deleted record (or another file) said as such."""
    lines = []
    for change in changes:
        tail = f", by {change.operator}, {change.when}"
        if change.action != "changed" or not change.changes:
            lines.append(f"{change.label()}: {change.action}{tail}")
            continue
        for diff in change.changes:
            old, new = value_text(diff.field, diff.old), value_text(diff.field, diff.new)
            lines.append(f"{change.label()}: {diff.field} {old} → {new}{tail}")
    return lines


def value_text(path: str, value: Any) -> str:
    """A value on one line, cut to :data:`VALUE_CELLS` cells; ``—`` for none."""
    from rich.cells import cell_len

    from hk.commands.render import format_value

    if value is None:
        return "—"
    leaf = path.rsplit(".", 1)[-1].split("[")[0]
    text = " ".join(format_value(leaf, value).split())
    if cell_len(text) <= VALUE_CELLS:
        return text
    while cell_len(text) > VALUE_CELLS - 1:
        text = text[:-1]
    return text + "…"


def show_outcome(archive: Archive, outcome: Outcome) -> None:
    """What a merge did: commits and records merged, values kept in the attic, codes changed."""
    if outcome.step == "none":
        return
    target = outcome.target
    where = f"{target.remote}/{target.branch}" if target.remote else target.branch
    what = "fast-forward" if outcome.step == "fast-forward" else "merged"
    parts = [f"{outcome.incoming} commit(s)", f"{len(outcome.touched)} file(s) changed"]
    if outcome.merged:
        parts.append(f"{len(outcome.merged)} record(s) changed on both sides merged field by field")
    say(f"{what} {where}: {', '.join(parts)}")
    for line in conflict_lines(archive, outcome):
        say("  " + line)
    if outcome.conflicts:
        say(f"  {len(outcome.conflicts)} value(s) kept in the attic: `hk conflicts` lists them")
    for code in outcome.recoded:
        say(f"  code changed: {code.kind} {code.old} → {code.new} {code.title}".rstrip())


def conflict_lines(archive: Archive, outcome: Outcome) -> list[str]:
    """``customer K9F13 陈淑芬: phone changed on both sides; kept 王店长's (…), 李会计's (…) is in
    the attic``: who and when, not the values (``hk conflicts`` shows them, masked)."""
    from hk.services.review import record_of

    lines = []
    for path, loser in outcome.conflicts:
        found = record_of(path)
        label = path
        if found is not None:
            row = archive.index.get(found[1])
            code, name = (row["code"], row["name"]) if row is not None else (None, "")
            label = " ".join(p for p in (found[0], code or found[1], name) if p)
        lines.append(
            f"{label}: {loser.field} changed on both sides; kept {loser.kept_by}'s "
            f"({_when(archive, loser.kept_at)}), {loser.lost_by}'s "
            f"({_when(archive, loser.lost_at)}) is in the attic"
        )
    return lines


def _when(archive: Archive, at: Any) -> str:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(archive.settings.locale.timezone)
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if hasattr(at, "astimezone") else str(at)


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "target": outcome.target.name,
        "step": outcome.step,
        "head": outcome.head,
        "incoming": outcome.incoming,
        "touched": outcome.touched,
        "merged": outcome.merged,
        "attic": outcome.attic,
        "conflicts": len(outcome.conflicts),
        "recoded": [
            {"kind": r.kind, "id": r.record_id, "old": r.old, "new": r.new} for r in outcome.recoded
        ],
    }
