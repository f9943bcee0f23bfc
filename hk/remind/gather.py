"""The items due on a day, read from the SQLite index (never by parsing record files).

Each rule of :mod:`hk.domain.reminders` gets only the records that can matter to it, chosen
in SQL by the columns the index keeps (``day``, ``category`` = status, ``refs``) and, where
those cannot tell, by a byte search in the stored JSON (``instr``) before anything is parsed:
at benchmark scale (100 000 orders) only the orders around tomorrow, those still to come with
a deposit, and those that used a package in the last two validity spans are read.

Kept light to import, like :mod:`hk.services.lookup`: no Pydantic, no Jinja2.
"""

from __future__ import annotations

import datetime as dt

import orjson

from hk.domain import reminders as rules
from hk.domain.reminders import BOOKED, Due

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from typing import Any

    from hk.remind.config import RemindConfig
    from hk.store.index import Index

KINDS = ("order", "customer", "worker", "contract", "quote", "package", "visit", "complaint")
"""The kinds the rules read; the index refreshes these before a run."""
SERVED = ("completed", "settled")
"""Order statuses that count as a completed service (for return visits)."""
CHUNK = 500


class Found:
    """The day's items, and what their messages need to know of the records they name."""

    __slots__ = ("broken", "day", "items", "records")

    def __init__(self, day: dt.date, items: list[Due], records: dict[str, dict[str, Any]],
                 broken: dict[str, str]) -> None:
        self.day, self.items, self.records, self.broken = day, items, records, broken


def _in(values: Iterable[str]) -> tuple[str, list[str]]:
    args = list(values)
    return ",".join("?" * len(args)), args


def _datas(db: sqlite3.Connection, where: str, args: Iterable[Any]) -> list[dict[str, Any]]:
    """The stored JSON of the records matching ``where``."""
    return [orjson.loads(row[0]) for row in
            db.execute(f"SELECT data FROM records WHERE {where}", list(args))]


def gather(index: Index, today: dt.date, config: RemindConfig) -> Found:
    """Every item due on ``today`` (a date in the archive's timezone) for every audience."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.timezone)
    leads = config.leads
    broken = index.refresh([k for k in KINDS if k in index.specs]).broken
    db = index.db
    day = today.isoformat
    booked, booked_args = _in(BOOKED)
    tomorrow = today + dt.timedelta(days=1)
    items: list[Due] = []

    # Appointments: the index's day is the start's day in the order's own offset, so look a
    # day to each side and let the rule compare days in the archive's timezone.
    near = _datas(db, f"kind = 'order' AND day BETWEEN ? AND ? AND category IN ({booked})",
                  [today.isoformat(), (tomorrow + dt.timedelta(days=1)).isoformat(),
                   *booked_args])
    items += rules.appointments(near, tomorrow, tz)

    owing = _datas(db, f"kind = 'order' AND day >= ? AND category IN ({booked})"
                       " AND instr(data, ?) = 0",
                   [(today - dt.timedelta(days=1)).isoformat(), *booked_args,
                    b'"deposit_fen":0,'])
    items += rules.deposits(owing, today, tz)

    packages = {p["code"]: p for p in _datas(db, "kind = 'package'", [])}
    if packages:
        span = max(int(p.get("validity_days", 1)) for p in packages.values())
        used = _datas(db, "kind = 'order' AND day >= ? AND category != 'cancelled'"
                          " AND instr(data, ?) > 0",
                      [(today - dt.timedelta(days=2 * span)).isoformat(), b'"package":"'])
        items += rules.packages_low(used, packages, today, leads.package_visits_left)

    if leads.contract_end_days:
        last = today + dt.timedelta(days=max(leads.contract_end_days))
        ending = _datas(db, "kind = 'contract' AND category IN ('signed', 'active')"
                            " AND day BETWEEN ? AND ?", [day(), last.isoformat()])
        items += rules.contract_ends(ending, today, leads.contract_end_days)

    last = today + dt.timedelta(days=leads.quote_expiry_days)
    quotes = _datas(db, "kind = 'quote' AND category IN ('draft', 'sent') AND day BETWEEN ? AND ?",
                    [day(), last.isoformat()])
    items += rules.quotes_expiring(quotes, today, leads.quote_expiry_days)

    items += rules.papers(_datas(db, "kind = 'worker' AND category != 'inactive'", []),
                          today, leads)

    born = _datas(db, "kind = 'customer' AND instr(data, ?) > 0", [b'"birthday":"'])
    items += rules.birthdays(born, today, leads.birthday_days)

    items += rules.lapsed(*_lapsed(db, today, leads.lapsed_days))

    if "visit" in index.specs:
        from hk.domain.visits import due_by, owed

        owing = [o for h in histories(db) for o in due_by(owed(h, config.visits), today)]
        items += rules.return_visits(owing, today)
    if "complaint" in index.specs:
        now = dt.datetime.now(tz).replace(microsecond=0)
        if now.date() != today:
            now = dt.datetime.combine(today, now.timetz())
        import marshal

        rows = [{"id": rid, "name": name, **marshal.loads(summary)}
                for rid, name, summary in db.execute(
                    "SELECT id, name, summary FROM records WHERE kind = 'complaint'"
                    " AND category = 'open'")]
        items += rules.complaints(rows, now)

    records = records_of(db, named(items), today, config.consent_words)
    allowed = [rid for rid, r in records.items() if r.get("marketing")]
    items = rules.without_unconsented(items, allowed)
    return Found(today, rules.ordered(items), records, broken)


def _lapsed(db: sqlite3.Connection, today: dt.date, lapsed_days: int
            ) -> tuple[dict[str, dt.date], dt.date, int, set[str]]:
    """Each candidate's last order day, and who is exempt (a long-term contract running).

    An order's first ``refs`` entry is its customer (:meth:`Order.index_refs`), so the
    customer of every order in a span of days comes out of the index without parsing it.
    """
    since = today - dt.timedelta(days=lapsed_days)
    first = since - dt.timedelta(days=rules.CATCH_UP_DAYS - 1)
    last: dict[str, dt.date] = {
        customer: dt.date.fromisoformat(latest) for customer, latest in db.execute(
            "SELECT substr(refs, 2, 26), max(day) FROM records WHERE kind = 'order'"
            " AND day BETWEEN ? AND ? AND category != 'cancelled' GROUP BY 1",
            [first.isoformat(), since.isoformat()])}
    if last:
        later = {c for (c,) in db.execute(
            "SELECT DISTINCT substr(refs, 2, 26) FROM records WHERE kind = 'order'"
            " AND day > ? AND category != 'cancelled'", [since.isoformat()])}
        last = {c: d for c, d in last.items() if c not in later}
    exempt = set()
    if last:
        for contract in _datas(db, "kind = 'contract' AND category = 'active' AND day >= ?",
                               [today.isoformat()]):
            if contract["start"] <= today.isoformat():
                exempt.add(contract["customer"])
    return last, today, lapsed_days, exempt


def histories(db: sqlite3.Connection) -> list[Any]:
    """Each customer's history as the visit rules read it (:class:`hk.domain.visits.History`),
    from the index alone, as :func:`hk.services.visits.histories` gathers it (a test keeps
    the two equal): their visit records, their completed services (how many, and the first:
    earliest start, then ID), whether a signed or active contract names them.
    """
    import marshal

    from hk.domain.visits import History, Seen

    def day(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text[:10]) if text else None

    seen: dict[str, list[Seen]] = {}
    for rid, summary in db.execute("SELECT id, summary FROM records WHERE kind = 'visit'"):
        row = marshal.loads(summary)
        seen.setdefault(row["customer"], []).append(Seen(
            rid, row["type"], row["status"], dt.date.fromisoformat(row["due"]),
            day(row.get("done_at")), row.get("order"), row.get("contract"),
            row.get("complaint"), row.get("worker"), row.get("reason", "")))
    served, marks = {}, ",".join("?" * len(SERVED))
    for customer, count, first in db.execute(
            "SELECT substr(refs, 2, 26), count(*), min(substr(name, 1, 16) || char(31) || id)"
            f" FROM records WHERE kind = 'order' AND category IN ({marks}) GROUP BY 1", SERVED):
        served[customer] = (count, first.rpartition("\x1f")[2], first[:10])
    contracted = {c for (c,) in db.execute(
        "SELECT DISTINCT substr(refs, 2, 26) FROM records WHERE kind = 'contract'"
        " AND category IN ('signed', 'active')")}
    out = []
    for who in sorted({*seen, *served}):
        visits = tuple(seen.get(who, []))
        count, first_order, first_day = served.get(who, (0, None, None))
        first_service = day(first_day)
        if first_order and not any(v.status == "done" for v in visits):
            row = db.execute("SELECT data FROM records WHERE id = ?", (first_order,)).fetchone()
            if row is not None:
                first_service = _completed(orjson.loads(row[0])) or first_service
        out.append(History(who, first_service, first_order, count, who in contracted, visits))
    return out


def _completed(order: dict[str, Any]) -> dt.date | None:
    """The day an order's log says its service was completed."""
    for event in order.get("events") or []:
        if event.get("to_status") == "completed":
            return dt.date.fromisoformat(str(event["at"])[:10])
    return None


def named(items: Iterable[Due]) -> set[str]:
    """Every record ID the items name."""
    ids: set[str] = set()
    for item in items:
        for value in item.refs.values():
            if isinstance(value, list):
                ids.update(value)
            elif value:
                ids.add(value)
    return ids


def records_of(db: sqlite3.Connection, ids: Iterable[str], today: dt.date,
               consent_words: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Code, name and contacts of each record, by ID; for a customer also whether they agreed
    to greetings and offers on ``today`` (``marketing``)."""
    words = tuple(consent_words)
    out: dict[str, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), CHUNK):
        marks, args = _in(wanted[i:i + CHUNK])
        for rid, kind, code, name, data in db.execute(
                f"SELECT id, kind, code, name, data FROM records WHERE id IN ({marks})", args):
            record: dict[str, Any] = {"id": rid, "kind": kind, "code": code or "", "name": name}
            if kind in ("customer", "worker"):
                parsed = orjson.loads(data)
                phones = parsed.get("phones") or ([parsed["phone"]] if parsed.get("phone") else [])
                record.update(phones=phones, phone=format_phone(phones[0]) if phones else "",
                              wechat=parsed.get("wechat", ""))
                if kind == "customer":
                    record["marketing"] = bool(words) and rules.consents_to_marketing(
                        parsed, today, words)
            out[rid] = record
    return out


def format_phone(e164: str) -> str:
    """``+8613800138000`` → ``138 0013 8000``; other numbers as stored (the light path does
    not load the phone-number tables)."""
    if e164.startswith("+861") and len(e164) == 14:
        d = e164[3:]
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    return e164[3:] if e164.startswith("+86") else e164
