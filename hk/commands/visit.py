"""``hk visit``: return visits (回访) — what is due, log one, cancel one, list and show them.

What is owed follows SPEC §4 (see :mod:`hk.domain.visit.owed`): the first visit after a new
customer's first service and the periodic ones are computed from the customer's history and
listed under the customer's code; the visits an event asked for (a low score, a resolved
complaint, a new worker) are records with their own code (V…). ``hk visit log`` takes either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import At, archive_of, interactive, moment_of, print_json, require, say

if TYPE_CHECKING:
    from hk.domain.visit.model import Visit
    from hk.services.complaints import ComplaintIn
    from hk.store.archive import Archive

app = typer.Typer(
    help="Return visits (回访): due (and overdue), log, cancel, add, list, show.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
VisitRef = Annotated[
    str,
    typer.Argument(
        help="Code or ID of the visit, or the customer's code for the visit they are owed."
    ),
]

DUE_COLUMNS = [
    ("ref", "编号"),
    ("type_zh", "类型"),
    ("due", "应回访"),
    ("late", "逾期"),
    ("customer_label", "客户"),
    ("reason", "原因"),
]
LIST_COLUMNS = [
    ("code", "编号"),
    ("type_zh", "类型"),
    ("due", "应回访"),
    ("status_zh", "状态"),
    ("customer_label", "客户"),
    ("done", "回访时间"),
    ("method_zh", "方式"),
    ("reason", "原因"),
]


def _day(archive: Archive, text: str | None, option: str) -> str | None:
    from hk.commands.common import parse_day

    return parse_day(text, option, archive.settings.locale.timezone) if text else None


def _print_visit(archive: Archive, visit: Visit, extra: dict[str, Any] | None = None) -> None:
    from hk.services.followups import today
    from hk.services.records import display

    day = today(archive)
    data = display(archive, visit)
    data["derived"] = {
        "days_overdue": visit.days_overdue(day),
        "scores": _scores(archive, visit.survey),
    }
    print_json({**data, **(extra or {})})


def _scores(archive: Archive, survey: str | None) -> dict[str, Any] | None:
    from hk.domain.survey import DIMENSIONS
    from hk.services.lookup import summary

    row = archive.index.get(survey) if survey else None
    if row is None:
        return None
    data = summary(row)
    return {**{d: data[d] for d in DIMENSIONS}, "nps": data.get("nps")}


@app.command("due")
def due(
    ctx: typer.Context,
    date: Annotated[
        str | None, typer.Option("--date", help="Due on or before this day (default: today).")
    ] = None,
    days: Annotated[
        int,
        typer.Option("--days", min=0, help="Also those falling due this many days after --date."),
    ] = 0,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer (code or ID).")
    ] = None,
    json: Json = False,
) -> None:
    """Visits due or overdue (with days overdue): first, periodic, and those events asked for.

    A visit the rules compute (first, periodic) is listed under the customer's code: log it
    with hk visit log <customer code>.
    """
    import datetime as dt

    from hk.services.followups import today
    from hk.services.lookup import render_table
    from hk.services.records import resolve_id
    from hk.services.visits import visits_due

    archive = archive_of(ctx)
    day = dt.date.fromisoformat(_day(archive, date, "--date") or today(archive).isoformat())
    who = resolve_id(archive, "customer", customer)[1] if customer else None
    found = visits_due(archive, day, within_days=days, customer=who)
    if json:
        print_json([d.to_dict() for d in found])
        return
    rows = []
    for item in found:
        late = item.days_overdue
        rows.append(
            {
                **item.to_dict(),
                "ref": item.ref(),
                "late": f"{late}天" if late else ("今天" if item.owed.due == day else ""),
                "customer_label": f"{item.customer_code} {item.customer_name}".strip(),
            }
        )
    if rows:
        say(render_table("visit", rows, DUE_COLUMNS))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only this status: due done cancelled (待回访 已回访 已取消)."
        ),
    ] = None,
    type_: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="Only this type: first periodic after_complaint new_worker renewal "
            "low_score (or 首次回访 …).",
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's visits (code or ID).")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Only visits due on or after this day.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Only visits due on or before this day.")
    ] = None,
    json: Json = False,
) -> None:
    """List visit records (scheduled, done, cancelled) by due day."""
    from hk.domain.visit.model import METHOD_ZH
    from hk.services.lookup import render_table
    from hk.services.visits import list_visits

    archive = archive_of(ctx)
    items = list_visits(
        archive, status, type_, customer, _day(archive, from_, "--from"), _day(archive, to, "--to")
    )
    if json:
        print_json(items)
        return
    rows = [
        {
            **item,
            "customer_label": f"{item['customer_code']} {item['customer_name']}".strip(),
            "done": (item["done_at"] or "")[:16].replace("T", " "),
            "method_zh": METHOD_ZH.get(item["method"] or "", ""),
        }
        for item in items
    ]
    if rows:
        say(render_table("visit", rows, LIST_COLUMNS))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the visit.")],
    history: Annotated[
        bool, typer.Option("--history", help="Add the event log: time, operator, from → to, note.")
    ] = False,
    json: Json = False,
) -> None:
    """Show one visit: customer, why, by when, and how it went."""
    from hk.services.visits import load_visit

    archive = archive_of(ctx)
    visit, _ = load_visit(archive, ref)
    if json:
        _print_visit(archive, visit)
        return
    say(visit_text(archive, visit, history))


def visit_text(archive: Archive, visit: Visit, history: bool = False) -> str:
    """The visit as the operator reads it before calling the customer."""
    from zoneinfo import ZoneInfo

    from hk.domain.visit.model import METHOD_ZH, STATUS_ZH, TYPE_ZH
    from hk.services.followups import today
    from hk.services.lookup import Names
    from hk.services.records import code_of

    tz = ZoneInfo(archive.settings.locale.timezone)
    names = Names(archive.index)
    code = code_of(archive, visit.id) or visit.id
    late = visit.days_overdue(today(archive))
    lines = [
        f"回访 {code}  {STATUS_ZH[visit.status]} {visit.status}  {TYPE_ZH[visit.type]}",
        f"  客户    {names(visit.customer)}",
        f"  应回访  {visit.due.isoformat()}" + (f"（逾期 {late} 天）" if late else ""),
    ]
    if visit.reason:
        lines.append(f"  原因    {visit.reason}")
    for label, link in (
        ("订单", visit.order),
        ("合同", visit.contract),
        ("投诉", visit.complaint),
        ("阿姨", visit.worker),
        ("起因", visit.trigger_survey),
    ):
        if link:
            lines.append(f"  {label}    {names(link)}")
    if visit.status == "done" and visit.done_at and visit.method:
        lines.append(
            f"  回访    {visit.done_at.astimezone(tz):%Y-%m-%d %H:%M}  "
            f"{METHOD_ZH[visit.method]}  {visit.done_by}"
        )
    if visit.outcome:
        lines.append(f"  结果    {visit.outcome}")
    lines += [f"  跟进    {action}" for action in visit.actions]
    scores = _scores(archive, visit.survey)
    if scores is not None:
        nps = f"  NPS {scores['nps']}" if scores["nps"] is not None else ""
        lines.append(
            f"  评分    质量{scores['quality']} 态度{scores['attitude']} "
            f"卫生{scores['hygiene']} 准时{scores['punctuality']} "
            f"总体{scores['overall']}{nps}"
        )
    if visit.follow_up:
        lines.append(f"  后续    {names(visit.follow_up)}")
    if history:
        lines.append("  历史")
        for event in visit.events:
            source = STATUS_ZH[event.from_status] if event.from_status else "新建"
            lines.append(
                f"    {event.at.astimezone(tz):%Y-%m-%d %H:%M}  {event.actor}  "
                f"{source} → {STATUS_ZH[event.to_status]}"
                + (f"  {event.note}" if event.note else "")
            )
    return "\n".join(lines)


@app.command("log")
def log(
    ctx: typer.Context,
    ref: VisitRef,
    method: Annotated[
        str | None,
        typer.Option("--method", help="How: phone wechat survey onsite (电话 微信 在线问卷 上门)."),
    ] = None,
    scores: Annotated[
        str | None,
        typer.Option(
            "--scores",
            help="Five scores 1–5: quality/attitude/hygiene/punctuality/overall, e.g. "
            "5/5/4/5/5, or quality=5,attitude=4,…",
        ),
    ] = None,
    nps: Annotated[
        int | None,
        typer.Option(
            "--nps", min=0, max=10, help="How likely to recommend us, 0–10 (with --scores)."
        ),
    ] = None,
    comment: Annotated[
        str, typer.Option("--comment", help="The customer's words, kept with the scores.")
    ] = "",
    note: Annotated[
        str, typer.Option("--note", help="The outcome: what the customer said, what was agreed.")
    ] = "",
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help="A follow-up action agreed (repeat for several)."),
    ] = None,
    type_: Annotated[
        str | None,
        typer.Option(
            "--type", help="For a customer with no visit scheduled: the type to log it as."
        ),
    ] = None,
    complaint: Annotated[
        str | None,
        typer.Option(
            "--complaint", help="Also open a complaint with this text (in the same commit)."
        ),
    ] = None,
    category: Annotated[
        str,
        typer.Option(
            "--complaint-category",
            help="Its category: quality attitude punctuality damage safety billing other.",
        ),
    ] = "quality",
    severity: Annotated[
        str, typer.Option("--complaint-severity", help="Its severity: minor normal serious.")
    ] = "normal",
    no_complaint: Annotated[
        bool, typer.Option("--no-complaint", help="Do not ask about a complaint after a low score.")
    ] = False,
    at: At = None,
    json: Json = False,
) -> None:
    """The visit was made: how, the outcome, and the scores (kept as a survey response).

    A score at or below [visits] low_score schedules a follow-up visit, and hk offers to open
    a complaint: asked in a terminal, --complaint TEXT otherwise.
    """
    from hk.domain.complaint import Complaint
    from hk.domain.survey import Survey
    from hk.domain.visit.model import Visit
    from hk.domain.visit.owed import is_low
    from hk.services.complaints import ComplaintIn
    from hk.services.followups import rules_of
    from hk.services.records import code_of
    from hk.services.surveys import parse_scores
    from hk.services.visits import log as log_visit

    archive = archive_of(ctx)
    how = require(method, "--method", "回访方式 method (phone/wechat/survey/onsite)")
    given = parse_scores(scores) if scores else None
    low = given is not None and is_low(min(given.values()), rules_of(archive))
    opened: ComplaintIn | None = None
    if complaint:
        opened = ComplaintIn(category, complaint, severity, "visit")
    elif low and not no_complaint and interactive() and not json:
        from hk.commands.complaint import ask_complaint

        opened = ask_complaint(note or comment)
    logged = log_visit(
        archive,
        ref,
        how,
        scores=given,
        nps=nps,
        comment=comment,
        outcome=note,
        actions=action or [],
        visit_type=type_,
        complaint=opened,
        at=moment_of(archive, at),
    )
    if json:
        extra = {
            "survey": survey.id if (survey := logged.made_of(Survey)) else None,
            "follow_up_visit": _brief(archive, logged.made_of(Visit)),
            "complaint_opened": _brief(archive, logged.made_of(Complaint)),
        }
        _print_visit(archive, logged.record, {"logged": extra})
        return
    code = code_of(archive, logged.record.id) or logged.record.id
    say(f"visit {code}: done" + (f", lowest score {min(given.values())}" if given else ""))
    for text in logged.notes:
        say(f"  {text}")
    if low and logged.made_of(Complaint) is None and not no_complaint:
        order = code_of(archive, logged.record.order) if logged.record.order else None
        target = (
            f"--order {order}"
            if order
            else f"--customer {code_of(archive, logged.record.customer)}"
        )
        say(f"  to open a complaint: hk complaint open {target} --category quality --text '…'")


def _brief(archive: Archive, record: Any) -> dict[str, Any] | None:
    from hk.services.records import code_of

    if record is None:
        return None
    return {"id": record.id, "code": code_of(archive, record.id), "kind": record.kind}


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    ref: VisitRef,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is not needed.")] = None,
    at: At = None,
    json: Json = False,
) -> None:
    """Not needed (→ 已取消). Cancelling a first or periodic visit skips it: the next one counts
    from its due day."""
    from hk.services.records import code_of
    from hk.services.visits import cancel as cancel_visit

    archive = archive_of(ctx)
    done = cancel_visit(
        archive, ref, require(reason, "--reason", "取消原因 reason"), moment_of(archive, at)
    )
    if json:
        _print_visit(archive, done.record)
        return
    say(f"visit {code_of(archive, done.record.id) or done.record.id}: cancelled")


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Code or ID of the customer.")],
    type_: Annotated[
        str,
        typer.Option("--type", help="first periodic after_complaint new_worker renewal low_score."),
    ] = "renewal",
    due_day: Annotated[str | None, typer.Option("--due", help="Due day, YYYY-MM-DD.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    order: Annotated[str | None, typer.Option("--order", help="The order it is about.")] = None,
    contract: Annotated[
        str | None, typer.Option("--contract", help="The contract it is about.")
    ] = None,
    worker: Annotated[str | None, typer.Option("--worker", help="The worker it is about.")] = None,
    json: Json = False,
) -> None:
    """Schedule a visit by hand (a renewal talk; a first or periodic visit moved to another
    day replaces the computed one)."""
    import datetime as dt

    from hk.services.visits import schedule

    archive = archive_of(ctx)
    day = _day(archive, require(due_day, "--due", "应回访日 due (YYYY-MM-DD)"), "--due")
    made = schedule(
        archive,
        customer,
        type_,
        dt.date.fromisoformat(day or ""),
        reason,
        order=order,
        contract=contract,
        worker=worker,
    )
    if json:
        _print_visit(archive, made.record)
        return
    say(f"visit {made.result.code or made.record.id}: due {made.record.due.isoformat()}")
