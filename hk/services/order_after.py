"""After the service: the customer's rating, and rework (返工) of a job not done right.

Neither moves the order along its lifecycle: a rating is kept on a done order, and a rework is
a new order of its own, linked to the original by ``rework_of`` and free of charge.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import ValidationError

from hk.domain import lifecycle
from hk.domain.ids import new_id
from hk.domain.lifecycle import LifecycleError, label
from hk.domain.order import RATED_STATUSES, Order, Window
from hk.errors import HkError, UsageError
from hk.services.orders import Changed, change_order, load_order, moment, refused, with_changes
from hk.store.archive import Archive
from hk.store.writer import save

SCORES = ("quality", "attitude", "hygiene", "punctuality", "overall")


def rate(
    archive: Archive,
    ref: str,
    scores: dict[str, int],
    nps: int | None = None,
    comment: str = "",
    at: dt.datetime | None = None,
) -> Changed:
    """Keep the customer's scores (1–5 per SPEC §2 dimension, NPS 0–10) once the work is done."""
    missing = [s for s in SCORES if s not in scores]
    if missing:
        raise UsageError(f"missing scores: {', '.join(missing)}",
                         hint="give each of --" + " --".join(SCORES))
    when = moment(archive, at)

    def change(order: Order) -> Order:
        if order.status not in RATED_STATUSES:
            raise LifecycleError(f"an order is rated once the service is done; this one is "
                                 f"{label(order.status)}")
        if order.rating is not None:
            on = f"{order.rating.at:%Y-%m-%d %H:%M}" if order.rating.at else "an earlier day"
            raise HkError(f"the order was rated already, on {on}",
                          hint="hk edit changes a rating typed wrongly")
        rating = {**{s: scores[s] for s in SCORES}, "nps": nps, "comment": comment, "at": when}
        return with_changes(order, rating=rating)

    return change_order(archive, ref, change)


def rework(
    archive: Archive,
    ref: str,
    start: dt.datetime,
    *,
    end: dt.datetime | None = None,
    hours: Decimal | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Changed:
    """A new order (返工) that redoes a completed one, free of charge, linked by ``rework_of``.

    The window is as long as the original's unless ``end`` or ``hours`` says otherwise.
    """
    original, _ = load_order(archive, ref)
    begin = moment(archive, start)
    if end is not None:
        finish_at = moment(archive, end)
    elif hours is not None:
        finish_at = begin + dt.timedelta(minutes=int(hours * 60))
    else:
        finish_at = begin + original.duration()
    try:
        window = Window(start=begin, end=finish_at)
        order = lifecycle.rework(original, order_id=new_id(), actor=archive.operator(),
                             at=moment(archive, at), window=window, note=note)
    except ValidationError as exc:
        raise refused(exc) from None
    return Changed(order, save(archive, order), list(order.events))


def reworks_of(archive: Archive, order: Order) -> list[str]:
    """IDs of the orders that redo ``order`` (found among the customer's orders)."""
    import orjson

    return [row["id"] for row in archive.index.list("order", ref=order.customer)
            if orjson.loads(row["data"]).get("rework_of") == order.id]
