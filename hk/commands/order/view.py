"""What ``hk order`` reads from the command line and shows back: times, services, payments,
checks typed as text; an order, its history and a list of orders as people read them.

Kept apart from the commands so that a change in wording never hides in a change of options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hk.domain.order.status import STATUS_ZH
from hk.errors import UsageError
from hk.services.lookup import Names
from hk.services.orders import listing

if TYPE_CHECKING:
    from hk.domain.order.model import Order, OrderEvent
    from hk.services.orders.money import PaymentIn
    from hk.services.orders.steps import Check
    from hk.services.records import Stepped
    from hk.store.archive import Archive

PASSED = ("ok", "pass", "passed", "通过", "合格", "y", "yes")
FAILED = ("fail", "failed", "不通过", "不合格", "n", "no")


# --- reading -----------------------------------------------------------------------------------


def parse_service(text: str) -> tuple[str, str | None]:
    """``BJ-HOURLY:3`` → (code, quantity); ``JD-AC`` → (code, None): the default quantity."""
    code, _, quantity = text.replace("：", ":").partition(":")
    if not code.strip():
        raise UsageError(
            f"--service: '{text}' names no service",
            hint="write CODE or CODE:QUANTITY, e.g. BJ-HOURLY:3",
        )
    return code.strip().upper(), quantity.strip() or None


def parse_payment(text: str) -> PaymentIn:
    """``deposit:100:wechat`` (kind, yuan, method) or ``final:cash`` (what is due)."""
    from hk.domain.fields import parse_money
    from hk.services.orders.money import PaymentIn

    parts = [p.strip() for p in text.replace("：", ":").split(":")]
    if len(parts) == 2 and all(parts):
        return PaymentIn(kind=parts[0], method=parts[1])
    if len(parts) != 3 or not all(parts):
        raise UsageError(
            f"--pay: '{text}' is not a payment",
            hint="write KIND:AMOUNT:METHOD, e.g. --pay deposit:100:wechat, or "
            "KIND:METHOD for what is due, e.g. --pay final:cash",
        )
    try:
        amount = parse_money(parts[1])
    except ValueError as exc:
        raise UsageError(f"--pay: {exc}") from None
    if amount <= 0:
        raise UsageError(f"--pay: the amount must be more than 0, not {parts[1]}")
    return PaymentIn(kind=parts[0], method=parts[2], amount_fen=amount)


def parse_check(text: str) -> Check:
    """``3=ok``, ``冰箱=fail:未除味``: an item (by number or text), passed or not, a note."""
    from hk.services.orders.steps import Check

    item, sep, result = text.replace("＝", "=").rpartition("=")
    verdict, _, note = result.replace("：", ":").partition(":")
    verdict = verdict.strip().lower()
    if not sep or not item.strip() or verdict not in (*PASSED, *FAILED):
        raise UsageError(
            f"--check: '{text}' is not a checklist result",
            hint="write ITEM=ok or ITEM=fail:NOTE; ITEM is its number or text",
        )
    return Check(item=item.strip(), passed=verdict in PASSED, note=note.strip())


# --- showing -----------------------------------------------------------------------------------


def status_zh(status: str) -> str:
    return STATUS_ZH.get(status, status)


def moved(changed: Stepped[Order], code: str | None) -> str:
    """``order D7K2M: 待确认 pending → 已确认 confirmed``."""
    from hk.domain.order.status import label

    return f"order {code or changed.record.id}: " + " → ".join(map(label, changed.path()))


def paid(order: Order, count: int, code: str | None) -> str:
    """``order D7K2M: 定金 ¥100.00 微信; paid ¥100.00, due ¥28.25``: the last ``count`` payments."""
    from hk.domain.money import format_money
    from hk.domain.order.model import PAYMENT_KIND_ZH, PAYMENT_METHOD_ZH

    recorded = ", ".join(
        f"{PAYMENT_KIND_ZH[p.kind]} {format_money(p.amount_fen)} {PAYMENT_METHOD_ZH[p.method]}"
        for p in order.payments[-count:]
    )
    return (
        f"order {code or order.id}: {recorded}; paid {format_money(order.amount_paid())}, "
        f"due {format_money(order.balance_due())}"
    )


def list_items(archive: Archive, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing rows with the customer's and workers' codes and names (for the table and JSON)."""
    return listing.list_items(archive.index, rows)


order_table = listing.order_table


def event_line(event: OrderEvent, tz: str) -> str:
    """``2026-12-01 09:02  前台小李  已派工 → 服务中  note  @ 万科城北门 (30.6, 104.0)``."""
    from zoneinfo import ZoneInfo

    when = event.at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    source = status_zh(event.from_status) if event.from_status else "新建"
    text = f"{when}  {event.actor}  {source} → {status_zh(event.to_status)}"
    if event.note:
        text += f"  {event.note}"
    if event.location is not None:
        place = event.location.text
        if event.location.lat is not None:
            place = f"{place} ({event.location.lat}, {event.location.lon})".strip()
        text += f"  @ {place}"
    return text


def order_text(
    archive: Archive,
    order: Order,
    code: str,
    history: bool,
    checklist: list[str],
    reworks: list[str],
) -> str:
    """The order as an operator reads it on the phone with the customer."""
    from zoneinfo import ZoneInfo

    from hk.domain.catalog import UNIT_ZH
    from hk.domain.money import format_money
    from hk.domain.order.model import CHANNEL_ZH, PAYMENT_KIND_ZH, PAYMENT_METHOD_ZH
    from hk.domain.pricing import format_quantity

    tz = ZoneInfo(archive.settings.locale.timezone)
    names = Names(archive.index)
    start, end = order.window.start.astimezone(tz), order.window.end.astimezone(tz)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    lines = [
        f"订单 {code}  {status_zh(order.status)} {order.status}",
        f"  客户    {names(order.customer)}",
        f"  地址    {order.address.one_line()}",
    ]
    if order.address.access_notes:
        lines.append(f"  入户    {order.address.access_notes}")
    lines.append(f"  时间    {start:%Y-%m-%d %H:%M}–{until}")
    lines.append(f"  来源    {CHANNEL_ZH[order.channel]} {order.channel}")
    lines.append("  服务")
    for line in order.lines:
        unit = UNIT_ZH[line.unit]
        qty = format_quantity(line.billed_quantity())
        extra = f"（套餐抵扣{line.package_visits}次）" if line.package_visits else ""
        if line.discount_fen:
            extra += f"（会员优惠 -{format_money(line.discount_fen)}）"
        lines.append(
            f"    {line.service} {line.name}  {qty}{unit} × "
            f"{format_money(line.unit_price_fen)}  = {format_money(line.amount_fen)}"
            f"{extra}"
        )
    lines.append(
        f"  金额    {format_money(order.total_fen)}"
        + (f"（定金 {format_money(order.deposit_fen)}）" if order.deposit_fen else "")
    )
    if order.cancellation_fee_fen:
        lines.append(f"  违约金  {format_money(order.cancellation_fee_fen)}")
    for p in order.payments:
        lines.append(
            f"    {p.at.astimezone(tz):%Y-%m-%d %H:%M}  {PAYMENT_KIND_ZH[p.kind]} "
            f"{format_money(p.amount_fen)}  {PAYMENT_METHOD_ZH[p.method]}"
        )
    lines.append(
        f"  已付    {format_money(order.amount_paid())}  待付 {format_money(order.balance_due())}"
    )
    lines += _requirements(order)
    if order.workers:
        lines.append(f"  阿姨    {', '.join(names(w) for w in order.workers)}")
    if order.planned_start:
        lines.append(f"  计划    {order.planned_start.astimezone(tz):%H:%M} 开始（派工计划）")
    if order.pinned_worker:
        lines.append(f"  指定    {names(order.pinned_worker)}（手动指定，派工计划保留）")
    if order.package:
        lines.append(f"  套餐    {order.package}")
    if order.rework_of:
        lines.append(f"  返工自  {names(order.rework_of)}")
    if reworks:
        lines.append(f"  返工单  {', '.join(names(r) for r in reworks)}")
    if order.notes:
        lines.append(f"  备注    {order.notes}")
    lines += _checklist(order, checklist)
    if order.rating is not None:
        r = order.rating
        nps = f"  NPS {r.nps}" if r.nps is not None else ""
        lines.append(
            f"  评价    质量{r.quality} 态度{r.attitude} 卫生{r.hygiene} "
            f"准时{r.punctuality} 总体{r.overall}{nps}"
        )
        if r.comment:
            lines.append(f"          {r.comment}")
    if history:
        lines.append("  历史")
        lines += ["    " + event_line(e, archive.settings.locale.timezone) for e in order.events]
    return "\n".join(lines)


def _requirements(order: Order) -> list[str]:
    wanted = order.requirements
    parts = []
    if wanted.gender:
        parts.append(f"性别{wanted.gender}")
    if wanted.age_min is not None or wanted.age_max is not None:
        parts.append(f"年龄{wanted.age_min or ''}–{wanted.age_max or ''}")
    if wanted.skills:
        parts.append("技能" + "、".join(wanted.skills))
    if wanted.certificates:
        parts.append("证书" + "、".join(wanted.certificates))
    return [f"  要求    {'，'.join(parts)}"] if parts else []


def _checklist(order: Order, items: list[str]) -> list[str]:
    """Results once checked; before that, the numbered items ``finish --check`` refers to."""
    if order.checklist:
        passed, checked = order.checklist_passed()
        out = [f"  验收    {passed}/{checked} 通过"]
        for result in order.checklist:
            mark = "✓" if result.passed else "✗"
            out.append(f"    {mark} {result.item}" + (f"（{result.note}）" if result.note else ""))
        return out
    if items and order.status in ("dispatched", "in_service"):
        return ["  验收清单"] + [f"    {n}. {item}" for n, item in enumerate(items, 1)]
    return []
