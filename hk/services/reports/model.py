"""What a report is: a period, the filters, and the figures and tables it found.

Every report of SPEC §6 returns a :class:`Report`: headline figures (each with the same figure
for the period before, so the change can be shown), tables whose columns say what kind of
number they hold (money in fen, a share, a score), and a footnote saying how the figures were
counted. The command prints it, writes it as JSON or CSV, or renders it as a document; the TUI
shows it. Nothing here reads the archive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

REPORT_NAMES = (
    "revenue",
    "funnel",
    "customers",
    "retention",
    "workers",
    "satisfaction",
    "quality",
    "channels",
)
"""Every report by name, in the order ``hk report all`` shows them."""

By = Literal["month", "week", "day"]
BYS: tuple[By, ...] = ("month", "week", "day")
ColumnKind = Literal["text", "count", "fen", "pct", "score", "hours", "days", "nps", "ratio"]
"""How a column's numbers read: ``fen`` money (integer fen), ``pct`` a share from 0 to 1,
``score`` a mean of 1–5 scores, ``nps`` −100…100, ``ratio`` a plain decimal."""


@dataclass(frozen=True)
class Period:
    """The days reported on, both ends included, and how they are grouped."""

    start: dt.date
    end: dt.date
    by: By = "month"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before, as long: whole months give the months before (March gives
        February, a year the year before), anything else the same number of days."""
        nxt = self.end + dt.timedelta(days=1)
        if self.start.day == 1 and nxt.day == 1:
            months = (nxt.year - self.start.year) * 12 + nxt.month - self.start.month
            return Period(
                add_months(self.start, -months), self.start - dt.timedelta(days=1), self.by
            )
        return Period(
            self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1), self.by
        )

    def bucket(self, day: dt.date) -> str:
        return bucket_of(day, self.by)

    def buckets(self) -> list[str]:
        """Every group of the period in order, those with nothing in them too."""
        out: list[str] = []
        day = self.start
        while day <= self.end:
            label = self.bucket(day)
            if not out or out[-1] != label:
                out.append(label)
            day += dt.timedelta(days=1)
        return out

    def text(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def bucket_of(day: dt.date, by: By) -> str:
    """A day's group: ``2024-03`` (month), the Monday ``2024-03-04`` (week), or the day."""
    if by == "month":
        return day.isoformat()[:7]
    if by == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    return day.isoformat()


BUCKET_SQL = {
    "month": "substr({col}, 1, 7)",
    "week": "date({col}, 'weekday 0', '-6 days')",
    "day": "{col}",
}
"""The same groups in SQL, over a ``YYYY-MM-DD`` column."""
BUCKET_TITLE = {"month": "月份", "week": "周(周一)", "day": "日期"}


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


@dataclass(frozen=True)
class Filters:
    """What a report may be narrowed to; ``None`` is everything. ``worker`` is a worker's ID."""

    service: str | None = None
    channel: str | None = None
    district: str | None = None
    community: str | None = None
    worker: str | None = None
    tier: str | None = None

    def any(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items() if v is not None)


@dataclass
class Column:
    key: str
    title: str
    kind: ColumnKind = "count"


@dataclass
class Table:
    """One table of a report; ``chart`` names the column a bar chart of the rows shows."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] | None = None
    chart: str | None = None
    note: str = ""


@dataclass
class Figure:
    """A headline number, with the same number for the period before."""

    key: str
    title: str
    kind: ColumnKind
    value: float | int | None
    previous: float | int | None = None

    @property
    def change(self) -> float | None:
        """The relative change against the period before (``None`` if it cannot be said)."""
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)


@dataclass
class Report:
    name: str
    title: str
    period: Period
    previous: Period
    filters: Filters
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    footnote: str = ""
    broken: dict[str, str] = field(default_factory=dict)
    """Files the index could not read, so not counted: the command names them."""

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: money stays in fen, shares from 0 to 1."""
        return {
            "report": self.name,
            "title": self.title,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "by": self.period.by,
            "previous": {
                "from": self.previous.start.isoformat(),
                "to": self.previous.end.isoformat(),
            },
            "filters": {k: v for k, v in asdict(self.filters).items() if v is not None},
            "figures": [
                {
                    "key": f.key,
                    "title": f.title,
                    "kind": f.kind,
                    "value": f.value,
                    "previous": f.previous,
                    "change": f.change,
                }
                for f in self.figures
            ],
            "tables": [
                {
                    "name": t.name,
                    "title": t.title,
                    "columns": [asdict(c) for c in t.columns],
                    "rows": t.rows,
                    "total": t.total,
                }
                for t in self.tables
            ],
            "footnote": self.footnote,
        }


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide by."""
    return part / whole if whole else None
