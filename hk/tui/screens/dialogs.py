"""Small dialogs the boards ask through: choose one of a list, fill in a short form.

Each is a modal screen that gives back what was chosen or typed (``None`` when Escape closed
it); the page that asked decides what to do with it, in a worker. The dialogs check nothing
themselves: the services' refusals are what the operator sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from hk.tui.keys import bind, localize

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.tui.app import HkApp


class ChoiceDialog(ModalScreen[str | None]):
    """One of ``choices`` (value, label): Enter chooses, Escape closes without a choice."""

    BINDINGS: ClassVar[list[Any]] = [bind("escape", "dismiss", "close")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.choices = list(choices)
        localize(self, cast("HkApp", self.app).texts)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield OptionList(
                *[Option(Text(label), id=value) for value, label in self.choices], id="choices"
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


@dataclass(frozen=True)
class Field:
    """One line of a :class:`FormDialog`: a text box, or a choice when ``choices`` is given."""

    name: str
    label: str
    value: str = ""
    choices: tuple[tuple[str, str], ...] = ()


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A few labelled fields; Enter in any box gives back every value by field name."""

    AUTO_FOCUS: ClassVar[str | None] = "Input"
    """Typing starts in the first text box (a choice above it has its value already)."""
    BINDINGS: ClassVar[list[Any]] = [bind("escape", "dismiss", "close")]

    def __init__(self, title: str, fields: Sequence[Field], hint: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.fields = list(fields)
        self.hint = hint
        localize(self, cast("HkApp", self.app).texts)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            for item in self.fields:
                yield Label(Text(item.label))
                if item.choices:
                    yield Select(
                        [(label, value) for value, label in item.choices],
                        value=item.value or item.choices[0][0],
                        allow_blank=False,
                        id=f"field-{item.name}",
                    )
                else:
                    yield Input(item.value, id=f"field-{item.name}")
            if self.hint:
                yield Static(Text(self.hint), classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values: dict[str, str] = {}
        for item in self.fields:
            widget = self.query_one(f"#field-{item.name}")
            if isinstance(widget, Select):
                values[item.name] = str(widget.value)
            elif isinstance(widget, Input):
                values[item.name] = widget.value
        self.dismiss(values)
