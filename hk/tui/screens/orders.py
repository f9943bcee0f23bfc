"""The order board (订单看板): a column per status, a card per order (SPEC §3).

Left and right go from column to column, up and down from card to card. Moving a card runs
the lifecycle step the CLI runs (:func:`hk.tui.data.orders.move`) in a worker: ``m`` the next
step, ``t`` a status chosen from a list, ``a`` assigns a worker (a picker; the assignment
rules' refusals come back as a notification), ``c`` cancels with a reason, ``r`` keeps the
customer's five scores. A move the lifecycle table does not allow is refused before anything
is asked, with the table's words. After a write the board reads again and the cursor follows
the card to its new column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.containers import Horizontal
from textual.widgets import ListItem, ListView, Static

from hk.domain.order.status import ORDER, STATUSES, IllegalTransition
from hk.tui.data.orders import (
    NEXT_STEP,
    SPANS,
    Board,
    board,
    check_move,
    move,
    rate,
    span_days,
    workers_to_assign,
)
from hk.tui.keys import bind
from hk.tui.screens.base import HkScreen
from hk.tui.screens.dialogs import ChoiceDialog, Field, FormDialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.domain.order.model import Order
    from hk.services.records import Stepped
    from hk.store.archive import Archive
    from hk.tui.data.forms import Saved


class OrderColumn(ListView):
    """The cards of one status."""

    help_key: ClassVar[str] = "help.board"

    def __init__(self, status: str) -> None:
        super().__init__(id=f"column-{status}", classes="board-column")
        self.status = status


class OrdersScreen(HkScreen):
    """Orders of today, tomorrow or this week, by status (see the module's docstring)."""

    TITLE_KEY: ClassVar[str] = "screen.orders"
    HELP_KEY: ClassVar[str] = "help.board"
    BINDINGS: ClassVar[list[Any]] = [
        bind("left", "column(-1)", "column_left", show=False),
        bind("right", "column(1)", "column_right", show=False),
        bind("m", "advance", "order_advance"),
        bind("t", "move_to", "order_move"),
        bind("a", "assign", "order_assign"),
        bind("c", "cancel_order", "order_cancel"),
        bind("r", "rate", "order_rate"),
        bind("d", "span", "order_span"),
        bind("n", "new_order", "new_order"),
        bind("enter", "open_customer", "order_open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.span = SPANS[0]
        self.board: Board | None = None
        self.follow: str | None = None
        """The order the cursor goes to once the board is read again (the one just moved)."""

    def compose(self) -> ComposeResult:
        yield from self.header()
        yield Static(id="board-span")
        with Horizontal(id="board"):
            for status in STATUSES:
                yield OrderColumn(status)
        yield from self.footer()

    def on_mount(self) -> None:
        super().on_mount()
        for column in self.query(OrderColumn):
            column.border_title = self.texts.order_status(column.status)

    # --- reading ----------------------------------------------------------------------------

    def load(self) -> None:
        first, last = span_days(self.span, self.hk.today())

        def job(archive: Archive) -> Board:
            return board(archive, first, last)

        self.work("board", job, self.show)

    async def show(self, found: Board) -> None:
        t = self.texts
        keep = self.follow or self.current_id()
        self.board = found
        days = (
            f"{found.first:%m-%d}"
            if found.first == found.last
            else f"{found.first:%m-%d} – {found.last:%m-%d}"
        )
        total = sum(len(cards) for cards in found.columns.values())
        self.query_one("#board-span", Static).update(
            Text(f"{t(f'board.span.{self.span}')} {days} · {t('dash.orders_total', n=total)}")
        )
        for column in self.query(OrderColumn):
            cards = found.columns.get(column.status, [])
            await column.clear()
            await column.extend([ListItem(Static(self.card(c))) for c in cards])
            column.border_subtitle = str(len(cards)) if cards else ""
        self.follow = None
        place = found.find(keep) if keep else None
        if place is None:
            place = next(((s, 0) for s in STATUSES if found.columns.get(s)), None)
        if place is not None:
            column = self.query_one(f"#column-{place[0]}", OrderColumn)
            column.index = place[1]
            column.focus()
        else:
            self.query_one(f"#column-{STATUSES[0]}", OrderColumn).focus()
        self.ready = True

    def card(self, item: dict[str, Any]) -> Text:
        t = self.texts
        when = (
            item["start"][11:16] if self.span != "week" else item["start"][5:16].replace("T", " ")
        )
        text = Text(f"{when} ", style="bold")
        text.append(item["code"], style="dim")
        text.append(f"\n{item['customer_name'] or item['customer_code']}")
        text.append(f"\n{' '.join(item.get('services', []))}", style="cyan")
        workers = "、".join(n.split(" ", 1)[-1] for n in item["worker_names"])
        text.append(f"\n{workers or t('board.unassigned')}", style="" if workers else "yellow")
        return text

    # --- the focused card -------------------------------------------------------------------

    def focused_column(self) -> OrderColumn | None:
        focused = self.focused
        return focused if isinstance(focused, OrderColumn) else None

    def current(self) -> dict[str, Any] | None:
        column = self.focused_column()
        if column is None or self.board is None or column.index is None:
            return None
        cards = self.board.columns.get(column.status, [])
        return cards[column.index] if 0 <= column.index < len(cards) else None

    def current_id(self) -> str | None:
        card = self.current()
        return str(card["id"]) if card else None

    def action_column(self, step: int) -> None:
        columns = list(self.query(OrderColumn))
        column = self.focused_column()
        here = columns.index(column) if column is not None else 0
        columns[(here + step) % len(columns)].focus()

    def action_span(self) -> None:
        self.span = SPANS[(SPANS.index(self.span) + 1) % len(SPANS)]
        self.reload()

    def action_open_customer(self) -> None:
        card = self.current()
        if card is not None:
            self.hk.open_record("customer", card["customer"])

    # --- moving -----------------------------------------------------------------------------

    def action_advance(self) -> None:
        card = self.current()
        if card is None:
            return
        target = NEXT_STEP.get(card["status"])
        if target is None:
            self.hk.report_error(ORDER.refuse(card["status"], "settled"))
            return
        self.move_card(card, target)

    def action_move_to(self) -> None:
        card = self.current()
        if card is None:
            return
        t = self.texts
        choices = [(s, t.order_status(s)) for s in STATUSES if s != card["status"]]

        def chosen(target: str | None) -> None:
            if target:
                self.move_card(card, target)

        self.app.push_screen(
            ChoiceDialog(t("board.pick_status", code=card["code"]), choices), chosen
        )

    def action_assign(self) -> None:
        card = self.current()
        if card is not None:
            self.move_card(card, "dispatched")

    def action_cancel_order(self) -> None:
        card = self.current()
        if card is not None:
            self.move_card(card, "cancelled")

    def move_card(self, card: dict[str, Any], target: str) -> None:
        """Check the move against the lifecycle; ask what the step needs; then write."""
        try:
            check_move(card["status"], target)
        except IllegalTransition as exc:
            self.hk.report_error(exc)
            return
        t = self.texts
        if target == "dispatched":

            def picked(worker: str | None) -> None:
                if worker:
                    self.write(card, target, workers=[worker])

            def offer(choices: list[tuple[str, str]]) -> None:
                self.app.push_screen(
                    ChoiceDialog(t("board.pick_worker", code=card["code"]), choices), picked
                )

            self.work("workers", workers_to_assign, offer)
        elif target == "cancelled":

            def given(values: dict[str, str] | None) -> None:
                if values is not None:
                    self.write(card, target, reason=values["reason"])

            self.app.push_screen(
                FormDialog(
                    t("board.cancel_title", code=card["code"]), [Field("reason", t("board.reason"))]
                ),
                given,
            )
        else:
            self.write(card, target)

    def write(
        self,
        card: dict[str, Any],
        target: str,
        *,
        workers: list[str] | None = None,
        reason: str = "",
    ) -> None:
        order_id = card["id"]

        def job(archive: Archive) -> Stepped[Order]:
            return move(archive, order_id, target, workers=workers or [], reason=reason)

        self.work("move", job, self.written)

    def written(self, changed: Stepped[Order]) -> None:
        t = self.texts
        path = " → ".join(t.order_status(s) for s in changed.path())
        notes = "\n".join(changed.notes)
        self.notify(t("board.moved", path=path) + (f"\n{notes}" if notes else ""), timeout=5)
        self.follow = changed.record.id
        self.hk.generation += 1
        self.reload()

    # --- taking an order -------------------------------------------------------------------

    def action_new_order(self) -> None:
        """A new order in a form; the board then shows the span of days that holds it."""
        from hk.tui.screens.forms import open_form_screen

        open_form_screen(self, "order", done=self.taken)

    def taken(self, saved: Saved) -> None:
        if saved.day is not None:
            today = self.hk.today()
            self.span = next(
                (s for s in SPANS if span_days(s, today)[0] <= saved.day <= span_days(s, today)[1]),
                self.span,
            )
        self.follow = saved.record_id
        self.reload()

    # --- rating -----------------------------------------------------------------------------

    def action_rate(self) -> None:
        card = self.current()
        if card is None:
            return
        t = self.texts
        fields = [
            Field(name, t(f"score.{name}"))
            for name in ("quality", "attitude", "hygiene", "punctuality", "overall")
        ]
        fields += [Field("nps", t("board.nps")), Field("comment", t("board.comment"))]
        order_id = card["id"]

        def given(values: dict[str, str] | None) -> None:
            if values is None:
                return

            def job(archive: Archive) -> Stepped[Order]:
                return rate(archive, order_id, values)

            self.work("rate", job, self.rated)

        self.app.push_screen(
            FormDialog(t("board.rate_title", code=card["code"]), fields, t("board.rate_hint")),
            given,
        )

    def rated(self, changed: Stepped[Order]) -> None:
        notes = "\n".join(changed.notes)
        self.notify(self.texts("board.rated") + (f"\n{notes}" if notes else ""), timeout=5)
        self.follow = changed.record.id
        self.hk.generation += 1
        self.reload()
