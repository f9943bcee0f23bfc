"""``hk dispatch plan|check|pin|unpin``: a day's routes, the check of its assignments, and the
operator's hand on them.

The work is :mod:`hk.services.dispatch.plan` and :mod:`hk.services.dispatch.check`; this module
reads options and prints: each worker's itinerary with the reasons for each job, the jobs left
out and why, and the totals. Text lines up in a terminal with Chinese names (two cells each)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from hk.commands.common import archive_of, print_json, say

if TYPE_CHECKING:
    from hk.dispatch.day import Plan
    from hk.services.dispatch.plan import Day
    from hk.store.archive import Archive

DayOption = Annotated[
    str, typer.Option("--date", "-d", help="The day: 2026-11-23, today or tomorrow (明天).")
]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
WEEKDAY_ZH = "一二三四五六日"


def register(app: typer.Typer) -> None:
    """Add ``plan``, ``check``, ``pin`` and ``unpin`` to the ``hk dispatch`` app."""
    app.command("plan")(plan)
    app.command("check")(check)
    app.command("pin")(pin)
    app.command("unpin")(unpin)


def _day(archive: Archive, text: str) -> dt.date:
    from hk.commands.common import parse_day

    return dt.date.fromisoformat(parse_day(text, "--date", archive.settings.locale.timezone))


def plan(
    ctx: typer.Context,
    date: DayOption = "tomorrow",
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Assign every planned order to its worker, in one commit."),
    ] = False,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Seconds the planner may search (default: [dispatch] time_limit_s).",
            min=0.1,
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Plan a day's hourly jobs (待派工) into each worker's route, and say why.

    Orders already dispatched or under way keep their worker; orders pinned with
    ``hk dispatch pin`` go to that worker. Nothing is written without ``--apply``.
    """
    from hk.services.dispatch import plan as dispatch

    archive = archive_of(ctx)
    inputs, result = dispatch.make_plan(archive, _day(archive, date), time_limit)
    applied = None
    if apply and any(v.job.status == "to_dispatch" for it in result.itineraries for v in it.visits):
        applied = dispatch.apply(archive, inputs, result)
    if json:
        data = dispatch.plan_json(inputs, result)
        data["applied"] = bool(applied and applied.commit)
        print_json(data)
        return
    for line in plan_lines(inputs, result):
        say(line)
    if applied is not None:
        say(f"applied: {len(applied.paths)} orders dispatched in one commit")
    elif apply:
        say("nothing to apply: no order waiting for dispatch was placed")
    elif any(v.job.status == "to_dispatch" for it in result.itineraries for v in it.visits):
        say(f"to assign them: hk dispatch plan --date {inputs.day.isoformat()} --apply")


def plan_lines(inputs: Day, result: Plan) -> list[str]:
    """The plan as the operator reads it: one block per worker, then the jobs left out."""
    from hk.dispatch.day import clock, minutes
    from hk.textwidth import fit

    day = inputs.day
    waiting = sum(1 for job in result.jobs.values() if job.status == "to_dispatch")
    head = (
        f"派工计划 {day.isoformat()}（周{WEEKDAY_ZH[day.weekday()]}）  "
        f"待派工 {waiting} 单，已排 {result.placed} 单，未排 {len(result.unplaced)} 单"
    )
    lines = [head, ""]
    for it in result.itineraries:
        worker = it.worker
        route = f"{fit(worker.code, 6)} {fit(worker.name, 8)}"
        times = []
        if it.leave_home is not None:
            times.append(f"出发 {clock(it.leave_home)}")
        if it.back_home is not None:
            times.append(f"回到住处 {clock(it.back_home)}")
        travel = minutes(it.travel_seconds)
        lines.append(
            f"{route} {'  '.join(times)}  {len(it.visits)} 单  "
            f"服务 {_hours(it.service_seconds)}  路程 {travel} 分钟"
            f"（{it.travel_metres / 1000:.1f} km）"
        )
        for visit in it.visits:
            job = visit.job
            lines.append(
                f"  {clock(visit.start)}–{clock(visit.end)}  {fit(job.code, 7)} "
                f"{fit(job.customer_code, 6)} {fit(job.community or job.district, 14)} "
                f"{fit(job.services, 16)} 路程 {minutes(visit.travel_seconds)} 分钟"
            )
            lines.append(f"{'':14}为何：{'；'.join(visit.reasons)}")
        lines.append("")
    if result.unplaced:
        lines.append(f"未排（{len(result.unplaced)}）")
        for job_id, why in result.unplaced.items():
            job = result.jobs[job_id]
            window = f"{clock(job.earliest)}–{clock(job.latest + job.seconds)}"
            lines.append(
                f"  {window}  {fit(job.code, 7)} {fit(job.customer_code, 6)} "
                f"{fit(job.community or job.district, 14)} {job.services}"
            )
            lines.append(f"{'':14}原因：{why}")
        lines.append("")
    if inputs.waiting:
        lines.append(
            f"另有 {len(inputs.waiting)} 单待确认或已确认未进入待派工，未参与派工"
            "（hk order confirm / hk order ready）"
        )
    from hk.services.dispatch.plan import summary_line

    lines.append(f"{summary_line(result)}; planned in {result.seconds:.1f} s")
    return lines


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g} 小时" if hours == int(hours) else f"{hours:.1f} 小时"


def check(
    ctx: typer.Context,
    date: DayOption = "tomorrow",
    json: Json = False,
) -> None:
    """Check every hard rule of a day's assignments; exit 1 if any is broken.

    An independent check of what is in the archive (whoever assigned it: a plan, an operator
    by hand, another machine): skills, certificates, leave, the customer's refusals, gender and
    age, working hours, double booking, and time to travel between jobs.
    """
    from hk.services.dispatch.check import check_day

    archive = archive_of(ctx)
    report = check_day(archive, _day(archive, date))
    if json:
        print_json(report.to_json())
    else:
        for line in report.lines():
            say(line)
    if report.violations:
        raise typer.Exit(1)


def pin(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Code or ID of the order.")],
    worker: Annotated[str, typer.Argument(help="Code or ID of the worker.")],
) -> None:
    """Pin an order to a worker by hand: every plan keeps it (until unpinned or assigned)."""
    from hk.services.dispatch import plan as dispatch
    from hk.services.records import code_of

    archive = archive_of(ctx)
    updated, _ = dispatch.pin(archive, order, worker)
    who = code_of(archive, updated.pinned_worker or "") or updated.pinned_worker
    say(f"pinned {code_of(archive, updated.id) or updated.id} to {who}")


def unpin(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Code or ID of the order.")],
) -> None:
    """Let the plan choose the worker of an order again."""
    from hk.services.dispatch import plan as dispatch
    from hk.services.records import code_of

    archive = archive_of(ctx)
    updated, saved = dispatch.pin(archive, order, None)
    code = code_of(archive, updated.id) or updated.id
    say(f"unpinned {code}" if saved.commit else f"{code} was not pinned")
