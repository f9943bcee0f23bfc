"""The registry of record kinds: which model, which folder, which file format.

A model is imported when its kind is first asked for: a command about one customer loads the
customer model, not the order, quote and contract models with their rules (tens of
milliseconds of start-up on every call).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from hk.domain.layout import Kind

if TYPE_CHECKING:
    from hk.domain.base import Record

MODELS: dict[Kind, tuple[str, str]] = {
    "customer": ("hk.domain.customer", "Customer"),
    "worker": ("hk.domain.worker", "Worker"),
    "service": ("hk.domain.catalog", "ServiceItem"),
    "package": ("hk.domain.catalog", "Package"),
    "order": ("hk.domain.order.model", "Order"),
    "quote": ("hk.domain.quote", "Quote"),
    "contract": ("hk.domain.contract", "Contract"),
    "survey": ("hk.domain.survey", "Survey"),
    "visit": ("hk.domain.visit.model", "Visit"),
    "complaint": ("hk.domain.complaint", "Complaint"),
    "points": ("hk.domain.points", "PointsEntry"),
}
"""Each kind's model, as module and class name."""


class _Kinds(Mapping[Kind, "type[Record]"]):
    """``KINDS[kind]`` is the model; iterating gives the kinds without importing any model."""

    def __getitem__(self, kind: Kind) -> type[Record]:
        module, name = MODELS[kind]
        model: type[Record] = getattr(importlib.import_module(module), name)
        return model

    def __iter__(self) -> Iterator[Kind]:
        return iter(MODELS)

    def __len__(self) -> int:
        return len(MODELS)


KINDS: Mapping[Kind, type[Record]] = _Kinds()
"""Every record kind, by its singular name."""
