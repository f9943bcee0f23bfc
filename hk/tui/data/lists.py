"""Customer and worker lists for the TUI: the CLI's search over the index, plus filters.

Searching goes through :meth:`hk.store.index.Index.find`, as ``hk customer find`` does (name,
pinyin, initials, code, phone digits, WeChat, tag, community), and listing through
:meth:`~hk.store.index.Index.list`; nothing here parses a record file. A customer's stage comes
from :func:`hk.services.stages.stages` (worked out once per state of the index). A result holds
at most :data:`CAP` rows: a list the eye can scan is short, and past that the operator types
more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from hk.services.lookup import summary
from hk.store.search import SEP

if TYPE_CHECKING:
    import sqlite3

    from hk.domain.layout import Kind
    from hk.store.archive import Archive

CAP = 500
"""Rows a list holds at most; beyond it the list says "N of more than N". A search of one
letter or digit matches thousands; fetching them all would slow every keystroke, and nobody
scrolls through more than a few hundred: typing one more letter narrows the list."""


@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to; None means any. ``category`` is a customer's category or a
    worker's status, ``tag`` a customer's tag or a worker's skill, ``tier`` and ``stage``
    (lifecycle, :mod:`hk.domain.stage`) customers only."""

    category: str | None = None
    tag: str | None = None
    tier: str | None = None
    stage: str | None = None

    def any(self) -> bool:
        return bool(self.category or self.tag or self.tier or self.stage)


@dataclass
class Found:
    """Rows of one search (summaries with a few extra fields), and whether there were more."""

    query: str
    filters: Filters
    rows: list[Listed]
    more: bool


@dataclass
class Choices:
    """The values each filter offers, taken from the settings and the records."""

    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)


def _matches(row: sqlite3.Row, filters: Filters, staged: set[str] | None = None) -> bool:
    if staged is not None and row["id"] not in staged:
        return False
    if filters.category and row["category"] != filters.category:
        return False
    if filters.tag and f"{SEP}{filters.tag}{SEP}" not in row["tags"]:
        return False
    return not (filters.tier and orjson.loads(row["data"]).get("tier", "") != filters.tier)


def search(
    archive: Archive,
    kind: Kind,
    query: str,
    filters: Filters,
    cap: int = CAP,
    today: dt.date | None = None,
) -> Found:
    """Customers or workers matching ``query`` (all of them if it is blank) and ``filters``,
    best matches first (search) or in pinyin order (listing); stages on ``today``."""
    index = archive.index
    text = query.strip()
    staged = _staged(archive, filters.stage, today) if filters.stage else None
    if text:
        rows = index.find(kind, text, limit=0 if filters.any() else cap + 1)
        rows = [r for r in rows if _matches(r, filters, staged)] if filters.any() else rows
    elif filters.tier or staged is not None:
        rows = [
            r
            for r in index.list(kind, tag=filters.tag, category=filters.category)
            if _matches(r, filters, staged)
        ]
    else:
        rows = index.list(kind, tag=filters.tag, category=filters.category, limit=cap + 1)
    more = len(rows) > cap
    return Found(text, filters, [_row(kind, r) for r in rows[:cap]], more)


def _staged(archive: Archive, stage: str, today: dt.date | None) -> set[str]:
    """IDs of the customers in ``stage``, from the index as it is: the TUI's watch keeps it
    up to date, and a keystroke must not wait for a scan of every folder."""
    from hk.services.stages import stages

    return {who for who, found in stages(archive, today, refresh=False).items() if found == stage}


class Listed(dict[str, Any]):
    """A listed record: its summary, and its stored data read only if a column asks for it
    (most rows of a long result are never shown)."""

    def __init__(self, summary: dict[str, Any], data: bytes) -> None:
        super().__init__(summary)
        self._data = data
        self._parsed: dict[str, Any] | None = None

    @property
    def data(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = orjson.loads(self._data)
        return self._parsed


def _row(kind: Kind, row: sqlite3.Row) -> Listed:
    return Listed(summary(row), row["data"])


def choices(archive: Archive, kind: Kind) -> Choices:
    """Filter values: categories and tiers from ``hk.toml``, tags (or skills) in use."""
    tags: set[str] = set()
    for row in archive.index.list(kind):
        tags.update(t for t in row["tags"].split(SEP) if t)
    settings = archive.settings
    if kind == "customer":
        from hk.domain.stage import STAGES

        return Choices(
            list(settings.customers.categories), sorted(tags), settings.tier_names(), list(STAGES)
        )
    return Choices(["available", "placed", "inactive"], sorted(tags), [])


def expiring(data: dict[str, Any], today: dt.date, within_days: int) -> list[tuple[str, dt.date]]:
    """A worker's certificates (and insurance) that expire within ``within_days`` of ``today``
    or already have: (what, day), soonest first."""
    horizon = today + dt.timedelta(days=within_days)
    due: list[tuple[str, dt.date]] = []
    for cert in data.get("certificates", []):
        if cert.get("expires"):
            day = dt.date.fromisoformat(cert["expires"])
            if day <= horizon:
                due.append((str(cert.get("kind", "")), day))
    insurance = data.get("insurance")
    if insurance and insurance.get("expires"):
        day = dt.date.fromisoformat(insurance["expires"])
        if day <= horizon:
            due.append(("insurance", day))
    return sorted(due, key=lambda item: item[1])


def on_leave(data: dict[str, Any], today: dt.date) -> bool:
    return any(
        span.get("start", "") <= today.isoformat() <= span.get("end", "")
        for span in data.get("leave", [])
    )
