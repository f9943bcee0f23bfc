"""The return visit (回访), SPEC §2 and §4: a call, message, survey or home visit owed to a
customer, and what came of it.

A visit record exists for every visit someone *scheduled* — at the event that asked for it (a
low score, a resolved complaint, a worker replacement), or by hand — and for every visit
*done*. The regular cadence (the first visit after a new customer's first service, then every
three or six months) is computed from the customer's history by :mod:`hk.domain.visit.owed` and
becomes a record only when the operator logs or cancels it: a schedule that depends on how
many orders a customer has had would go stale in a file.

Lifecycle: 待回访 due → 已回访 done | 已取消 cancelled, each step one event; the log only grows.
A done visit says how (``method``), when and by whom, what came of it (``outcome``, follow-up
``actions``), and links the survey response (:class:`~hk.domain.survey.Survey`) that keeps
the scores, so satisfaction figures count visit scores and order ratings alike. A low score
at a visit schedules another visit; ``follow_up`` links it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from hk.domain.base import Record, Strict
from hk.domain.events import log_problem
from hk.domain.layout import LAYOUT, Kind
from hk.domain.lifecycle import IllegalStep, Lifecycle
from hk.errors import HkError

RecordRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Text = Annotated[str, Field(min_length=1)]

VisitType = Literal["first", "periodic", "after_complaint", "new_worker", "renewal", "low_score"]
TYPES: tuple[VisitType, ...] = (
    "first",
    "periodic",
    "after_complaint",
    "new_worker",
    "renewal",
    "low_score",
)
TYPE_ZH: dict[str, str] = {
    "first": "首次回访",
    "periodic": "定期回访",
    "after_complaint": "投诉后回访",
    "new_worker": "换人回访",
    "renewal": "续约回访",
    "low_score": "低分回访",
}
CADENCE: tuple[VisitType, ...] = ("first", "periodic")
"""The types the rules compute; the others are written when their event happens."""

VisitStatus = Literal["due", "done", "cancelled"]
STATUSES: tuple[VisitStatus, ...] = ("due", "done", "cancelled")
STATUS_ZH: dict[str, str] = {"due": "待回访", "done": "已回访", "cancelled": "已取消"}
TRANSITIONS: dict[str, tuple[VisitStatus, ...]] = {
    "due": ("done", "cancelled"),
    "done": (),
    "cancelled": (),
}

Method = Literal["phone", "wechat", "survey", "onsite"]
METHOD_ZH: dict[str, str] = {
    "phone": "电话",
    "wechat": "微信",
    "survey": "在线问卷",
    "onsite": "上门",
}
SURVEY_CHANNEL: dict[str, str] = {
    "phone": "phone",
    "wechat": "wechat",
    "survey": "online",
    "onsite": "onsite",
}
"""The survey channel (:data:`hk.domain.survey.SurveyChannel`) a visit's scores come in by."""


class VisitError(HkError):
    """A visit rule refuses the change: a step the lifecycle does not allow."""


class IllegalVisitStep(IllegalStep, VisitError):
    """A move the table does not allow; the message names the moves that are."""


VISIT: Lifecycle[VisitStatus] = Lifecycle(
    "visit", STATUS_ZH, TRANSITIONS, VisitError, IllegalVisitStep
)
"""The return visit's lifecycle (SPEC §4)."""
label = VISIT.label


class VisitEvent(Strict):
    """One step of the visit's history; frozen, and the log only grows."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    actor: Text
    from_status: VisitStatus | None = None
    to_status: VisitStatus
    note: str = ""


class Visit(Record):
    """A return visit to one customer: why, by when, and — once done — how it went."""

    kind: ClassVar[Kind] = "visit"
    folder: ClassVar[str] = LAYOUT["visit"].folder
    code_prefix: ClassVar[str] = LAYOUT["visit"].code_prefix
    label_zh: ClassVar[str] = "回访"

    customer: RecordRef
    type: VisitType
    due: dt.date = Field(description="the last day it should be done by")
    status: VisitStatus = "due"
    reason: str = Field("", description="why it was scheduled: 评分偏低, 投诉已解决 …")
    order: RecordRef | None = Field(None, description="the order it follows up")
    contract: RecordRef | None = Field(None, description="the contract it follows up")
    complaint: RecordRef | None = Field(None, description="the complaint it follows up")
    worker: RecordRef | None = Field(None, description="the worker it is about")
    trigger_survey: RecordRef | None = Field(
        None, description="the survey response whose low score asked for it"
    )
    method: Method | None = None
    done_at: AwareDatetime | None = None
    done_by: str = Field("", description="the operator who made the visit")
    outcome: str = Field("", description="what the customer said; what was agreed")
    survey: RecordRef | None = Field(None, description="the scores given at the visit")
    actions: list[Text] = Field(default_factory=list, description="follow-up actions")
    follow_up: RecordRef | None = Field(
        None, description="the visit a low score at this one scheduled"
    )
    events: list[VisitEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Visit:
        for problem in (self._done_problem(), self._history_problem()):
            if problem:
                raise ValueError(problem)
        return self

    def _done_problem(self) -> str | None:
        done = self.status == "done"
        if done and (self.method is None or self.done_at is None or not self.done_by):
            return "a done visit says how (method), when (done_at) and by whom (done_by)"
        if not done and (
            self.method or self.done_at or self.done_by or self.survey or self.follow_up
        ):
            return (
                "only a done visit has a method, done_at, done_by, survey or follow_up; "
                f"this one is {label(self.status)}"
            )
        if self.follow_up is not None and self.follow_up == self.id:
            return "a visit cannot be its own follow-up"
        return None

    def _history_problem(self) -> str | None:
        return log_problem(
            self.events,
            self.status,
            first="due",
            transitions=TRANSITIONS,
            label=label,
            noun="visit",
            first_rule=(
                "a visit is made due: only the first event lacks from_status, and it goes to due"
            ),
        )

    # --- derived values --------------------------------------------------------------------

    def done_day(self) -> dt.date | None:
        """The day it was done, in the timezone it was recorded in."""
        return self.done_at.date() if self.done_at is not None else None

    def days_overdue(self, day: dt.date) -> int:
        """Days past ``due`` on ``day`` (0 when not yet due or no longer open)."""
        return max(0, (day - self.due).days) if self.status == "due" else 0

    def keeps_history_of(self, earlier: Visit) -> bool:
        return self.events[: len(earlier.events)] == earlier.events

    # --- index -------------------------------------------------------------------------------

    def title(self) -> str:
        """Due day and type (``2026-03-09 首次回访``): no personal data."""
        return f"{self.due.isoformat()} {TYPE_ZH[self.type]}"

    def index_terms(self) -> dict[str, list[str]]:
        terms = [TYPE_ZH[self.type], self.reason, self.outcome, *self.actions]
        return {
            "terms": [t for t in terms if t],
            "tags": [self.type],
            "communities": [],
            "category": [self.status],
        }

    def index_day(self) -> str:
        """The due day: what ``hk visit due`` and the reminders look for."""
        return self.due.isoformat()

    def index_refs(self) -> list[str]:
        links = (
            self.order,
            self.contract,
            self.complaint,
            self.worker,
            self.trigger_survey,
            self.survey,
            self.follow_up,
        )
        return [self.customer, *(link for link in links if link)]

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "type": self.type,
            "due": self.due.isoformat(),
            "customer": self.customer,
            "order": self.order,
            "contract": self.contract,
            "complaint": self.complaint,
            "worker": self.worker,
            "reason": self.reason,
            "method": self.method,
            "done_at": self.done_at.isoformat() if self.done_at else None,
            "done_by": self.done_by,
            "survey": self.survey,
            "follow_up": self.follow_up,
        }


def made_event(actor: str, at: dt.datetime, note: str = "") -> VisitEvent:
    """The first event of a new visit: scheduled by ``actor`` at ``at``, due."""
    return VisitEvent(at=at, actor=actor, to_status="due", note=note)


def step(
    visit: Visit, to: str, actor: str, at: dt.datetime, note: str = "", **changes: Any
) -> Visit:
    """A new visit in state ``to`` with one event appended (and ``changes``: the method,
    outcome, survey … of a done visit); ``visit`` itself is unchanged.

    Refuses a move the table does not allow, naming those it does, and an event dated before
    the last.
    """
    VISIT.check(visit.status, to)
    if visit.events and at < visit.events[-1].at:
        raise VisitError(
            "the event is dated before the visit's last event", hint="give a later --at"
        )
    event = VisitEvent(at=at, actor=actor, from_status=visit.status, to_status=to, note=note)
    data = {name: getattr(visit, name) for name in Visit.model_fields}
    data.update(changes)
    data.update(status=to, updated=at, events=[*visit.events, event])
    return Visit.model_validate(data)
