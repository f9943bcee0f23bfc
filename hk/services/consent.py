"""Consents a customer gave (PIPL Art. 13–14, 29): recorded, listed, withdrawn.

A consent is part of the customer's record (``consents:``), so it travels with the file, has
its history in git and is merged like any other list entry. Withdrawing keeps the entry and
dates the withdrawal: when it was given stays on record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hk.domain.common import PURPOSES, Consent
from hk.domain.customer import Customer
from hk.errors import InvalidData, Problem
from hk.services.records import load_ref, moment, update_fields
from hk.store.archive import Archive
from hk.store.writer import SaveResult, save


def purpose_named(text: str) -> str:
    """The words to record for ``text``: a known purpose's full name, else the text itself."""
    value = text.strip()
    if not value:
        raise InvalidData(
            [
                Problem(
                    message="a consent needs a purpose",
                    path="<input>",
                    field="purpose",
                    hint="one of " + ", ".join(PURPOSES) + ", or the purpose in your own words",
                )
            ]
        )
    return PURPOSES.get(value, value)


def purpose_key(text: str) -> str:
    """``sensitive`` for ``sensitive`` or 敏感个人信息处理; the text itself otherwise."""
    value = text.strip()
    return next((k for k, label in PURPOSES.items() if value in (k, label)), value)


def require_sensitive_consent(
    customer: Customer,
    today: dt.date,
    archive: Archive | None = None,
    before: Customer | None = None,
) -> None:
    """Refuse new sensitive values for a customer without a consent for them in force.

    A value typed again as it is on file (``before``, unsealed with ``archive``'s keys) is
    not new."""
    on_file: dict[str, str | None] = {}
    if archive is not None and before is not None:
        on_file = {p: archive.keyring.try_unseal(before.id, v) for p, v in before.sealed_values()}
    paths = customer.unconsented_sensitive(today, on_file)
    if paths:
        raise InvalidData(
            [
                Problem(
                    message="sensitive data needs the customer's recorded consent (PIPL Art. 29)",
                    path="<input>",
                    field=path,
                    hint="add --consent-sensitive 纸质签字 (or how it was given) to record it "
                    "with this change, or `hk consent add CODE --purpose sensitive --how …`",
                )
                for path in paths
            ]
        )


def sensitive_consent(method: str, scope: str, day: dt.date) -> dict[str, Any]:
    """The consent ``--consent-sensitive METHOD`` records with a change, as record data."""
    return {"purpose": PURPOSES["sensitive"], "scope": scope, "date": day, "method": method}


@dataclass(frozen=True)
class ConsentGiven:
    purpose: str
    scope: str
    method: str
    day: dt.date | None = None


def add_consent(
    archive: Archive, ref: str, given: ConsentGiven
) -> tuple[Customer, Consent, SaveResult]:
    """Record a consent the customer gave (today unless ``given.day``); one commit."""
    record, loaded = load_ref(archive, "customer", ref)
    assert isinstance(record, Customer)
    if not given.method.strip():
        raise InvalidData(
            [
                Problem(
                    message="say how the consent was given",
                    path="<input>",
                    field="method",
                    hint="--how 纸质签字, 微信确认 or 电话录音",
                )
            ]
        )
    consent = Consent(
        purpose=purpose_named(given.purpose),
        scope=given.scope,
        date=given.day or moment(archive, None).date(),
        method=given.method,
    )
    updated = update_fields(record, {"consents": [*record.consents, consent]})
    return updated, consent, save(archive, updated, loaded)


def withdraw_consent(
    archive: Archive, ref: str, purpose: str, day: dt.date | None = None
) -> tuple[Customer, list[Consent], SaveResult]:
    """Date the withdrawal of every consent in force for ``purpose``; one commit."""
    record, loaded = load_ref(archive, "customer", ref)
    assert isinstance(record, Customer)
    when = day or moment(archive, None).date()
    key = purpose_key(purpose)
    consents = [c.model_copy() for c in record.consents]
    withdrawn = [c for c in consents if c.in_force(when) and c.is_for(key)]
    if not withdrawn:
        raise InvalidData(
            [
                Problem(
                    message=f"{record.title()} has no consent in force for {purpose}",
                    path="<input>",
                    field="purpose",
                    hint=f"list the consents on record with `hk consent list {ref}`",
                )
            ]
        )
    for consent in withdrawn:
        consent.withdrawn = when
    updated = update_fields(record, {"consents": consents})
    return updated, withdrawn, save(archive, updated, loaded)


@dataclass(frozen=True)
class ConsentLine:
    consent: Consent
    in_force: bool


def consents_of(archive: Archive, ref: str) -> tuple[Customer, list[ConsentLine]]:
    record, _ = load_ref(archive, "customer", ref)
    assert isinstance(record, Customer)
    today = moment(archive, None).date()
    return record, [ConsentLine(c, c.in_force(today)) for c in record.consents]
