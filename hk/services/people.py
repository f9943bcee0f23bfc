"""Customers and workers: create, edit, tag. Search and listing are in :mod:`hk.services.lookup`.

A change in the command line's words (:class:`CustomerChange`, :class:`WorkerChange`) becomes
record fields here, once, for ``hk customer``/``hk worker``, ``hk batch`` and the TUI's forms
alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError

from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.fields import normalize_phone
from hk.domain.ids import new_id
from hk.domain.layout import Kind
from hk.domain.worker import Worker
from hk.errors import FieldError, HkError, InvalidData, Problem
from hk.services.records import load_ref, moment, resolve_id, update_fields
from hk.store import codec
from hk.store.archive import Archive
from hk.store.writer import Loaded, SaveResult, save


def build_new(
    archive: Archive, model: type[Customer] | type[Worker], fields: dict[str, Any]
) -> Customer | Worker:
    """A new record of ``model`` with a fresh ID, validated (not saved)."""
    stamp = now(archive.settings.locale.timezone)
    data = {"id": new_id(), "created": stamp, "updated": stamp, **fields}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidData(codec.problems_from_validation(exc, None, "<input>", model)) from None


def add_customer(archive: Archive, fields: dict[str, Any]) -> tuple[Customer, SaveResult]:
    """Create a customer from validated fields; one commit."""
    fields = resolve_refs(archive, fields)
    customer = build_new(archive, Customer, fields)
    assert isinstance(customer, Customer)
    return customer, save(archive, customer)


def add_worker(archive: Archive, fields: dict[str, Any]) -> tuple[Worker, SaveResult]:
    worker = build_new(archive, Worker, fields)
    assert isinstance(worker, Worker)
    return worker, save(archive, worker)


def edit(
    archive: Archive,
    kind: Kind,
    ref: str,
    changes: dict[str, Any],
    opened: tuple[Any, Loaded] | None = None,
) -> tuple[Any, SaveResult]:
    """Apply field changes to the record ``ref`` names; refuses a stale edit; one commit.

    ``opened`` is the record as read earlier (a form opened minutes ago, or just now to work
    out the change): the changes apply to it, and the save is refused if the file changed
    since then, not only since now.
    """
    record, loaded = opened if opened is not None else load_ref(archive, kind, ref)
    if kind == "customer":
        changes = resolve_refs(archive, changes)
    updated = update_fields(record, changes)
    return updated, save(archive, updated, loaded)


def new_customer(archive: Archive, change: CustomerChange) -> tuple[Customer, SaveResult]:
    """Create the customer ``hk customer add`` (or a form) describes; one commit.

    New sensitive values need a consent for them (given with the change, or on file)."""
    from hk.services.consent import require_sensitive_consent

    today = moment(archive, None).date()
    fields = resolve_refs(
        archive, customer_fields(change, archive.settings.locale.city, None, today)
    )
    customer = build_new(archive, Customer, fields)
    assert isinstance(customer, Customer)
    require_sensitive_consent(customer, today)
    refuse_taken_phones(archive, customer)
    return customer, save(archive, customer)


def new_worker(archive: Archive, change: WorkerChange) -> tuple[Worker, SaveResult]:
    """Create the worker ``hk worker add`` (or a form) describes; one commit."""
    worker = build_new(archive, Worker, worker_fields(change, archive.settings.locale.city))
    assert isinstance(worker, Worker)
    refuse_taken_phones(archive, worker)
    return worker, save(archive, worker)


def refuse_taken_phones(archive: Archive, record: Customer | Worker) -> None:
    """A phone that already belongs to another customer (or worker) is refused, naming who
    has it, as the import does: two records for one person split her history in two."""
    import orjson

    from hk.domain.fields import format_phone, phone_digits

    phones = (
        record.phones if isinstance(record, Customer) else [record.phone] if record.phone else []
    )
    key = "phones" if isinstance(record, Customer) else "phone"
    problems = []
    for n, phone in enumerate(phones):
        for row in archive.index.find(record.kind, phone_digits(phone)):
            stored = orjson.loads(row["data"]).get(key)
            theirs = stored if isinstance(stored, list) else [stored]
            if row["id"] != record.id and phone in theirs:
                problems.append(
                    Problem(
                        message=f"{format_phone(phone)} already belongs to {record.kind} "
                        f"{row['code']} ({row['name']})",
                        path="<input>",
                        field=f"{key}[{n}]" if key == "phones" else key,
                        hint=f"open that record (hk {record.kind} show {row['code']}) "
                        "instead of making a second one",
                    )
                )
                break
    if problems:
        raise InvalidData(problems)


def edit_customer(
    archive: Archive,
    ref: str,
    change: CustomerChange,
    opened: tuple[Customer, Loaded] | None = None,
) -> tuple[Any, SaveResult]:
    """Apply ``hk customer edit``'s typed change to the customer ``ref`` names: phones added
    or removed and address parts apply to what the record holds now; one commit.

    ``opened`` is the customer as a form read it when it opened: the change applies to it,
    and the save is refused if the file changed since then (see :func:`edit`).
    """
    from hk.services.consent import require_sensitive_consent

    record, loaded = opened if opened is not None else load_ref(archive, "customer", ref)
    assert isinstance(record, Customer)
    today = moment(archive, None).date()
    fields = customer_fields(change, archive.settings.locale.city, record, today)
    updated = update_fields(record, resolve_refs(archive, fields))
    require_sensitive_consent(updated, today, archive, record)
    if updated.phones != record.phones:
        refuse_taken_phones(archive, updated)
    return updated, save(archive, updated, loaded)


def edit_worker(
    archive: Archive,
    ref: str,
    change: WorkerChange,
    opened: tuple[Worker, Loaded] | None = None,
) -> tuple[Any, SaveResult]:
    """Apply ``hk worker edit``'s typed change to the worker ``ref`` names; one commit.
    ``opened`` as in :func:`edit_customer`."""
    record, loaded = opened if opened is not None else load_ref(archive, "worker", ref)
    assert isinstance(record, Worker)
    fields = worker_fields(change, archive.settings.locale.city, record)
    updated = update_fields(record, fields)
    if updated.phone != record.phone:
        refuse_taken_phones(archive, updated)
    return updated, save(archive, updated, loaded)


def tag(
    archive: Archive, ref: str, add: list[str], remove: list[str]
) -> tuple[Customer, SaveResult]:
    record, loaded = load_ref(archive, "customer", ref)
    assert isinstance(record, Customer)
    tags = [t for t in record.tags if t not in remove] + [t for t in add if t not in record.tags]
    updated = update_fields(record, {"tags": tags})
    return updated, save(archive, updated, loaded)


def resolve_refs(archive: Archive, fields: dict[str, Any], refresh: bool = True) -> dict[str, Any]:
    """Let users name the referrer and workers by code, not only by ID.

    A reference that names nothing is a problem of its field. ``refresh`` as in
    :func:`~hk.services.records.resolve_id`.
    """
    out = dict(fields)
    refs: list[tuple[str, Kind]] = [("referrer", "customer")] if out.get("referrer") else []
    refs += [(key, "worker") for key in ("preferred_workers", "blocked_workers") if key in out]
    problems: list[Problem] = []
    for key, kind in refs:
        ids = []
        for ref in [out[key]] if key == "referrer" else out[key]:
            try:
                ids.append(resolve_id(archive, kind, ref, refresh)[1])
            except HkError as exc:
                problems.append(Problem(exc.message, path="<input>", field=key, hint=exc.hint))
        out[key] = ids[0] if key == "referrer" and ids else ids
    if problems:
        raise InvalidData(problems, summary="; ".join(p.message for p in problems))
    return out


# --- changes in the command line's words ---------------------------------------------------------

Empty = Literal[""]
"""The empty value of an option: given, it clears the field (see :class:`CustomerChange`)."""


def _whole_number(value: object) -> int | Empty | None:
    """A number option's value as strictly as the others' (no text, no bool, no 1.5), or the
    empty value; one message instead of one per member of the union."""
    if value is None or value == "" or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError('a whole number, or "" to clear it')


WholeNumber = Annotated[int | Empty | None, PlainValidator(_whole_number)]
"""A number option (a year, a count of years) that can also be cleared."""


class CustomerChange(BaseModel):
    """A change to a customer as ``hk customer add/edit`` takes it: one field per option.

    ``phone`` is ``--phone``, ``health_note`` is ``--health-note``, ``community`` and the
    other address parts change the first address. A typed command, a line of ``hk batch`` and
    the TUI's form build the same change, so they mean the same and are refused the same way.

    None is an option not given: the field keeps its value. An empty value given clears the
    field, back to what a new record has: ``""`` for a text (no birthday, no referrer), ``[]``
    for a list (no tags). Lists replace the whole list, and ``a,b`` in one item counts as two.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str | None = None
    phone: list[str] | None = None
    add_phone: list[str] | None = None
    remove_phone: list[str] | None = None
    wechat: str | None = None
    city: str | None = None
    district: str | None = None
    community: str | None = None
    address: str | None = None
    access_notes: str | None = None
    lat: float | None = None
    lon: float | None = None
    category: str | None = None
    channel: str | None = None
    tag: list[str] | None = None
    referrer: str | None = None
    tier: str | None = None
    birthday: str | None = None
    id_number: str | None = None
    health_note: str | None = None
    children: str | None = None
    taboo: list[str] | None = None
    prefer_worker: list[str] | None = None
    block_worker: list[str] | None = None
    notes: str | None = None
    consent_sensitive: str | None = None
    """How the customer consented to her sensitive data being kept (纸质签字 …): recorded as a
    consent with this change, which sensitive values need (PIPL Art. 29)."""


class WorkerChange(BaseModel):
    """A change to a worker as ``hk worker add/edit`` takes it: one field per option.

    Skills, certificates, weekly hours and leave are written as on the command line
    (``烹饪:4:川菜/粤菜``, ``健康证:A123:2027-05-01``, ``mon-fri 08:00-18:00``,
    ``2026-12-01..2026-12-05:探亲``); the address parts change the home address. None and
    the empty values mean what they mean in :class:`CustomerChange` (``""`` clears the birth
    year too, and sets the years of experience back to 0).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str | None = None
    gender: str | None = None
    phone: str | None = None
    wechat: str | None = None
    birth_year: WholeNumber = None
    native_place: str | None = None
    dialect: list[str] | None = None
    id_number: str | None = None
    skill: list[str] | None = None
    cert: list[str] | None = None
    experience: WholeNumber = None
    status: str | None = None
    available: list[str] | None = None
    leave: list[str] | None = None
    city: str | None = None
    district: str | None = None
    community: str | None = None
    address: str | None = None
    access_notes: str | None = None
    lat: float | None = None
    lon: float | None = None
    notes: str | None = None


def split_values(values: list[str] | None) -> list[str]:
    """Repeated values and comma-separated ones alike (``--tag a,b --tag c``; ， too)."""
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    return out


ADDRESS_OPTIONS = {
    "city": "city",
    "district": "district",
    "community": "community",
    "detail": "address",
    "access_notes": "access_notes",
    "lat": "lat",
    "lon": "lon",
}
"""A part of an address (a customer's first, a worker's home) → the option that sets it."""


def _address(
    change: CustomerChange | WorkerChange, default_city: str, current: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The address ``change`` makes of ``current`` (None: there is none yet), or None if it
    gives no part. An existing address keeps the parts not given and its own city; a new one
    is made of the parts given that are not empty (none: no address), the city by default
    the one in hk.toml."""
    given = {
        part: getattr(change, option)
        for part, option in ADDRESS_OPTIONS.items()
        if getattr(change, option) is not None
    }
    if current is not None:
        return {**current, **given} if given else None
    given = {part: value for part, value in given.items() if value != ""}
    return {"city": default_city, **given} if given else None


def _set_text(
    fields: dict[str, Any], model: type[Customer] | type[Worker], value: Any, dst: str
) -> None:
    """An option's value as its field's, the empty value as the field's default (a field with
    no default keeps ``""``, which its model refuses: a name cannot be cleared)."""
    if value is None:
        return
    info = model.model_fields[dst]
    empty = value == "" and not info.is_required()
    fields[dst] = info.get_default(call_default_factory=True) if empty else value


_CUSTOMER_TEXT = {
    "name": "name",
    "wechat": "wechat",
    "category": "category",
    "channel": "channel",
    "referrer": "referrer",
    "tier": "tier",
    "birthday": "birthday",
    "notes": "notes",
    "id_number": "id_number",
    "health_note": "health_notes",
    "children": "children_details",
}
_CUSTOMER_LISTS = {
    "phone": "phones",
    "tag": "tags",
    "taboo": "taboos",
    "prefer_worker": "preferred_workers",
    "block_worker": "blocked_workers",
}


def customer_fields(
    change: CustomerChange,
    default_city: str,
    current: Customer | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The record fields ``change`` sets on ``current`` (None: a new customer).

    Phones added or removed apply to the current list (or to ``phone`` when both are given);
    address parts update the first address, or make one. A consent given with the change is
    dated ``today`` (the archive's).
    """
    fields: dict[str, Any] = {}
    for src, dst in _CUSTOMER_TEXT.items():
        _set_text(fields, Customer, getattr(change, src), dst)
    if fields.get("birthday"):
        from hk.services.io.fields import parse_date

        try:
            fields["birthday"] = parse_date(fields["birthday"])
        except ValueError as exc:
            raise FieldError("birthday", str(exc)) from None
    for src, dst in _CUSTOMER_LISTS.items():
        if getattr(change, src) is not None:
            fields[dst] = split_values(getattr(change, src))
    if change.add_phone or change.remove_phone:
        phones = list(fields.get("phones", current.phones if current else []))
        drop = {normalize_phone(p) for p in split_values(change.remove_phone)}
        fields["phones"] = [p for p in phones if normalize_phone(p) not in drop]
        fields["phones"] += split_values(change.add_phone)
    addresses = [a.model_dump() for a in current.addresses] if current else []
    first = _address(change, default_city, addresses[0] if addresses else None)
    if first is not None:
        fields["addresses"] = [first, *addresses[1:]]
    if change.consent_sensitive and change.consent_sensitive.strip():
        from hk.services.consent import sensitive_consent

        scope = "、".join(
            label
            for given, label in (
                (change.id_number, "身份证号"),
                (change.health_note, "健康状况"),
                (change.children, "儿童信息"),
            )
            if given
        )
        consent = sensitive_consent(
            change.consent_sensitive.strip(), scope, today or dt.date.today()
        )
        fields["consents"] = [*(current.consents if current else []), consent]
    return fields


_WORKER_TEXT = {
    "name": "name",
    "phone": "phone",
    "wechat": "wechat",
    "birth_year": "birth_year",
    "native_place": "native_place",
    "id_number": "id_number",
    "experience": "experience_years",
    "status": "status",
    "notes": "notes",
}
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def worker_fields(
    change: WorkerChange, default_city: str, current: Worker | None = None
) -> dict[str, Any]:
    """The record fields ``change`` sets on ``current`` (None: a new worker).

    Skills and certificates are read as the import reads them; address parts update the home
    address. A value that cannot be read raises :class:`FieldError` naming its field.
    """
    from hk.services.io.fields import GENDERS, parse_certificate, parse_skill

    fields: dict[str, Any] = {}
    for src, dst in _WORKER_TEXT.items():
        _set_text(fields, Worker, getattr(change, src), dst)
    if change.gender is not None:
        gender = GENDERS.get(change.gender.lower())
        if gender is None:
            raise FieldError(
                "gender", f"'{change.gender}' is not 女 or 男", hint="write 女 or 男 (f or m)"
            )
        fields["gender"] = gender
    if change.dialect is not None:
        fields["dialects"] = split_values(change.dialect)
    for name, parse, key in (
        ("skill", parse_skill, "skills"),
        ("cert", parse_certificate, "certificates"),
    ):
        values = getattr(change, name)
        if values is not None:
            try:
                fields[key] = [parse(v) for v in values]
            except ValueError as exc:
                raise FieldError(name, str(exc)) from None
    if change.available is not None:
        fields["availability"] = parse_availability(change.available)
    if change.leave is not None:
        fields["leave"] = [parse_leave(x) for x in change.leave]
    home = _address(
        change, default_city, current.home.model_dump() if current and current.home else None
    )
    if home is not None:
        fields["home"] = home
    return fields


def change_fields(
    change: CustomerChange | WorkerChange,
    default_city: str,
    current: Customer | Worker | None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """:func:`customer_fields` or :func:`worker_fields`, as the change is."""
    if isinstance(change, CustomerChange):
        assert current is None or isinstance(current, Customer)
        return customer_fields(change, default_city, current, today)
    assert current is None or isinstance(current, Worker)
    return worker_fields(change, default_city, current)


INPUT_OF_FIELD: dict[str, dict[str, str]] = {
    "customer": {
        **{dst: src for src, dst in (_CUSTOMER_TEXT | _CUSTOMER_LISTS).items()},
        "addresses": "address",
    },
    "worker": {
        **{dst: src for src, dst in _WORKER_TEXT.items()},
        "gender": "gender",
        "dialects": "dialect",
        "skills": "skill",
        "certificates": "cert",
        "availability": "available",
        "leave": "leave",
        "home": "address",
    },
}
"""A record field → the input (option, ``hk batch`` key) that sets it, to name a problem."""


def option_of_field(kind: str, path: str) -> str:
    """The option that sets the record field at ``path``, to put a problem under it:
    ``phones[1]`` → ``phone``, ``addresses[0].district`` → ``district``, ``home.city`` →
    ``city``; an option's own name stays; a path no option sets (a second address) is kept."""
    head, _, rest = path.partition(".")
    name, _, index = head.partition("[")
    if name in ("addresses", "home") and rest:
        if name == "addresses" and index != "0]":
            return path  # not the first address: no option sets it
        part = rest.split(".")[0].split("[")[0]
        return ADDRESS_OPTIONS.get(part, INPUT_OF_FIELD[kind][name])
    return INPUT_OF_FIELD.get(kind, {}).get(name, name)


def parse_availability(values: list[str]) -> dict[str, list[str]]:
    """``mon-fri 08:00-18:00``, ``sat 09:00-12:00`` or ``mon-fri 08:00-12:00,14:00-18:00``
    (hours with a break) → weekly hours by day."""
    days_hint = "days are mon tue wed thu fri sat sun"
    out: dict[str, list[str]] = {}
    for value in values:
        try:
            days, hours = value.split()
        except ValueError:
            raise FieldError(
                "available", f"'{value}': write days and hours, e.g. 'mon-fri 08:00-18:00'"
            ) from None
        for chunk in days.lower().split(","):
            if "-" in chunk:
                a, _, b = chunk.partition("-")
                if a not in DAY_NAMES or b not in DAY_NAMES:
                    raise FieldError("available", f"'{chunk}': {days_hint}")
                span = DAY_NAMES[DAY_NAMES.index(a) : DAY_NAMES.index(b) + 1]
            elif chunk in DAY_NAMES:
                span = [chunk]
            else:
                raise FieldError("available", f"'{chunk}': {days_hint}")
            for day in span:
                out.setdefault(day, []).extend(part for part in hours.split(",") if part)
    return out


def parse_leave(text: str) -> dict[str, str]:
    """``2026-12-01..2026-12-05`` (optionally ``:reason``)."""
    span, _, reason = text.partition(":")
    start, _, end = span.partition("..")
    return {"start": start, "end": end or start, "reason": reason}
