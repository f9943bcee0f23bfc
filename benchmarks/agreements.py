"""Quotes (报价单) and contracts (合同) of the benchmark archive.

Quotes are priced as ``hk quote new`` prices them (:func:`hk.domain.pricing.price_lines`, a
recurring line counted for one month of visits) for customers who existed by then, and move
on as offices see them: most are sent, about half of those accepted, some rejected, the rest
left to expire; the newest are still drafts or waiting for an answer. Contracts are the
long-term side: placements (保姆, 育儿嫂, 月嫂, 老人陪护) with a worker, and package or regular
service contracts with a weekly schedule, many of them from an accepted quote (linked both
ways). Their terms, fees and dates are what :mod:`hk.services.contracts.steps` would draft.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal
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
    customers: list[Customer] = sorted(
        ctx.records["customer"],  # type: ignore[arg-type]
        key=lambda c: c.created,
    )
    return customers, [c.created for c in customers]


def quote_lines(
    ctx: Context, catalog: Catalog, customer: Customer
) -> tuple[list[QuoteLine], int, int]:
    """One or two priced lines for the customer, and the quote's lines total and deposit."""
    from benchmarks.orders import quantity_for

    services = catalog.services
    first = services[
        ctx.pick(pools.ORDER_SERVICES.get(customer.category, pools.ORDER_SERVICES["家庭保洁"]))
    ]
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
            frequency = Frequency(
                times=ctx.rng.choice([1, 1, 2, 3]), per="week" if ctx.chance(0.7) else "month"
            )
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
        lines.append(
            QuoteLine(
                service=line.code,
                name=line.name,
                quantity=line.quantity,
                charged_quantity=None if charged == line.quantity else charged,
                unit=line.unit,
                list_price_fen=line.list_price_fen,
                unit_price_fen=line.unit_price_fen,
                gross_fen=line.gross_fen,
                discount_fen=line.discount_fen,
                amount_fen=line.net_fen,
                frequency=frequency,
            )
        )
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
            events.append(
                {
                    "at": sent_at,
                    "actor": clerk,
                    "from_status": "draft",
                    "to_status": "sent",
                    "via": rng.choice(["wechat", "wechat", "print", "email", "sms"]),
                    "recipient": "customer",
                }
            )
            status = "sent"
            answered = sent_at + dt.timedelta(hours=rng.randrange(2, 24 * valid_days + 1))
            if answered <= now and answered.date() <= valid_until:
                outcome = ctx.pick([("accepted", 55), ("rejected", 20), ("", 25)])
                if outcome:
                    events.append(
                        {
                            "at": answered,
                            "actor": clerk,
                            "from_status": "sent",
                            "to_status": outcome,
                            "note": rng.choice(pools.QUOTE_REASONS[outcome]),
                        }
                    )
                    status = outcome
        address = customer.addresses[0].model_dump() if customer.addresses else {}
        quotes.append(
            Quote.model_validate(
                {
                    "id": record_id,
                    "created": made,
                    "updated": events[-1]["at"],
                    "status": status,
                    "customer": customer.id,
                    "address": address,
                    "tier": customer.tier,
                    "lines": lines,
                    "discount_fen": discount,
                    "discount_note": note,
                    "total_fen": total - discount,
                    "deposit_fen": max(0, min(deposit, total - discount)),
                    "valid_until": valid_until,
                    "events": events,
                }
            )
        )
    return quotes


# --- contracts ----------------------------------------------------------------------------------

PLACEMENT_ITEMS = {
    "保姆": ["BM-LIVEIN", "BM-DAY"],
    "育儿嫂": ["YE-NANNY"],
    "月嫂": ["YS-26"],
    "老人陪护": ["LR-CARE"],
}
"""What a long-term placement of each customer category is, in the catalog."""
REGULAR_ITEMS = {"家庭保洁": ["BJ-DAILY", "BJ-HOURLY"], "钟点工": ["BJ-HOURLY", "BJ-DAILY"]}
PACKAGE_MONTHS = {"PKG-MONTH": 1, "PKG-QUARTER": 3, "PKG-YEAR": 12}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
SLOTS = ("08:30-11:30", "09:00-12:00", "14:00-17:00", "15:00-17:00")
TERMINATION_REASONS = [
    "客户搬家",
    "客户家中老人住院，暂停服务",
    "阿姨家中有事，双方协商解除",
    "客户对服务不满意",
    "孩子入托，不再需要",
]
REPLACEMENT_REASONS = ["阿姨回老家", "客户要求更换", "阿姨身体原因", "阿姨另有安排"]


def _months_after(day: dt.date, months: int) -> dt.date:
    """The last day of a term of ``months`` months from ``day``."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    first_after = dt.date(year, month, min(day.day, 28))
    return first_after - dt.timedelta(days=1)


class ContractBuilder:
    """Contracts in creation order: drafted, signed by every party, activated, then renewed,
    terminated or left to run out, as far as the archive's "now" allows."""

    def __init__(self, ctx: Context, catalog: Catalog, now: dt.datetime) -> None:
        self.ctx, self.rng, self.catalog, self.now = ctx, ctx.rng, catalog, now
        self.customers, self.created = _customers_by_creation(ctx)
        self.workers: list[Any] = sorted(ctx.records.get("worker", []), key=lambda w: w.created)
        company = catalog.settings.company
        self.company = {
            "name": company.name or "（公司名称）",
            "phone": company.phone,
            "address": company.address,
            "license": company.license,
        }
        self.numbers: dict[int, int] = {}

    def build(self, n: int) -> list[Record]:
        from hk.domain.quote import Quote

        quotes = [
            q
            for q in self.ctx.records.get("quote", [])
            if isinstance(q, Quote) and q.status == "accepted" and q.recurring()
        ]
        out: list[Record] = []
        for record_id, created, _ in self.ctx.stamps(n):
            quote = None
            if quotes and self.ctx.chance(0.3):
                quote = quotes.pop(self.rng.randrange(len(quotes)))
                created = max(created, quote.events[-1].at + dt.timedelta(hours=2))
                if created > self.now:
                    continue
                record_id = self._id(created)
            made = self._one(record_id, created, quote)
            if made is not None:
                out += made
        return sorted(out, key=lambda c: c.id)

    # --- one contract and its successor --------------------------------------------------------

    def _id(self, at: dt.datetime) -> str:
        from benchmarks.generate import _ulid

        return _ulid(
            int(at.timestamp()) * 1000 + self.rng.randrange(1000), self.rng.getrandbits(80)
        )

    def _number(self, at: dt.datetime) -> str:
        self.numbers[at.year] = self.numbers.get(at.year, 0) + 1
        return f"HT{at.year}-{self.numbers[at.year]:04d}"

    def _one(self, record_id: str, created: dt.datetime, quote: Any) -> list[Record] | None:
        from hk.domain.quote import Quote

        rng = self.rng
        if quote is not None:
            customer = next(c for c in self.customers if c.id == quote.customer)
            kind = "service"
        else:
            k = bisect.bisect_right(self.created, created)
            if k == 0:
                return None
            customer = self.customers[rng.randrange(k)]
            kind = (
                "placement"
                if customer.category in PLACEMENT_ITEMS
                else "package"
                if self.ctx.chance(0.4)
                else "service"
            )
        if not customer.addresses:
            return None
        terms = self._terms(kind, customer, created, quote)
        if terms is None:
            return None
        contract = self._signed(record_id, created, terms)
        out: list[Record] = [contract]
        contract, successor = self._later(contract)
        out[0] = contract
        if successor is not None:
            out.append(successor)
        if quote is not None:
            quote.contract = contract.id
            Quote.model_validate(quote.model_dump())  # the link keeps the quote valid
        return out

    def _terms(
        self, kind: str, customer: Customer, created: dt.datetime, quote: Any
    ) -> dict[str, Any] | None:
        from hk.domain.schedule import Schedule, ScheduleLine

        rng, services = self.rng, self.catalog.services
        start = created.date() + dt.timedelta(days=rng.randrange(1, 15))
        worker = None
        package = None
        schedule = None
        hours, rest = "", ""
        if kind == "placement":
            item = services[rng.choice(PLACEMENT_ITEMS[customer.category])]
            worker = self._worker_for(item, created, customer.blocked_workers)
            if worker is None:
                return None
            months = 1 if item.code == "YS-26" else rng.choice([6, 12, 12])
            quantity = Decimal(26) if item.unit == "day" else Decimal(1)
            requests = [LineRequest(item, quantity)]
            hours = "住家" if item.code in ("BM-LIVEIN", "LR-CARE", "YS-26") else "08:00-18:00"
            rest = "每月休息4天" if item.code != "YS-26" else "服务期内不休息"
        elif kind == "package":
            code = rng.choice(list(PACKAGE_MONTHS))
            package = self.catalog.packages[code]
            months = PACKAGE_MONTHS[code]
            requests = [LineRequest(services[i.service], Decimal(1)) for i in package.items]
        else:
            if quote is not None:
                line = next(ln for ln in quote.lines if ln.frequency is not None)
                item, quantity = services[line.service], line.quantity
            else:
                item = services[rng.choice(REGULAR_ITEMS.get(customer.category, ["BJ-DAILY"]))]
                quantity = Decimal(3) if item.unit == "hour" else Decimal(1)
            months = rng.choice([3, 6, 12])
            requests = [LineRequest(item, quantity)]
        end = _months_after(start, months)
        if kind != "placement":
            first = requests[0]
            slot = rng.choice(SLOTS)
            if first.item.unit == "hour":
                begin, finish = (dt.time.fromisoformat(t) for t in slot.split("-"))
                span = dt.datetime.combine(start, finish) - dt.datetime.combine(start, begin)
                requests[0] = LineRequest(first.item, Decimal(int(span.total_seconds()) // 60) / 60)
            days = sorted(rng.sample(WEEKDAYS, rng.choice([1, 1, 2])), key=WEEKDAYS.index)
            schedule = Schedule(
                rule="weekly",
                days=days,
                interval=1,
                time=slot,
                starts=start,
                ends=end,
                services=[
                    ScheduleLine(service=requests[0].item.code, quantity=requests[0].quantity)
                ],
            )
        priced = price_lines(requests, self.catalog.settings, customer.tier or None)
        visits = {i.service: i.visits for i in package.items} if package else {}
        lines = [
            {
                "service": p.code,
                "name": p.name,
                "quantity": p.charged_quantity,
                "unit": p.unit,
                "unit_price_fen": p.unit_price_fen,
                "discount_fen": p.discount_fen,
                "amount_fen": p.net_fen,
                "visits": visits.get(p.code),
            }
            for p in priced.lines
        ]
        if kind == "placement":
            fee = round(priced.total_fen * rng.uniform(0.9, 1.15) / 10_000) * 10_000 or 10_000
        elif kind == "package":
            assert package is not None
            fee = package.price_fen
        else:
            fee = priced.total_fen
        from hk.domain.fields import format_phone

        phone = format_phone(customer.phones[0]) if customer.phones else ""
        return {
            "contract_type": kind,
            "model": (rng.choice(["中介制", "中介制", "员工制"]) if kind == "placement" else None),
            "customer": customer.id,
            "worker": worker.id if worker else None,
            "parties": {
                "customer": {"name": customer.name, "phone": phone},
                "company": self.company,
                "worker": {
                    "name": worker.name,
                    "phone": format_phone(worker.phone) if worker.phone else "",
                }
                if worker
                else None,
            },
            "address": customer.addresses[0].model_dump(),
            "start": start,
            "end": end,
            "package": package.code if package else None,
            "package_name": package.name if package else "",
            "schedule": schedule,
            "lines": lines,
            "service_fee_fen": fee,
            "fee_unit": {"placement": "month", "package": "total", "service": "visit"}[kind],
            "intro_fee_fen": rng.choice([100_000, 150_000, 200_000]) if kind == "placement" else 0,
            "deposit_fen": rng.choice([0, 50_000, 100_000]) if kind == "placement" else 0,
            "payment_cycle": {"placement": "monthly", "package": "once", "service": "monthly"}[
                kind
            ],
            "payment_day": rng.choice([5, 10, 15]) if kind != "package" else None,
            "hours": hours,
            "rest_days": rest,
            "trial_days": rng.choice([0, 3, 3, 7]) if kind == "placement" else 0,
            "insurance": "家政服务综合保险，公司投保" if kind == "placement" else "",
            "quote": quote.id if quote is not None else None,
        }

    def _worker_for(self, item: Any, created: dt.datetime, blocked: list[str]) -> Any:
        """A worker with the item's skills who had joined by ``created``, not ``blocked``."""
        wanted = {pools.WORKER_SKILL.get(s, s) for s in item.required_skills}
        joined = [
            w
            for w in self.workers
            if w.created <= created and wanted <= {s.name for s in w.skills} and w.id not in blocked
        ]
        return self.rng.choice(joined) if joined else None

    def _signed(self, record_id: str, created: dt.datetime, terms: dict[str, Any]) -> Any:
        """Drafted at ``created``, signed by every party a day or two later."""
        from hk.domain.contract import Contract
        from hk.services import documents
        from hk.services.contracts.document import TEMPLATE, terms_context

        clerk = self.rng.choice(pools.OFFICE_STAFF)
        number = self._number(created)
        draft = Contract.model_validate(
            {
                "id": record_id,
                "created": created,
                "updated": created,
                "number": number,
                **terms,
                "events": [{"at": created, "actor": clerk, "to_status": "draft", "note": "起草"}],
            }
        )
        digest = documents.digest(documents.render_markdown(None, TEMPLATE, terms_context(draft)))
        signed_at = min(created + dt.timedelta(hours=self.rng.randrange(2, 48)), self.now)
        signatures = []
        for party in draft.required_parties():
            name = (
                draft.parties.customer.name
                if party == "customer"
                else draft.parties.worker.name
                if party == "worker" and draft.parties.worker
                else clerk
            )
            signatures.append(
                {
                    "party": party,
                    "name": name,
                    "at": signed_at,
                    "method": self.rng.choice(["paper", "paper", "in_person", "esign"]),
                    "sha256": digest,
                }
            )
        return self._step(draft, "signed", signed_at, clerk, "各方签字", signatures=signatures)

    def _step(
        self, contract: Any, to: str, at: dt.datetime, actor: str, note: str, **changes: Any
    ) -> Any:
        from hk.domain.contract import step

        return step(contract, to, actor, at, note, updated=at, **changes)

    def _later(self, contract: Any) -> tuple[Any, Any]:
        """Activation on the first day, then a replacement, a termination or a renewal."""
        rng, now = self.rng, self.now
        tz = contract.created.tzinfo
        clerk = contract.events[-1].actor
        begins = dt.datetime.combine(contract.start, dt.time(8, 0), tz)
        if begins > now:
            return contract, None
        begins = max(begins, contract.events[-1].at)
        contract = self._step(contract, "active", begins, clerk, "按约定日期生效")
        ends = dt.datetime.combine(contract.end, dt.time(18, 0), tz)
        if contract.worker and self.ctx.chance(0.12):
            day = contract.start + dt.timedelta(
                days=rng.randrange(max(1, (contract.end - contract.start).days))
            )
            at = dt.datetime.combine(day, dt.time(10, 0), tz)
            item = self.catalog.services[contract.lines[0].service]
            new = self._worker_for(item, at, [contract.worker])
            if at <= now and new is not None and new.id != contract.worker:
                replacement = {
                    "date": day,
                    "old": contract.worker,
                    "new": new.id,
                    "reason": rng.choice(REPLACEMENT_REASONS),
                    "operator": clerk,
                    "at": at,
                }
                contract = self._step(
                    contract, "active", at, clerk, "更换阿姨", replacements=[replacement]
                )
        if self.ctx.chance(0.08):
            span = (contract.end - contract.start).days
            last = contract.start + dt.timedelta(days=rng.randrange(max(1, span)))
            at = max(dt.datetime.combine(last, dt.time(17, 0), tz), contract.events[-1].at)
            if at <= now:
                reason = rng.choice(TERMINATION_REASONS)
                return self._step(
                    contract,
                    "terminated",
                    at,
                    clerk,
                    reason,
                    termination={"date": at.date(), "reason": reason},
                ), None
        renew_at = ends - dt.timedelta(days=rng.randrange(5, 25))
        if renew_at <= now and renew_at > contract.events[-1].at and self.ctx.chance(0.35):
            terms = {
                name: getattr(contract, name)
                for name in (
                    "contract_type",
                    "model",
                    "customer",
                    "worker",
                    "parties",
                    "address",
                    "package",
                    "package_name",
                    "lines",
                    "service_fee_fen",
                    "fee_unit",
                    "intro_fee_fen",
                    "deposit_fen",
                    "payment_cycle",
                    "payment_day",
                    "hours",
                    "rest_days",
                    "trial_days",
                    "insurance",
                )
            }
            start = contract.end + dt.timedelta(days=1)
            months = max(1, contract.months())
            end = _months_after(start, months)
            terms.update(
                start=start,
                end=end,
                previous=contract.id,
                intro_fee_fen=0,
                worker=contract.current_worker(),
            )
            if contract.current_worker() != contract.worker:
                new = next(w for w in self.workers if w.id == contract.current_worker())
                terms["parties"] = {
                    **contract.parties.model_dump(),
                    "worker": {"name": new.name, "phone": ""},
                }
            if contract.schedule is not None:
                terms["schedule"] = contract.schedule.model_copy(
                    update={"starts": start, "ends": end}
                )
            successor = self._signed(self._id(renew_at), renew_at, terms)
            successor, _ = self._later_plain(successor)
            if successor.status == "active":
                contract = self._step(
                    contract,
                    "renewed",
                    successor.events[-1].at,
                    clerk,
                    f"续签为 {successor.number}",
                    renewed_by=successor.id,
                )
            return contract, successor
        return contract, None

    def _later_plain(self, contract: Any) -> tuple[Any, None]:
        """A successor: activated on its first day if that has come, nothing more."""
        tz = contract.created.tzinfo
        begins = dt.datetime.combine(contract.start, dt.time(8, 0), tz)
        if begins > self.now:
            return contract, None
        begins = max(begins, contract.events[-1].at)
        return self._step(
            contract, "active", begins, contract.events[-1].actor, "续签合同生效"
        ), None


def build_contracts(ctx: Context, n: int, catalog: Catalog, now: dt.datetime) -> list[Record]:
    """``n`` contracts (and the successors of those renewed) over the archive's years."""
    return ContractBuilder(ctx, catalog, now).build(n)
