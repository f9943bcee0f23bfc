"""A customer's lifecycle stage (SPEC §3), derived from their history and never stored.

lead (no order yet) → new (first order) → active (ordered within their usual interval) →
at_risk (overdue by ``at_risk_factor`` × their usual interval, or a recent low score, or a
complaint still open) → lapsed (no order for ``lapsed_days``) → won_back (a lapsed customer
ordered again). A customer whose long-term contract is running is active, whatever else.

What counts as an order: every order not cancelled, on its appointment day. A booking still to
come counts as ordering today: a customer who has booked is neither overdue nor lapsed, and a
lapsed customer who books again is won back from the booking on, not from the service.

The usual interval is the median gap between the days a customer had orders: robust to one
long holiday or one extra visit. With fewer than two order days there is no interval, and only
a low score, an open complaint or the lapse can move a new customer on.

Pure: the caller gathers the facts (:mod:`hk.services.stages` reads them from the index).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hk.domain.settings import Customers

Stage = Literal["lead", "new", "active", "at_risk", "lapsed", "won_back"]
STAGES: tuple[Stage, ...] = ("lead", "new", "active", "at_risk", "lapsed", "won_back")
"""Every stage, in the order a customer moves through them."""
STAGE_ZH: dict[str, str] = {
    "lead": "潜在客户",
    "new": "新客户",
    "active": "活跃",
    "at_risk": "有流失风险",
    "lapsed": "已流失",
    "won_back": "已挽回",
}
"""Customer lifecycle stages (SPEC §3) and their Chinese names."""


@dataclass(frozen=True)
class StageRules:
    """``[customers]`` of hk.toml, as the stage reads it."""

    lapsed_days: int = 90
    at_risk_factor: float = 1.5
    at_risk_score: int = 2
    """A survey score (any dimension) at or below this puts the customer at risk."""
    at_risk_score_days: int = 90
    """… when it is the customer's latest score and no older than this."""

    @classmethod
    def of(cls, settings: Customers) -> StageRules:
        return cls(
            settings.lapsed_days,
            settings.at_risk_factor,
            settings.at_risk_score,
            settings.at_risk_score_days,
        )


@dataclass(frozen=True)
class Facts:
    """What the stage of one customer depends on."""

    order_days: Sequence[dt.date] = ()
    """Appointment days of their orders that are not cancelled (any order, repeats allowed)."""
    contracts: Sequence[tuple[dt.date, dt.date]] = ()
    """(start, end) of their signed or active contracts."""
    open_complaints: int = 0
    last_score: tuple[dt.date, int] | None = None
    """Day and lowest score of their latest survey response."""


def usual_interval(days: Iterable[dt.date]) -> float | None:
    """The median number of days between consecutive order days; None with fewer than two."""
    distinct = sorted(set(days))
    gaps = sorted((b - a).days for a, b in pairwise(distinct))
    if not gaps:
        return None
    middle = len(gaps) // 2
    return float(gaps[middle]) if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2


DEFAULT_RULES = StageRules()


def stage(facts: Facts, today: dt.date, rules: StageRules = DEFAULT_RULES) -> Stage:
    """The customer's stage on ``today``; precedence: a running contract (active), no order
    (lead), the lapse, then the signs of risk, then new / won back / active."""
    if any(start <= today <= end for start, end in facts.contracts):
        return "active"
    if not facts.order_days:
        return "lead"
    days = sorted({min(day, today) for day in facts.order_days})
    since = (today - days[-1]).days
    if since >= rules.lapsed_days:
        return "lapsed"
    if facts.open_complaints or _low_score(facts.last_score, today, rules):
        return "at_risk"
    interval = usual_interval(days)
    if interval is not None and since > rules.at_risk_factor * interval:
        return "at_risk"
    if len(days) == 1:
        return "new"
    if (days[-1] - days[-2]).days >= rules.lapsed_days:
        return "won_back"
    return "active"


def _low_score(last: tuple[dt.date, int] | None, today: dt.date, rules: StageRules) -> bool:
    if last is None:
        return False
    day, lowest = last
    return lowest <= rules.at_risk_score and (today - day).days <= rules.at_risk_score_days
