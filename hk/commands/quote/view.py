"""What ``hk quote`` shows: a quote as a Chinese table of lines and totals, its history, and a
list of quotes; and the few things it reads from the command line (frequencies).

Kept apart from the commands so that a change in wording never hides in a change of options.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from hk.errors import UsageError

if TYPE_CHECKING:
    from hk.domain.quote import Frequency, Quote, QuoteEvent
    from hk.store.archive import Archive


def parse_frequencies(given: list[str], count: int) -> list[Frequency | None]:
    """One ``--frequency`` per ``--service`` in order, or one for all of them, or none."""
    from hk.domain.quote import QuoteError, parse_frequency

    try:
        parsed = [parse_frequency(text) for text in given]
    except QuoteError as exc:
        raise UsageError(f"--frequency: {exc.message}", hint=exc.hint) from None
    if not parsed:
        return [None] * count
    if len(parsed) == 1:
        return parsed * count
    if len(parsed) != count:
        raise UsageError(
            f"{len(parsed)} --frequency for {count} --service",
            hint="give one --frequency per --service (once for a one-off), or one for all",
        )
    return parsed


def status_text(quote: Quote, today: dt.date) -> str:
    """``已过期 expired（原为已发送 sent）`` or ``已发送 sent``."""
    from hk.domain.quote import label

    shown = quote.shown_status(today)
    if shown == quote.status:
        return label(shown)
    return f"{label(shown)}（{label(quote.status)}，{quote.valid_until.isoformat()}到期）"


def event_line(event: QuoteEvent, tz: str) -> str:
    """``2026-12-01 09:02  前台小李  草稿 → 已发送  微信 发送给客户  sha256 6c9a52f3…``."""
    from zoneinfo import ZoneInfo

    from hk.domain.quote import STATUS_ZH, VIA_ZH

    when = event.at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    source = STATUS_ZH[event.from_status] if event.from_status else "新建"
    text = f"{when}  {event.actor}  {source} → {STATUS_ZH[event.to_status]}"
    if event.via:
        text += f"  {VIA_ZH[event.via]}发送给{'客户' if event.recipient == 'customer' else ''}"
    if event.note:
        text += f"  {event.note}"
    if event.digest:
        text += f"  sha256 {event.digest[:12]}…"
    return text


def quote_text(archive: Archive, quote: Quote, code: str, today: dt.date, history: bool) -> str:
    """The quote as an operator reads it to the customer on the phone."""
    from hk.domain.money import format_money
    from hk.services.lookup import Names, render_table
    from hk.services.quotes.document import line_context

    names = Names(archive.index)
    lines = [f"报价单 {code}  {status_text(quote, today)}", f"  客户    {names(quote.customer)}"]
    if quote.address.one_line():
        lines.append(f"  地址    {quote.address.one_line()}")
    lines.append(
        f"  日期    {quote.created.date().isoformat()}  有效期至 {quote.valid_until.isoformat()}"
    )
    if quote.tier:
        lines.append(f"  会员    {quote.tier}")
    rows: list[dict[str, Any]] = []
    for line in quote.lines:
        row = line_context(len(rows) + 1, line)
        rows.append(
            {
                **row,
                "price": f"{format_money(line.unit_price_fen)}/{row['unit']}",
                "each": format_money(line.amount_fen),
                "subtotal": format_money(line.total_fen()),
            }
        )
    columns = [
        ("n", "序号"),
        ("service", "编号"),
        ("name", "服务项目"),
        ("quantity", "数量/面积"),
        ("frequency", "频次"),
        ("price", "单价"),
        ("each", "每次"),
        ("visits", "次数"),
        ("subtotal", "小计"),
    ]
    lines += ["    " + row for row in render_table("quote", rows, columns).splitlines()]
    lines.append(f"  原价    {format_money(quote.gross_fen())}")
    if quote.tier_discount_fen():
        lines.append(f"  会员优惠 -{format_money(quote.tier_discount_fen())}")
    if quote.discount_fen:
        lines.append(f"  额外优惠 -{format_money(quote.discount_fen)}（{quote.discount_note}）")
    lines.append(f"  合计    {format_money(quote.total_fen)}")
    if quote.deposit_fen:
        lines.append(
            f"  定金    {format_money(quote.deposit_fen)}  尾款 "
            f"{format_money(quote.total_fen - quote.deposit_fen)}"
        )
    if quote.recurring():
        lines.append("  说明    周期服务按每月计（每周服务按每月4周），合计含周期服务首月费用")
    if quote.notes:
        lines.append(f"  备注    {quote.notes}")
    if quote.orders:
        lines.append(f"  订单    {', '.join(names(o) for o in quote.orders)}")
    if quote.contract:
        lines.append(f"  合同    {names(quote.contract)}")
    if history:
        lines.append("  历史")
        lines += ["    " + event_line(e, archive.settings.locale.timezone) for e in quote.events]
    return "\n".join(lines)


def list_items(archive: Archive, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing rows with the customer's code and name (for the table and JSON)."""
    from hk.services.lookup import Names

    names = Names(archive.index)
    out = []
    for row in rows:
        code, name = names.parts(row["customer"])
        out.append({**row, "customer_code": code, "customer_name": name})
    return out


QUOTE_COLUMNS = [
    ("code", "编号"),
    ("date", "日期"),
    ("shown_status_zh", "状态"),
    ("customer_label", "客户"),
    ("services", "服务"),
    ("total", "金额"),
    ("valid_until", "有效期至"),
]


def quote_table(items: list[dict[str, Any]]) -> str:
    from hk.domain.money import format_money
    from hk.services.lookup import render_table

    rows = [
        {
            **item,
            "date": item["created"][:10],
            "customer_label": f"{item['customer_code']} {item['customer_name']}".strip(),
            "total": format_money(item["total_fen"]),
        }
        for item in items
    ]
    return render_table("quote", rows, QUOTE_COLUMNS)
