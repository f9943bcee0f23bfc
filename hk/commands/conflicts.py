"""``hk conflicts``: values that lost a merge (the attic), and putting one back; and the
hidden ``hk merge-driver`` that ``git merge`` runs for record files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hk.commands.common import archive_of, print_json, say

app = typer.Typer(
    help="Values that lost a merge (冲突记录): list them, put one back or confirm the kept one.",
    invoke_without_command=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Reveal = Annotated[
    bool, typer.Option("--reveal", help="Show sensitive values in full (needs the key here).")
]

COLUMNS = [
    ("record", "记录"),
    ("field", "字段"),
    ("kept", "保留的值"),
    ("kept_who", "保留方"),
    ("lost", "被覆盖的值"),
    ("lost_who", "被覆盖方"),
]


@app.callback()
def conflicts(ctx: typer.Context, reveal: Reveal = False, json: Json = False) -> None:
    """List the open conflicts: record, field, the value kept and the value that lost, who
    wrote each and when. Sensitive values are masked unless --reveal."""
    if ctx.invoked_subcommand is not None:
        return
    from hk.domain.conflicts import shown
    from hk.services.conflicts import open_conflicts
    from hk.services.lookup import render_table

    archive = archive_of(ctx)
    found = [c.to_dict(archive, reveal) for c in open_conflicts(archive)]
    if json:
        print_json(found)
        return
    if not found:
        say("没有未解决的冲突 no open conflicts")
        return
    rows = [
        {
            **c,
            "record": f"{c['kind']} {c['code']} {c['name']}".rstrip(),
            "kept": shown(c["kept"]),
            "lost": shown(c["lost"]),
            "kept_who": _who(c["kept_by"], c["kept_at"]),
            "lost_who": _who(c["lost_by"], c["lost_at"]),
        }
        for c in found
    ]
    say(render_table(None, rows, COLUMNS))
    say("")
    say("resolve one with `hk conflicts resolve CODE FIELD --keep lost|kept`")


def _who(by: str, at: str) -> str:
    return f"{by} {at[:16].replace('T', ' ')}".strip()


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the record.")],
    field: Annotated[str, typer.Argument(help="The field, as `hk conflicts` names it.")],
    keep: Annotated[
        str,
        typer.Option(
            "--keep",
            help="lost: put the value that lost back into the record; kept: keep the record "
            "as it is.",
        ),
    ],
    json: Json = False,
) -> None:
    """Settle a conflict: the record gets the chosen value, the entry is marked resolved (one
    commit)."""
    from hk.domain.base import now
    from hk.errors import UsageError
    from hk.services.conflicts import resolve as resolve_conflict

    if keep not in ("lost", "kept"):
        raise UsageError(f"--keep is lost or kept, not '{keep}'")
    archive = archive_of(ctx)
    done = resolve_conflict(
        archive,
        ref,
        field,
        "lost" if keep == "lost" else "kept",
        now(archive.settings.locale.timezone),
    )
    entry = done.conflict.entry
    if json:
        print_json(
            {
                "kind": entry.kind,
                "record": entry.record,
                "code": done.conflict.code,
                "field": entry.field,
                "fields": done.fields,
                "keep": keep,
                "commit": done.commit,
            }
        )
        return
    what = "lost value put back" if keep == "lost" else "kept value confirmed"
    say(f"resolved {entry.kind} {done.conflict.code} {', '.join(done.fields)}: {what}")


def merge_driver(
    base: Annotated[Path, typer.Argument(help="git's %O: the common ancestor's version.")],
    ours: Annotated[Path, typer.Argument(help="git's %A: ours, replaced by the result.")],
    theirs: Annotated[Path, typer.Argument(help="git's %B: theirs.")],
    path: Annotated[str, typer.Argument(help="git's %P: the file's path in the archive.")],
) -> None:
    """Merge one record file for git, field by field (set up by `hk init` and every hk
    command: merge.hk.driver). Values that lose go to the attic with the next hk command."""
    from hk.errors import HkError
    from hk.services.conflicts import NotMerged
    from hk.services.conflicts import merge_driver as drive

    try:
        lost = drive(base, ours, theirs, path, Path.cwd())
    except NotMerged:
        raise typer.Exit(1) from None
    except HkError as exc:
        sys.stderr.write(f"hk merge-driver: {path} is left to git:\n{exc.render()}\n")
        raise typer.Exit(1) from None
    if lost:
        sys.stderr.write(
            f"hk: {path}: {lost} value{'s' if lost != 1 else ''} changed on both sides; "
            "the other value is kept for `hk conflicts`\n"
        )
