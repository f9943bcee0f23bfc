"""Snapshots of the TUI's main pages at 120×40 in Chinese (pytest-textual-snapshot).

The archive is the same on every run: records with fixed IDs (so fixed codes), fixed creation
times, and a fixed "today" for the dashboard. ``pytest --snapshot-update`` rewrites the SVGs
after a deliberate change of a page; look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from hk.domain.customer import Customer
from hk.domain.ids import CROCKFORD
from hk.domain.worker import Worker
from hk.services.archive import init
from hk.services.orders.steps import OrderRequest, build_order
from hk.store.archive import Archive
from hk.store.writer import save_new_bulk
from hk.tui.app import HkApp, make_app

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 10)
SIZE = (120, 40)


def fixed_id(n: int, day: dt.date = dt.date(2025, 6, 1)) -> str:
    """A valid record ID made of a day and a number: the same on every run."""
    ms = int(dt.datetime.combine(day, dt.time(9), TZ).timestamp() * 1000)
    value = (ms << 80) | (n * 7919)
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def stamp(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 30), TZ)


ZHANG = fixed_id(1, dt.date(2024, 5, 8))
LI = fixed_id(2, dt.date(2025, 11, 20))
ZHOU = fixed_id(3, dt.date(2026, 3, 2))
WANG = fixed_id(11, dt.date(2023, 4, 1))
LIU = fixed_id(12, dt.date(2024, 2, 1))

CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": ZHANG,
        "name": "张三",
        "phones": ["13800138000", "13900139000"],
        "wechat": "zhangsan_cd",
        "category": "家庭保洁",
        "channel": "老客户介绍",
        "tier": "黄金",
        "tags": ["高端客户", "季度服务套餐"],
        "addresses": [
            {
                "label": "家",
                "city": "成都市",
                "district": "武侯区",
                "community": "万科城",
                "detail": "3栋2单元501",
                "access_notes": "门禁 1234#",
            }
        ],
        "household": [
            {
                "relation": "母亲",
                "birth_year": 1948,
                "notes": "耳背，说话大声些",
                "care_notes": "高血压，早晚服药",
            },
            {"relation": "宠物狗", "notes": "柯基，不咬人"},
        ],
        "preferences": {
            "worker_gender": "女",
            "worker_age_min": 35,
            "worker_age_max": 55,
            "native_places": ["四川"],
            "cleaning_agents": "只用中性清洁剂",
            "cooking_taste": "清淡",
        },
        "taboos": ["不进书房", "进门穿鞋套"],
        "preferred_workers": [WANG],
        "consents": [
            {
                "purpose": "提供家政服务",
                "scope": "姓名、电话、地址",
                "date": "2024-05-08",
                "method": "纸质签字",
            }
        ],
        "id_number": "510107196809120427",
        "health_notes": "尘螨过敏",
        "notes": "每周二上午保洁；钥匙在物业。",
    },
    {
        "id": LI,
        "name": "李四",
        "phones": ["18600281002"],
        "category": "钟点工",
        "channel": "美团",
        "tier": "白银",
        "tags": ["价格敏感"],
        "addresses": [
            {"city": "成都市", "district": "锦江区", "community": "望江苑", "detail": "1栋1单元101"}
        ],
    },
    {
        "id": ZHOU,
        "name": "周敏",
        "phones": ["13550281003"],
        "category": "月嫂",
        "channel": "抖音",
        "tier": "铂金",
        "tags": ["母婴护理需求"],
        "addresses": [
            {"city": "成都市", "district": "高新区", "community": "天府软件园", "detail": "B区7栋"}
        ],
    },
]
WORKERS: list[dict[str, Any]] = [
    {
        "id": WANG,
        "name": "王秀英",
        "gender": "女",
        "birth_year": 1976,
        "native_place": "四川南充",
        "dialects": ["四川话"],
        "phone": "13900282001",
        "skills": [
            {"name": "保洁", "level": 5},
            {"name": "烹饪", "level": 3, "cuisines": ["川菜"]},
        ],
        "certificates": [
            {
                "kind": "健康证",
                "number": "5101062025004417",
                "issued": "2025-03-20",
                "expires": "2026-03-20",
            }
        ],
        "availability": {
            "mon": ["08:00-12:00", "14:00-18:00"],
            "tue": ["08:00-12:00"],
            "wed": ["08:00-12:00", "14:00-18:00"],
            "thu": ["08:00-12:00"],
            "fri": ["08:00-12:00", "14:00-18:00"],
        },
        "experience_years": 11,
        "employment": {"model": "员工制", "start": "2023-04-01"},
        "insurance": {"policy": "PICC-2025-0318", "insurer": "中国人保", "expires": "2026-12-31"},
    },
    {
        "id": LIU,
        "name": "刘桂芳",
        "gender": "女",
        "birth_year": 1970,
        "native_place": "重庆万州",
        "phone": "13900282002",
        "status": "placed",
        "skills": [{"name": "母婴护理", "level": 4}, {"name": "育儿", "level": 4}],
        "certificates": [{"kind": "母婴护理师", "expires": "2028-06-30"}],
        "availability": {
            day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat")
        },
        "leave": [{"start": "2026-03-09", "end": "2026-03-12", "reason": "回老家"}],
    },
]
ORDERS = [  # (customer, item, quantity, day offset, time)
    (ZHANG, "BJ-DAILY", 1, 0, "09:00"),
    (LI, "BJ-HOURLY", 3, 0, "14:00"),
    (ZHANG, "JD-HOOD", 1, 1, "10:00"),
    (ZHOU, "BJ-HOURLY", 2, 1, "15:30"),
]


def build_office(root: Path) -> Path:
    """A small office with fixed IDs: three customers, two workers, four orders."""
    init(root)
    archive = Archive(root)
    people: list[Any] = []
    for model, entries in ((Worker, WORKERS), (Customer, CUSTOMERS)):
        for entry in entries:
            created = stamp(dt.date.fromisoformat(_day_of(entry["id"])))
            people.append(model.model_validate({**entry, "created": created, "updated": created}))
    save_new_bulk(archive, people, "test: customers and workers")
    orders = []
    for n, (customer, item, quantity, offset, time) in enumerate(ORDERS, 100):
        day = TODAY + dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time.fromisoformat(time), TZ)
        order, _ = build_order(
            archive,
            OrderRequest(
                customer,
                [(item, quantity)],
                start,
                channel="phone",
                at=stamp(TODAY - dt.timedelta(days=3)),
            ),
        )
        orders.append(order.model_copy(update={"id": fixed_id(n, TODAY - dt.timedelta(days=3))}))
    save_new_bulk(archive, orders, "test: orders")
    archive.index.close()
    return root


def _day_of(record_id: str) -> str:
    ms = 0
    for char in record_id[:10]:
        ms = ms * 32 + CROCKFORD.index(char)
    return dt.datetime.fromtimestamp(ms / 1000, TZ).date().isoformat()


@pytest.fixture(scope="module")
def built_office(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The office archive, built once for the module, and its key folder."""
    from tests.conftest import isolated_home

    with isolated_home(tmp_path_factory, "tui-office"):
        root = build_office(tmp_path_factory.mktemp("office") / "archive")
        return root, Archive(root).keyring.folder


@pytest.fixture
def office(built_office: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The office archive, with its key reachable from this test's home."""
    root, keys = built_office
    monkeypatch.setenv("HK_KEY_DIR", str(keys))
    return root


def app_on(root: Path, language: str = "zh_CN") -> HkApp:
    return make_app(root, today=TODAY, language=language, refresh_seconds=600)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every read has come back and been shown: the page says it is ready and no
    worker has been running for two rounds (a page starts its reads once it is mounted)."""
    from textual.worker import WorkerCancelled

    quiet = 0
    for _ in range(200):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # a newer refresh replaced it: wait for that one instead
            quiet = 0
            continue
        await pilot.pause(0.02)
        busy = any(w.is_running for w in pilot.app.workers)
        quiet = 0 if busy or not getattr(pilot.app.screen, "ready", True) else quiet + 1
        if quiet >= 2:
            return


def then(*keys: str, open_customer: str | None = None) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if open_customer:
            app = pilot.app
            assert isinstance(app, HkApp)
            app.open_record("customer", open_customer)
        await pilot.press(*keys)
        await settle(pilot)
        for box in pilot.app.screen.query(Input):  # a blinking cursor would differ by timing
            box.cursor_blink = False
        await pilot.pause()

    return run_before


def test_the_dashboard(office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(office), terminal_size=SIZE, run_before=then())


def test_the_customers_list(office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(office), terminal_size=SIZE, run_before=then("f3"))


def test_a_customer_page(office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(office), terminal_size=SIZE, run_before=then(open_customer=ZHANG))


def test_the_workers_list(office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(office), terminal_size=SIZE, run_before=then("f4"))


def test_the_customer_form(office: Path, snap_compare: Any) -> None:
    """张三 in the edit form: labels in a column, each input holding the record's value."""
    assert snap_compare(
        app_on(office), terminal_size=SIZE, run_before=then("e", open_customer=ZHANG)
    )


# --- the boards and the queue --------------------------------------------------------------------

PLACES = {
    "万科城": (30.6050, 104.0480),
    "望江苑": (30.6330, 104.0880),
    "天府软件园": (30.6120, 104.0720),
}


def build_busy_office(root: Path) -> Path:
    """The office a day into its work: tomorrow's orders confirmed and waiting for dispatch,
    its communities on the map, 王秀英's home too (she also cleans appliances now), and return
    visits owed (one overdue, one due today)."""
    from hk.services.orders.steps import confirm
    from hk.services.people import edit
    from hk.services.visits import schedule

    build_office(root)
    settings = root / "hk.toml"
    text = settings.read_text(encoding="utf-8")
    places = "".join(f'"{name}" = [{lat}, {lon}]\n' for name, (lat, lon) in PLACES.items())
    settings.write_text(
        text.replace("\n[dispatch.places]", f"\n[dispatch.places]\n{places}", 1), encoding="utf-8"
    )
    archive = Archive(root)
    edit(
        archive,
        "worker",
        WANG,
        {
            "home": {
                "city": "成都市",
                "district": "武侯区",
                "community": "桐梓林",
                "detail": "5栋",
                "lat": 30.6180,
                "lon": 104.0700,
            },
            "skills": [*WORKERS[0]["skills"], {"name": "家电清洗"}],
        },
    )
    at = stamp(TODAY - dt.timedelta(days=1))
    for n in (102, 103):  # tomorrow's orders (ORDERS)
        confirm(archive, fixed_id(n, TODAY - dt.timedelta(days=3)), at=at)
    schedule(archive, ZHANG, "renewal", TODAY - dt.timedelta(days=2), "续约前沟通", at=at)
    schedule(archive, LI, "periodic", TODAY, "季度回访", at=at)
    archive.index.close()
    return root


@pytest.fixture(scope="module")
def busy_office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import isolated_home

    with isolated_home(tmp_path_factory, "tui-busy-office"):
        return build_busy_office(tmp_path_factory.mktemp("busy") / "archive")


def test_the_dispatch_board_with_a_plan(busy_office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(busy_office), terminal_size=SIZE, run_before=then("f6"))


def test_the_order_board_over_the_week(busy_office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(busy_office), terminal_size=SIZE, run_before=then("f7", "d", "d"))


def test_the_queue_of_visits_and_reminders(busy_office: Path, snap_compare: Any) -> None:
    assert snap_compare(app_on(busy_office), terminal_size=SIZE, run_before=then("f8"))
