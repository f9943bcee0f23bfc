"""The order board's data: orders of a span of days by status, and moving one through the
lifecycle (SPEC §3) with the services the CLI uses.

Reading is from the index alone (:func:`board`); a move (:func:`move`) picks the service of the
step — confirm, ready, assign, start, finish, settle, cancel — so the board can never do what
``hk order`` would refuse. :func:`check_move` answers from the lifecycle table before the
board asks anything (a worker, a reason): an illegal move is refused with the table's words and
nothing is asked or written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hk.domain.order.status import ORDER, STATUSES, TRANSITIONS
from hk.errors import UsageError
from hk.services.lookup import summary
from hk.services.orders.listing import list_items

if TYPE_CHECKING:
    from hk.domain.order.model import Order
    from hk.services.records import Stepped
    from hk.store.archive import Archive

SPANS = ("today", "tomorrow", "week")
"""The spans of days the board shows, in the order its key goes through them."""
NEXT_STEP: dict[str, str] = {
    "pending": "confirmed",
    "confirmed": "to_dispatch",
    "to_dispatch": "dispatched",
    "dispatched": "in_service",
    "in_service": "completed",
    "completed": "settled",
}
"""Where "move right" takes an order: the lifecycle's forward step (never cancelling)."""


@dataclass
class Board:
    """The orders of ``first``..``last`` (start day), by status, each column in time order."""

    first: dt.date
    last: dt.date
    columns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def find(self, order_id: str) -> tuple[str, int] | None:
        """The column and place of an order on the board, if it is there."""
        for status, cards in self.columns.items():
            for n, card in enumerate(cards):
                if card["id"] == order_id:
                    return status, n
        return None


def span_days(span: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of ``span``: today, tomorrow, or this week (Monday–Sunday)."""
    if span == "tomorrow":
        day = today + dt.timedelta(days=1)
        return day, day
    if span == "week":
        monday = today - dt.timedelta(days=today.weekday())
        return monday, monday + dt.timedelta(days=6)
    return today, today


def board(archive: Archive, first: dt.date, last: dt.date) -> Board:
    """Every order starting from ``first`` to ``last``, with customer and worker names."""
    rows = [
        summary(r)
        for r in archive.index.list("order", day_from=first.isoformat(), day_to=last.isoformat())
    ]
    found = Board(first, last, {status: [] for status in STATUSES})
    for item in sorted(list_items(archive.index, rows), key=lambda i: (i["start"], i["code"])):
        found.columns.setdefault(item["status"], []).append(item)
    return found


def check_move(status: str, target: str) -> None:
    """Refuse (:class:`IllegalTransition`) a move the lifecycle table does not allow."""
    if target not in TRANSITIONS.get(status, ()):
        raise ORDER.refuse(status, target)


def move(
    archive: Archive, order_id: str, target: str, *, workers: Sequence[str] = (), reason: str = ""
) -> Stepped[Order]:
    """Move the order to ``target`` through the service of that step (one commit).

    ``workers`` are asked for by the move to 已派工, ``reason`` by a cancellation. Finishing
    passes every item of the acceptance checklist (the board has no checklist to tick); settling
    records no payment, so an order with money due stays where it is and says so.
    """
    from hk.services.orders import money as order_money
    from hk.services.orders import steps as orders

    if target == "confirmed":
        return orders.confirm(archive, order_id)
    if target == "to_dispatch":
        return orders.to_dispatch(archive, order_id)
    if target == "dispatched":
        if not workers:
            raise UsageError("choose the worker to assign")
        return orders.assign(archive, order_id, list(workers))
    if target == "in_service":
        return orders.start(archive, order_id)
    if target == "completed":
        return orders.finish(archive, order_id, all_ok=True)
    if target == "settled":
        return order_money.settle(archive, order_id)
    if target == "cancelled":
        return order_money.cancel(archive, order_id, reason)
    order, _ = orders.load_order(archive, order_id)
    raise ORDER.refuse(order.status, target)


def workers_to_assign(archive: Archive) -> list[tuple[str, str]]:
    """(ID, ``code name · skills``) of every worker who is not inactive, by code."""
    out = []
    for status in ("available", "placed"):
        for row in archive.index.list("worker", category=status):
            data = summary(row)
            skills = " ".join(data.get("skills", []))
            out.append((row["id"], f"{row['code']} {row['name']}  {skills}".rstrip()))
    return sorted(out, key=lambda item: item[1])


def scores_of(values: dict[str, str]) -> tuple[dict[str, int], int | None]:
    """The five scores (1–5) and the optional NPS (0–10) as typed in a form."""
    from hk.domain.survey import DIMENSIONS

    scores = {}
    for name in DIMENSIONS:
        text = values.get(name, "").strip()
        if not text.isdigit() or not 1 <= int(text) <= 5:
            raise UsageError(f"the score '{name}' is a whole number from 1 to 5, not '{text}'")
        scores[name] = int(text)
    nps_text = values.get("nps", "").strip()
    if not nps_text:
        return scores, None
    if not nps_text.isdigit() or not 0 <= int(nps_text) <= 10:
        raise UsageError(f"NPS is a whole number from 0 to 10, not '{nps_text}'")
    return scores, int(nps_text)


def rate(archive: Archive, order_id: str, values: dict[str, str]) -> Stepped[Order]:
    """Keep the customer's scores of a done order (:func:`hk.services.orders.aftercare.rate`)."""
    from hk.services.orders.aftercare import rate as rate_order

    scores, nps = scores_of(values)
    return rate_order(archive, order_id, scores, nps, values.get("comment", "").strip())
