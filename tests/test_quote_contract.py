"""A quote accepted as a contract (报价单 → 合同): the contract drafted through the contracts
service, at the quoted prices, its schedule from the quote's frequency, linked both ways."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hk.domain.quote import parse_frequency
from hk.services.quotes.contract import schedule_of
from hk.services.quotes.steps import load_quote
from hk.store.archive import Archive
from tests.conftest import Hk, ok
from tests.test_quotes import DAY, as_json, customer, make

__all__ = ["customer"]  # the fixture, used by name


def sent(hk: Hk, code: str, tmp_path: Path) -> None:
    ok(hk("quote", "send", code, "--via", "wechat", "--out", str(tmp_path / "q.html")))


def test_a_weekly_quote_becomes_a_service_contract_with_its_schedule(
    hk: Hk, customer: str, tmp_path: Path
) -> None:
    code = make(
        hk,
        customer,
        "--service",
        "BJ-DAILY",
        "--frequency",
        "每周2次",
        "--discount",
        "20",
        "--discount-note",
        "包月优惠",
    )
    sent(hk, code, tmp_path)
    tuesday = DAY + dt.timedelta(days=(1 - DAY.weekday()) % 7)
    done = as_json(
        hk,
        "quote",
        "accept",
        code,
        "--as",
        "contract",
        "--start",
        f"{tuesday} 09:00",
        "--months",
        "3",
    )
    made = done["created_contract"]
    assert done["status"] == "accepted" and done["contract"] == made["id"]
    assert made["kind"] == "service" and made["start"] == str(tuesday)
    assert made["schedule"] == "weekly:tue,fri 09:00-12:00"  # 日常保洁 takes 3 hours
    contract = as_json(hk, "contract", "show", made["code"])
    assert contract["quote"] == done["id"]
    assert [
        (line["service"], line["unit_price_fen"], line["amount_fen"]) for line in contract["lines"]
    ] == [("BJ-DAILY", 13800, 13110)]
    assert any("包月优惠" in clause for clause in contract["terms"])


def test_a_monthly_placement_quote_becomes_a_placement_at_the_quoted_fee(
    hk: Hk, customer: str, tmp_path: Path
) -> None:
    code = make(hk, customer, "--service", "BM-LIVEIN")
    sent(hk, code, tmp_path)
    quote = as_json(hk, "quote", "show", code)
    done = as_json(
        hk, "quote", "accept", code, "--as", "contract", "--start", str(DAY), "--months", "12"
    )
    made = done["created_contract"]
    assert made["kind"] == "placement" and made["schedule"] is None
    contract = as_json(hk, "contract", "show", made["code"])
    assert contract["service_fee_fen"] == quote["total_fen"] == 646000  # ¥6,800 less 5%
    assert contract["deposit_fen"] == quote["deposit_fen"]


def test_a_schedule_needs_the_time_of_the_visits(hk: Hk, customer: str, tmp_path: Path) -> None:
    code = make(hk, customer, "--service", "BJ-DAILY", "--frequency", "weekly:1")
    sent(hk, code, tmp_path)
    result = hk("quote", "accept", code, "--as", "contract", "--start", str(DAY), "--months", "3")
    assert result.exit_code == 2 and "time of day" in result.stderr
    assert as_json(hk, "quote", "show", code)["status"] == "sent"


def test_frequencies_become_schedules(archive: Archive, hk: Hk, customer: str) -> None:
    code = make(hk, customer, "--service", "BJ-HOURLY:2")
    quote, _ = load_quote(archive, code)
    monday = dt.datetime(2026, 3, 2, 14, 0)
    cases = {
        "weekly:1": "weekly:mon 14:00-16:00",
        "weekly:3": "weekly:mon,wed,fri 14:00-16:00",
        "monthly:2": "weekly/2:mon 14:00-16:00",
        "monthly:1": "weekly/4:mon 14:00-16:00",
        "monthly:3": "every:10 14:00-16:00",
    }
    for text, expected in cases.items():
        line = quote.lines[0].model_copy(update={"frequency": parse_frequency(text)})
        assert schedule_of(archive, quote.model_copy(update={"lines": [line]}), monday) == expected
