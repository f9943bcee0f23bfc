"""The complaint (投诉), SPEC §2–§4: what a customer complained of, who handles it, by when the
company must answer, and how it ended.

Lifecycle (:data:`TRANSITIONS`): 待处理 open → 处理中 in_progress → 已解决 resolved | 已驳回
rejected; an open complaint may be resolved or rejected at once (settled on the phone), and an
in-progress one may change hands (in_progress → in_progress, a reassignment). Every step is
an event; the log only grows.

The response SLA. ``response_due`` is ``received_at`` plus ``[reminders] complaint_sla_hours``
(fixed when the complaint is opened, so a later change of the setting does not move a promise
already made). The company has *responded* when the complaint first leaves 待处理 open — taken
on by someone, resolved or rejected. An open complaint is *near* its deadline in the last
quarter of its response time (the last 6 hours of 24) and *overdue* after it
(:meth:`Complaint.sla_state`).

Resolution keeps what was done (``resolution``), any compensation (integer fen; how it was
paid is the order's business) and the rework order (返工) made for it, linked both ways:
``rework`` here, and the rework order's ``rework_of`` the original order.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from hk.domain.base import Record, Strict
from hk.domain.events import log_problem
from hk.domain.fields import Fen
from hk.domain.layout import LAYOUT, Kind
from hk.domain.lifecycle import IllegalStep, Lifecycle
from hk.errors import HkError

RecordRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Text = Annotated[str, Field(min_length=1)]

Category = Literal["quality", "attitude", "punctuality", "damage", "safety", "billing", "other"]
CATEGORY_ZH: dict[str, str] = {
    "quality": "服务质量",
    "attitude": "服务态度",
    "punctuality": "迟到爽约",
    "damage": "物品损坏",
    "safety": "安全问题",
    "billing": "收费问题",
    "other": "其他",
}
Severity = Literal["minor", "normal", "serious"]
SEVERITY_ZH: dict[str, str] = {"minor": "轻微", "normal": "一般", "serious": "严重"}
Received = Literal["phone", "wechat", "visit", "platform", "walk_in", "other"]
RECEIVED_ZH: dict[str, str] = {
    "phone": "电话",
    "wechat": "微信",
    "visit": "回访",
    "platform": "平台",
    "walk_in": "到店",
    "other": "其他",
}

ComplaintStatus = Literal["open", "in_progress", "resolved", "rejected"]
STATUSES: tuple[ComplaintStatus, ...] = ("open", "in_progress", "resolved", "rejected")
STATUS_ZH: dict[str, str] = {
    "open": "待处理",
    "in_progress": "处理中",
    "resolved": "已解决",
    "rejected": "已驳回",
}
TRANSITIONS: dict[str, tuple[ComplaintStatus, ...]] = {
    "open": ("in_progress", "resolved", "rejected"),
    "in_progress": ("in_progress", "resolved", "rejected"),
    "resolved": (),
    "rejected": (),
}
"""Every allowed move; in_progress → in_progress hands the complaint to someone else."""
CLOSED = ("resolved", "rejected")

SlaState = Literal["running", "near", "overdue", "met", "late"]
SLA_ZH: dict[str, str] = {
    "running": "处理时限内",
    "near": "即将超时",
    "overdue": "已超时",
    "met": "按时响应",
    "late": "超时响应",
}
NEAR_FRACTION = 4
"""An open complaint is near its deadline in the last 1/4 of its response time."""


class ComplaintError(HkError):
    """A complaint rule refuses the change: a step the lifecycle does not allow."""


class IllegalComplaintStep(IllegalStep, ComplaintError):
    """A move the table does not allow; the message names the moves that are."""


COMPLAINT: Lifecycle[ComplaintStatus] = Lifecycle(
    "complaint", STATUS_ZH, TRANSITIONS, ComplaintError, IllegalComplaintStep
)
"""The complaint lifecycle (SPEC §3)."""
label = COMPLAINT.label


class ComplaintEvent(Strict):
    """One step of the complaint's history; frozen, and the log only grows."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    actor: Text
    from_status: ComplaintStatus | None = None
    to_status: ComplaintStatus
    note: str = ""


class Complaint(Record):
    """A customer's complaint about an order or a worker, with its handling."""

    kind: ClassVar[Kind] = "complaint"
    folder: ClassVar[str] = LAYOUT["complaint"].folder
    code_prefix: ClassVar[str] = LAYOUT["complaint"].code_prefix
    label_zh: ClassVar[str] = "投诉"

    customer: RecordRef
    order: RecordRef | None = Field(None, description="the order complained of")
    worker: RecordRef | None = Field(None, description="the worker complained of")
    visit: RecordRef | None = Field(None, description="the return visit it came up at")
    category: Category
    severity: Severity = "normal"
    received_via: Received = "phone"
    description: Text = Field(description="what the customer complained of, in their words")
    received_at: AwareDatetime
    response_due: AwareDatetime = Field(description="answer by then (response SLA)")
    status: ComplaintStatus = "open"
    assignee: str = Field("", description="who handles it")
    resolution: str = Field("", description="what was done, or why it was rejected")
    compensation_fen: Fen = Field(0, description="compensation (赔偿) agreed")
    rework: RecordRef | None = Field(None, description="the rework order (返工) made for it")
    events: list[ComplaintEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Complaint:
        for problem in (self._time_problem(), self._closing_problem(), self._history_problem()):
            if problem:
                raise ValueError(problem)
        return self

    def _time_problem(self) -> str | None:
        if self.response_due <= self.received_at:
            return "response_due must be after received_at"
        return None

    def _closing_problem(self) -> str | None:
        if self.status in CLOSED and not self.resolution:
            return f"a {self.status} complaint says how it ended (resolution)"
        if self.status != "resolved" and (self.compensation_fen or self.rework):
            return (
                "compensation and a rework order come with the resolution; this complaint "
                f"is {label(self.status)}"
            )
        if self.rework is not None and self.order is None:
            return "a rework order redoes the order complained of; the complaint names none"
        if self.status == "in_progress" and not self.assignee:
            return "a complaint in progress names who handles it (assignee)"
        return None

    def _history_problem(self) -> str | None:
        return log_problem(
            self.events,
            self.status,
            first="open",
            transitions=TRANSITIONS,
            label=label,
            noun="complaint",
            first_rule=(
                "a complaint is made open: only the first event lacks "
                "from_status, and it goes to open"
            ),
        )

    # --- derived values --------------------------------------------------------------------

    def responded_at(self) -> dt.datetime | None:
        """When it first left 待处理 open (taken on, resolved or rejected), or None."""
        return next((e.at for e in self.events if e.from_status == "open"), None)

    def closed_at(self) -> dt.datetime | None:
        if self.status not in CLOSED or not self.events:
            return None
        return self.events[-1].at

    def sla_state(self, now: dt.datetime) -> SlaState:
        """``met``/``late`` once answered; else ``overdue``, ``near`` (last quarter) or
        ``running``."""
        return sla_state(self.received_at, self.response_due, self.responded_at(), now)

    def keeps_history_of(self, earlier: Complaint) -> bool:
        return self.events[: len(earlier.events)] == earlier.events

    # --- index -------------------------------------------------------------------------------

    def title(self) -> str:
        """Day received and category (``2026-03-02 服务质量``): no personal data."""
        return f"{self.received_at:%Y-%m-%d} {CATEGORY_ZH[self.category]}"

    def index_terms(self) -> dict[str, list[str]]:
        terms = [CATEGORY_ZH[self.category], self.description, self.resolution, self.assignee]
        return {
            "terms": [t for t in terms if t],
            "tags": [self.category, self.severity],
            "communities": [],
            "category": [self.status],
        }

    def index_day(self) -> str:
        return self.received_at.date().isoformat()

    def index_refs(self) -> list[str]:
        links = (self.order, self.worker, self.visit, self.rework)
        return [self.customer, *(link for link in links if link)]

    def summary(self) -> dict[str, Any]:
        responded, closed = self.responded_at(), self.closed_at()
        return {
            "status": self.status,
            "category": self.category,
            "severity": self.severity,
            "customer": self.customer,
            "order": self.order,
            "worker": self.worker,
            "received_at": self.received_at.isoformat(),
            "response_due": self.response_due.isoformat(),
            "responded_at": responded.isoformat() if responded else None,
            "closed_at": closed.isoformat() if closed else None,
            "assignee": self.assignee,
            "compensation_fen": self.compensation_fen,
            "rework": self.rework,
        }


def made_event(actor: str, at: dt.datetime, note: str = "") -> ComplaintEvent:
    """The first event of a new complaint: received by ``actor`` at ``at``, open."""
    return ComplaintEvent(at=at, actor=actor, to_status="open", note=note)


def step(
    complaint: Complaint, to: str, actor: str, at: dt.datetime, note: str = "", **changes: Any
) -> Complaint:
    """A new complaint in state ``to`` with one event appended (and ``changes``: assignee,
    resolution, compensation, rework); ``complaint`` itself is unchanged.

    Refuses a move the table does not allow (naming those it does) and an event dated before
    the last.
    """
    COMPLAINT.check(complaint.status, to)
    if complaint.events and at < complaint.events[-1].at:
        raise ComplaintError(
            "the event is dated before the complaint's last event", hint="give a later --at"
        )
    event = ComplaintEvent(
        at=at, actor=actor, from_status=complaint.status, to_status=to, note=note
    )
    data = {name: getattr(complaint, name) for name in Complaint.model_fields}
    data.update(changes)
    data.update(status=to, updated=at, events=[*complaint.events, event])
    return Complaint.model_validate(data)


def sla_state(
    received_at: dt.datetime, due: dt.datetime, responded_at: dt.datetime | None, now: dt.datetime
) -> SlaState:
    """Where a complaint stands against its response deadline at ``now`` (see the module)."""
    if responded_at is not None:
        return "met" if responded_at <= due else "late"
    if now > due:
        return "overdue"
    near = (due - received_at) / NEAR_FRACTION
    return "near" if due - now <= near else "running"


def response_due(received_at: dt.datetime, sla_hours: int) -> dt.datetime:
    """``received_at`` plus the response SLA (``[reminders] complaint_sla_hours``; an hour at
    least, so that a setting of 0 still leaves a deadline after the complaint came in)."""
    return received_at + dt.timedelta(hours=max(sla_hours, 1))
