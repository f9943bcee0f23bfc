"""The quote as a document (报价单): the context ``quote.md.j2`` renders, and the rendering.

Only plain values go into the template: the customer's name, a masked phone and the service
address; nothing sealed. The Markdown text is the document whose SHA-256 a send records.
"""

from __future__ import annotations

from typing import Any

from hk.domain.customer import Customer
from hk.domain.quote import STATUS_ZH, WEEKS_PER_MONTH, Quote, QuoteLine, frequency_zh
from hk.services.documents import MEASURE_ZH, mask_phone, measure
from hk.services.records import code_of, load
from hk.store.archive import Archive


def line_context(n: int, line: QuoteLine) -> dict[str, Any]:
    """One row of the lines table, amounts in fen for the ``money`` filter."""
    charged = (
        f"（按{measure(line.charged_quantity, line.unit)}计）"
        if line.charged_quantity is not None
        else ""
    )
    return {
        "n": n,
        "service": line.service,
        "name": line.name,
        "quantity": measure(line.quantity, line.unit) + charged,
        "area": measure(line.quantity, line.unit) if line.unit == "m2" else "",
        "frequency": frequency_zh(line.frequency),
        "visits": line.visits(),
        "unit_price_fen": line.unit_price_fen,
        "list_price_fen": line.list_price_fen,
        "unit": MEASURE_ZH.get(line.unit, line.unit),
        "agreed": line.unit_price_fen != line.list_price_fen,
        "gross_fen": line.gross_fen,
        "discount_fen": line.discount_fen,
        "amount_fen": line.amount_fen,
        "total_fen": line.total_fen(),
    }


def quote_context(archive: Archive, quote: Quote, code: str) -> dict[str, Any]:
    """Everything ``quote.md.j2`` shows; plain values only."""
    customer, _ = load(archive, Customer, quote.customer)
    pricing = archive.settings.pricing
    terms = [
        f"本报价有效期至{quote.valid_until.year}年{quote.valid_until.month}月"
        f"{quote.valid_until.day}日，逾期需重新报价。"
    ]
    if quote.recurring():
        terms.append(
            f"周期服务按每次单价计费，每周服务按每月{WEEKS_PER_MONTH}周计算月费；"
            "合计为一次性服务费用与周期服务首月费用之和。"
        )
    if quote.deposit_fen:
        terms.append("确认服务时支付定金，余款于服务完成后结清。")
    terms.append(
        f"预约服务开始前{pricing.free_cancel_hours}小时以上取消不收费用；"
        f"此后取消收取违约金{pricing.late_cancel_fee_fen / 100:g}元"
        + (
            f"或订单金额的{pricing.late_cancel_percent}%（取高者）"
            if pricing.late_cancel_percent
            else ""
        )
        + "。"
    )
    terms.append("服务完成后按服务项目验收清单验收。")
    return {
        "quote": {
            "code": code,
            "date": quote.created.date().isoformat(),
            "valid_until": quote.valid_until.isoformat(),
            "status": STATUS_ZH.get(quote.status, quote.status),
            "tier": quote.tier,
            "notes": quote.notes,
            "gross_fen": quote.gross_fen(),
            "tier_discount_fen": quote.tier_discount_fen(),
            "discount_fen": quote.discount_fen,
            "discount_note": quote.discount_note,
            "total_fen": quote.total_fen,
            "deposit_fen": quote.deposit_fen,
            "balance_fen": quote.total_fen - quote.deposit_fen,
            "recurring": quote.recurring(),
        },
        "customer": {
            "name": customer.name,
            "phone": mask_phone(customer.phones[0]) if customer.phones else "",
            "address": quote.address.one_line(),
        },
        "lines": [line_context(n, line) for n, line in enumerate(quote.lines, 1)],
        "terms": terms,
    }


def render_quote(archive: Archive, quote: Quote, fmt: str = "md") -> tuple[str, str]:
    """(the document in ``fmt``, the quote's code)."""
    from hk.errors import UsageError
    from hk.services.documents import FORMATS, render

    if fmt not in FORMATS:
        raise UsageError(
            f"--format: '{fmt}' is not a document format", hint="one of: " + ", ".join(FORMATS)
        )
    code = code_of(archive, quote.id) or quote.id
    context = quote_context(archive, quote, code)
    return render(archive, "quote", context, fmt, title=f"报价单 {code}"), code
