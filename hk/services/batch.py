"""``hk batch``: many changes from a script, each line checked, all written in one commit.

A script that called ``hk customer edit`` a thousand times paid a process and a commit each
time. Here every line is one JSON object (its format is in ``hk batch --help``), read in the
command line's words (:class:`~hk.services.people.CustomerChange`,
:class:`~hk.services.people.WorkerChange`) and validated as ``hk customer/worker add/edit``
validate it. Lines apply in order, so two lines editing one record both take effect. All or
nothing by default: one bad line and nothing is written, and every bad line is reported. With
``keep_going`` the good lines are written (still one commit) and the bad ones reported.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

import orjson
from pydantic import BaseModel, ValidationError

from hk.domain.base import Record
from hk.domain.kinds import KINDS
from hk.domain.layout import Kind, kind_of
from hk.domain.rules import settings_problems
from hk.errors import FieldError, HkError, InvalidData, Problem
from hk.services.people import (
    INPUT_OF_FIELD,
    CustomerChange,
    WorkerChange,
    build_new,
    change_fields,
    refuse_taken_phones,
    resolve_refs,
)
from hk.services.records import ensure_fresh, load, moment, resolve_id, update_fields
from hk.store import codec
from hk.store.archive import Archive
from hk.store.files import relpath_for
from hk.store.writer import Loaded, changed_fields, save_together

_CHANGES: dict[Kind, type[CustomerChange] | type[WorkerChange]] = {
    "customer": CustomerChange,
    "worker": WorkerChange,
}
OPS = ("customer.add", "customer.edit", "worker.add", "worker.edit")
_LINE_KEYS = ("op", "ref", "set")
_EXAMPLE = '{"op": "customer.edit", "ref": "K7F3Q", "set": {"community": "万科城"}}'


@dataclass
class LineResult:
    """What became of one input line: valid or not, applied or not, and why."""

    line: int
    op: str | None = None
    id: str | None = None
    code: str | None = None
    changed: list[str] = field(default_factory=list)
    """record fields this line changed (an edit), never their values"""
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        if self.problems:
            return self.problems[0].message
        if self.op and self.op.endswith(".add"):
            return "added" if self.applied else "valid, not written"
        what = "changed " + ", ".join(self.changed) if self.changed else "nothing changed"
        return what if self.applied else f"valid, not written ({what})"

    def to_json(self) -> dict[str, Any]:
        first = self.problems[0] if self.problems else None
        return {
            "line": self.line,
            "ok": self.ok,
            "applied": self.applied,
            "op": self.op,
            "id": self.id,
            "code": self.code,
            "field": first.field if first else None,
            "message": self.message(),
            "hint": first.hint if first else None,
            "changed": self.changed,
            "problems": [
                {"field": p.field, "message": p.message, "hint": p.hint} for p in self.problems
            ],
        }


@dataclass
class BatchReport:
    """Every line's result and the one commit (None when nothing was written)."""

    results: list[LineResult] = field(default_factory=list)
    commit: str | None = None
    keep_going: bool = False

    @property
    def bad(self) -> list[LineResult]:
        return [r for r in self.results if not r.ok]

    @property
    def applied(self) -> int:
        return sum(r.applied for r in self.results)

    def summary(self) -> str:
        lines, bad = len(self.results), len(self.bad)
        if bad and not self.applied:
            tail = "" if self.keep_going else " (fix them, or apply the rest with --keep-going)"
            return f"nothing written: {bad} of {_count(lines, 'line')} refused{tail}"
        text = f"applied {_count(self.applied, 'line')} in one commit" if self.commit else ""
        text = text or f"nothing to write: {_count(self.applied, 'line')} changed nothing"
        return text + (f", {bad} refused" if bad else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@dataclass
class _Pending:
    """A record the batch writes: as loaded (None if new) and as changed by its lines so far."""

    record: Record
    loaded: Loaded | None
    lines: list[LineResult] = field(default_factory=list)


def apply_batch(archive: Archive, lines: Iterable[str], keep_going: bool = False) -> BatchReport:
    """Check every line, then write the valid changes in one commit (or none; see module).

    Raises only what concerns the batch as a whole: :class:`~hk.errors.ConflictError` when the
    archive is locked or a record changed on disk while the batch was read.
    """
    report = BatchReport(keep_going=keep_going)
    ensure_fresh(archive, *_CHANGES)  # once: every ref below is looked up without a refresh
    pending: dict[str, _Pending] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        result = LineResult(line=number)
        report.results.append(result)
        try:
            _apply_line(archive, text, result, pending)
        except InvalidData as exc:
            result.problems = [Problem(p.message, field=p.field, hint=p.hint) for p in exc.problems]
        except FieldError as exc:
            result.problems = [Problem(exc.message, field=exc.field, hint=exc.hint)]
        except HkError as exc:
            result.problems = [Problem(exc.message, hint=exc.hint)]
    if report.bad and not keep_going:
        return report
    writes = [
        p for p in pending.values() if p.loaded is None or changed_fields(p.loaded.record, p.record)
    ]
    if writes:
        saved = save_together(archive, [(p.record, p.loaded) for p in writes], _subject(writes))
        report.commit = saved.commit
    for item in pending.values():
        for result in item.lines:
            result.applied = True
            result.code = result.code or _code_of(archive, item.record.id)
    return report


def _apply_line(
    archive: Archive, text: str, result: LineResult, pending: dict[str, _Pending]
) -> None:
    """Read one line and apply it to ``pending``; raises the line's problems."""
    op, ref, values = _parse(text, result)
    noun, action = op.split(".")
    kind = kind_of(noun)
    model = _CHANGES[kind]
    change = _change(model, values, action)
    try:
        _apply_change(archive, kind, action, change, ref, result, pending)
    except InvalidData as exc:
        raise InvalidData([_in_words(p, kind) for p in exc.problems]) from None


def _phones(record: Record) -> list[str]:
    phones = getattr(record, "phones", None)
    if phones is not None:
        return list(phones)
    phone = getattr(record, "phone", None)
    return [phone] if phone else []


def _check_consent(
    record: Record, today: dt.date, archive: Archive | None = None, before: Record | None = None
) -> None:
    """New sensitive values of a customer need a consent for them (as ``customer edit``)."""
    from hk.domain.customer import Customer
    from hk.services.consent import require_sensitive_consent

    if isinstance(record, Customer):
        old = before if isinstance(before, Customer) else None
        require_sensitive_consent(record, today, archive, old)


def _apply_change(
    archive: Archive,
    kind: Kind,
    action: str,
    change: CustomerChange | WorkerChange,
    ref: str | None,
    result: LineResult,
    pending: dict[str, _Pending],
) -> None:
    """Turn a valid change into its record and keep it in ``pending`` (in line order)."""
    city = archive.settings.locale.city
    today = moment(archive, None).date()
    if action == "add":
        fields = change_fields(change, city, None, today)
        if kind == "customer":
            fields = resolve_refs(archive, fields, refresh=False)
        record: Record = build_new(archive, KINDS[kind], fields)  # type: ignore[arg-type]
        _check_settings(archive, record)
        _check_consent(record, today)
        refuse_taken_phones(archive, record)  # type: ignore[arg-type]
        result.id = record.id
        pending[record.id] = _Pending(record, None, [result])
        return
    assert ref is not None
    try:
        record_id = resolve_id(archive, kind, ref, refresh=False)[1]
    except HkError as exc:
        raise InvalidData([Problem(exc.message, field="ref", hint=exc.hint)]) from None
    result.id, result.code = record_id, _code_of(archive, record_id)
    item = pending.get(record_id)
    if item is None:
        current, loaded = load(archive, KINDS[kind], record_id)
        item = _Pending(current, loaded)
    fields = change_fields(change, city, item.record, today)  # type: ignore[arg-type]
    if kind == "customer":
        fields = resolve_refs(archive, fields, refresh=False)
    updated = update_fields(item.record, fields)
    _check_settings(archive, updated)
    _check_consent(updated, today, archive, item.record)
    if _phones(updated) != _phones(item.record):
        refuse_taken_phones(archive, updated)  # type: ignore[arg-type]
    result.changed = changed_fields(item.record, updated)
    item.record = updated
    item.lines.append(result)
    pending[record_id] = item


def _parse(text: str, result: LineResult) -> tuple[str, str | None, dict[str, Any]]:
    """The line's op, ref and set, each checked for shape; raises every problem found."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidData(
            [
                Problem(
                    f"not valid JSON: {exc.msg} (column {exc.colno})",
                    hint=f"write one JSON object per line, e.g. {_EXAMPLE}",
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise InvalidData([Problem("a line is one JSON object", hint=f"write it like {_EXAMPLE}")])
    problems: list[Problem] = []
    op = data.get("op")
    if isinstance(op, str) and op in OPS:
        result.op = op
    else:
        close = difflib.get_close_matches(str(op), OPS, n=1) if op else []
        problems.append(
            Problem(
                f"unknown op '{op}'" if op else "no op",
                field="op",
                hint=f"did you mean '{close[0]}'?" if close else "op is one of " + ", ".join(OPS),
            )
        )
    for key in data:
        if key not in _LINE_KEYS:
            problems.append(
                Problem(
                    "unknown key",
                    field=key,
                    hint="a line has op, ref and set; the fields to change go inside set",
                )
            )
    ref = data.get("ref")
    editing = result.op is not None and result.op.endswith(".edit")
    if editing and (not isinstance(ref, str) or not ref.strip()):
        problems.append(
            Problem(
                "no ref" if ref is None else "ref is the code or ID as text",
                field="ref",
                hint='name the record by its code, e.g. "ref": "K7F3Q"',
            )
        )
    elif result.op is not None and not editing and ref is not None:
        problems.append(
            Problem("an add has no ref", field="ref", hint="hk gives the new record its code")
        )
    values = data.get("set")
    if not isinstance(values, dict) or not values:
        problems.append(
            Problem(
                "no set" if values is None else "set is an object with at least one field",
                field="set",
                hint='give the fields to set, e.g. "set": {"community": "万科城"}',
            )
        )
    if problems or result.op is None:
        raise InvalidData(problems)
    assert isinstance(values, dict)
    return result.op, ref, values


def _change(
    model: type[CustomerChange] | type[WorkerChange], values: dict[str, Any], action: str
) -> CustomerChange | WorkerChange:
    """The typed change a line's ``set`` stands for, or every problem with it."""
    problems = [
        Problem(
            "null is not a value here",
            field=key,
            hint='leave the field out to keep its value; "" or [] clears it',
        )
        for key, value in values.items()
        if value is None
    ]
    if action == "add":
        problems += [
            Problem(f"{key} is for edits", field=key, hint="give the phones with phone")
            for key in ("add_phone", "remove_phone")
            if key in values
        ]
    lists = {
        name
        for name, info in model.model_fields.items()
        if any(get_origin(arg) is list for arg in get_args(info.annotation))
    }
    given = {k: [v] if k in lists and isinstance(v, str) else v for k, v in values.items()}
    try:
        change = model.model_validate(given)
    except ValidationError as exc:
        problems += _change_problems(exc, model)
        change = None
    if problems or change is None:
        raise InvalidData(problems)
    return change


def _change_problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Pydantic's errors about ``set`` with the CLI's words and hints."""
    problems = codec.problems_from_validation(exc, None, "<input>", model)
    for problem in problems:
        if problem.message == "unknown field" and problem.hint and "'" not in problem.hint:
            problem.hint = "the keys of set are the options of the add and edit commands"
    return problems


def _check_settings(archive: Archive, record: Record) -> None:
    """hk.toml's lists (category, channel, tier), checked here so the line is named."""
    path = relpath_for(type(record), record.id)
    problems = settings_problems(record, archive.settings, path)
    if problems:
        raise InvalidData(problems)


def _in_words(problem: Problem, kind: str) -> Problem:
    """A record problem named by the line's key (``phones[0]`` → ``phone``)."""
    head = (problem.field or "").split(".")[0].split("[")[0]
    key = INPUT_OF_FIELD.get(kind, {}).get(head, head) or None
    hint = problem.hint
    if problem.message == "this field is required" and key:
        hint = f'add "{key}" to set'
    return Problem(problem.message, field=key, hint=hint)


def _subject(writes: list[_Pending]) -> str:
    """The commit subject: counts by kind and action, never a name (no personal data)."""
    counts: dict[str, int] = {}
    for item in writes:
        action = "add" if item.loaded is None else "edit"
        key = f"{item.record.kind} {action}"
        counts[key] = counts.get(key, 0) + 1
    return "batch: " + ", ".join(f"{n} {key}" for key, n in sorted(counts.items()))


def _code_of(archive: Archive, record_id: str) -> str | None:
    row = archive.index.get(record_id)
    return str(row["code"]) if row is not None and row["code"] else None
