"""The quote record (报价单), SPEC §2: what the company offers a customer, for how much, until when.

A quote is priced by :func:`hk.domain.pricing.price_lines`, like the order it may turn into, and
keeps the priced amounts as they were told to the customer. Its states are 草稿 draft →
已发送 sent → 已接受 accepted | 已拒绝 rejected; 已过期 expired is never stored: a draft or sent
quote whose ``valid_until`` has passed *shows* as expired and can no longer be accepted.

Recurring lines. A line may repeat (每周2次, 每月4次); its amounts are those of one visit, and
the quote counts the visits of one month: ``times`` per month, or ``times × 4`` per week (four
weeks to the month, as 月度套餐 count them). A one-off line is one visit. So the quote's total is
what the customer pays for the one-off services plus the first month of the recurring ones, and
every amount on the printed quote adds up.

Money rules (integer fen): a line's gross is its charged quantity × unit price (rounded once),
its amount is gross less the member (tier) discount; the quote's total is the sum of amount ×
visits over the lines, less an extra discount (never below zero); the deposit never exceeds the
total.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from hk.domain.base import Record, Strict
from hk.domain.catalog import CATALOG_CODE, UNIT_ZH, Unit
from hk.domain.common import Address
from hk.domain.events import log_problem
from hk.domain.fields import Fen
from hk.domain.layout import LAYOUT, Kind
from hk.domain.lifecycle import IllegalStep, Lifecycle
from hk.errors import HkError

RecordRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Quantity = Annotated[Decimal, Field(gt=0, le=10_000, decimal_places=2)]
Text = Annotated[str, Field(min_length=1)]

QuoteStatus = Literal["draft", "sent", "accepted", "rejected"]
STATUSES: tuple[QuoteStatus, ...] = ("draft", "sent", "accepted", "rejected")
SHOWN_STATUSES = (*STATUSES, "expired")
"""What listings show and filter by: the stored states and the derived 已过期 expired."""
STATUS_ZH: dict[str, str] = {
    "draft": "草稿",
    "sent": "已发送",
    "accepted": "已接受",
    "rejected": "已拒绝",
    "expired": "已过期",
}
TRANSITIONS: dict[str, tuple[QuoteStatus, ...]] = {
    "draft": ("sent", "rejected"),
    "sent": ("sent", "accepted", "rejected"),
    "accepted": (),
    "rejected": (),
}
"""Every allowed move; sent → sent is sending it again (the customer lost it, another channel)."""
OPEN = ("draft", "sent")
"""States in which a quote can pass its validity and expire."""

SendVia = Literal["wechat", "email", "print", "sms"]
VIA_ZH: dict[str, str] = {"wechat": "微信", "email": "邮件", "print": "打印", "sms": "短信"}

Period = Literal["week", "month"]
PERIOD_ZH = {"week": "每周", "month": "每月"}
WEEKS_PER_MONTH = 4
ROUNDING_SLACK_FEN = 50
"""Pricing rounds each amount once, to the fen, jiao or yuan: never more than half a yuan."""


class QuoteError(HkError):
    """A quote rule refuses the change: a step the lifecycle does not allow, an expired quote."""


class IllegalQuoteStep(IllegalStep, QuoteError):
    """A move the table does not allow; the message names the moves that are."""


QUOTE: Lifecycle[QuoteStatus] = Lifecycle(
    "quote", STATUS_ZH, TRANSITIONS, QuoteError, IllegalQuoteStep
)
"""The quote lifecycle (SPEC §3)."""
label = QUOTE.label


class Frequency(Strict):
    """How often a line's service repeats: ``times`` per week or per month."""

    model_config = ConfigDict(frozen=True)

    times: int = Field(ge=1, le=31)
    per: Period

    def visits_per_month(self) -> int:
        return self.times * (WEEKS_PER_MONTH if self.per == "week" else 1)

    def zh(self) -> str:
        """``每周2次``."""
        return f"{PERIOD_ZH[self.per]}{self.times}次"


def parse_frequency(text: str) -> Frequency | None:
    """``每周1次``, ``每月4次``, ``weekly:1``, ``monthly:4``; ``once``/``一次性`` is None."""
    value = text.strip().lower().replace("：", ":").replace(" ", "")
    if value in ("", "once", "one-off", "oneoff", "一次", "一次性", "单次"):
        return None
    per, times = "", ""
    for prefix, period in (
        ("weekly:", "week"),
        ("monthly:", "month"),
        ("每周", "week"),
        ("每月", "month"),
    ):
        if value.startswith(prefix):
            per, times = period, value[len(prefix) :].removesuffix("次")
            break
    if value in ("weekly", "每周"):
        per, times = "week", "1"
    elif value in ("monthly", "每月"):
        per, times = "month", "1"
    if not per or not times.isdigit() or not 1 <= int(times) <= 31:
        raise QuoteError(
            f"'{text}' is not a frequency",
            hint="write once, weekly:N, monthly:N, 每周N次 or 每月N次",
        )
    return Frequency(times=int(times), per="week" if per == "week" else "month")


def frequency_zh(frequency: Frequency | None) -> str:
    return frequency.zh() if frequency is not None else "一次性"


class QuoteLine(Strict):
    """One catalog item of the quote, priced per visit as pricing priced it.

    ``quantity`` is in the item's unit: hours, visits, days, months, or the area in m² for
    items priced per m² (深度保洁 120 平方米). ``gross − discount = amount``, for one visit.
    """

    service: str = Field(pattern=CATALOG_CODE, description="catalog code of the service item")
    name: str = Field("", description="the item's name when quoted")
    quantity: Quantity = Field(description="per visit, in the item's unit (m²: the area)")
    charged_quantity: Quantity | None = Field(
        None, description="as charged, when a minimum made it more than quoted"
    )
    unit: Unit
    list_price_fen: Fen = Field(description="the catalog's unit price when quoted")
    unit_price_fen: Fen = Field(description="the unit price quoted (agreed, or the catalog's)")
    gross_fen: Fen = Field(description="charged quantity × unit price, one visit")
    discount_fen: Fen = Field(0, description="the member (tier) discount, one visit")
    amount_fen: Fen = Field(description="what one visit costs the customer")
    frequency: Frequency | None = Field(None, description="how often it repeats; none: once")

    @field_validator("quantity", "charged_quantity")
    @classmethod
    def _one_text(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else Decimal(format(value.normalize(), "f"))

    @model_validator(mode="after")
    def _amounts_add_up(self) -> QuoteLine:
        charged = self.billed_quantity()
        if charged < self.quantity:
            raise ValueError(
                f"the charged quantity ({charged}) is less than quoted ({self.quantity})"
            )
        exact = charged * self.unit_price_fen
        if abs(self.gross_fen - exact) > ROUNDING_SLACK_FEN:
            raise ValueError(
                f"gross_fen is {self.gross_fen} but {charged} × "
                f"{self.unit_price_fen} fen is {exact}"
            )
        net = self.gross_fen - self.discount_fen
        if self.amount_fen != net:
            raise ValueError(
                f"amount_fen is {self.amount_fen} but gross {self.gross_fen} less "
                f"{self.discount_fen} discount is {net}"
            )
        return self

    def billed_quantity(self) -> Decimal:
        return self.quantity if self.charged_quantity is None else self.charged_quantity

    def visits(self) -> int:
        """Visits the quote counts: one, or one month of a recurring service."""
        return 1 if self.frequency is None else self.frequency.visits_per_month()

    def total_fen(self) -> int:
        return self.amount_fen * self.visits()

    def unit_zh(self) -> str:
        return UNIT_ZH[self.unit]


class QuoteEvent(Strict):
    """One step of the quote's history; frozen, and the log only grows.

    A send keeps how (``via``), to whom (``recipient``) and the SHA-256 of the document sent,
    so what the customer was shown can be proven later.
    """

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    actor: Text
    from_status: QuoteStatus | None = None
    to_status: QuoteStatus
    note: str = ""
    via: SendVia | None = None
    recipient: str = Field("", description="who it was sent to: customer …")
    digest: str = Field(
        "", pattern=r"^([0-9a-f]{64})?$", description="SHA-256 of the Markdown document sent"
    )


class Quote(Record):
    """A quote: priced lines for one customer, valid until a day, with its history."""

    kind: ClassVar[Kind] = "quote"
    folder: ClassVar[str] = LAYOUT["quote"].folder
    code_prefix: ClassVar[str] = LAYOUT["quote"].code_prefix
    label_zh: ClassVar[str] = "报价单"

    status: QuoteStatus = "draft"
    customer: RecordRef = Field(description="ID of the customer")
    address: Address = Field(description="the service address as it was when quoted")
    tier: str = Field("", description="the customer's tier when priced (会员等级)")
    lines: list[QuoteLine] = Field(min_length=1)
    discount_fen: Fen = Field(0, description="extra discount off the whole quote")
    discount_note: str = Field("", description="why: 新客优惠, 老客户介绍 …")
    total_fen: Fen
    deposit_fen: Fen = Field(0, description="deposit (定金) asked for on acceptance")
    valid_until: dt.date
    notes: str = ""
    events: list[QuoteEvent] = Field(default_factory=list)
    orders: list[RecordRef] = Field(default_factory=list, description="orders it turned into")
    contract: RecordRef | None = Field(None, description="the contract it turned into")

    @field_validator("address", mode="before")
    @classmethod
    def _own_copy(cls, address: object) -> object:
        return address.model_dump() if isinstance(address, Address) else address

    @model_validator(mode="after")
    def _consistent(self) -> Quote:
        for problem in (self._money_problem(), self._history_problem(), self._link_problem()):
            if problem:
                raise ValueError(problem)
        return self

    def _money_problem(self) -> str | None:
        lines = self.lines_fen()
        if self.discount_fen and not self.discount_note:
            return "an extra discount needs a note saying why (discount_note)"
        if self.discount_fen > lines:
            return f"the discount ({self.discount_fen} fen) is more than the lines ({lines})"
        if self.total_fen != lines - self.discount_fen:
            return (
                f"total_fen is {self.total_fen} but the lines add up to {lines} fen less a "
                f"discount of {self.discount_fen} = {lines - self.discount_fen}"
            )
        if self.deposit_fen > self.total_fen:
            return f"the deposit ({self.deposit_fen} fen) is more than the total ({self.total_fen})"
        return None

    def _history_problem(self) -> str | None:
        return log_problem(
            self.events,
            self.status,
            first="draft",
            transitions=TRANSITIONS,
            label=label,
            noun="quote",
            first_rule=(
                "a quote is made as a draft: only the first event lacks "
                "from_status, and it goes to draft"
            ),
        )

    def _link_problem(self) -> str | None:
        if (self.orders or self.contract) and self.status != "accepted":
            return "only an accepted quote links to the orders or contract it turned into"
        if len(set(self.orders)) != len(self.orders):
            return "an order is linked twice"
        return None

    # --- derived values --------------------------------------------------------------------

    def lines_fen(self) -> int:
        """The lines (one month of the recurring ones) before the extra discount."""
        return sum(line.total_fen() for line in self.lines)

    def gross_fen(self) -> int:
        return sum(line.gross_fen * line.visits() for line in self.lines)

    def tier_discount_fen(self) -> int:
        return sum(line.discount_fen * line.visits() for line in self.lines)

    def recurring(self) -> bool:
        return any(line.frequency is not None for line in self.lines)

    def expired(self, today: dt.date) -> bool:
        """Open (draft or sent) and past its last valid day."""
        return self.status in OPEN and today > self.valid_until

    def shown_status(self, today: dt.date) -> str:
        """The status a person sees: the stored one, or 已过期 expired."""
        return "expired" if self.expired(today) else self.status

    def services(self) -> list[str]:
        return list(dict.fromkeys(line.service for line in self.lines))

    def sent_events(self) -> list[QuoteEvent]:
        return [e for e in self.events if e.to_status == "sent"]

    def keeps_history_of(self, earlier: Quote) -> bool:
        return self.events[: len(earlier.events)] == earlier.events

    # --- index -------------------------------------------------------------------------------

    def title(self) -> str:
        """Day quoted and services (``2026-03-02 BJ-DEEP JD-AC``): no personal data."""
        return f"{self.created:%Y-%m-%d} {' '.join(self.services())}"

    def index_terms(self) -> dict[str, list[str]]:
        community = [self.address.community] if self.address.community else []
        return {
            "terms": [*self.services(), *(line.name for line in self.lines), *community],
            "tags": self.services(),
            "communities": community,
            "category": [self.status],
        }

    def index_day(self) -> str:
        """The last valid day: what the expiry reminder and the listing look at."""
        return self.valid_until.isoformat()

    def index_refs(self) -> list[str]:
        return [self.customer, *self.orders, *([self.contract] if self.contract else [])]

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "customer": self.customer,
            "valid_until": self.valid_until.isoformat(),
            "total_fen": self.total_fen,
            "services": self.services(),
            "created": self.created.isoformat(),
        }


def step(
    quote: Quote,
    to: str,
    actor: str,
    at: dt.datetime,
    note: str = "",
    today: dt.date | None = None,
    links: dict[str, Any] | None = None,
    **event: Any,
) -> Quote:
    """A new quote in state ``to`` with one event appended; ``quote`` itself is unchanged.

    ``links`` sets ``orders``/``contract`` with the step (acceptance); ``event`` adds the
    event's ``via``, ``recipient`` and ``digest`` (a send).

    Refuses a move the table does not allow (naming those it does), sending or accepting an
    expired quote (``today`` past ``valid_until``), and an event dated before the last.
    """
    QUOTE.check(quote.status, to)
    day = today if today is not None else at.date()
    if to in ("sent", "accepted") and quote.expired(day):
        raise QuoteError(
            f"the quote expired on {quote.valid_until.isoformat()} (已过期); it cannot be "
            f"{'sent' if to == 'sent' else 'accepted'}",
            hint="make a new quote with hk quote new (prices may have changed)",
        )
    if quote.events and at < quote.events[-1].at:
        raise QuoteError("the event is dated before the quote's last event")
    new_event = QuoteEvent(
        at=at, actor=actor, from_status=quote.status, to_status=to, note=note, **event
    )
    data = {name: getattr(quote, name) for name in Quote.model_fields}
    data.update(links or {})
    data.update(status=to, updated=at, events=[*quote.events, new_event])
    return Quote.model_validate(data)


def made_event(actor: str, at: dt.datetime, note: str = "") -> QuoteEvent:
    """The first event of a new quote: made by ``actor`` at ``at``, as a draft."""
    return QuoteEvent(at=at, actor=actor, to_status="draft", note=note)
