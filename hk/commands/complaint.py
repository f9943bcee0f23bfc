"""``hk complaint``: complaints (投诉) — open, list, show, assign, resolve, reject.

A complaint must be answered by its response deadline (``[reminders] complaint_sla_hours``
after it came in); listings show how each stands against it. Resolving one can agree
compensation and a rework order, and schedules the return visit after a complaint; all of it
in one commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import At, archive_of, moment_of, print_json, require, say

if TYPE_CHECKING:
    from hk.domain.complaint import Complaint
    from hk.services.complaints import ComplaintIn, Stepped
    from hk.store.archive import Archive

app = typer.Typer(
    help="Complaints (投诉): open, list, show, assign, resolve (compensation, rework), reject.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Ref = Annotated[str, typer.Argument(help="Code or ID of the complaint.")]

COLUMNS = [
    ("code", "编号"),
    ("received", "收到"),
    ("status_zh", "状态"),
    ("category_zh", "类别"),
    ("severity_zh", "程度"),
    ("customer_label", "客户"),
    ("worker_label", "阿姨"),
    ("due", "响应时限"),
    ("sla_zh", "时限"),
]


def _print(archive: Archive, complaint: Complaint, extra: dict[str, Any] | None = None) -> None:
    from hk.services.records import display, moment

    now = moment(archive, None)
    responded = complaint.responded_at()
    data = display(archive, complaint)
    data["derived"] = {
        "sla": complaint.sla_state(now),
        "responded_at": responded.isoformat() if responded else None,
        "follow_up_visits": _visits(archive, complaint.id),
    }
    print_json({**data, **(extra or {})})


def _visits(archive: Archive, complaint_id: str) -> list[dict[str, Any]]:
    from hk.services.lookup import list_rows

    return [
        {
            "id": r["id"],
            "code": r["code"],
            "type": r["type"],
            "status": r["status"],
            "due": r["due"],
        }
        for r in list_rows(archive.index, "visit", ref=complaint_id)
        if r.get("complaint") == complaint_id
    ]


def _report(archive: Archive, stepped: Stepped, json: bool, what: str) -> None:
    from hk.services.records import code_of

    complaint = stepped.record
    if json:
        _print(archive, complaint)
        return
    say(f"complaint {code_of(archive, complaint.id) or complaint.id}: {what}")


@app.command("open")
def open_(
    ctx: typer.Context,
    order: Annotated[
        str | None,
        typer.Option(
            "--order", help="The order complained of (names the customer, and the worker)."
        ),
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer", help="Whose complaint, when it is about no one order (code or ID)."
        ),
    ] = None,
    worker: Annotated[
        str | None,
        typer.Option(
            "--worker", help="The worker complained of (default: the order's one worker)."
        ),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            help="quality attitude punctuality damage safety billing other (or "
            "服务质量 服务态度 迟到爽约 物品损坏 安全问题 收费问题 其他).",
        ),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="What the customer complained of, in their words.")
    ] = None,
    severity: Annotated[
        str, typer.Option("--severity", help="minor normal serious (轻微 一般 严重).")
    ] = "normal",
    via: Annotated[
        str, typer.Option("--via", help="How it came: phone wechat visit platform walk_in other.")
    ] = "phone",
    received: Annotated[
        str | None,
        typer.Option(
            "--received",
            help="When it came in, 'YYYY-MM-DD HH:MM' (default: now); the "
            "response deadline counts from then.",
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Take a complaint down; it must be answered within [reminders] complaint_sla_hours."""
    from hk.services.complaints import ComplaintIn, open_complaint

    archive = archive_of(ctx)
    if not order and not customer:
        order = require(None, "--order", "订单 order (code)")
    given = ComplaintIn(
        require(category, "--category", "投诉类别 category"),
        require(text, "--text", "投诉内容 what about"),
        severity,
        via,
        moment_of(archive, received),
    )
    opened = open_complaint(archive, given, customer=customer, order=order, worker=worker)
    if json:
        _print(archive, opened.record)
        return
    due = opened.record.response_due
    say(
        f"complaint {opened.result.code or opened.record.id}: opened; answer by "
        f"{due:%Y-%m-%d %H:%M}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only this status: open in_progress resolved rejected (待处理 处理中 "
            "已解决 已驳回).",
        ),
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only those not yet resolved or rejected.")
    ] = False,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's (code or ID).")
    ] = None,
    worker: Annotated[
        str | None, typer.Option("--worker", help="Only those about this worker (code or ID).")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Only those received on or after this day.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Only those received on or before this day.")
    ] = None,
    json: Json = False,
) -> None:
    """List complaints by the day received, with where each stands against its deadline."""
    from hk.commands.common import parse_day
    from hk.services.complaints import list_complaints
    from hk.services.lookup import render_table

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    items = list_complaints(
        archive,
        status,
        customer,
        worker,
        open_only,
        parse_day(from_, "--from", tz) if from_ else None,
        parse_day(to, "--to", tz) if to else None,
    )
    if json:
        print_json(items)
        return
    rows = [
        {
            **item,
            "received": item["received_at"][:16].replace("T", " "),
            "due": item["response_due"][:16].replace("T", " "),
            "customer_label": f"{item['customer_code']} {item['customer_name']}".strip(),
        }
        for item in items
    ]
    if rows:
        say(render_table("complaint", rows, COLUMNS))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Ref,
    history: Annotated[
        bool, typer.Option("--history", help="Add the event log: time, operator, from → to, note.")
    ] = False,
    json: Json = False,
) -> None:
    """Show one complaint: who, what about, the deadline, how it was handled."""
    from hk.services.complaints import load_complaint

    archive = archive_of(ctx)
    complaint, _ = load_complaint(archive, ref)
    if json:
        _print(archive, complaint)
        return
    say(complaint_text(archive, complaint, history))


def complaint_text(archive: Archive, complaint: Complaint, history: bool = False) -> str:
    """The complaint as the person handling it reads it."""
    from zoneinfo import ZoneInfo

    from hk.domain.complaint import (
        CATEGORY_ZH,
        RECEIVED_ZH,
        SEVERITY_ZH,
        SLA_ZH,
        STATUS_ZH,
    )
    from hk.domain.money import format_money
    from hk.domain.visit.model import STATUS_ZH as VISIT_ZH
    from hk.domain.visit.model import TYPE_ZH
    from hk.services.lookup import Names
    from hk.services.records import code_of, moment

    tz = ZoneInfo(archive.settings.locale.timezone)
    names = Names(archive.index)
    code = code_of(archive, complaint.id) or complaint.id
    now = moment(archive, None)
    state = complaint.sla_state(now)
    lines = [
        f"投诉 {code}  {STATUS_ZH[complaint.status]} {complaint.status}  "
        f"{CATEGORY_ZH[complaint.category]}  {SEVERITY_ZH[complaint.severity]}",
        f"  客户    {names(complaint.customer)}",
    ]
    for label, link in (
        ("订单", complaint.order),
        ("阿姨", complaint.worker),
        ("来源", complaint.visit),
    ):
        if link:
            lines.append(f"  {label}    {names(link)}")
    lines.append(
        f"  收到    {complaint.received_at.astimezone(tz):%Y-%m-%d %H:%M}  "
        f"{RECEIVED_ZH[complaint.received_via]}"
    )
    lines.append(
        f"  时限    {complaint.response_due.astimezone(tz):%Y-%m-%d %H:%M} 前响应  {SLA_ZH[state]}"
    )
    lines.append(f"  内容    {complaint.description}")
    if complaint.assignee:
        lines.append(f"  处理人  {complaint.assignee}")
    if complaint.resolution:
        lines.append(
            f"  {'结果' if complaint.status == 'resolved' else '驳回'}    {complaint.resolution}"
        )
    if complaint.compensation_fen:
        lines.append(f"  赔偿    {format_money(complaint.compensation_fen)}")
    if complaint.rework:
        lines.append(f"  返工单  {names(complaint.rework)}")
    for visit in _visits(archive, complaint.id):
        lines.append(
            f"  回访    {visit['code'] or visit['id']} {TYPE_ZH[visit['type']]} "
            f"{visit['due']} {VISIT_ZH[visit['status']]}"
        )
    if history:
        lines.append("  历史")
        for event in complaint.events:
            source = STATUS_ZH[event.from_status] if event.from_status else "新建"
            lines.append(
                f"    {event.at.astimezone(tz):%Y-%m-%d %H:%M}  {event.actor}  "
                f"{source} → {STATUS_ZH[event.to_status]}"
                + (f"  {event.note}" if event.note else "")
            )
    return "\n".join(lines)


@app.command("assign")
def assign(
    ctx: typer.Context,
    ref: Ref,
    to: Annotated[
        str | None, typer.Option("--to", help="Who handles it (default: you, the operator).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A note for the event log.")] = "",
    at: At = None,
    json: Json = False,
) -> None:
    """Hand the complaint to someone (→ 处理中): the company's response."""
    from hk.services.complaints import assign as assign_complaint

    archive = archive_of(ctx)
    stepped = assign_complaint(archive, ref, to, note, moment_of(archive, at))
    _report(archive, stepped, json, f"in progress, handled by {stepped.record.assignee}")


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    ref: Ref,
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="What was done about it.")
    ] = None,
    compensation: Annotated[
        str | None, typer.Option("--compensation", help="Compensation agreed, in yuan (e.g. 50).")
    ] = None,
    rework: Annotated[
        str | None,
        typer.Option(
            "--rework", help="Make a rework order (返工, free) starting 'YYYY-MM-DD HH:MM'."
        ),
    ] = None,
    rework_hours: Annotated[
        str | None,
        typer.Option("--rework-hours", help="Its length (default: as long as the original)."),
    ] = None,
    at: At = None,
    json: Json = False,
) -> None:
    """Resolved (→ 已解决): with compensation and a rework order if agreed; the return visit
    after a complaint is scheduled in the same commit."""
    from hk.commands.common import parse_hours, parse_moment
    from hk.domain.fields import parse_money
    from hk.domain.money import format_money
    from hk.domain.order.model import Order
    from hk.domain.visit.model import Visit
    from hk.errors import UsageError
    from hk.services.complaints import resolve as resolve_complaint
    from hk.services.records import code_of

    archive = archive_of(ctx)
    try:
        fen = parse_money(compensation) if compensation else 0
    except ValueError as exc:
        raise UsageError(f"--compensation: {exc}") from None
    tz = archive.settings.locale.timezone
    stepped = resolve_complaint(
        archive,
        ref,
        require(resolution, "--resolution", "处理结果 resolution"),
        compensation_fen=fen,
        rework_start=parse_moment(rework, tz, "--rework") if rework else None,
        rework_hours=parse_hours(rework_hours),
        at=moment_of(archive, at),
    )
    if json:
        _print(
            archive,
            stepped.record,
            {
                "rework_order": (
                    {"id": redo.id, "code": code_of(archive, redo.id)}
                    if (redo := stepped.made_of(Order))
                    else None
                )
            },
        )
        return
    extra = f", compensation {format_money(fen)}" if fen else ""
    _report(archive, stepped, False, "resolved" + extra)
    redo = stepped.made_of(Order)
    if redo is not None:
        start = redo.window.start
        say(f"  rework order {code_of(archive, redo.id)}: {start:%Y-%m-%d %H:%M}, 待确认 pending")
    after = stepped.made_of(Visit)
    if after is not None:
        say(f"  return visit {code_of(archive, after.id)} due {after.due.isoformat()} (投诉后回访)")


@app.command("reject")
def reject(
    ctx: typer.Context,
    ref: Ref,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is not upheld.")] = None,
    at: At = None,
    json: Json = False,
) -> None:
    """Not upheld (→ 已驳回), with the reason."""
    from hk.services.complaints import reject as reject_complaint

    archive = archive_of(ctx)
    stepped = reject_complaint(
        archive, ref, require(reason, "--reason", "驳回原因 reason"), moment_of(archive, at)
    )
    _report(archive, stepped, json, "rejected")


def ask_complaint(default_text: str) -> ComplaintIn | None:
    """In a terminal, after a low score: open a complaint too? (and what about)."""
    from hk.domain.complaint import CATEGORY_ZH
    from hk.services.complaints import ComplaintIn

    if not typer.confirm("评分偏低。同时登记投诉吗？ Open a complaint too?", default=False):
        return None
    choices = " ".join(f"{k}({v})" for k, v in CATEGORY_ZH.items())
    category: str = typer.prompt(f"投诉类别 category [{choices}]", default="quality")
    text: str = typer.prompt("投诉内容 what about", default=default_text or None)
    return ComplaintIn(category, text, "normal", "visit")
