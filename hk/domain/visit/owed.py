"""Which return visits (回访) a customer is owed, and by when: SPEC §4 as pure rules.

SPEC §4: the first visit within 7 days after a new customer's first completed service; then
every 3 months for active customers (6 months for one-off customers); an extra visit after a
complaint is resolved, after a worker replacement and after a survey score ≤ 2. The numbers
are ``[visits]`` of hk.toml (:class:`Rules`).

Two kinds of visit, kept two ways:

- **Written at the event.** A low score, a resolved complaint, a worker replacement (and a
  visit scheduled by hand, such as before a contract renewal) write a
  :class:`~hk.domain.visit.model.Visit` record in the same commit as the event that asked for it.
  The record carries the link (order, complaint, contract, worker) and the reason, and it is
  owed until someone logs or cancels it, whatever else happens. Due: ``low_score_within_days``
  after a low score (the next day by default), ``first_within_days`` after the other events.
- **Computed from the history.** The regular cadence — first, then periodic — follows from the
  customer's completed services and the visits already done, so it is worked out each time
  (:func:`owed`) and written only when the operator logs or cancels it. A stored date would go
  stale: a one-off customer who orders again becomes a regular one, due sooner.

The cadence, exactly:

- *first*: owed once the customer has a completed service, until any visit is done (a call
  for any reason is the first contact) or a first or periodic visit is cancelled; due
  ``first_within_days`` after the day the first service was completed.
- *periodic*: from then on, due ``active_every_months`` (regular customer: two or more
  completed services, or a signed or active contract) or ``one_off_every_months`` (one
  service) after the last contact: the latest day a visit was done, or the due day of a
  cancelled first or periodic visit (cancelling skips one). A month later than the 31st is
  the month's last day (:func:`add_months`).
- a visit *written by hand* as first or periodic replaces the computed one (that is how a
  visit is moved to another day); any other open visit falls due first stands in for it
  (doing it is the contact), so the computed visit is not listed twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hk.domain.settings import Visits

CADENCE = ("first", "periodic")


@dataclass(frozen=True)
class Rules:
    """``[visits]`` of hk.toml, as the rules read it."""

    first_within_days: int = 7
    active_every_months: int = 3
    one_off_every_months: int = 6
    after_complaint: bool = True
    after_replacement: bool = True
    low_score: int = 2
    low_score_within_days: int = 1
    """A low score is followed up the next day: the customer is unhappy now."""

    @classmethod
    def of(cls, settings: Visits) -> Rules:
        return cls(
            settings.first_within_days,
            settings.active_every_months,
            settings.one_off_every_months,
            settings.after_complaint,
            settings.after_replacement,
            settings.low_score,
            settings.low_score_within_days,
        )


@dataclass(frozen=True)
class Seen:
    """A visit record, as the rules see it."""

    id: str
    type: str
    status: str
    due: dt.date
    done: dt.date | None = None
    order: str | None = None
    contract: str | None = None
    complaint: str | None = None
    worker: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class History:
    """What the rules need of one customer: the first completed service, how many, whether a
    contract runs, and the customer's visit records."""

    customer: str
    first_service: dt.date | None = None
    """The day the customer's first completed service ended (None: no service yet)."""
    first_order: str | None = None
    services: int = 0
    """Completed (or settled) orders."""
    contract: bool = False
    """Holds a signed or active contract."""
    visits: tuple[Seen, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Owed:
    """A visit the customer is owed: a record (``visit``) or a computed one (``visit`` None)."""

    customer: str
    type: str
    due: dt.date
    visit: str | None = None
    order: str | None = None
    contract: str | None = None
    complaint: str | None = None
    worker: str | None = None
    reason: str = ""

    @property
    def key(self) -> str:
        """Names the occasion, the same on every run: a reminder is sent once per key."""
        if self.visit is not None:
            return f"visit:{self.visit}"
        if self.type == "first":
            return f"first:{self.customer}"
        return f"{self.type}:{self.customer}:{self.due.isoformat()}"

    def days_overdue(self, day: dt.date) -> int:
        return max(0, (day - self.due).days)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it is shorter (31 Jan + 1 month
    is 28 or 29 Feb, 29 Feb + 12 months is 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def regular(history: History) -> bool:
    """Two or more completed services, or a contract: visited every ``active_every_months``."""
    return history.services >= 2 or history.contract


def every_months(history: History, rules: Rules) -> int:
    return rules.active_every_months if regular(history) else rules.one_off_every_months


def last_contact(history: History) -> dt.date | None:
    """The latest day a visit was done, or a first or periodic visit was skipped (cancelled:
    its due day); None while the customer has had neither."""
    days = [v.done for v in history.visits if v.status == "done" and v.done is not None]
    days += [v.due for v in history.visits if v.status == "cancelled" and v.type in CADENCE]
    return max(days, default=None)


def owed(history: History, rules: Rules) -> list[Owed]:
    """Every visit the customer is owed, whatever the day: the open records, and the computed
    first or periodic one (see the module's rules). Sorted by due day."""
    found = [
        Owed(
            history.customer,
            v.type,
            v.due,
            v.id,
            v.order,
            v.contract,
            v.complaint,
            v.worker,
            v.reason,
        )
        for v in history.visits
        if v.status == "due"
    ]
    cadence = _cadence(history, rules)
    if cadence is not None:
        written = [o for o in found if o.type in CADENCE or o.due <= cadence.due]
        if not written:
            found.append(cadence)
    return sorted(found, key=lambda o: (o.due, o.type, o.visit or ""))


def _cadence(history: History, rules: Rules) -> Owed | None:
    if history.first_service is None:
        return None
    anchor = last_contact(history)
    if anchor is None:
        return Owed(
            history.customer,
            "first",
            history.first_service + dt.timedelta(days=rules.first_within_days),
            order=history.first_order,
            reason="首次服务后回访",
        )
    months = every_months(history, rules)
    kind = "老客户" if regular(history) else "单次客户"
    return Owed(
        history.customer, "periodic", add_months(anchor, months), reason=f"{kind}每{months}个月回访"
    )


def due_by(found: list[Owed], day: dt.date) -> list[Owed]:
    """Those due on or before ``day`` (overdue included)."""
    return [o for o in found if o.due <= day]


def written_due(visit_type: str, day: dt.date, rules: Rules) -> dt.date:
    """The due day of a visit written at its event on ``day``: ``low_score_within_days``
    after a low score, ``first_within_days`` after anything else (a resolved complaint, a new
    worker's first day, a renewal)."""
    days = rules.low_score_within_days if visit_type == "low_score" else rules.first_within_days
    return day + dt.timedelta(days=days)


def is_low(lowest: int, rules: Rules) -> bool:
    """A score at or below ``[visits] low_score`` (2) asks for a follow-up visit."""
    return lowest <= rules.low_score
