"""``hk calendar export FILE.ics``: appointments, contract ends and return visits due, as
RFC 5545 events a calendar application imports (Outlook, Apple Calendar, Google, 钉钉/企业微信
calendars).

Each event's UID is made from the record's ID (``order-<id>@hk``), so importing a newer export
updates the events instead of doubling them. Appointments are timed events in the archive's
timezone (a VTIMEZONE is included); contract ends and visits are all-day events. What goes in
is what the office needs at a glance: services, customer, worker, community and codes; no
phone numbers, ID numbers or notes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from hk.domain.order.status import STATUS_ZH
from hk.domain.reminders import BOOKED, LIVE_CONTRACTS, VISIT_ZH

if TYPE_CHECKING:
    from hk.store.archive import Archive

SHOWN = (*BOOKED, "in_service", "completed", "settled")
"""Order statuses shown in the calendar: everything but cancelled."""
TYPE_ZH = {"placement": "派驻", "package": "套餐", "service": "周期服务"}


@dataclass
class Exported:
    """How many events of each kind went into the file."""

    appointments: int = 0
    contract_ends: int = 0
    visits: int = 0

    @property
    def total(self) -> int:
        return self.appointments + self.contract_ends + self.visits


def export(
    archive: Archive, first: dt.date, last: dt.date, path: Path, stdout: IO[bytes] | None = None
) -> Exported:
    """Write the events from ``first`` to ``last`` (both included) to ``path`` (``-``:
    ``stdout``), as :func:`hk.store.output.write_output` writes a named output."""
    from zoneinfo import ZoneInfo

    from icalendar import Calendar, Event

    from hk.domain.visit.owed import due_by, owed
    from hk.remind.gather import records_of
    from hk.store.histories import histories
    from hk.store.output import write_output

    settings = archive.settings
    tz = ZoneInfo(settings.locale.timezone)
    index = archive.index
    index.refresh(
        [k for k in ("order", "customer", "worker", "contract", "visit") if k in index.specs]
    )
    db = index.db
    marks = ",".join("?" * len(SHOWN))
    orders = [
        orjson.loads(d)
        for (d,) in db.execute(
            f"SELECT data FROM records WHERE kind = 'order' AND day BETWEEN ? AND ?"
            f" AND category IN ({marks})",
            [
                (first - dt.timedelta(days=1)).isoformat(),
                (last + dt.timedelta(days=1)).isoformat(),
                *SHOWN,
            ],
        )
    ]
    orders = [
        o
        for o in orders
        if first <= dt.datetime.fromisoformat(o["window"]["start"]).astimezone(tz).date() <= last
    ]
    contracts = [
        orjson.loads(d)
        for (d,) in db.execute(
            "SELECT data FROM records WHERE kind = 'contract' AND category IN (?, ?)"
            " AND day BETWEEN ? AND ?",
            [*LIVE_CONTRACTS, first.isoformat(), last.isoformat()],
        )
    ]
    visits = []
    if "visit" in index.specs:
        visits = [
            o
            for h in histories(db)
            for o in due_by(owed(h, _visit_rules(settings)), last)
            if o.due >= first
        ]
    ids = {o["id"] for o in orders} | {o["customer"] for o in orders}
    ids |= {w for o in orders for w in o.get("workers", [])}
    ids |= {c["customer"] for c in contracts} | {c["worker"] for c in contracts if c.get("worker")}
    ids |= {o.customer for o in visits}
    names = records_of(db, ids, first)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)

    cal = Calendar()
    cal.add("prodid", "-//hk//reminders//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", settings.company.name or "hk")
    cal.add("x-wr-timezone", settings.locale.timezone)
    done = Exported()
    for order in orders:
        start = dt.datetime.fromisoformat(order.get("planned_start") or order["window"]["start"])
        end = dt.datetime.fromisoformat(order["window"]["end"])
        if order.get("expected_minutes"):
            end = start + dt.timedelta(minutes=order["expected_minutes"])
        customer = _label(names, order["customer"])
        workers = "、".join(_label(names, w) for w in order.get("workers", [])) or "未派工"
        services = "、".join(line.get("name") or line["service"] for line in order["lines"])
        address = order.get("address") or {}
        event = Event()
        event.add("uid", f"order-{order['id']}@hk")
        event.add("dtstamp", stamp)
        event.add("dtstart", start.astimezone(tz))
        event.add("dtend", max(end, start + dt.timedelta(minutes=1)).astimezone(tz))
        event.add("summary", f"{services} · {customer}")
        event.add("location", f"{address.get('district', '')}{address.get('community', '')}")
        event.add(
            "description",
            f"订单 {_code(names, order['id'])} · "
            f"{STATUS_ZH.get(order['status'], order['status'])}\n"
            f"阿姨：{workers}",
        )
        event.add("status", "TENTATIVE" if order["status"] == "pending" else "CONFIRMED")
        event.add("categories", ["预约"])
        cal.add_component(event)
        done.appointments += 1
    for contract in contracts:
        end_day = dt.date.fromisoformat(contract["end"])
        worker = contract.get("worker")
        cal.add_component(
            _all_day(
                f"contract-end-{contract['id']}@hk",
                stamp,
                end_day,
                f"合同到期 {contract.get('number', '')} · {_label(names, contract['customer'])}",
                f"{TYPE_ZH.get(contract.get('contract_type', ''), '')}合同，{contract['start']} 至 "
                f"{contract['end']}" + (f"\n阿姨：{_label(names, worker)}" if worker else ""),
                "合同",
            )
        )
        done.contract_ends += 1
    for visit in visits:
        uid = (
            f"visit-{visit.visit}@hk" if visit.visit else f"visit-{visit.key.replace(':', '-')}@hk"
        )
        cal.add_component(
            _all_day(
                uid,
                stamp,
                visit.due,
                f"{VISIT_ZH.get(visit.type, visit.type)} · {_label(names, visit.customer)}",
                visit.reason,
                "回访",
            )
        )
        done.visits += 1
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    write_output(path, cal.to_ical(), stdout=stdout)
    return done


def _visit_rules(settings: Any) -> Any:
    from hk.domain.visit.owed import Rules

    return Rules.of(settings.visits)


def _all_day(
    uid: str, stamp: dt.datetime, day: dt.date, summary: str, description: str, category: str
) -> Any:
    from icalendar import Event

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    event.add("transp", "TRANSPARENT")
    event.add("categories", [category])
    return event


def _label(names: dict[str, dict[str, Any]], rid: str) -> str:
    record = names.get(rid)
    return f"{record['name']} {record['code']}".strip() if record else rid[:8]


def _code(names: dict[str, dict[str, Any]], rid: str) -> str:
    record = names.get(rid)
    return record["code"] if record and record["code"] else rid[:8]
