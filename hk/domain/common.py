"""Pieces shared by several records: addresses, consents, time ranges."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from hk.domain.base import Strict
from hk.domain.fields import NonEmpty

Gender = Literal["女", "男"]


def duplicates(values: list[str]) -> list[str]:
    """The values that occur more than once, sorted (for "listed twice" messages)."""
    seen: set[str] = set()
    twice: set[str] = set()
    for value in values:
        (twice if value in seen else seen).add(value)
    return sorted(twice)


class Address(Strict):
    """A service address. Coordinates are optional; dispatch falls back to the community's."""

    label: str = Field("", description="家, 父母家, 公司 …")
    city: str = ""
    district: str = Field("", description="区/县, e.g. 武侯区")
    detail: str = Field("", description="street, building, unit and door")
    community: str = Field("", description="小区 (residential community)")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    access_notes: str = Field("", description="door codes, parking, pets at the door …")

    def one_line(self) -> str:
        return "".join(p for p in (self.city, self.district, self.community, self.detail) if p)


class Consent(Strict):
    """A consent under PIPL: what for, how far, when, and how it was obtained."""

    purpose: NonEmpty
    scope: str = ""
    date: dt.date
    method: str = Field("", description="纸质签字, 微信确认, 电话录音 …")
    withdrawn: dt.date | None = None

    def in_force(self, today: dt.date) -> bool:
        return self.date <= today and (self.withdrawn is None or self.withdrawn > today)

    def is_for(self, purpose: str) -> bool:
        """Whether this consent covers ``purpose`` (a key of :data:`PURPOSES` or its words)."""
        words = PURPOSE_WORDS.get(purpose, (purpose,))
        text = f"{self.purpose} {self.scope}".lower()
        return any(word.lower() in text for word in words)


PURPOSES: dict[str, str] = {
    "service": "提供家政服务（派单、上门、结算）",
    "sensitive": "敏感个人信息处理",
    "marketing": "回访与优惠信息",
}
"""The purposes an office records consent for, by key, with the words written into the record.

PIPL asks for a separate consent for sensitive personal information (Art. 29: ID numbers,
health, children's details) and for marketing; ``service`` is the processing the service
itself needs (Art. 13)."""

PURPOSE_WORDS: dict[str, tuple[str, ...]] = {
    "service": ("提供家政服务", "service"),
    "sensitive": ("敏感", "sensitive"),
    "marketing": ("优惠", "营销", "推广", "促销", "marketing", "offers"),
}
"""What a consent's purpose or scope must say to count for a purpose (hand-written consents
say it in their own words: 敏感个人信息处理, 回访与优惠信息)."""


_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _time_range(value: object) -> object:
    if isinstance(value, str):
        text = value.replace(" ", "").replace("–", "-").replace("~", "-")
        m = _RANGE.match(text)
        if not m:
            raise ValueError(f"'{value}' is not a time range; write it like 08:00-12:00")
        start, end = text.split("-")
        if end <= start:
            raise ValueError(f"'{value}' ends before it starts")
        return text
    return value


TimeRange = Annotated[str, BeforeValidator(_time_range)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DateSpan(Strict):
    """A span of whole days, both ends included."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> DateSpan:
        if self.end < self.start:
            raise ValueError("the end date is before the start date")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end
