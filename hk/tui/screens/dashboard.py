"""The dashboard (概览): the operator's morning at a glance (SPEC §1).

Today's and tomorrow's orders by status, this month's figures, what waits for the office
(today's reminders, return visits due, open complaints), the orders of both days in time order
(Enter opens the customer), and the workers whose certificates run out soon (Enter opens the
worker). The figures come from the index in one worker, the queues in a second one once the
figures show: they take seconds at benchmark scale (:mod:`hk.tui.data.dashboard`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.containers import Horizontal, VerticalScroll

from hk.domain.money import format_money
from hk.tui.data.dashboard import (
    STATUS_ORDER,
    Dashboard,
    DayOrders,
    Queues,
    dashboard,
    queues,
)
from hk.tui.format import SOON_DAYS
from hk.tui.screens.base import HkScreen
from hk.tui.widgets.fields import FieldsPanel, Pair
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from hk.store.archive import Archive

QUEUE_LINES = 6
"""Lines a queue panel shows; the rest are counted."""


class DashboardScreen(HkScreen):
    """Counts and lists for today, tomorrow and this month."""

    TITLE_KEY: ClassVar[str] = "screen.dashboard"
    AUTO_FOCUS: ClassVar[str | None] = "#upcoming"

    def __init__(self) -> None:
        super().__init__()
        self._customer_of: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield from self.header()
        with VerticalScroll(id="dashboard-body"):
            yield from self.body()
        yield from self.footer()

    def body(self) -> ComposeResult:
        t = self.texts
        with Horizontal(id="figures"):
            yield FieldsPanel(t("dash.today"), id="today", empty=t("list.loading"))
            yield FieldsPanel(t("dash.tomorrow"), id="tomorrow", empty=t("list.loading"))
            yield FieldsPanel(t("dash.month"), id="month", empty=t("list.loading"))
        with Horizontal(id="queues"):
            yield FieldsPanel(t("dash.reminders"), id="reminders", empty=t("list.loading"))
            yield FieldsPanel(t("dash.visits"), id="visits", empty=t("list.loading"))
            yield FieldsPanel(t("dash.complaints"), id="complaints", empty=t("list.loading"))
        with Horizontal(id="lists"):
            yield ResultTable("help.orders", id="upcoming")
            yield ResultTable("help.results", id="expiring")

    def on_mount(self) -> None:
        super().on_mount()
        t = self.texts
        upcoming = self.query_one("#upcoming", ResultTable)
        upcoming.border_title = t("dash.upcoming")
        upcoming.set_columns(
            [
                t("col.start"),
                t("col.status"),
                t("col.customer"),
                t("col.services"),
                t("col.workers"),
                t("col.total"),
            ]
        )
        expiring = self.query_one("#expiring", ResultTable)
        expiring.set_columns([t("col.workers"), t("col.type"), t("col.expiring")])

    def load(self) -> None:
        today = self.hk.today()

        def job(archive: Archive) -> Dashboard:
            return dashboard(archive, today)

        def waiting(archive: Archive) -> Queues:
            return queues(archive, today)

        def shown(board: Dashboard) -> None:
            self.show(board)
            self.hk.first_screen_shown()
            self.work("queues", waiting, self.show_queues)  # after: not to slow the figures

        self.work("dashboard", job, shown)

    def show(self, board: Dashboard) -> None:
        t = self.texts
        for panel_id, key, day in (
            ("#today", "dash.today", board.today),
            ("#tomorrow", "dash.tomorrow", board.tomorrow),
        ):
            panel = self.query_one(panel_id, FieldsPanel)
            panel.border_title = f"{t(key)} {self._day(day.day)}"
            panel.show(self._day_lines(day))
        month = self.query_one("#month", FieldsPanel)
        month.border_title = f"{t('dash.month')} {board.month.first:%Y-%m}"
        month.show(self._month_lines(board))
        self._customer_of = {o["id"]: o["customer"] for o in board.orders}
        self.query_one("#upcoming", ResultTable).show_rows(
            [
                (
                    o["id"],
                    [
                        o["start"][5:16].replace("T", " "),
                        t.order_status(o["status"]),
                        f"{o['customer_code']} {o['customer_name']}".strip(),
                        " ".join(o.get("services", [])),
                        ", ".join(o["worker_names"]),
                        format_money(o["total_fen"]),
                    ],
                )
                for o in board.orders
            ]
        )
        expiring = self.query_one("#expiring", ResultTable)
        expiring.border_title = t("dash.certs", days=board.certificate_days)
        today = self.hk.today()
        expiring.show_rows(
            [
                (
                    f"{worker_id}:{i}",
                    [
                        label,
                        t("f.insurance") if what == "insurance" else what,
                        self._due(day, today),
                    ],
                )
                for i, (worker_id, label, what, day) in enumerate(board.expiring)
            ]
        )
        self.ready = True

    def show_queues(self, found: Queues) -> None:
        t = self.texts
        reminders = self.query_one("#reminders", FieldsPanel)
        reminders.border_title = t("dash.reminders_n", n=sum(found.reminders.values()))
        reminders.empty = t("dash.nothing")
        reminders.show([(t(f"rule.{rule}"), str(n)) for rule, n in found.reminders.items()])
        visits = self.query_one("#visits", FieldsPanel)
        visits.border_title = t("dash.visits_n", n=len(found.visits))
        visits.empty = t("dash.nothing")
        visits.show(
            self._shortened(
                [
                    (
                        str(v["customer_name"]),
                        Text(
                            f"{v['type_zh'] if t.zh else v['type'].replace('_', ' ')} "
                            + (
                                t("dash.overdue", n=v["days_overdue"])
                                if v["days_overdue"] > 0
                                else t("dash.due_today")
                            ),
                            style="red" if v["days_overdue"] > 0 else "",
                        ),
                    )
                    for v in found.visits
                ]
            )
        )
        complaints = self.query_one("#complaints", FieldsPanel)
        complaints.border_title = t("dash.complaints_n", n=len(found.complaints))
        complaints.empty = t("dash.nothing")
        complaints.show(
            self._shortened(
                [
                    (
                        str(c["customer_name"]),
                        Text(
                            f"{c['category_zh'] if t.zh else c['category']} "
                            f"{c['sla_zh'] if t.zh else c['sla']}",
                            style="bold red" if c["sla"] in ("near", "overdue") else "",
                        ),
                    )
                    for c in found.complaints
                ]
            )
        )

    def _shortened(self, pairs: list[Pair]) -> list[Pair]:
        if len(pairs) <= QUEUE_LINES:
            return pairs
        rest = len(pairs) - QUEUE_LINES + 1
        return [*pairs[: QUEUE_LINES - 1], ("", Text(self.texts("dash.more", n=rest), "dim"))]

    def _day(self, day: dt.date) -> str:
        return f"{day:%m-%d} {self.texts.weekday(day.weekday())}"

    def _day_lines(self, day: DayOrders) -> list[Pair]:
        t = self.texts
        if not day.total:
            return [(t("dash.no_orders"), "")]
        lines: list[Pair] = [
            (t.order_status(s), str(day.by_status[s])) for s in STATUS_ORDER if day.by_status.get(s)
        ]
        lines.append((t("dash.orders_total", n=day.total), ""))
        return lines

    def _month_lines(self, board: Dashboard) -> list[Pair]:
        t = self.texts
        month = board.month
        none = t("dash.none")
        satisfaction = (
            t("dash.satisfaction_value", score=month.satisfaction, n=month.surveys)
            if month.satisfaction is not None
            else none
        )
        return [
            (t("dash.month_orders"), str(month.orders)),
            (t("dash.month_cancelled"), str(month.cancelled)),
            (t("dash.month_revenue"), format_money(month.revenue_fen)),
            (t("dash.month_satisfaction"), satisfaction),
            (
                t("dash.month_nps"),
                t("dash.nps_value", nps=month.nps) if month.nps is not None else none,
            ),
            (t("dash.month_new"), str(month.new_customers)),
        ]

    def _due(self, day: dt.date, today: dt.date) -> Text:
        """``11-16 已过期`` or ``12-06 13天后``: short, the panel is narrow."""
        t = self.texts
        days = (day - today).days
        words = t("page.expired") if days < 0 else t("dash.in_days", n=days)
        return Text(f"{day:%m-%d} {words}", style="bold red" if days < SOON_DAYS else "yellow")

    def on_result_table_chosen(self, event: ResultTable.Chosen) -> None:
        if event.table.id == "upcoming" and event.record_id in self._customer_of:
            self.hk.open_record("customer", self._customer_of[event.record_id])
        elif event.table.id == "expiring":
            self.hk.open_record("worker", event.record_id.split(":")[0])
