"""Erasing a person (PIPL Art. 47): what goes, what stays, record by record.

A person's sensitive values are sealed with a key of their own; destroying that key makes
every copy of them unreadable, in every clone and in all of git's history (crypto-shredding).
The plain-text personal data in the current files — name, phones, addresses, notes, what was
said in a visit or a complaint — is redacted here. The business facts stay, attached to a
tombstone that keeps the record's ID: dates, services, amounts, who served, scores. Reports and
the books still add up; nothing identifies the person any more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel

from hk.domain.base import Record
from hk.domain.common import Address
from hk.domain.fields import Sealed

ERASED = "（已删除）"
"""What stands where a name or a required text was: the record keeps its shape."""

M = TypeVar("M", bound=BaseModel)


def without_sensitive(model: M) -> M:
    """``model`` with every sealed value removed (its key is destroyed with the erasure)."""
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Sealed):
            updates[name] = None
        elif isinstance(value, BaseModel):
            new = without_sensitive(value)
            if new is not value:
                updates[name] = new
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            items = [without_sensitive(item) for item in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                updates[name] = items
    return model.model_copy(update=updates) if updates else model


def _area(address: Address | None) -> Address | None:
    """The city and district of an address: enough for reports, not to find anyone."""
    if address is None:
        return None
    return Address(city=address.city, district=address.district)


def _quiet(events: list[Any], *names: str) -> list[Any]:
    """Events with their free-text notes (and a location, where they have one) removed."""
    out = []
    for event in events:
        updates: dict[str, Any] = {"note": ""} if getattr(event, "note", "") else {}
        for name in names:
            if getattr(event, name, None) is not None:
                updates[name] = None
        out.append(event.model_copy(update=updates) if updates else event)
    return out


def redact(record: Record, on: dt.date) -> Record:
    """``record`` with the erased person's plain-text personal data taken out.

    The person's own record (customer or worker) becomes a tombstone dated ``on``; a record
    that belongs to them (an order, a visit …) loses what describes or locates them. A kind
    not named here holds no personal data of its own and is returned as it is.
    """
    record = without_sensitive(record)
    kind = record.kind
    if kind == "customer":
        from hk.domain.customer import Customer, Preferences

        assert isinstance(record, Customer)
        return record.model_copy(
            update={
                "name": ERASED,
                "phones": [],
                "wechat": "",
                "addresses": [a for a in map(_area, record.addresses) if a is not None][:1],
                "birthday": None,
                "household": [],
                "preferences": Preferences(),
                "taboos": [],
                "tags": [],
                "notes": "",
                "consents": [
                    c if c.withdrawn else c.model_copy(update={"withdrawn": on})
                    for c in record.consents
                ],
                "erased": on,
            }
        )
    if kind == "worker":
        from hk.domain.worker import Worker

        assert isinstance(record, Worker)
        return record.model_copy(
            update={
                "name": ERASED,
                "phone": None,
                "wechat": "",
                "home": _area(record.home),
                "native_place": "",
                "dialects": [],
                "birth_year": None,
                "references": [],
                "credit_check": None,
                "insurance": None,
                "certificates": [c.model_copy(update={"number": ""}) for c in record.certificates],
                "notes": "",
                "erased": on,
            }
        )
    if kind == "order":
        from hk.domain.order.model import Order

        assert isinstance(record, Order)
        rating = record.rating
        return record.model_copy(
            update={
                "address": _area(record.address),
                "notes": "",
                "discount_note": "",
                "events": _quiet(record.events, "location"),
                "payments": [p.model_copy(update={"note": ""}) for p in record.payments],
                "checklist": [c.model_copy(update={"note": ""}) for c in record.checklist],
                "rating": rating.model_copy(update={"comment": ""}) if rating else None,
            }
        )
    if kind == "visit":
        from hk.domain.visit.model import Visit

        assert isinstance(record, Visit)
        return record.model_copy(
            update={"outcome": "", "actions": [], "events": _quiet(record.events)}
        )
    if kind == "complaint":
        from hk.domain.complaint import Complaint

        assert isinstance(record, Complaint)
        return record.model_copy(
            update={"description": ERASED, "resolution": "", "events": _quiet(record.events)}
        )
    if kind == "survey":
        from hk.domain.survey import Survey

        assert isinstance(record, Survey)
        return record.model_copy(update={"comment": ""})
    return record
