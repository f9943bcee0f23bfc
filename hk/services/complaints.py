"""Complaints (投诉): open one, hand it to someone, resolve or reject it (SPEC §2–§4).

A complaint is answered by ``response_due`` (``[reminders] complaint_sla_hours`` after it came
in; see :mod:`hk.domain.complaint`). Resolving it may agree compensation and a rework order
(返工, made by :func:`hk.services.orders.aftercare.build_rework`), and schedules the return visit
after a complaint (``[visits] after_complaint``): the complaint, the rework order and the
visit are one commit.

For the reminders: :func:`complaints_near_sla` (``archive, now``) lists the open complaints in
the last quarter of their response time or past it, from the index alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hk.domain.complaint import (
    CATEGORY_ZH,
    RECEIVED_ZH,
    SEVERITY_ZH,
    SLA_ZH,
    STATUS_ZH,
    Complaint,
    made_event,
    response_due,
    sla_state,
    step,
)
from hk.domain.ids import new_id
from hk.errors import HkError, UsageError
from hk.services.orders.steps import load_order
from hk.services.records import (
    Stepped,
    choice_of,
    code_of,
    load_named,
    moment,
    refs_by_kind,
    refused,
    resolve_id,
)
from hk.store.archive import Archive
from hk.store.writer import Loaded, save, save_together


@dataclass(frozen=True)
class ComplaintIn:
    """A complaint as the operator takes it down: what about, in the customer's words."""

    category: str
    description: str
    severity: str = "normal"
    received_via: str = "phone"
    received_at: dt.datetime | None = None
    """When the customer complained (default: now)."""


def category_of(text: str) -> str:
    return choice_of(text, CATEGORY_ZH, "a complaint category")


def severity_of(text: str) -> str:
    return choice_of(text, SEVERITY_ZH, "a complaint severity")


# --- opening -----------------------------------------------------------------------------------


def build_complaint(
    archive: Archive,
    given: ComplaintIn,
    *,
    customer: str,
    order: str | None = None,
    worker: str | None = None,
    visit: str | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """A new open complaint, not saved (a return visit saves it with itself); IDs given."""
    if not given.description.strip():
        raise UsageError("say what the customer complained of", hint="--text …")
    when = moment(archive, at)
    received = moment(archive, given.received_at) if given.received_at else when
    if received > when + dt.timedelta(minutes=5):
        raise UsageError(
            "the complaint cannot have come in later than now", hint="check --received"
        )
    try:
        return Complaint.model_validate(
            {
                "id": new_id(),
                "created": when,
                "updated": when,
                "customer": customer,
                "order": order,
                "worker": worker,
                "visit": visit,
                "category": category_of(given.category),
                "severity": severity_of(given.severity),
                "received_via": choice_of(given.received_via, RECEIVED_ZH, "how a complaint came"),
                "description": given.description.strip(),
                "received_at": received,
                "response_due": response_due(
                    received, archive.settings.reminders.complaint_sla_hours
                ),
                "events": [made_event(archive.operator(), when)],
            }
        )
    except ValidationError as exc:
        raise refused(exc) from None


def open_complaint(
    archive: Archive,
    given: ComplaintIn,
    *,
    customer: str | None = None,
    order: str | None = None,
    worker: str | None = None,
    at: dt.datetime | None = None,
) -> Stepped:
    """Take a complaint down; one commit. ``order`` names the customer, and the worker when
    one worker did it; ``customer`` and ``worker`` are codes or IDs."""
    customer_id = resolve_id(archive, "customer", customer)[1] if customer else None
    worker_id = resolve_id(archive, "worker", worker)[1] if worker else None
    order_id = None
    if order:
        found, _ = load_order(archive, order)
        order_id = found.id
        if customer_id is not None and customer_id != found.customer:
            raise UsageError(
                "the order is another customer's",
                hint="leave out --customer: the order names its customer",
            )
        customer_id = found.customer
        if worker_id is None and len(found.workers) == 1:
            worker_id = found.workers[0]
    if customer_id is None:
        raise UsageError("whose complaint is it?", hint="give --order, or --customer")
    complaint = build_complaint(
        archive, given, customer=customer_id, order=order_id, worker=worker_id, at=at
    )
    return Stepped(complaint, save(archive, complaint))


# --- reading -----------------------------------------------------------------------------------


def load_complaint(archive: Archive, ref: str) -> tuple[Complaint, Loaded]:
    return load_named(archive, Complaint, ref, "list complaints with hk complaint list")


def change_complaint(
    archive: Archive, ref: str, change: Callable[[Complaint], Complaint]
) -> Stepped:
    """Apply ``change`` (one step) to the complaint ``ref`` names; save it over what was read."""
    complaint, loaded = load_complaint(archive, ref)
    try:
        updated = change(complaint)
    except ValidationError as exc:
        raise refused(exc) from None
    return Stepped(updated, save(archive, updated, loaded))


def list_complaints(
    archive: Archive,
    status: str | None = None,
    customer: str | None = None,
    worker: str | None = None,
    open_only: bool = False,
    day_from: str | None = None,
    day_to: str | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Complaints by the day received, each with its SLA state now and the names it links."""
    from hk.services.lookup import Names, list_rows

    wanted = choice_of(status, STATUS_ZH, "a complaint status") if status else None
    refs = [
        resolve_id(archive, kind, ref)[1]
        for kind, ref in refs_by_kind(customer=customer, worker=worker)
    ]
    rows = list_rows(
        archive.index,
        "complaint",
        category=wanted,
        ref=refs[0] if refs else None,
        day_from=day_from,
        day_to=day_to,
    )
    if len(refs) > 1:
        rows = [r for r in rows if r["worker"] == refs[1]]
    if open_only:
        rows = [r for r in rows if r["status"] in ("open", "in_progress")]
    rows.sort(key=lambda r: (r["received_at"], r["id"]))
    when = moment(archive, now)
    names = Names(archive.index)
    out = []
    for row in rows:
        state = _state(row, when)
        code, name = names.parts(row["customer"])
        out.append(
            {
                **row,
                "status_zh": STATUS_ZH[row["status"]],
                "category_zh": CATEGORY_ZH[row["category"]],
                "severity_zh": SEVERITY_ZH[row["severity"]],
                "sla": state,
                "sla_zh": SLA_ZH[state],
                "customer_code": code,
                "customer_name": name,
                "worker_label": names(row["worker"]) if row.get("worker") else "",
            }
        )
    return out


def _state(row: dict[str, Any], now: dt.datetime) -> str:
    responded = row.get("responded_at")
    return sla_state(
        dt.datetime.fromisoformat(row["received_at"]),
        dt.datetime.fromisoformat(row["response_due"]),
        dt.datetime.fromisoformat(responded) if responded else None,
        now,
    )


@dataclass
class SlaAlert:
    """An open complaint near or past its response deadline."""

    complaint: str
    code: str
    state: str
    """``near`` (last quarter of the response time) or ``overdue``."""
    response_due: dt.datetime
    hours_left: float
    """Hours to the deadline; negative once it has passed."""
    row: dict[str, Any]

    @property
    def key(self) -> str:
        """One occasion per state: a reminder when it nears the deadline, one when past it."""
        return f"complaint:{self.complaint}:{self.state}"

    def to_dict(self) -> dict[str, Any]:
        return {**self.row, "key": self.key, "state": self.state, "hours_left": self.hours_left}


def complaints_near_sla(archive: Archive, now: dt.datetime | None = None) -> list[SlaAlert]:
    """Open complaints (not yet answered) near or past their response deadline at ``now``,
    most urgent first; from the index alone."""
    when = moment(archive, now)
    found = []
    for row in list_complaints(archive, status="open", now=when):
        if row["sla"] not in ("near", "overdue"):
            continue
        due = dt.datetime.fromisoformat(row["response_due"])
        left = round((due - when).total_seconds() / 3600, 1)
        found.append(SlaAlert(row["id"], row["code"] or row["id"], row["sla"], due, left, row))
    found.sort(key=lambda a: (a.response_due, a.complaint))
    return found


# --- the lifecycle -----------------------------------------------------------------------------


def assign(
    archive: Archive,
    ref: str,
    assignee: str | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Stepped:
    """Hand the complaint to someone (default: the operator): → 处理中. The first step out of
    待处理 open is the company's response."""
    actor, when = archive.operator(), moment(archive, at)
    who = " ".join((assignee or actor).split())
    text = note.strip() or f"由 {who} 处理"
    return change_complaint(
        archive, ref, lambda c: step(c, "in_progress", actor, when, text, assignee=who)
    )


def resolve(
    archive: Archive,
    ref: str,
    resolution: str,
    *,
    compensation_fen: int = 0,
    rework_start: dt.datetime | None = None,
    rework_end: dt.datetime | None = None,
    rework_hours: Decimal | None = None,
    at: dt.datetime | None = None,
) -> Stepped:
    """→ 已解决 with what was done, any compensation, and a rework order from ``rework_start``
    (free of charge, linked both ways); the return visit after a complaint is scheduled too.
    One commit for all of them."""
    from hk.services.followups import after_complaint_visit
    from hk.services.orders.aftercare import build_rework

    if not resolution.strip():
        raise UsageError("say how the complaint was resolved", hint="--resolution …")
    if compensation_fen < 0:
        raise UsageError("--compensation must be 0 or more")
    if rework_start is None and (rework_end is not None or rework_hours is not None):
        raise UsageError(
            "--rework-end and --rework-hours go with --rework", hint="--rework 'YYYY-MM-DD HH:MM'"
        )
    actor, when = archive.operator(), moment(archive, at)
    complaint, loaded = load_complaint(archive, ref)
    code = code_of(archive, complaint.id) or complaint.id
    order = None
    if rework_start is not None:
        if complaint.order is None:
            raise HkError(
                "the complaint names no order to redo",
                hint="a rework order redoes the order complained of",
            )
        original, _ = load_order(archive, complaint.order)
        order = build_rework(
            archive,
            original,
            rework_start,
            end=rework_end,
            hours=rework_hours,
            note=f"投诉 {code} 返工",
            at=when,
        )
    try:
        resolved = step(
            complaint,
            "resolved",
            actor,
            when,
            resolution.strip(),
            resolution=resolution.strip(),
            compensation_fen=compensation_fen,
            rework=order.id if order is not None else None,
        )
    except ValidationError as exc:
        raise refused(exc) from None
    visit = after_complaint_visit(archive, resolved, when)
    records: list[tuple[Any, Loaded | None]] = [(resolved, loaded)]
    records += [(r, None) for r in (order, visit) if r is not None]
    return Stepped(
        resolved,
        save_together(archive, records),
        made=[r for r in (order, visit) if r is not None],
    )


def reject(archive: Archive, ref: str, reason: str, at: dt.datetime | None = None) -> Stepped:
    """Not upheld (the customer's account was wrong, not the company's doing): → 已驳回, with
    the reason as the resolution."""
    if not reason.strip():
        raise UsageError("say why the complaint is rejected", hint="--reason …")
    actor, when = archive.operator(), moment(archive, at)
    return change_complaint(
        archive,
        ref,
        lambda c: step(c, "rejected", actor, when, reason.strip(), resolution=reason.strip()),
    )
