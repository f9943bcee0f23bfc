"""After the service: the customer's rating, and rework (返工) of a job not done right.

Neither moves the order along its lifecycle: a rating is kept on a done order, and a rework is
a new order of its own, linked to the original by ``rework_of`` and free of charge.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import ValidationError

from hk.domain.ids import new_id
from hk.domain.order import steps as order_steps
from hk.domain.order.model import RATED_STATUSES, Order, Window
from hk.domain.order.status import LifecycleError, label
from hk.domain.survey import DIMENSIONS as SCORES
from hk.domain.survey import Survey
from hk.errors import HkError, UsageError
from hk.services.orders.steps import load_order, with_changes
from hk.services.records import Stepped, moment, refused
from hk.store.archive import Archive
from hk.store.writer import save, save_together


def rate(
    archive: Archive,
    ref: str,
    scores: dict[str, int],
    nps: int | None = None,
    comment: str = "",
    at: dt.datetime | None = None,
) -> Stepped[Order]:
    """Keep the customer's scores (1–5 per SPEC §2 dimension, NPS 0–10) once the work is done.

    The scores are a survey response (满意度调查) of their own, which the satisfaction figures
    count, and the order keeps a copy with the survey's ID: both files in one commit, with the
    follow-up return visit a score at or below ``[visits] low_score`` asks for, and the points
    the order earns (:mod:`hk.services.points`).
    """
    missing = [s for s in SCORES if s not in scores]
    if missing:
        raise UsageError(
            f"missing scores: {', '.join(missing)}", hint="give each of --" + " --".join(SCORES)
        )
    when = moment(archive, at)
    order, loaded = load_order(archive, ref)
    if order.status not in RATED_STATUSES:
        raise LifecycleError(
            f"an order is rated once the service is done; this one is {label(order.status)}"
        )
    if order.rating is not None:
        on = f"{order.rating.at:%Y-%m-%d %H:%M}" if order.rating.at else "an earlier day"
        raise HkError(
            f"the order was rated already, on {on}", hint="hk edit changes a rating typed wrongly"
        )
    try:
        survey = Survey.model_validate(
            {
                "id": new_id(),
                "created": when,
                "updated": when,
                "customer": order.customer,
                "order": order.id,
                "contract": order.contract,
                "workers": list(order.workers),
                "services": order.services(),
                "at": when,
                "channel": "order_rate",
                "taken_by": archive.operator(),
                **{s: scores[s] for s in SCORES},
                "nps": nps,
                "comment": comment,
            }
        )
    except ValidationError as exc:
        raise refused(exc) from None
    rating = {
        **{s: scores[s] for s in SCORES},
        "nps": nps,
        "comment": comment,
        "at": when,
        "survey": survey.id,
    }
    rated = with_changes(order, rating=rating)
    from hk.services.followups import low_score_visit
    from hk.services.points import earn_entry, still_earns
    from hk.services.records import code_of

    follow = low_score_visit(archive, survey, when)
    earned = earn_entry(archive, rated, when)
    result = save_together(
        archive,
        [
            (rated, loaded),
            (survey, None),
            *([(follow, None)] if follow else []),
            *([(earned, None)] if earned else []),
        ],
        recheck=(lambda: still_earns(archive, rated, when, earned.points)) if earned else None,
    )
    notes = [f"survey {code_of(archive, survey.id) or survey.id}"]
    if follow is not None:
        notes.append(
            f"low score: return visit {code_of(archive, follow.id)} due "
            f"{follow.due.isoformat()} ({follow.reason}); to open a complaint: "
            f"hk complaint open --order {code_of(archive, order.id) or order.id}"
        )
    return Stepped(rated, result, [], notes=notes)


def rework(
    archive: Archive,
    ref: str,
    start: dt.datetime,
    *,
    end: dt.datetime | None = None,
    hours: Decimal | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Stepped[Order]:
    """A new order (返工) that redoes a completed one, free of charge, linked by ``rework_of``.

    The window is as long as the original's unless ``end`` or ``hours`` says otherwise.
    """
    original, _ = load_order(archive, ref)
    order = build_rework(archive, original, start, end=end, hours=hours, note=note, at=at)
    return Stepped(order, save(archive, order), list(order.events))


def build_rework(
    archive: Archive,
    original: Order,
    start: dt.datetime,
    *,
    end: dt.datetime | None = None,
    hours: Decimal | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Order:
    """The rework order :func:`rework` saves, not saved: a resolved complaint saves it with
    the complaint, in one commit."""
    begin = moment(archive, start)
    if end is not None:
        finish_at = moment(archive, end)
    elif hours is not None:
        finish_at = begin + dt.timedelta(minutes=int(hours * 60))
    else:
        finish_at = begin + original.duration()
    try:
        window = Window(start=begin, end=finish_at)
        return order_steps.rework(
            original,
            order_id=new_id(),
            actor=archive.operator(),
            at=moment(archive, at),
            window=window,
            note=note,
        )
    except ValidationError as exc:
        raise refused(exc) from None


def reworks_of(archive: Archive, order: Order) -> list[str]:
    """IDs of the orders that redo ``order`` (found among the customer's orders)."""
    import orjson

    return [
        row["id"]
        for row in archive.index.list("order", ref=order.customer)
        if orjson.loads(row["data"]).get("rework_of") == order.id
    ]
