"""``hk quote``: make quotes (报价单), show, list and render them, send them, and record the
customer's answer: accepted (turned into orders or a contract) or rejected.

Every step is one commit and one event in the quote's log; a step the lifecycle does not allow
exits 1 and names the steps that are. A quote past its validity shows as 已过期 expired and can
no longer be sent or accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import (
    archive_of,
    audit_document,
    print_json,
    require,
    say,
    split_csv,
    write_out,
)

QUOTE_FIELDS = ("name", "address", "phones")
"""The customer's personal data a quote document names."""

if TYPE_CHECKING:
    from hk.domain.quote import Quote
    from hk.store.archive import Archive

app = typer.Typer(
    help="Quotes (报价单): make, list, show, render, send, then accept (as orders or a "
    "contract) or reject.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print the quote as JSON.")]
QuoteRef = Annotated[str, typer.Argument(help="Code or ID of the quote.")]
Note = Annotated[str, typer.Option("--note", help="A note for the quote's event log.")]
Format = Annotated[str, typer.Option("--format", help="Document format: md or html.")]
Out = Annotated[Path | None, typer.Option("--out", help="Write the document to this file.")]


def _print_quote(archive: Archive, quote: Quote, extra: dict[str, Any] | None = None) -> None:
    from hk.services.quotes.steps import today
    from hk.services.records import display

    data = display(archive, quote)
    day = today(archive)
    data["derived"] = {
        "shown_status": quote.shown_status(day),
        "expired": quote.expired(day),
        "gross_fen": quote.gross_fen(),
        "tier_discount_fen": quote.tier_discount_fen(),
        "lines_fen": quote.lines_fen(),
        "visits": [line.visits() for line in quote.lines],
    }
    print_json({**data, **(extra or {})})


def _code(archive: Archive, quote: Quote) -> str:
    from hk.services.records import code_of

    return code_of(archive, quote.id) or quote.id


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
            help="CODE or CODE:QUANTITY per visit (hours, visits, days, months or "
            "m²); repeat for several.",
        ),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(
            "--area", help="Area in m² for the services priced per m² given without a quantity."
        ),
    ] = None,
    frequency: Annotated[
        list[str] | None,
        typer.Option(
            "--frequency",
            help="How often: once, weekly:N, monthly:N, 每周N次 or 每月N次; one per "
            "--service in order, or one for all.",
        ),
    ] = None,
    discount: Annotated[
        str | None,
        typer.Option("--discount", help="Extra discount off the whole quote, in yuan (e.g. 50)."),
    ] = None,
    discount_note: Annotated[
        str,
        typer.Option(
            "--discount-note", help="Why the extra discount (新客优惠 …); required with --discount."
        ),
    ] = "",
    valid_days: Annotated[
        int | None,
        typer.Option(
            "--valid-days",
            help="Valid for this many days from today (default: "
            "[quotes] valid_days of hk.toml, 15).",
        ),
    ] = None,
    address: Annotated[
        int, typer.Option("--address", help="Which of the customer's addresses, from 1.")
    ] = 1,
    note: Annotated[str, typer.Option("--note", help="Notes printed on the quote.")] = "",
    json: Json = False,
) -> None:
    """Make a quote: priced from the catalog for the customer's tier, kept as a draft."""
    from hk.commands.order.view import parse_service
    from hk.commands.quote.view import parse_frequencies
    from hk.domain.fields import parse_money
    from hk.domain.money import format_money
    from hk.errors import UsageError
    from hk.services.quotes.steps import LineIn, new_quote

    archive = archive_of(ctx)
    who = require(customer, "--customer", "客户 customer (code)")
    services = split_csv(service) or [require(None, "--service", "服务 service (CODE[:QTY])")]
    often = parse_frequencies(frequency or [], len(services))
    lines = [LineIn(*parse_service(s), frequency=f) for s, f in zip(services, often, strict=True)]
    try:
        off = parse_money(discount) if discount else 0
    except ValueError as exc:
        raise UsageError(f"--discount: {exc}") from None
    made = new_quote(
        archive,
        who,
        lines,
        area=area,
        discount_fen=off,
        discount_note=discount_note,
        valid_days=valid_days,
        address=address,
        notes=note,
    )
    quote = made.quote
    if json:
        _print_quote(archive, quote, {"pricing_notes": list(dict.fromkeys(made.breakdown.notes))})
        return
    say(
        f"created quote {made.result.code}: {format_money(quote.total_fen)}"
        + (f"（定金 {format_money(quote.deposit_fen)}）" if quote.deposit_fen else "")
        + f", valid until {quote.valid_until.isoformat()}"
    )
    for text in dict.fromkeys(made.breakdown.notes):
        say(f"  {text}")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only this status: draft sent accepted rejected expired (or 草稿 "
            "已发送 已接受 已拒绝 已过期).",
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's quotes (code or ID).")
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Only quotes with this catalog code.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest (0: all).")] = 0,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List quotes, oldest first; a draft or sent quote past its validity shows as 已过期."""
    from hk.commands.quote.view import list_items, quote_table
    from hk.services.quotes.steps import list_quotes

    archive = archive_of(ctx)
    items = list_items(archive, list_quotes(archive, status, customer, service, limit))
    if json:
        print_json(items)
    elif items:
        say(quote_table(items))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: QuoteRef,
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Add the event log: time, operator, from → to, how it was sent, note."
        ),
    ] = False,
    json: Json = False,
) -> None:
    """Show one quote: customer, lines, discounts, total, deposit, validity, links."""
    from hk.commands.quote.view import quote_text
    from hk.services.quotes.steps import load_quote, today

    archive = archive_of(ctx)
    quote, _ = load_quote(archive, ref)
    if json:
        _print_quote(archive, quote)
        return
    say(quote_text(archive, quote, _code(archive, quote), today(archive), history))


@app.command("render")
def render(ctx: typer.Context, ref: QuoteRef, fmt: Format = "md", out: Out = None) -> None:
    """The quote as a document: Markdown, or an A4 HTML page to print; to stdout or --out."""
    from hk.services.quotes.document import render_quote
    from hk.services.quotes.steps import load_quote

    archive = archive_of(ctx)
    quote, _ = load_quote(archive, ref)
    text, _ = render_quote(archive, quote, fmt.strip().lower())
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text)
    audit_document(archive, [quote.customer], False, "", out, f"quote:{fmt}", QUOTE_FIELDS)


@app.command("send")
def send(
    ctx: typer.Context,
    ref: QuoteRef,
    to: Annotated[str, typer.Option("--to", help="Who gets it: customer.")] = "customer",
    via: Annotated[
        str | None,
        typer.Option("--via", help="How: wechat email print sms (or 微信 邮件 打印 短信)."),
    ] = None,
    fmt: Format = "html",
    out: Out = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """Mark the quote sent and write its document to a file (here, or --out) to send."""
    from hk.domain.quote import label
    from hk.services.quotes.steps import send as send_quote

    archive = archive_of(ctx)
    how = require(via, "--via", "发送方式 via (wechat/email/print/sms)")
    sent = send_quote(archive, ref, how, to=to, fmt=fmt.strip().lower(), out=out, note=note)
    audit_document(
        archive, [sent.record.customer], False, "", sent.file, f"quote:{fmt}", QUOTE_FIELDS
    )
    if json:
        _print_quote(archive, sent.record, {"file": str(sent.file)})
        return
    event = sent.events[-1]
    say(
        f"quote {sent.result.code}: {label(event.from_status or 'draft')} → "
        f"{label(event.to_status)} via {event.via}; document written to {sent.file}"
    )


@app.command("reject")
def reject(
    ctx: typer.Context,
    ref: QuoteRef,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the customer said no.")
    ] = None,
    json: Json = False,
) -> None:
    """The customer declined: → 已拒绝 rejected, with the reason in the log."""
    from hk.domain.quote import label
    from hk.services.quotes.steps import reject as reject_quote

    archive = archive_of(ctx)
    done = reject_quote(archive, ref, require(reason, "--reason", "拒绝原因 reason"))
    if json:
        _print_quote(archive, done.record)
        return
    say(
        f"quote {done.result.code}: {label(done.events[-1].from_status or 'draft')} → "
        f"{label('rejected')}"
    )


@app.command("accept")
def accept(
    ctx: typer.Context,
    ref: QuoteRef,
    as_: Annotated[
        str | None, typer.Option("--as", help="What it turns into: orders or contract.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="Orders: first appointment, 'YYYY-MM-DD HH:MM'; contract: its start day.",
        ),
    ] = None,
    hours: Annotated[
        str | None,
        typer.Option(
            "--hours",
            help="Orders: length of an appointment the catalog gives no duration for "
            "(services by m²).",
        ),
    ] = None,
    channel: Annotated[
        str,
        typer.Option(
            "--channel", help="Orders: how they came in: phone wechat web walk_in platform."
        ),
    ] = "phone",
    address: Annotated[
        int | None,
        typer.Option(
            "--address", help="Orders: the customer's address by number (default: the quote's)."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Contract: placement, package or service (default: placement for "
            "monthly items, service for repeating ones).",
        ),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Contract: its last day, YYYY-MM-DD.")
    ] = None,
    months: Annotated[
        int | None,
        typer.Option("--months", help="Contract: how many months it runs (instead of --end)."),
    ] = None,
    worker: Annotated[
        str | None, typer.Option("--worker", help="Contract: the worker placed (code or ID).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Contract: 中介制 or 员工制.")
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="Contract: the visits, e.g. 'weekly:tue,fri 09:00-12:00' "
            "(default: from the quote's frequency and --start).",
        ),
    ] = None,
    intro_fee: Annotated[
        str | None, typer.Option("--intro-fee", help="Contract: intro fee (介绍费) in yuan.")
    ] = None,
    payment_method: Annotated[
        str | None, typer.Option("--payment-method", help="Contract: cash wechat alipay bank card.")
    ] = None,
    clause: Annotated[
        list[str] | None,
        typer.Option("--clause", help="Contract: a further clause (补充条款); repeat for several."),
    ] = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """The customer said yes: make the orders (or the contract) and mark the quote accepted."""
    from hk.commands.common import parse_hours, parse_moment
    from hk.domain.money import format_money
    from hk.services.quotes.accept import accept_as_orders
    from hk.services.records import choice_of, code_of

    archive = archive_of(ctx)
    target = choice_of(
        require(as_, "--as", "接受为 as (orders/contract)"),
        {"orders": "订单", "contract": "合同"},
        "what a quote turns into",
    )
    tz = archive.settings.locale.timezone
    if target == "contract":
        terms = {
            "end": _day(end, "--end", tz),
            "months": months,
            "worker": worker,
            "model": model,
            "payment_method": payment_method,
            "clauses": clause or [],
            "intro_fee_fen": _fen(intro_fee, "--intro-fee"),
        }
        _accept_contract(
            archive,
            ref,
            require(start, "--start", "开始 start (YYYY-MM-DD)"),
            kind,
            parse_hours(hours),
            schedule,
            address,
            note,
            json,
            {k: v for k, v in terms.items() if v is not None},
        )
        return
    begin = parse_moment(require(start, "--start", "开始 start (YYYY-MM-DD HH:MM)"), tz, "--start")
    done = accept_as_orders(
        archive, ref, begin, channel=channel, hours=parse_hours(hours), address=address, note=note
    )
    if json:
        _print_quote(
            archive,
            done.quote,
            {
                "created_orders": [
                    {
                        "id": o.id,
                        "code": code_of(archive, o.id),
                        "start": o.window.start.isoformat(),
                        "total_fen": o.total_fen,
                    }
                    for o in done.orders
                ]
            },
        )
        return
    say(f"quote {_code(archive, done.quote)}: accepted; {len(done.orders)} order(s) created")
    for order in done.orders:
        say(
            f"  order {code_of(archive, order.id) or order.id}: {order.title()}  "
            f"{format_money(order.total_fen)}"
        )


def _day(text: str | None, option: str, tz: str) -> Any:
    import datetime as dt

    from hk.commands.common import parse_day

    return dt.date.fromisoformat(parse_day(text, option, tz)) if text else None


def _fen(text: str | None, option: str) -> int | None:
    from hk.domain.fields import parse_money
    from hk.errors import UsageError

    try:
        return parse_money(text) if text else None
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _accept_contract(
    archive: Archive,
    ref: str,
    start: str,
    kind: str | None,
    hours: Any,
    schedule: str | None,
    address: int | None,
    note: str,
    json: bool,
    terms: dict[str, Any],
) -> None:
    """``accept --as contract``: a day, or a day and time (the visits' time) as the start."""
    from hk.commands.common import parse_moment
    from hk.services.quotes.contract import accept_as_contract
    from hk.services.records import code_of

    tz = archive.settings.locale.timezone
    begin = (
        _day(start, "--start", tz)
        if len(start.strip()) <= 10
        else parse_moment(start, tz, "--start")
    )
    done = accept_as_contract(
        archive,
        ref,
        begin,
        kind=kind,
        hours=hours,
        schedule=schedule,
        address=address,
        note=note,
        **terms,
    )
    contract = done.contract
    number = code_of(archive, contract.id) or contract.id
    if json:
        _print_quote(
            archive,
            done.quote,
            {
                "created_contract": {
                    "id": contract.id,
                    "code": number,
                    "kind": contract.contract_type,
                    "start": contract.start.isoformat(),
                    "end": contract.end.isoformat(),
                    "schedule": contract.schedule.short() if contract.schedule else None,
                }
            },
        )
        return
    say(
        f"quote {done.result.code}: accepted; contract {number} drafted "
        f"({contract.start.isoformat()} – {contract.end.isoformat()})"
    )
    if contract.schedule is not None:
        say(f"  {contract.schedule.text_zh()}")
