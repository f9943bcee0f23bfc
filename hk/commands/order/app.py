"""``hk order``: take orders, list and show them, and move them through their lifecycle.

One command per step of SPEC §3 (confirm, ready, assign, start, finish, settle, cancel), plus
pay, rate and rework. Every step is one commit and one event in the order's log; a step the
lifecycle does not allow exits 1 and names the steps that are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import (
    At,
    Reason,
    archive_of,
    interactive,
    moment_of,
    print_json,
    require,
    say,
    split_csv,
    write_out,
)

if TYPE_CHECKING:
    from hk.domain.order.model import Order
    from hk.services.records import Stepped
    from hk.store.archive import Archive

app = typer.Typer(
    help="Orders (订单): take, list, show, and confirm → assign → start → finish → settle.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print the order as JSON.")]
OrderRef = Annotated[str, typer.Argument(help="Code or ID of the order.")]
Note = Annotated[str, typer.Option("--note", help="A note for the order's event log.")]
Pay = Annotated[
    list[str] | None,
    typer.Option(
        "--pay",
        help="KIND:AMOUNT:METHOD (deposit:100:wechat) or KIND:METHOD for what is due; "
        "kinds deposit final refund cancellation_fee; methods cash wechat alipay "
        "bank card. Repeat for several.",
    ),
]


def _report(archive: Archive, changed: Stepped[Order], json: bool) -> None:
    """The step as one line (and what pricing or the fee rule says), or the order as JSON."""
    from hk.commands.order.view import moved

    if json:
        _print_order(archive, changed.record)
        return
    say(moved(changed, changed.result.code))
    for note in changed.notes:
        say(f"  {note}")


def _print_order(archive: Archive, order: Order, extra: dict[str, Any] | None = None) -> None:
    from hk.services.records import display

    data = display(archive, order)
    data["derived"] = {
        "amount_paid_fen": order.amount_paid(),
        "balance_due_fen": order.balance_due(),
        "deposit_outstanding_fen": order.deposit_outstanding(),
    }
    print_json({**data, **(extra or {})})


# --- taking and finding orders ----------------------------------------------------------------


@app.command("new")
def new(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Code or ID of the customer.")
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            help="CODE or CODE:QUANTITY (hours, visits, days, months or m²); repeat for several.",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Appointment start, 'YYYY-MM-DD HH:MM'.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="Appointment end, 'YYYY-MM-DD HH:MM' (default: by --hours or the "
            "catalog's duration).",
        ),
    ] = None,
    hours: Annotated[
        str | None,
        typer.Option("--hours", help="Length of the appointment in hours (instead of --end)."),
    ] = None,
    address: Annotated[
        int, typer.Option("--address", help="Which of the customer's addresses, from 1.")
    ] = 1,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            help="How the order came in (default phone): phone wechat web "
            "walk_in platform (or 电话 微信 网站 到店 平台).",
        ),
    ] = None,
    require_skill: Annotated[
        list[str] | None,
        typer.Option("--require-skill", help="A skill the worker must have; repeat for several."),
    ] = None,
    require_gender: Annotated[
        str | None, typer.Option("--require-gender", help="The worker's gender: 女 or 男.")
    ] = None,
    require_cert: Annotated[
        list[str] | None,
        typer.Option("--require-cert", help="A certificate the worker must hold (健康证 …)."),
    ] = None,
    notes: Annotated[str, typer.Option("--notes", help="Notes for the worker.")] = "",
    package: Annotated[
        str | None,
        typer.Option("--package", help="Code of the customer's package to take visits from."),
    ] = None,
    json: Json = False,
) -> None:
    """Take an order: priced from the catalog for the customer's tier, logged as 待确认."""
    from hk.commands.common import parse_hours, parse_moment
    from hk.commands.order.view import parse_service
    from hk.domain.money import format_money
    from hk.services.orders.steps import OrderRequest, new_order

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    customer = require(customer, "--customer", "客户 customer (code)")
    services = split_csv(service) or [require(None, "--service", "服务 service (CODE[:QTY])")]
    begin = parse_moment(require(start, "--start", "开始 start (YYYY-MM-DD HH:MM)"), tz, "--start")
    channel = channel or "phone"  # most orders come in by phone
    if end is not None and hours is not None:
        from hk.errors import UsageError

        raise UsageError("give --end or --hours, not both")
    requirements: dict[str, Any] = {}
    if require_skill:
        requirements["skills"] = split_csv(require_skill)
    if require_cert:
        requirements["certificates"] = split_csv(require_cert)
    if require_gender:
        requirements["gender"] = require_gender.strip()
    taken = new_order(
        archive,
        OrderRequest(
            customer,
            [parse_service(s) for s in services],
            begin,
            channel=channel,
            end=parse_moment(end, tz, "--end") if end else None,
            hours=parse_hours(hours),
            address=address,
            requirements=requirements,
            notes=notes,
            package=package,
        ),
    )
    order = taken.order
    if json:
        _print_order(archive, order, {"pricing_notes": taken.breakdown.notes})
        return
    say(
        f"created order {taken.result.code}: {order.title()}  {format_money(order.total_fen)}"
        + (f"（定金 {format_money(order.deposit_fen)}）" if order.deposit_fen else "")
    )
    for note in taken.breakdown.notes:
        say(f"  {note}")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only this status: pending confirmed to_dispatch dispatched "
            "in_service completed settled cancelled (or 待派工 …).",
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Only appointments on this day (YYYY-MM-DD, today, tomorrow)."),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Only appointments on or after this day.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Only appointments on or before this day.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's orders (code or ID).")
    ] = None,
    worker: Annotated[
        str | None,
        typer.Option("--worker", help="Only orders assigned to this worker (code or ID)."),
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Only orders of this catalog code.")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Only orders that came in this way (phone, wechat …)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (0: all).")] = 0,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List orders by appointment time, with filters."""
    from hk.commands.common import parse_day
    from hk.commands.order.view import list_items, order_table
    from hk.domain.order.status import STATUS_ZH
    from hk.errors import UsageError
    from hk.services.lookup import list_rows

    archive = archive_of(ctx)
    if date is not None and (from_ is not None or to is not None):
        raise UsageError("give --date, or --from and --to, not both")
    tz = archive.settings.locale.timezone
    first, last = (date, date) if date is not None else (from_, to)
    day_from = parse_day(first, "--date" if date else "--from", tz) if first else None
    day_to = parse_day(last, "--date" if date else "--to", tz) if last else None
    # Each filter imports what it needs, so a listing by day loads no order model or pricing.
    refs: list[str] = []
    if customer or worker:
        from hk.services.records import refs_by_kind, resolve_id

        refs = [
            resolve_id(archive, kind, ref)[1]
            for kind, ref in refs_by_kind(customer=customer, worker=worker)
        ]
    category = wanted_channel = None
    if status or channel:
        from hk.services.orders.steps import channel_of
        from hk.services.records import choice_of

        category = choice_of(status, STATUS_ZH, "an order status") if status else None
        wanted_channel = channel_of(channel) if channel else None
    later = wanted_channel is not None or len(refs) > 1
    rows = list_rows(
        archive.index,
        "order",
        limit=0 if later else limit,
        category=category,
        day_from=day_from,
        day_to=day_to,
        ref=refs[0] if refs else None,
        tag=service.strip().upper() if service else None,
    )
    rows = [
        r
        for r in rows
        if (wanted_channel is None or r["channel"] == wanted_channel)
        and all(ref == r["customer"] or ref in r["workers"] for ref in refs)
    ]
    items = list_items(archive, rows[:limit] if limit else rows)
    if json:
        print_json(items)
    elif items:
        say(order_table(items))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: OrderRef,
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Add the event log: time, operator, from → to, note, location."
        ),
    ] = False,
    json: Json = False,
) -> None:
    """Show one order: customer, address, time, services, money, workers, checklist, rating."""
    from hk.commands.order.view import order_text
    from hk.services.orders.aftercare import reworks_of
    from hk.services.orders.steps import acceptance_items, load_order
    from hk.services.records import code_of

    archive = archive_of(ctx)
    order, _ = load_order(archive, ref)
    reworks = reworks_of(archive, order)
    if json:
        _print_order(archive, order, {"reworks": reworks})
        return
    code = code_of(archive, order.id) or order.id
    say(order_text(archive, order, code, history, acceptance_items(archive, order), reworks))


# --- the lifecycle ----------------------------------------------------------------------------


@app.command("confirm")
def confirm(
    ctx: typer.Context, ref: OrderRef, note: Note = "", at: At = None, json: Json = False
) -> None:
    """待确认 → 已确认, and on to 待派工 when no deposit (定金) is outstanding."""
    from hk.services.orders import steps as orders

    archive = archive_of(ctx)
    _report(archive, orders.confirm(archive, ref, note, moment_of(archive, at)), json)


@app.command("ready")
def ready(
    ctx: typer.Context, ref: OrderRef, note: Note = "", at: At = None, json: Json = False
) -> None:
    """已确认 → 待派工 (ready to dispatch); with a deposit outstanding, --note says why."""
    from hk.services.orders import steps as orders

    archive = archive_of(ctx)
    _report(archive, orders.to_dispatch(archive, ref, note, moment_of(archive, at)), json)


@app.command("assign")
def assign(
    ctx: typer.Context,
    ref: OrderRef,
    workers: Annotated[list[str], typer.Argument(help="Code or ID of each worker to send.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Override a soft rule (skill, certificate, leave, availability, "
            "gender, age); never a double booking or a blocked worker.",
        ),
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the rule is overridden (required with --force).")
    ] = "",
    note: Note = "",
    at: At = None,
    json: Json = False,
) -> None:
    """待派工 → 已派工: send the workers, if each meets the assignment rules."""
    from hk.services.orders import steps as orders

    archive = archive_of(ctx)
    changed = orders.assign(
        archive, ref, workers, force=force, reason=reason, note=note, at=moment_of(archive, at)
    )
    _report(archive, changed, json)


@app.command("start")
def start(
    ctx: typer.Context,
    ref: OrderRef,
    at: At = None,
    location: Annotated[
        str | None, typer.Option("--location", help="Where the worker checked in, in words.")
    ] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="Latitude of the check-in.")] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="Longitude of the check-in.")] = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """已派工 → 服务中: the worker arrived and began."""
    from hk.services.orders import steps as orders

    archive = archive_of(ctx)
    changed = orders.start(
        archive, ref, moment_of(archive, at), _location(location, lat, lon), note
    )
    _report(archive, changed, json)


def _location(text: str | None, lat: float | None, lon: float | None) -> Any:
    if text is None and lat is None and lon is None:
        return None
    from pydantic import ValidationError

    from hk.domain.order.model import Location
    from hk.errors import UsageError

    try:
        return Location(text=text or "", lat=lat, lon=lon)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise UsageError(f"--location/--lat/--lon: {message}") from None


@app.command("finish")
def finish(
    ctx: typer.Context,
    ref: OrderRef,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="ITEM=ok or ITEM=fail:NOTE, ITEM by number (hk order show lists "
            "them) or text; repeat for each item.",
        ),
    ] = None,
    all_ok: Annotated[
        bool, typer.Option("--all-ok", help="Every checklist item not given with --check passed.")
    ] = False,
    at: At = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """服务中 → 服务完成, with the acceptance checklist (验收清单) results."""
    from hk.commands.order.view import parse_check
    from hk.services.orders import steps as orders

    archive = archive_of(ctx)
    checks = [parse_check(c) for c in check or []]
    changed = orders.finish(
        archive, ref, checks, all_ok=all_ok, at=moment_of(archive, at), note=note
    )
    _report(archive, changed, json)


@app.command("pay")
def pay(
    ctx: typer.Context, ref: OrderRef, payment: Pay = None, at: At = None, json: Json = False
) -> None:
    """Record a payment or refund; a confirmed order whose deposit is in goes to 待派工."""
    from hk.commands.order.view import paid, parse_payment
    from hk.services.orders import money as order_money

    archive = archive_of(ctx)
    payments = [parse_payment(p) for p in payment or []]
    changed = order_money.pay(archive, ref, payments, moment_of(archive, at))
    if not json:
        say(paid(changed.record, len(payments), changed.result.code))
        if not changed.events:
            return
    _report(archive, changed, json)


@app.command("settle")
def settle(
    ctx: typer.Context,
    ref: OrderRef,
    payment: Pay = None,
    at: At = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """服务完成 → 已结算, recording the payments given; refused while money is still due."""
    from hk.commands.order.view import parse_payment
    from hk.services.orders import money as order_money

    archive = archive_of(ctx)
    payments = [parse_payment(p) for p in payment or []]
    _report(archive, order_money.settle(archive, ref, payments, moment_of(archive, at), note), json)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    ref: OrderRef,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is cancelled.")] = None,
    waive_fee: Annotated[
        bool, typer.Option("--waive-fee", help="Charge no late-cancellation fee this time.")
    ] = False,
    at: At = None,
    json: Json = False,
) -> None:
    """Cancel before the service is done; late cancellation costs the fee set in hk.toml."""
    from hk.services.orders import money as order_money

    archive = archive_of(ctx)
    why = require(reason, "--reason", "取消原因 reason")
    changed = order_money.cancel(archive, ref, why, waive_fee=waive_fee, at=moment_of(archive, at))
    _report(archive, changed, json)


Score = Annotated[int | None, typer.Option(min=1, max=5, help="Score from 1 to 5.")]


@app.command("rate")
def rate(
    ctx: typer.Context,
    ref: OrderRef,
    quality: Score = None,
    attitude: Score = None,
    hygiene: Score = None,
    punctuality: Score = None,
    overall: Score = None,
    nps: Annotated[
        int | None, typer.Option("--nps", min=0, max=10, help="How likely to recommend us, 0–10.")
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="The customer's words.")] = "",
    complaint: Annotated[
        str | None,
        typer.Option(
            "--complaint", help="After a low score, also open a complaint with this text."
        ),
    ] = None,
    no_complaint: Annotated[
        bool, typer.Option("--no-complaint", help="Do not ask about a complaint after a low score.")
    ] = False,
    at: At = None,
    json: Json = False,
) -> None:
    """Keep the customer's scores (服务质量, 态度, 卫生, 准时, 总体) for a finished order.

    A low score schedules a return visit; in a terminal it also offers to open a complaint
    (``--complaint TEXT`` opens one without asking).
    """
    from hk.services.orders import aftercare as order_after

    archive = archive_of(ctx)
    given = {
        "quality": quality,
        "attitude": attitude,
        "hygiene": hygiene,
        "punctuality": punctuality,
        "overall": overall,
    }
    scores = {
        name: value if value is not None else _ask_score(name) for name, value in given.items()
    }
    changed = order_after.rate(archive, ref, scores, nps, comment, moment_of(archive, at))
    low = any(note.startswith("low score") for note in changed.notes)
    opened = None
    if complaint or (low and not no_complaint and not json and interactive()):
        opened = _complaint_after_rating(archive, ref, complaint, comment)
    if json:
        _print_order(archive, changed.record)
    else:
        lowest = changed.record.rating.lowest() if changed.record.rating else None
        say(
            f"order {changed.result.code}: rated, lowest score {lowest}; "
            + "; ".join(changed.notes)
        )
        if opened:
            say(f"complaint {opened}: opened")


def _complaint_after_rating(
    archive: Archive, ref: str, text: str | None, comment: str
) -> str | None:
    """Open the complaint given by ``--complaint``, or asked for in a terminal; its code."""
    from hk.commands.complaint import ask_complaint
    from hk.services.complaints import ComplaintIn, open_complaint
    from hk.services.records import code_of

    given = ComplaintIn("quality", text, "normal", "phone") if text else ask_complaint(comment)
    if given is None:
        return None
    stepped = open_complaint(archive, given, order=ref)
    return code_of(archive, stepped.record.id) or stepped.record.id


def _ask_score(name: str) -> int:
    from hk.errors import UsageError

    if not interactive():
        raise UsageError(f"missing --{name}", hint=f"give it as --{name} 1…5")
    import click

    value: int = typer.prompt(f"{name} (1-5)", type=click.IntRange(1, 5))
    return value


@app.command("rework")
def rework(
    ctx: typer.Context,
    ref: OrderRef,
    start: Annotated[
        str | None,
        typer.Option("--start", help="When the rework (返工) starts, 'YYYY-MM-DD HH:MM'."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="When it ends (default: as long as the original).")
    ] = None,
    hours: Annotated[
        str | None, typer.Option("--hours", help="How many hours it takes (instead of --end).")
    ] = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """Create a free order (返工) that redoes a completed one, linked to it."""
    from hk.commands.common import parse_hours, parse_moment
    from hk.services.orders import aftercare as order_after

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    begin = parse_moment(
        require(start, "--start", "返工时间 start (YYYY-MM-DD HH:MM)"), tz, "--start"
    )
    changed = order_after.rework(
        archive,
        ref,
        begin,
        end=parse_moment(end, tz, "--end") if end else None,
        hours=parse_hours(hours),
        note=note,
    )
    if json:
        _print_order(archive, changed.record)
    else:
        say(f"created order {changed.result.code}: rework of {ref}, {changed.record.title()}")


@app.command("sheet")
def sheet(
    ctx: typer.Context,
    ref: OrderRef,
    fmt: Annotated[str, typer.Option("--format", help="Document format: md or html.")] = "md",
    out: Annotated[str | None, typer.Option("--out", help="Write it to this file.")] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Add the customer's full phone and health notes.")
    ] = False,
    reason: Reason = None,
) -> None:
    """The worker's order sheet (派工单): time, address and access, services, checklist.

    It carries the customer's personal data, so it is recorded in `hk audit`; --reveal needs
    a --reason."""
    from hk.commands.common import audit_document, audit_reveal
    from hk.services.orders.sheet import render_sheet

    why = audit_reveal(reveal, reason)
    archive = archive_of(ctx)
    text, order = render_sheet(archive, ref, fmt.strip().lower(), reveal)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text)
    audit_document(archive, [order.customer], reveal, why, out, f"order_sheet:{fmt}")


# --- recurring service (周期服务) -----------------------------------------------------------


@app.command("generate")
def generate(
    ctx: typer.Context,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="The last day to make orders for, YYYY-MM-DD (or today, tomorrow)."
        ),
    ] = None,
    contract: Annotated[
        list[str] | None,
        typer.Option("--contract", help="Only this contract (code or ID); repeat for several."),
    ] = None,
    reschedule: Annotated[
        bool,
        typer.Option(
            "--reschedule",
            help="The contract's schedule changed: cancel its future orders not "
            "yet dispatched that no longer match, and make the new ones.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be made or cancelled; change nothing."),
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Make the orders of contracts' schedules (周期服务) up to --until; running it again makes
    nothing new. Closed days ([calendar] in hk.toml) and the worker's leave are skipped."""
    from hk.commands.order.generate import run

    run(ctx, until, contract or [], reschedule, dry_run, json)
