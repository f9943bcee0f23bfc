"""Reports (数据分析, SPEC §6): each report's numbers on a small archive built here, through the
same services the commands call, at pinned times; every expected number is worked out by hand
below from the orders listed in :func:`shop`.

The shop, March 2025 (the period) and February (the period before):

=====  ========  ======  ===========  =======  =========================================
order  customer  worker  day          channel  what happened
=====  ========  ======  ===========  =======  =========================================
o1     A 黄金    W1      02-20 09:00  phone    served on time, settled           131.10
o2     A 黄金    W1      03-03 09:00  phone    started 09:05, completed, rated 5s 131.10
o3     A 黄金    W2      03-17 09:00  wechat   started 09:30 (late), rated 3/4/2/3/3,
                                               settled; a complaint about it     131.10
o4     B 白银    W1      03-10 14:00  wechat   on time, rated 4s, settled        138.00
o5     C —       —       03-20 09:00  phone    cancelled 2 hours before: fee 50.00
o6     B 白银    —       03-25 10:00  phone    pending
o7     B 白银    —       04-02 10:00  phone    pending (after the period)
=====  ========  ======  ===========  =======  =========================================

BJ-DAILY is 138.00 a visit; 黄金 takes 5 % off (131.10), 白银 nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hk.services.reports.compute import (
    channels,
    customers,
    funnel,
    quality,
    retention,
    revenue,
    satisfaction,
    workers,
)
from hk.services.reports.facts import order_row
from hk.services.reports.model import Filters, Period
from hk.services.reports.month import month_figures
from hk.store.archive import Archive
from hk.textwidth import cell_len
from tests.conftest import HK_BIN, isolated_home

TZ = ZoneInfo("Asia/Shanghai")
MARCH = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 31))
SCORES = ("quality", "attitude", "hygiene", "punctuality", "overall")


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2025-{day}T{time}").replace(tzinfo=TZ)


@dataclass
class Shop:
    archive: Archive
    w1: str
    w2: str
    w1_label: str
    w2_label: str


def _customer(archive: Archive, name: str, created: str, **fields: object) -> str:
    from hk.services.people import add_customer

    customer, _ = add_customer(
        archive,
        {
            "name": name,
            "phones": ["13800138000"],
            "created": at(created, "10:00"),
            "updated": at(created, "10:00"),
            **fields,
        },
    )
    return customer.id


def _address(district: str) -> list[dict[str, str]]:
    return [{"city": "成都市", "district": district, "community": "万科城", "detail": "1栋101"}]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    from hk.services.archive import init
    from hk.services.complaints import ComplaintIn, open_complaint
    from hk.services.orders import aftercare, money, steps
    from hk.services.orders.money import PaymentIn
    from hk.services.people import add_worker

    with isolated_home(tmp_path_factory, "reports"):
        root = tmp_path_factory.mktemp("reports") / "archive"
        init(root)
        archive = Archive(root)
        a = _customer(
            archive,
            "张三",
            "01-10",
            tier="黄金",
            channel="老客户介绍",
            category="家庭保洁",
            addresses=_address("武侯区"),
        )
        b = _customer(
            archive,
            "李四",
            "03-05",
            tier="白银",
            channel="线上推广",
            category="钟点工",
            addresses=_address("锦江区"),
        )
        c = _customer(
            archive,
            "王五",
            "03-06",
            channel="门店",
            category="家庭保洁",
            addresses=_address("武侯区"),
        )
        worker = {"gender": "女", "birth_year": 1978, "skills": [{"name": "保洁", "level": 4}]}
        w1, _ = add_worker(archive, {"name": "王秀英", **worker})
        w2, _ = add_worker(archive, {"name": "李桂芳", **worker})

        def order(customer: str, start: dt.datetime, channel: str = "phone") -> str:
            request = steps.OrderRequest(
                customer,
                [("BJ-DAILY", None)],
                start,
                channel=channel,
                at=start - dt.timedelta(days=3),
            )
            return steps.new_order(archive, request).order.id

        def served(
            customer: str,
            start: dt.datetime,
            worker: str,
            late: int = 0,
            channel: str = "phone",
            scores: tuple[int, ...] = (),
            nps: int | None = None,
            settle: bool = True,
        ) -> str:
            ref = order(customer, start, channel)
            steps.confirm(archive, ref, at=start - dt.timedelta(days=2))
            steps.assign(
                archive, ref, [worker], force=True, reason="测试", at=start - dt.timedelta(days=1)
            )
            began = start + dt.timedelta(minutes=late)
            steps.start(archive, ref, at=began)
            steps.finish(archive, ref, all_ok=True, at=began + dt.timedelta(hours=3))
            if scores:
                aftercare.rate(
                    archive,
                    ref,
                    dict(zip(SCORES, scores, strict=True)),
                    nps,
                    at=began + dt.timedelta(hours=4),
                )
            if settle:
                money.settle(
                    archive,
                    ref,
                    [PaymentIn("final", "wechat")],
                    at=began + dt.timedelta(hours=5),
                )
            return ref

        served(a, at("02-20", "09:00"), w1.id)
        served(a, at("03-03", "09:00"), w1.id, late=5, scores=(5, 5, 5, 5, 5), nps=10, settle=False)
        o3 = served(
            a, at("03-17", "09:00"), w2.id, late=30, channel="wechat", scores=(3, 4, 2, 3, 3), nps=6
        )
        served(b, at("03-10", "14:00"), w1.id, channel="wechat", scores=(4, 4, 4, 4, 4), nps=8)
        o5 = order(c, at("03-20", "09:00"))
        money.cancel(archive, o5, "客户有事", at=at("03-20", "07:00"))
        order(b, at("03-25", "10:00"))
        order(b, at("04-02", "10:00"))
        open_complaint(
            archive,
            ComplaintIn("punctuality", "迟到半小时", received_at=at("03-17", "18:00")),
            order=o3,
            at=at("03-17", "18:00"),
        )
        codes = {r["id"]: r["code"] for r in archive.index.list("worker")}
        yield Shop(archive, w1.id, w2.id, f"{codes[w1.id]} 王秀英", f"{codes[w2.id]} 李桂芳")


def values(report: object) -> dict[str, object]:
    return {f.key: f.value for f in report.figures}  # type: ignore[attr-defined]


def previous(report: object) -> dict[str, object]:
    return {f.key: f.previous for f in report.figures}  # type: ignore[attr-defined]


# --- periods -----------------------------------------------------------------------------------


def test_the_period_before_is_as_long() -> None:
    assert MARCH.previous() == Period(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    year = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert year.previous() == Period(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    ten = Period(dt.date(2025, 3, 5), dt.date(2025, 3, 14))
    assert ten.previous() == Period(dt.date(2025, 2, 23), dt.date(2025, 3, 4))
    weeks = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 16), "week").buckets()
    assert weeks == ["2025-02-24", "2025-03-03", "2025-03-10"]


def test_an_order_row_counts_deposit_refund_and_lateness() -> None:
    data = {
        "status": "settled",
        "customer": "C1",
        "channel": "phone",
        "window": {"start": "2025-03-01T09:00:00+08:00", "end": "2025-03-01T12:00:00+08:00"},
        "lines": [{"service": "BJ-DAILY", "amount_fen": 13800, "package_visits": 0}],
        "total_fen": 13800,
        "deposit_fen": 3000,
        "payments": [
            {"kind": "deposit", "amount_fen": 3000},
            {"kind": "final", "amount_fen": 10800},
            {"kind": "refund", "amount_fen": 800},
        ],
        "events": [
            {"at": "2025-03-01T09:16:00+08:00", "to_status": "in_service"},
            {"at": "2025-03-01T11:46:00+08:00", "to_status": "completed"},
        ],
        "checklist": [{"item": "a", "passed": True}, {"item": "b", "passed": False}],
    }
    row = dict(
        zip(
            [
                "day",
                "status",
                "cancelled_from",
                "customer",
                "channel",
                "service",
                "services",
                "workers",
                "package",
                "contract",
                "rework",
                "district",
                "community",
                "total_fen",
                "discount_fen",
                "deposit_fen",
                "deposit_paid_fen",
                "received_fen",
                "refund_fen",
                "fee_fen",
                "fee_paid_fen",
                "minutes",
                "on_time",
                "checks",
                "checks_passed",
            ],
            order_row(data),
            strict=False,
        )
    )
    assert row["deposit_paid_fen"] == 3000
    assert row["received_fen"] == 13800
    assert row["refund_fen"] == 800
    assert row["minutes"] == 150  # as worked, not as booked
    assert row["on_time"] == 0  # 16 minutes late: past the 15 minutes' grace
    assert (row["checks"], row["checks_passed"]) == (2, 1)


# --- the reports -------------------------------------------------------------------------------


def test_revenue(shop: Shop) -> None:
    report = revenue(shop.archive, MARCH)
    assert values(report) == {
        "revenue_fen": 13110 + 13110 + 13800,
        "refund_fen": 0,
        "fee_fen": 5000,
        "net_fen": 40020 + 5000,
        "served": 3,
        "average_fen": 13340,
        "cancelled": 1,
    }
    assert previous(report)["revenue_fen"] == 13110
    assert previous(report)["served"] == 1
    assert report.figure("revenue_fen").change == pytest.approx(40020 / 13110 - 1)
    assert [(r["bucket"], r["revenue_fen"]) for r in report.table("by_month").rows] == [
        ("2025-03", 40020)
    ]
    assert [
        (r["group"], r["served"], r["revenue_fen"]) for r in report.table("by_channel").rows
    ] == [
        ("微信", 2, 26910),
        ("电话", 1, 13110),
    ]
    assert [(r["group"], r["revenue_fen"]) for r in report.table("by_tier").rows] == [
        ("黄金", 26220),
        ("白银", 13800),
    ]
    service = report.table("by_service").rows
    assert [(r["orders"], r["revenue_fen"], r["share"]) for r in service] == [(3, 40020, 1.0)]
    assert "退款" in report.footnote and "取消" in report.footnote


def test_revenue_by_week_and_filtered(shop: Shop) -> None:
    weekly = revenue(shop.archive, Period(MARCH.start, MARCH.end, "week"))
    rows = {r["bucket"]: r["revenue_fen"] for r in weekly.table("by_week").rows}
    assert rows["2025-03-03"] == 13110
    assert rows["2025-03-10"] == 13800
    assert rows["2025-03-17"] == 13110
    assert rows["2025-03-24"] == 0
    for filters, expected in (
        (Filters(tier="黄金"), 26220),
        (Filters(worker=shop.w1), 26910),
        (Filters(channel="wechat"), 26910),
        (Filters(district="锦江区"), 13800),
        (Filters(service="BJ-HOURLY"), 0),
    ):
        assert values(revenue(shop.archive, MARCH, filters))["revenue_fen"] == expected, filters


def test_funnel(shop: Shop) -> None:
    report = funnel(shop.archive, MARCH)
    assert values(report) == {
        "orders": 5,
        "booked": 4,
        "served": 3,
        "cancelled": 1,
        "completion": 0.6,
    }
    steps = [(r["reached"], r["dropped"]) for r in report.table("steps").rows]
    # pending, confirmed, to_dispatch, dispatched, in_service, completed, settled
    assert steps == [(5, 0), (3, 2), (3, 0), (3, 0), (3, 0), (3, 0), (2, 1)]


def test_customers(shop: Shop) -> None:
    report = customers(shop.archive, MARCH)
    assert values(report) == {
        "customers": 3,
        "added": 2,
        "ordering": 2,
        "new": 1,
        "returning": 1,
    }
    assert previous(report) == {
        "customers": 1,
        "added": 0,
        "ordering": 1,
        "new": 1,
        "returning": 0,
    }
    tiers = {r["group"]: r["customers"] for r in report.table("by_tier").rows}
    assert tiers == {"黄金": 1, "白银": 1, "（无等级）": 1}
    districts = {r["group"]: (r["customers"], r["added"]) for r in report.table("by_district").rows}
    assert districts == {"武侯区": (2, 1), "锦江区": (1, 1)}
    assert report.table("by_stage").total["customers"] == 3  # type: ignore[index]


def test_retention(shop: Shop) -> None:
    report = retention(shop.archive, MARCH)
    assert values(report) == {
        "customers": 2,
        "repeat": 2,
        "repeat_rate": 1.0,
        "per_customer": 2.0,
        "interval_days": 14.5,  # A: 03-03 → 03-17, B: 03-10 → 03-25
    }
    (row,) = report.table("frequency").rows
    assert (row["orders"], row["customers"], row["repeat_rate"]) == (4, 2, 1.0)
    both = retention(shop.archive, Period(dt.date(2025, 2, 1), MARCH.end))
    assert both.table("cohorts").rows == [
        {"cohort": "2025-02", "size": 1, "m0": 1.0, "m1": 1.0},
        {"cohort": "2025-03", "size": 1, "m0": 1.0},
    ]


def test_workers(shop: Shop) -> None:
    report = workers(shop.archive, MARCH)
    assert values(report) == {
        "workers": 2,
        "hours": 9.0,
        "rating": 4.0,
        "on_time": pytest.approx(2 / 3),
        "complaints": 1,
    }
    assert report.table("workers").rows == [
        {
            "worker": shop.w1_label,
            "orders": 2,
            "hours": 6.0,
            "revenue_fen": 26910,
            "rating": 4.5,
            "on_time": 1.0,
            "complaints": 0,
            "repeat": 0,
        },
        {
            "worker": shop.w2_label,
            "orders": 1,
            "hours": 3.0,
            "revenue_fen": 13110,
            "rating": 3.0,
            "on_time": 0.0,
            "complaints": 1,
            "repeat": 0,
        },
    ]


def test_satisfaction(shop: Shop) -> None:
    report = satisfaction(shop.archive, MARCH)
    assert values(report) == {
        "responses": 3,
        "quality": 4.0,
        "attitude": pytest.approx(13 / 3),
        "hygiene": pytest.approx(11 / 3),
        "punctuality": 4.0,
        "overall": 4.0,
        "nps": 0,  # 10, 6, 8: one promoter, one detractor
    }
    by_worker = {
        r["worker"]: (r["responses"], r["overall"], r["low"], r["nps"])
        for r in report.table("by_worker").rows
    }
    assert by_worker == {shop.w1_label: (2, 4.5, 0, 50), shop.w2_label: (1, 3.0, 1, -100)}


def test_quality(shop: Shop) -> None:
    report = quality(shop.archive, MARCH)
    found = values(report)
    assert found["on_time"] == pytest.approx(2 / 3)
    assert found["deposit"] is None  # no order asked for a deposit
    assert found["checklist"] == 1.0
    assert found["visits"] == 0.0  # the low score's visit, due 03-18, not made
    assert found["complaint_rate"] == pytest.approx(1 / 3)
    assert found["repeat_rate"] == 1.0
    w2 = next(r for r in report.table("by_worker").rows if r["worker"] == shop.w2_label)
    assert (w2["served"], w2["on_time"], w2["complaints"], w2["complaint_rate"]) == (1, 0.0, 1, 1.0)


def test_channels(shop: Shop) -> None:
    report = channels(shop.archive, MARCH)
    assert values(report) == {"new": 1, "repeat_90": 1.0, "retention": 1.0}
    rows = {
        r["channel"]: (r["new"], r["ordering"], r["revenue_fen"])
        for r in report.table("channels").rows
    }
    assert rows == {"老客户介绍": (0, 1, 26220), "线上推广": (1, 1, 13800)}


def test_the_dashboard_shows_the_reports_figures(shop: Shop) -> None:
    month = month_figures(shop.archive, dt.date(2025, 3, 12))
    assert (month.orders, month.cancelled, month.revenue_fen) == (4, 1, 40020)
    assert (month.surveys, month.satisfaction, month.nps, month.new_customers) == (3, 4.0, 0, 2)
    assert month.revenue_fen == values(revenue(shop.archive, MARCH))["revenue_fen"]
    assert month.nps == values(satisfaction(shop.archive, MARCH))["nps"]


def test_a_changed_order_is_counted_again(shop: Shop) -> None:
    """The fact tables follow the index: an order confirmed since the last report moves on.
    (April's order: no other test reads April.)"""
    from hk.services.orders import steps

    april = Period(dt.date(2025, 4, 1), dt.date(2025, 4, 30))
    assert [r["reached"] for r in funnel(shop.archive, april).table("steps").rows][:2] == [1, 0]
    (o7,) = shop.archive.index.list("order", day_from="2025-04-02", day_to="2025-04-02")
    steps.confirm(shop.archive, o7["id"], at=at("03-30", "10:00"))
    assert [r["reached"] for r in funnel(shop.archive, april).table("steps").rows][:2] == [1, 1]


# --- the command -------------------------------------------------------------------------------


def run_hk(shop: Shop, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [HK_BIN, "--archive", str(shop.archive.root), "report", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_hk_report_prints_the_same_numbers(shop: Shop) -> None:
    found = json.loads(
        run_hk(shop, "revenue", "--from", "2025-03-01", "--to", "2025-03-31", "--json").stdout
    )
    figures = {f["key"]: (f["value"], f["previous"]) for f in found["figures"]}
    assert figures["revenue_fen"] == (40020, 13110)
    assert figures["fee_fen"] == (5000, 0)
    text = run_hk(shop, "all", "--from", "2025-03-01", "--to", "2025-03-31").stdout
    assert "营业额 ¥400.20 ↑205%" in text  # 400.20 against 131.10
    assert "净收入 ¥450.20" in text
    assert "王秀英" in text and "李桂芳" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    for title in (
        "营收",
        "订单漏斗",
        "客户构成",
        "复购与留存",
        "阿姨绩效",
        "满意度",
        "服务质量指标",
    ):
        assert f"{title}  2025-03-01 – 2025-03-31" in text


def test_hk_report_filters_and_csv(shop: Shop) -> None:
    wechat = run_hk(
        shop,
        "revenue",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--channel",
        "微信",
        "--json",
    ).stdout
    assert json.loads(wechat)["figures"][0]["value"] == 26910
    rows = list(
        csv.reader(
            io.StringIO(
                run_hk(
                    shop, "workers", "--from", "2025-03-01", "--to", "2025-03-31", "--csv"
                ).stdout.lstrip("\ufeff")
            )
        )
    )
    assert ["阿姨", "单数", "工时", "营业额(元)", "评分", "准时", "投诉", "回头客"] in rows
    assert [shop.w1_label, "2", "6.0", "269.10", "4.5", "1.0", "0", "0"] in rows


def test_hk_report_all_as_html(shop: Shop, tmp_path: Path) -> None:
    out = tmp_path / "月报.html"
    run_hk(
        shop,
        "all",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--format",
        "html",
        "--out",
        str(out),
    )
    page = out.read_text(encoding="utf-8")
    assert page.count("<section>") == 8
    assert "<svg" in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "counter(page)" in page and "size: A4" in page
    assert "营收" in page and "400.20" in page and "王秀英" in page


# --- exports -----------------------------------------------------------------------------------


def run_export(shop: Shop, *args: str) -> str:
    proc = subprocess.run(
        [HK_BIN, "--archive", str(shop.archive.root), "export", *args],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_export_orders_of_a_period(shop: Shop) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_export(shop, "orders", "--from", "2025-03-01", "--to", "2025-03-31").lstrip(
                    "\ufeff"
                )
            )
        )
    )
    assert [(r["预约日期"], r["状态"], r["金额(元)"], r["取消费(元)"]) for r in rows] == [
        ("2025-03-03", "服务完成", "131.10", "0.00"),
        ("2025-03-10", "已结算", "138.00", "0.00"),
        ("2025-03-17", "已结算", "131.10", "0.00"),
        ("2025-03-20", "已取消", "138.00", "50.00"),
        ("2025-03-25", "待确认", "138.00", "0.00"),
    ]
    assert rows[0]["阿姨"] == shop.w1_label
    assert rows[2]["渠道"] == "微信" and rows[2]["总体评分"] == "3"


def test_export_surveys_complaints_and_visits(shop: Shop, tmp_path: Path) -> None:
    surveys = json.loads(run_export(shop, "surveys", "--format", "json", "--from", "2025-03-01"))
    assert [(s["总体"], s["推荐意愿(NPS)"]) for s in surveys] == [(5, 10), (4, 8), (3, 6)]
    (complaint,) = json.loads(run_export(shop, "complaints", "--format", "json"))
    assert (complaint["类别"], complaint["阿姨"]) == ("迟到爽约", shop.w2_label)
    visits = json.loads(run_export(shop, "visits", "--format", "json", "--to", "2025-03-31"))
    assert [(v["到期日"], v["类型"], v["状态"]) for v in visits] == [
        ("2025-03-18", "低分回访", "待回访")
    ]
    out = tmp_path / "订单.xlsx"
    run_export(shop, "orders", "--out", str(out))
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet.title == "订单"
    assert sheet.max_row == 1 + 7
