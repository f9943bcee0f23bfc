"""The office TUI: one Textual app over one archive, built by :func:`make_app`.

The CLI (``hk``, ``hk tui``, ``hk demo``), the tests and the benchmark all build the app the
same way. Three modes, each with its own stack of screens: the dashboard, the customers and the
workers; a record's page is pushed on top of the list it was opened from.

Every read of the archive (index, files, git) runs in a named worker thread through
:meth:`HkApp.work`; errors come back to :meth:`HkApp.report_error`, the one place that turns
an :class:`~hk.errors.HkError` into a notification (and anything else into a crash-log entry
and a notification). A timer asks every few seconds whether the archive changed outside the
TUI and, if so, tells the screens to read again. At start the first page is drawn from the
index as it is and the full check follows at once (a second later at benchmark scale, the page
is read again if the index was behind): waiting for it first would double the time to a
usable screen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import App
from textual.message import Message
from textual.worker import Worker, get_current_worker

from hk.errors import HkError
from hk.tui.commands import ActionCommands, RecordCommands
from hk.tui.data.session import Session, Watch
from hk.tui.i18n import Texts
from hk.tui.keys import bind, keymap, localize
from hk.tui.screens.customers import CustomersScreen
from hk.tui.screens.dashboard import DashboardScreen
from hk.tui.screens.dispatch import DispatchScreen
from hk.tui.screens.orders import OrdersScreen
from hk.tui.screens.queue import QueueScreen
from hk.tui.screens.review import ReviewScreen
from hk.tui.screens.workers import WorkersScreen

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from hk.domain.layout import Kind
    from hk.domain.settings import Tui
    from hk.store.archive import Archive

T = TypeVar("T")

THEMES = {"dark": "textual-dark", "light": "textual-light"}
SWITCHING = "switching-language"
"""A blank mode shown for the moment every page is made again in another language."""


class ArchiveChanged(Message):
    """Someone changed the archive outside this screen: read again."""


class HkApp(App[None]):
    """The office TUI over one archive (see :func:`make_app`)."""

    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": DashboardScreen,
        "customers": CustomersScreen,
        "workers": WorkersScreen,
        "dispatch": DispatchScreen,
        "orders": OrdersScreen,
        "queue": QueueScreen,
        "review": ReviewScreen,
    }
    COMMANDS: ClassVar[set[Any]] = {ActionCommands, RecordCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (Textual's)
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[Any]] = [
        bind("f1", "help", "help"),
        bind("f2", "go('dashboard')", "dashboard"),
        bind("f3", "go('customers')", "customers"),
        bind("f4", "go('workers')", "workers"),
        bind("f6", "go('dispatch')", "dispatch"),
        bind("f5", "refresh_archive", "refresh", show=False),
        bind("f7", "go('orders')", "orders"),
        bind("f8", "go('queue')", "queue"),
        bind("ctrl+r", "go('review')", "review", show=False),
        bind("f9", "toggle_theme", "theme", show=False),
        bind("f10", "switch_language", "language", show=False),
        bind("ctrl+p", "command_palette", "palette", priority=True),
        bind("ctrl+q", "quit", "quit", priority=True),
    ]
    """Keys that work everywhere (each rebindable by its id in ``[tui.keys]``)."""

    def __init__(
        self, session: Session, texts: Texts, today: dt.date | None, settings: Tui
    ) -> None:
        self.session = session
        self.texts = texts
        self.fixed_today = today
        self.settings = settings
        self.archive_watch = Watch(session.root)
        self.generation = 0
        """Bumped whenever the archive changed; screens compare it with what they read."""
        self.forms_open: set[object] = set()
        """Forms on screen in any mode (they add and remove themselves): typed input that a
        rebuild of the pages (a language switch) would lose."""
        self._started = False
        self._warmed = False
        super().__init__()
        localize(self, texts)
        self.title = texts("app.title")
        company = session.main.settings.company.name
        self.sub_title = company
        self.theme = THEMES[settings.theme]
        self._keymap_problem: list[str] = []
        mapped, unknown = keymap(settings.keys)
        self.set_keymap(mapped)
        self._keymap_problem = unknown

    # --- the day ------------------------------------------------------------------------------

    def today(self) -> dt.date:
        """Today in the archive's timezone (fixed by the tests and snapshots)."""
        if self.fixed_today is not None:
            return self.fixed_today
        from hk.domain.base import now

        return now(self.session.main.settings.locale.timezone).date()

    # --- start and refresh --------------------------------------------------------------------

    def on_mount(self) -> None:
        self.switch_mode("dashboard")
        if self._keymap_problem:
            self.notify(
                self.texts("msg.unknown_keys", ids=", ".join(self._keymap_problem)),
                severity="warning",
            )
        self.set_interval(self.settings.refresh_seconds, self.check_archive)

    def first_screen_shown(self) -> None:
        """The first page shows what the index held; now bring the index up to date (all
        kinds: 0.5 s at benchmark scale), and read again if anything had changed outside."""
        if not self._started:
            self._started = True
            self.check_archive(force=True)

    def check_archive(self, force: bool = False) -> None:
        """Look for changes made outside (a named worker); reload the screens if any."""
        watch = self.archive_watch

        def job(archive: Archive) -> Any:
            return watch.check(archive, force)

        self.work(self, "watch", job, self._checked)

    def _checked(self, outcome: Any) -> None:
        if not self._warmed:
            self._warmed = True
            self.warm_up()
        if outcome.settings:
            self.session.settings_changed()
        if outcome.broken:
            self.notify(self.texts("msg.broken", n=len(outcome.broken)), severity="warning")
        if outcome.changed:
            self.generation += 1
            self.screen.post_message(ArchiveChanged())

    def warm_up(self) -> None:
        """Once the index is current: load what a record's page needs (its modules, and the
        customers' lifecycle stages, kept per day), so the first page opened shows as fast as
        the next ones."""
        today = self.today()

        def job(archive: Archive) -> None:
            from hk.services import history, points  # noqa: F401 (imported to be ready)
            from hk.services.stages import stages

            stages(archive, today, refresh=False)

        self.work(self, "warm", job, lambda _none: None)

    def action_refresh_archive(self) -> None:
        self.check_archive(force=True)

    # --- workers and errors -------------------------------------------------------------------

    def work(
        self, node: DOMNode, name: str, job: Callable[[Archive], T], done: Callable[[T], object]
    ) -> Worker[None]:
        """Run ``job`` on this thread's archive in a worker named ``name`` (one at a time per
        node and name: a newer one replaces an older one); hand its result to ``done`` on the
        app's thread, unless the worker was replaced or its screen closed meanwhile."""
        session = self.session

        def run() -> None:
            worker = get_current_worker()
            try:
                result = job(session.archive())
            except Exception as exc:  # a bug in a background job must not end the app:
                if not worker.is_cancelled:  # report_error shows it and logs a traceback
                    self._deliver(self.report_error, exc)
                return
            if not worker.is_cancelled:
                self._deliver(done, result)

        return node.run_worker(
            run, name=name, group=name, thread=True, exclusive=True, exit_on_error=False
        )

    def _deliver(self, callback: Callable[[Any], object], value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app stopped meanwhile: nobody to tell
            self.call_from_thread(callback, value)

    def report_error(self, exc: BaseException) -> None:
        """The one handler of errors in workers: a notification, never a traceback."""
        if isinstance(exc, HkError):
            self.notify(
                _message_of(exc), title=self.texts("msg.error"), severity="error", timeout=12
            )
            return
        log = _log_crash(exc)
        what = f"{type(exc).__name__}: {exc}"
        self.notify(
            self.texts("msg.bug", what=what, log=log),
            title=self.texts("msg.error"),
            severity="error",
            timeout=20,
        )

    # --- actions ------------------------------------------------------------------------------

    def action_go(self, mode: str) -> None:
        """Show a mode's list (closing the record pages opened on top of it)."""
        self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_help(self) -> None:
        from hk.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        light = self.theme == THEMES["light"]
        self.theme = THEMES["dark" if light else "light"]
        name = self.texts("theme.dark" if light else "theme.light")
        self.notify(self.texts("msg.theme", theme=name), timeout=3)
        self.remember("theme", "dark" if light else "light")

    def remember(self, key: str, value: str) -> None:
        """Keep the operator's choice for the next start: ``[tui]`` of ``hk.local.toml``, this
        operator's own settings, which win over the office's ``hk.toml``."""
        from hk.store.local_settings import set_local

        try:
            set_local(self.session.main.root, "tui", key, value)
        except (HkError, OSError) as exc:
            message = exc.message if isinstance(exc, HkError) else str(exc)
            self.notify(
                self.texts("msg.not_remembered", why=message), severity="warning", timeout=6
            )

    async def action_switch_language(self) -> None:
        """Chinese ⇄ English without a restart.

        A page's words (titles, columns, placeholders, footer keys) are set when it is made, so
        every page is made again in the other language: the lists anew, and the record pages
        that were open over the current list reopened on top of it. A form or dialog in front
        holds what the operator typed, and so does a form left open in another mode: the
        switch waits until they are closed.
        """
        from textual.screen import Screen

        from hk.tui.screens.record import RecordScreen

        stack = self.screen_stack
        if self.forms_open or any(not isinstance(s, RecordScreen) for s in stack[1:]):
            self.notify(self.texts("msg.language_later"), severity="warning", timeout=5)
            return
        pages = [(s.KIND, s.record_id) for s in stack[1:] if isinstance(s, RecordScreen)]
        self.texts = Texts("en" if self.texts.zh else "zh_CN")
        localize(self, self.texts)
        self.title = self.texts("app.title")
        current = self.current_mode
        self.add_mode(SWITCHING, Screen)
        await self.switch_mode(SWITCHING)
        for mode, screen in self.MODES.items():
            await self.remove_mode(mode)
            self.add_mode(mode, screen)
        await self.switch_mode(current)
        await self.remove_mode(SWITCHING)
        for kind, record_id in pages:
            self.open_record(kind, record_id)
        self.notify(self.texts("msg.language"), timeout=3)
        self.remember("language", self.texts.language)

    def open_record(self, kind: Kind, record_id: str) -> None:
        """Push a customer's or worker's page on the current mode's stack."""
        from hk.tui.screens.customer import CustomerScreen
        from hk.tui.screens.worker import WorkerScreen

        screen = CustomerScreen(record_id) if kind == "customer" else WorkerScreen(record_id)
        self.push_screen(screen)


def _message_of(exc: HkError) -> str:
    from hk.errors import InvalidData

    if isinstance(exc, InvalidData) and exc.problems:
        return "\n".join(p.render() for p in exc.problems[:3])
    return exc.message + (f"\n{exc.hint}" if exc.hint else "")


def _log_crash(exc: BaseException) -> str:
    """Write the traceback to the crash log (as the CLI does); where it went."""
    from hk import __version__
    from hk.store import crashlog

    return crashlog.record("hk tui", exc, __version__)


def tui_settings(session: Session) -> Tui:
    """``[tui]`` of ``hk.toml``, with the operator's own ``[tui]`` of ``hk.local.toml`` over it
    (the settings loader merges them, key by key)."""
    return session.main.settings.tui


def make_app(
    archive_root: Path | str,
    *,
    today: dt.date | None = None,
    language: str | None = None,
    theme: str | None = None,
    refresh_seconds: float | None = None,
) -> HkApp:
    """The TUI on the archive at ``archive_root``.

    ``language`` (zh_CN, en), ``theme`` (dark, light) and ``refresh_seconds`` override the
    settings; ``today`` fixes the day the dashboard counts from (tests, snapshots).
    """
    session = Session(Path(archive_root))
    settings = tui_settings(session)
    changes: dict[str, Any] = {}
    if theme is not None:
        changes["theme"] = theme
    if refresh_seconds is not None:
        changes["refresh_seconds"] = refresh_seconds
    if changes:
        settings = settings.model_copy(update=changes)
    chosen = language or settings.language or session.main.settings.locale.language
    return HkApp(session, Texts(chosen), today, settings)
