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

from hk.errors import HkError
from hk.store.archive import Archive

STEPS = ("pending", "confirmed", "to_dispatch", "dispatched", "in_service", "completed",
         "settled")
"""How far an order gets, in the order it gets there (``cancelled`` is apart)."""
SCORE_NAMES = ("quality", "attitude", "hygiene", "punctuality", "overall")
FORCE_REASON = "演示数据：阿姨当天调班"
"""Why the demo may book a worker outside her usual hours (the demo day moves the weekday)."""


@dataclass
class Replayed:
    """What the replay made: order IDs by their position in the file."""

    orders: list[str]


def replay(archive: Archive, business: dict[str, Any], ids: dict[str, str],
           today: dt.date) -> Replayed:
    """Take and move every order of ``business``; ``ids`` maps sample keys to record IDs."""
    tz = ZoneInfo(archive.settings.locale.timezone)
    now = dt.datetime.now(tz).replace(microsecond=0)
    made = []
    for n, entry in enumerate(business.get("orders") or []):
        try:
            made.append(_order(archive, entry, ids, today, tz, now - dt.timedelta(minutes=90 - n)))
        except HkError as exc:
            raise HkError(f"sample data business.yaml, order {n + 1} ({entry.get('customer')}): "
                          f"{exc.message}", hint=exc.hint) from None
    return Replayed(made)


def _key(ids: dict[str, str], key: str) -> str:
    if key not in ids:
        raise HkError(f"'{key}' is not a key of the sample customers or workers")
    return ids[key]


def _order(archive: Archive, entry: dict[str, Any], ids: dict[str, str], today: dt.date,
           tz: ZoneInfo, recent: dt.datetime) -> str:
    from hk.services import order_after, order_money, orders
    from hk.services.order_money import PaymentIn

    hour, minute = (int(x) for x in str(entry["time"]).split(":"))
    start = dt.datetime.combine(today + dt.timedelta(days=int(entry["day"])),
                                dt.time(hour, minute), tz)
    lines = [(spec.split(":")[0], spec.split(":")[1] if ":" in spec else None)
             for spec in entry["service"]]
    taken_at = min(start - dt.timedelta(days=2, hours=-1), recent)
    hours = Decimal(str(entry["hours"])) if entry.get("hours") else None
    taken = orders.new_order(archive, _key(ids, entry["customer"]), lines, start, hours=hours,
                             channel=entry.get("channel", "phone"), at=taken_at)
    ref = taken.order.id
    until = entry["until"]
    if until == "cancelled":
        order_money.cancel(archive, ref, entry.get("cancel") or "客户取消",
                           at=taken_at + dt.timedelta(hours=3))
        return ref
    reached = STEPS.index(until)
    if reached >= STEPS.index("confirmed"):
        orders.confirm(archive, ref, at=taken_at + dt.timedelta(minutes=5))
    if reached >= STEPS.index("dispatched"):
        _assign(archive, ref, _key(ids, entry["worker"]), taken_at + dt.timedelta(minutes=30))
    end = taken.order.window.end
    if reached >= STEPS.index("in_service"):
        orders.start(archive, ref, at=start)
    if reached >= STEPS.index("completed"):
        orders.finish(archive, ref, all_ok=True, at=end)
        if entry.get("rate"):
            *scores, nps, comment = entry["rate"]
            order_after.rate(archive, ref, dict(zip(SCORE_NAMES, scores, strict=True)), nps,
                             comment or "", at=end + dt.timedelta(hours=1))
    if reached >= STEPS.index("settled"):
        order_money.settle(archive, ref, [PaymentIn("final", entry.get("pay", "wechat"))],
                           at=end + dt.timedelta(hours=2))
    return ref


def _assign(archive: Archive, ref: str, worker: str, at: dt.datetime) -> None:
    """The planned worker; outside her usual hours she was asked, and the reason is logged."""
    from hk.services import orders

    try:
        orders.assign(archive, ref, [worker], at=at)
    except orders.AssignmentRefused as exc:
        if any(b.hard for found in exc.breaches.values() for b in found):
            raise
        orders.assign(archive, ref, [worker], force=True, reason=FORCE_REASON, at=at)
