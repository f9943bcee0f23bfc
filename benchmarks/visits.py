"""Return visits (回访) of the benchmark archive, as an office that keeps to SPEC §4 leaves them.

A visit record exists where hk writes one (:mod:`hk.domain.visit.owed`): the regular cadence — the
first visit within ``first_within_days`` of a customer's first completed service, then every
``active_every_months`` (a regular customer: two services or a contract) or
``one_off_every_months`` — becomes a record when the office logs it (done) or skips it
(cancelled), so only those due by the archive's last day are there. Visits written at their
event are there from the event on, done, cancelled or still open: a low score (the order's
rating at or below ``low_score``, due ``low_score_within_days`` later), a worker replaced on a
contract, and some renewal talks before a contract ends. A visit done is a contact, from which
the next periodic one counts, as :func:`hk.domain.visit.owed.last_contact` says.

When the histories hold more visits than the plan asks for, the oldest are left out, as if
the office had kept its first months of return visits on paper: every customer's latest
visits are there, so what each is owed on the archive's last day is what the rules say.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks import pools
from hk.domain.survey import DIMENSION_ZH
from hk.domain.visit.model import Visit
from hk.domain.visit.owed import Rules, add_months

if TYPE_CHECKING:
    from benchmarks.generate import Context
    from hk.domain.base import Record
    from hk.domain.contract import Contract
    from hk.domain.order.model import Order

OUTCOMES = [
    "客户对服务满意，希望继续安排原阿姨",
    "客户表示满意，下次想加做厨房深度清洁",
    "客户提出阿姨到达时间稍晚，已转告调度",
    "客户满意，询问季度套餐价格",
    "客户近期出差，下月再约",
    "客户建议阿姨带鞋套，已记录",
    "电话未接通，微信留言已回复",
    "客户很满意，愿意推荐给邻居",
    "客户希望固定每周三上午服务",
]
LOW_OUTCOMES = [
    "已致歉，安排返工，客户接受",
    "已致歉并赠送一次钟点服务",
    "客户情绪已平复，下次更换阿姨",
    "已与阿姨沟通改进，客户同意再观察",
]
ACTIONS = ["下次派原阿姨", "提醒阿姨准时", "推荐季度套餐", "更换阿姨", "赠送一次服务"]
SKIPPED = ["客户说不必回访", "电话多次未接通", "客户已搬家"]
METHODS = [("phone", 60), ("wechat", 27), ("survey", 8), ("onsite", 5)]


@dataclass
class Planned:
    """A visit as it will be written: its type, due day, links and what became of it."""

    customer: str
    type: str
    due: dt.date
    made: dt.datetime
    reason: str
    links: dict[str, str] = field(default_factory=dict)
    done: dt.datetime | None = None
    cancelled: dt.datetime | None = None
    seen: dt.date | None = None
    """The day the office saw it due: its due day, or later for a customer who became a
    regular one after it was due by the shorter cadence (hk then shows it overdue)."""


def build_visits(ctx: Context, n: int, now: dt.datetime) -> list[Record]:
    """About ``n`` visits over the archive's years (exactly ``n`` when the histories hold as
    many), in creation order."""
    from benchmarks.orders import Catalog

    rules = Rules.of((ctx.catalog or Catalog.default()).settings.visits)
    orders: list[Order] = ctx.records.get("order", [])  # type: ignore[assignment]
    contracts: list[Contract] = ctx.records.get("contract", [])  # type: ignore[assignment]
    served: dict[str, list[dt.datetime]] = defaultdict(list)
    for order in orders:
        finished = _completed_at(order)
        if finished is not None and finished <= now:
            served[order.customer].append(finished)
    under_contract: dict[str, dt.date] = {}
    for contract in contracts:  # the customer's first contract makes her a regular one
        if contract.status != "draft":
            under_contract[contract.customer] = min(
                contract.start, under_contract.get(contract.customer, contract.start)
            )
    written = _at_events(ctx, orders, contracts, rules, now)
    by_customer: dict[str, list[Planned]] = defaultdict(list)
    for visit in written:
        by_customer[visit.customer].append(visit)
    regular: dict[str, list[Planned]] = {}
    for customer in sorted(served):
        regular[customer] = _cadence(
            ctx,
            customer,
            sorted(served[customer]),
            under_contract.get(customer),
            by_customer[customer],
            rules,
            now,
        )
    return [_record(ctx, visit, now) for visit in _trim(written, regular, n)]


def _completed_at(order: Order) -> dt.datetime | None:
    for event in order.events:
        if event.to_status == "completed":
            return event.at
    return None


def _at_events(
    ctx: Context, orders: list[Order], contracts: list[Contract], rules: Rules, now: dt.datetime
) -> list[Planned]:
    """Visits written when something happened: a low rating, a new worker, a renewal talk."""
    out: list[Planned] = []
    for order in orders:
        rating = order.rating
        if rating is None or rating.at is None or rating.at > now:
            continue
        scores = rating.scores()
        lowest = min(scores.values())
        if lowest > rules.low_score:
            continue
        worst = "、".join(DIMENSION_ZH[d] for d, s in scores.items() if s == lowest)
        links = {
            "order": order.id,
            **({"worker": order.workers[0]} if len(order.workers) == 1 else {}),
        }
        out.append(
            Planned(
                order.customer,
                "low_score",
                rating.at.date() + dt.timedelta(days=rules.low_score_within_days),
                rating.at,
                f"评分偏低：{worst} {lowest} 分",
                links,
            )
        )
    for contract in contracts:
        for change in contract.replacements:
            if rules.after_replacement and change.at <= now:
                out.append(
                    Planned(
                        contract.customer,
                        "new_worker",
                        change.date + dt.timedelta(days=rules.first_within_days),
                        change.at,
                        "更换阿姨后回访",
                        {"contract": contract.id, "worker": change.new},
                    )
                )
        talk = dt.datetime.combine(
            contract.end - dt.timedelta(days=30), dt.time(10), tzinfo=now.tzinfo
        )
        if contract.status in ("active", "renewed", "expired") and talk <= now and ctx.chance(0.5):
            out.append(
                Planned(
                    contract.customer,
                    "renewal",
                    talk.date() + dt.timedelta(days=rules.first_within_days),
                    talk,
                    "合同到期前续约回访",
                    {"contract": contract.id},
                )
            )
    for visit in out:
        _settle(ctx, visit, now, skipped=0.03, open_recent=0.25, open_ever=0.015)
    return out


def _settle(
    ctx: Context,
    visit: Planned,
    now: dt.datetime,
    skipped: float,
    open_recent: float,
    open_ever: float,
) -> None:
    """Done (on or a few days before its due day), cancelled, or still open: an office keeps
    up with most; of the last three weeks' some are open still, and a few older ones too."""
    rng = ctx.rng
    shown = visit.seen or visit.due
    late = (now.date() - shown).days
    if late < 0 or (late < 21 and ctx.chance(open_recent)) or ctx.chance(open_ever):
        return  # not done yet (overdue once past its day)
    if ctx.chance(skipped):
        visit.cancelled = min(now, _at(shown, rng.randrange(9, 18), now))
        visit.cancelled = max(visit.cancelled, visit.made + dt.timedelta(minutes=5))
        return
    day = shown - dt.timedelta(days=rng.randrange(0, 5))
    done = _at(day, rng.randrange(9, 20), now)
    visit.done = min(now, max(done, visit.made + dt.timedelta(hours=rng.randrange(2, 30))))


def _at(day: dt.date, hour: int, now: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=now.tzinfo)


def _cadence(
    ctx: Context,
    customer: str,
    services: list[dt.datetime],
    contract_from: dt.date | None,
    written: list[Planned],
    rules: Rules,
    now: dt.datetime,
) -> list[Planned]:
    """The first and periodic visits the customer was owed up to ``now``, done or skipped.

    As :mod:`hk.domain.visit.owed` computes them: the first is owed until any visit is done; a
    periodic one falls due the months after the last contact, and a visit written at an event
    and done in between (a low score's) is a contact too.
    """
    out: list[Planned] = []
    contacts = sorted(v.done.date() for v in written if v.done is not None)
    first_service = services[0].date()
    due = first_service + dt.timedelta(days=rules.first_within_days)
    visit_type, reason = "first", "首次服务后回访"
    seen = due
    early = [c for c in contacts if c <= due]
    if early:  # a visit done before the first was due is the first contact
        visit_type = "periodic"
        due, seen, reason = _next(early[0], services, contract_from, contacts, rules)
    while seen <= now.date():
        visit = Planned(customer, visit_type, due, _at(seen, 9, now), reason, seen=seen)
        _settle(ctx, visit, now, skipped=0.05, open_recent=0.3, open_ever=0.0)
        if visit.done is None and visit.cancelled is None:
            break  # owed now: the rules compute it, no record yet
        visit.made = visit.done or visit.cancelled or visit.made
        out.append(visit)
        anchor = visit.done.date() if visit.done is not None else due
        visit_type = "periodic"
        due, seen, reason = _next(anchor, services, contract_from, contacts, rules)
    return out


def _next(
    anchor: dt.date,
    services: list[dt.datetime],
    contract_from: dt.date | None,
    contacts: list[dt.date],
    rules: Rules,
) -> tuple[dt.date, dt.date, str]:
    """The next periodic visit after the contact on ``anchor``: its due day, the day the
    office saw it due, and its reason.

    hk counts the months by what the customer is when it looks: a one-off customer who
    becomes a regular one (a second service, a contract) is due ``active_every_months``
    after the contact, at once if that day is past. A contact before the visit was made moves
    it on from that contact.
    """
    regular_since = _regular_since(services, contract_from)
    while True:
        short = add_months(anchor, rules.active_every_months)
        long = add_months(anchor, rules.one_off_every_months)
        if regular_since is not None and regular_since <= long:
            due, seen, months, kind = (
                short,
                max(short, regular_since),
                rules.active_every_months,
                "老客户",
            )
        else:
            due, seen, months, kind = long, long, rules.one_off_every_months, "单次客户"
        between = [c for c in contacts if anchor < c < seen]
        if not between:
            return due, seen, f"{kind}每{months}个月回访"
        anchor = between[-1]


def _regular_since(services: list[dt.datetime], contract_from: dt.date | None) -> dt.date | None:
    """The day the customer became a regular one: a second completed service, or a
    contract's start (None while neither)."""
    days = [services[1].date()] if len(services) > 1 else []
    days += [contract_from] if contract_from is not None else []
    return min(days, default=None)


def _trim(written: list[Planned], regular: dict[str, list[Planned]], n: int) -> list[Planned]:
    """The newest ``n`` visits, in creation order: the oldest are left out (see the module)."""
    every = sorted(
        [*written, *(v for history in regular.values() for v in history)],
        key=lambda v: (v.made, v.customer, v.type),
    )
    return every[-n:] if n else []


def _record(ctx: Context, visit: Planned, now: dt.datetime) -> Visit:
    rng = ctx.rng
    record_id = ctx.id_at(visit.made)
    clerk = rng.choice(pools.OFFICE_STAFF)
    events: list[dict[str, Any]] = [
        {"at": visit.made, "actor": clerk, "to_status": "due", "note": visit.reason}
    ]
    data: dict[str, Any] = {
        "id": record_id,
        "created": visit.made,
        "updated": visit.made,
        "customer": visit.customer,
        "type": visit.type,
        "due": visit.due,
        "reason": visit.reason,
        **visit.links,
    }
    if visit.done is not None:
        low = visit.type == "low_score"
        outcome = rng.choice(LOW_OUTCOMES if low else OUTCOMES)
        data.update(
            status="done",
            method=ctx.pick(METHODS),
            done_at=visit.done,
            done_by=clerk,
            outcome=outcome,
            updated=visit.done,
            actions=[rng.choice(ACTIONS)] if low or ctx.chance(0.15) else [],
        )
        events.append(
            {
                "at": visit.done,
                "actor": clerk,
                "from_status": "due",
                "to_status": "done",
                "note": outcome,
            }
        )
    elif visit.cancelled is not None:
        reason = rng.choice(SKIPPED)
        data.update(status="cancelled", updated=visit.cancelled)
        events.append(
            {
                "at": visit.cancelled,
                "actor": clerk,
                "from_status": "due",
                "to_status": "cancelled",
                "note": reason,
            }
        )
    data["events"] = events
    return Visit.model_validate(data)
