"""The demo company's work (``sample_data/business.yaml``), replayed through hk's own services.

Each order is taken, confirmed, dispatched, served, rated and settled by the same functions
the commands call, at the times an office would have done it (days before the appointment
for a past job, an hour ago for tomorrow's), so every record passes every rule and its
history reads like a real one. Days in the file count from the demo day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hk.domain.complaint import Complaint
from hk.errors import HkError
from hk.store.archive import Archive

STEPS = ("pending", "confirmed", "to_dispatch", "dispatched", "in_service", "completed", "settled")
"""How far an order gets, in the order it gets there (``cancelled`` is apart)."""
SCORE_NAMES = ("quality", "attitude", "hygiene", "punctuality", "overall")
FORCE_REASON = "演示数据：阿姨当天调班"
"""Why the demo may book a worker outside her usual hours (the demo day moves the weekday)."""


@dataclass
class Replayed:
    """What the replay made: IDs by their position in the file (quotes by their key)."""

    orders: list[str]
    quotes: dict[str, str]
    contracts: list[str]


def replay(
    archive: Archive, business: dict[str, Any], ids: dict[str, str], today: dt.date
) -> Replayed:
    """Take and move every order of ``business``; ``ids`` maps sample keys to record IDs."""
    tz = ZoneInfo(archive.settings.locale.timezone)
    now = dt.datetime.now(tz).replace(microsecond=0)
    if today != now.date():  # a demo built for another day: that day's noon is "now"
        now = dt.datetime.combine(today, dt.time(12), tz)
    made = Replayed([], {}, [])
    steps = [("order", entry) for entry in business.get("orders") or []]
    steps += [("quote", entry) for entry in business.get("quotes") or []]
    steps += [("contract", entry) for entry in business.get("contracts") or []]
    for n, (what, entry) in enumerate(steps):
        try:
            if what == "order":
                made.orders.append(
                    _order(archive, entry, ids, today, tz, now - dt.timedelta(minutes=90 - n))
                )
            elif what == "quote":
                made.quotes[entry["key"]] = _quote(archive, entry, ids, today, tz, now)
            else:
                made.contracts.append(_contract(archive, entry, ids, made.quotes, today, tz, now))
        except HkError as exc:
            who = entry.get("customer") or entry.get("quote")
            raise HkError(
                f"sample data business.yaml, {what} ({who}): {exc.message}", hint=exc.hint
            ) from None
    if business.get("visits") or business.get("complaints"):
        try:
            _aftercare(archive, business, ids, made, today, tz, now)
        except HkError as exc:
            raise HkError(
                f"sample data business.yaml, visits and complaints: {exc.message}", hint=exc.hint
            ) from None
    for entry in business.get("points") or []:
        _points(archive, entry, ids, today, tz, now)
    if business.get("generate_days"):
        from hk.services.orders.recurring import generate

        run = generate(archive, today + dt.timedelta(days=int(business["generate_days"])), at=now)
        _confirm_next_visits(archive, run.created, today, now)
    return made


def _confirm_next_visits(
    archive: Archive, created: list[Any], today: dt.date, now: dt.datetime
) -> None:
    """Confirm the generated contract visits of today and tomorrow, as the office does the day
    before: the dispatcher's board for tomorrow holds only orders waiting for a worker, on
    whichever weekday the demo is built (a weekly visit falls on tomorrow one day in seven)."""
    from hk.services.orders import steps as orders

    tomorrow = today + dt.timedelta(days=1)
    for made in created:
        if made.order.window.start.date() <= tomorrow:
            orders.confirm(archive, made.order.id, note="合同排班，前一天确认", at=now)


def _morning(day: dt.date, tz: ZoneInfo, now: dt.datetime, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock on ``day``, or a little before now if that is still to come."""
    return min(dt.datetime.combine(day, dt.time(hour), tz), now - dt.timedelta(minutes=30))


def _quote(
    archive: Archive,
    entry: dict[str, Any],
    ids: dict[str, str],
    today: dt.date,
    tz: ZoneInfo,
    now: dt.datetime,
) -> str:
    import tempfile
    from pathlib import Path

    from hk.domain.quote import parse_frequency
    from hk.services.quotes import steps as quotes

    frequency = parse_frequency(entry["frequency"]) if entry.get("frequency") else None
    lines = [
        quotes.LineIn(spec.split(":")[0], spec.split(":")[1] if ":" in spec else None, frequency)
        for spec in entry["service"]
    ]
    made_at = _morning(today + dt.timedelta(days=int(entry["day"])), tz, now)
    made = quotes.new_quote(
        archive,
        _key(ids, entry["customer"]),
        lines,
        valid_days=int(entry.get("valid_days", 7)),
        at=made_at,
    )
    ref = made.quote.id
    if entry.get("send"):
        with tempfile.TemporaryDirectory(prefix="hk-demo-") as folder:
            quotes.send(
                archive,
                ref,
                entry["send"],
                folder=Path(folder),
                at=made_at + dt.timedelta(minutes=20),
            )
    return ref


def _contract(
    archive: Archive,
    entry: dict[str, Any],
    ids: dict[str, str],
    quotes: dict[str, str],
    today: dt.date,
    tz: ZoneInfo,
    now: dt.datetime,
) -> str:
    from hk.services.contracts import steps as contracts
    from hk.services.contracts.document import sign

    start = today + dt.timedelta(days=int(entry["start"]))
    drafted_at = _morning(start - dt.timedelta(days=5), tz, now)
    terms: dict[str, Any] = {}
    if entry.get("end") is not None:
        terms["end"] = today + dt.timedelta(days=int(entry["end"]))
    if entry.get("months"):
        terms["months"] = int(entry["months"])
    if entry.get("worker"):
        terms["worker"] = _key(ids, entry["worker"])
    for key in ("model", "hours", "rest_days", "trial_days"):
        if entry.get(key) is not None:
            terms[key] = entry[key]
    for key in ("service_fee", "intro_fee", "deposit"):
        if entry.get(key) is not None:
            terms[f"{key}_fen"] = int(entry[key]) * 100
    if entry.get("quote"):
        from hk.services.quotes.contract import accept_as_contract
        from hk.services.quotes.steps import load_quote

        quote, _ = load_quote(archive, quotes[entry["quote"]])
        drafted_at = max(drafted_at, quote.events[-1].at + dt.timedelta(minutes=5))

        schedule = entry.get("schedule")
        first = (
            dt.datetime.combine(
                start, dt.time.fromisoformat(str(schedule).split()[-1].split("-")[0]), tz
            )
            if schedule
            else start
        )
        accepted = accept_as_contract(
            archive, quotes[entry["quote"]], first, schedule=schedule, at=drafted_at, **terms
        )
        contract_id = accepted.contract.id
    else:
        made, _ = contracts.new_contract(
            archive,
            _key(ids, entry["customer"]),
            kind=entry["kind"],
            start=start,
            services=list(entry.get("service") or []),
            at=drafted_at,
            **terms,
        )
        contract_id = made.id
    names = {"customer": None, "company": archive.operator(), "worker": None}
    contract, _ = contracts.load_contract(archive, contract_id)
    names["customer"] = contract.parties.customer.name
    if contract.parties.worker is not None:
        names["worker"] = contract.parties.worker.name
    signed_at = drafted_at + dt.timedelta(hours=2)
    for party in entry.get("signed") or []:
        sign(archive, contract_id, party, str(names[party]), "paper", at=signed_at)
    if entry.get("active"):
        contracts.activate(archive, contract_id, at=_morning(start, tz, now, hour=8))
    return contract_id


def _key(ids: dict[str, str], key: str) -> str:
    if key not in ids:
        raise HkError(f"'{key}' is not a key of the sample customers or workers")
    return ids[key]


def _order(
    archive: Archive,
    entry: dict[str, Any],
    ids: dict[str, str],
    today: dt.date,
    tz: ZoneInfo,
    recent: dt.datetime,
) -> str:
    from hk.services.orders import aftercare as order_after
    from hk.services.orders import money as order_money
    from hk.services.orders import steps as orders
    from hk.services.orders.money import PaymentIn

    hour, minute = (int(x) for x in str(entry["time"]).split(":"))
    start = dt.datetime.combine(
        today + dt.timedelta(days=int(entry["day"])), dt.time(hour, minute), tz
    )
    lines = [
        (spec.split(":")[0], spec.split(":")[1] if ":" in spec else None)
        for spec in entry["service"]
    ]
    taken_at = min(start - dt.timedelta(days=2, hours=-1), recent)
    hours = Decimal(str(entry["hours"])) if entry.get("hours") else None
    taken = orders.new_order(
        archive,
        orders.OrderRequest(
            _key(ids, entry["customer"]),
            lines,
            start,
            hours=hours,
            channel=entry.get("channel", "phone"),
            at=taken_at,
            requirements=entry.get("requirements"),
        ),
    )
    ref = taken.order.id
    until = entry["until"]
    if until == "cancelled":
        order_money.cancel(
            archive, ref, entry.get("cancel") or "客户取消", at=taken_at + dt.timedelta(hours=3)
        )
        return ref
    reached = STEPS.index(until)
    if reached >= STEPS.index("confirmed"):
        orders.confirm(archive, ref, at=taken_at + dt.timedelta(minutes=5))
    if entry.get("deposit"):
        order_money.pay(
            archive,
            ref,
            [PaymentIn("deposit", entry["deposit"])],
            at=taken_at + dt.timedelta(minutes=15),
        )
    if reached >= STEPS.index("dispatched"):
        _assign(archive, ref, _key(ids, entry["worker"]), taken_at + dt.timedelta(minutes=30))
    end = taken.order.window.end
    if reached >= STEPS.index("in_service"):
        orders.start(archive, ref, at=start)
    if reached >= STEPS.index("completed"):
        orders.finish(archive, ref, all_ok=True, at=end)
        if entry.get("rate"):
            *scores, nps, comment = entry["rate"]
            order_after.rate(
                archive,
                ref,
                dict(zip(SCORE_NAMES, scores, strict=True)),
                nps,
                comment or "",
                at=end + dt.timedelta(hours=1),
            )
    if reached >= STEPS.index("settled"):
        order_money.settle(
            archive,
            ref,
            [PaymentIn("final", entry.get("pay", "wechat"))],
            at=end + dt.timedelta(hours=2),
        )
    return ref


def _points(
    archive: Archive,
    entry: dict[str, Any],
    ids: dict[str, str],
    today: dt.date,
    tz: ZoneInfo,
    now: dt.datetime,
) -> None:
    """Points spent (积分兑换); the customers earned them by rating their orders."""
    from hk.services.points import redeem

    when = dt.datetime.combine(
        today + dt.timedelta(days=int(entry["day"])), dt.time.fromisoformat(str(entry["time"])), tz
    )
    try:
        redeem(
            archive,
            _key(ids, entry["customer"]),
            int(entry["redeem"]),
            entry["for"],
            at=min(when, now),
        )
    except HkError as exc:
        raise HkError(
            f"sample data business.yaml, points ({entry['customer']}): {exc.message}", hint=exc.hint
        ) from None


def _assign(archive: Archive, ref: str, worker: str, at: dt.datetime) -> None:
    """The planned worker; outside her usual hours she was asked, and the reason is logged."""
    from hk.services.orders import steps as orders

    try:
        orders.assign(archive, ref, [worker], at=at)
    except orders.AssignmentRefused as exc:
        if any(b.hard for found in exc.breaches.values() for b in found):
            raise
        orders.assign(archive, ref, [worker], force=True, reason=FORCE_REASON, at=at)


def _aftercare(
    archive: Archive,
    business: dict[str, Any],
    ids: dict[str, str],
    made: Replayed,
    today: dt.date,
    tz: ZoneInfo,
    now: dt.datetime,
) -> None:
    """Return visits made and complaints taken (回访, 投诉), after the orders they are about."""
    from hk.services import complaints, visits
    from hk.services.complaints import ComplaintIn

    def on(entry: dict[str, Any], past: bool = True) -> dt.datetime:
        """The entry's day and time; what happened already happened before now."""
        day = today + dt.timedelta(days=int(entry["day"]))
        moment = dt.datetime.combine(day, dt.time.fromisoformat(str(entry["time"])), tz)
        return min(moment, now) if past else moment

    orders = {
        (entry["customer"], int(entry["day"])): ref
        for entry, ref in zip(business.get("orders") or [], made.orders, strict=True)
    }
    taken: dict[str, str] = {}
    for entry in business.get("visits") or []:
        said = entry.get("complaint")
        logged = visits.log(
            archive,
            _key(ids, entry["customer"]),
            entry.get("method", "phone"),
            outcome=entry.get("note", ""),
            at=on(entry),
            complaint=ComplaintIn(
                said.get("category", "quality"),
                said["text"],
                said.get("severity", "normal"),
                "visit",
            )
            if said
            else None,
        )
        opened = logged.made_of(Complaint)
        if opened is not None:
            taken[entry["customer"]] = opened.id
    for entry in business.get("complaints") or []:
        if "order_day" in entry:
            given = ComplaintIn(
                entry.get("category", "quality"),
                entry["text"],
                entry.get("severity", "normal"),
                entry.get("via", "phone"),
                now - dt.timedelta(hours=float(entry.get("hours", 1))),
            )
            ref = complaints.open_complaint(
                archive, given, order=orders[(entry["customer"], int(entry["order_day"]))], at=now
            ).record.id
        else:
            ref = taken[entry["customer"]]
        if entry.get("assign"):
            complaints.assign(archive, ref, entry["assign"].get("to"), at=on(entry["assign"]))
        if entry.get("resolve"):
            done, rework = entry["resolve"], entry["resolve"].get("rework")
            complaints.resolve(
                archive,
                ref,
                done["text"],
                compensation_fen=int(done.get("compensation", 0)) * 100,
                rework_start=on(rework, past=False) if rework else None,
                at=on(done),
            )
