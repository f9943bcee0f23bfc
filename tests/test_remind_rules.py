"""The reminder rules of SPEC §4, one test per rule and its edges (hk.domain.reminders).

The rules are pure: records go in as the plain data the index keeps of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from hk.domain import reminders as rules
from hk.domain.reminders import Due, Leads

TZ = ZoneInfo("Asia/Shanghai")
C1, C2 = "01KCUSTQMER0000000000000C1", "01KCUSTQMER0000000000000C2"
W1, W2 = "01KWQRKER00000000000000W01", "01KWQRKER00000000000000W02"


def order(
    oid: str, start: str, status: str = "dispatched", workers: tuple[str, ...] = (W1,), **more: Any
) -> dict[str, Any]:
    begin = dt.datetime.fromisoformat(start)
    return {
        "id": oid,
        "status": status,
        "customer": C1,
        "workers": list(workers),
        "window": {"start": start, "end": (begin + dt.timedelta(hours=3)).isoformat()},
        "lines": [{"service": "BJ-DAILY", "name": "日常保洁"}],
        "address": {
            "community": "万科城",
            "district": "武侯区",
            "detail": "3栋501",
            "access_notes": "门禁 1234",
        },
        **more,
    }


def keys(items: list[Due]) -> list[str]:
    return [i.key for i in items]


# --- tomorrow's appointments ----------------------------------------------------------------------


def test_tomorrows_appointment_reminds_the_office_the_customer_and_each_worker() -> None:
    items = rules.appointments(
        [order("O1", "2026-11-24T09:00:00+08:00", workers=(W1, W2))], dt.date(2026, 11, 24), TZ
    )
    assert keys(items) == [
        "appointment:O1:2026-11-24",
        "appointment:O1:2026-11-24:customer",
        f"appointment:O1:2026-11-24:worker:{W1}",
        f"appointment:O1:2026-11-24:worker:{W2}",
    ]
    assert [i.person for i in items] == ["", C1, W1, W2]
    worker = items[2].facts
    assert worker["start"] == "09:00" and worker["access_notes"] == "门禁 1234"
    assert "access_notes" not in items[1].facts  # the door code goes to the worker only


def test_appointment_day_is_the_day_in_the_archive_timezone() -> None:
    # 01:00 UTC on the 23rd is 09:00 on the 23rd in Chengdu; 20:00 UTC on the 23rd is the 24th.
    early = order("O1", "2026-11-23T01:00:00+00:00")
    late = order("O2", "2026-11-23T20:00:00+00:00")
    assert {
        i.refs["order"] for i in rules.appointments([early, late], dt.date(2026, 11, 24), TZ)
    } == {"O2"}


def test_cancelled_started_and_unassigned_appointments() -> None:
    day = dt.date(2026, 11, 24)
    cancelled = order("O1", "2026-11-24T09:00:00+08:00", status="cancelled")
    started = order("O2", "2026-11-24T09:00:00+08:00", status="in_service")
    open_ = order("O3", "2026-11-24T09:00:00+08:00", status="to_dispatch", workers=())
    items = rules.appointments([cancelled, started, open_], day, TZ)
    assert keys(items) == ["appointment:O3:2026-11-24", "appointment:O3:2026-11-24:customer"]
    assert items[0].facts["unassigned"] is True


def test_a_rescheduled_appointment_is_a_new_occasion() -> None:
    first = rules.appointments(
        [order("O1", "2026-11-24T09:00:00+08:00")], dt.date(2026, 11, 24), TZ
    )
    moved = rules.appointments(
        [order("O1", "2026-11-26T09:00:00+08:00")], dt.date(2026, 11, 26), TZ
    )
    assert set(keys(first)).isdisjoint(keys(moved))


# --- contracts ------------------------------------------------------------------------------------


def contract(end: str, status: str = "active", **more: Any) -> dict[str, Any]:
    return {
        "id": "K1",
        "status": status,
        "customer": C1,
        "worker": W1,
        "end": end,
        "number": "C7F3Q",
        "contract_type": "placement",
        **more,
    }


def test_contract_ending_in_30_and_7_days() -> None:
    today = dt.date(2026, 1, 1)
    assert keys(rules.contract_ends([contract("2026-01-31")], today, [30, 7])) == [
        "contract-end:K1:30"
    ]
    assert keys(rules.contract_ends([contract("2026-01-08")], today, [30, 7])) == [
        "contract-end:K1:7"
    ]
    assert rules.contract_ends([contract("2026-02-01")], today, [30, 7]) == []


def test_contract_ending_today_is_still_due_and_yesterday_is_not() -> None:
    today = dt.date(2026, 3, 31)
    due = rules.contract_ends([contract("2026-03-31")], today, [30, 7])
    assert keys(due) == ["contract-end:K1:7"] and due[0].facts["days_left"] == 0
    assert rules.contract_ends([contract("2026-03-30")], today, [30, 7]) == []


def test_contract_reminder_catches_up_after_missed_runs() -> None:
    # No run on the day it was 7 days out: five days out, the 7-day reminder still comes.
    assert keys(rules.contract_ends([contract("2026-01-06")], dt.date(2026, 1, 1), [7, 30])) == [
        "contract-end:K1:7"
    ]


def test_contract_end_names_the_current_worker_and_skips_closed_contracts() -> None:
    replaced = contract("2026-01-05", replacements=[{"old": W1, "new": W2}])
    [item] = rules.contract_ends([replaced], dt.date(2026, 1, 1), [30, 7])
    assert item.refs == {"contract": "K1", "customer": C1, "worker": W2}
    closed = [
        contract("2026-01-05", status="terminated"),
        contract("2026-01-05", status="draft"),
        contract("2026-01-05", renewed_by="K2"),
    ]
    assert rules.contract_ends(closed, dt.date(2026, 1, 1), [30, 7]) == []


def test_contract_end_across_a_month_end_and_a_leap_day() -> None:
    assert keys(rules.contract_ends([contract("2028-03-07")], dt.date(2028, 2, 29), [7])) == [
        "contract-end:K1:7"
    ]
    assert rules.contract_ends([contract("2028-03-08")], dt.date(2028, 2, 29), [7]) == []


# --- certificates, insurance, the worker's own contract -------------------------------------------


def worker(**more: Any) -> dict[str, Any]:
    return {"id": W1, "status": "available", **more}


def test_certificate_expiring_within_30_days_reminds_office_and_worker() -> None:
    w = worker(
        certificates=[
            {"kind": "健康证", "expires": "2026-12-01"},
            {"kind": "育婴师", "expires": "2027-06-01"},
        ]
    )
    items = rules.papers([w], dt.date(2026, 11, 1), Leads())
    assert keys(items) == [
        f"certificate:{W1}:健康证:2026-12-01:soon",
        f"certificate:{W1}:健康证:2026-12-01:soon:worker",
    ]
    assert items[0].facts["days_left"] == 30


def test_certificate_already_expired_is_its_own_occasion() -> None:
    w = worker(certificates=[{"kind": "健康证", "expires": "2026-10-31"}])
    [office, _] = rules.papers([w], dt.date(2026, 11, 1), Leads())
    assert office.key.endswith(":expired") and office.facts["expired"] is True
    # Expiring today is still valid today: "soon", not yet expired.
    w = worker(certificates=[{"kind": "健康证", "expires": "2026-11-01"}])
    assert rules.papers([w], dt.date(2026, 11, 1), Leads())[0].key.endswith(":soon")


def test_renewed_certificate_is_a_new_occasion_and_inactive_workers_are_skipped() -> None:
    old = rules.papers(
        [worker(certificates=[{"kind": "健康证", "expires": "2026-11-20"}])],
        dt.date(2026, 11, 1),
        Leads(),
    )
    new = rules.papers(
        [worker(certificates=[{"kind": "健康证", "expires": "2027-11-20"}])],
        dt.date(2027, 11, 1),
        Leads(),
    )
    assert set(keys(old)).isdisjoint(keys(new))
    gone = worker(status="inactive", certificates=[{"kind": "健康证", "expires": "2026-11-02"}])
    assert rules.papers([gone], dt.date(2026, 11, 1), Leads()) == []


def test_insurance_and_employment_expiring() -> None:
    w = worker(
        insurance={"policy": "P1", "insurer": "人保", "expires": "2026-11-10"},
        employment={"model": "中介制", "start": "2025-01-01", "expires": "2026-11-30"},
    )
    items = rules.papers([w], dt.date(2026, 11, 1), Leads(insurance_days=10))
    assert keys(items) == [
        f"insurance:{W1}:2026-11-10:soon",
        f"insurance:{W1}:2026-11-10:soon:worker",
        f"employment:{W1}:2026-11-30:soon",
        f"employment:{W1}:2026-11-30:soon:worker",
    ]
    # A day earlier both are one day beyond their lead (11 > 10, 31 > 30).
    assert rules.papers([w], dt.date(2026, 10, 30), Leads(insurance_days=10)) == []


# --- deposits -------------------------------------------------------------------------------------


def test_deposit_due_until_received() -> None:
    due = order("O1", "2026-12-01T09:00:00+08:00", status="confirmed", deposit_fen=50000)
    part = {**due, "payments": [{"kind": "deposit", "amount_fen": 20000}]}
    paid = {**due, "payments": [{"kind": "deposit", "amount_fen": 50000}]}
    today = dt.date(2026, 11, 20)
    assert keys(rules.deposits([due], today, TZ)) == ["deposit:O1", "deposit:O1:customer"]
    assert rules.deposits([part], today, TZ)[0].facts["outstanding_fen"] == 30000
    assert rules.deposits([paid], today, TZ) == []


def test_deposit_not_asked_of_past_or_cancelled_orders() -> None:
    past = order("O1", "2026-11-19T09:00:00+08:00", status="confirmed", deposit_fen=50000)
    cancelled = order("O2", "2026-12-01T09:00:00+08:00", status="cancelled", deposit_fen=50000)
    assert rules.deposits([past, cancelled], dt.date(2026, 11, 20), TZ) == []


# --- quotes ---------------------------------------------------------------------------------------


def quote(valid_until: str, status: str = "sent") -> dict[str, Any]:
    return {
        "id": "Q1",
        "status": status,
        "customer": C1,
        "valid_until": valid_until,
        "total_fen": 88000,
        "lines": [{"service": "BJ-DEEP", "name": "深度保洁"}],
    }


def test_quote_about_to_expire() -> None:
    today = dt.date(2026, 11, 28)
    assert keys(rules.quotes_expiring([quote("2026-12-01")], today, 3)) == [
        "quote-expiry:Q1:2026-12-01",
        "quote-expiry:Q1:2026-12-01:customer",
    ]
    assert rules.quotes_expiring([quote("2026-12-02")], today, 3) == []
    # Its last day is today: still due; a day later it has expired and is not.
    assert rules.quotes_expiring([quote("2026-11-28")], today, 3)[0].facts["days_left"] == 0
    assert rules.quotes_expiring([quote("2026-11-27")], today, 3) == []


def test_draft_quote_reminds_the_office_only_and_closed_quotes_none() -> None:
    today = dt.date(2026, 11, 28)
    assert keys(rules.quotes_expiring([quote("2026-11-30", "draft")], today, 3)) == [
        "quote-expiry:Q1:2026-11-30"
    ]
    assert rules.quotes_expiring([quote("2026-11-30", "accepted")], today, 3) == []


# --- packages -------------------------------------------------------------------------------------


PACKAGE = {
    "code": "PKG-M",
    "name": "月度保洁套餐",
    "validity_days": 30,
    "items": [{"service": "BJ-DAILY", "visits": 4}],
}


def used(day: str, visits: int = 1, status: str = "completed") -> dict[str, Any]:
    return {
        "id": f"O{day}",
        "customer": C1,
        "status": status,
        "package": "PKG-M",
        "window": {"start": f"{day}T09:00:00+08:00"},
        "lines": [{"service": "BJ-DAILY", "package_visits": visits}],
    }


def test_package_nearly_used_up() -> None:
    orders = [used("2026-11-01"), used("2026-11-08")]
    items = rules.packages_low(orders, {"PKG-M": PACKAGE}, dt.date(2026, 11, 10), 2)
    assert keys(items) == [
        f"package-low:{C1}:PKG-M:2026-11-01",
        f"package-low:{C1}:PKG-M:2026-11-01:customer",
    ]
    assert items[0].facts["left"] == 2 and items[0].facts["valid_until"] == "2026-11-30"
    assert rules.packages_low(orders[:1], {"PKG-M": PACKAGE}, dt.date(2026, 11, 10), 2) == []


def test_package_counts_booked_visits_and_gives_back_cancelled_ones() -> None:
    orders = [
        used("2026-11-01"),
        used("2026-11-20"),
        used("2026-11-25", status="cancelled"),
        used("2026-11-26", status="cancelled"),
    ]
    assert rules.packages_low(orders, {"PKG-M": PACKAGE}, dt.date(2026, 11, 10), 2)
    assert not rules.packages_low(orders, {"PKG-M": PACKAGE}, dt.date(2026, 11, 10), 1)


def test_package_renewal_starts_a_new_period_and_an_expired_one_is_not_due() -> None:
    orders = [used("2026-10-01"), used("2026-10-05"), used("2026-10-09"), used("2026-11-02")]
    assert rules.packages_low(orders, {"PKG-M": PACKAGE}, dt.date(2026, 10, 20), 2)
    # 2 November is past the first period (1–30 October): a new period with 3 visits left.
    assert not rules.packages_low(orders, {"PKG-M": PACKAGE}, dt.date(2026, 11, 3), 2)
    assert not rules.packages_low(orders[:3], {"PKG-M": PACKAGE}, dt.date(2026, 10, 31), 2)


# --- birthdays ------------------------------------------------------------------------------------


def customer(birthday: str | None, cid: str = C1) -> dict[str, Any]:
    return {"id": cid, **({"birthday": birthday} if birthday else {})}


def test_birthday_tomorrow_to_the_office_and_today_to_the_customer() -> None:
    people = [customer("1980-11-02"), customer("1985-11-01", C2), customer(None, "C3")]
    items = rules.birthdays(people, dt.date(2026, 11, 1), 1)
    assert keys(items) == [
        f"birthday:{C1}:2026",
        f"birthday:{C2}:2026",
        f"birthday:{C2}:2026:customer",
    ]
    assert items[0].facts["age"] == 46


def test_birthday_across_the_year_end() -> None:
    items = rules.birthdays([customer("1990-01-01")], dt.date(2026, 12, 31), 1)
    assert keys(items) == [f"birthday:{C1}:2027"]


def test_leap_day_birthday_is_kept_on_28_february() -> None:
    born = [customer("2000-02-29")]
    assert keys(rules.birthdays(born, dt.date(2027, 2, 28), 0)) == [
        f"birthday:{C1}:2027",
        f"birthday:{C1}:2027:customer",
    ]
    assert rules.birthdays(born, dt.date(2028, 2, 28), 0) == []
    assert rules.birthdays(born, dt.date(2028, 2, 29), 0)[0].facts["date"] == "2028-02-29"


# --- lapsed customers -----------------------------------------------------------------------------


def test_lapsed_customer_after_lapsed_days() -> None:
    today = dt.date(2026, 11, 30)
    last = {C1: today - dt.timedelta(days=90), C2: today - dt.timedelta(days=89)}
    assert keys(rules.lapsed(last, today, 90)) == [f"lapsed:{C1}:2026-09-01"]


def test_lapsed_looks_back_a_bounded_window_and_skips_contract_holders() -> None:
    today = dt.date(2026, 11, 30)
    old = {C1: today - dt.timedelta(days=90 + rules.CATCH_UP_DAYS)}
    assert rules.lapsed(old, today, 90) == []
    assert rules.lapsed({C1: today - dt.timedelta(days=100)}, today, 90, exempt=[C1]) == []


# --- consent and order ----------------------------------------------------------------------------


def test_marketing_messages_need_a_consent_in_force() -> None:
    today = dt.date(2026, 11, 1)
    offers = {"consents": [{"purpose": "回访与优惠信息", "date": "2024-01-01"}]}
    withdrawn = {
        "consents": [{"purpose": "回访与优惠信息", "date": "2024-01-01", "withdrawn": "2026-10-01"}]
    }
    service = {"consents": [{"purpose": "提供家政服务", "date": "2024-01-01"}]}
    assert rules.consents_to_marketing(offers, today)
    assert not rules.consents_to_marketing(withdrawn, today)
    assert not rules.consents_to_marketing(service, today)
    items = rules.birthdays([customer("1980-11-01"), customer("1985-11-01", C2)], today, 0)
    kept = rules.without_unconsented(items, [C2])
    assert keys(kept) == [
        f"birthday:{C1}:2026",
        f"birthday:{C2}:2026",
        f"birthday:{C2}:2026:customer",
    ]


def test_keys_carry_no_personal_data_and_items_come_in_rule_order() -> None:
    w = worker(
        name="王秀英",
        phone="+8613800138000",
        certificates=[{"kind": "健康证", "expires": "2026-11-05"}],
    )
    items = rules.ordered(
        [
            *rules.papers([w], dt.date(2026, 11, 1), Leads()),
            *rules.appointments(
                [order("O1", "2026-11-02T09:00:00+08:00")], dt.date(2026, 11, 2), TZ
            ),
        ]
    )
    assert items[0].rule == "appointment"
    assert not any("王秀英" in i.key or "138" in i.key for i in items)


def test_leads_defaults_are_the_settings_defaults() -> None:
    from hk.domain.settings import Customers, Reminders

    leads, settings = Leads(), Reminders()
    for name in Leads.__slots__:
        expected = Customers().lapsed_days if name == "lapsed_days" else getattr(settings, name)
        got = getattr(leads, name)
        assert (list(got) if isinstance(got, tuple) else got) == (
            sorted(expected) if isinstance(expected, list) else expected
        ), name


def test_complaints_near_and_past_their_deadline() -> None:
    received = dt.datetime(2026, 11, 1, 9, tzinfo=TZ)
    row = {
        "id": "T1",
        "status": "open",
        "customer": C1,
        "name": "2026-11-01 服务质量",
        "category": "quality",
        "received_at": received.isoformat(),
        "response_due": (received + dt.timedelta(hours=24)).isoformat(),
    }

    def at(hours: int) -> dt.datetime:
        return received + dt.timedelta(hours=hours)

    assert rules.complaints([row], at(17)) == []
    [near] = rules.complaints([row], at(18))
    assert near.key == "complaint:T1:near" and near.facts["category_zh"] == "服务质量"
    [late] = rules.complaints([row], at(25))
    assert late.key == "complaint:T1:overdue" and late.facts["overdue"] is True
    answered = {**row, "responded_at": at(2).isoformat()}
    assert rules.complaints([answered, {**row, "status": "in_progress"}], at(25)) == []


def test_return_visit_due_then_overdue_within_the_catch_up_window() -> None:
    from hk.domain.visit.owed import Owed

    first = Owed(C1, "first", dt.date(2026, 11, 10), order="O1", reason="首次服务后回访")
    assert rules.return_visits([first], dt.date(2026, 11, 9)) == []
    [due] = rules.return_visits([first], dt.date(2026, 11, 10))
    assert due.key == f"return-visit:first:{C1}:due" and due.facts["type_zh"] == "首次回访"
    [late] = rules.return_visits([first], dt.date(2026, 11, 12))
    assert late.key.endswith(":overdue") and late.facts["overdue_days"] == 2
    assert (
        rules.return_visits([first], dt.date(2026, 11, 10) + dt.timedelta(days=rules.CATCH_UP_DAYS))
        == []
    )
