"""The contract as a document: render it, sign it, verify the signatures (SPEC §2).

**What a signature covers.** The template ``contract.md.j2`` is rendered in two parts:

- ``part="terms"``: the contract itself — parties, service, dates, fees, clauses and the blank
  signature blocks — from the contract's terms only (:data:`hk.domain.contract.TERMS_FIELDS`:
  copies made when it was drafted, never the live customer or worker record). This Markdown,
  as UTF-8, is *the signed document*: each :class:`~hk.domain.contract.Signature` keeps its
  SHA-256 (:func:`hk.services.documents.digest`);
- ``part="appendix"``: 附件 — who signed when and how, worker replacements, termination, the
  status — everything that happens *to* the contract after it is written.

The printed document is the terms followed by the appendix. Since the terms part never sees a
signature, a status or an event, rendering it again later gives the same bytes unless the terms
changed (or the template did): :func:`verify` does exactly that and, when a hash differs, finds
in git the version of the file the party signed and names the fields that changed since. ID
numbers (身份证号) are never in the signed text; ``reveal`` prints them in the terms part of a
printed copy only (that copy's bytes then differ from the signed text, by those lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hk.domain.catalog import UNIT_ZH
from hk.domain.contract import (
    FEE_UNIT_ZH,
    PARTY_ZH,
    ROLE_ZH,
    SIGN_METHOD_ZH,
    STATUS_ZH,
    TYPE_ZH,
    Contract,
    ContractError,
    Signature,
    label,
)
from hk.domain.pricing import format_quantity
from hk.errors import HkError, UsageError
from hk.services import documents
from hk.services.contracts.steps import Stepped, advance, change_contract, load_contract, today
from hk.services.history import flatten
from hk.services.records import choice_of, moment
from hk.store.archive import Archive

TEMPLATE = "contract"


# --- the document --------------------------------------------------------------------------------


def terms_context(contract: Contract, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """What the terms part of the template sees: plain values, from the terms only."""
    three = contract.contract_type == "placement"
    parties = contract.parties
    roles = dict(ROLE_ZH) if three else {"customer": "甲方", "company": "乙方", "worker": ""}
    people: dict[str, dict[str, Any] | None] = {
        who: ({**info.model_dump(), "role": roles[who]} if info is not None else None)
        for who, info in (
            ("customer", parties.customer),
            ("company", parties.company),
            ("worker", parties.worker),
        )
    }
    for who, number in (ids or {}).items():
        person = people.get(who)
        if person is not None:
            person["id_number"] = number
    schedule = contract.schedule
    return {
        "part": "terms",
        "contract": {
            "number": contract.number,
            "type": contract.contract_type,
            "type_zh": TYPE_ZH[contract.contract_type],
            "model": contract.model or "",
            "three_party": three,
            "start": contract.start,
            "end": contract.end,
            "months": contract.months(),
            "package": contract.package or "",
            "package_name": contract.package_name,
            "schedule": schedule.text_zh() if schedule else "",
            "schedule_starts": schedule.starts if schedule else None,
            "schedule_ends": schedule.ends if schedule else None,
            "service_fee_fen": contract.service_fee_fen,
            "fee_unit": contract.fee_unit,
            "fee_unit_zh": FEE_UNIT_ZH[contract.fee_unit],
            "intro_fee_fen": contract.intro_fee_fen,
            "deposit_fen": contract.deposit_fen,
            "payment": contract.payment_text(),
            "hours": contract.hours,
            "rest_days": contract.rest_days,
            "trial_days": contract.trial_days,
            "insurance": contract.insurance,
            "free_replacements": contract.free_replacements,
            "clauses": list(contract.terms),
            "copies_zh": "三" if three else "两",
        },
        "parties": people,
        "address": contract.address.one_line(),
        "lines": [
            {
                "service": line.service,
                "name": line.name or line.service,
                "quantity_text": format_quantity(line.quantity)
                + ("个月" if line.unit == "month" else UNIT_ZH[line.unit]),
                "unit": UNIT_ZH[line.unit],
                "unit_price_fen": line.unit_price_fen,
                "discount_fen": line.discount_fen,
                "amount_fen": line.amount_fen,
                "visits": line.visits,
            }
            for line in contract.lines
        ],
    }


def appendix_context(archive: Archive, contract: Contract, signed_sha: str) -> dict[str, Any]:
    """What the appendix sees: signatures, replacements, termination, status, the hash."""
    from zoneinfo import ZoneInfo

    from hk.services.records import ensure_fresh

    ensure_fresh(archive, "worker")
    tz = ZoneInfo(archive.settings.locale.timezone)
    shown = contract.status_on(today(archive))
    return {
        "part": "appendix",
        "contract": {
            "number": contract.number,
            "status": shown,
            "status_zh": STATUS_ZH[shown],
            "sha256": signed_sha,
        },
        "signatures": [
            {
                "party": PARTY_ZH[s.party],
                "name": s.name,
                "at": s.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "method": SIGN_METHOD_ZH[s.method],
                "sha256": s.sha256,
                "matches": s.sha256 == signed_sha,
                "note": s.note,
            }
            for s in contract.signatures
        ],
        "replacements": [
            {
                "date": r.date,
                "old": _name_of(archive, r.old),
                "new": _name_of(archive, r.new),
                "reason": r.reason,
                "operator": r.operator,
            }
            for r in contract.replacements
        ],
        "termination": (
            {"date": contract.termination.date, "reason": contract.termination.reason}
            if contract.termination
            else None
        ),
    }


def _name_of(archive: Archive, record_id: str) -> str:
    """``W3F9Q 王秀英`` from the index, or the ID of a record no longer there."""
    row = archive.index.get(record_id)
    return f"{row['code'] or record_id} {row['name']}".strip() if row else record_id


def render_terms(archive: Archive, contract: Contract) -> str:
    """The signed document: the terms part, as Markdown (what every signature hashes)."""
    return documents.render_markdown(archive, TEMPLATE, terms_context(contract))


def render_document(
    archive: Archive,
    contract: Contract,
    fmt: documents.Format = "md",
    ids: dict[str, str] | None = None,
) -> str:
    """The printed contract: the terms, then the appendix (when there is anything in it)."""
    signed = render_terms(archive, contract)
    text = (
        signed
        if not ids
        else documents.render_markdown(archive, TEMPLATE, terms_context(contract, ids))
    )
    if contract.signatures or contract.replacements or contract.termination:
        appendix = documents.render_markdown(
            archive, TEMPLATE, appendix_context(archive, contract, documents.digest(signed))
        )
        text = text + "\n---\n\n" + appendix
    if fmt == "md":
        return text
    return documents.to_html(
        archive, text, f"{TYPE_ZH[contract.contract_type]}合同 {contract.number}"
    )


def id_numbers(archive: Archive, contract: Contract) -> dict[str, str]:
    """The customer's and the signed worker's ID numbers, in full (for ``--reveal``)."""
    from hk.domain.customer import Customer
    from hk.domain.worker import Worker
    from hk.services.records import display, load

    found: dict[str, str] = {}
    people: list[tuple[str, type[Customer] | type[Worker], str | None]] = [
        ("customer", Customer, contract.customer),
        ("worker", Worker, contract.worker),
    ]
    for who, model, record_id in people:
        if record_id is None:
            continue
        record, _ = load(archive, model, record_id)
        number = display(archive, record, reveal=True).get("id_number")
        if number:
            found[who] = str(number)
    return found


# --- signing -----------------------------------------------------------------------------------


PARTY_NAMES = {"customer": "客户", "company": "公司", "worker": "阿姨"}


def sign(
    archive: Archive,
    ref: str,
    party: str,
    name: str,
    method: str,
    *,
    note: str = "",
    restart: bool = False,
    at: dt.datetime | None = None,
) -> Stepped:
    """Record one party's signature on the draft, with the hash of the terms as they stand.

    Once every required party has signed, the contract becomes 已签署 signed (same commit).
    A party who signed a draft whose terms changed since has signed another text: signing is
    refused, naming the changes, unless ``restart`` drops those signatures first.
    """
    who = choice_of(party, PARTY_NAMES, "a party")
    how = choice_of(method, SIGN_METHOD_ZH, "a way of signing")
    if not name.strip():
        raise UsageError("give the name of the person who signed", hint="--name …")
    contract, _ = load_contract(archive, ref)
    if contract.status != "draft":
        raise ContractError(
            f"contract {contract.number} is {label(contract.status)}; "
            "signatures are taken on a draft",
            hint="a renewal is a new contract: hk contract renew",
        )
    if who not in contract.required_parties():
        parties = ", ".join(contract.required_parties())
        raise ContractError(
            f"{who} is not a party to this {contract.contract_type} contract (parties: {parties})"
        )
    if who == "worker" and contract.worker is None:
        raise ContractError(
            "the placement names no worker yet",
            hint="set worker and parties.worker with hk edit, then sign",
        )
    signed = contract.signature_of(who)
    if signed is not None:
        raise ContractError(
            f"{PARTY_ZH[who]} already signed ({signed.name}, {SIGN_METHOD_ZH[signed.method]})"
        )
    digest = documents.digest(render_terms(archive, contract))
    stale = [s for s in contract.signatures if s.sha256 != digest]
    if stale and not restart:
        changes = changes_since(archive, contract, stale[0])
        raise ContractError(
            f"the terms changed after {PARTY_ZH[stale[0].party]} signed: "
            + (describe(changes) or "the document text differs"),
            hint="restore the signed terms, or sign again from the start with --restart",
        )
    when = moment(archive, at)
    actor = archive.operator()
    kept = [s for s in contract.signatures if s.sha256 == digest]
    signature = Signature(
        party=who, name=name.strip(), at=when, method=how, sha256=digest, note=note.strip()
    )

    def change(c: Contract) -> Contract:
        if stale:
            dropped = "、".join(f"{PARTY_ZH[s.party]}{s.name}" for s in stale)
            c = advance(
                c, "draft", actor, when, f"条款已变更，原签字作废：{dropped}", signatures=kept
            )
        after = [*c.signatures, signature]
        done = all(any(s.party == p for s in after) for p in c.required_parties())
        text = f"{PARTY_ZH[who]} {name.strip()} 签字（{SIGN_METHOD_ZH[how]}）"
        return advance(c, "signed" if done else "draft", actor, when, text, signatures=after)

    return change_contract(archive, contract.id, change)


# --- verifying -----------------------------------------------------------------------------------


@dataclass
class Change:
    """A term that differs between the signed version and now (dotted path, old, new)."""

    field: str
    old: Any
    new: Any


@dataclass
class Check:
    """One signature against the document as it renders now."""

    signature: Signature
    ok: bool
    changes: list[Change] = field(default_factory=list)
    cause: str = ""


@dataclass
class Verification:
    contract: Contract
    sha256: str
    checks: list[Check]

    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def verify(archive: Archive, ref: str) -> Verification:
    """Render the terms again and check every signature's hash against them."""
    contract, _ = load_contract(archive, ref)
    digest = documents.digest(render_terms(archive, contract))
    checks = []
    for signature in contract.signatures:
        if signature.sha256 == digest:
            checks.append(Check(signature, True))
            continue
        changes = changes_since(archive, contract, signature)
        cause = (
            ""
            if changes
            else "the terms are as signed, but the document renders differently: the template "
            "(hk's or the archive's templates/contract.md.j2) changed"
        )
        checks.append(Check(signature, False, changes, cause))
    return Verification(contract, digest, checks)


def describe(changes: list[Change]) -> str:
    """``service_fee_fen 680000 → 880000; parties.customer.phone 138… → 139…``."""
    return "; ".join(f"{c.field} {_short(c.old)} → {_short(c.new)}" for c in changes)


def _short(value: Any) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def changes_since(archive: Archive, contract: Contract, signature: Signature) -> list[Change]:
    """The terms that differ from the version of the file where ``signature`` first appears.

    Read from git; a signature not committed yet is compared with the last committed version.
    """
    signed = _signed_version(archive, contract, signature)
    if signed is None:
        return []
    now = flatten(contract.terms_data())
    return [
        Change(key, signed.get(key), now.get(key))
        for key in dict.fromkeys([*signed, *now])
        if signed.get(key) != now.get(key)
    ]


def _signed_version(
    archive: Archive, contract: Contract, signature: Signature
) -> dict[str, Any] | None:
    from hk.store import codec, git
    from hk.store.files import relpath_for

    path = relpath_for(Contract, contract.id)
    shas = git.run(archive.root, ["log", "--format=%H", "--reverse", "--", path]).split()
    found: dict[str, Any] | None = None
    for sha in shas:
        text = git.run(archive.root, ["show", f"{sha}:{path}"], check=False)
        try:
            data = codec.parse(text, path)
        except Exception:  # a broken version in history: skip it
            continue
        if not isinstance(data, dict):
            continue
        found = data
        if any(s.get("sha256") == signature.sha256 for s in data.get("signatures") or []):
            break
    return None if found is None else flatten(_terms_of(found))


def _terms_of(data: dict[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    try:
        return Contract.model_validate(data).terms_data()
    except ValidationError:
        from hk.domain.contract import TERMS_FIELDS

        return {k: v for k, v in data.items() if k in TERMS_FIELDS}


class VerifyFailed(HkError):
    """A signature does not match the document as it renders now (exit 1)."""
