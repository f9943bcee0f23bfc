"""How values read on screen: weekly hours, due dates, lists, in the TUI's language."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.text import Text

from hk.domain.common import WEEKDAYS

if TYPE_CHECKING:
    from hk.tui.i18n import Texts

SOON_DAYS = 14
"""A due date this close shows red; further within the warning window, yellow."""


def day_runs(days: list[int], texts: Texts) -> str:
    """Weekday numbers (Monday 0) as runs: ``周一至五、日`` or ``Mon–Fri, Sun``."""
    if not days:
        return ""
    runs: list[tuple[int, int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    if texts.zh:
        names = texts("weekdays")
        parts = [names[a] if a == b else f"{names[a]}至{names[b]}" for a, b in runs]
        return texts("weekday.prefix") + "、".join(parts)
    short = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return ", ".join(short[a] if a == b else f"{short[a]}–{short[b]}" for a, b in runs)


def availability_days(availability: dict[str, Any], texts: Texts) -> str:
    """The days a worker works, as runs (the list's short form)."""
    days = [WEEKDAYS.index(d) for d in availability if d in WEEKDAYS and availability[d]]
    return day_runs(days, texts) or texts("availability.none")


def availability_lines(availability: dict[str, Any], texts: Texts) -> list[tuple[str, str]]:
    """Days with the same hours grouped: [(``周一至五``, ``08:00-12:00 14:00-18:00``) …]."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for day in WEEKDAYS:
        hours = tuple(availability.get(day) or ())
        if hours:
            groups.setdefault(hours, []).append(WEEKDAYS.index(day))
    lines = [(day_runs(days, texts), " ".join(hours)) for hours, days in groups.items()]
    return sorted(lines, key=lambda line: _first_day(line[0], texts))


def _first_day(runs: str, texts: Texts) -> int:
    if texts.zh:
        names = texts("weekdays")
        return next((names.index(c) for c in runs if c in names), 7)
    short = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return next((i for i, s in enumerate(short) if runs.startswith(s)), 7)


def due(day: dt.date, today: dt.date, texts: Texts, within: int) -> Text:
    """A due date with how far off it is; red when past or close, yellow within ``within``."""
    days = (day - today).days
    words = texts("page.expired") if days < 0 else texts("page.expires_in", days=days)
    style = "bold red" if days < SOON_DAYS else "yellow" if days <= within else ""
    return Text(f"{day.isoformat()} {words}", style=style)


def joined(values: Any, sep: str = "、") -> str:
    """A list as one line (``高端客户、季度服务套餐``); other values as text."""
    if isinstance(values, list):
        return sep.join(str(v) for v in values if v not in (None, ""))
    return "" if values is None else str(values)


def address_line(address: dict[str, Any]) -> str:
    parts = (
        address.get("city"),
        address.get("district"),
        address.get("community"),
        address.get("detail"),
    )
    return "".join(p for p in parts if p)
