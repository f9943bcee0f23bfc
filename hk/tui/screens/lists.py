"""A searchable, filterable list of records: the base of the customers and workers pages.

Each keystroke in the search box starts a search in a worker named ``search``; a newer one
replaces an older one still running, so typing never waits for a result it has already made
stale. The list shows at most :data:`~hk.tui.data.lists.CAP` rows and says so when there were
more. Filters narrow the same search. Enter opens the record's page: from the search box, the
best match's (or the one the list's cursor is on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.containers import Horizontal
from textual.widgets import Input, Select, Static

from hk.domain.layout import Kind
from hk.tui.data.lists import CAP, Choices, Filters, Found, Listed, choices, search
from hk.tui.keys import bind
from hk.tui.screens.base import HkScreen
from hk.tui.widgets.inputs import FilterSelect, SearchBox
from hk.tui.widgets.results import Cells, ResultTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.store.archive import Archive

FILTERS = ("category", "tag", "tier", "stage")


class ListScreen(HkScreen):
    """Search box, filters, results and a status line for one kind of record."""

    KIND: ClassVar[Kind] = "customer"  # each screen names its own
    SEARCH_KEY: ClassVar[str] = ""
    FILTER_KEYS: ClassVar[dict[str, str]] = {}
    """Filter (category, tag, tier) → i18n key of its name; only these are shown."""

    BINDINGS: ClassVar[list[Any]] = [
        bind("slash", "focus_search", "search"),
        bind("down", "focus_results", "results", show=False),
        bind("escape", "clear", "clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: Found | None = None
        self.searches = 0
        """Searches shown so far (the benchmark counts them)."""

    # --- what a kind says -------------------------------------------------------------------

    def columns(self) -> list[str]:
        raise NotImplementedError

    def cells(self, row: Listed) -> Cells:
        raise NotImplementedError

    def choice_label(self, name: str, value: str) -> str:
        return value

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.texts
        yield from self.header()
        many = "many-filters" if len(self.FILTER_KEYS) > 2 else ""
        with Horizontal(id="bar", classes=many):
            yield SearchBox(placeholder=t(self.SEARCH_KEY), id="search")
            for name, key in self.FILTER_KEYS.items():
                yield FilterSelect([], prompt=t(key), id=f"filter-{name}", classes="filter")
        yield ResultTable("help.results", id="results")
        yield Static(t("list.loading"), id="status")
        yield from self.footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#results", ResultTable).set_columns(self.columns())
        self.query_one("#search", Input).focus()

    # --- reading ----------------------------------------------------------------------------

    def load(self) -> None:
        kind = self.KIND

        def job(archive: Archive) -> Choices:
            archive.index.refresh([kind])
            return choices(archive, kind)

        self.work("choices", job, self._set_choices)
        self.search()

    def _set_choices(self, found: Choices) -> None:
        values = {
            "category": found.categories,
            "tag": found.tags,
            "tier": found.tiers,
            "stage": found.stages,
        }
        for name in self.FILTER_KEYS:
            select = self.query_one(f"#filter-{name}", Select)
            current = select.value
            options = [(self.choice_label(name, v), v) for v in values[name]]
            with self.prevent(Select.Changed):
                select.set_options(options)
                if isinstance(current, str) and current in values[name]:
                    select.value = current

    def filters(self) -> Filters:
        chosen: dict[str, str | None] = {}
        for name in self.FILTER_KEYS:
            value = self.query_one(f"#filter-{name}", Select).value
            chosen[name] = value if isinstance(value, str) else None
        return Filters(**chosen)

    def search(self) -> None:
        kind, query, filters = self.KIND, self.query_one("#search", Input).value, self.filters()
        cap, today = CAP, self.hk.today()

        def job(archive: Archive) -> Found:
            return search(archive, kind, query, filters, cap, today)

        self.work("search", job, self.show)

    def show(self, found: Found) -> None:
        t = self.texts
        self.found = found
        table = self.query_one("#results", ResultTable)
        table.cells = self.cells
        table.show_rows([(row["id"], row) for row in found.rows])
        if found.more:
            status = t("list.capped", n=CAP)
        elif found.rows:
            status = t("list.count", n=len(found.rows))
        else:
            status = t("list.none")
        self.query_one("#status", Static).update(status)
        self.searches += 1
        self.ready = True

    # --- events and actions -----------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.search()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        """Enter in the search box opens the record the list's cursor is on (the best match)."""
        record_id = self.query_one("#results", ResultTable).current_id()
        if record_id is not None:
            self.hk.open_record(self.KIND, record_id)

    def on_select_changed(self, _event: Select.Changed) -> None:
        self.search()

    def on_result_table_chosen(self, event: ResultTable.Chosen) -> None:
        self.hk.open_record(self.KIND, event.record_id)

    def action_new_record(self) -> None:
        """A new record of this list's kind in a form; its page opens once it is saved."""
        from hk.tui.screens.forms import open_form_screen

        open_form_screen(
            self, self.KIND, done=lambda saved: self.hk.open_record(saved.kind, saved.record_id)
        )

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_results(self) -> None:
        self.query_one("#results", ResultTable).focus()

    def action_clear(self) -> None:
        search_box = self.query_one("#search", Input)
        with self.prevent(Input.Changed, Select.Changed):
            search_box.value = ""
            for name in self.FILTER_KEYS:
                self.query_one(f"#filter-{name}", Select).clear()
        search_box.focus()
        self.search()
