"""Recurring service (周期服务): a contract's schedule becomes orders (hk order generate).

Real archives in temp dirs, contracts drafted, signed and activated through their services;
the visits are weeks ahead of the real clock, so every one of them is still to come.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.domain.contract import Contract
from hk.domain.order.model import Order
from hk.domain.schedule import parse_schedule
from hk.services.contracts.document import sign
from hk.services.contracts.steps import activate, new_contract
from hk.services.orders.recurring import generate, reschedule
from hk.services.orders.steps import OrderRequest, assign, confirm
from hk.services.people import edit
from hk.services.records import code_of, load, load_ref
from hk.store.archive import Archive
from hk.store.writer import save
from tests.conftest import git
from tests.orders_support import Shop, make_shop

TZ = ZoneInfo("Asia/Shanghai")
_SOON = dt.datetime.now(TZ).date() + dt.timedelta(days=8)
START = _SOON + dt.timedelta(days=-_SOON.weekday() % 7)
"""A Monday one to two weeks ahead: every visit of the tests is still to come."""
FOUR_WEEKS = START + dt.timedelta(days=27)


def day(n: int) -> dt.date:
    """The day ``n`` days after START (0 is a Monday, 1 a Tuesday, 4 a Friday …)."""
    return START + dt.timedelta(days=n)


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    return make_shop(archive, archive_path)


def contract(
    shop: Shop,
    schedule: str = "weekly:tue,fri 09:00-12:00",
    services: tuple[str | tuple[str, int, int], ...] = ("BJ-HOURLY",),
    worker: str | None = "cleaner",
    kind: str = "service",
    **terms: Any,
) -> Contract:
    """A contract in force (drafted, signed by both parties, activated) with ``schedule``."""
    who = shop.cleaner if worker == "cleaner" else worker
    drafted, _ = new_contract(
        shop.archive,
        shop.customer,
        kind=kind,
        start=START,
        months=3,
        worker=who,
        schedule=schedule,
        services=list(services),
        **terms,
    )
    sign(shop.archive, drafted.id, "customer", "张三", "paper")
    sign(shop.archive, drafted.id, "company", "店长", "paper")
    activate(shop.archive, drafted.id)
    return load(shop.archive, Contract, drafted.id)[0]


def orders_of(archive: Archive, contract_id: str) -> list[Order]:
    rows = archive.index.list("order", ref=contract_id)
    found = [load(archive, Order, row["id"])[0] for row in rows]
    return sorted(found, key=lambda o: (o.window.start, o.status))


def days_of(orders: list[Order], status: str | None = None) -> list[dt.date]:
    return [o.window.start.date() for o in orders if status is None or o.status == status]


def commits(archive: Archive) -> int:
    return int(git(archive.root, "rev-list", "--count", "HEAD"))


def change_schedule(archive: Archive, contract_id: str, text: str) -> Contract:
    """The contract with a new schedule, saved as a contract edit would save it."""
    old, loaded = load(archive, Contract, contract_id)
    assert old.schedule is not None
    schedule = parse_schedule(text, old.schedule.starts, old.schedule.ends, old.schedule.services)
    updated = Contract.model_validate(
        {**{k: getattr(old, k) for k in Contract.model_fields}, "schedule": schedule}
    )
    save(archive, updated, loaded)
    return updated


# --- generating --------------------------------------------------------------------------------


def test_a_weekly_schedule_makes_its_orders_on_its_days_at_its_times(shop: Shop) -> None:
    c = contract(shop)
    before = commits(shop.archive)
    run = generate(shop.archive, FOUR_WEEKS)
    assert len(run.created) == 8 and run.skipped == [] and run.existing == 0
    assert commits(shop.archive) == before + 1
    assert git(shop.archive.root, "log", "-1", "--format=%s").startswith(
        f"Generate 8 orders from contract schedules up to {FOUR_WEEKS}"
    )
    orders = orders_of(shop.archive, c.id)
    assert days_of(orders) == [day(n) for n in (1, 4, 8, 11, 15, 18, 22, 25)]
    for order in orders:
        assert order.window.start == dt.datetime.combine(
            order.window.start.date(), dt.time(9), tzinfo=TZ
        )
        assert order.window.end - order.window.start == dt.timedelta(hours=3)
        assert order.contract == c.id and order.customer == shop.customer_id
        assert order.address == c.address
        assert [(line.service, line.quantity) for line in order.lines] == [("BJ-HOURLY", 3)]


def test_a_generated_order_is_priced_as_hk_order_new_prices_it(shop: Shop) -> None:
    contract(shop)
    generate(shop.archive, day(1))
    by_hand = shop.show(shop.new("--service", "BJ-HOURLY:3"))
    made = shop.cli.json("order", "list", "--date", day(1).isoformat())
    generated = shop.show(made[0]["code"])
    assert generated["total_fen"] == by_hand["total_fen"] == 12825  # 3 h × ¥45, 黄金 −5%
    assert generated["lines"] == by_hand["lines"]


def test_a_generated_order_takes_the_contracts_agreed_price(shop: Shop) -> None:
    c = contract(shop, services=(("BJ-HOURLY", 3, 5000),))
    assert [(line.service, line.unit_price_fen) for line in c.lines] == [("BJ-HOURLY", 5000)]
    generate(shop.archive, day(4))
    orders = orders_of(shop.archive, c.id)
    assert len(orders) == 2
    for order in orders:
        (line,) = order.lines
        assert (line.service, line.quantity, line.unit_price_fen) == ("BJ-HOURLY", 3, 5000)
        # 3 h × ¥50 agreed (the catalog says ¥45), the customer's 黄金 −5%: the contract's amount
        assert order.total_fen == c.lines[0].amount_fen == 14250
    by_hand = shop.show(shop.new("--service", "BJ-HOURLY:3"))
    assert by_hand["total_fen"] == 12825  # an order taken by hand keeps the catalog's price


def test_a_generated_order_waits_for_the_operator_and_names_the_contracts_worker(
    shop: Shop,
) -> None:
    c = contract(shop)
    run = generate(shop.archive, day(1))
    (order,) = orders_of(shop.archive, c.id)
    assert order.status == "pending" and order.workers == [] and c.schedule is not None
    assert [e.to_status for e in order.events] == ["pending"]
    assert order.events[0].note == (
        f"按合同 {c.number} 排班生成（{c.schedule.text_zh()}）；合同阿姨 王秀英"
    )
    assert {e.actor for e in order.events} == {"测试员"}
    (made,) = run.created
    assert made.worker == shop.cleaner_id and made.note == ""
    # the operator confirms and dispatches it, as any order taken
    code = shop.cli.json("order", "list", "--date", day(1).isoformat())[0]["code"]
    shop.cli.ok("order", "confirm", code)
    shop.cli.ok("order", "assign", code, shop.cleaner)
    (order,) = orders_of(shop.archive, c.id)
    assert order.status == "dispatched" and order.workers == [shop.cleaner_id]
    assert [e.to_status for e in order.events] == [
        "pending",
        "confirmed",
        "to_dispatch",
        "dispatched",
    ]


def test_running_it_again_creates_nothing_and_says_so(shop: Shop) -> None:
    contract(shop)
    generate(shop.archive, FOUR_WEEKS)
    before = commits(shop.archive)
    again = generate(shop.archive, FOUR_WEEKS)
    assert again.created == [] and again.existing == 8 and again.result is None
    assert commits(shop.archive) == before
    out = shop.cli.ok("order", "generate", "--until", FOUR_WEEKS.isoformat()).stdout
    assert out == f"nothing new up to {FOUR_WEEKS}; 8 visits already have their orders\n"
    assert commits(shop.archive) == before


def test_a_later_horizon_adds_only_the_new_visits(shop: Shop) -> None:
    c = contract(shop)
    generate(shop.archive, day(6))
    run = generate(shop.archive, day(13))
    assert run.existing == 2
    assert [m.order.window.start.date() for m in run.created] == [day(8), day(11)]
    assert len(orders_of(shop.archive, c.id)) == 4


def test_a_dry_run_changes_nothing(shop: Shop) -> None:
    c = contract(shop)
    before = commits(shop.archive)
    out = shop.cli.ok("order", "generate", "--until", day(6).isoformat(), "--dry-run").stdout
    assert out.splitlines() == [
        f"合同 {c.number}",
        f"  新建 —  {day(1)} 09:00-12:00  BJ-HOURLY  待确认  合同阿姨 {shop.cleaner} 王秀英",
        f"  新建 —  {day(4)} 09:00-12:00  BJ-HOURLY  待确认  合同阿姨 {shop.cleaner} 王秀英",
        f"would create 2 orders up to {day(6)}",
    ]
    assert commits(shop.archive) == before and orders_of(shop.archive, c.id) == []


def test_the_command_prints_each_order_and_the_commit(shop: Shop) -> None:
    c = contract(shop)
    out = shop.cli.ok("order", "generate", "--until", day(6).isoformat()).stdout.splitlines()
    codes = [o["code"] for o in shop.cli.json("order", "list")]
    head = git(shop.archive.root, "rev-parse", "--short=7", "HEAD").strip()
    assert out[0] == f"合同 {c.number}"
    assert out[1:3] == [
        f"  新建 {code}  {day(n)} 09:00-12:00  BJ-HOURLY  待确认  合同阿姨 {shop.cleaner} 王秀英"
        for code, n in zip(codes, (1, 4), strict=True)
    ]
    assert out[-1] == f"created 2 orders up to {day(6)} (commit {head})"


def test_json_lists_what_was_created_and_skipped(shop: Shop) -> None:
    c = contract(shop)
    data = shop.cli.json("order", "generate", "--until", day(6).isoformat())
    assert data["until"] == day(6).isoformat() and data["contracts"] == [c.number]
    assert [o["start"] for o in data["created"]] == [
        f"{day(1)}T09:00:00+08:00",
        f"{day(4)}T09:00:00+08:00",
    ]
    assert all(
        o["code"]
        and o["status"] == "pending"
        and o["workers"] == []
        and o["worker"] == shop.cleaner_id
        and o["note"] == ""
        for o in data["created"]
    )
    assert data["commit"] and data["skipped"] == [] and data["cancelled"] == []


# --- days without a visit ----------------------------------------------------------------------


def test_closed_days_and_the_workers_leave_are_skipped_with_their_reasons(shop: Shop) -> None:
    c = contract(shop)
    settings = shop.archive.root / "hk.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace("closed = []", f'closed = ["{day(4)}..{day(8)} 春节"]'), encoding="utf-8"
    )
    edit(
        shop.archive,
        "worker",
        shop.cleaner,
        {"leave": [{"start": day(15), "end": day(15), "reason": "探亲"}]},
    )
    archive = Archive(shop.archive.root)
    run = generate(archive, FOUR_WEEKS)
    assert [(s.day, s.text_zh()) for s in run.skipped] == [
        (day(4), "公司休息（春节）"),
        (day(8), "公司休息（春节）"),
        (day(15), "阿姨请假（探亲）"),
    ]
    assert days_of(orders_of(archive, c.id)) == [day(n) for n in (1, 11, 18, 22, 25)]
    out = shop.cli.ok("order", "generate", "--until", FOUR_WEEKS.isoformat()).stdout
    assert f"  跳过 {day(4)}  公司休息（春节）" in out.splitlines()
    assert f"  跳过 {day(15)}  阿姨请假（探亲）" in out.splitlines()


def test_a_closed_weekday_is_skipped(shop: Shop) -> None:
    c = contract(shop, schedule="weekdays 14:00-16:00")
    settings = shop.archive.root / "hk.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace("closed_weekdays = []", 'closed_weekdays = ["wed"]'), encoding="utf-8"
    )
    run = generate(Archive(shop.archive.root), day(6))
    assert [s.detail for s in run.skipped] == ["每周三休息"]
    assert days_of(orders_of(shop.archive, c.id)) == [day(n) for n in (0, 1, 3, 4)]


def test_a_visit_cancelled_by_hand_is_not_made_again(shop: Shop) -> None:
    c = contract(shop)
    generate(shop.archive, day(6))
    first = shop.cli.json("order", "list", "--date", day(1).isoformat())[0]["code"]
    shop.cli.ok("order", "cancel", first, "--reason", "客户出差")
    run = generate(shop.archive, day(6))
    assert run.created == [] and run.existing == 1
    assert [(s.day, s.reason) for s in run.skipped] == [(day(1), "cancelled")]
    assert len(orders_of(shop.archive, c.id)) == 2


def test_without_a_worker_the_orders_say_so(shop: Shop) -> None:
    c = contract(shop, worker=None)
    out = shop.cli.ok("order", "generate", "--until", day(6).isoformat(), "--dry-run").stdout
    assert out.splitlines()[1] == (
        f"  新建 —  {day(1)} 09:00-12:00  BJ-HOURLY  待确认（合同未指定阿姨）"
    )
    run = generate(shop.archive, day(6))
    assert [(m.worker, m.note) for m in run.created] == [(None, "合同未指定阿姨")] * 2
    orders = orders_of(shop.archive, c.id)
    assert {o.status for o in orders} == {"pending"}
    assert all("合同阿姨" not in o.events[0].note for o in orders)


def test_a_worker_who_breaks_a_rule_is_not_suggested_and_the_log_says_why(shop: Shop) -> None:
    worker = shop.worker(availability={"mon": ["08:00-18:00"], "tue": ["08:00-18:00"]})
    c = contract(shop, worker=worker)
    dry = shop.cli.ok(
        "order", "generate", "--until", day(6).isoformat(), "--dry-run"
    ).stdout.splitlines()
    run = generate(shop.archive, day(6))
    tue, fri = run.created
    assert tue.worker == c.worker and tue.note == ""
    assert fri.worker is None and fri.note.startswith("合同阿姨 李桂芳，但：availability")
    orders = orders_of(shop.archive, c.id)
    assert {o.status for o in orders} == {"pending"} and all(o.workers == [] for o in orders)
    assert orders[0].events[0].note.endswith("；合同阿姨 李桂芳")
    assert orders[1].events[0].note.endswith(f"；{fri.note}")
    # the operator reads the same: whom the contract names, and what keeps her from Friday
    assert dry[1].endswith(f"  待确认  合同阿姨 {worker} 李桂芳")
    assert dry[2].endswith(f"  待确认（{fri.note}）")


def test_two_contracts_never_double_book_their_worker_in_one_run(shop: Shop) -> None:
    first = contract(shop)
    second = contract(shop, schedule="weekly:tue 10:00-12:00")
    run = generate(shop.archive, day(6))
    assert [m.worker for m in run.created if m.contract == first.number] == [shop.cleaner_id] * 2
    (clash,) = [m for m in run.created if m.contract == second.number]
    assert clash.worker is None and clash.note.startswith("合同阿姨 王秀英，但：double_booking")
    (order,) = orders_of(shop.archive, second.id)
    assert order.status == "pending" and "，但：double_booking" in order.events[0].note
    # the operator dispatches the first contract's Tuesday; the clash stands for assign as well
    mine, theirs = (
        code_of(shop.archive, orders_of(shop.archive, c.id)[0].id) or "" for c in (first, second)
    )
    for code in (mine, theirs):
        shop.cli.ok("order", "confirm", code)
    shop.cli.ok("order", "assign", mine, shop.cleaner)
    refused = shop.cli("order", "assign", theirs, shop.cleaner)
    assert refused.exit_code != 0 and "double_booking" in refused.output
    assert days_of(orders_of(shop.archive, first.id), "dispatched") == [day(1)]


def test_a_later_run_sees_the_dispatched_orders_of_another_contract(shop: Shop) -> None:
    first = contract(shop)
    generate(shop.archive, day(6))
    code = shop.cli.json("order", "list", "--date", day(1).isoformat())[0]["code"]
    confirm(shop.archive, code)
    assign(shop.archive, code, [shop.cleaner])
    second = contract(shop, schedule="weekly:tue 10:00-12:00")
    run = generate(shop.archive, day(6))
    (made,) = run.created
    assert made.order.contract == second.id and made.worker is None
    assert "double_booking" in made.note
    assert days_of(orders_of(shop.archive, first.id), "dispatched") == [day(1)]


def test_after_a_replacement_the_new_worker_is_named(shop: Shop) -> None:
    from hk.services.contracts.steps import replace_worker

    c = contract(shop)
    other = shop.worker()
    replace_worker(shop.archive, c.id, other, "原阿姨回老家", date=day(7))
    run = generate(shop.archive, day(13))
    other_id = load_ref(shop.archive, "worker", other)[0].id
    assert [m.worker for m in run.created] == [shop.cleaner_id] * 2 + [other_id] * 2
    orders = orders_of(shop.archive, c.id)
    assert [o.events[0].note.rsplit("；", 1)[1] for o in orders] == (
        ["合同阿姨 王秀英"] * 2 + ["合同阿姨 李桂芳"] * 2
    )
    # the operator sends whoever the order names
    code = shop.cli.json("order", "list", "--date", day(8).isoformat())[0]["code"]
    confirm(shop.archive, code)
    assign(shop.archive, code, [other])
    assert [o.workers for o in orders_of(shop.archive, c.id)] == [[]] * 2 + [[other_id], []]


def test_a_package_contract_uses_its_visits_one_order_after_another(shop: Shop) -> None:
    c = contract(
        shop,
        kind="package",
        package="PKG-MONTH",
        schedule="weekly:tue 09:00-12:00",
        services=("BJ-DAILY",),
    )
    generate(shop.archive, day(29))
    orders = orders_of(shop.archive, c.id)
    assert [o.package for o in orders] == ["PKG-MONTH"] * 5
    # four visits in the month's package, the fifth charged
    assert [o.lines[0].package_visits for o in orders] == [1, 1, 1, 1, 0]
    assert [o.total_fen for o in orders][:4] == [0, 0, 0, 0] and orders[4].total_fen > 0


def test_only_contracts_in_force_make_orders(shop: Shop) -> None:
    drafted, _ = new_contract(
        shop.archive,
        shop.customer,
        kind="service",
        start=START,
        months=3,
        schedule="weekly:tue 09:00-12:00",
        services=["BJ-HOURLY"],
    )
    assert generate(shop.archive, FOUR_WEEKS).contracts == []
    result = shop.cli(
        "order", "generate", "--until", FOUR_WEEKS.isoformat(), "--contract", drafted.number
    )
    assert result.exit_code == 1
    assert f"contract {drafted.number} makes no orders: 状态为草稿（draft）" in result.output
    out = shop.cli.ok("order", "generate", "--until", FOUR_WEEKS.isoformat()).stdout
    assert out == "no contract in force has a schedule: nothing to generate\n"


def test_until_is_required_without_reschedule(shop: Shop) -> None:
    result = shop.cli("order", "generate")
    assert result.exit_code == 2 and "--until" in result.output


# --- a schedule change -------------------------------------------------------------------------


def _generated(shop: Shop, **kw: Any) -> tuple[Contract, list[Order]]:
    """A contract and four weeks of its orders (待确认), the first Tuesday's confirmed and
    dispatched by the operator, the first Friday's confirmed only (待派工)."""
    c = contract(shop, **kw)
    generate(shop.archive, FOUR_WEEKS)
    orders = orders_of(shop.archive, c.id)
    tue, fri = (
        shop.cli.json("order", "list", "--date", day(n).isoformat())[0]["code"] for n in (1, 4)
    )
    shop.cli.ok("order", "confirm", tue)
    shop.cli.ok("order", "assign", tue, shop.cleaner)
    shop.cli.ok("order", "confirm", fri)
    assert days_of(orders_of(shop.archive, c.id), "dispatched") == [day(1)]
    assert days_of(orders_of(shop.archive, c.id), "to_dispatch") == [day(4)]
    return c, orders


def test_a_schedule_change_cancels_only_future_undispatched_orders(shop: Shop) -> None:
    c, _ = _generated(shop)
    change_schedule(shop.archive, c.id, "weekly:wed 09:00-12:00")
    before = commits(shop.archive)
    run = reschedule(shop.archive, c.number)
    # the dispatched Tuesday stays; the seven others go, each in its own commit and event
    assert [d.order.window.start.date() for d in run.cancelled] == [
        day(n) for n in (4, 8, 11, 15, 18, 22, 25)
    ]
    assert [s.reason for s in run.skipped] == ["dispatched"]
    assert [m.order.window.start.date() for m in run.created] == [day(n) for n in (2, 9, 16, 23)]
    assert commits(shop.archive) == before + 7 + 1
    assert [d.was for d in run.cancelled] == ["to_dispatch"] + ["pending"] * 6
    orders = orders_of(shop.archive, c.id)
    assert days_of(orders, "dispatched") == [day(1)]
    assert days_of(orders, "pending") == [day(n) for n in (2, 9, 16, 23)]
    assert all(m.worker == shop.cleaner_id for m in run.created)
    cancelled = [o for o in orders if o.status == "cancelled"]
    assert len(cancelled) == 7
    for order in cancelled:
        last = order.events[-1]
        was = "to_dispatch" if order.window.start.date() == day(4) else "pending"
        assert (last.from_status, last.to_status) == (was, "cancelled")
        assert last.note == f"排班变更：合同 {c.number} 现为 每周三 09:00-12:00"
        assert order.cancellation_fee_fen == 0


def test_past_orders_are_never_touched(shop: Shop) -> None:
    c, _ = _generated(shop)
    change_schedule(shop.archive, c.id, "weekly:wed 09:00-12:00")
    later = dt.datetime.combine(day(14), dt.time(8), tzinfo=TZ)  # Monday of week 3
    run = reschedule(shop.archive, c.id, at=later)
    assert [d.order.window.start.date() for d in run.cancelled] == [
        day(n) for n in (15, 18, 22, 25)
    ]
    orders = orders_of(shop.archive, c.id)
    assert days_of(orders, "to_dispatch") == [day(4)]
    assert days_of(orders, "pending")[:1] == [day(8)]


def test_a_new_time_on_the_same_days_keeps_the_dispatched_visit(shop: Shop) -> None:
    c, _ = _generated(shop)
    change_schedule(shop.archive, c.id, "weekly:tue,fri 14:00-16:00")
    run = reschedule(shop.archive, c.id)
    assert len(run.cancelled) == 7 and len(run.created) == 7
    # the new 14:00 visit of that Tuesday is not made next to the dispatched 09:00 one
    assert [(s.day, s.reason) for s in run.skipped] == [(day(1), "dispatched")]
    assert day(1) not in [m.order.window.start.date() for m in run.created]
    for made in run.created:
        assert (made.order.window.start.hour, made.order.window.end.hour) == (14, 16)
        assert [(line.service, line.quantity) for line in made.order.lines] == [("BJ-HOURLY", 2)]


def test_a_second_reschedule_and_a_plain_run_change_nothing(shop: Shop) -> None:
    c, _ = _generated(shop)
    change_schedule(shop.archive, c.id, "weekly:wed 09:00-12:00")
    reschedule(shop.archive, c.id)
    before = commits(shop.archive)
    again = reschedule(shop.archive, c.id, until=FOUR_WEEKS)
    assert again.cancelled == [] and again.created == []
    assert generate(shop.archive, FOUR_WEEKS).created == []
    assert commits(shop.archive) == before


def test_orders_taken_by_hand_for_the_contract_are_not_cancelled(shop: Shop) -> None:
    from hk.services.orders.steps import new_order

    c, _ = _generated(shop)
    extra = new_order(
        shop.archive,
        OrderRequest(
            shop.customer,
            [("JD-AC", 1)],
            dt.datetime.combine(day(3), dt.time(15), tzinfo=TZ),
            channel="phone",
            address=c.address,
            contract=c.id,
        ),
    ).order
    change_schedule(shop.archive, c.id, "weekly:wed 09:00-12:00")
    run = reschedule(shop.archive, c.id)
    assert extra.id not in {d.order.id for d in run.cancelled}
    assert load(shop.archive, Order, extra.id)[0].status == "pending"


def test_a_terminated_contract_keeps_no_undispatched_order_after_its_last_day(shop: Shop) -> None:
    from hk.services.contracts.steps import terminate

    c, _ = _generated(shop)
    terminate(shop.archive, c.id, "客户搬家", date=day(10))
    run = reschedule(shop.archive, c.id)
    # the visits up to the last day stay; the five after it go
    assert [d.order.window.start.date() for d in run.cancelled] == [
        day(n) for n in (11, 15, 18, 22, 25)
    ]
    assert run.created == []
    note = run.cancelled[0].order.events[-1].note
    assert note == f"排班变更：合同 {c.number} 已终止，最后服务日 {day(10)}"
    again = shop.cli.ok("order", "generate", "--reschedule", "--contract", c.number).stdout
    assert again == f"nothing new up to {dt.datetime.now(TZ).date()}\n"


def test_reschedule_from_the_command_line(shop: Shop) -> None:
    c, _ = _generated(shop)
    change_schedule(shop.archive, c.id, "weekly:wed 09:00-12:00")
    dry = shop.cli.ok(
        "order", "generate", "--reschedule", "--contract", c.number, "--dry-run"
    ).stdout.splitlines()
    assert dry[-1] == f"would create 4 orders up to {day(25)}; would cancel 7; 1 skipped"
    assert len(orders_of(shop.archive, c.id)) == 8
    out = shop.cli.ok("order", "generate", "--reschedule", "--contract", c.number).stdout
    lines = out.splitlines()
    assert sum(line.startswith("  取消 ") for line in lines) == 7
    assert sum(line.startswith("  新建 ") for line in lines) == 4
    assert any(f"  跳过 {day(1)}  已派工，未改动" in line for line in lines)
    result = shop.cli("order", "generate", "--reschedule")
    assert result.exit_code == 2 and "--contract" in result.output


def test_terminating_from_the_command_line_cancels_the_generated_orders_after_it(
    shop: Shop,
) -> None:
    c, _ = _generated(shop)
    out = shop.cli.ok(
        "contract", "terminate", c.number, "--reason", "客户搬家", "--date", day(10).isoformat()
    ).stdout
    assert "已终止 terminated" in out
    assert sum(line.startswith("  取消 ") for line in out.splitlines()) == 5
    left = [o for o in orders_of(shop.archive, c.id) if o.status != "cancelled"]
    assert max(o.window.start.date() for o in left) <= day(10)
