"""F1: help for the focused widget, and every key of the page with the id to rebind it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from hk.tui.keys import bind, localize

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.tui.app import HkApp


def help_key_of(screen: Screen[Any]) -> str:
    """The help of the focused widget (or the nearest container with one), else the page's."""
    focused = screen.focused
    if focused is not None:
        for node in focused.ancestors_with_self:
            key = getattr(node, "help_key", None)
            if isinstance(key, str):
                return key
    return str(getattr(screen, "HELP_KEY", "help.screen"))


def key_rows(app: HkApp, screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(key, what it does, id) for every binding with an id active on ``screen``."""
    rows: dict[str, tuple[str, str, str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.id:
            continue
        shown = app.get_key_display(binding) or key
        if binding.id in rows:
            old = rows[binding.id]
            rows[binding.id] = (f"{old[0]}, {shown}", old[1], old[2])
        else:
            rows[binding.id] = (shown, binding.description, binding.id)
    return list(rows.values())


class HelpScreen(ModalScreen[None]):
    """Shown over the page it explains; Escape or F1 closes it."""

    BINDINGS: ClassVar[list[Any]] = [
        bind("escape", "dismiss", "close"),
        bind("f1", "dismiss", "close", show=False),
    ]

    def __init__(self, page: Screen[Any]) -> None:
        super().__init__()
        self.page = page
        self.texts = cast("HkApp", self.app).texts
        localize(self, self.texts)

    def compose(self) -> ComposeResult:
        t = self.texts
        app = cast("HkApp", self.app)
        with Vertical(id="help-box") as box:
            box.border_title = t("screen.help")
            yield Static(Text(t(help_key_of(self.page))), id="help-text")
            table: DataTable[Any] = DataTable(id="help-keys", cursor_type="row")
            table.add_columns(Text(t("col.key")), Text(t("col.action")), Text(t("col.id")))
            for key, what, binding_id in key_rows(app, self.page):
                table.add_row(Text(key), Text(what), Text(binding_id))
            yield table
            yield Static(Text(t("help.help")), id="help-rebind")
