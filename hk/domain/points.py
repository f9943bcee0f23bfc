"""The points ledger (积分), SPEC §2 and §4: what a customer earned, redeemed, lost and was given.

The ledger is a list of entries, one file each; the balance is never stored, it is derived
from the entries (as the SPEC asks of every figure that can be). Four kinds of entry:

- ``earn`` (+): a completed and rated order, ``[points] yuan_per_point`` yuan per point of
  what the order costs, floored; at most ``[points] yearly_cap`` points earned per calendar
  year (0 turns the cap off); one per order;
- ``redeem`` (−): points spent on a coupon, a discount or priority, never more than the balance;
- ``adjust`` (±): a correction or goodwill grant by an operator, always with its reason;
- ``expire`` (−): what ``hk points expire`` wrote down as expired.

Expiry is first-in, first-out. Points earned (or granted) on a day expire ``[points]
expire_months`` months later, on the same day of the month (the last day of a shorter month):
they can no longer be used on that day. Redemptions and negative adjustments use the oldest
points first, so what expires is only what was never used. Expiry is worked out when the
ledger is read (:func:`standing`); an ``expire`` entry only writes down what had expired by
its day, so it never takes points twice: the next run finds nothing more to write.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from hk.domain.base import Record
from hk.domain.layout import LAYOUT, Kind

RecordRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
EntryType = Literal["earn", "redeem", "adjust", "expire"]
TYPE_ZH: dict[str, str] = {"earn": "获得", "redeem": "兑换", "adjust": "调整", "expire": "过期"}
SIGN: dict[str, int] = {"earn": 1, "redeem": -1, "expire": -1}
"""The sign each kind of entry must have; an adjustment may go either way."""
EXPIRING_DAYS = 30
"""How far ahead "expiring soon" looks (the customer page, ``hk points show``)."""


class PointsEntry(Record):
    """One movement of a customer's points, with why and what it links to."""

    kind: ClassVar[Kind] = "points"
    folder: ClassVar[str] = LAYOUT["points"].folder
    code_prefix: ClassVar[str] = LAYOUT["points"].code_prefix
    label_zh: ClassVar[str] = "积分"

    customer: RecordRef
    type: EntryType
    points: int = Field(description="positive for earn, negative for redeem and expire")
    reason: str = Field("", description="why: the order, what was redeemed for, the correction")
    order: RecordRef | None = Field(None, description="the order earned on (or redeemed for)")
    at: AwareDatetime
    by: str = Field("", description="the operator who wrote it")

    @model_validator(mode="after")
    def _signed_and_explained(self) -> PointsEntry:
        sign = SIGN.get(self.type)
        if self.points == 0:
            raise ValueError("an entry of 0 points changes nothing")
        if sign is not None and (self.points > 0) != (sign > 0):
            raise ValueError(
                f"{self.type} points are {'positive' if sign > 0 else 'negative'}"
                f", not {self.points}"
            )
        if self.type == "earn" and self.order is None:
            raise ValueError("earned points name the order they were earned on")
        if self.type in ("adjust", "redeem") and not self.reason:
            raise ValueError(
                f"{'an adjustment' if self.type == 'adjust' else 'a redemption'} needs a reason"
            )
        return self

    def title(self) -> str:
        """Day, kind and points (``2026-11-22 earn +36``): no personal data."""
        return f"{self.at:%Y-%m-%d} {self.type} {self.points:+d}"

    def index_terms(self) -> dict[str, list[str]]:
        return {
            "terms": [self.reason] if self.reason else [],
            "tags": [],
            "communities": [],
            "category": [self.type],
        }

    def index_day(self) -> str:
        return self.at.date().isoformat()

    def index_refs(self) -> list[str]:
        """The customer, and the order: a second earn on one order is found by it."""
        return [self.customer, *([self.order] if self.order else [])]

    def summary(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "type": self.type,
            "points": self.points,
            "reason": self.reason,
            "order": self.order,
            "at": self.at.isoformat(),
            "by": self.by,
        }


# --- the rules ------------------------------------------------------------------------------


def order_points(amount_fen: int, yuan_per_point: int) -> int:
    """Points an order of ``amount_fen`` earns: one per ``yuan_per_point`` yuan, floored."""
    return max(0, amount_fen) // (yuan_per_point * 100)


def capped(points: int, earned_this_year: int, yearly_cap: int) -> int:
    """What may still be earned this calendar year (``yearly_cap`` 0: no cap)."""
    if yearly_cap <= 0:
        return points
    return max(0, min(points, yearly_cap - earned_this_year))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the 31st becomes the last day of a shorter month."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Move:
    """One ledger entry as the rules need it (read from the index, not the file)."""

    id: str
    type: str
    points: int
    at: dt.datetime
    order: str | None = None
    reason: str = ""
    by: str = ""

    @classmethod
    def of(cls, row: dict[str, Any]) -> Move:
        """From an index summary (:meth:`PointsEntry.summary` plus ``id``)."""
        return cls(
            row["id"],
            row["type"],
            int(row["points"]),
            dt.datetime.fromisoformat(row["at"]),
            row.get("order"),
            row.get("reason") or "",
            row.get("by") or "",
        )


@dataclass
class Lot:
    """Points earned (or granted) together, what is left of them, and when that expires."""

    earned: dt.date
    expires: dt.date
    left: int


@dataclass
class Standing:
    """A customer's points on a day: the balance and how it came about."""

    on: dt.date
    balance: int = 0
    lots: list[Lot] = field(default_factory=list)
    """Points still usable, oldest first."""
    earned: int = 0
    spent: int = 0
    """Redeemed, and taken by negative adjustments."""
    expired: int = 0
    """Expired by the rule, whether written down yet or not."""
    unwritten: int = 0
    """Expired but not yet written as an ``expire`` entry (what ``hk points expire`` writes)."""

    def expiring(self, within_days: int = EXPIRING_DAYS) -> list[Lot]:
        """The lots that expire within ``within_days`` after :attr:`on`, soonest first."""
        until = self.on + dt.timedelta(days=within_days)
        return [lot for lot in self.lots if lot.expires <= until]

    def expiring_points(self, within_days: int = EXPIRING_DAYS) -> int:
        return sum(lot.left for lot in self.expiring(within_days))

    def to_dict(self, within_days: int = EXPIRING_DAYS) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "balance": self.balance,
            "earned": self.earned,
            "spent": self.spent,
            "expired": self.expired,
            "unwritten": self.unwritten,
            "expiring": [
                {"expires": lot.expires.isoformat(), "points": lot.left}
                for lot in self.expiring(within_days)
            ],
            "lots": [
                {
                    "earned": lot.earned.isoformat(),
                    "expires": lot.expires.isoformat(),
                    "points": lot.left,
                }
                for lot in self.lots
            ],
        }


def in_order(moves: Iterable[Move]) -> list[Move]:
    """Oldest first; entries at the same moment by ID (creation order)."""
    return sorted(moves, key=lambda m: (m.at, m.id))


def standing(moves: Iterable[Move], on: dt.date, expire_months: int) -> Standing:
    """The balance at the end of ``on``, counting the entries made up to that day.

    The entries are replayed oldest first. Before each, the lots whose expiry day has come
    expire; an earn or positive adjustment adds a lot; a redemption or negative adjustment uses
    the oldest lots first; an ``expire`` entry writes down expired points (should it say more
    than had expired, the rest is taken from the oldest lots, as a redemption would).
    """
    out = Standing(on)
    lots: list[Lot] = []
    pool = 0  # expired, not yet written down
    owed = 0  # used beyond what there was (a hand-edited ledger): taken from the next lots

    def expire_until(day: dt.date) -> None:
        nonlocal pool
        while lots and lots[0].expires <= day:
            lot = lots.pop(0)
            pool += lot.left
            out.expired += lot.left

    def use(points: int) -> None:
        nonlocal owed
        while points and lots:
            taken = min(points, lots[0].left)
            lots[0].left -= taken
            points -= taken
            if not lots[0].left:
                lots.pop(0)
        owed += points

    for move in in_order(m for m in moves if m.at.date() <= on):
        day = move.at.date()
        expire_until(day)
        if move.points > 0:
            lot = Lot(day, add_months(day, expire_months), move.points)
            out.earned += move.points
            if owed:
                paid = min(owed, lot.left)
                lot.left -= paid
                owed -= paid
            if lot.left:
                lots.append(lot)
                lots.sort(key=lambda lot: lot.expires)
        elif move.type == "expire":
            written = min(pool, -move.points)
            pool -= written
            use(-move.points - written)
        else:
            out.spent -= move.points
            use(-move.points)
    expire_until(on)
    out.lots, out.unwritten = lots, pool
    out.balance = sum(lot.left for lot in lots) - owed
    return out


def earned_in_year(moves: Iterable[Move], year: int) -> int:
    """Points earned by orders in a calendar year (what the yearly cap counts)."""
    return sum(m.points for m in moves if m.type == "earn" and m.at.year == year)
