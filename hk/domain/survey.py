"""The survey response (满意度调查), SPEC §2: a customer's scores, kept as a record of its own.

Scores come in from ``hk order rate``, and later from return visits and online surveys; the
satisfaction figures (average per dimension, NPS) are computed from these records alone, so
they are one kind of file whatever the channel. The order keeps a copy of its rating and the
survey's ID: the order page shows it without a second read, the survey list without orders.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from hk.domain.base import Record, Strict
from hk.domain.layout import LAYOUT, Kind

RecordRef = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Score = Annotated[int, Field(ge=1, le=5)]

DIMENSIONS = ("quality", "attitude", "hygiene", "punctuality", "overall")
DIMENSION_ZH: dict[str, str] = {
    "quality": "服务质量",
    "attitude": "服务态度",
    "hygiene": "卫生",
    "punctuality": "准时",
    "overall": "总体",
}
SurveyChannel = Literal["order_rate", "phone", "wechat", "online", "onsite"]
CHANNEL_ZH: dict[str, str] = {
    "order_rate": "订单评价",
    "phone": "电话",
    "wechat": "微信",
    "online": "在线问卷",
    "onsite": "上门",
}


class Scores(Strict):
    """The five scores (1–5) of SPEC §2, NPS (0–10) and a comment: what a survey asks and what
    an order's rating copies."""

    quality: Score
    attitude: Score
    hygiene: Score
    punctuality: Score
    overall: Score
    nps: int | None = Field(None, ge=0, le=10, description="how likely to recommend us, 0–10")
    comment: str = ""

    def scores(self) -> dict[str, int]:
        return {d: getattr(self, d) for d in DIMENSIONS}

    def lowest(self) -> int:
        """A score of 2 or less (settings: visits.low_score) asks for a return visit."""
        return min(self.scores().values())


class Survey(Scores, Record):
    """One customer's answer: five scores (1–5), how likely they are to recommend us (0–10)."""

    kind: ClassVar[Kind] = "survey"
    folder: ClassVar[str] = LAYOUT["survey"].folder
    code_prefix: ClassVar[str] = LAYOUT["survey"].code_prefix
    label_zh: ClassVar[str] = "满意度调查"

    customer: RecordRef
    order: RecordRef | None = None
    contract: RecordRef | None = None
    workers: list[RecordRef] = Field(default_factory=list, description="who did the work")
    services: list[str] = Field(default_factory=list, description="catalog codes rated")
    at: AwareDatetime = Field(description="when the customer answered")
    channel: SurveyChannel
    taken_by: str = Field("", description="the operator who recorded it")

    def nps_group(self) -> str | None:
        """``promoter`` (9–10), ``passive`` (7–8) or ``detractor`` (0–6), as NPS counts them."""
        if self.nps is None:
            return None
        return "promoter" if self.nps >= 9 else "passive" if self.nps >= 7 else "detractor"

    def title(self) -> str:
        """Day and scores (``2026-11-22 5/5/4/5/5``): no personal data."""
        return f"{self.at:%Y-%m-%d} " + "/".join(str(s) for s in self.scores().values())

    def index_terms(self) -> dict[str, list[str]]:
        return {
            "terms": [*self.services, self.comment] if self.comment else list(self.services),
            "tags": list(self.services),
            "communities": [],
            "category": [self.channel],
        }

    def index_day(self) -> str:
        return self.at.date().isoformat()

    def index_refs(self) -> list[str]:
        links = (self.order, self.contract)
        return [self.customer, *self.workers, *(link for link in links if link)]

    def summary(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "customer": self.customer,
            "order": self.order,
            "workers": list(self.workers),
            "channel": self.channel,
            **self.scores(),
            "nps": self.nps,
        }
