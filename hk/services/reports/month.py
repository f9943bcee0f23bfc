"""The month's key figures on the TUI's dashboard, counted as ``hk report`` counts them.

Orders booked for the month (cancelled ones apart), revenue (the total of the month's orders
that were served: completed or settled), satisfaction (the mean overall score of the month's
survey responses, and NPS when asked) and new customers (records created this month). The same
numbers as ``hk report revenue``, ``funnel``, ``satisfaction`` and ``customers`` for the month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hk.services.reports.compute import nps_of
from hk.services.reports.facts import facts
from hk.services.reports.model import add_months

if TYPE_CHECKING:
    from hk.store.archive import Archive


@dataclass
class MonthFigures:
    first: dt.date
    orders: int = 0
    cancelled: int = 0
    revenue_fen: int = 0
    surveys: int = 0
    satisfaction: float | None = None
    nps: int | None = None
    new_customers: int = 0


def month_figures(archive: Archive, today: dt.date) -> MonthFigures:
    """The figures of ``today``'s month, from the reports' fact tables."""
    db, _ = facts(archive, ("order", "customer", "survey"))
    first = today.replace(day=1)
    last = add_months(first, 1) - dt.timedelta(days=1)
    span = [first.isoformat(), last.isoformat()]
    figures = MonthFigures(first)
    booked, cancelled, revenue = db.execute(
        "SELECT sum(status != 'cancelled'), sum(status = 'cancelled'),"
        " sum(CASE WHEN status IN ('completed', 'settled') THEN total_fen END)"
        " FROM f_order WHERE day BETWEEN ? AND ?",
        span,
    ).fetchone()
    figures.orders, figures.cancelled, figures.revenue_fen = (
        booked or 0,
        cancelled or 0,
        revenue or 0,
    )
    overall: list[int] = []
    nps: list[int] = []
    for score, answer in db.execute(
        "SELECT overall, nps FROM f_survey WHERE day BETWEEN ? AND ?", span
    ):
        overall.append(score)
        if answer is not None:
            nps.append(answer)
    figures.surveys = len(overall)
    figures.satisfaction = sum(overall) / len(overall) if overall else None
    figures.nps = nps_of(nps)
    (figures.new_customers,) = db.execute(
        "SELECT count(*) FROM f_customer WHERE created BETWEEN ? AND ?", span
    ).fetchone()
    return figures
