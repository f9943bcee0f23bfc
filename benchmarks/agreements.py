"""Quotes (报价单) and contracts (合同) of the benchmark archive.

Quotes are priced as ``hk quote new`` prices them (:func:`hk.domain.pricing.price_lines`, a
recurring line counted for one month of visits) for customers who existed by then, and move
on as offices see them: most are sent, about half of those accepted, some rejected, the rest
left to expire; the newest are still drafts or waiting for an answer. Contracts are the
long-term side: placements (保姆, 育儿嫂, 月嫂, 老人陪护) with a worker, and package or regular
service contracts with a weekly schedule, many of them from an accepted quote (linked both
ways). Their terms, fees and dates are what :mod:`hk.services.contracts` would draft.
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import TYPE_CHECKING, Any

from benchmarks import pools
from hk.domain.customer import Customer
from hk.domain.pricing import LineRequest, price_lines
from hk.domain.quote import Frequency, Quote, QuoteLine

if TYPE_CHECKING:
    from benchmarks.generate import Context
    from benchmarks.orders import Catalog
    from hk.domain.base import Record

RECURRING_UNITS = ("hour", "visit")
"""Lines that may repeat weekly or monthly; m², day and month lines are quoted once."""


def _customers_by_creation(ctx: Context) -> tuple[list[Customer], list[dt.datetime]]:
    customers: list[Customer] = sorted(ctx.records["customer"],  # type: ignore[arg-type]
                                       key=lambda c: c.created)
    return customers, [c.created for c in customers]


def quote_lines(ctx: Context, catalog: Catalog, customer: Customer
                ) -> tuple[list[QuoteLine], int, int]:
    """One or two priced lines for the customer, and the quote's lines total and deposit."""
    from benchmarks.orders import quantity_for

    services = catalog.services
    first = services[ctx.pick(pools.ORDER_SERVICES.get(customer.category,
                                                       pools.ORDER_SERVICES["家庭保洁"]))]
    items = [first]
    if first.category == "家庭保洁" and ctx.chance(0.25):
        extra = services[ctx.pick(pools.ADD_ONS)]
        if extra.code != first.code:
            items.append(extra)
    lines: list[QuoteLine] = []
    requests: list[LineRequest] = []
    counts: list[int] = []
    frequencies: list[Frequency | None] = []
    for item in items:
        frequency = None
        if item.unit in RECURRING_UNITS and ctx.chance(0.45):
            frequency = Frequency(times=ctx.rng.choice([1, 1, 2, 3]),
                                  per="week" if ctx.chance(0.7) else "month")
        amount = quantity_for(ctx, item)
        visits = frequency.visits_per_month() if frequency else 1
        requests += [LineRequest(item, amount)] * visits
        counts.append(visits)
        frequencies.append(frequency)
    priced = price_lines(requests, catalog.settings, customer.tier or None)
    n = 0
    for count, frequency in zip(counts, frequencies, strict=True):
        line = priced.lines[n]
        n += count
        charged = line.charged_quantity
        lines.append(QuoteLine(
            service=line.code, name=line.name, quantity=line.quantity,
            charged_quantity=None if charged == line.quantity else charged, unit=line.unit,
            list_price_fen=line.list_price_fen, unit_price_fen=line.unit_price_fen,
            gross_fen=line.gross_fen, discount_fen=line.discount_fen, amount_fen=line.net_fen,
            frequency=frequency))
    return lines, priced.total_fen, priced.deposit_fen


def build_quotes(ctx: Context, n: int, catalog: Catalog, now: dt.datetime) -> list[Record]:
    """``n`` quotes over the archive's years, each in the state an office would leave it."""
    customers, created = _customers_by_creation(ctx)
    rng = ctx.rng
    quotes: list[Record] = []
    for record_id, made, _ in ctx.stamps(n):
        k = bisect.bisect_right(created, made)
        if k == 0:
            continue
        customer = customers[rng.randrange(k)]
        lines, total, deposit = quote_lines(ctx, catalog, customer)
        discount, note = 0, ""
        if ctx.chance(0.15):
            discount = min(total, rng.choice([1000, 2000, 5000, 10000]))
            note = rng.choice(pools.DISCOUNT_NOTES)
        clerk = rng.choice(pools.OFFICE_STAFF)
        valid_days = rng.choice([3, 7, 7, 14, 30])
        valid_until = made.date() + dt.timedelta(days=valid_days)
        events: list[dict[str, Any]] = [{"at": made, "actor": clerk, "to_status": "draft"}]
        status = "draft"
        sent_at = made + dt.timedelta(minutes=rng.randrange(5, 240))
        if sent_at <= now and ctx.chance(0.9):
            events.append({"at": sent_at, "actor": clerk, "from_status": "draft",
                           "to_status": "sent", "via": rng.choice(["wechat", "wechat", "print",
                                                                   "email", "sms"]),
                           "recipient": "customer"})
            status = "sent"
            answered = sent_at + dt.timedelta(hours=rng.randrange(2, 24 * valid_days + 1))
            if answered <= now and answered.date() <= valid_until:
                outcome = ctx.pick([("accepted", 55), ("rejected", 20), ("", 25)])
                if outcome:
                    events.append({"at": answered, "actor": clerk, "from_status": "sent",
                                   "to_status": outcome,
                                   "note": rng.choice(pools.QUOTE_REASONS[outcome])})
                    status = outcome
        address = customer.addresses[0].model_dump() if customer.addresses else {}
        quotes.append(Quote.model_validate({
            "id": record_id, "created": made, "updated": events[-1]["at"],
            "status": status, "customer": customer.id, "address": address,
            "tier": customer.tier, "lines": lines, "discount_fen": discount,
            "discount_note": note, "total_fen": total - discount,
            "deposit_fen": max(0, min(deposit, total - discount)),
            "valid_until": valid_until, "events": events,
        }))
    return quotes
