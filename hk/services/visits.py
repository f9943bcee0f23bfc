"""Return visits (回访): what is owed, logging one, cancelling one (SPEC §2, §4).

Which visits are owed is decided by :mod:`hk.domain.visit.owed` (written at events vs computed:
see there). This module gathers each customer's history from the index, so listing what is
due reads no record file: visits and orders by their index rows, and — only for customers
still waiting for their first visit — the day their first service was completed, from the
indexed data of that one order.

For other parts of hk:

- :func:`visits_due` (``archive, day``) — every visit due on or before ``day``, with days
  overdue and a stable ``key`` per occasion (what the reminders send once);
- :func:`low_score_visit`, :func:`after_complaint_visit`, :func:`new_worker_visit` — the visit
  an event asks for, built but not saved, so the event's service saves it in its own commit.

Logging a visit (:func:`log`) writes, in one commit: the visit (done), the survey response
its scores are kept as, the follow-up visit a low score asks for, and the complaint the
customer made at the visit, when the operator records one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hk.domain.ids import new_id
from hk.domain.visit.model import (
    METHOD_ZH,
    STATUS_ZH,
    SURVEY_CHANNEL,
    TYPE_ZH,
    Visit,
    step,
)
from hk.domain.visit.owed import History, Owed, due_by, owed
from hk.errors import ConflictError, UsageError
from hk.services.followups import low_score_visit, new_visit, rules_of
from hk.services.records import (
    Stepped,
    choice_of,
    code_of,
    load,
    load_named,
    moment,
    refs_by_kind,
    refused,
    resolve_id,
)
from hk.store.archive import Archive
from hk.store.writer import Loaded, save, save_together

if TYPE_CHECKING:
    from hk.domain.survey import Survey
    from hk.services.complaints import ComplaintIn


# --- what is owed ------------------------------------------------------------------------------


@dataclass
class DueVisit:
    """A visit owed, as listings and reminders show it: who, why, by when, how late."""

    owed: Owed
    days_overdue: int
    customer_code: str
    customer_name: str
    visit_code: str | None = None

    @property
    def key(self) -> str:
        return self.owed.key

    def ref(self) -> str:
        """What ``hk visit log`` takes: the visit's code, or the customer's for a computed one."""
        return self.visit_code or self.customer_code

    def to_dict(self) -> dict[str, Any]:
        o = self.owed
        return {
            "key": o.key,
            "visit": o.visit,
            "code": self.visit_code,
            "type": o.type,
            "type_zh": TYPE_ZH[o.type],
            "due": o.due.isoformat(),
            "days_overdue": self.days_overdue,
            "customer": o.customer,
            "customer_code": self.customer_code,
            "customer_name": self.customer_name,
            "order": o.order,
            "contract": o.contract,
            "complaint": o.complaint,
            "worker": o.worker,
            "reason": o.reason,
            "computed": o.visit is None,
        }


def visits_due(
    archive: Archive, day: dt.date, *, within_days: int = 0, customer: str | None = None
) -> list[DueVisit]:
    """Every visit due on or before ``day`` (+ ``within_days`` to look ahead), overdue first.

    ``customer`` (an ID) limits it to one customer. Written visits and computed ones alike;
    each with days overdue on ``day`` and a ``key`` naming the occasion.
    """
    from hk.services.lookup import Names

    rules, names = rules_of(archive), Names(archive.index)
    found: list[DueVisit] = []
    horizon = day + dt.timedelta(days=within_days)
    for history in histories(archive, customer).values():
        for item in due_by(owed(history, rules), horizon):
            code, name = names.parts(item.customer)
            visit_code = code_of(archive, item.visit) if item.visit else None
            found.append(DueVisit(item, item.days_overdue(day), code, name, visit_code))
    found.sort(key=lambda d: (d.owed.due, d.customer_code, d.owed.type))
    return found


def owed_by(archive: Archive, customer_id: str) -> list[Owed]:
    """Every visit one customer is owed, due or not yet."""
    return owed(
        histories(archive, customer_id).get(customer_id, History(customer_id)), rules_of(archive)
    )


def histories(archive: Archive, customer: str | None = None) -> dict[str, History]:
    """Each customer's history, as the rules read it, from the index (one customer, or all
    who have a visit record or a completed service).

    The reminders read the same histories (:func:`hk.store.histories.histories`), straight
    from the index's columns in a few SQL queries; a day's reminders and ``hk visit due`` can
    never disagree, and neither reads every order.
    """
    from hk.store.histories import histories as gathered

    archive.index.refresh(["visit", "order", "contract"])
    found = gathered(archive.index.db)
    return {h.customer: h for h in found if customer is None or h.customer == customer}


# --- visits written at an event ----------------------------------------------------------------


# --- reading -----------------------------------------------------------------------------------


def load_visit(archive: Archive, ref: str) -> tuple[Visit, Loaded]:
    return load_named(archive, Visit, ref, "see what is owed with hk visit due, or hk visit list")


def list_visits(
    archive: Archive,
    status: str | None = None,
    visit_type: str | None = None,
    customer: str | None = None,
    day_from: str | None = None,
    day_to: str | None = None,
) -> list[dict[str, Any]]:
    """Visit records by due day (both ends included), with the customer's code and name."""
    from hk.services.lookup import Names, list_rows

    wanted = choice_of(status, STATUS_ZH, "a visit status") if status else None
    kind = choice_of(visit_type, TYPE_ZH, "a visit type") if visit_type else None
    ref = resolve_id(archive, "customer", customer)[1] if customer else None
    rows = list_rows(
        archive.index, "visit", category=wanted, tag=kind, ref=ref, day_from=day_from, day_to=day_to
    )
    rows.sort(key=lambda r: (r["due"], r["id"]))
    names = Names(archive.index)
    out = []
    for row in rows:
        code, name = names.parts(row["customer"])
        out.append(
            {
                **row,
                "type_zh": TYPE_ZH[row["type"]],
                "status_zh": STATUS_ZH[row["status"]],
                "customer_code": code,
                "customer_name": name,
            }
        )
    return out


@dataclass
class Target:
    """The visit a step applies to, what it was loaded from (None: a new record), and whether
    the rules computed it (first or periodic: logged only once, see :func:`_still_owed`)."""

    visit: Visit
    loaded: Loaded | None = None
    computed: bool = False


def target(
    archive: Archive, ref: str, visit_type: str | None = None, at: dt.datetime | None = None
) -> Target:
    """The visit ``ref`` names: a visit (code or ID), or a customer — their one open visit,
    else the first or periodic visit the rules owe them (a new record, not yet saved), else a
    new periodic one. ``visit_type`` gives the type of a new record."""
    kind, record_id = resolve_id(archive, None, ref)
    if kind == "visit":
        return Target(*load(archive, Visit, record_id))
    if kind != "customer":
        raise UsageError(
            f"'{ref}' is a {kind}; give a visit or a customer",
            hint="see what is owed with hk visit due",
        )
    when = moment(archive, at)
    found = owed_by(archive, record_id)
    open_ = [o for o in found if o.visit is not None]
    if visit_type is None and len(open_) == 1:
        return Target(*load(archive, Visit, open_[0].visit or ""))
    if visit_type is None and len(open_) > 1:
        codes = ", ".join(
            f"{code_of(archive, o.visit) or o.visit} {TYPE_ZH[o.type]}" for o in open_ if o.visit
        )
        raise UsageError(
            f"the customer has {len(open_)} open visits: {codes}", hint="give the visit's code"
        )
    kind_of = choice_of(visit_type, TYPE_ZH, "a visit type") if visit_type else None
    computed = next(
        (o for o in found if o.visit is None and (kind_of is None or o.type == kind_of)), None
    )
    if computed is not None:
        return Target(
            new_visit(
                archive,
                record_id,
                computed.type,
                computed.due,
                when,
                computed.reason,
                order=computed.order,
                worker=_one_worker(archive, computed.order),
            ),
            None,
            True,
        )
    return Target(
        new_visit(archive, record_id, kind_of or "periodic", when.date(), when, "客服主动回访")
    )


def _still_owed(archive: Archive, found: Target) -> Callable[[], None] | None:
    """For a computed visit, a check made under the write lock: another operator who logged or
    cancelled it meanwhile would otherwise have it logged twice."""
    if not found.computed:
        return None
    visit = found.visit

    def check() -> None:
        if not any(
            o.visit is None and o.type == visit.type and o.due == visit.due
            for o in owed_by(archive, visit.customer)
        ):
            raise ConflictError(
                f"the customer's {TYPE_ZH[visit.type]} was logged or cancelled "
                "by someone else meanwhile; nothing was written",
                hint="see hk visit list --customer …",
            )

    return check


def _one_worker(archive: Archive, order: str | None) -> str | None:
    """The worker who did the order, when one did (from the index)."""
    from hk.services.lookup import summary

    row = archive.index.get(order) if order else None
    workers = list(summary(row).get("workers") or []) if row is not None else []
    return workers[0] if len(workers) == 1 else None


# --- logging and cancelling --------------------------------------------------------------------


def method_of(text: str) -> str:
    """``phone`` or ``电话`` → ``phone``; anything else is refused with the choices."""
    return choice_of(text, METHOD_ZH, "a way to make a return visit")


def log(
    archive: Archive,
    ref: str,
    method: str,
    *,
    scores: dict[str, int] | None = None,
    nps: int | None = None,
    comment: str = "",
    outcome: str = "",
    actions: Sequence[str] = (),
    visit_type: str | None = None,
    complaint: ComplaintIn | None = None,
    at: dt.datetime | None = None,
) -> Stepped[Visit]:
    """The visit was made: how, what came of it, the scores given; one commit.

    ``ref`` is a visit, or a customer (see :func:`target`). Scores (all five, 1–5, and NPS)
    are kept as a survey response; one at or below ``[visits] low_score`` schedules a
    follow-up visit. ``complaint`` opens a complaint made at the visit, in the same commit.
    """
    how = method_of(method)
    if nps is not None and scores is None:
        raise UsageError("--nps is asked with the scores", hint="give --scores too")
    when = moment(archive, at)
    found = target(archive, ref, visit_type, when)
    visit, loaded = found.visit, found.loaded
    survey = _survey(archive, visit, how, scores, nps, comment, when) if scores else None
    follow = low_score_visit(archive, survey, when) if survey is not None else None
    made = None
    if complaint is not None:
        from hk.services.complaints import build_complaint

        made = build_complaint(
            archive,
            complaint,
            customer=visit.customer,
            order=visit.order,
            worker=visit.worker or _one_worker(archive, visit.order),
            visit=visit.id,
            at=when,
        )
    try:
        done = step(
            visit,
            "done",
            archive.operator(),
            when,
            outcome.strip(),
            method=how,
            done_at=when,
            done_by=archive.operator(),
            outcome=outcome.strip(),
            actions=[a.strip() for a in actions if a.strip()],
            survey=survey.id if survey else None,
            follow_up=follow.id if follow else None,
        )
    except ValidationError as exc:
        raise refused(exc) from None
    records: list[tuple[Any, Loaded | None]] = [(done, loaded)]
    records += [(r, None) for r in (survey, follow, made) if r is not None]
    result = save_together(archive, records, recheck=_still_owed(archive, found))
    logged = Stepped(done, result, made=[r for r in (survey, follow, made) if r is not None])
    if follow is not None:
        logged.notes.append(
            f"low score: follow-up visit {code_of(archive, follow.id)} due "
            f"{follow.due.isoformat()} ({follow.reason})"
        )
    if made is not None:
        logged.notes.append(
            f"complaint {code_of(archive, made.id)} opened; answer it by "
            f"{made.response_due:%Y-%m-%d %H:%M}"
        )
    return logged


def _survey(
    archive: Archive,
    visit: Visit,
    method: str,
    scores: dict[str, int],
    nps: int | None,
    comment: str,
    at: dt.datetime,
) -> Survey:
    """The scores given at the visit, kept as a survey response about what it follows up."""
    from hk.domain.survey import DIMENSIONS, Survey
    from hk.services.lookup import summary

    workers: list[str] = [visit.worker] if visit.worker else []
    services: list[str] = []
    if visit.order:
        row = archive.index.get(visit.order)
        if row is not None:
            data = summary(row)
            workers = workers or list(data.get("workers") or [])
            services = list(data.get("services") or [])
    missing = [d for d in DIMENSIONS if d not in scores]
    if missing:
        raise UsageError(f"missing scores: {', '.join(missing)}")
    try:
        return Survey.model_validate(
            {
                "id": new_id(),
                "created": at,
                "updated": at,
                "customer": visit.customer,
                "order": visit.order,
                "contract": visit.contract,
                "workers": workers,
                "services": services,
                "at": at,
                "channel": SURVEY_CHANNEL[method],
                "taken_by": archive.operator(),
                **{d: scores[d] for d in DIMENSIONS},
                "nps": nps,
                "comment": comment.strip(),
            }
        )
    except ValidationError as exc:
        raise refused(exc) from None


def cancel(
    archive: Archive, ref: str, reason: str, at: dt.datetime | None = None
) -> Stepped[Visit]:
    """Not needed after all (the customer asked not to be called, the contract ended): → 已取消,
    with the reason in the log. Cancelling a computed first or periodic visit skips it: the
    next one counts from its due day."""
    if not reason.strip():
        raise UsageError("say why the visit is cancelled", hint="--reason …")
    when = moment(archive, at)
    found = target(archive, ref, None, when)
    try:
        cancelled = step(found.visit, "cancelled", archive.operator(), when, reason.strip())
    except ValidationError as exc:
        raise refused(exc) from None
    return Stepped(
        cancelled, save(archive, cancelled, found.loaded, recheck=_still_owed(archive, found))
    )


def schedule(
    archive: Archive,
    customer_ref: str,
    visit_type: str,
    due: dt.date,
    reason: str = "",
    *,
    order: str | None = None,
    contract: str | None = None,
    worker: str | None = None,
    at: dt.datetime | None = None,
) -> Stepped[Visit]:
    """A visit scheduled by hand (a renewal talk, a visit moved to another day); one commit.

    A first or periodic visit scheduled by hand takes the place of the computed one.
    """
    kind = choice_of(visit_type, TYPE_ZH, "a visit type")
    _, customer = resolve_id(archive, "customer", customer_ref)
    links = {
        name: resolve_id(archive, name, ref)[1]
        for name, ref in refs_by_kind(order=order, contract=contract, worker=worker)
    }
    when = moment(archive, at)
    if due < when.date() - dt.timedelta(days=366):
        raise UsageError(f"the due day {due.isoformat()} is more than a year ago")
    visit = new_visit(archive, customer, kind, due, when, reason.strip() or "手动安排", **links)
    return Stepped(visit, save(archive, visit))
