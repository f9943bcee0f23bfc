"""Placement matching over an archive: the roles to fill, the workers, their bookings and
ratings, handed to :mod:`hk.dispatch.match` (which decides, and does no I/O).

A **role** is an order or a placement contract. :func:`match` ranks the workers for one;
:func:`match_all` proposes a worker for every *open* role at once, never one worker twice:

- an order still waiting for its worker: 待确认, 已确认 or 待派工, nobody assigned, not over
  yet, and a service of a long-term category (保姆, 育儿嫂, 月嫂, 老人陪护); hourly jobs are
  the daily plan's (``hk dispatch plan``);
- a placement contract drafted without a worker (a draft may wait for one), not past its end.

A contract's role starts on its first day, or today if that has passed (a draft signed late,
a replacement for a running placement).

:func:`apply` then assigns the proposals through the ordinary write paths, one commit each:
an order that is 待派工 through :func:`hk.services.orders.steps.assign` (which checks every
assignment rule again), a draft contract by naming its worker (:func:`name_worker`, an event
that keeps it a draft). An order not yet 待派工 (its deposit still out) is left as it is, and
said so.

What the archive says of a worker beyond her record (:class:`hk.dispatch.match.Facts`):

- **bookings**: placement contracts (draft with a worker, signed, active; a replaced worker
  until the day before her successor took over; a terminated one until its last day) and
  orders not cancelled, from :data:`LOOKBACK_DAYS` before the earliest role on;
- **ratings**: the survey responses (满意度调查) that name her: every ``hk order rate`` writes
  one and the order keeps only a copy, so the surveys alone count each rating once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hk.dispatch.match import (
    HEALTH_CERTIFICATE,
    LONG_TERM,
    ROLE_CERTIFICATES,
    Busy,
    Candidate,
    Facts,
    Proposed,
    Ranking,
    Request,
    propose,
    rank,
)
from hk.dispatch.travel import locate
from hk.domain.contract import STATUS_ZH as CONTRACT_STATUS_ZH
from hk.domain.contract import Contract
from hk.domain.customer import Customer
from hk.domain.layout import Kind
from hk.domain.order.model import Order
from hk.domain.order.status import STATUS_ZH as ORDER_STATUS_ZH
from hk.domain.settings import MatchWeights
from hk.domain.survey import DIMENSIONS
from hk.domain.worker import Worker
from hk.errors import HkError, NotFound, UsageError
from hk.services.records import ensure_fresh, load, resolve_id
from hk.store.archive import Archive

OPEN_ORDER = ("pending", "confirmed", "to_dispatch")
"""Order statuses still waiting for a worker."""
CLOSED_ORDER = ("completed", "settled", "cancelled")
CLOSED_CONTRACT = ("renewed", "expired", "terminated")
LOOKBACK_DAYS = 62
"""Orders that started this long before a role are read for bookings: a month-long booking
(月嫂 26 days, 医院陪护 by the day) may still hold a worker when the role starts."""
KINDS: tuple[Kind, ...] = ("worker", "customer", "order", "contract", "survey", "service")


@dataclass
class Match:
    """One role's short list, with what the operator should know about the role itself."""

    ranking: Ranking
    weights: MatchWeights
    customer_code: str
    customer_name: str
    place: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Applied:
    """What :func:`apply` did with one proposal."""

    ref: str
    worker: str
    done: bool
    message: str


@dataclass
class Proposal:
    """:func:`match_all`'s answer: each open role's worker (or why it has none)."""

    proposed: list[Proposed]
    weights: MatchWeights
    customers: dict[str, str]
    applied: list[Applied] = field(default_factory=list)


# --- one role ---------------------------------------------------------------------------------


def match(archive: Archive, ref: str, today: dt.date | None = None) -> Match:
    """Every worker filtered and ranked for the order or contract ``ref`` (code or ID)."""
    from hk.services.records import moment

    today = today or moment(archive, None).date()
    ensure_fresh(archive, *KINDS)
    kind, record_id = _resolve(archive, ref)
    catalog = _catalog(archive)
    if kind == "order":
        order, _ = load(archive, Order, record_id)
        customer, _ = load(archive, Customer, order.customer)
        request, notes = _order_request(archive, order, customer, catalog)
        address = order.address
    else:
        contract, _ = load(archive, Contract, record_id)
        customer, _ = load(archive, Customer, contract.customer)
        request, notes = _contract_request(archive, contract, customer, catalog, today)
        address = contract.address
    if request.location is None:
        notes.append(
            "the address has no coordinates, nor has its community or district in "
            "[dispatch.places] of hk.toml: distance scores ½ for everyone"
        )
    settings = archive.settings.dispatch
    workers = _workers(archive, request.start, request.end)
    ranking = rank(request, workers, settings.match, settings.places)
    code = _code(archive, customer.id)
    where = " ".join(p for p in (address.district, address.community) if p)
    return Match(ranking, settings.match, code, customer.name, where, notes)


def _resolve(archive: Archive, ref: str) -> tuple[str, str]:
    """(kind, id) of the order or contract ``ref`` names; anything else is a clear error."""
    for kind in ("order", "contract"):
        try:
            return kind, resolve_id(archive, kind, ref)[1]
        except NotFound:
            continue
    try:
        other, _ = resolve_id(archive, None, ref)
    except NotFound:
        other = None
    if other is not None:
        raise UsageError(
            f"'{ref}' is a {other}; matching is for an order (D…) or a placement contract (C…)"
        )
    raise NotFound(
        f"no order or contract with code or ID '{ref}'",
        hint="list them with hk order list or hk contract list",
    )


def _code(archive: Archive, record_id: str) -> str:
    row = archive.index.get(record_id)
    return str(row["code"]) if row is not None and row["code"] else record_id


def _named(archive: Archive, record_id: str) -> str:
    """``W7K2M 李春梅``: a worker as the operator knows her."""
    row = archive.index.get(record_id)
    return f"{row['code'] or record_id} {row['name']}" if row is not None else record_id


def _catalog(archive: Archive) -> dict[str, dict[str, Any]]:
    """Service items by code, as stored data (their name, category and required skills)."""
    out = {}
    for row in archive.index.list("service"):
        data = orjson.loads(row["data"])
        out[data["code"]] = data
    return out


def _role(codes: Iterable[str], catalog: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(catalog[c]["category"] for c in codes if c in catalog))


def _wishes(customer: Customer, categories: tuple[str, ...]) -> dict[str, Any]:
    """What the customer's preferences and the role add to any request."""
    wants = customer.preferences
    customary = [
        HEALTH_CERTIFICATE,
        *(c for cat in categories for c in ROLE_CERTIFICATES.get(cat, ())),
    ]
    return {
        "customer": customer.id,
        "categories": categories,
        "wanted_skills": tuple(wants.skills),
        "customary": tuple(dict.fromkeys(customary)),
        "preferred_age_min": wants.worker_age_min,
        "preferred_age_max": wants.worker_age_max,
        "native_places": tuple(wants.native_places),
        "dialects": tuple(wants.dialects),
        "cooking_taste": wants.cooking_taste,
        "blocked": frozenset(customer.blocked_workers),
        "preferred": frozenset(customer.preferred_workers),
    }


def _order_request(
    archive: Archive, order: Order, customer: Customer, catalog: dict[str, dict[str, Any]]
) -> tuple[Request, list[str]]:
    from hk.services.orders.rules import service_days

    code = _code(archive, order.id)
    if order.status in CLOSED_ORDER:
        raise HkError(
            f"order {code} is {ORDER_STATUS_ZH[order.status]} {order.status}; "
            "there is no worker to find for it"
        )
    services = order.services()
    categories = _role(services, catalog)
    days = service_days(order.window)
    skills = [s for c in services if c in catalog for s in catalog[c].get("required_skills", [])]
    wanted = order.requirements
    located = locate(order.address, archive.settings.dispatch.places)
    request = Request(
        source="order",
        record_id=order.id,
        ref=code,
        title="、".join(line.name or line.service for line in order.lines),
        start=days[0],
        end=days[-1],
        skills=tuple(dict.fromkeys([*skills, *wanted.skills])),
        certificates=tuple(wanted.certificates),
        gender=wanted.gender or customer.preferences.worker_gender,
        age_min=wanted.age_min,
        age_max=wanted.age_max,
        location=located.point if located else None,
        current_worker=order.workers[0] if order.workers else None,
        **_wishes(customer, categories),
    )
    notes = []
    if not request.long_term:
        request = _same_day(request, order)
        notes.append(
            f"order {code} ({request.title}) is not a long-term role "
            f"({' '.join(LONG_TERM)}): matched all the same; hk dispatch plan "
            "routes hourly jobs"
        )
    if order.workers:
        names = ", ".join(_named(archive, w) for w in order.workers)
        notes.append(
            f"order {code} is {ORDER_STATUS_ZH[order.status]} {order.status} with "
            f"{names} already; the list shows who else could go"
        )
    return request, notes


def _same_day(request: Request, order: Order) -> Request:
    """A job within one day is checked to the minute: her hours that day, her other jobs."""
    from dataclasses import replace

    window = order.window
    if window.start.date() != window.end.date():
        return request
    return replace(request, window=(window.start, window.end))


def _contract_request(
    archive: Archive,
    contract: Contract,
    customer: Customer,
    catalog: dict[str, dict[str, Any]],
    today: dt.date,
) -> tuple[Request, list[str]]:
    from hk.domain.contract import TYPE_ZH

    code = _code(archive, contract.id)
    status = contract.status_on(today)
    if contract.contract_type != "placement":
        raise UsageError(
            f"contract {code} is a {contract.contract_type} contract "
            f"({TYPE_ZH[contract.contract_type]}); matching is for placements, "
            "whose worker is a party"
        )
    if status in CLOSED_CONTRACT:
        raise HkError(
            f"contract {code} is {CONTRACT_STATUS_ZH[status]} {status}; there is "
            "no worker to find for it"
        )
    services = [line.service for line in contract.lines]
    categories = _role(services, catalog) or (
        (customer.category,) if customer.category in LONG_TERM else ()
    )
    skills = [s for c in services if c in catalog for s in catalog[c].get("required_skills", [])]
    last = contract.termination.date if contract.termination else contract.end
    start = max(contract.start, today)
    located = locate(contract.address, archive.settings.dispatch.places)
    current = contract.current_worker()
    request = Request(
        source="contract",
        record_id=contract.id,
        ref=code,
        title="、".join(line.name or line.service for line in contract.lines)
        or TYPE_ZH["placement"],
        start=start,
        end=max(start, last),
        skills=tuple(dict.fromkeys(skills)),
        gender=customer.preferences.worker_gender,
        location=located.point if located else None,
        current_worker=current,
        **_wishes(customer, categories),
    )
    notes = []
    if current is not None:
        then = (
            "the list shows who else could take it"
            if status == "draft"
            else "the list is for a replacement (hk contract replace-worker)"
        )
        notes.append(
            f"contract {code} is {CONTRACT_STATUS_ZH[status]} {status} with "
            f"{_named(archive, current)} as its worker; {then}"
        )
    return request, notes


# --- the workers --------------------------------------------------------------------------------


def _workers(archive: Archive, start: dt.date, end: dt.date) -> list[tuple[Worker, Facts]]:
    """Every worker, with her bookings from ``start`` − :data:`LOOKBACK_DAYS` to ``end`` and
    her ratings. Sensitive values stay out: matching never needs them."""
    busy = _bookings(archive, start - dt.timedelta(days=LOOKBACK_DAYS), end)
    ratings = _ratings(archive)
    out = []
    for row in archive.index.list("worker"):
        data = orjson.loads(row["data"])
        data.pop("id_number", None)
        worker = Worker.model_validate(data)
        mean, count = ratings.get(worker.id, (None, 0))
        facts = Facts(
            code=row["code"] or worker.id,
            busy=tuple(busy.get(worker.id, [])),
            rating=mean,
            ratings=count,
        )
        out.append((worker, facts))
    return out


def _bookings(archive: Archive, since: dt.date, until: dt.date) -> dict[str, list[Busy]]:
    out: dict[str, list[Busy]] = {}
    for row in archive.index.list("contract"):
        data = orjson.loads(row["data"])
        for worker, busy in placement_spans(data, row["code"] or row["id"]):
            if busy.end >= since and busy.start <= until:
                out.setdefault(worker, []).append(busy)
    rows = archive.index.list("order", day_from=since.isoformat(), day_to=until.isoformat())
    for row in rows:
        if row["category"] == "cancelled":
            continue
        data = orjson.loads(row["data"])
        if not data.get("workers"):
            continue
        begin = dt.datetime.fromisoformat(data["window"]["start"])
        end = dt.datetime.fromisoformat(data["window"]["end"])
        last = (end - dt.timedelta(microseconds=1)).date()
        busy = Busy(
            begin.date(), last, f"订单 {row['code'] or row['id']}", row["id"], at=(begin, end)
        )
        for worker in data["workers"]:
            out.setdefault(worker, []).append(busy)
    return out


def placement_spans(data: dict[str, Any], code: str) -> list[tuple[str, Busy]]:
    """Who a placement contract holds, and when: each worker from her first day until the
    day before the next one took over; nobody once it was renewed (its successor holds
    them) or while it is a draft without a worker."""
    if data.get("contract_type") != "placement" or not data.get("worker"):
        return []
    if data.get("status") == "renewed":
        return []
    start = dt.date.fromisoformat(data["start"])
    last = dt.date.fromisoformat((data.get("termination") or {}).get("date") or data["end"])
    holders = [(data["worker"], start)]
    holders += [(r["new"], dt.date.fromisoformat(r["date"])) for r in data.get("replacements", [])]
    draft = "（草稿）" if data.get("status") == "draft" else ""
    spans = []
    for n, (worker, first) in enumerate(holders):
        until = holders[n + 1][1] - dt.timedelta(days=1) if n + 1 < len(holders) else last
        if until >= first:
            spans.append(
                (worker, Busy(first, until, f"合同 {code}{draft}", data["id"], contract=True))
            )
    return spans


def _ratings(archive: Archive) -> dict[str, tuple[float, int]]:
    """Each worker's mean score (the five scores of a response averaged) and how many."""
    from hk.services.lookup import summary

    sums: dict[str, list[float]] = {}
    for row in archive.index.list("survey"):
        data = summary(row)
        scores = [data[d] for d in DIMENSIONS if isinstance(data.get(d), int)]
        if not scores:
            continue
        for worker in data.get("workers") or []:
            sums.setdefault(worker, []).append(sum(scores) / len(scores))
    return {w: (sum(v) / len(v), len(v)) for w, v in sums.items()}


# --- every open role ------------------------------------------------------------------------------


def open_requests(archive: Archive, today: dt.date) -> list[tuple[Request, str]]:
    """Every open role (see the module doc) as a request, with the customer's name; oldest
    start first."""
    ensure_fresh(archive, *KINDS)
    catalog = _catalog(archive)
    long_term = {code for code, item in catalog.items() if item.get("category") in LONG_TERM}
    found: list[tuple[Request, str]] = []
    customers: dict[str, Customer] = {}

    def customer_of(record_id: str) -> Customer:
        if record_id not in customers:
            customers[record_id] = load(archive, Customer, record_id)[0]
        return customers[record_id]

    for status in OPEN_ORDER:
        for row in archive.index.list("order", category=status):
            data = orjson.loads(row["data"])
            codes = {line["service"] for line in data.get("lines", [])}
            if data.get("workers") or not codes & long_term:
                continue
            order, _ = load(archive, Order, row["id"])
            if order.window.end.date() < today:
                continue
            customer = customer_of(order.customer)
            found.append((_order_request(archive, order, customer, catalog)[0], customer.name))
    for row in archive.index.list("contract", category="draft"):
        data = orjson.loads(row["data"])
        if (
            data.get("contract_type") != "placement"
            or data.get("worker")
            or (dt.date.fromisoformat(data["end"]) < today)
        ):
            continue
        contract, _ = load(archive, Contract, row["id"])
        customer = customer_of(contract.customer)
        request = _contract_request(archive, contract, customer, catalog, today)[0]
        found.append((request, customer.name))
    found.sort(key=lambda pair: (pair[0].start, pair[0].ref))
    return found


def match_all(archive: Archive, today: dt.date | None = None) -> Proposal:
    """A worker for every open role, none given twice; nothing is saved."""
    from hk.services.records import moment

    today = today or moment(archive, None).date()
    requests = open_requests(archive, today)
    settings = archive.settings.dispatch
    rankings = []
    if requests:
        workers = _workers(
            archive, min(r.start for r, _ in requests), max(r.end for r, _ in requests)
        )
        rankings = [rank(r, workers, settings.match, settings.places) for r, _ in requests]
    names = {r.record_id: name for r, name in requests}
    return Proposal(propose(rankings), settings.match, names)


# --- applying -------------------------------------------------------------------------------------


def apply(archive: Archive, proposal: Proposal) -> list[Applied]:
    """Assign every proposed worker that can be: one commit per role; a role that cannot
    take its worker now (an order not yet 待派工, a rule that changed since) is told, and the
    others go on."""
    from hk.services.orders.steps import assign, load_order

    done = []
    for proposed in proposal.proposed:
        chosen, request = proposed.chosen, proposed.ranking.request
        if chosen is None:
            continue
        who = f"{chosen.code} {chosen.name}"
        note = f"派工匹配：{chosen.total:.1f}/{chosen.out_of}分"
        try:
            if request.source == "order":
                order, _ = load_order(archive, request.record_id)
                if order.status != "to_dispatch":
                    done.append(
                        Applied(
                            request.ref,
                            who,
                            False,
                            f"order {request.ref} is "
                            f"{ORDER_STATUS_ZH[order.status]} {order.status}: "
                            "assign it once it is 待派工 (after the deposit, or "
                            "hk order ready with a note)",
                        )
                    )
                    continue
                assign(archive, request.record_id, [chosen.worker_id], note=note)
            else:
                name_worker(archive, request.record_id, chosen.worker_id, note)
        except HkError as exc:
            done.append(Applied(request.ref, who, False, exc.message))
            continue
        done.append(Applied(request.ref, who, True, f"{request.ref} → {who}"))
    proposal.applied = done
    return done


def name_worker(archive: Archive, ref: str, worker_ref: str, note: str = "") -> Any:
    """A draft placement without a worker names ``worker_ref`` as its third party; the draft
    stays a draft, with an event that says who was chosen. Refused once anyone has signed:
    the worker is part of the signed text."""
    from hk.domain.contract import ContractError, step
    from hk.domain.fields import format_phone
    from hk.services.contracts.steps import change_contract, load_worker
    from hk.services.records import moment

    worker = load_worker(archive, worker_ref)

    def change(contract: Contract) -> Contract:
        if contract.contract_type != "placement" or contract.status != "draft":
            raise ContractError(
                "a worker is named here on a draft placement only; a running "
                "one changes its worker with hk contract replace-worker"
            )
        if contract.worker is not None:
            raise ContractError("the draft names its worker already")
        if contract.signatures:
            raise ContractError(
                "the draft has been signed already; the worker is part of the signed text",
                hint="draft it again with --worker",
            )
        customer, _ = load(archive, Customer, contract.customer)
        if worker.status == "inactive" or worker.id in customer.blocked_workers:
            raise ContractError(
                f"{worker.name} cannot be placed with this customer (inactive or blocked)"
            )
        party = {"name": worker.name, "phone": format_phone(worker.phone) if worker.phone else ""}
        text = f"选定阿姨 {worker.name}" + (f"（{note}）" if note else "")
        return step(
            contract,
            "draft",
            archive.operator(),
            moment(archive, None),
            text,
            worker=worker.id,
            parties={
                "customer": contract.parties.customer,
                "company": contract.parties.company,
                "worker": party,
            },
        )

    return change_contract(archive, ref, change)


def candidates_json(candidates: list[Candidate]) -> list[dict[str, Any]]:
    """The short list as plain data: per factor its weight, score 0–1, points and reason."""
    return [
        {
            "rank": n,
            "worker": {"id": c.worker_id, "code": c.code, "name": c.name},
            "total": round(c.total, 2),
            "out_of": c.out_of,
            "preferred": c.preferred,
            "available_from": c.available_from.isoformat() if c.available_from else None,
            "factors": {
                f.name: {
                    "weight": f.weight,
                    "score": round(f.score, 3),
                    "points": round(f.points, 2),
                    "reason": f.reason,
                }
                for f in c.factors
            },
        }
        for n, c in enumerate(candidates, 1)
    ]


def request_json(request: Request) -> dict[str, Any]:
    """The role as plain data: what it requires (hard) and what the customer would like."""
    return {
        "source": request.source,
        "id": request.record_id,
        "ref": request.ref,
        "title": request.title,
        "customer": request.customer,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "categories": list(request.categories),
        "long_term": request.long_term,
        "current_worker": request.current_worker,
        "requires": {
            "skills": list(request.skills),
            "certificates": list(request.certificates),
            "gender": request.gender,
            "age_min": request.age_min,
            "age_max": request.age_max,
        },
        "wishes": {
            "skills": list(request.wanted_skills),
            "certificates": list(request.customary),
            "age_min": request.preferred_age_min,
            "age_max": request.preferred_age_max,
            "native_places": list(request.native_places),
            "dialects": list(request.dialects),
            "cooking_taste": request.cooking_taste,
        },
    }
