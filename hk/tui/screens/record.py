"""A record's page: tabs of what it holds and what belongs to it, reveal, and its git history.

Sensitive values (ID numbers, health and children's details) are masked until the operator
asks to see them (``v``), which needs the archive's key on this machine; without it the page
says so and stays masked. The history tab lists every commit that touched the record, field by
field, read from git in a worker of its own (it is the slowest read of the page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.containers import Grid, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from hk.domain.layout import Kind
from hk.domain.money import format_money
from hk.services.audit import record_reveal
from hk.tui.data.pages import Page, history, page
from hk.tui.keys import bind
from hk.tui.screens.base import HkScreen
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.services.history import Entry
    from hk.store.archive import Archive
    from hk.tui.widgets.fields import FieldsPanel


class Profile(VerticalScroll):
    """The record's own fields, in panels (scrolls with the keyboard when focused)."""

    def __init__(self, help_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.help_key = help_key


class RecordScreen(HkScreen):
    """The page of one record of :attr:`KIND`: a panel per name of :attr:`PANELS` (``notes``
    free text, the others fields), filled by the subclass's ``show``."""

    KIND: ClassVar[Kind] = "customer"  # each screen names its own
    PANELS: ClassVar[tuple[str, ...]] = ()
    TABS: ClassVar[list[str]] = ["profile", "orders", "history"]
    PROFILE_HELP: ClassVar[str] = "help.profile"

    BINDINGS: ClassVar[list[Any]] = [
        bind("escape", "back", "back"),
        bind("v", "reveal", "reveal"),
        bind("e", "edit_record", "edit"),
        bind("E", "edit_file", "edit_file", show=False),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.revealed = False
        self.to_sensitive = False
        """Bring the sensitive values into view once the page is read again (after reveal)."""
        self.page: Page | None = None
        self.entries: list[Entry] | None = None

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.texts
        yield from self.header()
        yield Static(t("list.loading"), id="record-title")
        with TabbedContent(id="tabs"):
            for tab in self.TABS:
                with TabPane(self._tab_label(tab), id=tab):
                    if tab == "profile":
                        with (
                            Profile(self.PROFILE_HELP, id="profile-panels"),
                            Grid(classes="sections"),
                        ):
                            yield from self.panels()
                    else:
                        yield ResultTable(
                            f"help.{tab}" if tab == "history" else "help.results", id=f"{tab}-table"
                        )
        yield from self.footer()

    def _tab_label(self, tab: str) -> str:
        return self.texts(f"bind.tab_{tab}")

    def panels(self) -> ComposeResult:
        """The profile's panels (empty until the record is read)."""
        from hk.tui.widgets.fields import FieldsPanel, TextPanel

        t = self.texts
        for name in self.PANELS:
            if name == "notes":
                yield TextPanel(t("page.notes"), id="panel-notes")
            else:
                yield FieldsPanel(t(f"page.{name}"), id=f"panel-{name}", empty=t("page.none"))

    def on_mount(self) -> None:
        super().on_mount()
        t = self.texts
        columns = {
            "orders": [
                "col.code",
                "col.start",
                "col.status",
                "col.services",
                "col.workers",
                "col.total",
            ],
            "contracts": [
                "col.code",
                "col.type",
                "col.status",
                "col.start",
                "col.end",
                "col.workers",
                "col.fee",
            ],
            "surveys": ["col.day", "col.channel", "col.scores", "col.nps"],
            "visits": ["col.due", "col.type", "col.status", "col.reason", "col.done"],
            "complaints": [
                "col.day",
                "col.category",
                "col.severity",
                "col.status",
                "col.workers",
                "col.done",
            ],
            "history": ["col.when", "col.operator", "col.change"],
        }
        for tab in self.TABS:
            if tab in columns:
                self.query_one(f"#{tab}-table", ResultTable).set_columns(
                    [t(key) for key in columns[tab]]
                )
        self.query_one("#profile-panels").focus()

    # --- reading ----------------------------------------------------------------------------

    def load(self) -> None:
        kind, record_id, reveal, today = self.KIND, self.record_id, self.revealed, self.hk.today()

        def read(archive: Archive) -> Page:
            return page(archive, kind, record_id, reveal, today)

        def log(archive: Archive) -> list[Entry]:
            return history(archive, kind, record_id, reveal)

        self.work("page", read, self._show_page)
        self.work("history", log, self._show_history)

    def _show_page(self, found: Page) -> None:
        self.page = found
        self.query_one("#record-title", Static).update(self.title_line(found))
        self.show(found)
        self.query_one("#orders-table", ResultTable).show_rows(
            [(o["id"], self.order_cells(o)) for o in found.orders]
        )
        if self.to_sensitive:
            self.to_sensitive = False
            for panel in self.query("#panel-sensitive"):
                self.call_after_refresh(panel.scroll_visible, animate=False)
        self.ready = True

    def _show_history(self, entries: list[Entry]) -> None:
        self.entries = entries
        rows: list[tuple[str, list[Text | str]]] = []
        for entry in entries:
            when = entry.when[:16].replace("T", " ")
            rows.append((entry.commit, [when, entry.operator, Text(entry.subject, style="bold")]))
            created = all(c.old is None for c in entry.changes) and entry is entries[-1]
            if created and entry.changes:
                rows.append(
                    (
                        f"{entry.commit}:new",
                        ["", "", self.texts("page.created", n=len(entry.changes))],
                    )
                )
                continue
            for i, change in enumerate(entry.changes):
                old = "—" if change.old is None else _plain(change.old)
                new = "—" if change.new is None else _plain(change.new)
                rows.append((f"{entry.commit}:{i}", ["", "", f"{change.field}: {old} → {new}"]))
        self.query_one("#history-table", ResultTable).show_rows(rows)

    def title_line(self, found: Page) -> Text:
        """Name, code and whether sensitive values show."""
        t = self.texts
        line = Text()
        line.append(str(found.data.get("name", "")), style="bold")
        line.append(f"  {found.code}")
        if not found.key_available:
            line.append(f"   {t('page.locked')}", style="dim")
        elif found.revealed:
            line.append(f"   {t('page.revealed')}", style="bold red")
        else:
            line.append(f"   {t('page.masked')}", style="dim")
        return line

    def show(self, found: Page) -> None:
        """Fill the profile's panels and the kind's own tabs."""

    def order_cells(self, order: dict[str, Any]) -> list[Text | str]:
        return [
            order.get("code") or "",
            order["start"][:16].replace("T", " "),
            self.texts.order_status(order["status"]),
            " ".join(order.get("services", [])),
            ", ".join(order.get("worker_names", [])),
            format_money(order["total_fen"]),
        ]

    def panel(self, panel_id: str) -> FieldsPanel:
        from hk.tui.widgets.fields import FieldsPanel

        return self.query_one(f"#{panel_id}", FieldsPanel)

    # --- actions ----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit_record(self) -> None:
        """This record in a form; the page reads it again once it is saved."""
        from hk.tui.screens.forms import open_form_screen

        open_form_screen(self, self.KIND, self.record_id)

    def action_edit_file(self) -> None:
        """The record's whole file in $EDITOR, as ``hk edit`` opens it: every field, checked on
        save and reopened with the problems on top; the TUI waits, suspended, meanwhile."""
        from textual.app import SuspendNotSupported

        from hk.errors import HkError
        from hk.services.editor import edit

        t = self.texts
        try:
            with self.app.suspend():
                outcome = edit(self.hk.session.main, self.record_id)
        except SuspendNotSupported:
            self.notify(t("form.no_editor"), severity="warning", timeout=8)
            return
        except HkError as exc:
            self.hk.report_error(exc)
            return
        if outcome.aborted:
            self.notify(t("msg.file_aborted"), timeout=5)
        elif outcome.result is None or outcome.result.commit is None:
            self.notify(t("msg.file_unchanged"), timeout=5)
        else:
            fields = ", ".join(outcome.result.changed_fields)
            self.notify(t("msg.file_saved", fields=fields), timeout=5)
        self.load()

    def action_reveal(self) -> None:
        """Show or hide sensitive values; showing them needs the key on this machine and a
        reason, which goes into the audit trail with the reveal (as ``--reveal --reason``)."""
        if self.revealed:
            self._reveal(False)
            return
        kind, record_id = self.KIND, self.record_id

        def given(reason: str) -> None:
            def job(archive: Archive) -> object:
                return record_reveal(archive, kind, record_id, reason, "screen")

            self.work("reveal", job, lambda _: self._reveal(True))

        self.ask_to_reveal(given)

    def _reveal(self, shown: bool) -> None:
        self.revealed = shown
        self.to_sensitive = shown
        self.load()

    def action_tab(self, tab: str) -> None:
        if tab not in self.TABS:
            return
        self.query_one(TabbedContent).active = tab
        target = "#profile-panels" if tab == "profile" else f"#{tab}-table"
        self.query_one(target).focus()


def tab_keys(tabs: list[str]) -> list[Any]:
    """Digit keys 1, 2, 3 … for a page's tabs, in order (ids ``tab_<name>``)."""
    return [
        bind(str(i), f"tab('{tab}')", f"tab_{tab}", show=False) for i, tab in enumerate(tabs, 1)
    ]


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
