"""Field types that carry their own validation: phones, ID-card numbers, money, sealed values.

These are where a user feels the validation: each error message says what is wrong in words
and, where it helps, what a right value looks like.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

# --- phones ---------------------------------------------------------------------------------------

_CN_MOBILE_E164 = re.compile(r"\+861[3-9][0-9]{9}")


def normalize_phone(value: Any) -> str:
    """Parse a phone number (China by default) and return it in E.164 form (``+8613800138000``).

    Stored E.164 mobiles are accepted by a pattern without loading the phone-number tables,
    which keeps reading files fast; anything else goes through ``phonenumbers``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PydanticCustomError("phone", "a phone number must be text, e.g. 138 0013 8000")
    text = value.strip()
    if _CN_MOBILE_E164.fullmatch(text):
        return text
    import phonenumbers

    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError(
            "phone",
            "'{value}' is not a phone number ({reason})",
            {"value": text, "reason": exc._msg},
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError(
            "phone",
            "'{value}' is not a valid phone number; mobiles have 11 digits (138 0013 8000), "
            "landlines an area code (028 8888 6666)",
            {"value": text},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Show a stored number as people write it: ``138 0013 8000``, ``028 8888 6666``."""
    if _CN_MOBILE_E164.fullmatch(e164):
        d = e164[3:]
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def phone_digits(e164: str) -> str:
    """Digits a user may type to find this number: national form (``13800138000``).

    Landlines are written with the trunk 0 before the area code (``028 8888 6666``), so
    their national form keeps it; a search for the number without it still matches.
    """
    if not e164.startswith("+86"):
        return e164.lstrip("+")
    national = e164[3:]
    return national if len(national) == 11 and national[0] == "1" else "0" + national


def mask_phone(e164: str) -> str:
    """``+8613800138000`` → ``138****8000``: enough for the customer to recognise it."""
    digits = phone_digits(e164)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


Phone = Annotated[str, BeforeValidator(normalize_phone)]

# --- Chinese resident ID numbers (GB 11643-1999) --------------------------------------------------

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str) -> str:
    """Check an 18-character resident ID (shape, birth date, check digit); return it upper-case."""
    # NFKC turns the full-width digits and Ｘ of a Chinese input method into ASCII
    text = unicodedata.normalize("NFKC", value).strip().upper().replace(" ", "")
    if len(text) != 18:
        raise PydanticCustomError(
            "id_number",
            "an ID-card number has 18 characters, this one has {n}",
            {"n": len(text)},
        )
    if not _ID_SHAPE.fullmatch(text):
        raise PydanticCustomError(
            "id_number", "an ID-card number is 17 digits and a last digit or X"
        )
    try:
        born = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise PydanticCustomError(
            "id_number",
            "characters 7–14 of an ID-card number are a birth date; {d} is not a date",
            {"d": text[6:14]},
        ) from None
    if born.year < 1900 or born > dt.date.today():
        raise PydanticCustomError(
            "id_number",
            "characters 7–14 of an ID-card number are a birth date; {d} is not a possible "
            "birth date",
            {"d": text[6:14]},
        )
    expected = id_check_char(text[:17])
    if text[17] != expected:
        raise PydanticCustomError(
            "id_number",
            "the check digit is wrong (last character should be {expected}); "
            "a digit was probably mistyped",
            {"expected": expected},
        )
    return text


def mask_id_number(text: str) -> str:
    """``510104199001011234`` → ``5101**************``: the province and city only.

    Everything after them is hidden, the last four characters too: digits 7–14 are the birth
    date and 5–6 the district, both often in the same record in plain text (a birthday, an
    address), and with them the sequence and check digits would complete the number. With
    those hidden, a thousand numbers fit whatever else the record says.
    """
    return "*" * len(text) if len(text) <= 8 else text[:4] + "*" * (len(text) - 4)


# --- money ----------------------------------------------------------------------------------------

Fen = Annotated[int, Field(ge=0, description="money in fen (分): 1 yuan = 100 fen")]

_MONEY = re.compile(
    r"^(-?)\s*[¥￥]?\s*(-?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?)\s*(元|块|rmb|cny)?$",
    re.IGNORECASE,
)
"""Thousands separators only in groups of three: ``1,2`` is a typo, not twelve yuan."""


def parse_money(text: str) -> int:
    """Turn what an operator types (``120``, ``¥1,200.50``, ``80元``) into fen, without floats.

    Whatever :func:`format_money` prints (``-¥5.00`` included) parses back to the same fen.
    """
    match = _MONEY.match(text.strip())
    if not match or (match.group(1) and match.group(2)):
        raise ValueError(f"'{text}' is not an amount of money; write it like 120 or 120.50")
    try:
        amount = Decimal(match.group(1) + match.group(2) + match.group(3).replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount of money") from None
    return int((amount * 100).to_integral_value())


# --- sealed (encrypted) values --------------------------------------------------------------------

SEAL_PREFIX = "enc:v1:"


def is_sealed_text(value: object) -> bool:
    """Whether a stored value (as a file or git's history holds it) is a sealed token."""
    return isinstance(value, str) and value.startswith(SEAL_PREFIX)


class Sealed:
    """A sensitive value: ciphertext as stored, plaintext when typed in or unlocked.

    On disk only the token (``enc:v1:…``) ever appears. A value typed by a user (or written as
    plain text into a file by hand) has ``plain`` and no token until the store seals it with the
    person's data key. Keeping the token of an unchanged value is what makes re-saving a record
    byte-identical, even though AES-GCM encryption itself is randomised.
    """

    __slots__ = ("plain", "token")

    def __init__(self, token: str | None = None, plain: str | None = None) -> None:
        if token is None and plain is None:
            raise ValueError("a sealed value needs a token or a plaintext")
        self.token = token
        self.plain = plain

    @property
    def sealed(self) -> bool:
        return self.token is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sealed):
            return NotImplemented
        if self.token is not None and other.token is not None:
            return self.token == other.token
        return self.plain == other.plain and self.plain is not None

    def __hash__(self) -> int:
        return hash(self.token or self.plain)

    def __repr__(self) -> str:
        return "Sealed(<sealed>)" if self.token else "Sealed(<plain, not yet sealed>)"

    @classmethod
    def _parse(cls, value: Any) -> Sealed:
        if isinstance(value, Sealed):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise PydanticCustomError("sealed", "expected text")
        if value.startswith(SEAL_PREFIX):
            return cls(token=value)
        return cls(plain=value.strip())

    @staticmethod
    def _serialize(value: Sealed) -> str:
        if value.token is None:
            raise ValueError("a sensitive value must be sealed before it is written")
        return value.token

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls._serialize, when_used="always"
            ),
            json_schema_input_schema=core_schema.str_schema(),
        )


def _id_number_if_plain(value: Sealed) -> Sealed:
    if value.plain is not None and value.token is None:
        value.plain = validate_id_number(value.plain)
    return value


SealedText = Annotated[Sealed, "sensitive"]
SealedIdNumber = Annotated[Sealed, AfterValidator(_id_number_if_plain)]

# --- misc -----------------------------------------------------------------------------------------


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


NonEmpty = Annotated[str, BeforeValidator(_clean_text), Field(min_length=1)]
