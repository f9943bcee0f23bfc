"""The workers page (阿姨): skills, weekly availability, certificates running out.

A certificate or an insurance policy expiring within ``[reminders] certificate_days`` shows in
yellow, within two weeks (or past) in red, so the office renews it before a job needs it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text

from hk.domain.layout import Kind
from hk.tui.data.lists import Listed, expiring, on_leave
from hk.tui.format import availability_days, due, joined
from hk.tui.keys import bind
from hk.tui.screens.lists import ListScreen
from hk.tui.widgets.results import Cells


class WorkersScreen(ListScreen):
    """Every worker, or those the search, status and skill filters find."""

    TITLE_KEY: ClassVar[str] = "screen.workers"
    KIND: ClassVar[Kind] = "worker"
    SEARCH_KEY: ClassVar[str] = "search.workers"
    FILTER_KEYS: ClassVar[dict[str, str]] = {"category": "filter.status", "tag": "filter.skill"}
    BINDINGS: ClassVar[list[Any]] = [bind("ctrl+n", "new_record", "new_worker")]

    def columns(self) -> list[str]:
        t = self.texts
        return [
            t("col.code"),
            t("col.name"),
            t("col.status"),
            t("col.skills"),
            t("col.availability"),
            t("col.expiring"),
            t("col.phones"),
            t("col.native_place"),
        ]

    def choice_label(self, name: str, value: str) -> str:
        return self.texts.worker_status(value) if name == "category" else value

    def cells(self, row: Listed) -> Cells:
        t = self.texts
        today = self.hk.today()
        within = self.hk.session.main.settings.reminders.certificate_days
        status = t.worker_status(row.get("status", ""))
        data = row.data
        if on_leave(data, today):
            status += t.paren(t("page.on_leave"))
        soon = expiring(data, today, within)
        if soon:
            what, day = soon[0]
            name = t("f.insurance") if what == "insurance" else what
            due_cell = Text(f"{name} ").append_text(due(day, today, t, within))
        else:
            due_cell = Text("")
        return [
            row["code"] or "",
            row["name"],
            status,
            joined(row.get("skills", [])),
            availability_days(data.get("availability", {}), t),
            due_cell,
            joined(row.get("phones", []), " "),
            row.get("native_place", ""),
        ]
