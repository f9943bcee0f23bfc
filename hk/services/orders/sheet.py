"""The worker's order sheet (派工单): what the 阿姨 needs to do the job, and nothing more.

When, where and how to get in, whom to ask for, what to do and how it will be checked (the
acceptance checklist of each service, 验收清单, and what the customer's tier expects of it),
the customer's taboos and household, and whom at the company to call. A checklist item
shared by several services is listed once, under the first. Never the customer's ID
number; their phone masked and their health notes (and the household's care notes) left out
unless the operator reveals them on purpose (``reveal``), as SPEC §7 asks.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from hk.domain.catalog import ServiceItem
from hk.domain.customer import Customer
from hk.domain.fields import format_phone
from hk.domain.order.model import Order
from hk.errors import HkError
from hk.services.documents import mask_phone, measure
from hk.services.records import code_of, display, load
from hk.store.archive import Archive

STATUS_FOR_SHEET = ("confirmed", "to_dispatch", "dispatched", "in_service")
"""A sheet is printed for an order on its way to the customer; others get a warning line."""


def _items(archive: Archive, order: Order) -> dict[str, ServiceItem]:
    from hk.services.catalog import by_code

    out = {}
    for code in order.services():
        try:
            item = by_code(archive, code)
        except HkError:
            continue
        if isinstance(item, ServiceItem):
            out[code] = item
    return out


def _acceptance(item: ServiceItem, tier: str) -> str:
    """What the customer's tier expects of the checklist, in words (``基础项全部达标``)."""
    for rule in item.acceptance:
        if rule.tier == tier:
            basic = (
                "基础项全部达标"
                if rule.basic_percent == 100
                else f"基础项{rule.basic_percent}%达标"
            )
            return basic + ("，并完成全部增值项" if rule.value_added else "")
    return ""


def _revealed(archive: Archive, customer: Customer) -> dict[str, Any]:
    if not archive.keyring.available():
        raise HkError(
            "--reveal needs the master key, which is not on this machine",
            hint="print the sheet without --reveal",
        )
    return display(archive, customer, reveal=True)


def sheet_context(archive: Archive, order: Order, reveal: bool = False) -> dict[str, Any]:
    """Everything ``order_sheet.md.j2`` shows; plain values only."""
    tz = ZoneInfo(archive.settings.locale.timezone)
    customer, _ = load(archive, Customer, order.customer)
    shown = _revealed(archive, customer) if reveal else {}
    start, end = order.window.start.astimezone(tz), order.window.end.astimezone(tz)
    items = _items(archive, order)
    services: list[dict[str, object]] = []
    listed: set[str] = set()
    for line in order.lines:
        item = items.get(line.service)
        checklist = [c for c in (item.checklist if item else []) if c.item not in listed]
        listed.update(c.item for c in checklist)
        services.append(
            {
                "service": line.service,
                "name": line.name or (item.name if item else ""),
                "quantity": measure(line.quantity, line.unit),
                "description": item.description if item else "",
                "checklist": [{"item": c.item, "value_added": c.value_added} for c in checklist],
                "repeated": bool(item and item.checklist and not checklist),
                "acceptance": _acceptance(item, customer.tier) if item else "",
            }
        )
    household = []
    for n, member in enumerate(customer.household):
        care = shown.get("household", [{}] * (n + 1))[n].get("care_notes") if reveal else None
        household.append(
            {
                "relation": member.relation,
                "birth_year": member.birth_year or "",
                "notes": member.notes,
                "care_notes": care or "",
            }
        )
    wanted = order.requirements
    phone = customer.phones[0] if customer.phones else ""
    workers = []
    for worker_id in order.workers:
        row = archive.index.get(worker_id)
        workers.append(f"{row['code'] or ''} {row['name']}".strip() if row else worker_id)
    return {
        "order": {
            "code": code_of(archive, order.id) or order.id,
            "date": start.date().isoformat(),
            "weekday": "一二三四五六日"[start.weekday()],
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}",
            "minutes": order.expected_minutes or "",
            "status": order.status,
            "notes": order.notes,
            "workers": workers,
            "for_dispatch": order.status in STATUS_FOR_SHEET,
        },
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "phone": (format_phone(phone) if reveal else mask_phone(phone)) if phone else "",
            "tier": customer.tier,
            "taboos": list(customer.taboos),
            "cleaning_agents": customer.preferences.cleaning_agents,
            "cooking_taste": customer.preferences.cooking_taste,
            "household": household,
            "health_notes": str(shown.get("health_notes") or "") if reveal else "",
        },
        "address": {
            "text": order.address.one_line(),
            "community": order.address.community,
            "access_notes": order.address.access_notes,
        },
        "services": services,
        "requirements": {
            "gender": wanted.gender or "",
            "skills": list(wanted.skills),
            "certificates": list(wanted.certificates),
            "age": (
                f"{wanted.age_min or ''}–{wanted.age_max or ''}"
                if wanted.age_min or wanted.age_max
                else ""
            ),
        },
        "reveal": reveal,
    }


def render_sheet(
    archive: Archive, ref: str, fmt: str = "md", reveal: bool = False
) -> tuple[str, Order]:
    """The order sheet of the order ``ref`` names, in ``fmt`` (md or html)."""
    from hk.errors import UsageError
    from hk.services.documents import FORMATS, render
    from hk.services.orders.steps import load_order

    if fmt not in FORMATS:
        raise UsageError(
            f"--format: '{fmt}' is not a document format", hint="one of: " + ", ".join(FORMATS)
        )
    order, _ = load_order(archive, ref)
    context = sheet_context(archive, order, reveal)
    text = render(archive, "order_sheet", context, fmt, title=f"派工单 {context['order']['code']}")
    return text, order
