"""Contracts (合同): draft one, activate, renew, terminate, replace the worker (SPEC §2–§3).

Signing, verifying and rendering the document are in :mod:`hk.services.contracts.document`.
Every step reads the contract from its file, applies one rule of :mod:`hk.domain.contract` and
saves it with :func:`hk.store.writer.save`: one step, one commit, one event in the log.

Drafting a contract from code (a quote accepted as a contract calls this)::

    contract, result = new_contract(archive, customer_ref, kind="package", start=date,
                                    months=3, package="PKG-QUARTER",
                                    schedule="weekly:tue 09:00-12:00",
                                    services=[("BJ-DAILY", None)], quote=quote.id)

``customer_ref`` is the customer's code or ID. The terms, all keywords:

- ``kind`` (required): ``placement`` (a worker placed long-term, 三方合同), ``package`` or
  ``service`` (recurring visits);
- ``start`` (required, a date) and ``end`` (inclusive) or ``months`` (end = the day before the
  same date ``months`` later);
- ``worker``: code or ID (a placement is signed by its worker; a draft may wait for one);
- ``model``: ``中介制`` (default for placements) or ``员工制``;
- ``services``: each ``"CODE[:QTY]"``, ``(code, quantity or None)`` or ``(code, quantity,
  unit_price_fen)`` (an agreed price); priced with :func:`hk.domain.pricing.price_lines` for the
  customer's tier, per month (placement) or per visit (service);
- ``package``: catalog package code (its items become the lines when no services are given);
- ``schedule``: a :class:`~hk.domain.schedule.Schedule` or its short form
  (``"weekly:tue,fri 09:00-12:00"``), for package and service contracts;
- ``service_fee_fen`` (default: the lines' total, or the package price), ``intro_fee_fen``,
  ``deposit_fen`` (default 0);
- ``address`` (the customer's address by number, from 1), ``payment_method``,
  ``payment_cycle``, ``payment_day``, ``hours``, ``rest_days``, ``trial_days``, ``insurance``,
  ``free_replacements``, ``clauses`` (补充条款, a list of text), ``quote`` (ID), ``notes``,
  ``at`` (when it was drafted; default now).

It returns the contract and the commit; errors are :class:`~hk.errors.HkError` with the rule
named (never a Pydantic message).

**Renewal.** :func:`renew` drafts the successor (linked by ``previous``) for the next period;
the old contract becomes 已续签 renewed, with ``renewed_by``, when the successor is *activated*
(both in one commit) — a renewal the customer never signs leaves the old contract as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hk.domain.base import Record
from hk.domain.catalog import Package, ServiceItem
from hk.domain.contract import (
    CONTRACT,
    TRANSITIONS,
    Contract,
    ContractError,
    ContractLine,
    Replacement,
    Termination,
    label,
    step,
)
from hk.domain.customer import Customer
from hk.domain.fields import format_phone
from hk.domain.ids import new_id
from hk.domain.order.model import PAYMENT_METHOD_ZH
from hk.domain.pricing import LineRequest, PriceBreakdown, parse_quantity, price_lines
from hk.domain.schedule import Schedule, ScheduleError, line_of, parse_schedule
from hk.domain.worker import Worker
from hk.errors import HkError, UsageError
from hk.services.orders.steps import service_items
from hk.services.records import (
    Stepped,
    choice_of,
    load,
    load_named,
    load_ref,
    moment,
    refused,
    resolve_id,
)
from hk.store.archive import Archive
from hk.store.writer import Loaded, SaveResult, save, save_together

MODELS = ("中介制", "员工制")
FEE_UNITS = {"placement": "month", "package": "total", "service": "visit"}
CYCLES = {"placement": "monthly", "package": "once", "service": "monthly"}


# --- shared ------------------------------------------------------------------------------------


def today(archive: Archive) -> dt.date:
    return moment(archive, None).date()


def load_contract(archive: Archive, ref: str) -> tuple[Contract, Loaded]:
    """The contract ``ref`` names (code or ID), read from its file, with what a save needs."""
    return load_named(
        archive, Contract, ref, "list contracts with hk contract list (--customer, --status …)"
    )


def change_contract(
    archive: Archive, ref: str, change: Callable[[Contract], Contract], also: Sequence[Record] = ()
) -> Stepped:
    """Apply ``change`` to the contract ``ref`` names and save it over what was read; ``also``
    are new records the step makes (a replacement's return visit), in the same commit."""
    contract, loaded = load_contract(archive, ref)
    try:
        updated = change(contract)
    except ValidationError as exc:
        raise refused(exc) from None
    result = (
        save_together(archive, [(updated, loaded), *((r, None) for r in also)])
        if also
        else save(archive, updated, loaded)
    )
    return Stepped(updated, result, updated.events[len(contract.events) :], list(also))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def end_of(start: dt.date, end: dt.date | None, months: int | None) -> dt.date:
    """The last day from ``end`` or ``months`` (exactly one of them)."""
    if (end is None) == (months is None):
        raise UsageError(
            "give the end date or the number of months, one of them",
            hint="--end 2026-12-31 or --months 12",
        )
    if months is not None:
        if not 1 <= months <= 120:
            raise UsageError(f"--months is from 1 to 120, not {months}")
        return add_months(start, months) - dt.timedelta(days=1)
    assert end is not None
    return end


def _customer_party(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "phone": format_phone(customer.phones[0]) if customer.phones else "",
    }


def _worker_party(worker: Worker) -> dict[str, Any]:
    return {"name": worker.name, "phone": format_phone(worker.phone) if worker.phone else ""}


def _company_party(archive: Archive) -> dict[str, Any]:
    company = archive.settings.company
    return {
        "name": company.name or "（公司名称）",
        "phone": company.phone,
        "address": company.address,
        "license": company.license,
    }


def load_worker(archive: Archive, ref: str) -> Worker:
    return load_named(archive, Worker, ref)[0]


def _placeable(worker: Worker, customer: Customer) -> None:
    if worker.status == "inactive":
        raise HkError(f"{worker.name} is inactive (停用) and cannot be placed")
    if worker.id in customer.blocked_workers:
        raise HkError(f"the customer has blocked {worker.name}")


# --- drafting ------------------------------------------------------------------------------------


ServiceSpec = str | tuple[str, Any] | tuple[str, Any, int | None]


def new_contract(archive: Archive, customer_ref: str, **terms: Any) -> tuple[Contract, SaveResult]:
    """Draft a contract for the customer (status 草稿 draft); one commit. See the module doc."""
    known = {
        "kind",
        "start",
        "end",
        "months",
        "worker",
        "model",
        "services",
        "package",
        "schedule",
        "service_fee_fen",
        "intro_fee_fen",
        "deposit_fen",
        "address",
        "payment_method",
        "payment_cycle",
        "payment_day",
        "hours",
        "rest_days",
        "trial_days",
        "insurance",
        "free_replacements",
        "clauses",
        "quote",
        "notes",
        "at",
    }
    unknown = sorted(set(terms) - known)
    if unknown:
        raise TypeError(f"new_contract() got unknown terms: {', '.join(unknown)}")
    record, _ = load_ref(archive, "customer", customer_ref)
    assert isinstance(record, Customer)
    customer = record
    kind = choice_of(
        str(terms.get("kind") or ""),
        {"placement": "派驻", "package": "套餐", "service": "周期服务"},
        "a contract kind",
    )
    start = terms.get("start")
    if not isinstance(start, dt.date):
        raise UsageError("a contract needs its start date", hint="--start 2026-03-01")
    end = end_of(start, terms.get("end"), terms.get("months"))
    worker = None
    if terms.get("worker"):
        worker = load_worker(archive, str(terms["worker"]))
        _placeable(worker, customer)
    address = int(terms.get("address") or 1)
    if not customer.addresses:
        raise HkError(
            "the customer has no address for the contract",
            hint="add one with hk customer edit … --district … --address …",
        )
    if not 1 <= address <= len(customer.addresses):
        raise UsageError(
            f"the customer has {len(customer.addresses)} address(es); there is no address {address}"
        )
    package = _package(archive, terms["package"]) if terms.get("package") else None
    specs = [_spec(s) for s in terms.get("services") or []]
    schedule = _schedule(terms.get("schedule"), kind, start, end, specs, package)
    lines, breakdown = _lines(archive, customer, kind, specs, package, schedule, start)
    fee = terms.get("service_fee_fen")
    if fee is None:
        fee = (
            package.price_fen
            if package is not None and kind == "package"
            else (breakdown.total_fen if breakdown else 0)
        )
    if not fee:
        raise UsageError(
            "the contract needs its service fee",
            hint="give --service-fee, or --service/--package to price it",
        )
    model = terms.get("model") or ("中介制" if kind == "placement" else None)
    if model is not None and model not in MODELS:
        raise UsageError(f"'{model}' is not 中介制 or 员工制")
    at = moment(archive, terms.get("at"))
    contract_id = new_id()
    data: dict[str, Any] = {
        "id": contract_id,
        "created": at,
        "updated": at,
        "number": archive.index.code_for_new("contract", contract_id),
        "contract_type": kind,
        "model": model,
        "customer": customer.id,
        "worker": worker.id if worker else None,
        "parties": {
            "customer": _customer_party(customer),
            "company": _company_party(archive),
            "worker": _worker_party(worker) if worker else None,
        },
        "address": customer.addresses[address - 1],
        "start": start,
        "end": end,
        "package": package.code if package else None,
        "package_name": package.name if package else "",
        "schedule": schedule,
        "lines": lines,
        "service_fee_fen": fee,
        "fee_unit": FEE_UNITS[kind],
        "intro_fee_fen": terms.get("intro_fee_fen") or 0,
        "deposit_fen": terms.get("deposit_fen") or 0,
        "payment_method": _method(terms.get("payment_method")),
        "payment_cycle": terms.get("payment_cycle") or CYCLES[kind],
        "payment_day": terms.get("payment_day"),
        "hours": terms.get("hours") or "",
        "rest_days": terms.get("rest_days") or "",
        "trial_days": terms.get("trial_days") or 0,
        "insurance": terms.get("insurance") or "",
        "free_replacements": 3
        if terms.get("free_replacements") is None
        else terms["free_replacements"],
        "terms": list(terms.get("clauses") or []),
        "quote": _quote(archive, terms.get("quote")),
        "notes": terms.get("notes") or "",
        "events": [{"at": at, "actor": archive.operator(), "to_status": "draft", "note": "起草"}],
    }
    contract = build(data)
    return contract, save(archive, contract)


def build(data: dict[str, Any]) -> Contract:
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        raise refused(exc) from None


def _method(text: str | None) -> str:
    return choice_of(text, PAYMENT_METHOD_ZH, "a payment method") if text else "wechat"


def _quote(archive: Archive, ref: str | None) -> str | None:
    if not ref:
        return None
    from hk.domain.ids import is_id

    if is_id(ref):
        return ref.upper()
    return resolve_id(archive, "quote", ref)[1]


def _package(archive: Archive, code: str) -> Package:
    from hk.services.catalog import by_code

    item = by_code(archive, code)
    if not isinstance(item, Package):
        raise HkError(
            f"{item.code} is a service item, not a package",
            hint="give it with --service; see packages with hk catalog list",
        )
    return item


def _spec(value: ServiceSpec) -> tuple[str, Any, int | None]:
    if isinstance(value, str):
        try:
            line = line_of(value)
        except ScheduleError as exc:
            raise UsageError(f"--service: {exc}") from None
        return line.service, line.quantity, None
    code, quantity, *price = value
    return str(code).strip().upper(), quantity, price[0] if price else None


def _schedule(
    given: str | Schedule | None,
    kind: str,
    start: dt.date,
    end: dt.date,
    specs: list[tuple[str, Any, int | None]],
    package: Package | None,
) -> Schedule | None:
    if given is None or given == "":
        return None
    if kind == "placement":
        raise UsageError(
            "a placement has working hours (--hours), not a schedule",
            hint="a schedule is for package and service contracts",
        )
    if isinstance(given, Schedule):
        return given
    services: list[tuple[str, Any]] = [(code, qty) for code, qty, _ in specs]
    if not services and package is not None:
        services = [(item.service, None) for item in package.items]
    if not services:
        raise UsageError(
            "a schedule needs the services of each visit", hint="add --service CODE[:QTY]"
        )
    try:
        return parse_schedule(given, start, end, services)
    except ScheduleError as exc:
        raise UsageError(f"--schedule: {exc}") from None


def _lines(
    archive: Archive,
    customer: Customer,
    kind: str,
    specs: list[tuple[str, Any, int | None]],
    package: Package | None,
    schedule: Schedule | None,
    start: dt.date,
) -> tuple[list[ContractLine], PriceBreakdown | None]:
    """The services priced for the customer's tier, per month (placement) or visit."""
    visits: dict[str, int] = {}
    if not specs and package is not None:
        specs = [(item.service, None, None) for item in package.items]
        visits = {item.service: item.visits for item in package.items}
    elif package is not None:
        visits = {item.service: item.visits for item in package.items}
    if not specs:
        return [], None
    items = service_items(archive, [code for code, _, _ in specs])
    hours = None
    if schedule is not None:
        span = dt.datetime.combine(start, schedule.end_time()) - dt.datetime.combine(
            start, schedule.start_time()
        )
        hours = (Decimal(int(span.total_seconds())) / 3600).quantize(Decimal("0.01"))
    requests = [
        LineRequest(items[code], _quantity(items[code], qty, hours), None, price)
        for code, qty, price in specs
    ]
    breakdown = price_lines(requests, archive.settings, customer.tier or None, None, on=start)
    lines = [
        ContractLine(
            service=p.code,
            name=p.name,
            quantity=p.charged_quantity,
            unit=p.unit,
            unit_price_fen=p.unit_price_fen,
            discount_fen=p.discount_fen,
            amount_fen=p.net_fen,
            visits=visits.get(p.code),
        )
        for p in breakdown.lines
    ]
    return lines, breakdown


def _quantity(item: ServiceItem, given: Any, hours: Decimal | None) -> Decimal:
    from hk.services.orders.rules import default_quantity

    return default_quantity(item, hours) if given is None else parse_quantity(given, item)


# --- the lifecycle -------------------------------------------------------------------------------


def activate(
    archive: Archive, ref: str, note: str = "", at: dt.datetime | None = None
) -> list[Stepped]:
    """已签署 → 生效; a renewal's predecessor becomes 已续签 renewed in the same commit."""
    contract, loaded = load_contract(archive, ref)
    actor, when = archive.operator(), moment(archive, at)
    active = advance(contract, "active", actor, when, note)
    if contract.previous is None:
        return [Stepped(active, save(archive, active, loaded), active.events[-1:])]
    old, old_loaded = load(archive, Contract, contract.previous)
    if "renewed" not in TRANSITIONS[old.status]:
        raise ContractError(
            f"the contract this one renews ({old.number}) is {label(old.status)}; "
            "only an active or expired contract is renewed"
        )
    renewed = advance(
        old,
        "renewed",
        actor,
        max(when, old.events[-1].at),
        f"续签为 {contract.number}",
        renewed_by=contract.id,
    )
    result = save_together(
        archive,
        [(renewed, old_loaded), (active, loaded)],
        f"contract {contract.number}: renews {old.number}",
    )
    return [
        Stepped(renewed, result, renewed.events[-1:]),
        Stepped(active, result, active.events[-1:]),
    ]


def advance(
    contract: Contract, to: str, actor: str, at: dt.datetime, note: str = "", **changes: Any
) -> Contract:
    """:func:`hk.domain.contract.step`, with a broken rule as an :class:`HkError`."""
    try:
        return step(contract, to, actor, at, note, **changes)
    except ValidationError as exc:
        raise refused(exc) from None


def terminate(
    archive: Archive,
    ref: str,
    reason: str,
    date: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Stepped:
    """→ 已终止 terminated, with the last day and the reason (a signed or active contract)."""
    if not reason.strip():
        raise UsageError("say why the contract is terminated", hint="--reason …")
    actor, when = archive.operator(), moment(archive, at)
    last = date or when.date()

    def change(contract: Contract) -> Contract:
        if last > contract.end:
            raise ContractError(
                f"the contract ends on {contract.end} anyway; terminating it "
                f"on {last} is after that",
                hint="give --date on or before it",
            )
        return advance(
            contract,
            "terminated",
            actor,
            when,
            reason.strip(),
            termination=Termination(date=last, reason=reason.strip()),
        )

    return change_contract(archive, ref, change)


def replace_worker(
    archive: Archive,
    ref: str,
    new_worker: str,
    reason: str,
    date: dt.date | None = None,
    operator: str | None = None,
    at: dt.datetime | None = None,
) -> Stepped:
    """更换阿姨: the new worker takes over on ``date``; every replacement stays in the list.

    The signed terms keep the worker who signed; see :mod:`hk.domain.contract`.
    """
    if not reason.strip():
        raise UsageError("say why the worker is replaced", hint="--reason …")
    contract, _ = load_contract(archive, ref)
    if (
        contract.status not in ("signed", "active")
        or contract.status_on(today(archive)) == "expired"
    ):
        shown = contract.status_on(today(archive))
        raise ContractError(
            f"the contract is {label(shown)}; a worker is replaced while it is signed or active"
        )
    if contract.current_worker() is None:
        raise ContractError("the contract names no worker to replace")
    worker = load_worker(archive, new_worker)
    customer, _ = load(archive, Customer, contract.customer)
    _placeable(worker, customer)
    if worker.id == contract.current_worker():
        raise UsageError(f"{worker.name} is already the contract's worker")
    when = moment(archive, at)
    day = date or max(when.date(), contract.start)
    by = (operator or "").strip() or archive.operator()
    old = contract.current_worker()
    assert old is not None

    def change(c: Contract) -> Contract:
        replacement = Replacement(
            date=day, old=old, new=worker.id, reason=reason.strip(), operator=by, at=when
        )
        return advance(
            c,
            c.status,
            archive.operator(),
            when,
            f"更换阿姨，{day} 起由 {worker.name} 接替：{reason.strip()}",
            replacements=[*c.replacements, replacement],
        )

    from hk.services.followups import new_worker_visit

    visit = new_worker_visit(archive, contract, worker.id, day, when)
    return change_contract(archive, contract.id, change, [visit] if visit else [])


def successors(archive: Archive, contract: Contract) -> list[dict[str, Any]]:
    """Listing rows of the contracts that renew this one (drafts included)."""
    from hk.services.lookup import list_rows

    rows = list_rows(archive.index, "contract", ref=contract.id)
    return [r for r in rows if r.get("previous") == contract.id]


def renew(
    archive: Archive,
    ref: str,
    *,
    end: dt.date | None = None,
    months: int | None = None,
    service_fee_fen: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> tuple[Contract, SaveResult]:
    """Draft the successor for the next period: same terms, the worker serving now, the
    parties' contacts as they are today; it starts the day after this one ends."""
    old, _ = load_contract(archive, ref)
    if "renewed" not in TRANSITIONS[old.status]:
        raise CONTRACT.refuse(old.status, "renewed")
    live = [r for r in successors(archive, old) if r["status"] != "terminated"]
    if live:
        raise ContractError(
            f"contract {old.number} is already renewed by "
            f"{live[0]['code'] or live[0]['id']} ({label(live[0]['status'])})",
            hint="terminate that draft first to renew differently",
        )
    start = old.end + dt.timedelta(days=1)
    if end is None and months is None:
        months = old.months()
    last = end_of(start, end, months)
    customer, _ = load(archive, Customer, old.customer)
    worker_id = old.current_worker()
    worker = load(archive, Worker, worker_id)[0] if worker_id else None
    when = moment(archive, at)
    new = new_id()
    data = {name: getattr(old, name) for name in Contract.model_fields}
    schedule = old.schedule
    if schedule is not None:
        schedule = schedule.model_copy(
            update={"starts": start, "ends": last if schedule.ends is not None else None}
        )
    data.update(
        {
            "id": new,
            "created": when,
            "updated": when,
            "number": archive.index.code_for_new("contract", new),
            "status": "draft",
            "worker": worker_id,
            "end": last,
            "start": start,
            "schedule": schedule,
            "parties": {
                "customer": _customer_party(customer),
                "company": _company_party(archive),
                "worker": _worker_party(worker) if worker else None,
            },
            "service_fee_fen": service_fee_fen or old.service_fee_fen,
            "previous": old.id,
            "renewed_by": None,
            "quote": None,
            "signatures": [],
            "replacements": [],
            "termination": None,
            "events": [
                {
                    "at": when,
                    "actor": archive.operator(),
                    "to_status": "draft",
                    "note": (f"续签自 {old.number}" + (f"；{note}" if note else "")),
                }
            ],
        }
    )
    contract = build(data)
    return contract, save(archive, contract)
