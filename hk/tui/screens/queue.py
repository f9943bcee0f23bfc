"""The office's queue (待办): return visits due and today's reminders (SPEC §4).

Both are read in one worker (the visits read every customer's history: a moment on a big
archive). ``l`` (or Enter) on a visit asks how it was made, the five scores (or none) and a
note, and logs it through the visits' service; the queue then reads again. Reminders are
listed as ``hk remind`` lists them, read-only: sending stays with ``hk remind --send``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.containers import Vertical

from hk.domain.survey import DIMENSIONS
from hk.domain.visit.model import METHOD_ZH
from hk.tui.data.queue import Waiting, log_visit, waiting
from hk.tui.keys import bind
from hk.tui.screens.base import HkScreen
from hk.tui.screens.dialogs import Field, FormDialog
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.domain.visit.model import Visit
    from hk.services.records import Stepped
    from hk.store.archive import Archive

METHOD_EN = {"phone": "phone", "wechat": "WeChat", "survey": "online survey", "onsite": "on site"}


class QueueScreen(HkScreen):
    """Visits due and today's reminders (see the module's docstring)."""

    TITLE_KEY: ClassVar[str] = "screen.queue"
    HELP_KEY: ClassVar[str] = "help.queue"
    AUTO_FOCUS: ClassVar[str | None] = "#queue-visits"
    BINDINGS: ClassVar[list[Any]] = [
        bind("l", "log_visit", "visit_log"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: Waiting | None = None

    def compose(self) -> ComposeResult:
        yield from self.header()
        with Vertical(id="queue-body"):
            yield ResultTable("help.queue", id="queue-visits")
            yield ResultTable("help.queue_reminders", id="queue-reminders")
        yield from self.footer()

    def on_mount(self) -> None:
        super().on_mount()
        t = self.texts
        visits = self.query_one("#queue-visits", ResultTable)
        visits.border_title = t("dash.visits")
        visits.set_columns([t("col.due"), t("col.customer"), t("col.type"), t("col.reason")])
        reminders = self.query_one("#queue-reminders", ResultTable)
        reminders.border_title = t("dash.reminders")
        reminders.set_columns([t("col.type"), t("col.to"), t("col.content")])

    def load(self) -> None:
        today = self.hk.today()

        def job(archive: Archive) -> Waiting:
            return waiting(archive, today)

        self.work("queue", job, self.show)

    def show(self, found: Waiting) -> None:
        t = self.texts
        self.found = found
        visits = self.query_one("#queue-visits", ResultTable)
        visits.border_title = t("dash.visits_n", n=len(found.visits))
        visits.show_rows([(str(v["key"]), self.visit_cells(v)) for v in found.visits])
        reminders = self.query_one("#queue-reminders", ResultTable)
        reminders.border_title = t("dash.reminders_n", n=len(found.reminders))
        reminders.show_rows(
            [
                (f"{r['key']}:{n}", [t(f"rule.{r['rule']}"), self.audience(r), r["text"]])
                for n, r in enumerate(found.reminders)
            ]
        )
        self.ready = True

    def visit_cells(self, visit: dict[str, Any]) -> list[Text | str]:
        t = self.texts
        late = int(visit["days_overdue"])
        due = Text(
            f"{visit['due'][5:]} "
            + (t("dash.overdue", n=late) if late > 0 else t("dash.due_today")),
            style="red" if late > 0 else "",
        )
        kind = visit["type_zh"] if t.zh else str(visit["type"]).replace("_", " ")
        return [
            due,
            f"{visit['customer_code']} {visit['customer_name']}".strip(),
            kind,
            str(visit.get("reason") or ""),
        ]

    def audience(self, row: dict[str, Any]) -> str:
        who = self.texts(f"queue.to.{row['audience']}")
        return f"{who} {row['person_name']}" if row.get("person_name") else who

    # --- logging a visit --------------------------------------------------------------------

    def on_result_table_chosen(self, event: ResultTable.Chosen) -> None:
        if event.table.id == "queue-visits":
            self.action_log_visit()

    def action_log_visit(self) -> None:
        if self.found is None:
            return
        table = self.query_one("#queue-visits", ResultTable)
        key = table.current_id()
        visit = next((v for v in self.found.visits if v["key"] == key), None)
        if visit is None:
            return
        t = self.texts
        methods = tuple((m, zh if t.zh else METHOD_EN.get(m, m)) for m, zh in METHOD_ZH.items())
        fields = [Field("method", t("queue.method"), "phone", methods)]
        fields += [Field(name, t(f"score.{name}")) for name in DIMENSIONS]
        fields += [Field("nps", t("board.nps")), Field("note", t("queue.note"))]
        title = t("queue.log_title", who=f"{visit['customer_code']} {visit['customer_name']}")

        def given(values: dict[str, str] | None) -> None:
            if values is None:
                return

            def job(archive: Archive) -> Stepped[Visit]:
                return log_visit(archive, visit, values)

            self.work("log-visit", job, self.logged)

        self.app.push_screen(FormDialog(title, fields, t("queue.log_hint")), given)

    def logged(self, logged: Stepped[Visit]) -> None:
        notes = "\n".join(logged.notes)
        self.notify(self.texts("queue.logged") + (f"\n{notes}" if notes else ""), timeout=5)
        self.hk.generation += 1
        self.reload()
