"""Words and amounts as operators read them, kept free of Pydantic for the fast read paths.

``hk order list`` and the searches print these without loading the models; the domain modules
import them from here, so there is one definition of each.
"""

from __future__ import annotations

STATUS_ZH: dict[str, str] = {
    "pending": "待确认",
    "confirmed": "已确认",
    "to_dispatch": "待派工",
    "dispatched": "已派工",
    "in_service": "服务中",
    "completed": "服务完成",
    "settled": "已结算",
    "cancelled": "已取消",
}
"""Order statuses (SPEC §3) and their Chinese names."""

STAGE_ZH: dict[str, str] = {
    "lead": "潜在客户",
    "new": "新客户",
    "active": "活跃",
    "at_risk": "有流失风险",
    "lapsed": "已流失",
    "won_back": "已挽回",
}
"""Customer lifecycle stages (SPEC §3, :mod:`hk.domain.stage`) and their Chinese names."""


def format_money(fen: int) -> str:
    """``12050`` → ``¥120.50``."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"
