"""``hk calendar export``: the .ics file parses with the icalendar library and holds the
appointments, contract ends and return visits due of the demo archive."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.conftest import HK_BIN, isolated_home

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with isolated_home(tmp_path_factory, "calendar-demo"):
        root = tmp_path_factory.mktemp("calendar-demo") / "demo"
        subprocess.run(
            [HK_BIN, "demo", "--out", str(root), "--no-tui"],
            check=True,
            capture_output=True,
            env=dict(os.environ),
        )
        yield root


def hk_json(root: Path, *args: str) -> Any:
    proc = subprocess.run(
        [HK_BIN, "--archive", str(root), *args, "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def events(path: Path) -> list[Any]:
    calendar = Calendar.from_ical(path.read_bytes())
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def test_calendar_holds_appointments_contract_ends_and_visits(demo: Path, tmp_path: Path) -> None:
    today = dt.datetime.now(TZ).date()
    last = today + dt.timedelta(days=60)
    out = tmp_path / "hk.ics"
    counts = hk_json(
        demo, "calendar", "export", str(out), "--from", "today", "--to", last.isoformat()
    )
    found = events(out)
    assert len(found) == counts["appointments"] + counts["contract_ends"] + counts["visits"]
    by_uid = {str(e["UID"]): e for e in found}

    orders = [
        o
        for o in hk_json(demo, "order", "list", "--from", "today", "--to", last.isoformat())
        if o["status"] != "cancelled"
    ]
    assert counts["appointments"] == len(orders) > 0
    for order in orders:
        event = by_uid[f"order-{order['id']}@hk"]
        start = event.decoded("DTSTART")
        assert start == dt.datetime.fromisoformat(order["start"])
        assert start.tzinfo is not None and event.decoded("DTEND") > start
        assert order["customer_name"] in str(event["SUMMARY"])

    contracts = [
        c
        for c in hk_json(demo, "contract", "list")
        if c["status"] in ("signed", "active") and c["end"] <= last.isoformat()
    ]
    assert counts["contract_ends"] == len(contracts) == 2  # the demo's 7- and 30-day ones
    for contract in contracts:
        event = by_uid[f"contract-end-{contract['id']}@hk"]
        assert event.decoded("DTSTART") == dt.date.fromisoformat(contract["end"])
        assert "合同到期" in str(event["SUMMARY"])

    visits = [e for e in found if "回访" in str(e.get("CATEGORIES").cats[0])]
    assert len(visits) == counts["visits"] > 0
    assert all(isinstance(e.decoded("DTSTART"), dt.date) for e in visits)
    text = out.read_text()
    assert "BEGIN:VTIMEZONE" in text and "TZID:Asia/Shanghai" in text
    assert "+86" not in text and "138 " not in text  # no phone numbers


def test_calendar_export_again_keeps_every_uid(demo: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    for path in (first, second):
        subprocess.run(
            [HK_BIN, "--archive", str(demo), "calendar", "export", str(path)],
            check=True,
            capture_output=True,
        )
    assert [str(e["UID"]) for e in events(first)] == [str(e["UID"]) for e in events(second)]


def test_calendar_refuses_a_range_backwards(demo: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            HK_BIN,
            "--archive",
            str(demo),
            "calendar",
            "export",
            str(tmp_path / "x.ics"),
            "--from",
            "2026-12-10",
            "--to",
            "2026-12-01",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "--to is before --from" in proc.stderr
