"""The worker record (家政员/阿姨), SPEC §2."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from hk.domain.base import Record, Strict
from hk.domain.common import WEEKDAYS, Address, DateSpan, Gender, TimeRange, Weekday, duplicates
from hk.domain.fields import NonEmpty, Phone, SealedIdNumber
from hk.domain.layout import LAYOUT, Kind


class Skill(Strict):
    """A skill with a level from 1 (初级) to 5 (金牌); cooking lists the cuisines (菜系)."""

    name: NonEmpty
    level: int = Field(1, ge=1, le=5)
    cuisines: list[str] = Field(default_factory=list)


class Certificate(Strict):
    """A certificate (健康证, 育婴师, 母婴护理师, 养老护理员 …) and when it stops being valid."""

    kind: NonEmpty
    number: str = ""
    issued: dt.date | None = None
    expires: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> Certificate:
        if self.issued and self.expires and self.expires < self.issued:
            raise ValueError("the certificate expires before it was issued")
        return self

    def valid_on(self, day: dt.date) -> bool:
        return (self.issued is None or self.issued <= day) and (
            self.expires is None or day <= self.expires
        )


class Reference(Strict):
    """A previous employer who can vouch for the worker."""

    employer: NonEmpty
    contact: str = ""
    period: str = ""
    comment: str = ""


class CreditCheck(Strict):
    """The result of a background check such as 家政信用查."""

    result: NonEmpty
    date: dt.date
    source: str = "家政信用查"


class Insurance(Strict):
    policy: NonEmpty
    insurer: str = ""
    expires: dt.date


class Leave(DateSpan):
    """Days off or leave, both ends included."""

    reason: str = ""


class Employment(Strict):
    """The worker's own contract with the company."""

    model: Literal["中介制", "员工制"]
    start: dt.date
    expires: dt.date | None = None


WorkerStatus = Literal["available", "placed", "inactive"]
STATUS_ZH: dict[str, str] = {"available": "可接单", "placed": "长期在岗", "inactive": "停用"}


class Worker(Record):
    """A worker the agency places or dispatches."""

    kind: ClassVar[Kind] = "worker"
    folder: ClassVar[str] = LAYOUT["worker"].folder
    code_prefix: ClassVar[str] = LAYOUT["worker"].code_prefix
    label_zh: ClassVar[str] = "阿姨"

    name: NonEmpty
    gender: Gender
    birth_year: int | None = Field(None, ge=1940, le=2100)
    native_place: str = Field("", description="籍贯, e.g. 四川南充")
    dialects: list[str] = Field(default_factory=list)
    phone: Phone | None = None
    wechat: str = ""
    id_number: SealedIdNumber | None = None
    home: Address | None = None
    skills: list[Skill] = Field(default_factory=list)
    certificates: list[Certificate] = Field(default_factory=list)
    experience_years: int = Field(0, ge=0, le=60)
    references: list[Reference] = Field(default_factory=list)
    credit_check: CreditCheck | None = None
    insurance: Insurance | None = None
    availability: dict[Weekday, list[TimeRange]] = Field(
        default_factory=dict, description="weekly hours, e.g. mon: [08:00-12:00, 14:00-18:00]"
    )
    leave: list[Leave] = Field(default_factory=list)
    status: WorkerStatus = "available"
    employment: Employment | None = None
    notes: str = ""
    erased: dt.date | None = Field(
        None, description="the day the person's data was erased (PIPL Art. 47); a tombstone since"
    )

    @field_validator("skills")
    @classmethod
    def _one_entry_per_skill(cls, skills: list[Skill]) -> list[Skill]:
        dupes = duplicates([s.name for s in skills])
        if dupes:
            raise ValueError("skill listed twice: " + ", ".join(dupes))
        return skills

    @field_validator("availability")
    @classmethod
    def _days_in_week_order(
        cls, availability: dict[Weekday, list[str]]
    ) -> dict[Weekday, list[str]]:
        """Monday first, whatever order the days were typed in: one text per value on disk."""
        return {day: availability[day] for day in WEEKDAYS if day in availability}

    def index_terms(self) -> dict[str, list[str]]:
        from hk.domain.fields import phone_digits

        if self.erased:  # a tombstone: found by its code only
            return {"terms": [], "tags": [], "communities": [], "category": []}
        skills = [s.name for s in self.skills]
        community = [self.home.community] if self.home and self.home.community else []
        return {
            "terms": [
                self.name,
                phone_digits(self.phone) if self.phone else "",
                self.wechat,
                self.native_place,
                *skills,
                *community,
            ],
            "tags": skills,
            "communities": community,
            "category": [self.status],
        }

    def summary(self) -> dict[str, Any]:
        from hk.domain.fields import format_phone

        return {
            "phones": [format_phone(self.phone)] if self.phone else [],
            "status": self.status,
            "skills": [s.name for s in self.skills],
            "native_place": self.native_place,
        }

    def skill_level(self, name: str) -> int:
        return next((s.level for s in self.skills if s.name == name), 0)

    def on_leave(self, day: dt.date) -> bool:
        return any(span.covers(day) for span in self.leave)

    def age(self, today: dt.date) -> int | None:
        return None if self.birth_year is None else today.year - self.birth_year

    def certificates_expiring(self, today: dt.date, within_days: int) -> list[Certificate]:
        """Certificates that expire within ``within_days`` of ``today`` (or already have)."""
        horizon = today + dt.timedelta(days=within_days)
        return [c for c in self.certificates if c.expires is not None and c.expires <= horizon]
