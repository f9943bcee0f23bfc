"""What every page of the TUI shares: its words, its reads, and reading again after a change.

A page reads the archive in :meth:`HkScreen.load` (through :meth:`HkApp.work`, never on the
app's thread). It reads when it is first shown, when the archive changed while it was shown
(:class:`~hk.tui.app.ArchiveChanged`), and when it is shown again after a change made while
another page was in front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual.screen import Screen
from textual.widgets import Footer, Header

from hk.tui.keys import localize

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.worker import Worker

    from hk.store.archive import Archive
    from hk.tui.app import ArchiveChanged, HkApp
    from hk.tui.i18n import Texts

T = TypeVar("T")


class OfHkApp:
    """For a screen of hk's app (a page, a form): the app as :class:`HkApp`, and its words."""

    if TYPE_CHECKING:
        app: Any  # Textual's, on the screen this is mixed into

    @property
    def hk(self) -> HkApp:
        return cast("HkApp", self.app)

    @property
    def texts(self) -> Texts:
        return self.hk.texts


class HkScreen(OfHkApp, Screen[None]):
    """A page of the TUI (see the module's docstring)."""

    TITLE_KEY: ClassVar[str] = ""
    """i18n key of the page's name, shown in the header."""
    HELP_KEY: ClassVar[str] = "help.screen"
    """i18n key of the help F1 shows when nothing on the page has its own."""

    def __init__(self) -> None:
        super().__init__()
        localize(self, self.texts)
        self.loaded_generation = -1
        """The app's generation of the archive this page last read."""
        self.ready = False
        """True once the page shows what it read (the benchmark waits for it)."""

    def header(self) -> ComposeResult:
        yield Header(icon="")

    def footer(self) -> ComposeResult:
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        if self.TITLE_KEY:
            self.sub_title = self.texts(self.TITLE_KEY)

    def on_screen_resume(self) -> None:
        if self.loaded_generation != self.hk.generation:
            self.reload()

    def on_archive_changed(self, _message: ArchiveChanged) -> None:
        self.reload()

    def reload(self) -> None:
        self.loaded_generation = self.hk.generation
        self.load()

    def load(self) -> None:
        """Read what the page shows (in a worker); pages override it."""

    def ask_to_reveal(self, then: Callable[[str], None]) -> None:
        """Before sensitive values show: the key must be on this machine, and the operator
        says why (the audit trail records it, as ``--reveal --reason`` does); ``then`` gets
        the reason. Escape, or no reason, reveals nothing."""
        from hk.tui.screens.dialogs import Field, FormDialog

        t = self.texts
        keyring = self.hk.session.main.keyring
        if not keyring.available():
            self.notify(
                t("msg.no_key") + "\n" + t("msg.no_key_hint", folder=keyring.folder),
                title=t("msg.error"),
                severity="error",
                timeout=10,
            )
            return

        def given(values: dict[str, str] | None) -> None:
            if values is None:
                return
            reason = values.get("reason", "").strip()
            if not reason:
                self.notify(t("reveal.reason_needed"), severity="error", timeout=5)
                return
            then(reason)

        dialog = FormDialog(
            t("reveal.title"), [Field("reason", t("reveal.reason"))], t("reveal.hint")
        )
        self.app.push_screen(dialog, given)

    def work(
        self, name: str, job: Callable[[Archive], T], done: Callable[[T], object]
    ) -> Worker[Any]:
        """Run ``job`` in a worker of this page (see :meth:`HkApp.work`)."""
        return self.hk.work(self, name, job, done)
