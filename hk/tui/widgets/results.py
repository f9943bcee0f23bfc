"""A list of records that stays quick however long the result: rows are added a page at a time.

A search holds up to :data:`hk.tui.data.lists.CAP` rows, but only the first
:data:`ResultTable.PAGE` become table rows at once; the next page is added when the cursor or
the view comes near the end (toolong's lesson: render what is visible). Choosing a row posts
:class:`ResultTable.Chosen` with the record's ID; the page decides what to open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

Cells = Sequence[Text | str]
Row = tuple[str, Any]
"""A row's key (the record's ID) and what :attr:`ResultTable.cells` turns into its cells."""


class ResultTable(DataTable[Any]):
    """Rows keyed by record ID, added lazily; Enter chooses one."""

    PAGE: ClassVar[int] = 60
    """Rows added at a time."""

    class Chosen(Message):
        """The operator chose the record with this ID (Enter or a click)."""

        def __init__(self, table: ResultTable, record_id: str) -> None:
            super().__init__()
            self.table = table
            self.record_id = record_id

        @property
        def control(self) -> ResultTable:
            return self.table

    def __init__(self, help_key: str, *, id: str | None = None, fit_last: bool = False) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.help_key = help_key
        self.fit_last = fit_last
        """The last column (a long reason, say) takes what the others leave of the table's
        width and is cut there, rather than scroll the table sideways; the full text is
        shown elsewhere on the page."""
        self._widest_last = 0
        self._labels: list[str] = []
        self._pending: list[Row] = []
        self._shown = 0
        self.cells: Callable[[Any], Cells] = _as_cells
        """Turns a row's item into its cells, when the row is added (not before)."""

    def set_columns(self, labels: Sequence[str]) -> None:
        """Columns as wide as their labels; :meth:`_fill` widens them for the rows it adds.

        The widths are set here rather than measured by the table when it is idle: a search
        typed quickly replaces the rows several times, and a table left to measure could show
        the last rows in columns still as narrow as their headers.
        """
        self._labels = list(labels)
        self._widest_last = 0
        self.clear(columns=True)
        for label in labels:
            self.add_column(Text(label), width=cell_len(label))

    def show_rows(self, rows: Sequence[Row]) -> None:
        """Replace the rows, keeping the cursor on the same record if it is still there.

        The columns are made anew too, so that they fit these rows, not the widest ever shown.
        """
        keep = self.current_id()
        self.set_columns(self._labels)
        self._pending = list(rows)
        self._shown = 0
        where = next((i for i, (key, _) in enumerate(rows) if key == keep), 0)
        self._fill(max(self.PAGE, where + 1))
        if rows:
            self.move_cursor(row=where, scroll=True)

    @property
    def total(self) -> int:
        """Rows of the result, shown or still to come."""
        return len(self._pending)

    def current_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # no cursor row (an empty table)
            return None
        return str(key.value) if key.value is not None else None

    def _fill(self, upto: int) -> None:
        batch = self._pending[self._shown : upto]
        made = [
            (key, [c if isinstance(c, Text) else Text(c) for c in self.cells(item)])
            for key, item in batch
        ]
        columns = self.ordered_columns
        for n, column in enumerate(columns):
            widest = max(
                (cell_len(cells[n].plain) for _, cells in made if n < len(cells)), default=0
            )
            column.width = max(column.width, widest)
        if self.fit_last and columns:
            self._widest_last = max(self._widest_last, columns[-1].width)
            self._fit_last()
        for key, cells in made:
            self.add_row(*cells, key=key)
        self._shown += len(batch)

    def _fit_last(self) -> None:
        columns = self.ordered_columns
        if not columns or not self.size.width:
            return
        padding = 2 * self.cell_padding
        others = sum(c.width + padding for c in columns[:-1])
        room = self.size.width - others - padding - 2  # and the vertical scrollbar
        label = cell_len(str(columns[-1].label))
        columns[-1].width = max(label, min(self._widest_last, room))

    def on_resize(self) -> None:
        if self.fit_last:
            self._fit_last()
            self.refresh()

    def _near_end(self) -> None:
        if self._shown < len(self._pending):
            visible_end = int(self.scroll_y) + self.size.height
            if max(self.cursor_row, visible_end) >= self._shown - self.PAGE // 4:
                self._fill(self._shown + self.PAGE)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._near_end()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._near_end()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self, str(event.row_key.value)))


def _as_cells(item: Any) -> Cells:
    """Rows given with their cells already made."""
    cells: Cells = item
    return cells
