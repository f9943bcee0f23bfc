"""What waits for the office today (SPEC §4): return visits due, and the day's reminders.

Visits come from :func:`hk.services.visits.visits_due` (the rows ``hk visit due`` prints),
reminders from the reminders' own gathering and wording (:mod:`hk.remind.gather`,
:mod:`hk.remind.listing`), read-only: the queue sends nothing and records nothing as sent.
Logging a visit goes through :func:`hk.services.visits.log`, one commit as on the command line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hk.domain.survey import DIMENSIONS
from hk.tui.data.orders import scores_of

if TYPE_CHECKING:
    from hk.domain.visit.model import Visit
    from hk.services.records import Stepped
    from hk.store.archive import Archive


@dataclass
class Waiting:
    """Visits due on or before the day (most overdue first) and the day's reminders."""

    day: dt.date
    visits: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)


def visits(archive: Archive, day: dt.date) -> list[dict[str, Any]]:
    """Visits due on or before ``day``, each with ``ref``: what logging it names."""
    from hk.services.visits import visits_due

    due = visits_due(archive, day)
    rows = [{**d.to_dict(), "ref": d.ref()} for d in due]
    return sorted(rows, key=lambda r: (-int(r["days_overdue"]), r["due"], r["customer_code"]))


def reminders(archive: Archive, day: dt.date) -> list[dict[str, Any]]:
    """The day's reminders for every audience, worded as ``hk remind`` words them."""
    from hk.remind.config import RemindConfig
    from hk.remind.gather import gather
    from hk.remind.listing import rows

    config = RemindConfig.from_settings(archive.settings)
    found = gather(archive.index, day, config)
    return rows(found, config, {}, ("office", "customer", "worker"))


def waiting(archive: Archive, day: dt.date) -> Waiting:
    return Waiting(day, visits(archive, day), reminders(archive, day))


def log_visit(archive: Archive, visit: dict[str, Any], values: dict[str, str]) -> Stepped[Visit]:
    """Log the visit ``visit`` (a row of :func:`visits`) as made, with what the form says.

    The five scores are all given or none; the note is the visit's outcome.
    """
    from hk.services.visits import log

    given = [values.get(name, "").strip() for name in DIMENSIONS]
    scores, nps = scores_of(values) if any(given) else (None, None)
    return log(
        archive,
        str(visit["ref"]),
        values.get("method", "phone"),
        scores=scores,
        nps=nps,
        outcome=values.get("note", ""),
        visit_type=None if visit.get("code") else str(visit["type"]),
    )
