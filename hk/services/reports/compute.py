"""The reports of SPEC §6, each a few grouped queries over the fact tables (:mod:`.facts`).

How things are counted (each report's footnote says the part that concerns it):

- An order belongs to the day of its appointment (the window's start). Revenue is the total
  of the orders that were served (completed or settled), whether paid yet or not; refunds
  given on them are shown apart and taken off in the net; a cancelled order brings no revenue,
  only the late-cancellation fee charged on it (取消费). Rework orders (返工) count like any
  other order; they are usually free, so they add orders but no revenue.
- Booked orders are every order of the period except cancelled ones.
- A customer is *new* in a period if her first order ever (cancelled ones apart) falls in it,
  *returning* if she ordered before.
- An arrival is on time when the service started (服务中) within 15 minutes of the window's
  start; orders never started are not counted.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import orjson

from hk.services.reports.facts import SEP, SERVED, facts
from hk.services.reports.model import (
    BUCKET_SQL,
    BUCKET_TITLE,
    REPORT_NAMES,
    Column,
    Figure,
    Filters,
    Period,
    Report,
    Table,
    add_months,
    ratio,
)

if TYPE_CHECKING:
    from hk.store.archive import Archive

NAMES = REPORT_NAMES
TITLES = {
    "revenue": "营收",
    "funnel": "订单漏斗",
    "customers": "客户构成",
    "retention": "复购与留存",
    "workers": "阿姨绩效",
    "satisfaction": "满意度",
    "quality": "服务质量指标",
    "channels": "渠道效果",
}
FUNNEL = ("pending", "confirmed", "to_dispatch", "dispatched", "in_service", "completed", "settled")
SERVED_SQL = "o.status IN ('completed', 'settled')"
BOOKED_SQL = "o.status != 'cancelled'"
REPEAT_WITHIN_DAYS = 90


# --- shared ------------------------------------------------------------------------------------


def order_where(period: Period, filters: Filters, alias: str = "o") -> tuple[str, list[Any]]:
    """``WHERE`` for the orders of ``period`` that ``filters`` keep."""
    sql = f"{alias}.day BETWEEN ? AND ?"
    args: list[Any] = [period.start.isoformat(), period.end.isoformat()]
    if filters.service:
        sql += f" AND instr({alias}.services, ?)"
        args.append(f"{SEP}{filters.service}{SEP}")
    if filters.worker:
        sql += f" AND instr({alias}.workers, ?)"
        args.append(f"{SEP}{filters.worker}{SEP}")
    for key in ("channel", "district", "community"):
        if getattr(filters, key):
            sql += f" AND {alias}.{key} = ?"
            args.append(getattr(filters, key))
    if filters.tier:
        sql += f" AND {alias}.customer IN (SELECT id FROM f_customer WHERE tier = ?)"
        args.append(filters.tier)
    return sql, args


def survey_where(period: Period, filters: Filters, alias: str = "s") -> tuple[str, list[Any]]:
    """``WHERE`` for the survey responses of ``period``: worker and service by the response,
    tier and district by the customer, channel by the order rated."""
    sql = f"{alias}.day BETWEEN ? AND ?"
    args: list[Any] = [period.start.isoformat(), period.end.isoformat()]
    if filters.service:
        sql += f" AND instr({alias}.services, ?)"
        args.append(f"{SEP}{filters.service}{SEP}")
    if filters.worker:
        sql += f" AND instr({alias}.workers, ?)"
        args.append(f"{SEP}{filters.worker}{SEP}")
    customer = []
    for key in ("tier", "district", "community"):
        if getattr(filters, key):
            customer.append(f"{key} = ?")
            args.append(getattr(filters, key))
    if customer:
        sql += (
            f" AND {alias}.customer IN (SELECT id FROM f_customer WHERE {' AND '.join(customer)})"
        )
    if filters.channel:
        sql += f" AND {alias}.order_id IN (SELECT id FROM f_order WHERE channel = ?)"
        args.append(filters.channel)
    return sql, args


def _one(db: sqlite3.Connection, sql: str, args: list[Any]) -> tuple[Any, ...]:
    row: tuple[Any, ...] = db.execute(sql, args).fetchone()
    return row


def _unpack(packed: str) -> list[str]:
    return [p for p in packed.split(SEP) if p]


class Labels:
    """Names for what the tables show: workers and customers by the index, codes by the domain."""

    def __init__(self, archive: Archive) -> None:
        from hk.services.lookup import Names

        self.names = Names(archive.index)
        self._services: dict[str, str] | None = None
        self.archive = archive

    def worker(self, record_id: str) -> str:
        return self.names(record_id)

    def service(self, code: str) -> str:
        if self._services is None:
            self._services = {
                row["code"] or "": row["name"] for row in self.archive.index.list("service")
            }
            self._services.update(
                {row["code"] or "": row["name"] for row in self.archive.index.list("package")}
            )
        name = self._services.get(code, "")
        return f"{code} {name}".strip() if name and name != code else code


def _channel_zh(code: str) -> str:
    from hk.domain.order.model import CHANNEL_ZH

    return CHANNEL_ZH.get(code, code or "—")


def _report(
    archive: Archive,
    name: str,
    period: Period,
    filters: Filters,
    figures: Callable[[sqlite3.Connection, Period], list[Figure]],
    tables: Callable[[sqlite3.Connection], list[Table]],
    footnote: str,
    kinds: tuple[str, ...] = ("order", "customer"),
) -> Report:
    """A report: its figures for the period and the one before, then its tables."""
    db, broken = facts(archive, kinds)
    previous = period.previous()
    now, before = figures(db, period), figures(db, previous)
    for fig, old in zip(now, before, strict=True):
        fig.previous = old.value
    return Report(
        name,
        TITLES[name],
        period,
        previous,
        filters,
        now,
        tables(db),
        footnote,
        broken,
    )


# --- revenue -----------------------------------------------------------------------------------

REVENUE_FOOTNOTE = (
    "营业额 = 期内预约、已完成或已结算订单的应收总额（含未收款）；退款单列并从净收入中扣除；"
    "已取消订单不计营业额，只计其迟取消费（取消费）；返工单按普通订单计入（通常为零元）。"
    "按服务项目拆分时用各行金额，整单优惠另列一行。"
)


def revenue(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """Revenue by period group, service, channel, package vs one-off and tier (SPEC §6)."""
    filters = filters or Filters()
    bucket = BUCKET_SQL[period.by].format(col="o.day")

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        where, args = order_where(p, filters)
        served, revenue_fen, refunds, cancelled, fees = _one(
            db,
            f"SELECT sum({SERVED_SQL}), sum(CASE WHEN {SERVED_SQL} THEN total_fen END),"
            f" sum(CASE WHEN {SERVED_SQL} THEN refund_fen END), sum(o.status = 'cancelled'),"
            f" sum(CASE WHEN o.status = 'cancelled' THEN fee_fen END) FROM f_order o WHERE {where}",
            args,
        )
        served, revenue_fen, refunds = served or 0, revenue_fen or 0, refunds or 0
        fees, cancelled = fees or 0, cancelled or 0
        return [
            Figure("revenue_fen", "营业额", "fen", revenue_fen),
            Figure("refund_fen", "退款", "fen", refunds),
            Figure("fee_fen", "取消费", "fen", fees),
            Figure("net_fen", "净收入", "fen", revenue_fen - refunds + fees),
            Figure("served", "完成订单", "count", served),
            Figure("average_fen", "客单价", "fen", round(revenue_fen / served) if served else None),
            Figure("cancelled", "取消订单", "count", cancelled),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        where, args = order_where(period, filters)
        by_bucket: dict[str, dict[str, Any]] = {
            b: {
                "bucket": b,
                "served": 0,
                "revenue_fen": 0,
                "refund_fen": 0,
                "cancelled": 0,
                "fee_fen": 0,
                "net_fen": 0,
            }
            for b in period.buckets()
        }
        for label, served, rev, refunds, cancelled, fees in db.execute(
            f"SELECT {bucket}, sum({SERVED_SQL}), sum(CASE WHEN {SERVED_SQL} THEN total_fen"
            f" ELSE 0 END), sum(CASE WHEN {SERVED_SQL} THEN refund_fen ELSE 0 END),"
            " sum(o.status = 'cancelled'), sum(CASE WHEN o.status = 'cancelled' THEN fee_fen"
            f" ELSE 0 END) FROM f_order o WHERE {where} GROUP BY 1",
            args,
        ):
            row = by_bucket.setdefault(label, {"bucket": label})
            row.update(
                served=served,
                revenue_fen=rev,
                refund_fen=refunds,
                cancelled=cancelled,
                fee_fen=fees,
                net_fen=rev - refunds + fees,
            )
        time_rows = list(by_bucket.values())
        money_cols = [
            Column("served", "完成单"),
            Column("revenue_fen", "营业额", "fen"),
            Column("refund_fen", "退款", "fen"),
            Column("cancelled", "取消单"),
            Column("fee_fen", "取消费", "fen"),
            Column("net_fen", "净收入", "fen"),
        ]
        out = [
            Table(
                "by_" + period.by,
                "按" + {"month": "月", "week": "周", "day": "日"}[period.by],
                [Column("bucket", BUCKET_TITLE[period.by], "text"), *money_cols],
                time_rows,
                _sum_rows(time_rows, [c.key for c in money_cols]),
                chart="revenue_fen",
            )
        ]
        labels = Labels(archive)
        services: Counter[str] = Counter()
        orders_of: Counter[str] = Counter()
        discounts = 0
        for lines, discount in db.execute(
            f"SELECT lines, discount_fen FROM f_order o WHERE {where} AND {SERVED_SQL}", args
        ):
            seen = set()
            for code, amount in orjson.loads(lines):
                services[code] += amount
                if code not in seen:
                    orders_of[code] += 1
                    seen.add(code)
            discounts += discount
        service_rows: list[dict[str, Any]] = [
            {"service": labels.service(code), "orders": orders_of[code], "revenue_fen": fen}
            for code, fen in services.most_common()
        ]
        if discounts:
            service_rows.append({"service": "整单优惠", "orders": None, "revenue_fen": -discounts})
        total = sum(r["revenue_fen"] for r in service_rows)
        for r in service_rows:
            r["share"] = ratio(r["revenue_fen"], total)
        out.append(
            Table(
                "by_service",
                "按服务项目",
                [
                    Column("service", "服务项目", "text"),
                    Column("orders", "完成单"),
                    Column("revenue_fen", "营业额", "fen"),
                    Column("share", "占比", "pct"),
                ],
                service_rows,
                {"service": "合计", "revenue_fen": total, "share": 1.0 if total else None},
                chart="revenue_fen",
            )
        )
        for name, title, expr, label in (
            ("by_channel", "按下单渠道", "o.channel", _channel_zh),
            ("by_package", "套餐与单次", "o.package", lambda v: "套餐" if v else "单次"),
            ("by_tier", "按会员等级", "coalesce(c.tier, '')", lambda v: v or "（无等级）"),
        ):
            rows: list[dict[str, Any]] = [
                {"group": label(key), "served": served, "revenue_fen": rev or 0}
                for key, served, rev in db.execute(
                    f"SELECT {expr}, count(*), sum(total_fen) FROM f_order o"
                    " LEFT JOIN f_customer c ON c.id = o.customer"
                    f" WHERE {where} AND {SERVED_SQL} GROUP BY 1 ORDER BY 3 DESC",
                    args,
                )
            ]
            total = sum(r["revenue_fen"] for r in rows)
            for r in rows:
                r["share"] = ratio(r["revenue_fen"], total)
            out.append(
                Table(
                    name,
                    title,
                    [
                        Column("group", title[1:] if title.startswith("按") else "类型", "text"),
                        Column("served", "完成单"),
                        Column("revenue_fen", "营业额", "fen"),
                        Column("share", "占比", "pct"),
                    ],
                    rows,
                    _sum_rows(rows, ["served", "revenue_fen"])
                    | {"group": "合计", "share": 1.0 if total else None},
                    chart="revenue_fen",
                )
            )
        return out

    return _report(archive, "revenue", period, filters, figures, tables, REVENUE_FOOTNOTE)


def _sum_rows(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    first = next(iter(rows[0])) if rows else "bucket"
    out: dict[str, Any] = {first: "合计"}
    for key in keys:
        out[key] = sum(r.get(key) or 0 for r in rows)
    return out


# --- funnel ------------------------------------------------------------------------------------

FUNNEL_FOOTNOTE = (
    "期内预约的全部订单（含已取消）。每一步为到达过该状态的订单数：未取消的订单按当前状态，"
    "已取消的订单按取消前的状态；流失 = 上一步到达数 − 本步到达数。"
)


def funnel(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """Order counts and the status funnel, pending → … → settled, with drop-off."""
    from hk.domain.order.status import STATUS_ZH

    filters = filters or Filters()
    bucket = BUCKET_SQL[period.by].format(col="o.day")

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        where, args = order_where(p, filters)
        total, booked, served, cancelled = _one(
            db,
            f"SELECT count(*), sum({BOOKED_SQL}), sum({SERVED_SQL}), sum(o.status = 'cancelled')"
            f" FROM f_order o WHERE {where}",
            args,
        )
        return [
            Figure("orders", "订单", "count", total),
            Figure("booked", "有效订单", "count", booked or 0),
            Figure("served", "完成订单", "count", served or 0),
            Figure("cancelled", "取消订单", "count", cancelled or 0),
            Figure("completion", "完成率", "pct", ratio(served or 0, total)),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        where, args = order_where(period, filters)
        reached: Counter[str] = Counter()
        total = 0
        for status, cancelled_from, n in db.execute(
            f"SELECT status, cancelled_from, count(*) FROM f_order o WHERE {where} GROUP BY 1, 2",
            args,
        ):
            total += n
            last = cancelled_from if status == "cancelled" else status
            if last in FUNNEL:
                for step in FUNNEL[: FUNNEL.index(last) + 1]:
                    reached[step] += n
        rows, before = [], total
        for step in FUNNEL:
            rows.append(
                {
                    "step": STATUS_ZH.get(step, step),
                    "reached": reached[step],
                    "dropped": before - reached[step],
                    "share": ratio(reached[step], total),
                }
            )
            before = reached[step]
        steps = Table(
            "steps",
            "状态漏斗",
            [
                Column("step", "状态", "text"),
                Column("reached", "到达"),
                Column("dropped", "流失"),
                Column("share", "占全部", "pct"),
            ],
            rows,
            chart="reached",
        )
        by_bucket = {
            b: {"bucket": b, "orders": 0, "served": 0, "cancelled": 0} for b in period.buckets()
        }
        for label, n, served, cancelled in db.execute(
            f"SELECT {bucket}, count(*), sum({SERVED_SQL}), sum(o.status = 'cancelled')"
            f" FROM f_order o WHERE {where} GROUP BY 1",
            args,
        ):
            by_bucket[label] = {
                "bucket": label,
                "orders": n,
                "served": served,
                "cancelled": cancelled,
            }
        time_rows = list(by_bucket.values())
        over_time = Table(
            "by_" + period.by,
            "订单数",
            [
                Column("bucket", BUCKET_TITLE[period.by], "text"),
                Column("orders", "订单"),
                Column("served", "完成"),
                Column("cancelled", "取消"),
            ],
            time_rows,
            _sum_rows(time_rows, ["orders", "served", "cancelled"]),
            chart="orders",
        )
        return [steps, over_time]

    return _report(archive, "funnel", period, filters, figures, tables, FUNNEL_FOOTNOTE)


# --- customers ---------------------------------------------------------------------------------

CUSTOMERS_FOOTNOTE = (
    "构成按期末在册的客户（档案建立日不晚于期末）；有订单筛选条件时只计期内有相符订单的客户。"
    "阶段为期末当天的生命周期阶段。新客 = 首次下单（不计已取消）在期内；老客 = 此前下过单。"
)


def first_orders(db: sqlite3.Connection) -> dict[str, str]:
    """Each customer's first order day, cancelled orders apart."""
    return dict(
        db.execute("SELECT customer, min(day) FROM f_order WHERE status != 'cancelled' GROUP BY 1")
    )


def customers(
    archive: Archive, period: Period, filters: Filters | None = None, today: dt.date | None = None
) -> Report:
    """Composition (category, acquisition channel, tier, stage, district), new vs returning."""
    from hk.domain.stage import STAGE_ZH
    from hk.services.stages import stages, today_of

    filters = filters or Filters()
    order_filters = any((filters.service, filters.worker, filters.channel))
    day = min(period.end, today or today_of(archive))

    def population(db: sqlite3.Connection, p: Period) -> tuple[str, list[Any]]:
        sql, args = "c.created <= ?", [p.end.isoformat()]
        for key in ("tier", "district", "community"):
            if getattr(filters, key):
                sql += f" AND c.{key} = ?"
                args.append(getattr(filters, key))
        if order_filters:
            where, more = order_where(p, filters)
            sql += f" AND c.id IN (SELECT customer FROM f_order o WHERE {where})"
            args += more
        return sql, args

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        sql, args = population(db, p)
        on_record, added = _one(
            db,
            f"SELECT count(*), sum(c.created >= ?) FROM f_customer c WHERE {sql}",
            [p.start.isoformat(), *args],
        )
        new, returning = _new_returning(db, p, filters)
        return [
            Figure("customers", "在册客户", "count", on_record),
            Figure("added", "新建档案", "count", added or 0),
            Figure("ordering", "下单客户", "count", new + returning),
            Figure("new", "新客", "count", new),
            Figure("returning", "老客", "count", returning),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        sql, args = population(db, period)
        rows = db.execute(
            f"SELECT c.id, c.category, c.channel, c.tier, c.district, c.created >= ?"
            f" FROM f_customer c WHERE {sql}",
            [period.start.isoformat(), *args],
        ).fetchall()
        stage_of = stages(archive, day)
        out = []
        for name, title, pick in (
            ("by_category", "按类别", lambda r: r[1] or "（未填）"),
            ("by_channel", "按获客渠道", lambda r: r[2] or "（未填）"),
            ("by_tier", "按会员等级", lambda r: r[3] or "（无等级）"),
            ("by_stage", "按生命周期阶段", lambda r: STAGE_ZH.get(stage_of.get(r[0], "lead"), "")),
            ("by_district", "按区域", lambda r: r[4] or "（未填）"),
        ):
            counts: Counter[str] = Counter()
            added: Counter[str] = Counter()
            for r in rows:
                counts[pick(r)] += 1
                added[pick(r)] += r[5]
            table_rows = [
                {"group": g, "customers": n, "share": ratio(n, len(rows)), "added": added[g]}
                for g, n in counts.most_common()
            ]
            out.append(
                Table(
                    name,
                    title,
                    [
                        Column("group", title[1:], "text"),
                        Column("customers", "客户"),
                        Column("share", "占比", "pct"),
                        Column("added", "期内新建"),
                    ],
                    table_rows,
                    {
                        "group": "合计",
                        "customers": len(rows),
                        "share": 1.0 if rows else None,
                        "added": sum(r[5] for r in rows),
                    },
                    chart="customers",
                )
            )
        firsts = first_orders(db)
        where, args2 = order_where(period, filters)
        by_bucket: dict[str, dict[str, Any]] = {
            b: {"bucket": b, "new": 0, "returning": 0} for b in period.buckets()
        }
        for customer, first_day in db.execute(
            f"SELECT customer, min(day) FROM f_order o WHERE {where} AND {BOOKED_SQL} GROUP BY 1",
            args2,
        ):
            label = period.bucket(dt.date.fromisoformat(first_day))
            key = (
                "new"
                if firsts.get(customer, first_day) >= period.start.isoformat()
                else "returning"
            )
            by_bucket[label][key] += 1
        time_rows = list(by_bucket.values())
        out.append(
            Table(
                "new_returning",
                "新客与老客（按期内首单）",
                [
                    Column("bucket", BUCKET_TITLE[period.by], "text"),
                    Column("new", "新客"),
                    Column("returning", "老客"),
                ],
                time_rows,
                _sum_rows(time_rows, ["new", "returning"]),
                chart="new",
            )
        )
        return out

    return _report(
        archive,
        "customers",
        period,
        filters,
        figures,
        tables,
        CUSTOMERS_FOOTNOTE,
        ("order", "customer"),
    )


def _new_returning(db: sqlite3.Connection, p: Period, filters: Filters) -> tuple[int, int]:
    """Customers ordering in ``p``: those whose first order ever is in it, and the others."""
    where, args = order_where(p, filters)
    new, returning = _one(
        db,
        "SELECT sum(f.first >= ?), sum(f.first < ?) FROM"
        f" (SELECT DISTINCT customer FROM f_order o WHERE {where} AND {BOOKED_SQL}) AS d"
        " JOIN (SELECT customer, min(day) AS first FROM f_order WHERE status != 'cancelled'"
        " GROUP BY customer) AS f ON f.customer = d.customer",
        [p.start.isoformat(), p.start.isoformat(), *args],
    )
    return new or 0, returning or 0


# --- retention ---------------------------------------------------------------------------------

RETENTION_FOOTNOTE = (
    "不计已取消订单。复购客户 = 期内下单两次及以上；"
    "下单间隔 = 同一客户期内相邻两单预约日之差的平均。"
    "留存表：按首单月份分组（首单在期内的客户），"
    "第 N 月 = 首单后第 N 个月仍下单的客户占该组的比例，"
    "未到的月份留空。"
)


def retention(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """Service frequency, repeat rate, order interval and the cohort retention triangle."""
    filters = filters or Filters()

    def per_customer(db: sqlite3.Connection, p: Period) -> dict[str, list[str]]:
        where, args = order_where(p, filters)
        days: dict[str, list[str]] = defaultdict(list)
        for customer, day in db.execute(
            f"SELECT customer, day FROM f_order o WHERE {where} AND {BOOKED_SQL} ORDER BY 1, 2",
            args,
        ):
            days[customer].append(day)
        return days

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        days = per_customer(db, p)
        orders = sum(len(d) for d in days.values())
        repeat = sum(1 for d in days.values() if len(d) >= 2)
        gaps = [
            (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days
            for d in days.values()
            for a, b in pairwise(d)
        ]
        return [
            Figure("customers", "下单客户", "count", len(days)),
            Figure("repeat", "复购客户", "count", repeat),
            Figure("repeat_rate", "复购率", "pct", ratio(repeat, len(days))),
            Figure("per_customer", "人均单数", "ratio", ratio(orders, len(days))),
            Figure("interval_days", "平均下单间隔(天)", "days", ratio(sum(gaps), len(gaps))),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        where, args = order_where(period, filters)
        labels = Labels(archive)
        by_service: dict[str, Counter[str]] = defaultdict(Counter)
        for services, customer in db.execute(
            f"SELECT services, customer FROM f_order o WHERE {where} AND {BOOKED_SQL}", args
        ):
            for code in _unpack(services):
                by_service[code][customer] += 1
        rows = []
        for code, counts in sorted(by_service.items(), key=lambda kv: -sum(kv[1].values())):
            n = sum(counts.values())
            repeat = sum(1 for c in counts.values() if c >= 2)
            rows.append(
                {
                    "service": labels.service(code),
                    "orders": n,
                    "customers": len(counts),
                    "per_customer": n / len(counts),
                    "repeat_rate": repeat / len(counts),
                }
            )
        frequency = Table(
            "frequency",
            "服务频次",
            [
                Column("service", "服务项目", "text"),
                Column("orders", "订单"),
                Column("customers", "客户"),
                Column("per_customer", "人均单数", "ratio"),
                Column("repeat_rate", "复购率", "pct"),
            ],
            rows,
            chart="orders",
        )
        return [frequency, cohorts(db, period, filters)]

    return _report(archive, "retention", period, filters, figures, tables, RETENTION_FOOTNOTE)


def cohorts(db: sqlite3.Connection, period: Period, filters: Filters) -> Table:
    """Customers by month of first order (in the period) × months since: the share ordering."""
    firsts = first_orders(db)
    start, end = period.start.isoformat(), period.end.isoformat()
    where, args = order_where(Period(period.start, period.end), filters)
    active: dict[str, set[str]] = defaultdict(set)
    for customer, month in db.execute(
        f"SELECT DISTINCT customer, substr(day, 1, 7) FROM f_order o WHERE {where}"
        f" AND {BOOKED_SQL}",
        args,
    ):
        if start <= firsts.get(customer, "") <= end:
            active[customer].add(month)
    groups: dict[str, list[str]] = defaultdict(list)
    for customer in active:
        groups[firsts[customer][:7]].append(customer)
    last = period.end.isoformat()[:7]
    months = sorted(groups)
    width = 0
    rows = []
    for month in months:
        first = dt.date.fromisoformat(month + "-01")
        row: dict[str, Any] = {"cohort": month, "size": len(groups[month])}
        k = 0
        while add_months(first, k).isoformat()[:7] <= last:
            label = add_months(first, k).isoformat()[:7]
            row[f"m{k}"] = ratio(
                sum(1 for c in groups[month] if label in active[c]), len(groups[month])
            )
            k += 1
        width = max(width, k)
        rows.append(row)
    columns = [Column("cohort", "首单月", "text"), Column("size", "客户")]
    columns += [Column(f"m{k}", f"+{k}月", "pct") for k in range(width)]
    return Table("cohorts", "留存（按首单月）", columns, rows)


# --- workers -----------------------------------------------------------------------------------

WORKERS_FOOTNOTE = (
    "期内完成（已完成或已结算）的订单；多名阿姨共做的订单，单数、工时和营业额计入每一位。"
    "工时按开始到完成的记录，没有记录时按预计时长。评分 = 期内点名该阿姨的满意度调查的总体分平均；"
    "准时 = 开始服务不晚于预约开始 15 分钟；投诉 = 期内收到的针对该阿姨的投诉；"
    "回头客 = 期内由她服务两次及以上的客户。"
)


def workers(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """Per worker: orders, hours, revenue, rating, on-time rate, complaints, repeat customers."""
    filters = filters or Filters()

    def gather(db: sqlite3.Connection, p: Period) -> dict[str, dict[str, Any]]:
        where, args = order_where(p, filters)
        out: dict[str, dict[str, Any]] = {}

        def of(worker: str) -> dict[str, Any]:
            return out.setdefault(
                worker,
                {
                    "orders": 0,
                    "minutes": 0,
                    "revenue_fen": 0,
                    "started": 0,
                    "on_time": 0,
                    "customers": Counter(),
                    "scores": [],
                    "complaints": 0,
                },
            )

        for packed, total, minutes, on_time, customer in db.execute(
            f"SELECT workers, total_fen, minutes, on_time, customer FROM f_order o"
            f" WHERE {where} AND {SERVED_SQL}",
            args,
        ):
            for worker in _unpack(packed):
                w = of(worker)
                w["orders"] += 1
                w["minutes"] += minutes or 0
                w["revenue_fen"] += total
                if on_time is not None:
                    w["started"] += 1
                    w["on_time"] += on_time
                w["customers"][customer] += 1
        swhere, sargs = survey_where(p, filters)
        for packed, overall in db.execute(
            f"SELECT workers, overall FROM f_survey s WHERE {swhere}", sargs
        ):
            for worker in _unpack(packed):
                if worker in out or not filters.any():
                    of(worker)["scores"].append(overall)
        for (worker,) in db.execute(
            "SELECT worker FROM f_complaint WHERE day BETWEEN ? AND ? AND worker IS NOT NULL",
            [p.start.isoformat(), p.end.isoformat()],
        ):
            if worker in out or not filters.any():
                of(worker)["complaints"] += 1
        if filters.worker:
            out = {k: v for k, v in out.items() if k == filters.worker}
        return out

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        found = gather(db, p)
        scores = [s for w in found.values() for s in w["scores"]]
        started = sum(w["started"] for w in found.values())
        return [
            Figure("workers", "出勤阿姨", "count", sum(1 for w in found.values() if w["orders"])),
            Figure("hours", "服务工时", "hours", sum(w["minutes"] for w in found.values()) / 60),
            Figure("rating", "平均评分", "score", ratio(sum(scores), len(scores))),
            Figure(
                "on_time",
                "准时率",
                "pct",
                ratio(sum(w["on_time"] for w in found.values()), started),
            ),
            Figure("complaints", "投诉", "count", sum(w["complaints"] for w in found.values())),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        labels = Labels(archive)
        rows = []
        for worker, w in gather(db, period).items():
            rows.append(
                {
                    "worker": labels.worker(worker),
                    "orders": w["orders"],
                    "hours": w["minutes"] / 60,
                    "revenue_fen": w["revenue_fen"],
                    "rating": ratio(sum(w["scores"]), len(w["scores"])),
                    "on_time": ratio(w["on_time"], w["started"]),
                    "complaints": w["complaints"],
                    "repeat": sum(1 for n in w["customers"].values() if n >= 2),
                }
            )
        rows.sort(key=lambda r: (-r["revenue_fen"], r["worker"]))
        return [
            Table(
                "workers",
                "阿姨绩效",
                [
                    Column("worker", "阿姨", "text"),
                    Column("orders", "单数"),
                    Column("hours", "工时", "hours"),
                    Column("revenue_fen", "营业额", "fen"),
                    Column("rating", "评分", "score"),
                    Column("on_time", "准时", "pct"),
                    Column("complaints", "投诉"),
                    Column("repeat", "回头客"),
                ],
                rows,
                _sum_rows(rows, ["orders", "hours", "revenue_fen", "complaints", "repeat"])
                | {"worker": "合计"},
                chart="revenue_fen",
            )
        ]

    return _report(
        archive,
        "workers",
        period,
        filters,
        figures,
        tables,
        WORKERS_FOOTNOTE,
        ("order", "customer", "survey", "complaint"),
    )


# --- satisfaction ------------------------------------------------------------------------------

SATISFACTION_FOOTNOTE = (
    "期内收到的满意度调查（订单评价与回访评分），各维度 1–5 分取平均；低分 = 2 分及以下。"
    "NPS = 推荐者（9–10）占比 − 贬损者（0–6）占比，×100，只计回答了推荐意愿的调查。"
)


def nps_of(values: list[int]) -> int | None:
    """Net promoter score: % promoters (9–10) less % detractors (0–6), rounded."""
    if not values:
        return None
    promoters = sum(1 for n in values if n >= 9)
    detractors = sum(1 for n in values if n <= 6)
    return round(100 * (promoters - detractors) / len(values))


def satisfaction(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """Scores per dimension, NPS, by period group, by worker and by service."""
    from hk.domain.survey import DIMENSION_ZH, DIMENSIONS

    filters = filters or Filters()
    bucket = BUCKET_SQL[period.by].format(col="s.day")

    def rows_of(db: sqlite3.Connection, p: Period) -> list[tuple[Any, ...]]:
        where, args = survey_where(p, filters)
        return db.execute(
            f"SELECT {bucket}, workers, services, quality, attitude, hygiene, punctuality,"
            f" overall, nps FROM f_survey s WHERE {where}",
            args,
        ).fetchall()

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        rows = rows_of(db, p)
        out = [Figure("responses", "调查份数", "count", len(rows))]
        for i, dim in enumerate(DIMENSIONS):
            out.append(
                Figure(
                    dim, DIMENSION_ZH[dim], "score", ratio(sum(r[3 + i] for r in rows), len(rows))
                )
            )
        out.append(Figure("nps", "NPS", "nps", nps_of([r[8] for r in rows if r[8] is not None])))
        return out

    def summary_row(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        return {
            "responses": len(rows),
            "overall": ratio(sum(r[7] for r in rows), len(rows)),
            "low": sum(1 for r in rows if min(r[3:8]) <= 2),
            "nps": nps_of([r[8] for r in rows if r[8] is not None]),
        }

    def tables(db: sqlite3.Connection) -> list[Table]:
        rows = rows_of(db, period)
        labels = Labels(archive)
        dims = [
            {
                "dimension": DIMENSION_ZH[dim],
                "mean": ratio(sum(r[3 + i] for r in rows), len(rows)),
                "low": sum(1 for r in rows if r[3 + i] <= 2),
            }
            for i, dim in enumerate(DIMENSIONS)
        ]
        group_cols = [
            Column("responses", "份数"),
            Column("overall", "总体", "score"),
            Column("low", "低分"),
            Column("nps", "NPS", "nps"),
        ]
        out = [
            Table(
                "dimensions",
                "各维度",
                [
                    Column("dimension", "维度", "text"),
                    Column("mean", "平均分", "score"),
                    Column("low", "低分份数"),
                ],
                dims,
                chart="mean",
            ),
        ]
        by_bucket: dict[str, list[tuple[Any, ...]]] = {b: [] for b in period.buckets()}
        by_worker: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        by_service: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            by_bucket.setdefault(r[0], []).append(r)
            for w in _unpack(r[1]):
                by_worker[w].append(r)
            for s in _unpack(r[2]):
                by_service[s].append(r)
        out.append(
            Table(
                "by_" + period.by,
                "按" + {"month": "月", "week": "周", "day": "日"}[period.by],
                [Column("bucket", BUCKET_TITLE[period.by], "text"), *group_cols],
                [{"bucket": b, **summary_row(rs)} for b, rs in by_bucket.items()],
                {"bucket": "合计", **summary_row(rows)},
                chart="overall",
            )
        )
        out.append(
            Table(
                "by_worker",
                "按阿姨",
                [Column("worker", "阿姨", "text"), *group_cols],
                sorted(
                    (
                        {"worker": labels.worker(w), **summary_row(rs)}
                        for w, rs in by_worker.items()
                    ),
                    key=lambda r: (-r["responses"], r["worker"]),
                ),
            )
        )
        out.append(
            Table(
                "by_service",
                "按服务项目",
                [Column("service", "服务项目", "text"), *group_cols],
                sorted(
                    (
                        {"service": labels.service(s), **summary_row(rs)}
                        for s, rs in by_service.items()
                    ),
                    key=lambda r: (-r["responses"], r["service"]),
                ),
            )
        )
        return out

    return _report(
        archive,
        "satisfaction",
        period,
        filters,
        figures,
        tables,
        SATISFACTION_FOOTNOTE,
        ("order", "customer", "survey"),
    )


# --- quality -----------------------------------------------------------------------------------

QUALITY_FOOTNOTE = (
    "准时到岗率 = 开始服务不晚于预约开始 15 分钟的订单 / 已开始服务的订单；"
    "定金收取率 = 定金已收足的订单 / 要求定金的有效订单；"
    "验收通过率 = 通过的验收项 / 已完成订单的全部验收项；"
    "回访完成率 = 已完成的回访 / 期内到期的回访（不计已取消），按期完成 = 完成日不晚于到期日；"
    "投诉率 = 期内收到的投诉 / 期内完成的订单；复购率 = 期内下单两次及以上的客户 / 期内下单的客户。"
)
KPI_COLUMNS = [
    Column("on_time", "准时", "pct"),
    Column("deposit", "定金", "pct"),
    Column("checklist", "验收", "pct"),
    Column("complaint_rate", "投诉率", "pct"),
    Column("repeat_rate", "复购", "pct"),
]


class _Kpi:
    """The counts behind the quality indicators of one group (a worker, a service, all)."""

    def __init__(self) -> None:
        self.started = self.on_time = self.deposits = self.deposits_paid = 0
        self.checks = self.passed = self.served = self.complaints = 0
        self.customers: Counter[str] = Counter()

    def add(self, row: tuple[Any, ...]) -> None:
        _, _, status, on_time, checks, passed, deposit, paid, customer = row
        if status == "cancelled":
            return
        self.customers[customer] += 1
        if on_time is not None:
            self.started += 1
            self.on_time += on_time
        if deposit:
            self.deposits += 1
            self.deposits_paid += paid >= deposit
        if status in SERVED:
            self.served += 1
            self.checks += checks
            self.passed += passed

    def values(self) -> dict[str, Any]:
        return {
            "served": self.served,
            "on_time": ratio(self.on_time, self.started),
            "deposit": ratio(self.deposits_paid, self.deposits),
            "checklist": ratio(self.passed, self.checks),
            "complaints": self.complaints,
            "complaint_rate": ratio(self.complaints, self.served),
            "repeat_rate": ratio(
                sum(1 for n in self.customers.values() if n >= 2), len(self.customers)
            ),
        }


def _kpis(
    db: sqlite3.Connection, p: Period, filters: Filters
) -> tuple[_Kpi, dict[str, _Kpi], dict[str, _Kpi]]:
    where, args = order_where(p, filters)
    overall = _Kpi()
    by_worker: dict[str, _Kpi] = defaultdict(_Kpi)
    by_service: dict[str, _Kpi] = defaultdict(_Kpi)
    for row in db.execute(
        "SELECT o.workers, o.services, o.status, o.on_time, o.checks, o.checks_passed,"
        f" o.deposit_fen, o.deposit_paid_fen, o.customer FROM f_order o WHERE {where}",
        args,
    ):
        overall.add(row)
        for worker in _unpack(row[0]):
            if not filters.worker or worker == filters.worker:
                by_worker[worker].add(row)
        for service in _unpack(row[1]):
            by_service[service].add(row)
    complaint_sql = (
        "SELECT k.worker, o.services FROM f_complaint k LEFT JOIN f_order o ON o.id = k.order_id"
        " WHERE k.day BETWEEN ? AND ?"
    )
    cargs: list[Any] = [p.start.isoformat(), p.end.isoformat()]
    if filters.any():  # only complaints about an order the filters keep
        cwhere, more = order_where(Period(dt.date.min, dt.date.max), filters)
        complaint_sql += f" AND {cwhere}"
        cargs += more
    for worker, services in db.execute(complaint_sql, cargs):
        overall.complaints += 1
        if worker:
            by_worker[worker].complaints += 1
        for service in _unpack(services or ""):
            by_service[service].complaints += 1
    return overall, by_worker, by_service


def _visits(db: sqlite3.Connection, p: Period, filters: Filters) -> tuple[int, int, int]:
    """Visits due in ``p`` (not cancelled): how many, how many done, how many done in time."""
    sql = "SELECT count(*), sum(status = 'done'), sum(status = 'done' AND done_day <= due)"
    sql += " FROM f_visit WHERE due BETWEEN ? AND ? AND status != 'cancelled'"
    args: list[Any] = [p.start.isoformat(), p.end.isoformat()]
    if filters.worker:
        sql += " AND worker = ?"
        args.append(filters.worker)
    if filters.tier:
        sql += " AND customer IN (SELECT id FROM f_customer WHERE tier = ?)"
        args.append(filters.tier)
    due, done, in_time = _one(db, sql, args)
    return due or 0, done or 0, in_time or 0


def quality(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """The quality indicators of SPEC §4, overall, per worker and per service."""
    filters = filters or Filters()

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        values = _kpis(db, p, filters)[0].values()
        due, done, in_time = _visits(db, p, filters)
        return [
            Figure("on_time", "准时到岗率", "pct", values["on_time"]),
            Figure("deposit", "定金收取率", "pct", values["deposit"]),
            Figure("checklist", "验收通过率", "pct", values["checklist"]),
            Figure("visits", "回访完成率", "pct", ratio(done, due)),
            Figure("visits_in_time", "回访按期完成率", "pct", ratio(in_time, due)),
            Figure("complaint_rate", "投诉率", "pct", values["complaint_rate"]),
            Figure("repeat_rate", "复购率", "pct", values["repeat_rate"]),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        labels = Labels(archive)
        _, by_worker, by_service = _kpis(db, period, filters)
        cols = [Column("served", "完成单"), *KPI_COLUMNS, Column("complaints", "投诉")]
        workers_rows = sorted(
            ({"worker": labels.worker(w), **k.values()} for w, k in by_worker.items()),
            key=lambda r: (-r["served"], r["worker"]),
        )
        service_rows = sorted(
            ({"service": labels.service(s), **k.values()} for s, k in by_service.items()),
            key=lambda r: (-r["served"], r["service"]),
        )
        return [
            Table("by_worker", "按阿姨", [Column("worker", "阿姨", "text"), *cols], workers_rows),
            Table(
                "by_service",
                "按服务项目",
                [Column("service", "服务项目", "text"), *cols],
                service_rows,
            ),
        ]

    return _report(
        archive,
        "quality",
        period,
        filters,
        figures,
        tables,
        QUALITY_FOOTNOTE,
        ("order", "customer", "complaint", "visit"),
    )


# --- channels ----------------------------------------------------------------------------------

CHANNELS_FOOTNOTE = (
    "按客户档案的获客渠道。新客 = 首单（不计已取消）在期内；营业额 = 该渠道客户期内完成订单的总额；"
    f"{REPEAT_WITHIN_DAYS} 天复购 = 期内新客中首单后 {REPEAT_WITHIN_DAYS} 天内再次下单的比例；"
    "留存 = 上期下过单的该渠道客户中本期仍下单的比例。"
)


def channels(archive: Archive, period: Period, filters: Filters | None = None) -> Report:
    """Per acquisition channel: new customers, ordering customers, revenue, 90-day repeat."""
    filters = filters or Filters()

    def gather(db: sqlite3.Connection, p: Period) -> dict[str, dict[str, Any]]:
        channel_of = dict(db.execute("SELECT id, channel FROM f_customer"))
        firsts = first_orders(db)
        where, args = order_where(p, filters)
        out: dict[str, dict[str, Any]] = {}
        days: dict[str, list[str]] = defaultdict(list)
        for customer, status, total, day in db.execute(
            f"SELECT customer, status, total_fen, day FROM f_order o WHERE {where}"
            f" AND {BOOKED_SQL} ORDER BY day",
            args,
        ):
            g = out.setdefault(channel_of.get(customer) or "", _channel_row())
            g["ordering"].add(customer)
            if status in SERVED:
                g["revenue_fen"] += total
            days[customer].append(day)
        later = p.end + dt.timedelta(days=REPEAT_WITHIN_DAYS)
        for customer, first in firsts.items():
            if not p.start.isoformat() <= first <= p.end.isoformat() or customer not in days:
                continue
            g = out[channel_of.get(customer) or ""]
            g["new"] += 1
            within = (
                dt.date.fromisoformat(first) + dt.timedelta(days=REPEAT_WITHIN_DAYS)
            ).isoformat()
            again = db.execute(
                "SELECT 1 FROM f_order WHERE customer = ? AND status != 'cancelled'"
                " AND day > ? AND day <= ? AND day <= ? LIMIT 1",
                [customer, first, within, later.isoformat()],
            ).fetchone()
            g["repeat"] += again is not None
        before = p.previous()
        pwhere, pargs = order_where(before, filters)
        for (customer,) in db.execute(
            f"SELECT DISTINCT customer FROM f_order o WHERE {pwhere} AND {BOOKED_SQL}", pargs
        ):
            g = out.setdefault(channel_of.get(customer) or "", _channel_row())
            g["before"] += 1
            g["kept"] += customer in days
        return out

    def figures(db: sqlite3.Connection, p: Period) -> list[Figure]:
        found = gather(db, p)
        new = sum(g["new"] for g in found.values())
        return [
            Figure("new", "新客", "count", new),
            Figure(
                "repeat_90",
                f"{REPEAT_WITHIN_DAYS}天复购率",
                "pct",
                ratio(sum(g["repeat"] for g in found.values()), new),
            ),
            Figure(
                "retention",
                "留存率",
                "pct",
                ratio(
                    sum(g["kept"] for g in found.values()), sum(g["before"] for g in found.values())
                ),
            ),
        ]

    def tables(db: sqlite3.Connection) -> list[Table]:
        rows = [
            {
                "channel": name or "（未填）",
                "new": g["new"],
                "ordering": len(g["ordering"]),
                "revenue_fen": g["revenue_fen"],
                "repeat_90": ratio(g["repeat"], g["new"]),
                "retention": ratio(g["kept"], g["before"]),
            }
            for name, g in gather(db, period).items()
        ]
        rows.sort(key=lambda r: (-r["revenue_fen"], r["channel"]))
        return [
            Table(
                "channels",
                "获客渠道",
                [
                    Column("channel", "渠道", "text"),
                    Column("new", "新客"),
                    Column("ordering", "下单客户"),
                    Column("revenue_fen", "营业额", "fen"),
                    Column("repeat_90", f"{REPEAT_WITHIN_DAYS}天复购", "pct"),
                    Column("retention", "留存", "pct"),
                ],
                rows,
                _sum_rows(rows, ["new", "ordering", "revenue_fen"]) | {"channel": "合计"},
                chart="revenue_fen",
            )
        ]

    return _report(archive, "channels", period, filters, figures, tables, CHANNELS_FOOTNOTE)


def _channel_row() -> dict[str, Any]:
    return {"new": 0, "ordering": set(), "revenue_fen": 0, "repeat": 0, "before": 0, "kept": 0}


REPORTS: dict[str, Callable[[Archive, Period, Filters | None], Report]] = {
    "revenue": revenue,
    "funnel": funnel,
    "customers": customers,
    "retention": retention,
    "workers": workers,
    "satisfaction": satisfaction,
    "quality": quality,
    "channels": channels,
}


def report(
    archive: Archive, name: str, period: Period, filters: Filters | None = None
) -> list[Report]:
    """The report ``name`` (or every one, for ``all``)."""
    from hk.errors import UsageError

    if name == "all":
        return [make(archive, period, filters) for make in REPORTS.values()]
    if name not in REPORTS:
        raise UsageError(f"no report '{name}'", hint=f"one of {', '.join([*REPORTS, 'all'])}")
    return [REPORTS[name](archive, period, filters)]
