"""``hk order list`` as a table or JSON, from index rows alone: no model is loaded.

The dispatcher's most frequent question (which orders wait for a worker tomorrow?) is answered
from the index, so this module stays as light as :mod:`hk.services.lookup`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hk.domain.money import format_money
from hk.domain.order.status import STATUS_ZH
from hk.services.lookup import Names, render_table

if TYPE_CHECKING:
    from hk.store.index import Index


def list_items(index: Index, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing rows with the customer's and workers' codes and names (for the table and JSON)."""
    names = Names(index)
    out = []
    for row in rows:
        customer = names.parts(row["customer"])
        out.append(
            {
                **row,
                "status_zh": STATUS_ZH.get(row["status"], row["status"]),
                "customer_code": customer[0],
                "customer_name": customer[1],
                "worker_names": [names(w) for w in row.get("workers", [])],
            }
        )
    return out


ORDER_COLUMNS = [
    ("code", "编号"),
    ("when", "开始"),
    ("status_zh", "状态"),
    ("customer_label", "客户"),
    ("services", "服务"),
    ("worker_names", "阿姨"),
    ("total", "金额"),
]


def order_table(items: list[dict[str, Any]]) -> str:
    rows = [
        {
            **item,
            "when": item["start"][:16].replace("T", " "),
            "customer_label": f"{item['customer_code']} {item['customer_name']}".strip(),
            "total": format_money(item["total_fen"]),
        }
        for item in items
    ]
    return render_table("order", rows, ORDER_COLUMNS)
