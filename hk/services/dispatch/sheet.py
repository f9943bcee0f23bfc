"""Each worker's day (派工日程): her jobs of one day in time order, and the way between them.

Workers are not users of hk (SPEC §1): once a day's plan is applied, the operator sends each
of them her day as a message (SMS, WeChat) and may hand her a printed page. Both are made
here from the same data: every job is the worker's order sheet (:mod:`hk.services.orders.sheet`:
masked phone, address and access notes, services and their acceptance checklists, no ID
number, no health notes unless revealed), plus the travel from home or from the previous job,
estimated with the dispatch travel model (:mod:`hk.dispatch.travel`) so the sheet agrees with
the planner. A place that cannot be located says so (路程未知) rather than guess.

A job is an order with the worker in ``order.workers`` whose appointment starts on the day
(in the archive's timezone) and that is dispatched, in service, done or settled: a cancelled
order, or one not dispatched yet, is nobody's job.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hk.dispatch.travel import Located, Travel, locate
from hk.domain.common import Address
from hk.domain.order.model import Order
from hk.domain.worker import Worker
from hk.errors import HkError, NotFound, UsageError
from hk.services.orders.sheet import sheet_context
from hk.services.records import load, resolve_id
from hk.store.archive import Archive

JOB_STATUSES = ("dispatched", "in_service", "completed", "settled")
"""Orders that are a worker's job on their day; the sheet marks the ones already under way."""
STATUS_NOTE = {"in_service": "服务中", "completed": "已完成", "settled": "已完成"}

Format = Literal["text", "md", "html"]
FORMATS: tuple[Format, ...] = ("text", "md", "html")
SUFFIX: dict[str, str] = {"text": "txt", "md": "md", "html": "html"}
WEEKDAYS_ZH = "一二三四五六日"

NEAR_METRES = 300
"""Closer than this by road is next door (same building or community): no travel to tell."""
ROUND_MINUTES = 5
"""Travel times are estimates; a worker reads 'about 20 minutes', not 17."""


class NoJobs(HkError):
    """Nobody (or not the worker asked for) has a job on the day: there is nothing to send."""


@dataclass(frozen=True)
class Leg:
    """The way to a job, from the worker's home or from her previous job.

    ``seconds`` and ``metres`` are None when either end cannot be located; ``rough`` when an
    end was located only by its district; ``gap_minutes`` is the time between the previous
    job's end and this one's start (None from home).
    """

    origin: Literal["home", "previous"]
    seconds: float | None = None
    metres: float | None = None
    rough: bool = False
    gap_minutes: int | None = None

    def minutes(self) -> int | None:
        """Rounded up to :data:`ROUND_MINUTES`; 0 next door; None when unknown."""
        if self.seconds is None or self.metres is None:
            return None
        if self.metres < NEAR_METRES:
            return 0
        return max(1, math.ceil(self.seconds / 60 / ROUND_MINUTES)) * ROUND_MINUTES

    def tight(self) -> bool:
        """The travel takes longer than the time between the two jobs."""
        minutes = self.minutes()
        return self.gap_minutes is not None and minutes is not None and minutes > self.gap_minutes

    def text(self) -> str:
        """``路程约20分钟（约4.5公里）``, ``就在附近``, ``路程未知``; a warning when it is tight."""
        minutes = self.minutes()
        if minutes is None or self.metres is None:
            words = "路程未知"
        elif minutes == 0:
            words = "就在附近"
        else:
            words = (
                f"路程约{minutes}分钟（约{self.metres / 1000:.1f}公里"
                + ("，按区域估算" if self.rough else "")
                + "）"
            )
        if self.gap_minutes is not None and self.gap_minutes < 0:
            words += "，与上一单时间重叠，请联系公司"
        elif self.tight():
            words += f"，间隔仅{self.gap_minutes}分钟"
        return words

    def as_dict(self) -> dict[str, Any]:
        minutes = self.minutes()
        return {
            "origin": self.origin,
            "minutes": minutes,
            "km": None if self.metres is None else round(self.metres / 1000, 1),
            "rough": self.rough,
            "gap_minutes": self.gap_minutes,
            "tight": self.tight(),
            "known": minutes is not None,
            "text": self.text(),
        }


@dataclass
class WorkerDay:
    """One worker's jobs of the day, in start order, each with the way to it."""

    worker_id: str
    code: str
    name: str
    day: dt.date
    reveal: bool = False
    jobs: list[dict[str, Any]] = field(default_factory=list)
    """Each job's :func:`sheet_context`, plus ``leg``, ``partners``, ``place``, ``services_text``
    and ``status_note``."""

    def totals(self) -> dict[str, Any]:
        """Jobs, service time and known travel of the day (what the page's summary line says)."""
        legs = [job["leg"] for job in self.jobs if job["leg"] is not None]
        service = sum(job["minutes_booked"] for job in self.jobs)
        hours = Decimal(service) / 60
        return {
            "jobs": len(self.jobs),
            "service_minutes": service,
            "service_hours": format(hours.quantize(Decimal("0.1")).normalize(), "f"),
            "travel_minutes": sum(leg["minutes"] or 0 for leg in legs),
            "unknown_legs": sum(1 for leg in legs if not leg["known"]),
            "tight_legs": sum(1 for leg in legs if leg["tight"]),
        }

    def context(self) -> dict[str, Any]:
        """What ``dispatch_sheet.txt.j2`` and ``dispatch_sheet.md.j2`` show; plain values."""
        return {
            "worker": {"id": self.worker_id, "code": self.code, "name": self.name},
            "day": {
                "date": self.day.isoformat(),
                "month": self.day.month,
                "day": self.day.day,
                "weekday": WEEKDAYS_ZH[self.day.weekday()],
            },
            "jobs": self.jobs,
            "totals": self.totals(),
            "reveal": self.reveal,
        }

    def summary(self) -> dict[str, Any]:
        """The day for scripts (``--json``): who, each job in short, the totals."""
        return {
            "date": self.day.isoformat(),
            "worker": {"id": self.worker_id, "code": self.code, "name": self.name},
            "jobs": [
                {
                    "order_id": job["order_id"],
                    "order": job["order"]["code"],
                    "status": job["order"]["status"],
                    "start": job["start_iso"],
                    "end": job["end_iso"],
                    "services": [s["service"] for s in job["services"]],
                    "customer": job["customer"]["name"],
                    "phone": job["customer"]["phone"],
                    "address": job["address"]["text"],
                    "access_notes": job["address"]["access_notes"],
                    "notes": job["order"]["notes"],
                    "partners": job["partners"],
                    "travel": job["leg"],
                }
                for job in self.jobs
            ],
            "totals": self.totals(),
        }


def worker_days(
    archive: Archive, day: dt.date, worker: str | None = None, reveal: bool = False
) -> list[WorkerDay]:
    """Every worker's day on ``day`` (or only the one ``worker`` names: code or ID).

    Workers come in the order they set off (first job's start), then by code. Raises
    :class:`NoJobs` when there is nothing to send, naming the worker if one was asked for.
    """
    wanted = resolve_id(archive, "worker", worker)[1] if worker else None
    orders = _orders_of(archive, day, wanted)
    by_worker: dict[str, list[Order]] = {}
    for order in orders:
        for worker_id in order.workers:
            if wanted is None or worker_id == wanted:
                by_worker.setdefault(worker_id, []).append(order)
    if not by_worker:
        raise _no_jobs(archive, day, wanted)
    days = [
        _worker_day(archive, worker_id, day, jobs, reveal) for worker_id, jobs in by_worker.items()
    ]
    days.sort(key=lambda d: (d.jobs[0]["start_iso"], d.code))
    return days


def _orders_of(archive: Archive, day: dt.date, worker_id: str | None) -> list[Order]:
    """The day's jobs, read from their files. The index files an order under the day of its
    start in its own offset, so the days either side are asked too and the archive's
    timezone decides."""
    from hk.services.lookup import list_rows

    tz = ZoneInfo(archive.settings.locale.timezone)
    rows = list_rows(
        archive.index,
        "order",
        day_from=(day - dt.timedelta(days=1)).isoformat(),
        day_to=(day + dt.timedelta(days=1)).isoformat(),
        ref=worker_id,
    )
    orders = []
    for row in rows:
        if row["status"] not in JOB_STATUSES or not row["workers"]:
            continue
        order, _ = load(archive, Order, row["id"])
        if order.window.start.astimezone(tz).date() == day:
            orders.append(order)
    orders.sort(key=lambda o: (o.service_span()[0], o.id))
    return orders


def _no_jobs(archive: Archive, day: dt.date, worker_id: str | None) -> NoJobs:
    if worker_id is None:
        return NoJobs(
            f"no worker has a job on {day.isoformat()}",
            hint="a job is an order dispatched to the worker (已派工 or later); "
            f"`hk order list --date {day.isoformat()}` shows the day's orders",
        )
    row = archive.index.get(worker_id)
    code = str(row["code"]) if row is not None and row["code"] else worker_id
    who = f"{code} {row['name']}" if row is not None else code
    return NoJobs(
        f"worker {who} has no job on {day.isoformat()}",
        hint=f"`hk order list --date {day.isoformat()} --worker {code}` shows her "
        "orders of the day in every status",
    )


def _worker_day(
    archive: Archive, worker_id: str, day: dt.date, orders: list[Order], reveal: bool
) -> WorkerDay:
    row = archive.index.get(worker_id)
    code = str(row["code"]) if row is not None and row["code"] else worker_id
    name = str(row["name"]) if row is not None else ""
    home = _home(archive, worker_id)
    dispatch = archive.settings.dispatch
    places = dispatch.places
    travel = Travel(detour=dispatch.detour, speed_kmh=dispatch.speed_kmh)
    tz = ZoneInfo(archive.settings.locale.timezone)
    here: Located | None = locate(home, places) if home is not None else None
    previous: Order | None = None
    out = WorkerDay(worker_id, code, name, day, reveal)
    for order in orders:
        there = locate(order.address, places)
        if previous is None and home is None:
            leg = None
        else:
            gap = (
                None
                if previous is None
                else int(
                    (order.service_span()[0] - previous.service_span()[1]).total_seconds() // 60
                )
            )
            leg = _leg("home" if previous is None else "previous", here, there, gap, travel)
        out.jobs.append(_job(archive, order, worker_id, leg, reveal, tz))
        here, previous = there, order
    return out


def _home(archive: Archive, worker_id: str) -> Address | None:
    try:
        worker, _ = load(archive, Worker, worker_id)
    except NotFound:
        return None
    return worker.home


def _leg(
    origin: Literal["home", "previous"],
    a: Located | None,
    b: Located | None,
    gap: int | None,
    travel: Travel,
) -> dict[str, Any]:
    if a is None or b is None:
        return Leg(origin, gap_minutes=gap).as_dict()
    return Leg(
        origin,
        seconds=travel.seconds(a.point, b.point),
        metres=travel.road_metres(a.point, b.point),
        rough="district" in (a.source, b.source),
        gap_minutes=gap,
    ).as_dict()


def _job(
    archive: Archive,
    order: Order,
    worker_id: str,
    leg: dict[str, Any] | None,
    reveal: bool,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """The order's sheet as the worker sees it, and what the day's message says of it."""
    context = sheet_context(archive, order, reveal)
    partners = []
    for other in order.workers:
        if other != worker_id:
            row = archive.index.get(other)
            partners.append(str(row["name"]) if row is not None else other)
    address = order.address
    place = (
        f"{address.community} {address.detail}"
        if address.community
        else f"{address.district}{address.detail}"
    ).strip() or address.one_line()
    begin, finish = order.service_span()
    start, end = begin.astimezone(tz), finish.astimezone(tz)
    return {
        **context,
        "order_id": order.id,
        "start_iso": start.isoformat(),
        "end_iso": end.isoformat(),
        "minutes_booked": int((finish - begin).total_seconds() // 60),
        "leg": leg,
        "partners": partners,
        "place": place,
        "services_text": "、".join(s["name"] or s["service"] for s in context["services"]),
        "status_note": STATUS_NOTE.get(order.status, ""),
    }


# --- documents ----------------------------------------------------------------------------------


def check_format(fmt: str) -> Format:
    value = fmt.strip().lower()
    value = "text" if value in ("txt", "sms") else value
    if value not in FORMATS:
        raise UsageError(
            f"--format: '{fmt}' is not a worker sheet format", hint="one of: " + ", ".join(FORMATS)
        )
    return value


def render_day(archive: Archive, worker_day: WorkerDay, fmt: Format) -> str:
    """One worker's day: the message (``text``), or the printable page (``md``, ``html``)."""
    from hk.services.documents import render, render_text

    context = worker_day.context()
    if fmt == "text":
        return render_text(archive, "dispatch_sheet.txt.j2", context)
    return render(archive, "dispatch_sheet", context, fmt, title=page_title(worker_day))


def render_days(archive: Archive, days: list[WorkerDay], fmt: Format) -> str:
    """All the days as one text: the messages one block each under a line naming the worker
    (the line is for the operator, not part of the message); the pages one after another
    (one HTML document for html)."""
    from hk.services.documents import render_markdown, to_html

    if fmt == "text":
        return "\n".join(
            f"==== {d.code} {d.name} ====\n" + render_day(archive, d, fmt) for d in days
        )
    pages = "\n---\n\n".join(render_markdown(archive, "dispatch_sheet", d.context()) for d in days)
    if fmt == "md":
        return pages
    title = page_title(days[0]) if len(days) == 1 else f"派工日程 {days[0].day.isoformat()}"
    return to_html(archive, pages, title)


def page_title(worker_day: WorkerDay) -> str:
    return f"派工日程 {worker_day.day.isoformat()} {worker_day.code}"


def file_name(worker_day: WorkerDay, fmt: Format) -> str:
    """``2026-11-23-W3K9Q.txt``: the day and the worker's code, never her name or phone."""
    return f"{worker_day.day.isoformat()}-{worker_day.code}.{SUFFIX[fmt]}"
