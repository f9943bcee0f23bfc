"""Quotes (报价单): make one, send it, and record the customer's answer (SPEC §2).

A quote is priced by :func:`hk.domain.pricing.price_lines`, for the customer's tier, exactly as
the order it turns into will be. A recurring line (每周2次) is priced once per visit of one
month, so pricing's totals, deposit rule and cap cover the whole quote; the quote keeps the
amounts of one visit and the frequency (see :mod:`hk.domain.quote`).

Every step is one save (one commit), refused when someone else changed the quote since it was
read; times are now in the archive's timezone unless the caller gives one. Accepting a quote
is in :mod:`hk.services.quotes.accept`; the document in :mod:`hk.services.quotes.document`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.domain.pricing import LineRequest, PriceBreakdown, PricedLine, parse_quantity, price_lines
from hk.domain.quote import (
    SHOWN_STATUSES,
    STATUS_ZH,
    VIA_ZH,
    Frequency,
    IllegalQuoteStep,
    Quote,
    QuoteLine,
    made_event,
    step,
)
from hk.errors import HkError, UsageError
from hk.services.orders.rules import default_quantity
from hk.services.orders.steps import service_items
from hk.services.records import (
    Stepped,
    choice_of,
    load_named,
    load_ref,
    moment,
    refused,
    resolve_id,
)
from hk.store.archive import Archive
from hk.store.output import write_output
from hk.store.writer import Loaded, SaveResult, save


@dataclass
class Made:
    """A new quote, its commit, and the price breakdown that explains its amounts."""

    quote: Quote
    result: SaveResult
    breakdown: PriceBreakdown


@dataclass(frozen=True)
class LineIn:
    """One line as asked for: a catalog code, a quantity (None: the default), how often."""

    code: str
    quantity: Decimal | int | str | None = None
    frequency: Frequency | None = None


def today(archive: Archive) -> dt.date:
    """Today in the archive's timezone: what expiry is judged by."""
    return moment(archive, None).date()


def _build(data: dict[str, Any]) -> Quote:
    try:
        return Quote.model_validate(data)
    except ValidationError as exc:
        raise refused(exc) from None


# --- making a quote ----------------------------------------------------------------------------


def new_quote(
    archive: Archive,
    customer_ref: str,
    lines: Sequence[LineIn],
    *,
    area: Decimal | str | None = None,
    discount_fen: int = 0,
    discount_note: str = "",
    valid_days: int | None = None,
    address: int = 1,
    notes: str = "",
    at: dt.datetime | None = None,
) -> Made:
    """Price a quote for the customer and keep it as a draft; one commit.

    A line priced per m² without a quantity takes ``area``. The quote is valid for
    ``valid_days`` days from today (default: ``[quotes] valid_days`` of hk.toml),
    the last day included.
    """
    record, _ = load_ref(archive, "customer", customer_ref)
    assert isinstance(record, Customer)
    customer = record
    if not lines:
        raise UsageError("a quote needs at least one service", hint="--service CODE[:QTY]")
    if customer.addresses and not 1 <= address <= len(customer.addresses):
        raise UsageError(
            f"the customer has {len(customer.addresses)} address(es); there is no address {address}"
        )
    if discount_fen < 0:
        raise UsageError("--discount must be 0 or more")
    if discount_fen and not discount_note.strip():
        raise UsageError(
            "an extra discount needs a note saying why",
            hint="add --discount-note, e.g. --discount-note 新客优惠",
        )
    days = archive.settings.quotes.valid_days if valid_days is None else valid_days
    if days < 0:
        raise UsageError(f"--valid-days must be 0 or more, not {days}")
    items = service_items(archive, [line.code for line in lines])
    requests: list[LineRequest] = []
    counts: list[int] = []
    for line in lines:
        item = items[line.code.strip().upper()]
        quantity: Decimal | int | str | None = line.quantity
        if quantity is None and item.unit == "m2" and area is not None:
            quantity = area
        parsed = (
            default_quantity(item, None) if quantity is None else parse_quantity(quantity, item)
        )
        visits = 1 if line.frequency is None else line.frequency.visits_per_month()
        requests += [LineRequest(item, parsed)] * visits
        counts.append(visits)
    tier = customer.tier or ""
    breakdown = price_lines(requests, archive.settings, tier or None)
    priced = _first_of_each(breakdown.lines, counts)
    total = breakdown.total_fen - discount_fen
    if total < 0:
        raise UsageError(
            f"the discount is more than the quote ({breakdown.total_fen / 100:.2f} yuan)"
        )
    made = moment(archive, at)
    quote = _build(
        {
            "id": new_id(),
            "created": made,
            "updated": made,
            "customer": customer.id,
            "address": customer.addresses[address - 1] if customer.addresses else {},
            "tier": tier,
            "lines": [
                _quote_line(p, line.frequency) for p, line in zip(priced, lines, strict=True)
            ],
            "discount_fen": discount_fen,
            "discount_note": discount_note.strip(),
            "total_fen": total,
            "deposit_fen": max(0, min(breakdown.deposit_fen, total)),
            "valid_until": made.date() + dt.timedelta(days=days),
            "notes": notes,
            "events": [made_event(archive.operator(), made)],
        }
    )
    return Made(quote, save(archive, quote), breakdown)


def _first_of_each(lines: list[PricedLine], counts: list[int]) -> list[PricedLine]:
    """The first priced visit of each quote line (every visit of a line is priced alike)."""
    out, n = [], 0
    for count in counts:
        out.append(lines[n])
        n += count
    return out


def _quote_line(priced: PricedLine, frequency: Frequency | None) -> QuoteLine:
    charged = priced.charged_quantity
    return QuoteLine(
        service=priced.code,
        name=priced.name,
        quantity=priced.quantity,
        charged_quantity=None if charged == priced.quantity else charged,
        unit=priced.unit,
        list_price_fen=priced.list_price_fen,
        unit_price_fen=priced.unit_price_fen,
        gross_fen=priced.gross_fen,
        discount_fen=priced.discount_fen,
        amount_fen=priced.net_fen,
        frequency=frequency,
    )


# --- reading -----------------------------------------------------------------------------------


def load_quote(archive: Archive, ref: str) -> tuple[Quote, Loaded]:
    """The quote ``ref`` names (code or ID), read from its file, with what a save needs."""
    return load_named(
        archive, Quote, ref, "list quotes with hk quote list (--customer, --status …)"
    )


def change_quote(archive: Archive, ref: str, change: Callable[[Quote], Quote]) -> Stepped:
    """Apply ``change`` (one step) to the quote ``ref`` names; save it over what was read."""
    quote, loaded = load_quote(archive, ref)
    try:
        updated = change(quote)
    except ValidationError as exc:
        raise refused(exc) from None
    return Stepped(updated, save(archive, updated, loaded), updated.events[-1:])


def list_quotes(
    archive: Archive,
    status: str | None = None,
    customer: str | None = None,
    service: str | None = None,
    limit: int = 0,
) -> list[dict[str, Any]]:
    """Quotes, newest last, each with its shown status (已过期 expired derived from today).

    ``status`` is one of the stored states or ``expired``; a draft or sent quote past its
    validity is listed as expired only.
    """
    from hk.services.lookup import list_rows

    wanted = (
        choice_of(status, {s: STATUS_ZH[s] for s in SHOWN_STATUSES}, "a quote status")
        if status
        else None
    )
    ref = resolve_id(archive, "customer", customer)[1] if customer else None
    rows = list_rows(
        archive.index, "quote", ref=ref, tag=service.strip().upper() if service else None
    )
    day = today(archive).isoformat()
    out = []
    for row in rows:
        shown = row["status"]
        if shown in ("draft", "sent") and day > row["valid_until"]:
            shown = "expired"
        if wanted is None or shown == wanted:
            out.append({**row, "shown_status": shown, "shown_status_zh": STATUS_ZH[shown]})
    out.sort(key=lambda r: (r["created"], r["id"]))
    return out[-limit:] if limit else out


# --- the lifecycle -----------------------------------------------------------------------------


def via_of(text: str) -> str:
    """``wechat`` or ``微信`` → ``wechat``; anything else is refused with the choices."""
    return choice_of(text, VIA_ZH, "a way to send a quote")


def send(
    archive: Archive,
    ref: str,
    via: str,
    *,
    to: str = "customer",
    fmt: str = "html",
    out: Path | None = None,
    folder: Path | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Stepped:
    """Mark the quote sent: render its document to a file and log how, to whom and its hash.

    The file is ``out``, or ``报价单-<code>.<fmt>`` in ``folder`` (the current folder). The
    message itself goes out through the notification channels, not here. Sending again (a
    sent quote) adds another send event; an expired quote is refused.
    """
    from hk.services.documents import digest
    from hk.services.quotes.document import render_quote

    how = via_of(via)
    if to.strip() != "customer":
        raise UsageError(f"--to: a quote is sent to the customer, not '{to}'", hint="--to customer")
    quote, loaded = load_quote(archive, ref)
    when, day = moment(archive, at), today(archive)
    markdown, code = render_quote(archive, quote, "md")
    document = markdown if fmt == "md" else render_quote(archive, quote, fmt)[0]
    target = out or (folder or Path.cwd()) / f"报价单-{code}.{fmt}"
    try:
        updated = step(
            quote,
            "sent",
            archive.operator(),
            when,
            note,
            day,
            via=how,
            recipient="customer",
            digest=digest(markdown),
        )
    except ValidationError as exc:
        raise refused(exc) from None
    if out is None:  # the default place: its folder is made; one the user names must exist
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HkError(
                f"cannot write {target}: {exc.strerror}", hint="give another file with --out"
            ) from None
    write_output(target, document.encode("utf-8"))
    return Stepped(updated, save(archive, updated, loaded), updated.events[-1:], file=target)


def reject(archive: Archive, ref: str, reason: str, at: dt.datetime | None = None) -> Stepped:
    """The customer said no: 草稿/已发送 → 已拒绝, with the reason in the log."""
    if not reason.strip():
        raise UsageError("a rejection needs a reason", hint="--reason 价格太高 …")
    actor, when, day = archive.operator(), moment(archive, at), today(archive)
    return change_quote(
        archive, ref, lambda q: step(q, "rejected", actor, when, reason.strip(), day)
    )


def check_acceptable(quote: Quote, day: dt.date) -> None:
    """Refuse before anything is written: a step the lifecycle does not allow, or expiry."""
    last = quote.events[-1].at if quote.events else quote.updated
    try:
        step(quote, "accepted", "check", last, today=day)
    except IllegalQuoteStep as exc:
        if quote.status == "draft":
            exc.hint = "send it first with hk quote send (or reject it)"
        raise
