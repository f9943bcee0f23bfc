"""The contract record (合同), SPEC §2–§3: a long-term placement or a package/service agreement.

A contract has two parts, and the line between them is the point of this module:

- **the terms** (:data:`TERMS_FIELDS`): parties, dates, service, schedule, fees, insurance,
  replacement and termination clauses. They are what the rendered document says, and what a
  signature's SHA-256 covers. The parties' names and contacts (and the company's) are *copied*
  into the contract when it is drafted, like an order copies its address: a customer who later
  changes their phone number must not change a signed document.
- **what happened to it** since: status, signatures, worker replacements (更换阿姨),
  termination, the renewal link forward, the event log. None of it is in the signed text, so
  re-rendering a contract gives the same bytes for as long as its terms are unchanged, however
  often it is signed, activated or has its worker replaced.

A replacement happens after signing and does not rewrite what was signed: ``worker`` (and
``parties.worker``) stay the worker named in the signed terms, and :meth:`Contract.current_worker`
is the last replacement's new worker. The printed document shows replacements in an appendix
(附件) after the signed text.

Lifecycle (:data:`TRANSITIONS`): 草稿 draft → 已签署 signed (by itself, once every required party
has signed) → 生效 active → 已续签 renewed | 已到期 expired | 已终止 terminated; a signed contract
may be terminated before it starts. ``expired`` is derived (:meth:`Contract.status_on`): an
active contract whose end date has passed shows as expired without anyone saving it. Every step
— a signature and a replacement too, which leave the status as it is — appends an event; the
log only grows.

Money is integer fen. A placement's service fee is per month (the worker's monthly pay), a
package's is the package price for the whole term, a service contract's is per visit
(:attr:`Contract.fee_unit`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from hk.domain.base import Record, Strict
from hk.domain.catalog import CATALOG_CODE, Unit
from hk.domain.common import Address, duplicates
from hk.domain.events import log_problem
from hk.domain.fields import Fen, NonEmpty
from hk.domain.layout import LAYOUT, Kind
from hk.domain.lifecycle import IllegalStep, Lifecycle
from hk.domain.order.model import PAYMENT_METHOD_ZH, PaymentMethod, Quantity, RecordRef
from hk.domain.schedule import Schedule
from hk.errors import HkError

ContractType = Literal["placement", "package", "service"]
TYPE_ZH: dict[str, str] = {
    "placement": "家政服务（派驻）",
    "package": "套餐服务",
    "service": "周期服务",
}
ContractStatus = Literal["draft", "signed", "active", "renewed", "expired", "terminated"]
STATUSES: tuple[ContractStatus, ...] = (
    "draft",
    "signed",
    "active",
    "renewed",
    "expired",
    "terminated",
)
STATUS_ZH: dict[str, str] = {
    "draft": "草稿",
    "signed": "已签署",
    "active": "生效",
    "renewed": "已续签",
    "expired": "已到期",
    "terminated": "已终止",
}
TRANSITIONS: dict[str, tuple[ContractStatus, ...]] = {
    "draft": ("signed",),
    "signed": ("active", "terminated"),
    "active": ("renewed", "expired", "terminated"),
    "expired": ("renewed",),
    "renewed": (),
    "terminated": (),
}
"""Every allowed status change. An event may also keep the status (a signature, a replacement)."""

EmploymentModel = Literal["中介制", "员工制"]
Party = Literal["customer", "company", "worker"]
PARTY_ZH: dict[str, str] = {"customer": "客户", "company": "公司", "worker": "阿姨"}
ROLE_ZH: dict[str, str] = {"customer": "甲方", "worker": "乙方", "company": "丙方"}
"""How a three-party contract names the parties; a two-party one calls the company 乙方."""
SignMethod = Literal["paper", "in_person", "wechat", "esign", "other"]
SIGN_METHOD_ZH: dict[str, str] = {
    "paper": "纸质签字",
    "in_person": "当面签字",
    "wechat": "微信确认",
    "esign": "电子签名",
    "other": "其他",
}
FeeUnit = Literal["month", "visit", "total"]
FEE_UNIT_ZH: dict[str, str] = {"month": "每月", "visit": "每次", "total": "合同期内总计"}
PaymentCycle = Literal["monthly", "quarterly", "once", "per_visit"]
PAYMENT_CYCLE_ZH: dict[str, str] = {
    "monthly": "按月支付",
    "quarterly": "按季度支付",
    "once": "签约时一次性支付",
    "per_visit": "每次服务后支付",
}
SHA256 = r"^[0-9a-f]{64}$"

TERMS_FIELDS: tuple[str, ...] = (
    "number",
    "contract_type",
    "model",
    "customer",
    "worker",
    "parties",
    "address",
    "start",
    "end",
    "package",
    "package_name",
    "schedule",
    "lines",
    "service_fee_fen",
    "fee_unit",
    "intro_fee_fen",
    "deposit_fen",
    "payment_method",
    "payment_cycle",
    "payment_day",
    "hours",
    "rest_days",
    "trial_days",
    "insurance",
    "free_replacements",
    "terms",
)
"""The fields the signed document is rendered from; nothing else may change what it says."""


class PartyInfo(Strict):
    """A party as the contract names it: copied when the contract is drafted."""

    name: NonEmpty
    phone: str = Field("", description="as printed, e.g. 138 0013 8000")
    address: str = ""
    license: str = Field("", description="统一社会信用代码 (the company)")


class Parties(Strict):
    customer: PartyInfo
    company: PartyInfo
    worker: PartyInfo | None = None


class ContractLine(Strict):
    """A catalog service the contract covers, priced per occurrence (a month, a visit).

    ``amount_fen`` is ``quantity × unit_price_fen − discount_fen``, as pricing computed it when
    the contract was drafted; ``visits`` is how many a package holds.
    """

    service: str = Field(pattern=CATALOG_CODE)
    name: str = ""
    quantity: Quantity
    unit: Unit
    unit_price_fen: Fen
    discount_fen: Fen = 0
    amount_fen: Fen
    visits: int | None = Field(None, ge=1, description="visits a package includes")

    @field_validator("quantity")
    @classmethod
    def _one_text(cls, value: Decimal) -> Decimal:
        return Decimal(format(value.normalize(), "f"))

    @model_validator(mode="after")
    def _adds_up(self) -> ContractLine:
        exact = self.quantity * self.unit_price_fen - self.discount_fen
        if abs(self.amount_fen - exact) > 50:
            raise ValueError(
                f"amount_fen is {self.amount_fen} but {self.quantity} × "
                f"{self.unit_price_fen} − {self.discount_fen} fen is {exact}"
            )
        return self


class Signature(Strict):
    """One party's signature: who, when, how, and the SHA-256 of the document they signed."""

    model_config = ConfigDict(frozen=True)

    party: Party
    name: NonEmpty = Field(description="who signed, as they wrote their name")
    at: AwareDatetime
    method: SignMethod
    sha256: str = Field(pattern=SHA256, description="of the rendered terms (Markdown, UTF-8)")
    note: str = ""


class Replacement(Strict):
    """A worker replacement (更换阿姨) during the contract; the list keeps every one."""

    model_config = ConfigDict(frozen=True)

    date: dt.date = Field(description="the day the new worker takes over")
    old: RecordRef
    new: RecordRef
    reason: NonEmpty
    operator: NonEmpty
    at: AwareDatetime = Field(description="when it was recorded")

    @model_validator(mode="after")
    def _someone_else(self) -> Replacement:
        if self.old == self.new:
            raise ValueError("a worker cannot replace themselves")
        return self


class Termination(Strict):
    date: dt.date = Field(description="the last day of the contract")
    reason: NonEmpty


class ContractEvent(Strict):
    """One step of the contract's history; frozen, and the log only grows."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    actor: NonEmpty
    from_status: ContractStatus | None = None
    to_status: ContractStatus
    note: str = ""


class Contract(Record):
    """A contract between a customer, the company and (for a placement) a worker."""

    kind: ClassVar[Kind] = "contract"
    folder: ClassVar[str] = LAYOUT["contract"].folder
    code_prefix: ClassVar[str] = LAYOUT["contract"].code_prefix
    label_zh: ClassVar[str] = "合同"

    number: str = Field(min_length=1, description="合同编号: the code it had when drafted")
    contract_type: ContractType
    model: EmploymentModel | None = Field(None, description="placements: 中介制 or 员工制")
    status: ContractStatus = "draft"
    customer: RecordRef
    worker: RecordRef | None = Field(None, description="the worker the signed terms name")
    parties: Parties
    address: Address = Field(description="the service address, copied when drafted")
    start: dt.date
    end: dt.date = Field(description="last day (inclusive)")
    package: str | None = Field(None, pattern=CATALOG_CODE, description="catalog package code")
    package_name: str = Field("", description="the package's name when drafted")
    schedule: Schedule | None = None
    lines: list[ContractLine] = Field(default_factory=list)
    service_fee_fen: int = Field(gt=0, description="per fee_unit")
    fee_unit: FeeUnit
    intro_fee_fen: Fen = Field(0, description="介绍费/中介费, once, to the company")
    deposit_fen: Fen = Field(0, description="定金")
    payment_method: PaymentMethod = "wechat"
    payment_cycle: PaymentCycle = "monthly"
    payment_day: int | None = Field(None, ge=1, le=28, description="day of the month to pay by")
    hours: str = Field("", description="working hours, e.g. 08:00-18:00 or 住家")
    rest_days: str = Field("", description="e.g. 每月休息4天")
    trial_days: int = Field(0, ge=0, le=31, description="试工期 in days")
    insurance: str = Field("", description="the insurance agreed: kind, insurer, who pays")
    free_replacements: int = Field(3, ge=0, le=20, description="replacements free of charge")
    terms: list[NonEmpty] = Field(default_factory=list, description="补充条款")
    quote: RecordRef | None = None
    previous: RecordRef | None = Field(None, description="the contract this one renews")
    renewed_by: RecordRef | None = Field(None, description="the successor, once it is active")
    signatures: list[Signature] = Field(default_factory=list)
    replacements: list[Replacement] = Field(default_factory=list)
    termination: Termination | None = None
    notes: str = Field("", description="internal notes, not in the document")
    events: list[ContractEvent] = Field(default_factory=list)

    @field_validator("address", mode="before")
    @classmethod
    def _own_copy(cls, address: object) -> object:
        return address.model_dump() if isinstance(address, Address) else address

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        for problem in (
            self._terms_problem(),
            self._signature_problem(),
            self._replacement_problem(),
            self._status_problem(),
            self._history_problem(),
        ):
            if problem:
                raise ValueError(problem)
        return self

    def _terms_problem(self) -> str | None:
        if self.end < self.start:
            return f"the contract ends ({self.end}) before it starts ({self.start})"
        if (self.contract_type == "placement") != (self.model is not None):
            return (
                "a placement is 中介制 or 员工制 (model); other contracts have no model"
                if self.contract_type == "placement"
                else f"model ({self.model}) is for placements, not {self.contract_type}"
            )
        if self.contract_type == "package" and self.package is None:
            return "a package contract names its package (package: catalog code)"
        if self.schedule is not None:
            if self.contract_type == "placement":
                return "a placement has working hours, not a schedule"
            if self.schedule.starts < self.start or (
                self.schedule.ends is not None and self.schedule.ends > self.end
            ):
                return (
                    f"the schedule ({self.schedule.starts} – {self.schedule.ends or '…'}) "
                    f"runs outside the contract ({self.start} – {self.end})"
                )
        if (self.worker is None) != (self.parties.worker is None):
            return "worker and parties.worker go together: the worker's ID and name"
        twice = duplicates([line.service for line in self.lines])
        if twice:
            return "service listed twice: " + ", ".join(twice)
        if self.previous is not None and self.previous in (self.id, self.renewed_by):
            return "a contract cannot renew itself"
        return None

    def _signature_problem(self) -> str | None:
        parties: list[str] = [s.party for s in self.signatures]
        twice = duplicates(parties)
        if twice:
            return "signed twice by: " + ", ".join(twice)
        stray = [p for p in parties if p not in self.required_parties()]
        if stray:
            return f"{', '.join(stray)} is not a party to this {self.contract_type} contract"
        if len({s.sha256 for s in self.signatures}) > 1:
            return "the signatures cover different documents (their sha256 differ)"
        if self.status == "draft" and self.all_signed():
            return "every party has signed, but the status is still draft"
        if self.status != "draft" and not self.all_signed():
            missing = ", ".join(p for p in self.required_parties() if p not in parties)
            return f"a {self.status} contract is signed by every party; missing: {missing}"
        return None

    def _replacement_problem(self) -> str | None:
        if self.replacements and (self.status == "draft" or self.worker is None):
            return "workers are replaced after signing, on a contract that names a worker"
        current, day = self.worker, self.start
        for n, r in enumerate(self.replacements, 1):
            if r.old != current:
                return f"replacement {n} replaces {r.old}, but the worker then was {current}"
            if r.date < day or r.date > self.end:
                return (
                    f"replacement {n} is dated {r.date}: within the contract "
                    f"({self.start} – {self.end}) and not before the one before it"
                )
            current, day = r.new, r.date
        return None

    def _status_problem(self) -> str | None:
        if (self.status == "terminated") != (self.termination is not None):
            return "a terminated contract says when and why (termination), and only then"
        if self.termination is not None and self.termination.date > self.end:
            return f"terminated on {self.termination.date}, after the end ({self.end})"
        if (self.status == "renewed") != (self.renewed_by is not None):
            return "a renewed contract names its successor (renewed_by), and only then"
        return None

    def _history_problem(self) -> str | None:
        return log_problem(
            self.events,
            self.status,
            first="draft",
            transitions=TRANSITIONS,
            label=label,
            noun="contract",
            keeps_status=True,
            may_be_empty=True,
            first_rule="only the first event lacks from_status, and it goes to draft",
        )

    # --- derived ---------------------------------------------------------------------------

    def required_parties(self) -> tuple[Party, ...]:
        """Who signs: customer and company, and the worker too in a placement (三方合同)."""
        if self.contract_type == "placement":
            return ("customer", "worker", "company")
        return ("customer", "company")

    def signature_of(self, party: str) -> Signature | None:
        return next((s for s in self.signatures if s.party == party), None)

    def all_signed(self) -> bool:
        return all(self.signature_of(p) for p in self.required_parties())

    def current_worker(self) -> str | None:
        """The worker serving now: the last replacement's new worker, or the signed one."""
        return self.replacements[-1].new if self.replacements else self.worker

    def workers(self) -> list[str]:
        """Every worker the contract has had, the signed one first."""
        ids = [self.worker] if self.worker else []
        return list(dict.fromkeys([*ids, *(r.new for r in self.replacements)]))

    def status_on(self, day: dt.date) -> str:
        """The status as of ``day``: an active contract past its end date shows as expired."""
        if self.status == "active" and day > self.end:
            return "expired"
        return self.status

    def terms_data(self) -> dict[str, Any]:
        """The terms as plain data (JSON types), for comparing two versions field by field."""
        return self.model_dump(mode="json", include=set(TERMS_FIELDS))

    def months(self) -> int:
        """Whole months from start to end (a year's contract: 12), at least 1."""
        after = self.end + dt.timedelta(days=1)
        return max(1, (after.year - self.start.year) * 12 + after.month - self.start.month)

    def payment_text(self) -> str:
        """``按月支付，每期5日前付清；支付方式：微信``: the payment terms in words."""
        text = PAYMENT_CYCLE_ZH[self.payment_cycle]
        if self.payment_day and self.payment_cycle in ("monthly", "quarterly"):
            text += f"，每期{self.payment_day}日前付清"
        return f"{text}；支付方式：{PAYMENT_METHOD_ZH[self.payment_method]}"

    # --- index ---------------------------------------------------------------------------------

    def title(self) -> str:
        """``2026-03-01–2027-02-28 家政服务（派驻）``: no personal data, sorts by date."""
        return f"{self.start}–{self.end} {TYPE_ZH[self.contract_type]}"

    def index_terms(self) -> dict[str, list[str]]:
        services = [line.service for line in self.lines]
        community = [self.address.community] if self.address.community else []
        return {
            "terms": [
                self.number,
                *services,
                *(line.name for line in self.lines),
                *([self.package] if self.package else []),
                *community,
                self.address.district,
                TYPE_ZH[self.contract_type],
            ],
            "tags": [*services, *([self.package] if self.package else [])],
            "communities": community,
            "category": [self.status],
        }

    def index_day(self) -> str:
        """The end date: reminders look for contracts ending soon (SPEC §3: T-30, T-7)."""
        return self.end.isoformat()

    def index_refs(self) -> list[str]:
        links = (self.quote, self.previous, self.renewed_by)
        return [self.customer, *self.workers(), *(link for link in links if link)]

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "contract_type": self.contract_type,
            "model": self.model,
            "number": self.number,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "customer": self.customer,
            "worker": self.current_worker(),
            "workers": self.workers(),
            "service_fee_fen": self.service_fee_fen,
            "fee_unit": self.fee_unit,
            "package": self.package,
            "previous": self.previous,
            "renewed_by": self.renewed_by,
        }


# --- moving a contract -------------------------------------------------------------------------


class ContractError(HkError):
    """A contract rule refuses the step: a party missing, a worker not named, …"""


class IllegalContractStep(IllegalStep, ContractError):
    """A status change the lifecycle does not allow; the message names the ones it does."""


CONTRACT: Lifecycle[ContractStatus] = Lifecycle(
    "contract", STATUS_ZH, TRANSITIONS, ContractError, IllegalContractStep, stays=True
)
"""The contract lifecycle (SPEC §3); a step may keep the status (a signature, a replacement)."""
label = CONTRACT.label


def step(
    contract: Contract, to: str, actor: str, at: dt.datetime, note: str = "", **changes: Any
) -> Contract:
    """A new contract in status ``to`` (or the same status, for a step that keeps it), with
    ``changes`` applied and one event appended; the contract given is left as it was.

    Raises :class:`IllegalContractStep` for a change :data:`TRANSITIONS` does not allow, and
    ``pydantic.ValidationError`` when the result breaks a rule of the model.
    """
    CONTRACT.check(contract.status, to)
    if contract.events and at < contract.events[-1].at:
        raise ContractError(
            f"{at:%Y-%m-%d %H:%M} is before the contract's last event "
            f"({contract.events[-1].at:%Y-%m-%d %H:%M}); the log only grows"
        )
    event = ContractEvent(at=at, actor=actor, from_status=contract.status, to_status=to, note=note)
    data = {name: getattr(contract, name) for name in Contract.model_fields}
    data.update(changes, status=to, events=[*contract.events, event])
    return Contract.model_validate(data)
