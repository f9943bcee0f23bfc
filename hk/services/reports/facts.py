"""The reports' fact tables: one narrow row per order, customer, survey, complaint and visit.

A report adds up tens of thousands of orders. Parsing each order's JSON for every report costs
about a second a year at benchmark scale, and SQLite's own JSON functions a quarter of that; so
the few fields the reports group and sum by are kept in a database of their own beside the
index (``.git/hk/reports.sqlite``, :meth:`~hk.store.index.Index.derived_path`), derived from
the index's rows, never committed, deleted with the index. A report is then a few grouped SQL
queries over narrow rows.

The tables follow the index, kind by kind: the index's :meth:`~hk.store.index.Index.freshness`
token says when a kind's rows changed; only then are its rows read again, and only the records
whose data changed (by a checksum of the index's stored JSON) are parsed. Kept light to import:
orjson and sqlite3, no Pydantic.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from hk.store.archive import Archive
    from hk.store.index import Index

SEP = "\x1f"
"""Between the values of a packed column (services, workers): ``SEP a SEP b SEP``."""
VERSION = 1
"""Another version in the file: the tables are made again from the index."""
ON_TIME_GRACE = dt.timedelta(minutes=15)
"""An arrival (the order's start of service) this late after the window's start is on time."""
SERVED = ("completed", "settled")
"""Orders whose service was done: their amounts are revenue."""


def pack(values: Sequence[str]) -> str:
    return SEP + SEP.join(values) + SEP if values else ""


def _minutes(a: str, b: str) -> int:
    return round((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / 60)


def _first_event(events: list[dict[str, Any]], status: str) -> str | None:
    return next((e["at"] for e in events if e.get("to_status") == status), None)


def order_row(data: dict[str, Any]) -> tuple[Any, ...]:
    """What the reports need of one order (see ``TABLES["order"]`` for the columns)."""
    window, events = data["window"], data.get("events") or []
    payments = data.get("payments") or []
    started, finished = _first_event(events, "in_service"), _first_event(events, "completed")
    if started and finished:
        minutes = _minutes(started, finished)
    else:
        minutes = data.get("expected_minutes") or _minutes(window["start"], window["end"])
    on_time = None
    if started:
        late = dt.datetime.fromisoformat(started) - dt.datetime.fromisoformat(window["start"])
        on_time = int(late <= ON_TIME_GRACE)
    cancelled_from = next(
        (e.get("from_status") for e in events if e.get("to_status") == "cancelled"), None
    )
    paid = {"deposit": 0, "final": 0, "refund": 0, "cancellation_fee": 0}
    for payment in payments:
        paid[payment["kind"]] = paid.get(payment["kind"], 0) + int(payment["amount_fen"])
    checklist = data.get("checklist") or []
    lines = data.get("lines") or []
    address = data.get("address") or {}
    rating = data.get("rating") or {}
    return (
        data["window"]["start"][:10],
        data.get("status", "pending"),
        cancelled_from,
        data["customer"],
        data.get("channel", ""),
        lines[0]["service"] if lines else "",
        pack(list(dict.fromkeys(line["service"] for line in lines))),
        pack(list(data.get("workers") or [])),
        int(bool(data.get("package")) or any(line.get("package_visits") for line in lines)),
        int(bool(data.get("contract"))),
        int(bool(data.get("rework_of"))),
        address.get("district", ""),
        address.get("community", ""),
        int(data.get("total_fen", 0)),
        int(data.get("discount_fen", 0)),
        int(data.get("deposit_fen", 0)),
        paid["deposit"],
        paid["deposit"] + paid["final"],
        paid["refund"],
        int(data.get("cancellation_fee_fen", 0)),
        paid["cancellation_fee"],
        minutes,
        on_time,
        len(checklist),
        sum(1 for item in checklist if item.get("passed")),
        rating.get("overall"),
        orjson.dumps([[line["service"], int(line["amount_fen"])] for line in lines]).decode(),
    )


def customer_row(data: dict[str, Any]) -> tuple[Any, ...]:
    address = (data.get("addresses") or [{}])[0]
    created = data.get("created") or ""
    return (
        data.get("category", ""),
        data.get("channel", ""),
        data.get("tier", ""),
        address.get("district", ""),
        address.get("community", ""),
        created[:10],
    )


def survey_row(data: dict[str, Any]) -> tuple[Any, ...]:
    return (
        data["at"][:10],
        data["customer"],
        data.get("order"),
        pack(list(data.get("workers") or [])),
        pack(list(data.get("services") or [])),
        data["quality"],
        data["attitude"],
        data["hygiene"],
        data["punctuality"],
        data["overall"],
        data.get("nps"),
    )


def complaint_row(data: dict[str, Any]) -> tuple[Any, ...]:
    events = data.get("events") or []
    responded = next((e["at"] for e in events if e.get("from_status") == "open"), None)
    closed = events[-1]["at"] if data.get("status") in ("resolved", "rejected") and events else None
    received = data["received_at"]
    return (
        received[:10],
        data["customer"],
        data.get("order"),
        data.get("worker"),
        data.get("category", ""),
        data.get("severity", ""),
        data.get("status", "open"),
        int(responded is not None and responded <= data["response_due"]),
        _minutes(received, closed) if closed else None,
        int(data.get("compensation_fen", 0)),
    )


def visit_row(data: dict[str, Any]) -> tuple[Any, ...]:
    done = data.get("done_at")
    return (
        data["due"],
        data.get("status", "due"),
        data.get("type", ""),
        data["customer"],
        data.get("worker"),
        done[:10] if done else None,
    )


TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {
    "order": (
        "day, status, cancelled_from, customer, channel, service, services, workers, package,"
        " contract, rework, district, community, total_fen, discount_fen, deposit_fen,"
        " deposit_paid_fen, received_fen, refund_fen, fee_fen, fee_paid_fen, minutes, on_time,"
        " checks, checks_passed, overall, lines",
        order_row,
    ),
    "customer": ("category, channel, tier, district, community, created", customer_row),
    "survey": (
        "day, customer, order_id, workers, services, quality, attitude, hygiene, punctuality,"
        " overall, nps",
        survey_row,
    ),
    "complaint": (
        "day, customer, order_id, worker, category, severity, status, sla_met, minutes_to_close,"
        " compensation_fen",
        complaint_row,
    ),
    "visit": ("due, status, type, customer, worker, done_day", visit_row),
}
"""Each kind's table: its columns (after ``id`` and ``crc``) and how a record's data fills them."""

INDEXES = (
    "CREATE INDEX IF NOT EXISTS order_day ON f_order(day)",
    "CREATE INDEX IF NOT EXISTS order_customer ON f_order(customer, day)",
    "CREATE INDEX IF NOT EXISTS survey_day ON f_survey(day)",
    "CREATE INDEX IF NOT EXISTS complaint_day ON f_complaint(day)",
    "CREATE INDEX IF NOT EXISTS visit_due ON f_visit(due)",
)
KINDS = tuple(TABLES)


def _create(db: sqlite3.Connection) -> None:
    for kind, (columns, _) in TABLES.items():
        db.execute(f"DROP TABLE IF EXISTS f_{kind}")
        db.execute(f"CREATE TABLE f_{kind} (id TEXT PRIMARY KEY, crc INTEGER NOT NULL, {columns})")
    db.execute("DROP TABLE IF EXISTS seen")
    db.execute("CREATE TABLE seen (kind TEXT PRIMARY KEY, token BLOB NOT NULL)")
    for statement in INDEXES:
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {VERSION}")


def open_facts(index: Index) -> sqlite3.Connection:
    """The facts database beside ``index``, made if missing or of another version."""
    os.makedirs(index.dir, exist_ok=True)
    db = sqlite3.connect(index.derived_path("reports.sqlite"), timeout=30, isolation_level=None)
    db.execute("PRAGMA synchronous=NORMAL")
    if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN IMMEDIATE")
        if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
            _create(db)
        db.execute("COMMIT")
    return db


def sync(index: Index, db: sqlite3.Connection, kinds: Sequence[str] = KINDS) -> None:
    """Bring the fact tables of ``kinds`` in line with the index's rows (refreshed already)."""
    for kind in kinds:
        if kind not in index.specs:
            continue
        token = marshal_token(index.freshness([kind])[0])
        known = db.execute("SELECT token FROM seen WHERE kind = ?", (kind,)).fetchone()
        if known is not None and known[0] == token:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            _sync_kind(index, db, kind)
            db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (kind, token))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def marshal_token(parts: tuple[int, int, int]) -> bytes:
    return ",".join(str(p) for p in parts).encode()


def _sync_kind(index: Index, db: sqlite3.Connection, kind: str) -> None:
    columns, to_row = TABLES[kind]
    table = f"f_{kind}"
    have = dict(db.execute(f"SELECT id, crc FROM {table}"))
    changed: list[tuple[Any, ...]] = []
    current: set[str] = set()
    for record_id, data in index.db.execute("SELECT id, data FROM records WHERE kind = ?", (kind,)):
        current.add(record_id)
        crc = zlib.crc32(data)
        if have.get(record_id) != crc:
            changed.append((record_id, crc, *to_row(orjson.loads(data))))
    gone = [(rid,) for rid in have if rid not in current]
    db.executemany(f"DELETE FROM {table} WHERE id = ?", gone)
    if changed:
        marks = ", ".join("?" * len(changed[0]))
        db.executemany(
            f"INSERT OR REPLACE INTO {table} (id, crc, {columns}) VALUES ({marks})",
            changed,
        )


def facts(
    archive: Archive, kinds: Sequence[str] = KINDS
) -> tuple[sqlite3.Connection, dict[str, str]]:
    """The facts database, current with the files: the index is refreshed for ``kinds`` (and
    every kind a report names), then the tables follow it. Returns the files that could not
    be read, for the command to name (never skipped in silence)."""
    index = archive.index
    wanted = [k for k in kinds if k in index.specs]
    # records.ensure_fresh, without importing every model: a report stays a light read
    broken = index.refresh(wanted).broken if wanted else {}
    db = open_facts(index)
    sync(index, db, wanted)
    return db, broken
