"""Orders of the benchmark archive: three years of bookings, priced, dispatched, paid and rated.

Each order is what the office would have recorded: taken from a customer who existed by then,
at one of that customer's addresses, for services their category books; priced by
:func:`hk.domain.pricing.price_lines` from the archive's catalog and settings (tier discounts,
hourly minimums, package visits, deposits); a worker with the skill assigned at dispatch,
the same one again for a regular customer when possible; and an event log that follows the
lifecycle table as far as the archive's "now" allows. Orders whose appointment has passed are
mostly settled; the ones of the coming days are still pending, confirmed, waiting for
dispatch or dispatched; some were cancelled, the late ones with a fee.

The log is built directly (one validation per order instead of one per transition, five times
faster at 100 000 orders) under the rules :mod:`hk.domain.lifecycle` applies: a worker before
dispatch, a reason for a cancellation, nothing left to pay when settled. The tests replay
generated logs through :func:`hk.domain.lifecycle.transition` to keep the two in step.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from benchmarks import pools
from hk.domain.catalog import Package, ServiceItem
from hk.domain.customer import Customer
from hk.domain.order.model import Order
from hk.domain.pricing import LineRequest, PackageBalance, cancellation_fee, price_lines
from hk.domain.settings import Settings
from hk.domain.worker import Worker

if TYPE_CHECKING:
    from benchmarks.generate import Context
    from hk.store.archive import Archive

MINUTE = dt.timedelta(minutes=1)
REDONE_UNITS = ("hour", "visit", "m2")
"""A low rating of a job by the hour, visit or m² may bring a rework; of a placement, not."""

LEAD_DAYS, LEAD_WEIGHTS = (0, 1, 2, 3, 5, 7), (10, 30, 20, 15, 15, 10)
"""Days from the call to a short job: most within three days, some the same day."""

Able = tuple[list[dt.datetime], list[Worker], dict[str, int]]
"""Workers able to do a service, by start date: start dates, workers, position of each ID."""


@dataclass(frozen=True)
class Catalog:
    """What orders are priced from: the catalog's services and packages, and the settings."""

    services: dict[str, ServiceItem]
    packages: dict[str, Package]
    settings: Settings

    @classmethod
    def of_archive(cls, archive: Archive) -> Catalog:
        """The catalog as the archive's files hold it."""
        from hk.store.files import parse_record

        def read(model: type[ServiceItem] | type[Package]) -> dict[str, Any]:
            items: dict[str, Any] = {}
            for path in sorted((archive.root / model.folder).glob("*.yaml")):
                rel = path.relative_to(archive.root).as_posix()
                record = parse_record(model, path.read_text(encoding="utf-8"), rel)
                items[record.code] = record
            return items

        return cls(read(ServiceItem), read(Package), archive.settings)

    @classmethod
    def default(cls) -> Catalog:
        """The catalog and settings a new archive starts with (``hk init`` writes these)."""
        import tomllib
        from importlib import resources

        import yaml

        data = resources.files("hk.data")
        text = data.joinpath("hk.toml").read_text(encoding="utf-8")
        settings = Settings.model_validate(
            tomllib.loads(
                text.replace('"{archive_id}"', '"benchmark"')
                .replace('"{company}"', '"benchmark"')
                .replace('"{city}"', '"成都市"')
            )
        )
        entries = yaml.safe_load(data.joinpath("catalog.yaml").read_text(encoding="utf-8"))
        stamp = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
        common = {"id": "0" * 26, "created": stamp, "updated": stamp}
        services = [ServiceItem.model_validate({**common, **e}) for e in entries["services"]]
        packages = [Package.model_validate({**common, **e}) for e in entries["packages"]]
        return cls({s.code: s for s in services}, {p.code: p for p in packages}, settings)


@dataclass
class Regular:
    """What the office remembers of a customer between orders."""

    worker: str | None = None
    package: PackageBalance | None = None
    buys_packages: bool = False
    low_rated: tuple[str, dict[str, Any]] | None = None
    """An order the customer rated low, and its first line: the next order may redo it."""


@dataclass
class Plan:
    """One order before its log: lines, money, appointment and who will do it."""

    customer: Customer
    lines: list[dict[str, Any]]
    total: int
    deposit: int
    window: tuple[dt.datetime, dt.datetime]
    workers: list[Worker]
    data: dict[str, Any] = field(default_factory=dict)


def quantity_for(ctx: Context, item: ServiceItem) -> Decimal:
    """How much of ``item`` one booking takes: hours, visits, m², days or months."""
    rng = ctx.rng
    if item.unit == "hour":
        if item.category == "企业客户":
            return Decimal(rng.randrange(4, 11))
        return Decimal(rng.choice(["1.5", "2", "2", "2.5", "3", "3", "3", "4", "4", "5"]))
    if item.unit == "visit":
        return Decimal(rng.choice([1, 1, 1, 2]) if item.code == "JD-AC" else 1)
    if item.unit == "m2":
        low, high = (15, 60) if item.code == "BJ-GLASS" else (50, 200)
        area = Decimal(rng.randrange(low, high))
        return area + Decimal("0.5") if ctx.chance(0.1) else area
    if item.unit == "day":
        return Decimal(
            rng.choice([26, 26, 26, 42]) if item.code == "YS-26" else rng.randrange(3, 21)
        )
    return Decimal(ctx.pick([("1", 70), ("3", 20), ("6", 7), ("12", 3)]))


class OrderBuilder:
    """Builds the orders of one archive, in creation order, from one seeded RNG."""

    def __init__(
        self,
        ctx: Context,
        catalog: Catalog,
        first: dt.datetime,
        now: dt.datetime,
        ulid: Callable[[int, int], str],
    ) -> None:
        self.ctx, self.rng, self.catalog = ctx, ctx.rng, catalog
        self.settings = catalog.settings
        self.first, self.now, self.ulid = first, now, ulid
        self.customers: list[Customer] = list(ctx.records["customer"])  # type: ignore[arg-type]
        self.customer_created = [c.created for c in self.customers]
        self.weights = list(
            itertools.accumulate(
                pools.ORDER_RATE.get(c.category, 1.0) * self.rng.lognormvariate(0, 1)
                for c in self.customers
            )
        )
        workers: list[Worker] = list(ctx.records.get("worker", []))  # type: ignore[arg-type]
        self.eligible = {code: self._able(workers, item) for code, item in catalog.services.items()}
        self.regulars: dict[str, Regular] = {}

    # --- who and what ---------------------------------------------------------------------

    def _able(self, workers: list[Worker], item: ServiceItem) -> Able:
        """Workers with the item's skills (all of them, or else its first), by start date."""
        wanted = [pools.WORKER_SKILL.get(s, s) for s in item.required_skills]
        have = [w for w in workers if set(wanted) <= {s.name for s in w.skills}]
        if len(have) < 3 and wanted:
            have = [w for w in workers if wanted[0] in {s.name for s in w.skills}]
        have = sorted(have or workers, key=lambda w: w.created)
        return [w.created for w in have], have, {w.id: i for i, w in enumerate(have)}

    def stamps(self, n: int) -> list[tuple[str, dt.datetime]]:
        """``n`` (id, created) pairs in time order, busier as the agency grows.

        The rate of new orders rises linearly, from 0.3 to 1.3 times the mean; every order is
        taken in office hours (08:00–21:00), after the first customer, before "now".
        """
        rng, days = self.rng, (self.now - self.first).days + 1
        base = self.first.replace(hour=8, minute=0, second=0, microsecond=0)
        out: list[dt.datetime] = []
        while len(out) < n:
            t = -0.3 + math.sqrt(0.09 + 1.6 * rng.random())
            created = base + dt.timedelta(
                days=min(days - 1, int(t * days)), seconds=rng.randrange(13 * 3600)
            )
            if self.first < created <= self.now:
                out.append(created)
        out.sort()
        return [
            (self.ulid(int(c.timestamp()) * 1000 + rng.randrange(1000), rng.getrandbits(80)), c)
            for c in out
        ]

    def customer_at(self, created: dt.datetime) -> Customer:
        """A customer who existed at ``created``; busy households are picked more often."""
        k = max(1, bisect.bisect_right(self.customer_created, created))
        i = bisect.bisect_right(self.weights, self.rng.random() * self.weights[k - 1])
        return self.customers[min(i, k - 1)]

    def regular(self, customer: Customer) -> Regular:
        state = self.regulars.get(customer.id)
        if state is None:
            state = Regular(buys_packages=customer.category == "家庭保洁" and self.ctx.chance(0.3))
            self.regulars[customer.id] = state
        return state

    def quantity(self, item: ServiceItem) -> Decimal:
        return quantity_for(self.ctx, item)

    def workers_for(
        self, code: str, customer: Customer, state: Regular, created: dt.datetime, count: int
    ) -> list[Worker]:
        """``count`` workers able to do ``code`` who had joined by ``created``, none of them
        blocked by the customer; their regular or preferred worker most of the time."""
        starts, able, position = self.eligible[code]
        joined = max(1, bisect.bisect_right(starts, created))
        blocked = set(customer.blocked_workers)
        wanted = [
            i
            for i in (state.worker, *customer.preferred_workers)
            if i in position and position[i] < joined and i not in blocked
        ]
        chosen: list[Worker] = []
        if wanted and self.ctx.chance(0.75):
            chosen.append(able[position[self.rng.choice(wanted)]])
        for _ in range(50):
            if len(chosen) >= min(count, joined):
                break
            worker = able[self.rng.randrange(joined)]
            if worker.id not in blocked and all(w.id != worker.id for w in chosen):
                chosen.append(worker)
        return chosen or [able[self.rng.randrange(joined)]]

    # --- price and appointment ------------------------------------------------------------

    def plan(self, customer: Customer, state: Regular, created: dt.datetime) -> Plan:
        ctx, services = self.ctx, self.catalog.services
        rework = None
        if state.low_rated and ctx.chance(0.6):
            rework, state.low_rated = state.low_rated, None
        if rework is not None:
            first = rework[1]
            item = services[first["service"]]
            lines = [
                {
                    "service": item.code,
                    "name": item.name,
                    "quantity": first["quantity"],
                    "unit": item.unit,
                    "unit_price_fen": 0,
                    "gross_fen": 0,
                    "amount_fen": 0,
                }
            ]
            quantities = [(item, Decimal(first["quantity"]))]
            start = self.start_of(created, item, lead=self.rng.randrange(0, 3))
            plan = Plan(customer, lines, 0, 0, (start, start), [])
            plan.data.update(rework_of=rework[0], notes=self.rng.choice(pools.REWORK_NOTES))
        else:
            plan = self.priced(customer, state, created)
            quantities = [
                (services[ln["service"]], Decimal(ln["charged_quantity"] or ln["quantity"]))
                for ln in plan.lines
            ]
            item = services[plan.lines[0]["service"]]
            start = plan.window[0]
        end, minutes = self.end_of(start, quantities)
        plan.window = (start, end)
        if minutes:
            plan.data["expected_minutes"] = minutes
        two = any(i.unit == "m2" and i.code != "BJ-GLASS" and q >= 80 for i, q in quantities)
        plan.workers = self.workers_for(item.code, customer, state, created, 2 if two else 1)
        return plan

    def priced(self, customer: Customer, state: Regular, created: dt.datetime) -> Plan:
        ctx, services, rng = self.ctx, self.catalog.services, self.rng
        item = services[
            ctx.pick(pools.ORDER_SERVICES.get(customer.category, pools.ORDER_SERVICES["家庭保洁"]))
        ]
        agreed = None
        if item.unit == "month" and ctx.chance(0.3):
            agreed = round(item.price_fen * rng.uniform(0.9, 1.15) / 10_000) * 10_000
        requests = [LineRequest(item, self.quantity(item), unit_price_fen=agreed)]
        if item.category == "家庭保洁" and item.unit in ("visit", "hour") and ctx.chance(0.07):
            extra = services[ctx.pick(pools.ADD_ONS)]
            requests.append(LineRequest(extra, self.quantity(extra)))
        start = self.start_of(created, item)
        package = None
        choices = pools.PACKAGES_BY_SERVICE.get(item.code)
        if choices and state.buys_packages:
            package = state.package
            if (
                package is None
                or package.valid_until < start.date()
                or not package.visits_left.get(item.code)
            ):
                package = PackageBalance.new(
                    self.catalog.packages[rng.choice(choices)], start.date()
                )
        priced = price_lines(
            requests, self.settings, tier=customer.tier or None, package=package, on=start.date()
        )
        lines = [
            {
                "service": ln.code,
                "name": ln.name,
                "quantity": ln.quantity,
                "charged_quantity": ln.charged_quantity
                if ln.charged_quantity != ln.quantity
                else None,
                "unit": ln.unit,
                "unit_price_fen": ln.unit_price_fen,
                "gross_fen": ln.gross_fen,
                "package_visits": ln.package_visits,
                "covered_fen": ln.covered_fen,
                "discount_fen": ln.discount_fen,
                "amount_fen": ln.net_fen,
            }
            for ln in priced.lines
        ]
        plan = Plan(customer, lines, priced.total_fen, priced.deposit_fen, (start, start), [])
        if priced.package is not None and priced.package.consumed:
            state.package = priced.package.balance()
            plan.data["package"] = priced.package.package
        if plan.total and ctx.chance(0.04):
            discount = min(plan.total, rng.choice([500, 1000, 2000, 3000, 5000]))
            plan.total -= discount
            plan.data.update(discount_fen=discount, discount_note=rng.choice(pools.DISCOUNT_NOTES))
        plan.deposit = min(plan.deposit, plan.total)
        return plan

    def start_of(
        self, created: dt.datetime, item: ServiceItem, lead: int | None = None
    ) -> dt.datetime:
        """When the service starts: a few days after the call, long placements further out."""
        rng = self.rng
        if lead is None:
            lead = (
                rng.randrange(2, 21)
                if item.unit in ("day", "month")
                else rng.choices(LEAD_DAYS, LEAD_WEIGHTS)[0]
            )
        day = created.date() + dt.timedelta(days=lead)
        if item.unit in ("day", "month"):
            hour, minute = rng.choice([8, 9]), 0
        else:
            hour, minute = rng.randrange(8, 17), rng.choice([0, 30])
        start = dt.datetime.combine(day, dt.time(hour, minute), created.tzinfo)
        if start < created + dt.timedelta(hours=2):
            start += dt.timedelta(days=1)
        return start

    def end_of(
        self, start: dt.datetime, lines: list[tuple[ServiceItem, Decimal]]
    ) -> tuple[dt.datetime, int | None]:
        """The end of the appointment, and its expected minutes for jobs shorter than a day."""
        minutes, months, days = Decimal(0), 0, 0
        for item, quantity in lines:
            if item.unit == "hour":
                minutes += quantity * 60
            elif item.unit == "visit":
                minutes += quantity * (item.duration_minutes or 60)
            elif item.unit == "m2":
                minutes += quantity * (5 if item.code == "BJ-GLASS" else Decimal("3.6"))
            elif item.unit == "day":
                days += int(quantity)
            else:
                months += int(quantity)
        if months or days:
            end = start
            if months:  # the same day of the month, months later (the 28th at most)
                month = start.month - 1 + months
                end = start.replace(
                    year=start.year + month // 12, month=month % 12 + 1, day=min(start.day, 28)
                )
            return end + dt.timedelta(days=days), None
        whole = int(math.ceil(minutes / 30) * 30)
        return start + dt.timedelta(minutes=whole), whole

    # --- the log --------------------------------------------------------------------------

    def schedule(
        self, created: dt.datetime, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, dt.datetime]]:
        """When each step would happen: confirmed within the hour (or the next day),
        dispatched the afternoon before, started and finished around the window, settled
        within three days."""
        ctx, rng = self.ctx, self.rng
        confirmed = created + MINUTE * (
            rng.randrange(2, 90) if ctx.chance(0.75) else rng.randrange(120, 1800)
        )
        queued = confirmed + MINUTE * (
            rng.randrange(1, 30) if ctx.chance(0.6) else rng.randrange(60, 1440)
        )
        eve = dt.datetime.combine(
            start.date() - dt.timedelta(days=1), dt.time(15), start.tzinfo
        ) + MINUTE * rng.randrange(240)
        dispatched = max(queued + MINUTE * rng.randrange(5, 60), eve)
        latest = start - 15 * MINUTE
        if dispatched > latest:  # booked at short notice: the office hurries
            step = (latest - created) / 4
            confirmed, queued, dispatched = created + step, created + 2 * step, created + 3 * step
        began = max(start + MINUTE * rng.randrange(-10, 16), dispatched + MINUTE)
        done = max(end + MINUTE * rng.randrange(-5, 26), began + 30 * MINUTE)
        settled = done + MINUTE * rng.randrange(10, 4320)
        return [
            ("confirmed", confirmed),
            ("to_dispatch", queued),
            ("dispatched", dispatched),
            ("in_service", began),
            ("completed", done),
            ("settled", settled),
        ]

    def build_one(self, order_id: str, created: dt.datetime) -> Order:
        ctx, rng, now = self.ctx, self.rng, self.now
        customer = self.customer_at(created)
        state = self.regular(customer)
        plan = self.plan(customer, state, created)
        start, end = plan.window
        steps = self.schedule(created, start, end)
        channel = ctx.pick(
            pools.ORDER_CHANNEL.get(customer.channel, [("phone", 50), ("wechat", 50)])
        )
        clerk = rng.choice(pools.OFFICE_STAFF)
        worker = plan.workers[0] if plan.workers else None
        address = customer.addresses[0]
        if len(customer.addresses) > 1 and ctx.chance(0.3):
            address = customer.addresses[1]
        cancel_at = None
        if ctx.chance(0.06):
            last = min(start + 60 * MINUTE, now, steps[4][1] - MINUTE)
            cancel_at = created + (last - created) * rng.uniform(0.05, 1.0)
            steps = [(s, t) for s, t in steps[:4] if t <= cancel_at]
        else:
            steps = [(s, t) for s, t in steps if t <= now]
            if steps and steps[-1][0] == "settled" and ctx.chance(0.01):
                steps.pop()  # a customer who has not paid yet
        events: list[dict[str, Any]] = [{"at": created, "actor": clerk, "to_status": "pending"}]
        status = "pending"
        for target, at in steps:
            actor = rng.choice(pools.DISPATCHERS) if target == "dispatched" else clerk
            event: dict[str, Any] = {
                "at": at,
                "actor": actor,
                "from_status": status,
                "to_status": target,
            }
            if target in ("in_service", "completed") and worker is not None:
                event["actor"] = worker.name
                if target == "in_service" and address.lat is not None and ctx.chance(0.5):
                    event["location"] = {"lat": address.lat, "lon": address.lon}
            events.append(event)
            status = target
        data = self.money(plan, channel, created, steps, cancel_at)
        if cancel_at is not None:
            events.append(
                {
                    "at": cancel_at,
                    "actor": clerk,
                    "from_status": status,
                    "to_status": "cancelled",
                    "note": data.pop("_reason"),
                }
            )
            status = "cancelled"
        data.update(plan.data)
        data.update(
            id=order_id,
            created=created,
            customer=customer.id,
            address=address,
            window={"start": start, "end": end},
            lines=plan.lines,
            total_fen=plan.total,
            deposit_fen=plan.deposit,
            channel=channel,
            status=status,
            events=events,
            requirements=self.requirements(customer, plan),
        )
        if any(target == "dispatched" for target, _ in steps):
            data["workers"] = [w.id for w in plan.workers]
            if worker is not None:
                state.worker = worker.id
        if status in ("completed", "settled"):
            self.aftercare(data, plan, state, order_id, steps[4][1])
        if "notes" not in data and ctx.chance(0.1):
            data["notes"] = rng.choice(pools.ORDER_NOTES)
        times = [e["at"] for e in events] + [p["at"] for p in data.get("payments", [])]
        if data.get("rating"):
            times.append(data["rating"]["at"])
        data["updated"] = max(times)
        return Order.model_validate(data)

    def requirements(self, customer: Customer, plan: Plan) -> dict[str, Any]:
        services = self.catalog.services
        skills = [
            pools.WORKER_SKILL.get(s, s)
            for ln in plan.lines
            for s in services[ln["service"]].required_skills
        ]
        out: dict[str, Any] = {"skills": list(dict.fromkeys(skills))}
        certificates = pools.REQUIRED_CERTIFICATES.get(plan.lines[0]["service"])
        if certificates:
            out["certificates"] = certificates
        prefs = customer.preferences
        if prefs.worker_gender:
            out.update(
                gender=prefs.worker_gender,
                age_min=prefs.worker_age_min,
                age_max=prefs.worker_age_max,
            )
        return out

    def money(
        self,
        plan: Plan,
        channel: str,
        created: dt.datetime,
        steps: list[tuple[str, dt.datetime]],
        cancel_at: dt.datetime | None,
    ) -> dict[str, Any]:
        """Payments as the log allows: deposit on confirmation (platform orders prepaid),
        the rest on settling; a cancellation keeps its fee and refunds the rest."""
        ctx, rng = self.ctx, self.rng
        payments: list[dict[str, Any]] = []
        method = ctx.pick(pools.PAYMENT_METHODS)
        reached = dict(steps)
        paid = 0
        if channel == "platform" and plan.total:
            plan.deposit = 0
            paid = plan.total
            payments.append(
                {
                    "kind": "final",
                    "amount_fen": paid,
                    "method": "wechat",
                    "at": created,
                    "note": "平台预付",
                }
            )
        elif plan.deposit and "confirmed" in reached:
            paid = plan.deposit
            payments.append(
                {
                    "kind": "deposit",
                    "amount_fen": paid,
                    "method": method,
                    "at": reached["confirmed"],
                }
            )
        if "settled" in reached and plan.total > paid:
            payments.append(
                {
                    "kind": "final",
                    "amount_fen": plan.total - paid,
                    "method": method,
                    "at": reached["settled"],
                }
            )
        data: dict[str, Any] = {"payments": payments}
        if cancel_at is not None:
            start = plan.window[0]
            fee = 0
            if ctx.chance(0.2):
                data["_reason"] = rng.choice(pools.CANCEL_REASONS_COMPANY)
            else:
                data["_reason"] = rng.choice(pools.CANCEL_REASONS_CUSTOMER)
                fee = cancellation_fee(plan.total, start - cancel_at, self.settings).fee_fen
            data["cancellation_fee_fen"] = fee
            when = min(cancel_at + MINUTE * rng.randrange(5, 600), self.now)
            if paid > fee:
                payments.append(
                    {"kind": "refund", "amount_fen": paid - fee, "method": method, "at": when}
                )
            elif fee > paid and ctx.chance(0.8):
                payments.append(
                    {
                        "kind": "cancellation_fee",
                        "amount_fen": fee - paid,
                        "method": method,
                        "at": when,
                    }
                )
        return data

    def aftercare(
        self, data: dict[str, Any], plan: Plan, state: Regular, order_id: str, done: dt.datetime
    ) -> None:
        """Checklist results and the customer's rating, on some finished orders."""
        ctx, rng = self.ctx, self.rng
        item = self.catalog.services[plan.lines[0]["service"]]
        if item.checklist and ctx.chance(0.4):
            extra = plan.customer.tier == "铂金"
            data["checklist"] = [
                {"item": c.item, "passed": ctx.chance(0.96)}
                for c in item.checklist
                if extra or not c.value_added
            ]
        if not ctx.chance(0.35):
            return
        base = ctx.pick([("5", 60), ("4", 30), ("3", 7), ("low", 3)])
        if base == "low":
            scores = [rng.choice([1, 2, 3]) for _ in range(5)]
            scores[rng.randrange(5)] = rng.choice([1, 2])
        else:
            scores = [max(3, int(base) - ctx.chance(0.2)) for _ in range(5)]
        rating: dict[str, Any] = dict(
            zip(("quality", "attitude", "hygiene", "punctuality", "overall"), scores, strict=True)
        )
        rating["at"] = min(done + MINUTE * rng.randrange(30, 4320), self.now)
        if ctx.chance(0.6):
            rating["nps"] = min(10, max(0, 2 * min(scores) + rng.randrange(-1, 2)))
        if ctx.chance(0.4):
            rating["comment"] = rng.choice(pools.RATING_COMMENTS)
        data["rating"] = rating
        if min(scores) <= self.settings.visits.low_score and item.unit in REDONE_UNITS:
            state.low_rated = (order_id, plan.lines[0])

    def build(self, n: int) -> list[Order]:
        return [self.build_one(order_id, created) for order_id, created in self.stamps(n)]
