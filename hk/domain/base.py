"""The base every record shares: a random time-sortable ID, timestamps, strict fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hk.domain.fields import Sealed
from hk.domain.layout import Kind


class Strict(BaseModel):
    """A model that refuses unknown keys: a typo in a hand-edited file is an error, not lost."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True, defer_build=True
    )


class Record(Strict):
    """A record stored as one file, named by its ID, with its history in git."""

    kind: ClassVar[Kind]
    """Singular noun used in commands and commit messages (``customer``)."""
    folder: ClassVar[str]
    """Folder of the archive that holds one file per record."""
    code_prefix: ClassVar[str] = ""
    """Letter in front of the derived short code; empty when the record has its own ``code``."""
    label_zh: ClassVar[str] = ""

    id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="random time-sortable ID")
    created: AwareDatetime
    updated: AwareDatetime

    def own_code(self) -> str | None:
        """The record's own human code, for records that carry one (catalog items)."""
        return None

    def title(self) -> str:
        """A one-line name for listings and messages (never goes into commits or paths)."""
        return str(getattr(self, "name", self.id))

    def index_terms(self) -> dict[str, list[str]]:
        """What search matches anywhere in the text (phones, tags …), and the list filters.

        Keys: ``terms`` (substring search), ``tags``, ``communities``, ``category``.
        """
        return {"terms": [self.title()], "tags": [], "communities": [], "category": []}

    def summary(self) -> dict[str, Any]:
        """The few fields a listing shows, computed when the record is indexed."""
        return {}

    def index_day(self) -> str:
        """The day a listing filters this record by (``YYYY-MM-DD``), or ""."""
        return ""

    def index_refs(self) -> list[str]:
        """IDs of other records this one belongs to, for listings by customer or worker."""
        return []

    def checked_refs(self) -> list[tuple[str, Kind, list[str]]]:
        """References the write path checks exist before it saves: (field, kind, IDs).

        A record names here the other records it points at by ID that must exist when it is
        written (a referrer, a preferred worker); the store knows no record's fields.
        """
        return []

    def sealed_values(self) -> Iterator[tuple[str, Sealed]]:
        """Every sensitive value in the record, with a dotted path for messages."""
        yield from _walk_sealed(self, "")


def _walk_sealed(obj: Any, prefix: str) -> Iterator[tuple[str, Sealed]]:
    if isinstance(obj, Sealed):
        yield prefix, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk_sealed(getattr(obj, name), f"{prefix}.{name}" if prefix else name)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _walk_sealed(item, f"{prefix}[{i}]")


def now(tz: str = "Asia/Shanghai") -> dt.datetime:
    """The current time in the archive's timezone, to the second (files stay readable)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(tz)).replace(microsecond=0)
