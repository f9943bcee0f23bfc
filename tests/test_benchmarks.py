"""The benchmark archive: deterministic, valid, and shaped like three years of real business.

A small scale (1 000 orders) keeps these quick; the rules checked hold at every scale.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.generate import END, PLANS, build, generate, pending_kinds
from benchmarks.orders import Catalog
from benchmarks.run import (
    BARE_EDIT,
    BARE_FIND,
    Result,
    dispatch_day,
    find_query,
    index_path,
    order_list_command,
    sample_customer,
    table,
)
from hk.domain.customer import Customer
from hk.domain.layout import partition_of
from hk.domain.order.model import Order
from hk.domain.order.status import NEEDS_A_WORKER
from hk.domain.order.steps import cancel, transition
from hk.domain.worker import Worker
from hk.services.lookup import list_rows, open_index
from hk.store import git
from hk.store.files import parse_record, relpath_for, serialise

SCALE = 0.01
SEED = 6
"""A seed whose small archive has orders waiting for dispatch in its last days."""
FUTURE = ("pending", "confirmed", "to_dispatch", "dispatched", "cancelled")


@pytest.fixture(scope="module")
def records() -> dict[str, list]:
    return build(SCALE, seed=SEED)


@pytest.fixture(scope="module")
def orders(records: dict[str, list]) -> list[Order]:
    return records["order"]


def test_the_plan_counts_every_kind_of_design_6_and_builds_those_that_exist() -> None:
    counts = {plan.kind: plan.per_scale for plan in PLANS}
    assert counts["order"] == 100_000 and counts["customer"] == 10_000
    assert counts["contract"] == 2_000 and counts["visit"] == 30_000
    assert pending_kinds() == []
    kinds = [plan.kind for plan in PLANS]
    assert kinds.index("contract") < kinds.index("order")  # orders will name contracts


def test_same_seed_same_orders(orders: list[Order]) -> None:
    again = build(SCALE, seed=SEED)["order"]
    assert [serialise(o) for o in again] == [serialise(o) for o in orders]
    other = build(SCALE, seed=SEED + 1)["order"]
    assert [o.id for o in other] != [o.id for o in orders]


def test_orders_round_trip_through_their_files(orders: list[Order]) -> None:
    for order in orders:
        path = relpath_for(Order, order.id)
        assert parse_record(Order, serialise(order), path) == order
        assert not list(order.sealed_values())


def test_ids_follow_creation_and_fill_the_three_years_of_month_folders(
    orders: list[Order],
) -> None:
    ids = [o.id for o in orders]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    months = {partition_of(i) for i in ids}
    assert len(months) >= 30
    assert min(months) >= "2022/01" and max(months) <= "2024/12"
    for order in orders:
        assert partition_of(order.id) == f"{order.created.astimezone(dt.UTC):%Y/%m}"


def test_nothing_happens_after_now(orders: list[Order]) -> None:
    for order in orders:
        times = [e.at for e in order.events] + [p.at for p in order.payments]
        if order.rating and order.rating.at:
            times.append(order.rating.at)
        assert order.created <= order.updated == max(times) <= END


def test_status_follows_the_appointment(orders: list[Order]) -> None:
    """Past appointments are done (or cancelled); the coming days are still on their way."""
    statuses = {o.status for o in orders}
    assert {"settled", "cancelled", "to_dispatch"} <= statuses
    for order in orders:
        if order.window.start > END:
            assert order.status in FUTURE
        elif order.window.end < END - dt.timedelta(hours=1):
            assert order.status in ("completed", "settled", "cancelled")
    settled = sum(o.status == "settled" for o in orders)
    assert settled > 0.8 * len(orders)


def test_each_log_replays_through_the_lifecycle(orders: list[Order]) -> None:
    """The generator writes logs directly; the lifecycle functions must agree with every one:
    a worker before dispatch, nothing due when settled, a reason for each cancellation."""
    for order in orders:
        start = {name: getattr(order, name) for name in Order.model_fields}
        start.update(
            status="pending",
            events=order.events[:1],
            rating=None,
            checklist=[],
            cancellation_fee_fen=0,
            payments=[p for p in order.payments if p.kind != "cancellation_fee"],
        )
        replay = Order.model_validate(start)
        for event in order.events[1:]:
            if event.to_status == "cancelled":
                replay = cancel(
                    replay, event.actor, event.at, event.note, order.cancellation_fee_fen
                )
            else:
                replay = transition(
                    replay, event.to_status, event.actor, event.at, event.note, event.location
                )
        assert replay.events == order.events
        assert replay.status == order.status
        assert replay.cancellation_fee_fen == order.cancellation_fee_fen


def test_orders_belong_to_people_who_existed(records: dict[str, list]) -> None:
    customers: dict[str, Customer] = {c.id: c for c in records["customer"]}
    workers: dict[str, Worker] = {w.id: w for w in records["worker"]}
    for order in records["order"]:
        customer = customers[order.customer]
        assert customer.created <= order.created
        assert order.address in customer.addresses
        assert not set(order.workers) & set(customer.blocked_workers)
        assert all(w in workers for w in order.workers)
        reached = {e.to_status for e in order.events}
        assert bool(order.workers) == ("dispatched" in reached)
        if order.status in NEEDS_A_WORKER:
            assert order.workers


def test_money_is_priced_from_the_catalog_and_paid_as_the_status_says(
    orders: list[Order],
) -> None:
    services = Catalog.default().services
    for order in orders:
        for line in order.lines:
            item = services[line.service]
            assert line.unit == item.unit and line.name == item.name
            if order.rework_of is None and item.unit != "month":
                assert line.unit_price_fen == item.price_fen
        if order.status == "settled":
            assert order.balance_due() == 0
        if order.status == "cancelled":
            assert order.amount_paid() <= order.cancellation_fee_fen
    assert any(o.package for o in orders)
    assert any(o.cancellation_fee_fen for o in orders)
    assert any(o.rating for o in orders)
    assert any(o.rework_of for o in orders)
    assert any(any(ln.discount_fen for ln in o.lines) for o in orders)  # tier discounts


def test_generate_writes_one_commit_that_hk_reads(tmp_path: Path) -> None:
    root = tmp_path / "bench"
    result = generate(root, scale=SCALE, seed=SEED)
    built = build(SCALE, seed=SEED)
    assert result.counts == {
        "worker": 3,
        "customer": 100,
        "quote": len(built["quote"]),
        "contract": len(built["contract"]),
        "order": 1000,
        "visit": 300,
    }
    assert result.counts["quote"] >= 25
    assert git.run(root, ["status", "--porcelain"]) == ""
    assert git.run(root, ["rev-list", "--count", "HEAD"]).strip() == "2"  # init, then all
    tracked = git.run(root, ["ls-files", "orders"]).split()
    assert len(tracked) == 1000
    index = open_index(root)
    assert not index.refresh().broken
    assert index.count("order") == 1000 and index.count("quote") == result.counts["quote"]
    assert index.count("contract") == result.counts["contract"] >= 20
    assert index.count("visit") == 300
    busiest = dispatch_day(root)
    assert busiest is not None
    day, count = busiest
    rows = list_rows(index, "order", category="to_dispatch", day_from=day, day_to=day)
    assert len(rows) == count
    listed = subprocess.run(
        [*order_list_command(day), "--json"], cwd=root, capture_output=True, text=True, check=True
    )
    on_the_day = list_rows(index, "order", day_from=day, day_to=day)
    assert len(json.loads(listed.stdout)) == len(on_the_day) >= count


def test_the_table_names_failures() -> None:
    results = [
        Result("warm order list", 0.2, "s", "git status", 0.4, "≤ 1.0×", 1.0),
        Result("cold index", 9.0, "s", "parse loop", 1.0, "≤ 3×", 3.0, note="slow"),
    ]
    text = table(results)
    assert "0.50×" in text and "pass" in text
    assert "9.00×" in text and "FAIL  (slow)" in text


def test_an_absolute_budget_holds_the_value_not_the_ratio() -> None:
    """The TUI's and hk batch's budgets are times; their anchor is printed for orientation."""
    first = Result("TUI first usable screen", 0.9, "s", "import textual.app", 0.2, "≤ 1.2 s", 1.2)
    first.absolute = True
    assert first.ratio == pytest.approx(4.5) and first.ok is True
    missing = Result("hk batch", None, "s", budget="≤ 5 s", limit=5.0, absolute=True)
    assert missing.ok is None and "-" in table([missing])


def test_the_bare_anchors_run_what_hk_runs_on_a_customers_only_archive(tmp_path: Path) -> None:
    """The bare search runs the very query of hk customer find over the same index; the bare
    edit leaves a record hk still reads, committed."""
    root = tmp_path / "people"
    generate(root, scale=SCALE, seed=SEED, only=["worker", "customer"])
    index = open_index(root)
    assert not index.refresh().broken
    who = sample_customer(root)
    for query in (who["name"], who["initials"], who["phone"]):
        expected = [row["id"] for row in index.find("customer", query)]
        sql, params = find_query(root, "customer", query)
        bare = subprocess.run(
            [sys.executable, "-S", "-c", BARE_FIND, str(index_path(root)), sql, json.dumps(params)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert who["id"] in expected
        assert len(bare.stdout.splitlines()) == len(expected)
    before = git.run(root, ["rev-list", "--count", "HEAD"])
    subprocess.run(
        [sys.executable, "-c", BARE_EDIT, who["file"], "phones", "+8616600000001"],
        cwd=root,
        check=True,
    )
    assert int(git.run(root, ["rev-list", "--count", "HEAD"])) == int(before) + 1
    assert git.run(root, ["status", "--porcelain"]) == ""
    edited = parse_record(Customer, (root / who["file"]).read_text(encoding="utf-8"), who["file"])
    assert edited.phones == ["+8616600000001"]


def test_quotes_are_priced_dated_and_answered_as_an_office_would(
    records: dict[str, list],
) -> None:
    from hk.domain.quote import Quote

    quotes: list[Quote] = records["quote"]
    customers = {c.id: c for c in records["customer"]}
    assert quotes and {q.shown_status(END.date()) for q in quotes} >= {
        "accepted",
        "rejected",
        "expired",
    }
    assert any(q.recurring() for q in quotes)
    for quote in quotes:
        assert customers[quote.customer].created <= quote.created <= quote.updated <= END
        assert parse_record(Quote, serialise(quote), relpath_for(Quote, quote.id)) == quote
        if quote.status == "accepted":
            answer = quote.events[-1].at.date()
            assert answer <= quote.valid_until


def test_contracts_are_signed_on_their_terms_and_linked(records: dict[str, list]) -> None:
    """Every signature covers the rendered terms (hk contract verify would pass), quotes and
    renewals are linked both ways, and nothing happens after "now"."""
    from hk.domain.contract import Contract
    from hk.services import documents
    from hk.services.contracts.document import TEMPLATE, terms_context

    contracts: list[Contract] = records["contract"]
    by_id = {c.id: c for c in contracts}
    quotes = {q.id: q for q in records["quote"]}
    assert {c.contract_type for c in contracts} == {"placement", "package", "service"}
    assert {"active", "renewed"} <= {c.status for c in contracts}
    for contract in contracts:
        assert (
            parse_record(Contract, serialise(contract), relpath_for(Contract, contract.id))
            == contract
        )
        text = documents.render_markdown(None, TEMPLATE, terms_context(contract))
        assert {s.sha256 for s in contract.signatures} == {documents.digest(text)}
        assert contract.events[-1].at <= END
        if contract.quote:
            assert quotes[contract.quote].contract == contract.id
        if contract.renewed_by:
            assert by_id[contract.renewed_by].previous == contract.id


def test_return_visits_follow_the_rules_of_spec_4(records: dict[str, list]) -> None:
    """Visits are the plan's count, linked to what they follow up, dated before "now", and
    the regular ones keep the cadence: the first after the first service, each periodic one
    at least three months after the contact before it (unless that one is among the oldest,
    which the plan's count leaves out)."""
    from hk.domain.visit.model import Visit
    from hk.domain.visit.owed import add_months

    visits: list[Visit] = records["visit"]
    assert len(visits) == round(30_000 * SCALE)
    assert {"first", "periodic", "low_score"} <= {v.type for v in visits}
    assert {"done", "cancelled"} <= {v.status for v in visits}
    customers = {c.id: c for c in records["customer"]}
    orders = {o.id: o for o in records["order"]}
    contracts = {c.id: c for c in records["contract"]}
    first_service: dict[str, dt.date] = {}
    for order in sorted(orders.values(), key=lambda o: o.window.start):
        if any(e.to_status == "completed" for e in order.events):
            first_service.setdefault(order.customer, order.window.start.date())
    by_customer: dict[str, list[Visit]] = {}
    for visit in visits:
        assert parse_record(Visit, serialise(visit), relpath_for(Visit, visit.id)) == visit
        assert visit.customer in customers and visit.events[-1].at <= END
        assert visit.order is None or orders[visit.order].customer == visit.customer
        assert visit.contract is None or contracts[visit.contract].customer == visit.customer
        by_customer.setdefault(visit.customer, []).append(visit)
    for customer, history in by_customer.items():
        contacts = [(v.done_day(), v.id) for v in history if v.status == "done"]
        contacts += [
            (v.due, v.id)
            for v in history
            if v.status == "cancelled" and v.type in ("first", "periodic")
        ]
        for visit in history:
            if visit.type == "first":
                assert visit.due >= first_service[customer]
            if visit.type == "periodic":
                before = [
                    day
                    for day, other in contacts
                    if other != visit.id and day is not None and day < visit.due
                ]
                if before:
                    assert add_months(max(before), 3) <= visit.due
                else:  # the contact before it is among the oldest, left out of the archive
                    assert all(v.status == "due" for v in history if v.created < visit.created)


def test_a_booking_by_the_day_from_a_months_last_days_ends_after_it_starts() -> None:
    from benchmarks.generate import Context
    from benchmarks.orders import OrderBuilder

    catalog = Catalog.default()
    ctx = Context(rng=random.Random(1), records={"customer": [], "worker": []})
    builder = OrderBuilder(ctx, catalog, END, END, lambda ms, bits: "0" * 26)
    start = dt.datetime(2022, 12, 31, 8, 0, tzinfo=END.tzinfo)
    end, _ = builder.end_of(start, [(catalog.services["LR-HOSP"], Decimal(3))])
    assert end == start + dt.timedelta(days=3)
    end, _ = builder.end_of(start, [(catalog.services["BM-LIVEIN"], Decimal(1))])
    assert end == dt.datetime(2023, 1, 28, 8, 0, tzinfo=END.tzinfo)
