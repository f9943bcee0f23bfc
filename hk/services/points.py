"""The points ledger (积分) of a customer: earn, redeem, adjust, expire, and the balance.

The rules are in :mod:`hk.domain.points`; this module reads a customer's entries from the
index (never by parsing every file), checks each change against the balance under the write
lock, and saves it, one commit per change. Earning is tied to the rating: rating a completed
or settled order (:func:`hk.services.orders.aftercare.rate`, the only way an order is rated, and
only once it is done) writes its earn entry in the same commit, through :func:`earn_entry`;
``hk points earn`` earns for an order rated without one (rated before points were kept).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hk.domain.ids import new_id
from hk.domain.order.model import RATED_STATUSES, Order
from hk.domain.points import (
    Move,
    PointsEntry,
    Standing,
    capped,
    earned_in_year,
    order_points,
    standing,
)
from hk.errors import ConflictError, HkError, UsageError
from hk.store.archive import Archive
from hk.store.writer import SaveResult, save, save_together


class PointsRefused(HkError):
    """A points rule refuses the change: no points to earn, or more than the balance."""


@dataclass
class Written:
    """An entry just saved, its commit, and the customer's standing after it."""

    entry: PointsEntry
    result: SaveResult
    standing: Standing


@dataclass
class Ledger:
    """A customer's points as ``hk points show`` and the customer page show them."""

    customer: str
    code: str
    name: str
    standing: Standing
    entries: list[dict[str, Any]] = field(default_factory=list)
    """Index summaries (with ``id`` and ``code``), newest first."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "code": self.code,
            "name": self.name,
            **self.standing.to_dict(),
            "entries": self.entries,
        }


# --- reading ------------------------------------------------------------------------------------


def _today(archive: Archive, on: dt.date | None) -> dt.date:
    from hk.services.records import moment

    return on or moment(archive, None).date()


def entries_of(archive: Archive, customer_id: str, refresh: bool = True) -> list[dict[str, Any]]:
    """The customer's ledger entries as index summaries, oldest first."""
    from hk.services.lookup import list_rows, summary

    rows = (
        list_rows(archive.index, "points", ref=customer_id)
        if refresh
        else [summary(r) for r in archive.index.list("points", ref=customer_id)]
    )
    found = [r for r in rows if r["customer"] == customer_id]
    return sorted(found, key=lambda r: (r["at"], r["id"]))


def standing_of(
    archive: Archive, customer_id: str, on: dt.date | None = None, refresh: bool = True
) -> Standing:
    """The customer's balance at the end of ``on`` (default today)."""
    moves = [Move.of(r) for r in entries_of(archive, customer_id, refresh)]
    return standing(moves, _today(archive, on), archive.settings.points.expire_months)


def ledger(
    archive: Archive, customer_ref: str, on: dt.date | None = None, refresh: bool = True
) -> Ledger:
    """Balance, what expires soon, and every entry newest first, for a customer (code or ID).

    ``refresh=False`` (a TUI page, whose watch keeps the index current) takes ``customer_ref``
    as the customer's ID and reads the index as it is.
    """
    from hk.services.records import resolve_id

    customer_id = resolve_id(archive, "customer", customer_ref)[1] if refresh else customer_ref
    rows = entries_of(archive, customer_id, refresh)
    moves = [Move.of(r) for r in rows]
    row = archive.index.get(customer_id)
    return Ledger(
        customer_id,
        str(row["code"] or "") if row else "",
        str(row["name"]) if row else "",
        standing(moves, _today(archive, on), archive.settings.points.expire_months),
        list(reversed(rows)),
    )


# --- earning ------------------------------------------------------------------------------------


def earned_on(archive: Archive, order_id: str) -> dict[str, Any] | None:
    """The earn entry of an order, if it has one (found by the order in the index)."""
    from hk.services.lookup import list_rows

    return next(
        (
            r
            for r in list_rows(archive.index, "points", ref=order_id, category="earn")
            if r.get("order") == order_id
        ),
        None,
    )


def earn_entry(archive: Archive, order: Order, at: dt.datetime) -> PointsEntry | None:
    """The earn entry a rated, done order gives, not saved; None if it earns nothing (too
    small, the yearly cap reached, or earned already)."""
    if order.status not in RATED_STATUSES or order.rating is None:
        return None
    if earned_on(archive, order.id) is not None:
        return None
    settings = archive.settings.points
    raw = order_points(order.total_fen, settings.yuan_per_point)
    moves = [Move.of(r) for r in entries_of(archive, order.customer)]
    points = capped(raw, earned_in_year(moves, at.year), settings.yearly_cap)
    if points <= 0:
        return None
    from hk.services.records import code_of

    reason = f"订单 {code_of(archive, order.id) or order.id} 完成并评价"
    if points < raw:
        reason += f"（已达年度上限 {settings.yearly_cap}）"
    return _entry(archive, order.customer, "earn", points, reason, at, order.id)


def still_earns(archive: Archive, order: Order, at: dt.datetime, points: int) -> None:
    """Under the write lock: refuse if the order would now earn otherwise than ``points`` (it
    earned them meanwhile, or another order of the customer took part of the yearly cap)."""
    again = earn_entry(archive, order, at)
    if again is None or again.points != points:
        raise ConflictError(
            "the customer's points changed while this was being saved",
            hint="nothing was written; try again",
        )


def earn(archive: Archive, order_ref: str, at: dt.datetime | None = None) -> Written:
    """Earn the points of a completed or settled, rated order that has none yet."""
    from hk.domain.order.model import Order
    from hk.domain.order.status import label
    from hk.services.records import code_of, load_named, moment

    order, _ = load_named(archive, Order, order_ref, "list orders with hk order list")
    code = code_of(archive, order.id) or order.id
    if order.status not in RATED_STATUSES:
        raise PointsRefused(
            f"order {code} is {label(order.status)}: points are earned once "
            "the service is done and rated"
        )
    if order.rating is None:
        raise PointsRefused(
            f"order {code} is not rated yet",
            hint=f"rating it earns its points: hk order rate {code} …",
        )
    done = earned_on(archive, order.id)
    if done is not None:
        raise PointsRefused(
            f"order {code} earned {done['points']} points already, on {done['at'][:10]}",
            hint=f"see them with hk points show "
            f"{code_of(archive, order.customer) or order.customer}",
        )
    when = moment(archive, at)
    entry = earn_entry(archive, order, when)
    if entry is None:
        settings = archive.settings.points
        raise PointsRefused(
            f"order {code} earns no points: its total is under {settings.yuan_per_point} yuan, "
            f"or the customer reached the yearly cap of {settings.yearly_cap}"
        )
    return _save(archive, entry, lambda: still_earns(archive, order, when, entry.points))


# --- redeeming, adjusting -----------------------------------------------------------------------


def redeem(
    archive: Archive, customer_ref: str, points: int, what_for: str, at: dt.datetime | None = None
) -> Written:
    """Spend ``points`` (more than 0, at most the balance) on ``what_for`` (a coupon,
    priority …)."""
    if points <= 0:
        raise UsageError(f"redeem a number of points above 0, not {points}")
    if not what_for.strip():
        raise UsageError("say what the points are redeemed for", hint="--for 50元优惠券")
    return _take(archive, customer_ref, "redeem", -points, what_for, at)


def adjust(
    archive: Archive, customer_ref: str, points: int, reason: str, at: dt.datetime | None = None
) -> Written:
    """Add (or, negative, take away) points by hand, with the reason; never below zero."""
    if points == 0:
        raise UsageError("an adjustment of 0 points changes nothing")
    if not reason.strip():
        raise UsageError("an adjustment needs a reason", hint="--reason 投诉补偿")
    return _take(archive, customer_ref, "adjust", points, reason, at)


def _take(
    archive: Archive, customer_ref: str, kind: str, points: int, reason: str, at: dt.datetime | None
) -> Written:
    from hk.services.records import moment, resolve_id

    _, customer_id = resolve_id(archive, "customer", customer_ref)
    when = moment(archive, at)

    def enough() -> None:
        """The balance on the entry's day and today, read again under the lock: taking points
        on a day lowers every later balance by as much at most."""
        have = min(
            standing_of(archive, customer_id, when.date()).balance,
            standing_of(
                archive, customer_id, max(when.date(), _today(archive, None)), refresh=False
            ).balance,
        )
        if points < 0 and -points > have:
            raise PointsRefused(
                f"the balance is {have} points; cannot take {-points}",
                hint="see the ledger with hk points show",
            )

    enough()
    entry = _entry(archive, customer_id, kind, points, reason.strip(), when, None)
    return _save(archive, entry, enough)


# --- expiry -------------------------------------------------------------------------------------


def expire(archive: Archive, on: dt.date | None = None) -> tuple[list[PointsEntry], SaveResult]:
    """Write an ``expire`` entry for each customer whose points expired by ``on`` (default
    today) and are not yet written down; one commit for all, none when nothing expired.
    Running it again writes nothing more."""
    from zoneinfo import ZoneInfo

    from hk.services.lookup import list_rows

    day = _today(archive, on)
    tz = ZoneInfo(archive.settings.locale.timezone)
    when = dt.datetime.combine(day, dt.time(0), tz)
    months = archive.settings.points.expire_months

    def due() -> dict[str, int]:
        """Expired and not written down, by customer: the whole ledger read once."""
        moves: dict[str, list[Move]] = {}
        for row in list_rows(archive.index, "points", day_to=day.isoformat()):
            moves.setdefault(row["customer"], []).append(Move.of(row))
        out = {}
        for customer in sorted(moves):
            left = standing(moves[customer], day, months).unwritten
            if left:
                out[customer] = left
        return out

    found = due()

    def unchanged() -> None:
        if due() != found:
            raise ConflictError(
                "the ledger changed while expiry was worked out",
                hint="run hk points expire again; nothing was written",
            )

    entries = [
        _entry(archive, customer, "expire", -points, f"{months} 个月未使用，过期", when, None)
        for customer, points in found.items()
    ]
    if not entries:
        return [], SaveResult(commit=None)
    result = save_together(
        archive,
        [(e, None) for e in entries],
        f"points: {sum(found.values())} expired for {len(entries)} "
        f"customer(s) by {day.isoformat()}",
        recheck=unchanged,
    )
    return entries, result


# --- shared -------------------------------------------------------------------------------------


def _entry(
    archive: Archive,
    customer: str,
    kind: str,
    points: int,
    reason: str,
    at: dt.datetime,
    order: str | None,
) -> PointsEntry:
    try:
        return PointsEntry.model_validate(
            {
                "id": new_id(),
                "created": at,
                "updated": at,
                "customer": customer,
                "type": kind,
                "points": points,
                "reason": reason,
                "order": order,
                "at": at,
                "by": archive.operator(),
            }
        )
    except ValidationError as exc:
        from hk.services.records import refused

        raise refused(exc) from None


def _save(archive: Archive, entry: PointsEntry, recheck: Any) -> Written:
    result = save(archive, entry, recheck=recheck)
    return Written(entry, result, standing_of(archive, entry.customer, entry.at.date()))
