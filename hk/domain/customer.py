"""The customer record (客户档案), SPEC §2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from hk.domain.base import Record, Strict
from hk.domain.common import Address, Consent, Gender
from hk.domain.fields import NonEmpty, Phone, SealedIdNumber, SealedText
from hk.domain.layout import LAYOUT, Kind


class HouseholdMember(Strict):
    """Someone in the home the worker will meet: elderly, infants, other adults, pets."""

    relation: NonEmpty = Field(description="父亲, 女儿, 宠物狗 …")
    birth_year: int | None = Field(None, ge=1900, le=2100)
    notes: str = ""
    care_notes: SealedText | None = Field(
        None, description="health or child details; always encrypted"
    )


class Preferences(Strict):
    """What the customer wants in a worker and in the service."""

    worker_gender: Gender | None = None
    worker_age_min: int | None = Field(None, ge=16, le=80)
    worker_age_max: int | None = Field(None, ge=16, le=80)
    native_places: list[str] = Field(default_factory=list)
    dialects: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    cleaning_agents: str = ""
    cooking_taste: str = ""

    @model_validator(mode="after")
    def _age_range(self) -> Preferences:
        lo, hi = self.worker_age_min, self.worker_age_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("worker_age_min is above worker_age_max")
        return self


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)


class Customer(Record):
    """A customer: a household or a company the agency serves."""

    kind: ClassVar[Kind] = "customer"
    folder: ClassVar[str] = LAYOUT["customer"].folder
    code_prefix: ClassVar[str] = LAYOUT["customer"].code_prefix
    label_zh: ClassVar[str] = "客户"

    name: NonEmpty
    phones: list[Phone] = Field(default_factory=list)
    wechat: str = ""
    addresses: list[Address] = Field(default_factory=list)
    category: str = ""
    tags: list[str] = Field(default_factory=list)
    channel: str = Field("", description="acquisition channel (获客渠道)")
    referrer: str | None = Field(None, description="ID of the customer who introduced this one")
    tier: str = ""
    birthday: dt.date | None = None
    household: list[HouseholdMember] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=Preferences)
    taboos: list[str] = Field(default_factory=list, description="服务禁忌")
    preferred_workers: list[str] = Field(default_factory=list)
    blocked_workers: list[str] = Field(default_factory=list)
    consents: list[Consent] = Field(default_factory=list)
    id_number: SealedIdNumber | None = None
    health_notes: SealedText | None = None
    children_details: SealedText | None = None
    notes: str = ""
    erased: dt.date | None = Field(
        None, description="the day the person's data was erased (PIPL Art. 47); a tombstone since"
    )

    _dedupe = field_validator("phones", "tags", "taboos", "preferred_workers", "blocked_workers")(
        _unique
    )

    @model_validator(mode="after")
    def _no_worker_both_preferred_and_blocked(self) -> Customer:
        both = set(self.preferred_workers) & set(self.blocked_workers)
        if both:
            raise ValueError("a worker cannot be both preferred and blocked: " + ", ".join(both))
        if self.referrer is not None and self.referrer == self.id:
            raise ValueError("a customer cannot be their own referrer")
        return self

    def unconsented_sensitive(
        self, today: dt.date, on_file: Mapping[str, str | None] | None = None
    ) -> list[str]:
        """Sensitive fields given a new value while no consent for sensitive data is in force.

        PIPL Art. 29 asks for the person's separate consent before sensitive personal data is
        processed; values already on file (sealed earlier, or typed again as they were:
        ``on_file`` maps a path to its plaintext on file) are not new input.
        """
        if any(c.in_force(today) and c.is_for("sensitive") for c in self.consents):
            return []
        known = on_file or {}
        return [
            p
            for p, v in self.sealed_values()
            if v.token is None and v.plain is not None and known.get(p) != v.plain
        ]

    def checked_refs(self) -> list[tuple[str, Kind, list[str]]]:
        """The referrer is a customer; preferred and blocked workers are workers."""
        return [
            ("referrer", "customer", [self.referrer] if self.referrer else []),
            ("preferred_workers", "worker", list(self.preferred_workers)),
            ("blocked_workers", "worker", list(self.blocked_workers)),
        ]

    def index_terms(self) -> dict[str, list[str]]:
        from hk.domain.fields import phone_digits

        if self.erased:  # a tombstone: found by its code only, in no list of a tag or place
            return {"terms": [], "tags": [], "communities": [], "category": []}
        communities = self.communities()
        return {
            "terms": [
                self.name,
                *map(phone_digits, self.phones),
                self.wechat,
                *self.tags,
                *communities,
                *(a.district for a in self.addresses),
            ],
            "tags": self.tags,
            "communities": communities,
            "category": [self.category],
        }

    def summary(self) -> dict[str, Any]:
        from hk.domain.fields import format_phone

        return {
            "phones": [format_phone(p) for p in self.phones],
            "community": next(iter(self.communities()), ""),
            "category": self.category,
            "tags": list(self.tags),
        }

    def communities(self) -> list[str]:
        return _unique([a.community for a in self.addresses])
