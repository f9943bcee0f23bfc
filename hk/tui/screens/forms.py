"""The form screen: a new or edited customer or worker, or a new order, with each problem
under its own input.

The inputs are those of :mod:`hk.tui.data.forms`, labelled in a column of their own. Leaving an
input checks the whole form with the records' own models (in a worker) and shows the messages
of the inputs already visited; Ctrl+S checks everything and saves through the services (in a
worker: the screen never waits on git). A save refused because someone else changed the record
since the form was opened keeps every typed value and offers Ctrl+R, which reads the record
again, brings in the other writer's changes where the operator typed nothing, and names each
clash under its input. Escape asks before throwing typed input away. Ctrl+E opens the notes in
the operator's editor ($EDITOR), the TUI suspended meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import SuspendNotSupported
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from hk.errors import ConflictError, HkError
from hk.tui.data.forms import TOP, Checked, Form, Reloaded, Saved, check, open_form, reload, save
from hk.tui.keys import bind, localize
from hk.tui.screens.base import OfHkApp
from hk.tui.screens.dialogs import ChoiceDialog

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.widget import Widget

    from hk.domain.layout import Kind
    from hk.store.archive import Archive
    from hk.tui.screens.base import HkScreen


class FormScreen(OfHkApp, ModalScreen[Saved | None]):
    """One form over the page that opened it; gives back what was saved (None if nothing)."""

    HELP_KEY: ClassVar[str] = "help.form"
    BINDINGS: ClassVar[list[Any]] = [
        bind("ctrl+s", "save", "form_save", priority=True),
        bind("escape", "cancel", "form_cancel"),
        bind("ctrl+e", "edit_notes", "form_editor", priority=True),
        bind("ctrl+r", "reload", "form_reload", priority=True),
    ]

    def __init__(self, form: Form) -> None:
        super().__init__(classes="form-screen")
        self.form = form
        self.touched: set[str] = set()
        """Inputs the operator has left at least once: only their messages show before a save."""
        self.stale = False
        """A save was refused because the record changed meanwhile: Ctrl+R reads it again."""
        self.saving = False
        localize(self, self.texts)

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.texts
        form = self.form
        with Vertical(id="form-box") as box:
            box.border_title = self.heading()
            box.border_subtitle = t("form.hint")
            yield Static("", id="form-top", classes="form-message")
            with VerticalScroll(id="form-body"):
                for item in form.fields:
                    label = t(item.label) + (" *" if item.required else "")
                    with Horizontal(classes="form-row"):
                        yield Label(Text(label), classes="form-label")
                        with Vertical(classes="form-cell"):
                            yield self.widget_for(item.name)
                            yield Static("", id=f"msg-{item.name}", classes="form-message")
            yield Static("", id="form-preview")

    def heading(self) -> str:
        t, form = self.texts, self.form
        if form.opened is not None:
            return t(f"form.edit.{form.kind}", title=form.title)
        return t(f"form.new.{form.kind}")

    def widget_for(self, name: str) -> Widget:
        """The input of one field, holding the form's value for it."""
        t = self.texts
        item = next(f for f in self.form.fields if f.name == name)
        value = self.form.values.get(name, "")
        wid = f"input-{name}"
        if item.widget == "notes":
            area = TextArea(value, id=wid, classes="form-notes", soft_wrap=True)
            area.show_line_numbers = False
            return area
        if item.widget == "choice":
            options = [
                (self.choice_label(name, label), key)
                for key, label in self.form.choices.get(name, [])
            ]
            if value and value not in {key for _, key in options}:
                options.append((value, value))
            return Select(
                options,
                id=wid,
                compact=True,
                allow_blank=not item.required,
                prompt=t("form.none"),
                value=value or Select.NULL,
            )
        return Input(
            value, placeholder=t(item.placeholder) if item.placeholder else "", id=wid, compact=True
        )

    def choice_label(self, name: str, label: str) -> str:
        """A choice in the TUI's language where hk has the words (status, order channel)."""
        t = self.texts
        if self.form.kind == "worker" and name == "status":
            key = next(k for k, v in self.form.choices["status"] if v == label)
            return t.worker_status(key)
        if self.form.kind == "order" and name == "channel" and not t.zh:
            return next(k for k, v in self.form.choices["channel"] if v == label)
        return label

    def on_mount(self) -> None:
        self.hk.forms_open.add(self)
        first = self.form.fields[0].name
        self.query_one(f"#input-{first}").focus()
        if self.form.kind == "order":
            self.validate()

    def on_unmount(self) -> None:
        self.hk.forms_open.discard(self)

    # --- values -----------------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        """What each input holds now."""
        out: dict[str, str] = {}
        for item in self.form.fields:
            widget = self.query_one(f"#input-{item.name}")
            if isinstance(widget, TextArea):
                out[item.name] = widget.text
            elif isinstance(widget, Select):
                out[item.name] = widget.value if isinstance(widget.value, str) else ""
            elif isinstance(widget, Input):
                out[item.name] = widget.value
        return out

    def set_values(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            widget = self.query_one(f"#input-{name}")
            if isinstance(widget, TextArea):
                widget.text = value
            elif isinstance(widget, Select):
                if value and value not in {key for _, key in widget._options}:
                    widget.set_options([*widget._options, (value, value)])
                if value:
                    widget.value = value
                else:
                    widget.clear()
            elif isinstance(widget, Input):
                widget.value = value

    def dirty(self) -> bool:
        """Whether anything was typed since the form opened (or was reloaded)."""
        now = self.values()
        return any(now[name].strip() != self.form.values.get(name, "").strip() for name in now)

    # --- messages ---------------------------------------------------------------------------

    def show_messages(self, messages: dict[str, list[str]], *, every: bool) -> None:
        """Each input's messages under it (those of visited inputs only, unless ``every``);
        the form's own at the top."""
        for item in self.form.fields:
            lines = messages.get(item.name, []) if every or item.name in self.touched else []
            self._message(f"#msg-{item.name}", lines, item.name)
        if every:
            self._message("#form-top", messages.get(TOP, []), None)
        self.call_after_refresh(self._keep_focus_in_view)

    def _keep_focus_in_view(self) -> None:
        """Messages shown above an input move it down: the input being typed in stays in
        view (on a small terminal it would otherwise slip under the edge)."""
        if self.focused is not None:
            self.focused.scroll_visible(animate=False)

    def _message(self, selector: str, lines: list[str], name: str | None) -> None:
        box = self.query_one(selector, Static)
        box.update(Text("\n".join(lines), style="red"))
        box.display = bool(lines)
        if name is not None:
            self.query_one(f"#input-{name}").set_class(bool(lines), "-invalid-field")

    def notice(self, text: str, style: str = "yellow") -> None:
        """A message of the whole form at its top (conflicts, reloads)."""
        box = self.query_one("#form-top", Static)
        box.update(Text(text, style=style))
        box.display = bool(text)

    def show_preview(self, checked: Checked) -> None:
        from hk.domain.money import format_money

        preview = self.query_one("#form-preview", Static)
        if checked.total_fen is None:
            preview.display = False
            return
        t = self.texts
        text = t("form.preview", what=checked.preview, total=format_money(checked.total_fen))
        if checked.deposit_fen:
            text += t("form.preview_deposit", deposit=format_money(checked.deposit_fen))
        preview.update(Text(text, style="bold"))
        preview.display = True

    # --- checking as the operator goes --------------------------------------------------------

    def on_input_blurred(self, event: Input.Blurred) -> None:
        self._visited(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._visited(event.select)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._visited(event.text_area, check_now=False)

    def _visited(self, widget: Widget, check_now: bool = True) -> None:
        if widget.id and widget.id.startswith("input-"):
            self.touched.add(widget.id.removeprefix("input-"))
            if check_now:
                self.validate()

    def validate(self) -> None:
        """Check the form as it is (a worker); messages of visited inputs show."""
        form, values = self.form, self.values()

        def job(archive: Archive) -> Checked:
            return check(archive, form, values)

        self.hk.work(self, "check", job, self._checked)

    def _checked(self, checked: Checked) -> None:
        if not self.saving:
            self.show_messages(checked.messages, every=False)
        self.show_preview(checked)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next input, as in a paper form; Ctrl+S saves."""
        event.stop()
        self.focus_next()

    # --- saving -----------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.touched.update(f.name for f in self.form.fields)
        form, values = self.form, self.values()

        def job(archive: Archive) -> Saved | Exception:
            checked = check(archive, form, values)
            if not checked.ok:
                return _Refused(checked.messages)
            try:
                return save(archive, form, values)
            except HkError as exc:
                return exc

        self.notice(self.texts("form.saving"), "dim")
        self.hk.work(self, "save", job, self._saved)

    def _saved(self, outcome: Saved | Exception) -> None:
        self.saving = False
        t = self.texts
        if isinstance(outcome, Saved):
            self.hk.generation += 1
            what = outcome.code or outcome.record_id
            self.notify(
                t(f"form.saved.{outcome.kind}", code=what)
                if outcome.commit
                else t("form.unchanged"),
                timeout=5,
            )
            self.dismiss(outcome)
            return
        if isinstance(outcome, _Refused):
            self.show_messages(outcome.messages, every=True)
            if TOP not in outcome.messages:
                self.notice(t("form.fix"), "red")
            return
        if isinstance(outcome, ConflictError):
            self.stale = True
            self.refresh_bindings()
            self.notice(t("form.conflict"), "bold red")
            return
        from hk.tui.data.forms import messages_of

        messages = messages_of(self.form, outcome)
        self.show_messages(messages, every=True)

    # --- someone else changed the record ------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reload":
            return self.stale or None
        return True

    def action_reload(self) -> None:
        if not self.stale:
            return
        form, typed = self.form, self.values()

        def job(archive: Archive) -> Reloaded:
            return reload(archive, form, typed)

        self.hk.work(self, "reload", job, self._reloaded)

    def _reloaded(self, found: Reloaded) -> None:
        t = self.texts
        self.form = found.form
        self.stale = False
        self.refresh_bindings()
        self.set_values(found.values)
        labels = {f.name: t(f.label) for f in self.form.fields}
        if found.changed:
            names = (
                "、".join(labels[n] for n in found.changed)
                if t.zh
                else ", ".join(labels[n] for n in found.changed)
            )
            self.notice(t("form.reloaded", fields=names))
        else:
            self.notice(t("form.reloaded_none"))
        for item in self.form.fields:
            box = self.query_one(f"#msg-{item.name}", Static)
            box.display = item.name in found.clashes
            if item.name in found.clashes:
                theirs = found.clashes[item.name] or t("form.empty")
                box.update(Text(t("form.theirs", value=theirs), style="yellow"))

    # --- leaving ----------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.dirty():
            self.dismiss(None)
            return
        t = self.texts

        def chosen(answer: str | None) -> None:
            if answer == "discard":
                self.dismiss(None)

        self.app.push_screen(
            ChoiceDialog(
                t("form.discard_title"), [("keep", t("form.keep")), ("discard", t("form.discard"))]
            ),
            chosen,
        )

    # --- notes in the editor ----------------------------------------------------------------

    def action_edit_notes(self) -> None:
        """The notes in $EDITOR, the TUI suspended until the editor exits."""
        from hk.tui.data.forms import edit_text

        if not any(f.widget == "notes" for f in self.form.fields):
            return
        area = self.query_one("#input-notes", TextArea)
        try:
            with self.app.suspend():
                text = edit_text(area.text)
        except SuspendNotSupported:
            self.notify(self.texts("form.no_editor"), severity="warning", timeout=8)
            return
        except HkError as exc:
            self.hk.report_error(exc)
            return
        area.text = text
        area.focus()


class _Refused(Exception):
    """The form's own check refused the save: messages by input."""

    def __init__(self, messages: dict[str, list[str]]) -> None:
        super().__init__("refused")
        self.messages = messages


def open_form_screen(
    page: HkScreen,
    kind: Kind,
    record_id: str | None = None,
    *,
    customer: str | None = None,
    done: Callable[[Saved], None] | None = None,
) -> None:
    """Read what the form needs (a worker), then show it over ``page``; ``done`` gets what
    was saved."""
    today = page.hk.today()

    def job(archive: Archive) -> Form:
        return open_form(archive, kind, record_id, customer=customer, today=today)

    def shown(form: Form) -> None:
        def closed(saved: Saved | None) -> None:
            if saved is not None and done is not None:
                done(saved)

        page.app.push_screen(FormScreen(form), closed)

    page.work("form", job, shown)
