"""``hk audit``: the trail of personal data — who saw, exported or sent what, when and why."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from hk.commands.common import archive_of, print_json, say
from hk.services.audit import Filter
from hk.store.archive import Archive
from hk.textwidth import fit

app = typer.Typer(
    help="The audit trail of personal data: every reveal, export, document and message.",
    invoke_without_command=True,
)

Since = Annotated[str | None, typer.Option("--from", help="From this day (YYYY-MM-DD).")]
Until = Annotated[str | None, typer.Option("--to", help="Up to this day (YYYY-MM-DD).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _filter(
    ctx: typer.Context,
    record: str | None = None,
    operator: str | None = None,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
) -> tuple[Archive, Filter]:
    from hk.commands.common import parse_day
    from hk.services.records import resolve_id

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    record_id = resolve_id(archive, None, record)[1] if record else None
    return archive, Filter(
        record=record_id,
        operator=operator,
        since=dt.date.fromisoformat(parse_day(since, "--from", tz)) if since else None,
        until=dt.date.fromisoformat(parse_day(until, "--to", tz)) if until else None,
        action=action,
    )


@app.callback()
def audit(
    ctx: typer.Context,
    record: Annotated[
        str | None, typer.Option("--record", help="Only entries about this record (code or ID).")
    ] = None,
    operator: Annotated[str | None, typer.Option("--operator", help="Only this operator.")] = None,
    action: Annotated[
        str | None,
        typer.Option(help="Only reveal, export, document, send, erase or access-copy."),
    ] = None,
    since: Since = None,
    until: Until = None,
    json: Json = False,
) -> None:
    """List the audit trail, oldest first: when, who, what, of which records, why, where to."""
    if ctx.invoked_subcommand is not None:
        return
    from hk.domain.audit import ACTION_ZH
    from hk.services.audit import entries
    from hk.services.records import code_of

    archive, where = _filter(ctx, record, operator, since, until, action)
    found = entries(archive, where)
    if json:
        print_json([e.model_dump(mode="json") for e in found])
        return
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(archive.settings.locale.timezone)
    for entry in found:
        who = ", ".join(code_of(archive, r) or r for r in entry.records[:3])
        if len(entry.records) > 3:
            who += f" …(+{len(entry.records) - 3})"
        elif not entry.records:
            who = f"全部 {entry.count} 条"
        where_to = entry.to + (f":{entry.channel}" if entry.channel else "")
        say(
            f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M}  {fit(entry.operator, 8)} "
            f"{fit(ACTION_ZH[entry.action], 12)} {fit(entry.kind, 9)} {fit(who, 18)} "
            f"{fit(','.join(entry.fields) or '-', 22)} {fit(where_to, 14)} {entry.reason}"
        )
    if not found:
        say("no audit entries" + (" match" if any(vars(where).values()) else " yet"))


@app.command()
def flows(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    json: Json = False,
) -> None:
    """Where personal data went over a period, summed up by action, destination and kind."""
    from dataclasses import asdict

    from hk.domain.audit import ACTION_ZH
    from hk.services.audit import flows as summed

    archive, where = _filter(ctx, since=since, until=until)
    found = summed(archive, where)
    if json:
        print_json([asdict(f) for f in found])
        return
    for flow in found:
        where_to = flow.to + (f":{flow.channel}" if flow.channel else "")
        say(
            f"{fit(ACTION_ZH[flow.action], 12)} {fit(flow.kind, 9)} → {fit(where_to, 14)} "
            f"{flow.times:>4} 次 {flow.records:>6} 条  {','.join(flow.fields) or '-'}  "
            f"({', '.join(flow.operators)})"
        )
    if not found:
        say("no personal data went anywhere in this period")
