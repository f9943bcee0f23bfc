"""The forms of the TUI (new and edited customers and workers, new orders), without Textual.

A form is a list of :class:`FormField` and the text typed into each. For a customer or a
worker, :func:`change_of` turns that text into the typed change ``hk customer add/edit`` and
``hk worker add/edit`` build (:class:`~hk.services.people.CustomerChange`,
:class:`~hk.services.people.WorkerChange`): each input sets the option that sets the record
field it shows, an input the operator emptied clears its field, one left as shown is not given.
The people service turns the change into record fields, so the TUI saves exactly what the
command would, read and refused by the same code. A new order's text becomes an
:class:`OrderDraft` for :func:`hk.services.orders.steps.new_order`. :func:`check` runs the
same conversion, Pydantic models and settings rules without writing, and :func:`messages_of`
puts each problem under the input it is about (``phones[1]`` under the phones,
``addresses[0].district`` under the district: the option that sets the field, then the input
that sets the option); a problem no input owns goes to the top of the form.

Editing keeps the record's file as read when the form opened (:class:`Opened`); the save goes
over those bytes, so the writer refuses (:class:`~hk.errors.ConflictError`) if anyone changed
it meanwhile. :func:`reload` reads it again and merges: the other writer's changes come in
where the operator typed nothing new; the operator's text stays, clashes named by input.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from hk.errors import FieldError, HkError, InvalidData, NotFound, Problem

if TYPE_CHECKING:
    from hk.domain.base import Record
    from hk.domain.layout import Kind
    from hk.services.people import CustomerChange, WorkerChange
    from hk.store.archive import Archive
    from hk.store.writer import Loaded

TOP = ""
"""Where messages about no one input go: the top of the form."""


@dataclass(frozen=True)
class FormField:
    """One input of a form.

    ``widget`` is ``text`` (one line), ``choice`` (one of :attr:`Form.choices`) or ``notes``
    (free text, several lines, also editable in $EDITOR). ``paths`` are the record fields whose
    problems show under this input besides its own name's; in a customer's or worker's form
    the input shows the record field its first path (or else its name) names.
    """

    name: str
    label: str
    widget: str = "text"
    placeholder: str = ""
    paths: tuple[str, ...] = ()
    required: bool = False
    new_only: bool = False
    """Sensitive values (sealed on save): typed for a new record, never shown to edit."""

    def owns(self, problem_field: str) -> int:
        """How closely this input owns a problem's field: the length of the path it matched
        (0 when it does not)."""
        best = 0
        for path in (self.name, *self.paths):
            if problem_field == path or problem_field.startswith((path + "[", path + ".")):
                best = max(best, len(path))
        return best


def _address(part: str) -> FormField:
    return FormField(part, f"form.f.{part}", paths=(f"addresses[0].{part}",))


CUSTOMER: tuple[FormField, ...] = (
    FormField("name", "f.name", required=True),
    FormField("phones", "f.phones", placeholder="form.ph.phones"),
    FormField("wechat", "f.wechat"),
    FormField("category", "f.category", "choice"),
    FormField("channel", "f.channel", "choice"),
    FormField("tier", "f.tier", "choice"),
    FormField("tags", "f.tags", placeholder="form.ph.list"),
    _address("city"),
    _address("district"),
    _address("community"),
    _address("detail"),
    _address("access_notes"),
    FormField("birthday", "f.birthday", placeholder="form.ph.date"),
    FormField("taboos", "form.f.taboos", placeholder="form.ph.list"),
    FormField("id_number", "f.id_number", new_only=True),
    FormField("health_notes", "f.health_notes", new_only=True),
    FormField(
        "consent_sensitive",
        "form.f.consent_sensitive",
        placeholder="form.ph.consent",
        new_only=True,
    ),
    FormField("notes", "f.notes", "notes"),
)
WORKER: tuple[FormField, ...] = (
    FormField("name", "f.name", required=True),
    FormField("gender", "f.gender", "choice", required=True),
    FormField("birth_year", "f.birth_year", placeholder="form.ph.year"),
    FormField("phone", "f.phone", placeholder="form.ph.phone"),
    FormField("wechat", "f.wechat"),
    FormField("native_place", "f.native_place", placeholder="form.ph.native_place"),
    FormField("dialects", "f.dialects", placeholder="form.ph.list"),
    FormField("skills", "f.skills", placeholder="form.ph.skills"),
    FormField("experience_years", "f.experience_years"),
    FormField("status", "f.status", "choice"),
    FormField("id_number", "f.id_number", new_only=True),
    FormField("notes", "f.notes", "notes"),
)
ORDER: tuple[FormField, ...] = (
    FormField("customer", "form.f.customer", placeholder="form.ph.customer", required=True),
    FormField("address", "form.f.address", placeholder="form.ph.address"),
    FormField("service", "form.f.service", "choice", paths=("lines",), required=True),
    FormField("quantity", "form.f.quantity", placeholder="form.ph.quantity"),
    FormField("more", "form.f.more", placeholder="form.ph.more"),
    FormField(
        "start", "form.f.start", placeholder="form.ph.start", paths=("window",), required=True
    ),
    FormField("hours", "form.f.hours", placeholder="form.ph.hours"),
    FormField("channel", "form.f.order_channel", "choice"),
    FormField("notes", "f.notes", "notes"),
)
FIELDS: dict[str, tuple[FormField, ...]] = {"customer": CUSTOMER, "worker": WORKER, "order": ORDER}
ADDRESS_PARTS = ("city", "district", "community", "detail", "access_notes")


@dataclass
class Opened:
    """A record as the form read it: the model to change and the bytes the save goes over."""

    record: Record
    loaded: Loaded


@dataclass
class Form:
    """What a form screen shows: its inputs, the choices of its selects, the values it starts
    with, and the record it edits (None for a new one)."""

    kind: Kind
    fields: tuple[FormField, ...]
    choices: dict[str, list[tuple[str, str]]]
    values: dict[str, str]
    opened: Opened | None = None
    title: str = ""
    """The record's code and name when editing (for the form's title)."""

    @property
    def record_id(self) -> str | None:
        return self.opened.record.id if self.opened is not None else None


@dataclass
class Saved:
    """A save that went through: which record, its code, and its commit."""

    kind: Kind
    record_id: str
    code: str | None
    commit: str | None
    day: dt.date | None = None  # an order's day: the board shows the span that holds it


@dataclass
class Checked:
    """Messages by input (``TOP`` for the form's own), and for an order what it would cost."""

    messages: dict[str, list[str]] = field(default_factory=dict)
    preview: str = ""  # an order's title (day, time, services), priced as below
    total_fen: int | None = None
    deposit_fen: int = 0

    @property
    def ok(self) -> bool:
        return not self.messages


@dataclass
class Reloaded:
    """The form over the record as it is now and the values to show: ``changed`` inputs were
    changed by someone else, ``clashes`` by the operator too (input → the other's value)."""

    form: Form
    values: dict[str, str]
    changed: list[str]
    clashes: dict[str, str]


# --- opening ------------------------------------------------------------------------------------


def open_form(
    archive: Archive,
    kind: Kind,
    record_id: str | None = None,
    *,
    customer: str | None = None,
    today: dt.date | None = None,
) -> Form:
    """The form for a new record of ``kind`` or for editing ``record_id``; a new order starts
    with ``customer`` (an ID) and at 09:00 the day after ``today``."""
    from hk.domain.order.model import CHANNEL_ZH

    settings = archive.settings
    if kind == "customer":
        lists = {
            "category": settings.customers.categories,
            "channel": settings.customers.channels,
            "tier": settings.tier_names(),
        }
        choices = {name: [(v, v) for v in values] for name, values in lists.items()}
    elif kind == "worker":
        from hk.domain.worker import STATUS_ZH

        choices = {"gender": [("女", "女"), ("男", "男")], "status": list(STATUS_ZH.items())}
    else:
        choices = {"service": _services(archive), "channel": list(CHANNEL_ZH.items())}
    shown = tuple(f for f in FIELDS[kind] if record_id is None or not f.new_only)
    form = Form(kind, shown, choices, {f.name: "" for f in shown})
    if record_id is not None:
        from hk.domain.kinds import KINDS
        from hk.services.records import load

        record, loaded = load(archive, KINDS[kind], record_id)
        form.opened = Opened(record, loaded)
        form.values = values_of(kind, record)
        from hk.services.records import code_of

        form.title = f"{code_of(archive, record_id) or ''} {values_of(kind, record)['name']}"
    elif kind == "worker":
        form.values.update(gender="女", status="available")
    elif kind == "customer":
        form.values["city"] = settings.locale.city
    elif kind == "order":
        day = (today or dt.date.today()) + dt.timedelta(days=1)
        form.values.update(start=f"{day.isoformat()} 09:00", channel="phone")
        if customer:
            from hk.services.records import code_of

            archive.index.refresh(["customer"])
            form.values["customer"] = code_of(archive, customer) or customer
        if form.choices["service"]:
            form.values["service"] = form.choices["service"][0][0]
    return form


def _services(archive: Archive) -> list[tuple[str, str]]:
    """Active service items of the catalog, by code (a select's choices)."""
    from hk.services.lookup import list_rows

    rows = sorted(list_rows(archive.index, "service"), key=lambda r: str(r["code"]))
    return [(str(r["code"]), f"{r['code']} {r['name']}") for r in rows if r.get("active", True)]


def values_of(kind: Kind, record: Any) -> dict[str, str]:
    """The text each input of the form shows for ``record``."""
    from hk.domain.fields import format_phone

    if kind == "customer":
        first = record.addresses[0] if record.addresses else None
        values = {
            "name": record.name,
            "phones": ", ".join(format_phone(p) for p in record.phones),
            "wechat": record.wechat,
            "category": record.category,
            "channel": record.channel,
            "tier": record.tier,
            "tags": ", ".join(record.tags),
            "birthday": record.birthday.isoformat() if record.birthday else "",
            "taboos": ", ".join(record.taboos),
            "notes": record.notes,
        }
        for part in ADDRESS_PARTS:
            values[part] = str(getattr(first, part)) if first is not None else ""
        return values
    skills = []
    for skill in record.skills:
        text = f"{skill.name}:{skill.level}"
        if skill.cuisines:
            text += ":" + "/".join(skill.cuisines)
        skills.append(text)
    return {
        "name": record.name,
        "gender": record.gender,
        "birth_year": str(record.birth_year or ""),
        "phone": format_phone(record.phone) if record.phone else "",
        "wechat": record.wechat,
        "native_place": record.native_place,
        "dialects": ", ".join(record.dialects),
        "skills": ", ".join(skills),
        "experience_years": str(record.experience_years or ""),
        "status": record.status,
        "notes": record.notes,
    }


# --- typed text to a change ----------------------------------------------------------------------


def _text(form: Form, values: dict[str, str]) -> dict[str, str]:
    """Each input's text as it counts: trimmed, the notes only at their end."""
    text = {f.name: values.get(f.name, "").strip() for f in form.fields}
    text["notes"] = values.get("notes", "").rstrip()
    return text


def option_of(form: Form, item: FormField) -> str:
    """The option of the people service's change that a customer's or worker's input sets:
    the one that sets the record field it shows (its first path, or its name)."""
    from hk.services.people import option_of_field

    return option_of_field(form.kind, item.paths[0] if item.paths else item.name)


def change_of(form: Form, values: dict[str, str]) -> CustomerChange | WorkerChange:
    """The change ``hk customer add/edit`` or ``hk worker add/edit`` would take for what the
    form holds: an input the operator changed (or a required one) gives its option's value, an
    input emptied gives the empty value that clears the field; an input left as it was shown
    is no option given, so a value the form cannot show exactly is kept as it is.

    Only the form's own reading is done here, as Typer does it for the command line: a list
    typed in one input is split as a spreadsheet cell is (``保洁:4, 烹饪:3`` · ``高端 老客户``),
    a number is read as one. Every input that cannot be read is one problem
    (:class:`InvalidData`), named by its option.
    """
    from pydantic import ValidationError

    from hk.services.people import CustomerChange, WorkerChange
    from hk.store import codec

    model = CustomerChange if form.kind == "customer" else WorkerChange
    text, shown = _text(form, values), _text(form, form.values)
    problems: list[Problem] = []
    given: dict[str, Any] = {}
    for item in form.fields:
        option, value = option_of(form, item), text[item.name]
        if item.required and not value:
            problems.append(Problem("this field is required", field=option))
        if item.required or value != shown[item.name]:
            given[option] = _read(model, option, value, problems)
    try:
        change = model.model_validate(given)
    except ValidationError as exc:
        problems += codec.problems_from_validation(exc, None, "<input>", model)
    if problems:
        raise InvalidData(problems)
    return change


def _read(
    model: type[CustomerChange] | type[WorkerChange],
    option: str,
    value: str,
    problems: list[Problem],
) -> Any:
    """An input's text as its option's type: a list, a whole number or a text."""
    from hk.services.io.fields import split_list, split_phones

    kinds = get_args(model.model_fields[option].annotation)
    if any(get_origin(kind) is list for kind in kinds):
        if not value:
            return []
        return split_phones([value]) if option == "phone" else split_list([value], spaces=True)
    if int in kinds and value:
        try:
            return int(value)
        except ValueError:
            problems.append(Problem(f"'{value}' is not a whole number", field=option))
    return value


@dataclass
class OrderDraft:
    """A new order as typed: who, what, when, and ``new_order``'s options."""

    customer: str
    address: int
    """Which of the customer's addresses, from 1 (as ``hk order new --address``)."""
    lines: list[tuple[str, str | None]]
    start: dt.datetime | None
    hours: Decimal | None
    channel: str
    notes: str


_MORE = re.compile(r"[,，、;；\s]+")


def _positive(text: dict[str, str], name: str, problems: list[Problem]) -> Decimal | None:
    """A number above 0 typed into ``name`` (None when it is empty or not one)."""
    if not text[name]:
        return None
    try:
        number = Decimal(text[name])
    except InvalidOperation:
        number = Decimal(0)
    if number.is_finite() and number > 0:
        return number
    problems.append(
        Problem(f"'{text[name]}' is not a number above 0", field=name, hint="e.g. 2 or 1.5")
    )
    return None


def order_draft(form: Form, values: dict[str, str]) -> OrderDraft:
    """The new order the form's text stands for; every input that cannot be read at all is
    one problem (:class:`InvalidData`), named by the input."""
    text = _text(form, values)
    problems = [
        Problem("this field is required", field=item.name)
        for item in form.fields
        if item.required and not text[item.name]
    ]
    typed = _order(text, problems)
    if problems:
        raise InvalidData(problems)
    return typed


def _order(text: dict[str, str], problems: list[Problem]) -> OrderDraft:
    lines: list[tuple[str, str | None]] = []
    if text["service"]:
        lines.append((text["service"], text["quantity"] or None))
    for chunk in _MORE.split(text["more"]):
        code, _, quantity = chunk.replace("：", ":").partition(":")
        if code.strip():
            lines.append((code.strip().upper(), quantity.strip() or None))
        elif chunk:
            problems.append(
                Problem(
                    f"'{chunk}' names no service",
                    field="more",
                    hint="write CODE or CODE:QUANTITY, e.g. BJ-HOURLY:3",
                )
            )
    start = None
    if text["start"]:
        try:
            value = text["start"].replace("T", " ")
            if len(value) <= 10:
                raise ValueError
            start = dt.datetime.fromisoformat(value)
        except ValueError:
            problems.append(
                Problem(
                    f"'{text['start']}' is not a date and time",
                    field="start",
                    hint="write it like 2026-12-01 09:00",
                )
            )
    _positive(text, "quantity", problems)
    hours = _positive(text, "hours", problems)
    address = int(text["address"]) if text["address"].isdigit() else 0
    if text["address"] and address < 1:
        problems.append(
            Problem(
                f"'{text['address']}' is not an address number",
                field="address",
                hint="1 for her first address, 2 for the second …",
            )
        )
    return OrderDraft(
        text["customer"],
        address or 1,
        lines,
        start,
        hours,
        text["channel"] or "phone",
        text["notes"],
    )


# --- checking and saving ------------------------------------------------------------------------


def check(archive: Archive, form: Form, values: dict[str, str]) -> Checked:
    """What a save would refuse, by input, without writing anything (the same models and
    settings rules as the save); for an order, what it would cost."""
    try:
        if form.kind == "order":
            return _preview(archive, order_draft(form, values))
        _listed(archive, form, _fields(archive, form, change_of(form, values)))
    except HkError as exc:
        return Checked(messages_of(form, exc))
    return Checked()


def _fields(archive: Archive, form: Form, change: CustomerChange | WorkerChange) -> dict[str, Any]:
    """The record fields the change sets on the record the form opened (as a save would)."""
    from hk.domain.customer import Customer
    from hk.domain.worker import Worker
    from hk.services.people import change_fields, resolve_refs

    current = form.opened.record if form.opened is not None else None
    assert current is None or isinstance(current, Customer | Worker)
    fields = change_fields(change, archive.settings.locale.city, current)
    return resolve_refs(archive, fields) if form.kind == "customer" else fields


def _record(archive: Archive, form: Form, fields: dict[str, Any]) -> Record:
    """The record a save would write (validated by its model), not saved."""
    from pydantic import ValidationError

    from hk.domain.base import now
    from hk.domain.ids import new_id
    from hk.domain.kinds import KINDS
    from hk.services.records import update_fields
    from hk.store import codec

    if form.opened is not None:
        return update_fields(form.opened.record, fields)
    model = KINDS[form.kind]
    stamp = now(archive.settings.locale.timezone)
    try:
        return model.model_validate({"id": new_id(), "created": stamp, "updated": stamp, **fields})
    except ValidationError as exc:
        raise InvalidData(codec.problems_from_validation(exc, None, "<input>", model)) from None


def _listed(archive: Archive, form: Form, fields: dict[str, Any]) -> None:
    """The model's problems and the settings lists' (category, channel, tier) all at once."""
    from hk.domain.kinds import KINDS
    from hk.domain.rules import settings_problems

    try:
        record, problems = _record(archive, form, fields), []
    except InvalidData as exc:  # the lists are still checked, on the values as typed
        record, problems = KINDS[form.kind].model_construct(**fields), exc.problems
    problems += settings_problems(record, archive.settings, "<input>")
    if problems:
        raise InvalidData(problems)


def _customer_id(archive: Archive, ref: str) -> str:
    """The customer a typed code, ID or (unique) name or phone names."""
    from hk.services.records import resolve_id
    from hk.tui.data.lists import Filters, search

    try:
        return resolve_id(archive, "customer", ref)[1]
    except NotFound:
        rows = search(archive, "customer", ref, Filters(), cap=2).rows
    if len(rows) == 1:
        return str(rows[0]["id"])
    what = f"'{ref}' names several customers" if rows else f"no customer is named '{ref}'"
    raise InvalidData([Problem(what, field="customer", hint="give the code, a name or a phone")])


def _order_args(archive: Archive, typed: OrderDraft) -> tuple[str, dict[str, Any]]:
    from hk.services.catalog import by_code
    from hk.services.records import indexed_data

    customer = _customer_id(archive, typed.customer)
    problems = []
    count = len(indexed_data(archive, customer).get("addresses") or [])
    if count and typed.address > count:
        problems.append(
            Problem(
                f"she has {count} address(es); there is no address {typed.address}",
                field="address",
                hint=f"1 to {count}",
            )
        )
    for code, _ in typed.lines:
        try:
            by_code(archive, code)
        except HkError as exc:
            problems.append(
                Problem(
                    exc.message,
                    field="more" if code != typed.lines[0][0] else "service",
                    hint=exc.hint,
                )
            )
    if problems:
        raise InvalidData(problems)
    return customer, {
        "channel": typed.channel,
        "hours": typed.hours,
        "notes": typed.notes,
        "address": typed.address,
    }


def _preview(archive: Archive, typed: OrderDraft) -> Checked:
    """The order as it would be taken (priced, not saved)."""
    from hk.services.orders.steps import OrderRequest, build_order

    customer, options = _order_args(archive, typed)
    assert typed.start is not None
    order, _ = build_order(archive, OrderRequest(customer, typed.lines, typed.start, **options))
    where = " ".join(
        part
        for part in (order.address.district, order.address.community, order.address.detail)
        if part
    )
    return Checked(
        preview=" · ".join(part for part in (order.title(), where) if part),
        total_fen=order.total_fen,
        deposit_fen=order.deposit_fen,
    )


def save(archive: Archive, form: Form, values: dict[str, str]) -> Saved:
    """Save the form through the services: a new record or order, or the edited record over
    the bytes the form was opened from (one commit; refused if they changed meanwhile)."""
    if form.kind == "order":
        from hk.services.orders.steps import OrderRequest, new_order

        typed = order_draft(form, values)
        customer, options = _order_args(archive, typed)
        assert typed.start is not None
        taken = new_order(archive, OrderRequest(customer, typed.lines, typed.start, **options))
        return Saved(
            "order",
            taken.order.id,
            taken.result.code,
            taken.result.commit,
            taken.order.window.start.date(),
        )
    from hk.domain.customer import Customer
    from hk.domain.worker import Worker
    from hk.services import people

    change = change_of(form, values)
    record: Record
    if form.opened is None:
        if isinstance(change, people.CustomerChange):
            record, result = people.new_customer(archive, change)
        else:
            record, result = people.new_worker(archive, change)
        return Saved(form.kind, record.id, result.code, result.commit)
    opened, loaded = form.opened.record, form.opened.loaded
    if isinstance(change, people.CustomerChange):
        assert isinstance(opened, Customer)
        record, result = people.edit_customer(archive, opened.id, change, (opened, loaded))
    else:
        assert isinstance(opened, Worker)
        record, result = people.edit_worker(archive, opened.id, change, (opened, loaded))
    return Saved(form.kind, record.id, result.code, result.commit)


def messages_of(form: Form, exc: BaseException) -> dict[str, list[str]]:
    """Each problem of ``exc`` under the input that owns its field (the most specific), the
    rest at the top; an error with no problems is one message at the top."""
    out: dict[str, list[str]] = {}
    problems = exc.problems if isinstance(exc, InvalidData) else []
    if isinstance(exc, FieldError):  # a value the people service could not read, by option
        problems = [Problem(exc.message, field=exc.field, hint=exc.hint)]
    if problems:
        for problem in problems:
            owner = _owner(form, problem.field or "")
            text = problem.message + (f"（{problem.hint}）" if problem.hint else "")
            if owner == TOP and problem.field:
                text = f"{problem.field}: {text}"
            out.setdefault(owner, []).append(text)
        return out
    if isinstance(exc, HkError):
        return {TOP: [exc.message + (f"（{exc.hint}）" if exc.hint else "")]}
    return {TOP: [f"{type(exc).__name__}: {exc}"]}


def _owner(form: Form, problem_field: str) -> str:
    """The input a problem's field belongs to: for a customer or a worker, the input that sets
    the option that sets the field (:func:`hk.services.people.option_of_field`); for an order,
    the input whose name or paths own it most closely."""
    if form.kind in ("customer", "worker"):
        from hk.services.people import option_of_field

        option = option_of_field(form.kind, problem_field)
        return next((f.name for f in form.fields if option_of(form, f) == option), TOP)
    best, owner = 0, TOP
    for item in form.fields:
        score = item.owns(problem_field)
        if score > best:
            best, owner = score, item.name
    return owner


# --- a record changed meanwhile -----------------------------------------------------------------


def reload(archive: Archive, form: Form, typed: dict[str, str]) -> Reloaded:
    """The record as it is now, merged with what the operator typed (see the module)."""
    assert form.record_id is not None
    fresh = open_form(archive, form.kind, form.record_id)
    merged: dict[str, str] = {}
    changed: list[str] = []
    clashes: dict[str, str] = {}
    for item in form.fields:
        base, theirs = form.values.get(item.name, ""), fresh.values.get(item.name, "")
        mine = typed.get(item.name, base)
        if theirs == base:
            merged[item.name] = mine
            continue
        changed.append(item.name)
        if mine == base:
            merged[item.name] = theirs
        else:
            merged[item.name] = mine
            if mine != theirs:
                clashes[item.name] = theirs
    return Reloaded(fresh, merged, changed, clashes)


# --- notes in $EDITOR ---------------------------------------------------------------------------


def edit_text(text: str, run: Callable[[Path], None] | None = None) -> str:
    """``text`` after the operator edited it in their editor (``HK_EDITOR``, ``VISUAL``,
    ``EDITOR``, as ``hk edit``), through a private temporary file."""
    from hk.services.editor import run_editor

    with tempfile.TemporaryDirectory(prefix="hk-notes-") as folder:
        path = Path(folder) / "notes.txt"
        path.write_text(text + ("\n" if text and not text.endswith("\n") else ""), encoding="utf-8")
        (run or run_editor)(path)
        return path.read_text(encoding="utf-8").rstrip("\n")
