"""The order lifecycle (SPEC §3): its states, their names and the moves between them.

待确认 pending → 已确认 confirmed → 待派工 to_dispatch → 已派工 dispatched → 服务中 in_service →
服务完成 completed → 已结算 settled; 已取消 cancelled from any state before completed. Nothing else.
What a move does to an order (its event, the rules it must meet) is :mod:`hk.domain.order.steps`.
"""

from __future__ import annotations

from typing import Literal

from hk.domain.lifecycle import IllegalStep, Lifecycle
from hk.errors import HkError

OrderStatus = Literal[
    "pending",
    "confirmed",
    "to_dispatch",
    "dispatched",
    "in_service",
    "completed",
    "settled",
    "cancelled",
]


STATUSES: tuple[OrderStatus, ...] = (
    "pending",
    "confirmed",
    "to_dispatch",
    "dispatched",
    "in_service",
    "completed",
    "settled",
    "cancelled",
)


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


TRANSITIONS: dict[str, tuple[OrderStatus, ...]] = {
    "pending": ("confirmed", "cancelled"),
    "confirmed": ("to_dispatch", "cancelled"),
    "to_dispatch": ("dispatched", "cancelled"),
    "dispatched": ("in_service", "cancelled"),
    "in_service": ("completed", "cancelled"),
    "completed": ("settled",),
    "settled": (),
    "cancelled": (),
}
"""Every allowed move, and the only place they are written down."""


NEEDS_A_WORKER = ("dispatched", "in_service", "completed")
"""States an order reaches only with a worker assigned."""


REWORKABLE = ("completed", "settled")
"""A rework (返工) redoes a service that was done."""


class LifecycleError(HkError):
    """A lifecycle rule refuses the change: a worker is missing, money is still due, …"""


class IllegalTransition(IllegalStep, LifecycleError):
    """A move the table does not allow; the message names the moves that are."""


ORDER: Lifecycle[OrderStatus] = Lifecycle(
    "order", STATUS_ZH, TRANSITIONS, LifecycleError, IllegalTransition
)
"""The order lifecycle: the one place its moves are checked and its states named."""
label = ORDER.label
allowed = ORDER.allowed
