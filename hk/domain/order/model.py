"""The order record (订单), SPEC §2: what was booked, where, when, for how much, and its history.

An order is written by machines far more often than by hand (every transition appends an event),
so its rules live here, in the model: a file that breaks them, however it was written, is refused
with the rule named. The status changes themselves are in :mod:`hk.domain.lifecycle`.

Money rules (all amounts integer fen):

- a line's gross is its charged quantity × unit price, rounded once (to the yuan at most),
  and its amount is the gross less what a package covered and the member discount;
- the total is the sum of the line amounts less the order's discount (never below zero);
- the deposit asked for is never more than the total;
- every payment is a positive amount; its kind says which way the money went (``refund`` is
  money given back, every other kind money received);
- refunds never exceed what was received, and what was received less refunds never exceeds
  the total: a payment that would take more than the order costs is refused, a refund makes
  room again;
- a cancellation fee is charged only on a cancelled order, never above the total, and
  ``cancellation_fee`` payments never exceed that fee.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from hk.domain.base import Record, Strict
from hk.domain.catalog import CATALOG_CODE, Unit
from hk.domain.common import Address, Gender, duplicates
from hk.domain.events import log_problem
from hk.domain.fields import Fen
from hk.domain.layout import LAYOUT, Kind
from hk.domain.order.status import TRANSITIONS, OrderStatus, label
from hk.domain.survey import Scores

RecordRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
"""The ID of another record (customer, worker, quote, contract, order)."""
PositiveFen = Annotated[int, Field(gt=0, description="money in fen (分), more than zero")]
Text = Annotated[str, Field(min_length=1)]
"""Non-empty text, checked in pydantic-core (the models strip whitespace first): orders are
many, and a Python validator per event shows in the time to index them all."""

Channel = Literal["phone", "wechat", "web", "walk_in", "platform"]
CHANNEL_ZH: dict[str, str] = {
    "phone": "电话",
    "wechat": "微信",
    "web": "网站",
    "walk_in": "到店",
    "platform": "平台",
}
PaymentKind = Literal["deposit", "final", "refund", "cancellation_fee"]
PAYMENT_KIND_ZH: dict[str, str] = {
    "deposit": "定金",
    "final": "尾款",
    "refund": "退款",
    "cancellation_fee": "取消费",
}
PaymentMethod = Literal["cash", "wechat", "alipay", "bank", "card"]
PAYMENT_METHOD_ZH: dict[str, str] = {
    "cash": "现金",
    "wechat": "微信",
    "alipay": "支付宝",
    "bank": "银行转账",
    "card": "刷卡",
}

RATED_STATUSES = ("completed", "settled")
"""A service can be rated once it is done."""


Quantity = Annotated[Decimal, Field(gt=0, le=10_000, decimal_places=2)]
"""Hours, visits, days, months or m², two decimals at most (2.25 hours, 85.5 m²); never float."""

WHOLE_UNITS = ("visit", "day", "month")
ROUNDING_SLACK_FEN = 50
"""How far a line's gross may sit from quantity × unit price: pricing rounds each amount half up
once, to the fen, jiao or yuan as the settings say, so never more than half a yuan."""


class OrderLine(Strict):
    """One service item of the order, as pricing priced it when the order was taken.

    Everything is copied at order time, so a later change in the catalog or the settings does
    not rewrite what the customer was told. The amounts explain themselves:
    ``gross − covered − discount = amount``, and ``gross`` is the charged quantity (at least the
    item's minimum, 钟点工 2 小时起) × the unit price, rounded once.
    """

    service: str = Field(pattern=CATALOG_CODE, description="catalog code of the service item")
    name: str = Field("", description="the item's name when ordered, for documents")
    quantity: Quantity = Field(description="as booked")
    charged_quantity: Quantity | None = Field(
        None, description="as charged, when a minimum made it more than booked"
    )
    unit: Unit
    unit_price_fen: Fen = Field(description="the unit price charged (agreed, or the catalog's)")
    gross_fen: Fen = Field(description="charged quantity × unit price")
    package_visits: int = Field(0, ge=0, description="visits a package covered")
    covered_fen: Fen = Field(0, description="what those visits would have cost")
    discount_fen: Fen = Field(0, description="the member (tier) discount on this line")
    amount_fen: Fen = Field(description="what the customer pays for this line")

    @field_validator("quantity", "charged_quantity")
    @classmethod
    def _one_text(cls, value: Decimal | None) -> Decimal | None:
        """One text per quantity: ``2.50`` is kept as ``2.5``, ``1E+2`` as ``100``."""
        return None if value is None else Decimal(format(value.normalize(), "f"))

    @model_validator(mode="after")
    def _amounts_add_up(self) -> OrderLine:
        charged = self.billed_quantity()
        if self.unit in WHOLE_UNITS and charged != charged.to_integral_value():
            raise ValueError(f"{self.unit}s are counted whole, not {charged}")
        if charged < self.quantity:
            raise ValueError(
                f"the charged quantity ({charged}) is less than booked ({self.quantity})"
            )
        exact = charged * self.unit_price_fen
        if abs(self.gross_fen - exact) > ROUNDING_SLACK_FEN:
            raise ValueError(
                f"gross_fen is {self.gross_fen} but {charged} × "
                f"{self.unit_price_fen} fen is {exact}"
            )
        if self.covered_fen and not self.package_visits:
            raise ValueError("covered_fen is what package visits cover; package_visits is 0")
        net = self.gross_fen - self.covered_fen - self.discount_fen
        if self.amount_fen != net:
            raise ValueError(
                f"amount_fen is {self.amount_fen} but gross {self.gross_fen} less "
                f"{self.covered_fen} covered and {self.discount_fen} discount is "
                f"{net}"
            )
        return self

    def billed_quantity(self) -> Decimal:
        """The quantity charged: the booked one unless a minimum raised it."""
        return self.quantity if self.charged_quantity is None else self.charged_quantity


class Window(Strict):
    """The appointment: when the service (or the worker's arrival) starts and ends."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Window:
        if self.end <= self.start:
            raise ValueError("the appointment ends before (or when) it starts")
        return self

    def duration(self) -> dt.timedelta:
        return self.end - self.start


class WorkerRequirements(Strict):
    """What the worker sent must have; dispatch checks workers against it."""

    gender: Gender | None = None
    age_min: int | None = Field(None, ge=16, le=80)
    age_max: int | None = Field(None, ge=16, le=80)
    skills: list[str] = Field(default_factory=list)
    certificates: list[str] = Field(default_factory=list, description="健康证, 育婴师 …")

    @model_validator(mode="after")
    def _age_range(self) -> WorkerRequirements:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min is above age_max")
        return self


class Payment(Strict):
    """Money that changed hands for this order; ``refund`` went back to the customer."""

    kind: PaymentKind
    amount_fen: PositiveFen
    method: PaymentMethod
    at: AwareDatetime
    note: str = ""


class Location(Strict):
    """Where an event happened: a place in words, coordinates from a phone, or both."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _something_and_both_coordinates(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if not self.text and self.lat is None:
            raise ValueError("a location needs a text or coordinates")
        return self


class OrderEvent(Strict):
    """One step of the order's history: who moved it from which state to which, and when.

    Frozen: an event, once in the log, never changes; the log only grows. The first event may
    have no ``from_status``: it records the order being taken.
    """

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    actor: Text = Field(description="the operator or worker who did it")
    from_status: OrderStatus | None = None
    to_status: OrderStatus
    note: str = ""
    location: Location | None = None


class ChecklistResult(Strict):
    """One acceptance item (验收清单) checked when the service is finished."""

    item: Text
    passed: bool
    note: str = ""


class Rating(Scores):
    """The customer's scores for this order, copied from its survey response."""

    at: AwareDatetime | None = None
    survey: RecordRef | None = Field(None, description="ID of the survey response, once kept")


class Order(Record):
    """An order: one booked service visit (or a few items in one visit) for one customer."""

    kind: ClassVar[Kind] = "order"
    folder: ClassVar[str] = LAYOUT["order"].folder
    code_prefix: ClassVar[str] = LAYOUT["order"].code_prefix
    label_zh: ClassVar[str] = "订单"

    status: OrderStatus = "pending"
    customer: RecordRef = Field(description="ID of the customer")
    address: Address = Field(description="the service address as it was when ordered")
    window: Window
    expected_minutes: int | None = Field(None, gt=0, le=60 * 24 * 31)
    lines: list[OrderLine] = Field(min_length=1)
    discount_fen: Fen = Field(0, description="off the whole order, beyond the lines' own")
    discount_note: str = Field("", description="why: 积分抵扣, 优惠券, 投诉补偿 …")
    total_fen: Fen
    deposit_fen: Fen = Field(0, description="deposit (定金) asked for")
    payments: list[Payment] = Field(default_factory=list)
    cancellation_fee_fen: Fen = 0
    channel: Channel
    requirements: WorkerRequirements = Field(default_factory=WorkerRequirements)
    workers: list[RecordRef] = Field(default_factory=list, description="assigned worker IDs")
    pinned_worker: RecordRef | None = Field(
        None, description="the worker an operator chose by hand; every dispatch plan keeps it"
    )
    planned_start: AwareDatetime | None = Field(
        None, description="when the applied dispatch plan has the service start (in the window)"
    )
    quote: RecordRef | None = None
    contract: RecordRef | None = None
    package: str | None = Field(None, pattern=CATALOG_CODE, description="package code")
    rework_of: RecordRef | None = Field(None, description="ID of the order this one redoes")
    checklist: list[ChecklistResult] = Field(default_factory=list)
    rating: Rating | None = None
    notes: str = ""
    events: list[OrderEvent] = Field(default_factory=list)

    @field_validator("address", mode="before")
    @classmethod
    def _own_copy(cls, address: object) -> object:
        """Never share the customer's Address object: later edits of theirs must not show here.

        Only an Address given as a model is copied; data read from a file is new anyway.
        """
        return address.model_dump() if isinstance(address, Address) else address

    @field_validator("workers")
    @classmethod
    def _each_worker_once(cls, workers: list[str]) -> list[str]:
        return list(dict.fromkeys(workers))

    @field_validator("checklist")
    @classmethod
    def _one_result_per_item(cls, results: list[ChecklistResult]) -> list[ChecklistResult]:
        dupes = duplicates([r.item for r in results])
        if dupes:
            raise ValueError("checklist item listed twice: " + ", ".join(dupes))
        return results

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        for problem in (self._history_problem(), self._status_problem(), self._money_problem()):
            if problem:
                raise ValueError(problem)
        return self

    def _money_problem(self) -> str | None:
        subtotal = self.subtotal_fen()
        if self.discount_fen > subtotal:
            return f"the discount ({self.discount_fen} fen) is more than the lines ({subtotal})"
        if self.total_fen != subtotal - self.discount_fen:
            return (
                f"total_fen is {self.total_fen} but the lines add up to {subtotal} fen"
                f" less a discount of {self.discount_fen} = {subtotal - self.discount_fen}"
            )
        if self.deposit_fen > self.total_fen:
            return f"the deposit ({self.deposit_fen} fen) is more than the total ({self.total_fen})"
        if self.cancellation_fee_fen > self.total_fen:
            return (
                f"the cancellation fee ({self.cancellation_fee_fen} fen) is more than the "
                f"total ({self.total_fen})"
            )
        return self._payments_problem() if self.payments else None

    def _payments_problem(self) -> str | None:
        received, refunded = self.received_fen(), self.refunded_fen()
        if refunded > received:
            return f"refunds ({refunded} fen) are more than was received ({received})"
        if received - refunded > self.total_fen:
            return (
                f"payments less refunds ({received - refunded} fen) are more than the "
                f"total ({self.total_fen})"
            )
        fees_paid = self._sum("cancellation_fee")
        if fees_paid > self.cancellation_fee_fen:
            return (
                f"cancellation fee payments ({fees_paid} fen) are more than the fee "
                f"({self.cancellation_fee_fen})"
            )
        return None

    def _history_problem(self) -> str | None:
        """The log must tell how the order got to its status: a chain from pending."""
        return log_problem(
            self.events,
            self.status,
            first="pending",
            transitions=TRANSITIONS,
            label=label,
            noun="order",
            first_rule=(
                "an order is taken as pending: only the first event lacks "
                "from_status, and it goes to pending"
            ),
        )

    def _status_problem(self) -> str | None:
        if self.status != "cancelled" and (
            self.cancellation_fee_fen or (self.payments and self._sum("cancellation_fee"))
        ):
            return "a cancellation fee belongs to a cancelled order only"
        if self.rating is not None and self.status not in RATED_STATUSES:
            return f"an order can be rated once the service is done, not while {label(self.status)}"
        if self.package is None and any(line.package_visits for line in self.lines):
            return "a line is covered by a package, but the order names no package"
        if self.rework_of is not None and self.rework_of == self.id:
            return "an order cannot be a rework of itself"
        if self.planned_start is not None and not (
            self.window.start <= self.planned_start <= self.window.end
        ):
            return "the planned start is outside the appointment window"
        return None

    # --- derived values --------------------------------------------------------------------

    def _sum(self, *kinds: str) -> int:
        return sum(p.amount_fen for p in self.payments if p.kind in kinds)

    def subtotal_fen(self) -> int:
        """The lines before the discount."""
        return sum(line.amount_fen for line in self.lines)

    def received_fen(self) -> int:
        """Money received from the customer (deposits, final payments, cancellation fees)."""
        return self._sum("deposit", "final", "cancellation_fee")

    def refunded_fen(self) -> int:
        return self._sum("refund")

    def amount_paid(self) -> int:
        """What the customer has paid, net of refunds."""
        return self.received_fen() - self.refunded_fen()

    def amount_due(self) -> int:
        """What the customer owes in all: the total, or only the fee once cancelled."""
        return self.cancellation_fee_fen if self.status == "cancelled" else self.total_fen

    def balance_due(self) -> int:
        """Still to pay; negative when the company owes a refund (a cancelled, prepaid order)."""
        return self.amount_due() - self.amount_paid()

    def deposit_outstanding(self) -> int:
        """Deposit asked for and not yet received (what the deposit reminder chases)."""
        if self.status == "cancelled":
            return 0
        return max(0, self.deposit_fen - self._sum("deposit"))

    def duration(self) -> dt.timedelta:
        """The length of the appointment window."""
        return self.window.duration()

    def service_span(self) -> tuple[dt.datetime, dt.datetime]:
        """When the service is planned to run: from the dispatch plan's start (else the
        window's) for the expected minutes (else to the window's end)."""
        start = self.planned_start or self.window.start
        if self.expected_minutes:
            return start, start + dt.timedelta(minutes=self.expected_minutes)
        return start, max(self.window.end, start)

    def actual_duration(self) -> dt.timedelta | None:
        """From the start of service to its completion, as the event log records them."""
        began = next((e.at for e in self.events if e.to_status == "in_service"), None)
        ended = next((e.at for e in self.events if e.to_status == "completed"), None)
        return None if began is None or ended is None else ended - began

    def is_late_cancellation(self, now: dt.datetime, hours: float) -> bool:
        """Cancelling at ``now`` is late if the start is less than ``hours`` away, or past.

        Exactly ``hours`` ahead is still in time: "cancel at least 24 hours ahead" is free.
        """
        return self.window.start - now < dt.timedelta(hours=hours)

    def checklist_passed(self) -> tuple[int, int]:
        """(items passed, items checked), for the checklist pass rate (SPEC §4)."""
        return sum(r.passed for r in self.checklist), len(self.checklist)

    def keeps_history_of(self, earlier: Order) -> bool:
        """True if this version's event log starts with every event of ``earlier``, unchanged.

        What a save of an edited order checks: the log is append-only across versions too.
        """
        return self.events[: len(earlier.events)] == earlier.events

    def services(self) -> list[str]:
        return list(dict.fromkeys(line.service for line in self.lines))

    # --- index -------------------------------------------------------------------------------

    def title(self) -> str:
        """Start and services (``2026-03-02 09:00 BJ-DAILY``): no personal data, sorts by date."""
        return f"{self.window.start:%Y-%m-%d %H:%M} {' '.join(self.services())}"

    def index_terms(self) -> dict[str, list[str]]:
        community = [self.address.community] if self.address.community else []
        return {
            "terms": [
                *self.services(),
                *(line.name for line in self.lines),
                *community,
                self.address.district,
            ],
            "tags": self.services(),
            "communities": community,
            "category": [self.status],
        }

    def index_day(self) -> str:
        """The appointment's day, in the appointment's own timezone."""
        return self.window.start.date().isoformat()

    def index_refs(self) -> list[str]:
        """Who and what the order links to: list filters (``ref``) find orders by any of them."""
        links = (self.quote, self.contract, self.rework_of)
        return [self.customer, *self.workers, *(link for link in links if link)]

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "start": self.window.start.isoformat(),
            "customer": self.customer,
            "workers": list(self.workers),
            "total_fen": self.total_fen,
            "services": self.services(),
            "channel": self.channel,
        }
