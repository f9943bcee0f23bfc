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
from hk.store.histories import histories

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from typing import Any

    from hk.remind.config import RemindConfig
    from hk.store.index import Index

KINDS = ("order", "customer", "worker", "contract", "quote", "package", "visit", "complaint")
"""The kinds the rules read; the index refreshes these before a run."""
FIRST_SERVICE_DAYS = 366
"""How long after its start a first service may be recorded as completed and still matter: a
live-in placement runs for months (see :func:`hk.store.histories.histories`)."""
CHUNK = 500


class Found:
    """The day's items, and what their messages need to know of the records they name."""

    __slots__ = ("broken", "day", "items", "records")

    def __init__(
        self,
        day: dt.date,
        items: list[Due],
        records: dict[str, dict[str, Any]],
        broken: dict[str, str],
    ) -> None:
        self.day, self.items, self.records, self.broken = day, items, records, broken


def _in(values: Iterable[str]) -> tuple[str, list[str]]:
    args = list(values)
    return ",".join("?" * len(args)), args


def _datas(db: sqlite3.Connection, where: str, args: Iterable[Any]) -> list[dict[str, Any]]:
    """The stored JSON of the records matching ``where``."""
    return [
        orjson.loads(row[0])
        for row in db.execute(f"SELECT data FROM records WHERE {where}", list(args))
    ]


def gather(index: Index, today: dt.date, config: RemindConfig) -> Found:
    """Every item due on ``today`` (a date in the archive's timezone) for every audience.

    Everything but complaints depends only on the day, the settings and the records, so it
    is kept in a local cache (``.git/hk/remind-cache.marshal``, derived, never committed)
    under the index's own version of each kind it reads: a second run on an unchanged archive
    (a dry run before sending, the TUI's reminder pane) reads no rows. Complaints depend on
    the hour, and are worked out every time.
    """
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.timezone)
    broken = index.refresh([k for k in KINDS if k in index.specs]).broken
    db = index.db
    key = _cache_key(index, today, config)
    cached = _cache_read(index, key)
    if cached is None:
        items = _day_items(index, today, config, tz)
        records = records_of(db, named(items), today, config.consent_words)
        allowed = [rid for rid, r in records.items() if r.get("marketing")]
        items = rules.without_unconsented(items, allowed)
        _cache_write(index, key, items, records)
    else:
        items, records = cached
    if "complaint" in index.specs:
        now = dt.datetime.now(tz).replace(microsecond=0)
        if now.date() != today:
            now = dt.datetime.combine(today, now.timetz())
        import marshal

        rows = [
            {"id": rid, "name": name, **marshal.loads(summary)}
            for rid, name, summary in db.execute(
                "SELECT id, name, summary FROM records WHERE kind = 'complaint'"
                " AND category = 'open'"
            )
        ]
        late = rules.complaints(rows, now)
        records = {**records, **records_of(db, named(late) - set(records), today)}
        items = [*items, *late]
    return Found(today, rules.ordered(items), records, broken)


def _day_items(index: Index, today: dt.date, config: RemindConfig, tz: dt.tzinfo) -> list[Due]:
    """The items of every rule but complaints."""
    db = index.db
    leads = config.leads
    day = today.isoformat
    booked, booked_args = _in(BOOKED)
    tomorrow = today + dt.timedelta(days=1)
    items: list[Due] = []

    # Appointments: the index's day is the start's day in the order's own offset, so look a
    # day to each side and let the rule compare days in the archive's timezone.
    near = _datas(
        db,
        f"kind = 'order' AND day BETWEEN ? AND ? AND category IN ({booked})",
        [today.isoformat(), (tomorrow + dt.timedelta(days=1)).isoformat(), *booked_args],
    )
    items += rules.appointments(near, tomorrow, tz)

    owing = _datas(
        db,
        f"kind = 'order' AND day >= ? AND category IN ({booked}) AND instr(data, ?) = 0",
        [(today - dt.timedelta(days=1)).isoformat(), *booked_args, b'"deposit_fen":0,'],
    )
    items += rules.deposits(owing, today, tz)

    packages = {p["code"]: p for p in _datas(db, "kind = 'package'", [])}
    if packages:
        span = max(int(p.get("validity_days", 1)) for p in packages.values())
        used = _datas(
            db,
            "kind = 'order' AND day >= ? AND category != 'cancelled' AND instr(data, ?) > 0",
            [(today - dt.timedelta(days=2 * span)).isoformat(), b'"package":"'],
        )
        items += rules.packages_low(used, packages, today, leads.package_visits_left)

    if leads.contract_end_days:
        last = today + dt.timedelta(days=max(leads.contract_end_days))
        ending = _datas(
            db,
            "kind = 'contract' AND category IN ('signed', 'active') AND day BETWEEN ? AND ?",
            [day(), last.isoformat()],
        )
        items += rules.contract_ends(ending, today, leads.contract_end_days)

    last = today + dt.timedelta(days=leads.quote_expiry_days)
    quotes = _datas(
        db,
        "kind = 'quote' AND category IN ('draft', 'sent') AND day BETWEEN ? AND ?",
        [day(), last.isoformat()],
    )
    items += rules.quotes_expiring(quotes, today, leads.quote_expiry_days)

    items += rules.papers(
        _datas(db, "kind = 'worker' AND category != 'inactive'", []), today, leads
    )

    born = _datas(db, "kind = 'customer' AND instr(data, ?) > 0", [b'"birthday":"'])
    items += rules.birthdays(born, today, leads.birthday_days)

    items += rules.lapsed(*_lapsed(db, today, leads.lapsed_days))

    if "visit" in index.specs:
        from hk.domain.visit.owed import due_by, owed

        since = today - dt.timedelta(
            days=rules.CATCH_UP_DAYS + config.visits.first_within_days + FIRST_SERVICE_DAYS
        )
        visits = [o for h in histories(db, since) for o in due_by(owed(h, config.visits), today)]
        items += rules.return_visits(visits, today)
    return items


# --- the cache ------------------------------------------------------------------------------

CACHE_FILE = "remind-cache.marshal"
CACHE_VERSION = 2


def _cache_key(index: Index, today: dt.date, config: RemindConfig) -> tuple[Any, ...]:
    """What the day's items depend on: the day, the settings the rules read, and each kind's
    index snapshot (:mod:`hk.store.snapshot`: replaced, with a new inode, whenever the index
    changes the rows of its folder)."""
    stamps = index.freshness(sorted(k for k in KINDS if k in index.specs))
    leads = config.leads
    settings = (
        config.timezone,
        config.consent_words,
        repr(config.visits),
        tuple(getattr(leads, name) for name in leads.__slots__),
    )
    return (CACHE_VERSION, today.isoformat(), repr(settings), stamps)


def _cache_read(
    index: Index, key: tuple[Any, ...]
) -> tuple[list[Due], dict[str, dict[str, Any]]] | None:
    import marshal

    try:
        with open(index.derived_path(CACHE_FILE), "rb") as handle:
            stored_key, rows, records = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if stored_key != key:
        return None
    items = [
        Due(k, rule, audience, dt.date.fromisoformat(day), person, refs, facts)
        for k, rule, audience, day, person, refs, facts in rows
    ]
    return items, records


def _cache_write(
    index: Index, key: tuple[Any, ...], items: list[Due], records: dict[str, dict[str, Any]]
) -> None:
    import marshal
    import os

    rows = [
        (i.key, i.rule, i.audience, i.day.isoformat(), i.person, i.refs, i.facts) for i in items
    ]
    path = index.derived_path(CACHE_FILE)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(marshal.dumps((key, rows, records)))
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:  # noqa: SIM105 - contextlib would be one more import on this path
            os.unlink(tmp)
        except OSError:
            pass


def _lapsed(
    db: sqlite3.Connection, today: dt.date, lapsed_days: int
) -> tuple[dict[str, dt.date], dt.date, int, set[str]]:
    """Each candidate's last order day, and who is exempt (a long-term contract running).

    An order's first ``refs`` entry is its customer (:meth:`Order.index_refs`), so the
    customer of every order in a span of days comes out of the index without parsing it.
    """
    since = today - dt.timedelta(days=lapsed_days)
    first = since - dt.timedelta(days=rules.CATCH_UP_DAYS - 1)
    last: dict[str, dt.date] = {
        customer: dt.date.fromisoformat(latest)
        for customer, latest in db.execute(
            "SELECT substr(refs, 2, 26), max(day) FROM records WHERE kind = 'order'"
            " AND day BETWEEN ? AND ? AND category != 'cancelled' GROUP BY 1",
            [first.isoformat(), since.isoformat()],
        )
    }
    if last:
        later = {
            c
            for (c,) in db.execute(
                "SELECT DISTINCT substr(refs, 2, 26) FROM records WHERE kind = 'order'"
                " AND day > ? AND category != 'cancelled'",
                [since.isoformat()],
            )
        }
        last = {c: d for c, d in last.items() if c not in later}
    exempt = set()
    if last:
        for contract in _datas(
            db, "kind = 'contract' AND category = 'active' AND day >= ?", [today.isoformat()]
        ):
            if contract["start"] <= today.isoformat():
                exempt.add(contract["customer"])
    return last, today, lapsed_days, exempt


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


def records_of(
    db: sqlite3.Connection, ids: Iterable[str], today: dt.date, consent_words: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """Code, name and contacts of each record, by ID; for a customer also whether they agreed
    to greetings and offers on ``today`` (``marketing``)."""
    words = tuple(consent_words)
    out: dict[str, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), CHUNK):
        marks, args = _in(wanted[i : i + CHUNK])
        for rid, kind, code, name, data in db.execute(
            f"SELECT id, kind, code, name, data FROM records WHERE id IN ({marks})", args
        ):
            record: dict[str, Any] = {"id": rid, "kind": kind, "code": code or "", "name": name}
            if kind in ("customer", "worker"):
                parsed = orjson.loads(data)
                phones = parsed.get("phones") or ([parsed["phone"]] if parsed.get("phone") else [])
                record.update(
                    phones=phones,
                    phone=format_phone(phones[0]) if phones else "",
                    wechat=parsed.get("wechat", ""),
                )
                if kind == "customer":
                    record["marketing"] = bool(words) and rules.consents_to_marketing(
                        parsed, today, words
                    )
            out[rid] = record
    return out


def format_phone(e164: str) -> str:
    """``+8613800138000`` → ``138 0013 8000``; other numbers as stored (the light path does
    not load the phone-number tables)."""
    if e164.startswith("+861") and len(e164) == 14:
        d = e164[3:]
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    return e164[3:] if e164.startswith("+86") else e164
