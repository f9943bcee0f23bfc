"""Field rules (SPEC §2): phones, ID-card numbers, masking, money, strict models, dates.

These are the checks an operator meets when typing a value; every refusal says in words what is
wrong, and where it helps, what a right value looks like.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import hk.domain
from hk.domain.base import now
from hk.domain.catalog import ServiceItem
from hk.domain.common import Consent, DateSpan
from hk.domain.customer import Customer
from hk.domain.fields import (
    format_phone,
    id_check_char,
    mask_id_number,
    normalize_phone,
    parse_money,
    validate_id_number,
)
from hk.domain.ids import new_id
from hk.domain.money import format_money
from hk.domain.worker import Certificate, Leave, Worker

VALID_ID = "510104199001011230"
"""A well-formed number: Chengdu Jinjiang district, born 1990-01-01, check digit 0."""
VALID_ID_X = "11010519491231002X"
"""The GB 11643 example number, whose check character is X."""


def customer(**fields: Any) -> Customer:
    stamp = now()
    return Customer.model_validate(
        {"id": new_id(), "created": stamp, "updated": stamp, "name": "张三", **fields}
    )


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return "\n".join(str(e["msg"]) for e in exc.value.errors())


# --- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "008613800138000",
    ],
)
def test_a_mobile_is_stored_in_e164_however_it_is_typed(typed: str) -> None:
    assert normalize_phone(typed) == "+8613800138000"


@pytest.mark.parametrize("typed", ["028-8888-6666", "(028) 8888 6666", "02888886666"])
def test_a_landline_with_its_area_code_is_accepted(typed: str) -> None:
    assert normalize_phone(typed) == "+862888886666"


def test_a_mobile_with_full_width_digits_is_stored_in_ascii() -> None:
    """A Chinese input method in full-width mode types １３８…; a file may hold them too."""
    assert normalize_phone("１３８ ００１３ ８０００") == "+8613800138000"
    assert normalize_phone("+8613８00138000") == "+8613800138000"


def test_a_foreign_number_with_its_country_code_is_accepted() -> None:
    assert normalize_phone("+1 650 253 0000") == "+16502530000"


def test_phones_show_as_people_write_them() -> None:
    assert format_phone("+8613800138000") == "138 0013 8000"
    assert format_phone("+862888886666") == "028 8888 6666"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("12345", "not a valid phone number; mobiles have 11 digits"),
        ("1380013800", "not a valid phone number"),
        ("138001380001", "not a valid phone number"),
        ("8888 6666", "landlines an area code"),
        ("打电话", "is not a phone number"),
    ],
)
def test_an_invalid_phone_is_refused_with_a_message_in_words(typed: str, words: str) -> None:
    with pytest.raises(ValidationError) as exc:
        customer(phones=[typed])
    assert words in messages(exc)
    assert typed in messages(exc)
    assert exc.value.errors()[0]["loc"] == ("phones", 0)


def test_the_same_phone_typed_twice_is_kept_once() -> None:
    assert customer(phones=["13800138000", "138 0013 8000"]).phones == ["+8613800138000"]


# --- ID-card numbers (GB 11643) ---------------------------------------------------------------


def test_a_valid_id_number_with_a_digit_check_is_accepted() -> None:
    assert validate_id_number(VALID_ID) == VALID_ID


def test_a_valid_id_number_with_an_x_check_is_accepted_in_either_case() -> None:
    assert validate_id_number(VALID_ID_X) == VALID_ID_X
    assert validate_id_number(VALID_ID_X.lower()) == VALID_ID_X


def test_an_id_number_typed_with_full_width_digits_is_stored_in_ascii() -> None:
    assert validate_id_number("５１０１０４１９９００１０１１２３０") == VALID_ID
    assert validate_id_number("１１０１０５１９４９１２３１００２ｘ") == VALID_ID_X


def test_an_id_number_in_digits_of_another_script_is_refused() -> None:
    with pytest.raises(ValueError, match="17 digits and a last digit or X"):
        validate_id_number("٥١٠١٠٤١٩٩٠٠١٠١١٢٣٠")


def test_spaces_inside_an_id_number_are_ignored() -> None:
    assert validate_id_number("510104 19900101 1230") == VALID_ID


@pytest.mark.parametrize("typed", [VALID_ID[:-1], VALID_ID + "0", VALID_ID[:15]])
def test_an_id_number_of_the_wrong_length_says_how_long_it_is(typed: str) -> None:
    with pytest.raises(ValueError, match=f"has 18 characters, this one has {len(typed)}"):
        validate_id_number(typed)


def test_an_id_number_with_letters_inside_is_refused() -> None:
    with pytest.raises(ValueError, match="17 digits and a last digit or X"):
        validate_id_number("5101041990010112A0")


def test_a_wrong_check_digit_says_which_digit_is_expected() -> None:
    with pytest.raises(ValueError, match="should be 0"):
        validate_id_number(VALID_ID[:-1] + "7")
    with pytest.raises(ValueError, match="should be X"):
        validate_id_number(VALID_ID_X[:-1] + "5")


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900100"])
def test_an_id_number_with_an_impossible_birth_date_is_refused(birth: str) -> None:
    first17 = "510104" + birth + "123"
    with pytest.raises(ValueError, match=f"{birth} is not a date"):
        validate_id_number(first17 + id_check_char(first17))


def test_an_id_number_with_a_birth_date_in_the_future_is_refused() -> None:
    future = dt.date.today() + dt.timedelta(days=400)
    first17 = "510104" + future.strftime("%Y%m%d") + "123"
    with pytest.raises(ValueError, match="not a possible birth date"):
        validate_id_number(first17 + id_check_char(first17))


def test_a_typed_id_number_is_validated_by_the_model() -> None:
    with pytest.raises(ValidationError) as exc:
        customer(id_number=VALID_ID[:-1] + "9")
    assert exc.value.errors()[0]["loc"] == ("id_number",)
    assert "should be 0" in messages(exc)


def test_a_sealed_id_number_is_not_checked_as_plaintext() -> None:
    """A token is ciphertext; only the typed plaintext can be checked."""
    record = customer(id_number="enc:v1:AAAA")
    assert record.id_number is not None and record.id_number.token == "enc:v1:AAAA"


def test_an_id_number_is_masked_to_its_first_and_last_four() -> None:
    assert mask_id_number("510104199001011234") == "5101**************"
    assert mask_id_number(VALID_ID_X) == "1101**************"


def test_a_short_value_is_masked_entirely() -> None:
    assert mask_id_number("1234") == "****"


# --- money in fen -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("120", 12000),
        ("120.50", 12050),
        ("120.5", 12050),
        ("¥1,200.50", 120050),
        ("80元", 8000),
        ("￥ 3.1", 310),
        ("0.29", 29),
        ("19.99", 1999),
        ("1,234,567.89", 123456789),
        ("0", 0),
    ],
)
def test_money_is_parsed_to_whole_fen(typed: str, fen: int) -> None:
    value = parse_money(typed)
    assert value == fen
    assert type(value) is int


@pytest.mark.parametrize("typed", ["abc", "1.005", "12.3.4", "", "¥", "1,2,3", "12,5"])
def test_text_that_is_not_money_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(ValueError, match="not an amount of money"):
        parse_money(typed)


def test_money_is_formatted_with_yuan_sign_and_two_decimals() -> None:
    assert format_money(12050) == "¥120.50"
    assert format_money(5) == "¥0.05"
    assert format_money(123456789) == "¥1,234,567.89"
    assert format_money(-500) == "-¥5.00"


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_formatted_money_parses_back_to_the_same_fen(fen: int) -> None:
    assert parse_money(format_money(fen)) == fen


def test_a_price_in_fen_refuses_a_fraction_of_a_fen() -> None:
    stamp = now()
    base = {
        "id": new_id(),
        "created": stamp,
        "updated": stamp,
        "code": "BJ-TEST",
        "name": "测试",
        "category": "家庭保洁",
        "unit": "hour",
    }
    assert ServiceItem.model_validate({**base, "price_fen": 4500}).price_fen == 4500
    with pytest.raises(ValidationError):
        ServiceItem.model_validate({**base, "price_fen": 4500.5})
    with pytest.raises(ValidationError):
        ServiceItem.model_validate({**base, "price_fen": -1})


# --- strict models: unknown keys are refused ---------------------------------------------------


def _domain_models() -> list[type[BaseModel]]:
    """Every Pydantic model defined anywhere under hk.domain (new ones included automatically)."""
    models: set[type[BaseModel]] = set()
    for info in pkgutil.iter_modules(hk.domain.__path__, "hk.domain."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                models.add(value)
    return sorted(models, key=lambda m: f"{m.__module__}.{m.__name__}")


@pytest.mark.parametrize("model", _domain_models(), ids=lambda m: m.__name__)
def test_every_model_refuses_unknown_keys(model: type[BaseModel]) -> None:
    with pytest.raises(ValidationError) as exc:
        model.model_validate({"colour_of_door": "red"})
    unknown = [e for e in exc.value.errors() if e["type"] == "extra_forbidden"]
    assert [e["loc"] for e in unknown] == [("colour_of_door",)]


def test_unknown_keys_are_refused_in_nested_parts_too() -> None:
    with pytest.raises(ValidationError) as exc:
        customer(addresses=[{"city": "成都市", "comunity": "万科城"}])
    assert [e["loc"] for e in exc.value.errors()] == [("addresses", 0, "comunity")]


# --- dates and times -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["2026-02-30", "2026-13-01", "1990/01/01", "明天"])
def test_an_impossible_or_malformed_date_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as exc:
        customer(birthday=typed)
    assert exc.value.errors()[0]["loc"] == ("birthday",)


def test_a_date_is_read_from_iso_text() -> None:
    assert customer(birthday="1990-01-01").birthday == dt.date(1990, 1, 1)
    assert Consent(purpose="服务", date="2026-03-01").date == dt.date(2026, 3, 1)  # type: ignore[arg-type]


def test_a_span_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="the end date is before the start date"):
        DateSpan.model_validate({"start": "2026-12-05", "end": "2026-12-01"})
    with pytest.raises(ValidationError, match="the end date is before the start date"):
        Leave.model_validate({"start": "2026-12-05", "end": "2026-12-01", "reason": "探亲"})


def test_a_certificate_that_expires_before_it_was_issued_is_refused() -> None:
    with pytest.raises(ValidationError, match="expires before it was issued"):
        Certificate.model_validate(
            {"kind": "健康证", "issued": "2026-05-01", "expires": "2025-05-01"}
        )


def test_record_timestamps_must_carry_a_timezone() -> None:
    with pytest.raises(ValidationError) as exc:
        Customer.model_validate(
            {
                "id": new_id(),
                "name": "张三",
                "created": "2026-03-01T09:00:00",
                "updated": "2026-03-01T09:00:00+08:00",
            }
        )
    assert [e["loc"] for e in exc.value.errors()] == [("created",)]


@pytest.mark.parametrize(
    ("typed", "words"), [("8-12", "write it like 08:00-12:00"), ("18:00-08:00", "ends before")]
)
def test_an_availability_range_must_be_hours_in_order(typed: str, words: str) -> None:
    stamp = now()
    with pytest.raises(ValidationError, match=words):
        Worker.model_validate(
            {
                "id": new_id(),
                "created": stamp,
                "updated": stamp,
                "name": "王阿姨",
                "gender": "女",
                "availability": {"mon": [typed]},
            }
        )


def test_an_availability_range_is_normalised() -> None:
    stamp = now()
    worker = Worker.model_validate(
        {
            "id": new_id(),
            "created": stamp,
            "updated": stamp,
            "name": "王阿姨",
            "gender": "女",
            "availability": {"mon": ["08:00 – 12:00"]},
        }
    )
    assert worker.availability == {"mon": ["08:00-12:00"]}
