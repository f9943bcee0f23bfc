"""Customers and workers: create, edit, tag. Search and listing are in :mod:`hk.services.lookup`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.domain.worker import Worker
from hk.errors import InvalidData
from hk.services.records import load_ref, resolve_id, update_fields
from hk.store import codec
from hk.store.archive import Archive
from hk.store.writer import Loaded, SaveResult, save


def _build(
    archive: Archive, model: type[Customer] | type[Worker], fields: dict[str, Any]
) -> Customer | Worker:
    stamp = now(archive.settings.locale.timezone)
    data = {"id": new_id(), "created": stamp, "updated": stamp, **fields}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidData(codec.problems_from_validation(exc, None, "<input>", model)) from None


def add_customer(archive: Archive, fields: dict[str, Any]) -> tuple[Customer, SaveResult]:
    """Create a customer from validated fields; one commit."""
    fields = _resolve_refs(archive, fields)
    customer = _build(archive, Customer, fields)
    assert isinstance(customer, Customer)
    return customer, save(archive, customer)


def add_worker(archive: Archive, fields: dict[str, Any]) -> tuple[Worker, SaveResult]:
    worker = _build(archive, Worker, fields)
    assert isinstance(worker, Worker)
    return worker, save(archive, worker)


def edit(
    archive: Archive,
    kind: str,
    ref: str,
    changes: dict[str, Any],
    derive: Callable[[Any], dict[str, Any]] | None = None,
    opened: tuple[Any, Loaded] | None = None,
) -> tuple[Any, SaveResult]:
    """Apply field changes to the record ``ref`` names; refuses a stale edit; one commit.

    ``derive`` computes further changes from the current record (adding a phone to the list,
    changing one part of the address) without reading it twice. ``opened`` is the record as
    read earlier (a form opened minutes ago): the changes apply to it, and the save is
    refused if the file changed since then, not only since now.
    """
    record, loaded = opened if opened is not None else load_ref(archive, kind, ref)
    if derive is not None:
        changes = {**changes, **derive(record)}
    if kind == "customer":
        changes = _resolve_refs(archive, changes)
    updated = update_fields(record, changes)
    return updated, save(archive, updated, loaded)


def tag(
    archive: Archive, ref: str, add: list[str], remove: list[str]
) -> tuple[Customer, SaveResult]:
    record, loaded = load_ref(archive, "customer", ref)
    assert isinstance(record, Customer)
    tags = [t for t in record.tags if t not in remove] + [t for t in add if t not in record.tags]
    updated = update_fields(record, {"tags": tags})
    return updated, save(archive, updated, loaded)


def _resolve_refs(archive: Archive, fields: dict[str, Any]) -> dict[str, Any]:
    """Let users name the referrer and workers by code, not only by ID."""
    out = dict(fields)
    if out.get("referrer"):
        out["referrer"] = resolve_id(archive, "customer", out["referrer"])[1]
    for key in ("preferred_workers", "blocked_workers"):
        if key in out:
            out[key] = [resolve_id(archive, "worker", ref)[1] for ref in out[key]]
    return out
