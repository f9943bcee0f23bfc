"""Accepting a quote (报价单 → 订单/合同): the orders or the contract it turns into.

The orders are priced as quoted: the quoted unit prices are their agreed prices, the tier is
the one the quote was priced with, and the quote's extra discount is shared among them; an
order that would still come out at another price (the settings' minimums changed, an item left
the catalog) is refused before anything is written.

The new orders (each linking back by ``quote``) and the quote, accepted and linking them, are
written in one commit or not at all (:func:`hk.store.writer.save_together`): a quote changed
by someone else meanwhile is refused with nothing written. Accepting is also refused while
orders already name the quote (an archive edited by hand), so nothing is made twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hk.domain.customer import Customer
from hk.domain.order.model import Order
from hk.domain.quote import Quote, QuoteLine, step
from hk.errors import HkError, UsageError
from hk.services.orders.rules import standard_minutes
from hk.services.orders.steps import OrderRequest, build_order, service_items
from hk.services.quotes.steps import check_acceptable, load_quote, today
from hk.services.records import code_of, load, moment, refused
from hk.store.archive import Archive
from hk.store.writer import SaveResult, save_together


@dataclass
class Accepted:
    """The accepted quote, the records it turned into, and the commits."""

    quote: Quote
    result: SaveResult
    orders: list[Order] = field(default_factory=list)
    created: SaveResult | None = None
    contract: Any = None


def visit_days(line: QuoteLine) -> list[int]:
    """Days after the start of each visit a line's month holds: once on day 0; ``times`` a
    week spread over each of four weeks (每周2次: days 0, 3, 7, 10 …); ``times`` a month spread
    over thirty days."""
    if line.frequency is None:
        return [0]
    times = line.frequency.times
    if line.frequency.per == "week":
        return [week * 7 + i * 7 // times for week in range(4) for i in range(times)]
    return [i * 30 // times for i in range(times)]


def _address_number(customer: Customer, quote: Quote, given: int | None) -> int:
    """The customer's address the quote was made for, by number (from 1)."""
    if given is not None:
        return given
    wanted = quote.address.one_line()
    for n, address in enumerate(customer.addresses, 1):
        if address.one_line() == wanted:
            return n
    raise UsageError(
        "the customer no longer has the address the quote was made for",
        hint="choose one of their addresses with --address N",
    )


def _shares(discount: int, subtotals: list[int]) -> list[int]:
    """``discount`` split in proportion to ``subtotals``, the fen left over on the largest."""
    whole = sum(subtotals)
    if not discount or not whole:
        return [0] * len(subtotals)
    shares = [discount * s // whole for s in subtotals]
    shares[subtotals.index(max(subtotals))] += discount - sum(shares)
    return shares


def already_made(archive: Archive, quote: Quote) -> list[str]:
    """Orders that already name this quote (an acceptance half done), by code."""
    archive.index.refresh(["order"])
    rows = archive.index.list("order", ref=quote.id)
    return [row["code"] or row["id"] for row in rows]


def accept_as_orders(
    archive: Archive,
    ref: str,
    start: dt.datetime,
    *,
    channel: str = "phone",
    hours: Decimal | None = None,
    address: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Accepted:
    """Accept the quote and make its orders: the one-off lines in one order at ``start``, and
    each visit of the recurring lines' first month on its day (:func:`visit_days`), at the
    same time of day; lines due on the same day share an order. ``hours`` is the length of
    an order the catalog gives no standard duration for (深度保洁 by m²). One commit."""
    quote, loaded = load_quote(archive, ref)
    when = moment(archive, at)
    check_acceptable(quote, today(archive))
    made = already_made(archive, quote)
    if made:
        raise HkError(
            f"orders already name this quote: {', '.join(made)}",
            hint="see them with hk order list --customer …; edit the quote by hand "
            "to link them if its acceptance was interrupted",
        )
    customer, _ = load(archive, Customer, quote.customer)
    number = _address_number(customer, quote, address)
    begin = moment(archive, start)
    by_day: dict[int, list[QuoteLine]] = {}
    for line in quote.lines:
        for day in visit_days(line):
            by_day.setdefault(day, []).append(line)
    days = sorted(by_day)
    subtotals = [sum(line.amount_fen for line in by_day[d]) for d in days]
    shares = _shares(quote.discount_fen, subtotals)
    items = service_items(archive, quote.services())
    orders = []
    for day, share in zip(days, shares, strict=True):
        lines = by_day[day]
        timed = standard_minutes([(items[line.service], line.quantity) for line in lines])
        order, _ = build_order(
            archive,
            OrderRequest(
                customer.id,
                [(line.service, line.quantity) for line in lines],
                begin + dt.timedelta(days=day),
                channel=channel,
                hours=hours if timed is None else None,
                address=number,
                notes=quote.notes,
                at=when,
                quote=quote.id,
                unit_prices=[line.unit_price_fen for line in lines],
                tier=quote.tier,
                discount_fen=share,
                discount_note=quote.discount_note if share else "",
            ),
        )
        _as_quoted(order, lines)
        orders.append(order)
    if sum(o.total_fen for o in orders) != quote.total_fen:
        raise HkError(
            "the orders would not add up to the quoted total",
            hint="make a new quote with hk quote new",
        )
    try:
        accepted = step(
            quote,
            "accepted",
            archive.operator(),
            when,
            note,
            today(archive),
            links={"orders": [o.id for o in orders]},
        )
    except ValidationError as exc:
        raise refused(exc) from None
    code = code_of(archive, quote.id) or quote.id
    result = save_together(
        archive,
        [*((o, None) for o in orders), (accepted, loaded)],
        f"quote {code}: accepted as {len(orders)} order{'s' if len(orders) != 1 else ''}",
    )
    return Accepted(accepted, result, orders, result)


def _as_quoted(order: Order, lines: list[QuoteLine]) -> None:
    """Refuse an order whose lines come out at other amounts than the quote's."""
    for got, quoted in zip(order.lines, lines, strict=True):
        if got.amount_fen != quoted.amount_fen or got.billed_quantity() != quoted.billed_quantity():
            raise HkError(
                f"{quoted.service} {quoted.name} would now cost {got.amount_fen / 100:.2f} yuan "
                f"a visit, not the quoted {quoted.amount_fen / 100:.2f}",
                hint="the catalog or the pricing settings changed since the quote; make a new "
                "quote with hk quote new",
            )
