"""Survey responses (满意度调查): scores typed in, listed, and summed up (SPEC §2, §6).

Responses come from ``hk order rate`` and from return visits (:mod:`hk.services.visits`);
both are :class:`~hk.domain.survey.Survey` records, so one summary counts them all. The
summary is the average of each dimension (1–5) and the Net Promoter Score: the share of
promoters (9–10) less the share of detractors (0–6), in points from −100 to 100, over the
responses that answered the NPS question. Everything here reads the index only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hk.domain.survey import CHANNEL_ZH, DIMENSION_ZH, DIMENSIONS
from hk.errors import UsageError
from hk.store.archive import Archive

SCORE_KEYS: dict[str, str] = {
    **{d: d for d in DIMENSIONS},
    **{zh: d for d, zh in DIMENSION_ZH.items()},
    "质量": "quality",
    "态度": "attitude",
    "准时性": "punctuality",
    "总体评价": "overall",
    "q": "quality",
    "a": "attitude",
    "h": "hygiene",
    "p": "punctuality",
    "o": "overall",
}
"""The names a score may be typed by: the dimension, its Chinese name, or its first letter."""


def parse_scores(text: str) -> dict[str, int]:
    """``5/5/4/5/5`` or ``5,5,4,5,5`` (quality, attitude, hygiene, punctuality, overall), or
    ``quality=5,attitude=4,…`` (``质量=5`` too): all five, each 1–5."""
    value = text.strip().replace("，", ",").replace("＝", "=").replace("、", ",")
    parts = [p.strip() for p in value.replace("/", ",").replace(" ", ",").split(",") if p.strip()]
    hint = (
        "write the five scores 1–5 in the order quality/attitude/hygiene/punctuality/overall "
        "(服务质量/态度/卫生/准时/总体), e.g. --scores 5/5/4/5/5, or name them: "
        "--scores quality=5,attitude=4,hygiene=5,punctuality=5,overall=4"
    )
    scores: dict[str, int] = {}
    if parts and all("=" in p for p in parts):
        for part in parts:
            name, _, number = part.partition("=")
            key = SCORE_KEYS.get(name.strip().lower()) or SCORE_KEYS.get(name.strip())
            if key is None:
                raise UsageError(f"--scores: '{name.strip()}' is not a score", hint=hint)
            if key in scores:
                raise UsageError(f"--scores: {key} is given twice", hint=hint)
            scores[key] = _score(number, hint)
    elif len(parts) == len(DIMENSIONS) and not any("=" in p for p in parts):
        scores = {d: _score(p, hint) for d, p in zip(DIMENSIONS, parts, strict=True)}
    else:
        raise UsageError(f"--scores: '{text}' is not five scores", hint=hint)
    missing = [d for d in DIMENSIONS if d not in scores]
    if missing:
        raise UsageError(f"--scores: missing {', '.join(missing)}", hint=hint)
    return {d: scores[d] for d in DIMENSIONS}


def _score(text: str, hint: str) -> int:
    number = text.strip()
    if not number.isdigit() or not 1 <= int(number) <= 5:
        raise UsageError(f"--scores: '{number}' is not a score from 1 to 5", hint=hint)
    return int(number)


# --- listing -----------------------------------------------------------------------------------


def list_surveys(
    archive: Archive,
    day_from: str | None = None,
    day_to: str | None = None,
    worker: str | None = None,
    service: str | None = None,
    customer: str | None = None,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    """Survey responses answered between the days (both included), oldest first; ``worker``
    and ``customer`` are codes or IDs, ``service`` a catalog code, ``channel`` how the
    scores came in (order_rate, phone, wechat, online, onsite)."""
    from hk.services.lookup import list_rows
    from hk.services.records import choice_of, refs_by_kind, resolve_id

    if day_from and day_to and day_from > day_to:
        raise UsageError(f"--from {day_from} is after --to {day_to}")
    refs = [
        resolve_id(archive, kind, ref)[1]
        for kind, ref in refs_by_kind(worker=worker, customer=customer)
    ]
    wanted = choice_of(channel, CHANNEL_ZH, "a survey channel") if channel else None
    rows = list_rows(
        archive.index,
        "survey",
        day_from=day_from,
        day_to=day_to,
        ref=refs[0] if refs else None,
        tag=service.strip().upper() if service else None,
    )
    if len(refs) > 1:
        rows = [r for r in rows if r["customer"] == refs[1]]
    if wanted:
        rows = [r for r in rows if r["channel"] == wanted]
    rows.sort(key=lambda r: (r["at"], r["id"]))
    return rows


# --- the summary -------------------------------------------------------------------------------


@dataclass
class Summary:
    """Average per dimension, NPS and the counts behind them, for some responses."""

    count: int
    averages: dict[str, float | None]
    nps: int | None
    """Promoters less detractors, in points (−100…100); None when nobody answered."""
    answered_nps: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    low: int = 0
    """Responses with a score at or below ``[visits] low_score``."""
    filters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "averages": self.averages,
            "nps": self.nps,
            "answered_nps": self.answered_nps,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "low": self.low,
            "filters": self.filters,
        }


def summarise(rows: list[dict[str, Any]], low_score: int = 2) -> Summary:
    """The figures of listing rows (index summaries of surveys): averages to two decimals,
    NPS rounded to a whole point (half away from zero)."""
    count = len(rows)
    averages: dict[str, float | None] = {d: _mean([int(r[d]) for r in rows]) for d in DIMENSIONS}
    answers = [int(r["nps"]) for r in rows if r.get("nps") is not None]
    promoters = sum(1 for n in answers if n >= 9)
    detractors = sum(1 for n in answers if n <= 6)
    nps = None
    if answers:
        points = 100 * (promoters - detractors) / len(answers)
        nps = int(points + 0.5) if points >= 0 else -int(-points + 0.5)
    low = sum(1 for r in rows if min(int(r[d]) for d in DIMENSIONS) <= low_score)
    return Summary(
        count,
        averages,
        nps,
        len(answers),
        promoters,
        len(answers) - promoters - detractors,
        detractors,
        low,
    )


def _mean(values: list[int]) -> float | None:
    """Two decimals, half up (4.125 → 4.13), as people round; None for no values."""
    if not values:
        return None
    exact = Decimal(sum(values)) / Decimal(len(values))
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def summary(
    archive: Archive,
    day_from: str | None = None,
    day_to: str | None = None,
    worker: str | None = None,
    service: str | None = None,
    customer: str | None = None,
    channel: str | None = None,
) -> Summary:
    """:func:`summarise` over :func:`list_surveys` with the same filters."""
    rows = list_surveys(archive, day_from, day_to, worker, service, customer, channel)
    found = summarise(rows, archive.settings.visits.low_score)
    found.filters = {
        k: v
        for k, v in (
            ("from", day_from),
            ("to", day_to),
            ("worker", worker),
            ("service", service),
            ("customer", customer),
            ("channel", channel),
        )
        if v
    }
    return found
