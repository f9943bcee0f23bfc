"""A titled panel of label–value lines, for a record's page and the dashboard's figures.

Labels and values are laid out by Rich in terminal cells, so Chinese labels line up and long
values wrap inside the panel instead of being cut off. Values are plain text, never markup:
a note that says ``[重要]`` shows as typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

Value = str | Text
Pair = tuple[str, Value]


def grid(pairs: Sequence[Pair], empty: str = "") -> RenderableType:
    """Labels in one column, values (wrapped) in the other."""
    if not pairs:
        return Text(empty, style="dim")
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1, overflow="fold")
    for label, value in pairs:
        table.add_row(Text(label), value if isinstance(value, Text) else Text(value))
    return table


class FieldsPanel(Static):
    """A bordered panel titled ``title`` holding :func:`grid` of ``pairs``."""

    def __init__(
        self,
        title: str,
        pairs: Sequence[Pair] = (),
        *,
        empty: str = "",
        id: str | None = None,
        classes: str = "",
    ) -> None:
        super().__init__(grid(pairs, empty), id=id, classes=f"fields {classes}".strip())
        self.border_title = title
        self.empty = empty

    def show(self, pairs: Sequence[Pair]) -> None:
        self.update(grid(pairs, self.empty))


class TextPanel(Static):
    """A bordered panel of free text (notes, taboos as lines)."""

    def __init__(
        self, title: str, text: Value = "", *, id: str | None = None, classes: str = ""
    ) -> None:
        super().__init__(
            text if isinstance(text, Text) else Text(text),
            id=id,
            classes=f"fields {classes}".strip(),
        )
        self.border_title = title
