"""Round-trips (DESIGN §2, §7): any valid record serialises, parses back equal, and serialises
again to the identical text; any text in a record file parses or gives located problems.

The record strategies are derived from the models' own fields (types, bounds, patterns, nested
models), so a field added to a model is covered here without touching this file.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from decimal import Decimal
from typing import Any

import annotated_types as at
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic.functional_validators import BeforeValidator

from hk.domain.base import Record
from hk.domain.catalog import Package, ServiceItem
from hk.domain.common import _time_range
from hk.domain.customer import Customer
from hk.domain.fields import SEAL_PREFIX, Sealed, normalize_phone
from hk.domain.kinds import KINDS
from hk.domain.worker import Worker
from hk.errors import InvalidData
from hk.store.files import parse_record, relpath_for, serialise
from tests.test_order_domain import orders

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- text people type ------------------------------------------------------------------------

CHINESE = "张王李赵刘陈杨黄周吴三四五家政保洁阿姨成都市武侯区万科城栋单元号楼青霉素过敏猫狗"
PUNCTUATION = "，。：；！？（）、“”《》—…·：#-'\"{}[]&*!|>%@`,?"
characters = st.one_of(
    st.sampled_from(CHINESE),
    st.sampled_from(PUNCTUATION),
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
    st.sampled_from([" ", "\n", "\t"]),
)
text = st.one_of(
    st.text(characters, max_size=40),
    st.sampled_from(
        [
            "yes",
            "no",
            "null",
            "~",
            "true",
            "1.0",
            "0755",
            "2026-03-01",
            "12:30",
            "- 项",
            "a: b",
            "# 注释",
            "周三上午\n周五下午\n",
            "\n\n多行\n",
        ]
    ),
)

# --- values of the field types hk defines ------------------------------------------------------

mobiles = st.from_regex(r"\+861[3-9][0-9]{9}", fullmatch=True)
other_phones = st.sampled_from(["+862888886666", "+861065529988", "+16502530000"])
typed_phones = st.sampled_from(["138 0013 8000", "028-8888-6666", "+86 139 0013 9000"])
phones = st.one_of(mobiles, other_phones, typed_phones)

tokens = st.from_regex(r"[A-Za-z0-9_-]{1,60}", fullmatch=True).map(lambda t: SEAL_PREFIX + t)
"""Sealed values as they are stored: ciphertext tokens (plaintexts are sealed before writing)."""


@st.composite
def time_ranges(draw: st.DrawFn) -> str:
    start = draw(st.integers(0, 23 * 60 + 58))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


zones = st.sampled_from(
    [dt.timezone(dt.timedelta(hours=8)), dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]
)
aware_datetimes = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=zones
)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))

# --- strategies from annotations ------------------------------------------------------------------


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, at.Ge):
            out["min_value"] = item.ge
        elif isinstance(item, at.Gt):
            out["min_value"] = item.gt + 1 if isinstance(item.gt, int) else item.gt
        elif isinstance(item, at.Le):
            out["max_value"] = item.le
        elif isinstance(item, at.Lt):
            out["max_value"] = item.lt - 1 if isinstance(item.lt, int) else item.lt
    return out


def _validator_funcs(metadata: list[Any]) -> set[Any]:
    return {m.func for m in metadata if isinstance(m, BeforeValidator)}


def for_annotation(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    """A strategy for values of a field with this type and these constraints."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return for_annotation(args[0], [*metadata, *args[1:]])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = st.one_of(*(for_annotation(a, metadata) for a in options))
        return st.none() | inner if len(options) < len(args) else inner
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(for_annotation(args[0], []), max_size=3)
    if origin is dict:
        return st.dictionaries(for_annotation(args[0], []), for_annotation(args[1], []), max_size=3)
    validators = _validator_funcs(metadata)
    if normalize_phone in validators:
        return phones
    if _time_range in validators:
        return time_ranges()
    if annotation is Sealed:
        return tokens
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_data(annotation)
    if annotation is AwareDatetime:
        return aware_datetimes
    if annotation is dt.date:
        return dates
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        bounds = {"min_value": -(10**9), "max_value": 10**9, **_bounds(metadata)}
        return st.integers(**bounds)
    if annotation is Decimal:
        return st.decimals(
            min_value=Decimal("0.01"),
            max_value=Decimal(10_000),
            places=2,
            allow_nan=False,
            allow_infinity=False,
        )
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False, **_bounds(metadata))
    if annotation is str:
        pattern = next(
            (getattr(m, "pattern", None) for m in metadata if getattr(m, "pattern", None)), None
        )
        if pattern:
            return st.from_regex(pattern, fullmatch=True)
        return text
    raise TypeError(f"no strategy for {annotation!r}; add one to tests/test_roundtrip.py")


def _valid(model: type[BaseModel], data: dict[str, Any]) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


def model_data(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Field values for ``model``: required fields always, optional ones sometimes."""
    required = {}
    optional = {}
    for name, info in model.model_fields.items():
        strategy = for_annotation(info.annotation, list(info.metadata))
        (required if info.is_required() else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional).filter(
        lambda data: _valid(model, data)
    )


def records(model: type[Record]) -> st.SearchStrategy[Record]:
    return model_data(model).map(model.model_validate)


# --- properties ----------------------------------------------------------------------------------


def assert_round_trip(record: Record) -> None:
    model = type(record)
    path = relpath_for(model, record.id)
    text = serialise(record)
    back = parse_record(model, text, path)
    assert back == record
    assert serialise(back) == text


@SETTINGS
@given(records(Customer))
def test_any_valid_customer_round_trips(record: Record) -> None:
    assert_round_trip(record)


@SETTINGS
@given(records(Worker))
def test_any_valid_worker_round_trips(record: Record) -> None:
    assert_round_trip(record)


@SETTINGS
@given(records(ServiceItem))
def test_any_valid_service_item_round_trips(record: Record) -> None:
    assert_round_trip(record)


@SETTINGS
@given(records(Package))
def test_any_valid_package_round_trips(record: Record) -> None:
    assert_round_trip(record)


@SETTINGS
@given(orders())
def test_any_valid_order_round_trips(record: Record) -> None:
    """Orders are drawn as commands build them (prices add up), and stored as JSON."""
    assert relpath_for(type(record), record.id).endswith(".json")
    assert_round_trip(record)


@SETTINGS
@given(records(Worker), st.randoms(use_true_random=False))
def test_equal_records_serialise_to_the_same_text(record: Record, rng: Any) -> None:
    """One text per value: the order a mapping was typed in does not show in the file."""
    assert isinstance(record, Worker)
    days = list(record.availability.items())
    rng.shuffle(days)
    same = Worker.model_validate({**record.model_dump(), "availability": dict(days)})
    assert same == record
    assert serialise(same) == serialise(record)


@pytest.mark.parametrize("model", list(KINDS.values()), ids=list(KINDS))
def test_every_record_kind_has_a_strategy(model: type[Record]) -> None:
    """A new field type fails here, by name, rather than silently escaping the round-trip."""
    assert records(model) is not None
    for info in model.model_fields.values():
        for_annotation(info.annotation, list(info.metadata))


@SETTINGS
@given(records(Customer), st.text(characters, max_size=40))
def test_multi_line_and_chinese_notes_round_trip(record: Record, extra: str) -> None:
    assert isinstance(record, Customer)
    record.notes = (record.notes + "\n" + extra + "\n第三行").strip()
    assert_round_trip(record)


@st.composite
def damaged_files(draw: st.DrawFn) -> str:
    """A canonical customer file with a few characters deleted, replaced or inserted."""
    text = serialise(draw(records(Customer)))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        char = draw(
            st.sampled_from(
                [
                    ":",
                    "-",
                    " ",
                    "\n",
                    "'",
                    '"',
                    "[",
                    "{",
                    "#",
                    "\t",
                    "张",
                    "0",
                    "&",
                    "*",
                    "|",
                    ">",
                    "%",
                    "@",
                ]
            )
        )
        if action == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif action == "insert":
            text = text[:pos] + char + text[pos:]
        else:
            text = text[:pos] + char + text[pos + 1 :]
    return text


def assert_parses_or_explains(text: str) -> None:
    path = "customers/01M825Z0K7Q8J1KRFGJ5ZA1ESG.yaml"
    try:
        parse_record(Customer, text, path)
    except InvalidData as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.path == path
            assert problem.message
            assert problem.render().startswith(path)


@SETTINGS
@given(damaged_files())
def test_a_damaged_file_parses_or_gives_located_problems(text: str) -> None:
    assert_parses_or_explains(text)


@SETTINGS
@given(st.text(characters, max_size=200))
def test_any_text_in_a_record_file_parses_or_gives_located_problems(text: str) -> None:
    assert_parses_or_explains(text)
