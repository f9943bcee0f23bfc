"""The service catalog (服务项目) and packages (套餐), SPEC §2."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from hk.domain.base import Record, Strict
from hk.domain.common import duplicates
from hk.domain.fields import Fen, NonEmpty
from hk.domain.layout import LAYOUT, Kind

Unit = Literal["hour", "visit", "day", "month", "m2"]
UNIT_ZH: dict[str, str] = {
    "hour": "小时",
    "visit": "次",
    "day": "天",
    "month": "月",
    "m2": "平方米",
}

CATALOG_CODE = r"^[A-Z][A-Z0-9-]{1,15}$"


class ChecklistItem(Strict):
    """One line of the acceptance checklist (验收清单); value-added items go beyond the basics."""

    item: NonEmpty
    value_added: bool = False


class Acceptance(Strict):
    """What a tier's customer may expect: share of basic items passed, value-added items or not."""

    tier: NonEmpty
    basic_percent: int = Field(100, ge=0, le=100)
    value_added: bool = False


class ServiceItem(Record):
    """A service the company sells, priced per unit."""

    kind: ClassVar[Kind] = "service"
    folder: ClassVar[str] = LAYOUT["service"].folder
    label_zh: ClassVar[str] = "服务项目"

    code: str = Field(pattern=CATALOG_CODE, description="catalog code, e.g. BJ-DAILY")
    name: NonEmpty
    category: NonEmpty
    description: str = ""
    unit: Unit
    duration_minutes: int | None = Field(None, gt=0, le=60 * 24 * 31)
    price_fen: Fen
    required_skills: list[str] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    acceptance: list[Acceptance] = Field(default_factory=list)
    active: bool = True

    def own_code(self) -> str | None:
        return self.code

    def summary(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "unit": self.unit,
            "price_fen": self.price_fen,
            "active": self.active,
        }

    def index_terms(self) -> dict[str, list[str]]:
        return {
            "terms": [self.name, self.code, self.category, *self.required_skills],
            "tags": self.required_skills,
            "communities": [],
            "category": [self.category],
        }


class PackageItem(Strict):
    service: str = Field(pattern=CATALOG_CODE, description="code of a service item")
    visits: int = Field(ge=1)


class Package(Record):
    """A bundle of visits of one or more services for a price and a validity period."""

    kind: ClassVar[Kind] = "package"
    folder: ClassVar[str] = LAYOUT["package"].folder
    label_zh: ClassVar[str] = "套餐"

    code: str = Field(pattern=CATALOG_CODE)
    name: NonEmpty
    period: Literal["month", "quarter", "year", "custom"]
    items: list[PackageItem] = Field(min_length=1)
    price_fen: Fen
    validity_days: int = Field(gt=0, le=3660)
    description: str = ""
    active: bool = True

    @model_validator(mode="after")
    def _each_service_once(self) -> Package:
        if duplicates([i.service for i in self.items]):
            raise ValueError("a service appears twice in the package; add up its visits instead")
        return self

    def own_code(self) -> str | None:
        return self.code

    def summary(self) -> dict[str, Any]:
        return {"period": self.period, "price_fen": self.price_fen, "active": self.active}

    def index_terms(self) -> dict[str, list[str]]:
        return {
            "terms": [self.name, self.code, *(i.service for i in self.items)],
            "tags": [],
            "communities": [],
            "category": [self.period],
        }

    def total_visits(self) -> int:
        return sum(i.visits for i in self.items)
