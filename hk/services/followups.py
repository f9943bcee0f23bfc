"""Return visits written when something happens (SPEC §4): a low score, a complaint resolved,
a new worker on a placement. Each builds the visit record, due by the rules of ``[visits]``,
and leaves saving it to the step that caused it, so the two are one commit.

Kept apart from :mod:`hk.services.visits` (logging and listing visits), which opens a
complaint after a bad visit: complaints, ratings and contracts write visits through this
module, and none of them needs the other's steps.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hk.domain.ids import new_id
from hk.domain.visit.model import Visit, made_event
from hk.domain.visit.owed import Rules, is_low, written_due
from hk.services.records import moment, refused
from hk.store.archive import Archive

if TYPE_CHECKING:
    from hk.domain.complaint import Complaint
    from hk.domain.contract import Contract
    from hk.domain.survey import Survey


def rules_of(archive: Archive) -> Rules:
    return Rules.of(archive.settings.visits)


def today(archive: Archive) -> dt.date:
    return moment(archive, None).date()


def new_visit(
    archive: Archive,
    customer: str,
    visit_type: str,
    due: dt.date,
    at: dt.datetime,
    reason: str = "",
    note: str = "",
    **links: Any,
) -> Visit:
    """A visit record, due, not saved: ``links`` are order, contract, complaint, worker,
    trigger_survey (IDs)."""
    try:
        return Visit.model_validate(
            {
                "id": new_id(),
                "created": at,
                "updated": at,
                "customer": customer,
                "type": visit_type,
                "due": due,
                "reason": reason,
                **{k: v for k, v in links.items() if v},
                "events": [made_event(archive.operator(), at, note or reason)],
            }
        )
    except ValidationError as exc:
        raise refused(exc) from None


def low_score_visit(archive: Archive, survey: Survey, at: dt.datetime) -> Visit | None:
    """The follow-up a survey response asks for when a score is at or below ``[visits]
    low_score`` (None otherwise): due ``low_score_within_days`` after it came in."""
    rules = rules_of(archive)
    lowest = survey.lowest()
    if not is_low(lowest, rules):
        return None
    worst = [d for d, s in survey.scores().items() if s == lowest]
    from hk.domain.survey import DIMENSION_ZH

    reason = f"评分偏低：{'、'.join(DIMENSION_ZH[d] for d in worst)} {lowest} 分"
    return new_visit(
        archive,
        survey.customer,
        "low_score",
        written_due("low_score", at.date(), rules),
        at,
        reason,
        order=survey.order,
        contract=survey.contract,
        worker=survey.workers[0] if len(survey.workers) == 1 else None,
        trigger_survey=survey.id,
    )


def after_complaint_visit(archive: Archive, complaint: Complaint, at: dt.datetime) -> Visit | None:
    """The visit after a complaint is resolved (``[visits] after_complaint``), or None."""
    rules = rules_of(archive)
    if not rules.after_complaint:
        return None
    return new_visit(
        archive,
        complaint.customer,
        "after_complaint",
        written_due("after_complaint", at.date(), rules),
        at,
        "投诉处理后回访",
        order=complaint.order,
        complaint=complaint.id,
        worker=complaint.worker,
    )


def new_worker_visit(
    archive: Archive, contract: Contract, worker: str, day: dt.date, at: dt.datetime
) -> Visit | None:
    """The visit after a worker replacement (``[visits] after_replacement``): how the new
    worker is doing, ``first_within_days`` after her first day; or None."""
    rules = rules_of(archive)
    if not rules.after_replacement:
        return None
    return new_visit(
        archive,
        contract.customer,
        "new_worker",
        written_due("new_worker", day, rules),
        at,
        "更换阿姨后回访",
        contract=contract.id,
        worker=worker,
    )
