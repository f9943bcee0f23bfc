"""Review before apply: what colleagues changed in the shared archive, before it is merged here.

The same listing as ``hk review``: the remote is fetched (in a worker: it is the network) and
each field a colleague changed is one row, with who and when; sensitive values are masked
unless revealed (``v``, with the key). ``a`` asks once, then merges what is listed as
``hk review --accept`` does (``hk sync`` shares the result); the pages read again afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.widgets import Static

from hk.errors import HkError
from hk.tui.keys import bind
from hk.tui.screens.base import HkScreen
from hk.tui.screens.dialogs import ChoiceDialog
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.services.review import Incoming, RecordChange
    from hk.services.sync import Outcome
    from hk.store.archive import Archive

VALUE_CELLS = 40
"""A value longer than this is cut in the table (the CLI's ``hk review`` shows more)."""


@dataclass
class Fetched:
    """What the worker found: the incoming changes, or why there are none to show."""

    found: Incoming | None = None
    problem: str = ""


class ReviewScreen(HkScreen):
    """Incoming changes, one row per field (see the module's docstring)."""

    TITLE_KEY: ClassVar[str] = "screen.review"
    HELP_KEY: ClassVar[str] = "help.review"
    AUTO_FOCUS: ClassVar[str | None] = "#review-changes"
    BINDINGS: ClassVar[list[Any]] = [
        bind("a", "accept", "review_accept"),
        bind("v", "reveal", "reveal"),
        bind("g", "fetch", "review_fetch"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: Incoming | None = None
        self.revealed = False
        self.reason = ""
        """Why the operator revealed sensitive values (the audit trail records it)."""

    def compose(self) -> ComposeResult:
        yield from self.header()
        yield Static(self.texts("review.fetching"), id="review-status")
        yield ResultTable("help.review", id="review-changes")
        yield from self.footer()

    def on_mount(self) -> None:
        super().on_mount()
        t = self.texts
        self.query_one("#review-changes", ResultTable).set_columns(
            [t("col.record"), t("col.field"), t("col.change"), t("col.operator"), t("col.when")]
        )

    # --- reading ----------------------------------------------------------------------------

    def load(self) -> None:
        revealed, reason = self.revealed, self.reason

        def job(archive: Archive) -> Fetched:
            from hk.services.review import audit_revealed, incoming, resolve_target

            try:
                found = incoming(archive, resolve_target(archive), revealed)
            except HkError as exc:  # no remote, the network: said on the page, not a bug
                return Fetched(problem=exc.message + (f"\n{exc.hint}" if exc.hint else ""))
            if revealed:
                audit_revealed(archive, found, reason, "screen")
            return Fetched(found)

        self.query_one("#review-status", Static).update(self.texts("review.fetching"))
        self.work("review", job, self.show)

    def show(self, fetched: Fetched) -> None:
        t = self.texts
        self.found = fetched.found
        status = self.query_one("#review-status", Static)
        table = self.query_one("#review-changes", ResultTable)
        found = fetched.found
        if found is None:
            status.update(Text(fetched.problem, style="red"))
            table.show_rows([])
            self.ready = True
            return
        target = found.target
        where = f"{target.remote}/{target.branch}" if target.remote else target.branch
        if not found.commits:
            status.update(t("review.nothing", where=where))
        else:
            line = t("review.incoming", n=found.commits, where=where)
            status.update(line + "  " + t("review.accept_hint"))
        rows: list[tuple[str, list[Text | str]]] = []
        for n, change in enumerate(found.changes):
            rows += [(f"{n}:{i}", cells) for i, cells in enumerate(self.cells(change))]
        table.show_rows(rows)
        self.ready = True

    def cells(self, change: RecordChange) -> list[list[Text | str]]:
        """One row per changed field; one row for a record created or deleted."""
        t = self.texts
        label = change.label()
        if change.action != "changed" or not change.changes:
            what = Text(t(f"review.{change.action}"), style="bold")
            return [[label, "", what, change.operator, change.when]]
        return [
            [
                label,
                diff.field,
                f"{_short(diff.old)} → {_short(diff.new)}",
                change.operator,
                change.when,
            ]
            for diff in change.changes
        ]

    # --- actions ----------------------------------------------------------------------------

    def action_fetch(self) -> None:
        self.load()

    def action_reveal(self) -> None:
        """Show or hide sensitive values; showing them needs the key on this machine and a
        reason, recorded in the audit trail (as on a record's page)."""
        if self.revealed:
            self.revealed, self.reason = False, ""
            self.load()
            return

        def given(reason: str) -> None:
            self.revealed, self.reason = True, reason
            self.load()

        self.ask_to_reveal(given)

    def action_accept(self) -> None:
        t = self.texts
        found = self.found
        if found is None or not found.commits:
            self.notify(t("review.nothing_to_accept"), timeout=4)
            return
        target = found.target

        def chosen(answer: str | None) -> None:
            if answer != "yes":
                return

            def job(archive: Archive) -> Outcome:
                from hk.services.sync import accept

                return accept(archive, target.name)

            self.work("review-accept", job, self.accepted)

        choices = [("yes", t("review.yes")), ("no", t("review.no"))]
        title = t("review.confirm", n=found.commits)
        self.app.push_screen(ChoiceDialog(title, choices), chosen)

    def accepted(self, outcome: Outcome) -> None:
        t = self.texts
        message = t("review.accepted", n=outcome.incoming)
        if outcome.conflicts:
            message += "\n" + t("review.attic", n=len(outcome.conflicts))
        self.notify(message, timeout=6)
        self.hk.generation += 1
        self.reload()


def _short(value: Any) -> str:
    """A value on one line, cut to :data:`VALUE_CELLS` cells; ``—`` for none."""
    from rich.cells import cell_len

    if value is None:
        return "—"
    text = " ".join(
        (", ".join(str(v) for v in value) if isinstance(value, list) else str(value)).split()
    )
    if cell_len(text) <= VALUE_CELLS:
        return text
    while cell_len(text) > VALUE_CELLS - 1:
        text = text[:-1]
    return text + "…"
