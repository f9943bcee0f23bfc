"""The registry of record kinds: which model, which folder, which file format."""

from __future__ import annotations

from hk.domain.base import Record
from hk.domain.catalog import Package, ServiceItem
from hk.domain.customer import Customer
from hk.domain.order import Order
from hk.domain.quote import Quote
from hk.domain.survey import Survey
from hk.domain.worker import Worker

KINDS: dict[str, type[Record]] = {
    model.kind: model for model in (Customer, Worker, ServiceItem, Package, Order, Quote,
                                    Survey)
}
"""Every record kind, by its singular name."""
