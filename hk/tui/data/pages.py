"""What a customer's or a worker's page shows, read in a worker thread.

The record comes from its file (validated, as ``hk show`` reads it), with sensitive values
masked unless revealed (:func:`hk.services.records.display`); what belongs to it (orders,
contracts, survey responses, points) comes from the index, and its history from git
(:func:`hk.services.history.log`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hk.errors import HkError
from hk.services.lookup import Names, summary
from hk.services.orders.listing import list_items

if TYPE_CHECKING:
    from hk.domain.layout import Kind
    from hk.services.history import Entry
    from hk.store.archive import Archive


POINTS_SHOWN = 5
"""The latest points entries a customer's page shows (``hk points show`` lists them all)."""


class KeyNotHere(HkError):
    """Revealing needs the archive's key, and this machine has none."""


@dataclass
class Page:
    """One record as shown: its masked (or revealed) data and what belongs to it."""

    kind: Kind
    id: str
    code: str
    data: dict[str, Any]
    revealed: bool
    key_available: bool
    names: dict[str, str] = field(default_factory=dict)
    """Labels (``W3K9P 刘桂芳``) of the records the data names by ID."""
    orders: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    """A customer's return visits (回访), the latest due first."""
    complaints: list[dict[str, Any]] = field(default_factory=list)
    """A customer's complaints (投诉), the latest first."""
    stage: str = ""
    """A customer's lifecycle stage (:mod:`hk.domain.stage`)."""
    points: dict[str, Any] = field(default_factory=dict)
    """A customer's points (:meth:`hk.services.points.Ledger.to_dict`), the last entries only."""


def page(
    archive: Archive, kind: Kind, record_id: str, reveal: bool = False, today: dt.date | None = None
) -> Page:
    """The page of a customer or worker; ``reveal`` needs the key (:class:`KeyNotHere`); a
    customer's stage is the one on ``today``."""
    from hk.domain.kinds import KINDS
    from hk.services.records import code_of, display, load

    key_available = archive.keyring.available()
    if reveal and not key_available:
        raise KeyNotHere(
            "the archive's key is not on this machine: sensitive values stay hidden",
            hint=f"copy master.key and people/ from your key backup into "
            f"{archive.keyring.folder}, or set HK_KEY_DIR",
        )
    archive.index.refresh([kind])
    record, _ = load(archive, KINDS[kind], record_id)
    data = display(archive, record, reveal)
    names = Names(archive.index)
    refs: list[str] = [str(data["referrer"])] if data.get("referrer") else []
    refs += data.get("preferred_workers", []) + data.get("blocked_workers", [])
    out = Page(
        kind,
        record_id,
        code_of(archive, record_id) or "",
        data,
        reveal,
        key_available,
        names={ref: names(ref) for ref in refs},
    )
    index = archive.index
    orders = [summary(r) for r in index.list("order", ref=record_id)]
    out.orders = sorted(list_items(index, orders), key=lambda o: o["start"], reverse=True)
    if kind == "customer":
        out.contracts = sorted(
            (summary(r) for r in index.list("contract", ref=record_id)),
            key=lambda c: c["start"],
            reverse=True,
        )
        out.surveys = sorted(
            (summary(r) for r in index.list("survey", ref=record_id)),
            key=lambda s: s["at"],
            reverse=True,
        )
        out.visits = sorted(
            (
                v
                for v in map(summary, index.list("visit", ref=record_id))
                if v["customer"] == record_id
            ),
            key=lambda v: v["due"],
            reverse=True,
        )
        out.complaints = sorted(
            (
                c
                for c in map(summary, index.list("complaint", ref=record_id))
                if c["customer"] == record_id
            ),
            key=lambda c: c["received_at"],
            reverse=True,
        )
        for item in [*out.contracts, *out.complaints]:
            if item.get("worker"):
                out.names[item["worker"]] = names(item["worker"])
        from hk.services.stages import stage_of

        out.stage = stage_of(archive, record_id, today, refresh=False)  # the TUI's watch refreshes
        from hk.services.points import ledger

        out.points = ledger(archive, record_id, today, refresh=False).to_dict()
        out.points["entries"] = out.points["entries"][:POINTS_SHOWN]
    return out


def history(archive: Archive, kind: Kind, record_id: str, reveal: bool = False) -> list[Entry]:
    """Every commit that touched the record, newest first, field by field."""
    from hk.services.history import log

    return log(archive, kind, record_id, reveal and archive.keyring.available())
