"""Accepting a quote as a contract (报价单 → 合同), drafted by
:func:`hk.services.contracts.steps.new_contract`.

The contract takes the quote's lines at the quoted unit prices, its address, deposit and notes,
and links back by ``quote``. A quote whose lines repeat (每周2次) gives the contract its
schedule: the visit days spread over the week from the start day (every 7 ÷ N days), at the
start's time for as long as the catalog says the visit takes (or ``hours``); N times a month is
every 4 ÷ N weeks (1, 2 or 4 times) or every 30 ÷ N days. One schedule per contract: lines that
repeat differently need ``schedule`` given by hand.

The kind follows from the lines unless given: items priced per month make a placement (派驻),
repeating lines a service contract (周期服务). The quote's extra discount goes into the
contract's clauses, as the quote counted it (for the quote's month), and a placement's monthly
fee is the quote's total when all its lines are monthly.

Two commits, like accepting as orders: the contract (drafted, linking the quote), then the
quote, accepted, linking the contract.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hk.domain.money import format_money
from hk.domain.quote import Frequency, Quote, QuoteLine, step
from hk.domain.schedule import WEEKDAYS
from hk.errors import UsageError
from hk.services.orders.rules import standard_minutes
from hk.services.orders.steps import service_items
from hk.services.quotes.accept import Accepted, _address_number
from hk.services.quotes.steps import check_acceptable, load_quote, today
from hk.services.records import code_of, load, moment, refused
from hk.store.archive import Archive
from hk.store.writer import save


def schedule_of(
    archive: Archive, quote: Quote, start: dt.datetime, hours: Decimal | None = None
) -> str | None:
    """The schedule's short form (``weekly:tue,fri 09:00-12:00``) the quote's repeating lines
    make, from ``start``; None when no line repeats."""
    repeating = [line for line in quote.lines if line.frequency is not None]
    if not repeating:
        return None
    kinds = {line.frequency for line in repeating}
    if len(kinds) > 1:
        raise UsageError(
            "the quote's lines repeat differently; a contract has one schedule",
            hint="give --schedule, e.g. --schedule 'weekly:tue,fri 09:00-12:00'",
        )
    frequency: Frequency = repeating[0].frequency  # type: ignore[assignment]
    minutes = int(hours * 60) if hours is not None else _minutes(archive, repeating)
    end = start + dt.timedelta(minutes=minutes)
    if end.date() != start.date():
        raise UsageError(
            "a visit of the schedule would end on the next day",
            hint="give --hours for the length of one visit",
        )
    time = f"{start:%H:%M}-{end:%H:%M}"
    times = frequency.times
    if frequency.per == "week":
        if times > 7:
            raise UsageError(f"{frequency.zh()} is more than once a day; give --schedule")
        days = sorted({(start.weekday() + i * 7 // times) % 7 for i in range(times)})
        return f"weekly:{','.join(WEEKDAYS[d] for d in days)} {time}"
    day = WEEKDAYS[start.weekday()]
    if times in (1, 2, 4):
        every = 4 // times
        return f"weekly{'' if every == 1 else f'/{every}'}:{day} {time}"
    return f"every:{30 // times} {time}"


def _minutes(archive: Archive, lines: list[QuoteLine]) -> int:
    items = service_items(archive, [line.service for line in lines])
    minutes = standard_minutes([(items[line.service], line.quantity) for line in lines])
    if minutes is None:
        raise UsageError(
            "the catalog gives no standard duration for the repeating services",
            hint="give --hours for the length of one visit",
        )
    return minutes


def kind_of(quote: Quote) -> str:
    """Placement when every line is priced per month, service when a line repeats."""
    if all(line.unit == "month" for line in quote.lines):
        return "placement"
    if quote.recurring():
        return "service"
    raise UsageError(
        "the quote has neither monthly nor repeating services; say which contract",
        hint="--kind placement, package or service (or accept it --as orders)",
    )


def accept_as_contract(
    archive: Archive,
    ref: str,
    start: dt.date | dt.datetime,
    *,
    kind: str | None = None,
    hours: Decimal | None = None,
    schedule: str | None = None,
    address: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    **terms: Any,
) -> Accepted:
    """Accept the quote and draft its contract from ``start``; ``terms`` are the other keywords
    :func:`~hk.services.contracts.steps.new_contract` takes (``months``, ``end``, ``worker``,
    ``model``, ``intro_fee_fen``, ``payment_method``, ``clauses`` …). ``start`` is a day, or
    a day and time when the schedule comes from the quote (the visits' time). Two commits."""
    from hk.domain.customer import Customer
    from hk.services.contracts.steps import new_contract

    quote, loaded = load_quote(archive, ref)
    when = moment(archive, at)
    check_acceptable(quote, today(archive))
    timed = isinstance(start, dt.datetime)
    begin = moment(
        archive, start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
    )
    chosen = kind or kind_of(quote)
    customer, _ = load(archive, Customer, quote.customer)
    code = code_of(archive, quote.id) or quote.id
    clauses = list(terms.pop("clauses", None) or [])
    if quote.discount_fen:
        clauses.append(
            f"按报价单{code}给予额外优惠{format_money(quote.discount_fen)}"
            f"（{quote.discount_note}）。"
        )
    fee = terms.pop("service_fee_fen", None)
    if fee is None and chosen == "placement" and all(line.unit == "month" for line in quote.lines):
        fee = quote.total_fen
    if schedule is None and chosen != "placement" and quote.recurring():
        if not timed:
            raise UsageError(
                "the schedule's visits need their time of day",
                hint="--start 'YYYY-MM-DD HH:MM', or give --schedule",
            )
        schedule = schedule_of(archive, quote, begin, hours)
    terms.setdefault("deposit_fen", quote.deposit_fen)
    contract, created = new_contract(
        archive,
        customer.id,
        kind=chosen,
        start=begin.date(),
        schedule=schedule,
        services=[(line.service, line.quantity, line.unit_price_fen) for line in quote.lines],
        address=_address_number(customer, quote, address),
        service_fee_fen=fee,
        clauses=clauses,
        quote=quote.id,
        notes=quote.notes,
        at=when,
        **terms,
    )
    try:
        accepted = step(
            quote,
            "accepted",
            archive.operator(),
            when,
            note,
            today(archive),
            links={"contract": contract.id},
        )
    except ValidationError as exc:
        raise refused(exc) from None
    return Accepted(accepted, save(archive, accepted, loaded), created=created, contract=contract)
