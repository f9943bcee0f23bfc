"""Indexing many files at once (``hk reindex``, a first read with no index): in worker
processes, written in sorted batches, yet the same index as one file at a time."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from hk.domain.customer import Customer
from hk.domain.ids import assign_codes, new_id
from hk.domain.kinds import KINDS
from hk.domain.order.model import Order
from hk.errors import InvalidData
from hk.store import build, codec, search
from hk.store import index as index_module
from hk.store.files import parse_record, relpath_for, serialise, validate_data
from hk.store.index import Index, default_specs

TZ = ZoneInfo("Asia/Shanghai")
NAMES = [
    "张三",
    "曾单解",
    "李秀英",
    "王乐乐",
    "单长重",
    "Anna Li",
    "欧阳朝",
    "查行长",
    "盛红",
    "解大",
]
"""Polyphonic characters (曾 单 解 乐 长 重 朝 查 行): readings workers compute must be kept."""
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def _customer(n: int) -> dict[str, Any]:
    at = dt.datetime.fromtimestamp(START_MS / 1000 + n * 3600, TZ)
    return {
        "id": new_id(START_MS + n * 3_600_000),
        "created": at,
        "updated": at,
        "name": f"{NAMES[n % len(NAMES)]}{n}",
        "phones": [f"138{n:08d}"],
        "addresses": [
            {
                "city": "成都市",
                "district": "武侯区",
                "community": f"万科城{n % 3}",
                "detail": f"{n}栋",
            }
        ],
        "tags": ["高端客户"] if n % 2 else [],
        "notes": "老客户" if n % 3 else "",
    }


def _order(n: int, customer: str) -> dict[str, Any]:
    ms = START_MS + n * 86_400_000 * 7  # a week apart: several month folders
    at = dt.datetime.fromtimestamp(ms / 1000, TZ)
    start = at + dt.timedelta(days=2)
    quantity = ["2", "2.5", "3"][n % 3]
    gross = int(float(quantity) * 4500)
    events = [{"at": at, "actor": "店长", "to_status": "pending"}]
    if n % 2:
        events.append(
            {
                "at": at + dt.timedelta(hours=1),
                "actor": "店长",
                "from_status": "pending",
                "to_status": "confirmed",
            }
        )
    return {
        "id": new_id(ms),
        "created": at,
        "updated": at,
        "status": events[-1]["to_status"],
        "customer": customer,
        "address": {
            "city": "成都市",
            "district": "锦江区",
            "community": "望江苑",
            "detail": "1栋1单元101",
        },
        "window": {"start": start, "end": start + dt.timedelta(hours=3)},
        "lines": [
            {
                "service": "BJ-HOURLY",
                "name": "钟点工保洁",
                "quantity": quantity,
                "unit": "hour",
                "unit_price_fen": 4500,
                "gross_fen": gross,
                "amount_fen": gross,
            }
        ],
        "total_fen": gross,
        "channel": "phone",
        "events": events,
        "payments": [{"kind": "deposit", "amount_fen": 1000, "method": "wechat", "at": at}]
        if n % 4 == 0
        else [],
    }


def _write(root: Path, model: type[Any], data: dict[str, Any]) -> Path:
    record = model.model_validate(data)
    path = root / relpath_for(model, record.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(serialise(record), encoding="utf-8")
    return path


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """An archive folder with 41 customers and 30 orders over several months."""
    root = tmp_path / "many"
    (root / ".git").mkdir(parents=True)
    customers = [_write(root, Customer, _customer(n)).stem for n in range(40)]
    long = {**_customer(40), "notes": "长" * 100_000}  # a file larger than one read
    customers.append(_write(root, Customer, long).stem)
    for n in range(30):
        _write(root, Order, _order(n, customers[n % len(customers)]))
    return root


def _parallel(monkeypatch: pytest.MonkeyPatch, processes: int = 2) -> None:
    """Worker processes from a few files on, in small chunks (as at 2 000 files and more)."""
    monkeypatch.setattr(index_module, "BULK_MIN", 4)
    monkeypatch.setattr(build, "CHUNK_FILES", 3)
    monkeypatch.setattr(build, "workers", lambda: processes)


def _serial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "BULK_MIN", 10**9)


def _tables(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(root / ".git" / "hk" / "index.sqlite")
    try:
        return {
            table: sorted(db.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("records", "terms", "pinyin_chars")
        }
    finally:
        db.close()


def _rebuild(root: Path) -> tuple[dict[str, str], int]:
    """``hk reindex``, as in a new process: no pinyin reading known yet."""
    search._known.clear()
    search.learned()
    index = Index(root, default_specs())
    try:
        report = index.rebuild()
    finally:
        index.close()
    return report.broken, report.parsed


def test_a_parallel_rebuild_indexes_exactly_what_a_serial_one_does(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serial(monkeypatch)
    assert _rebuild(many) == ({}, 71)
    serial = _tables(many)
    _parallel(monkeypatch)
    assert _rebuild(many) == ({}, 71)
    assert _tables(many) == serial
    assert len(serial["records"]) == 71
    assert {"zeng", "ceng"} <= set(dict(serial["pinyin_chars"])["曾"].split(","))


def test_a_first_read_without_an_index_builds_the_same_rows_in_parallel(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serial(monkeypatch)
    _rebuild(many)
    serial = _tables(many)
    for name in os.listdir(many / ".git" / "hk"):
        os.unlink(many / ".git" / "hk" / name)
    _parallel(monkeypatch)
    search._known.clear()
    index = Index(many, default_specs())
    try:
        report = index.refresh()
        assert (report.parsed, report.broken) == (71, {})
        assert index.refresh().parsed == 0
    finally:
        index.close()
    assert _tables(many) == serial


def test_a_broken_file_among_many_is_reported_by_a_parallel_rebuild(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (many / "customers" / f"{new_id()}.yaml").write_text("name: [张三\n", encoding="utf-8")
    order = next((many / "orders").rglob("*.json"))
    data = orjson.loads(order.read_bytes())
    data["total_fen"] += 1
    order.write_bytes(orjson.dumps(data))
    _serial(monkeypatch)
    serial_broken, serial_parsed = _rebuild(many)
    serial = _tables(many)
    _parallel(monkeypatch)
    broken, parsed = _rebuild(many)
    assert (broken, parsed) == (serial_broken, serial_parsed) == (broken, 70)
    assert len(broken) == 2
    assert any("not valid YAML" in message for message in broken.values())
    assert any("total_fen is" in message for message in broken.values())
    assert _tables(many) == serial


def test_without_a_second_cpu_the_batches_are_parsed_in_this_process(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serial(monkeypatch)
    _rebuild(many)
    serial = _tables(many)
    _parallel(monkeypatch, processes=0)
    _rebuild(many)
    assert _tables(many) == serial


def test_codes_are_assigned_oldest_first_even_with_an_order_in_another_months_folder(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = sorted((many / "orders").rglob("*.json"))
    newest = orders[-1]
    moved = many / "orders" / "2023" / "01" / newest.name  # a hand-moved file still indexes
    moved.parent.mkdir(parents=True)
    newest.rename(moved)
    _parallel(monkeypatch)
    assert _rebuild(many) == ({}, 71)
    rows = _tables(many)["records"]
    for kind, prefix in (("customer", "K"), ("order", "D")):
        codes = {r[0]: r[3] for r in rows if r[1] == kind}
        assert codes == assign_codes(prefix, codes)


def test_a_rebuild_leaves_no_work_folder_and_removes_one_left_by_a_killed_rebuild(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hk_dir = many / ".git" / "hk"
    hk_dir.mkdir()
    left = hk_dir / "rebuild-999999999"  # no such process
    left.mkdir()
    (left / "index.sqlite").write_bytes(b"half written")
    _parallel(monkeypatch)
    _rebuild(many)
    assert sorted(p.name for p in hk_dir.iterdir() if not p.name.startswith("snapshot-")) == [
        "index.sqlite"
    ]
    db = sqlite3.connect(hk_dir / "index.sqlite")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_canonical_data_by_the_plan_equals_the_general_walk(many: Path) -> None:
    """The per-model plan (fast) takes the same decisions as comparing Python values."""
    checked = 0
    for kind, model in KINDS.items():
        assert codec._plan(model) is not None, kind
    for path in [*many.glob("customers/*.yaml"), *many.rglob("orders/*/*/*.json")]:
        text = path.read_text(encoding="utf-8")
        model = Customer if path.suffix == ".yaml" else Order
        record = validate_data(model, codec.parse(text, str(path)), text, str(path))
        general = codec._canonical(record, record.model_dump(mode="json"))
        assert orjson.dumps(codec.canonical_data(record)) == orjson.dumps(general)
        checked += 1
    assert checked == 71


@pytest.mark.parametrize(
    ("label", "damage"),
    [
        ("not JSON", lambda raw: raw.replace(b'"total_fen"', b"total_fen", 1)),
        ("not UTF-8", lambda raw: raw.replace("店长".encode(), b"\xff\xfe", 1)),
        ("a broken rule", lambda raw: raw.replace(b'"total_fen": ', b'"total_fen": 1', 1)),
        ("an unknown field", lambda raw: raw.replace(b'"channel"', b'"chanel"', 1)),
        ("not a mapping", lambda raw: b"[1, 2]"),
    ],
)
def test_a_broken_order_is_told_with_its_line_as_when_read_as_text(
    tmp_path: Path, label: str, damage: Any
) -> None:
    """Orders are parsed from their bytes; a problem is still located in the decoded text."""
    root = tmp_path / "one"
    (root / ".git").mkdir(parents=True)
    path = _write(root, Order, _order(1, new_id()))
    path.write_bytes(damage(path.read_bytes()))
    rel = path.relative_to(root).as_posix()
    try:
        parse_record(Order, path.read_bytes().decode("utf-8"), rel)
    except UnicodeDecodeError as exc:
        expected = f"{rel}: the file is not UTF-8 text (byte {exc.start})"
    except InvalidData as exc:
        expected = exc.problems[0].render().splitlines()[0]
    index = Index(root, default_specs())
    try:
        broken = index.refresh().broken
    finally:
        index.close()
    assert broken == {rel: expected}, label
