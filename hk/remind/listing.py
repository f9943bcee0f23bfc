"""``hk remind`` and ``hk remind --dry-run``: the day's items, and what ``--send`` would send.

The rows, the table and the JSON the command prints (only the command prints). Each row says
on which channels the item already went out and on which it is still to go.
"""

from __future__ import annotations

from dataclasses import dataclass

from hk.domain.money import format_money

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from typing import Any

    from hk.domain.reminders import Due
    from hk.remind.config import RemindConfig
    from hk.remind.gather import Found
    from hk.store.index import Index

RULE_ZH = {
    "appointment": "明日预约",
    "contract_end": "合同到期",
    "certificate": "证书到期",
    "insurance": "保险到期",
    "employment": "阿姨合同",
    "deposit": "定金未收",
    "quote_expiry": "报价将过期",
    "package_low": "套餐将用完",
    "birthday": "生日",
    "lapsed": "流失挽回",
    "visit": "回访",
    "complaint": "投诉时限",
}
AUDIENCE_ZH = {"office": "办公室", "customer": "客户", "worker": "阿姨"}
COLUMNS = [
    ("day", "日期"),
    ("rule", "提醒"),
    ("to", "对象"),
    ("channels", "发送"),
    ("text", "内容"),
]
"""The table's columns; the last one, what the item is about, is never cut short."""


def _name(found: Found, rid: str | None) -> str:
    record = found.records.get(rid or "")
    return record["name"] if record else (rid or "")[:8]


def describe(item: Due, found: Found) -> str:
    """One line saying what the item is about (the table's 内容 column)."""
    f, r = item.facts, item.refs
    customer = _name(found, r.get("customer"))
    worker = _name(found, r.get("worker"))
    if item.rule == "appointment":
        who = "未派工" if f["unassigned"] else "、".join(_name(found, w) for w in r["workers"])
        return (
            f"{f['start']}-{f['end']} {'、'.join(f['services'])} {customer} "
            f"{f['community']} · {who}"
        )
    if item.rule == "contract_end":
        left = "今天到期" if f["days_left"] == 0 else f"{f['days_left']}天后到期"
        return f"合同 {f['number']} {left}（{f['end']}）客户 {customer}" + (
            f" 阿姨 {worker}" if r.get("worker") else ""
        )
    if item.rule in ("certificate", "insurance", "employment"):
        what = {"certificate": f.get("kind", ""), "insurance": "保险", "employment": "公司合同"}[
            item.rule
        ]
        when = (
            "已过期"
            if f["expired"]
            else ("今天到期" if f["days_left"] == 0 else f"{f['days_left']}天后到期")
        )
        return f"{worker} {what} {when}（{f['expires']}）"
    if item.rule == "deposit":
        return (
            f"{customer} {f['start']} {'、'.join(f['services'])} 定金未收 "
            f"{format_money(f['outstanding_fen'])}"
        )
    if item.rule == "quote_expiry":
        return f"{customer} 报价 {format_money(f['total_fen'])} 有效至 {f['valid_until']}"
    if item.rule == "package_low":
        return f"{customer} {f['package_name']} 剩{f['left']}次（至 {f['valid_until']}）"
    if item.rule == "birthday":
        return f"{customer} {f['date']} 生日" + ("（今天）" if f["days_left"] == 0 else "")
    if item.rule == "lapsed":
        return f"{customer} {f['days_since']}天未下单（最后一单 {f['last_order']}）"
    if item.rule == "visit":
        late = f" 逾期{f['overdue_days']}天" if f.get("overdue_days") else ""
        return f"{customer} {f['type_zh']} {f['due']}{late}"
    if item.rule == "complaint":
        state = "已超时" if f.get("overdue") else "将到时限"
        return f"{customer} 投诉 {f['category_zh']} {state}（时限 {f['sla_due']}）"
    return item.key


def rows(
    found: Found,
    config: RemindConfig,
    sent: dict[str, set[str]],
    audiences: tuple[str, ...],
    pending_only: bool = False,
) -> list[dict[str, Any]]:
    """One row per item for ``audiences``: the item, and its channels sent and still to go."""
    out = []
    for item in found.items:
        if item.audience not in audiences:
            continue
        reach = [c.name for c in config.channels_for(item.audience)]
        done = sorted(sent.get(item.key, set()))
        pending = [c for c in reach if c not in done]
        if pending_only and not pending:
            continue
        row = item.to_json()
        named = [
            v
            for value in item.refs.values()
            for v in (value if isinstance(value, list) else [value])
            if v
        ]
        row.update(
            text=describe(item, found),
            sent=done,
            pending=pending,
            names={
                rid: {"code": found.records[rid]["code"], "name": found.records[rid]["name"]}
                for rid in named
                if rid in found.records
            },
        )
        if item.person:
            row["person_name"] = _name(found, item.person)
        out.append(row)
    return out


def table(items: list[dict[str, Any]]) -> str:
    """Aligned columns measured in terminal cells (Chinese takes two)."""
    from hk.textwidth import cell_len, fit

    shown = []
    for row in items:
        to = AUDIENCE_ZH[row["audience"]]
        if row.get("person_name"):
            to += " " + row["person_name"]
        channels = [f"✓{c}" for c in row["sent"]] + [f"待发 {c}" for c in row["pending"]]
        shown.append(
            [
                row["day"],
                RULE_ZH.get(row["rule"], row["rule"]),
                to,
                " ".join(channels) or "无渠道",
                row["text"],
            ]
        )
    heads = [title for _, title in COLUMNS]
    widths = [min(30, max(cell_len(r[n]) for r in [heads, *shown])) for n in range(len(heads) - 1)]
    lines = [
        "  ".join([*(fit(r[n], w) for n, w in enumerate(widths)), r[-1]]).rstrip()
        for r in [heads, *shown]
    ]
    return "\n".join(lines)


@dataclass
class Listing:
    """The day's items as ``hk remind`` shows them (``dry_run``: only those ``--send`` would
    send now), and the files that could not be read while gathering them."""

    day: dt.date
    dry_run: bool
    items: list[dict[str, Any]]
    broken: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "dry_run": self.dry_run, "items": self.items}


def listing(
    index: Index,
    root: str,
    day: dt.date,
    config: RemindConfig,
    audiences: tuple[str, ...],
    dry_run: bool,
) -> Listing:
    """The day's items for ``audiences``, each with the channels it was or will be sent by."""
    from hk.remind.gather import gather
    from hk.remind.sentlog import SentLog

    found = gather(index, day, config)
    broken = dict(found.broken)
    log = SentLog(root)
    try:
        broken.update(log.refresh())
        sent = log.sent(i.key for i in found.items)
    finally:
        log.close()
    items = rows(found, config, sent, audiences, pending_only=dry_run)
    return Listing(day, dry_run, items, broken)
