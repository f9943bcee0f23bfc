"""The service catalog: the defaults a new archive starts with, adding and editing items."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from hk.domain.base import Record, now
from hk.domain.catalog import Package, ServiceItem
from hk.domain.ids import new_id
from hk.domain.layout import Kind
from hk.errors import HkError, InvalidData
from hk.services.records import ensure_fresh, load, update_fields
from hk.store import codec
from hk.store.archive import Archive
from hk.store.writer import SaveResult, save

CATALOG_KINDS: dict[Kind, type[ServiceItem] | type[Package]] = {
    "service": ServiceItem,
    "package": Package,
}


def default_catalog(archive: Archive) -> list[Record]:
    """Service items and packages of a typical company (``hk/data/catalog.yaml``)."""
    text = resources.files("hk.data").joinpath("catalog.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    stamp = now(archive.settings.locale.timezone)
    records: list[Record] = []
    for model, key in ((ServiceItem, "services"), (Package, "packages")):
        for entry in data[key]:
            records.append(
                model.model_validate({"id": new_id(), "created": stamp, "updated": stamp, **entry})
            )
    return records


def by_code(archive: Archive, code: str) -> ServiceItem | Package:
    """The catalog item with this code (service items first)."""
    ensure_fresh(archive, "service", "package")
    code = code.strip().upper()
    for kind, model in CATALOG_KINDS.items():
        rows = [r for r in archive.index.resolve(kind, code) if r["code"] == code]
        if rows:
            record, _ = load(archive, model, rows[0]["id"])
            return record
    raise HkError(
        f"no service item or package with code '{code}'",
        hint="list the catalog with `hk catalog list`",
    )


def add(archive: Archive, kind: Kind, fields: dict[str, Any]) -> tuple[Record, SaveResult]:
    model = CATALOG_KINDS[kind]
    ensure_fresh(archive, "service", "package")
    code = str(fields.get("code", "")).upper()
    fields = {**fields, "code": code}
    if any(r["code"] == code for k in CATALOG_KINDS for r in archive.index.resolve(k, code)):
        raise HkError(f"the catalog already has an item with code {code}")
    if model is Package:
        _check_services_exist(archive, fields.get("items", []))
    stamp = now(archive.settings.locale.timezone)
    try:
        record = model.model_validate(
            {"id": new_id(), "created": stamp, "updated": stamp, **fields}
        )
    except ValidationError as exc:
        raise InvalidData(codec.problems_from_validation(exc, None, "<input>", model)) from None
    return record, save(archive, record)


def edit(archive: Archive, code: str, changes: dict[str, Any]) -> tuple[Record, SaveResult]:
    item = by_code(archive, code)
    if "code" in changes and changes["code"] != item.code:
        raise HkError(
            "a catalog code cannot change; orders and quotes refer to it",
            hint="add a new item and set this one to --inactive",
        )
    record, loaded = load(archive, type(item), item.id)
    if isinstance(record, Package) and "items" in changes:
        _check_services_exist(archive, changes["items"])
    updated = update_fields(record, changes)
    return updated, save(archive, updated, loaded)


def _check_services_exist(archive: Archive, items: list[Any]) -> None:
    for entry in items:
        code = entry["service"] if isinstance(entry, dict) else entry.service
        rows = archive.index.resolve("service", code)
        if not rows:
            raise HkError(f"the package names service {code}, which is not in the catalog")
