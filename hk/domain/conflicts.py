"""The attic (冲突记录): every value that lost a merge, kept in the archive until someone decides.

When two operators changed the same field of one record apart, the merge keeps one value
(the later writer's) and the other comes here, with both values, who wrote each and when.
Nothing a person typed is ever dropped: ``hk conflicts`` lists what is open and ``hk
conflicts resolve`` puts the lost value back, or confirms the kept one.

An attic file is ``conflicts/<yyyy>/<record-id>.yaml``: a list of entries for that record,
the year being the one of the later of the two changes, so that every clone that merges the
same histories writes the same file. Sensitive values are stored as the sealed tokens they
were in the record files, never as plain text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import AwareDatetime, Field

from hk.domain.base import Strict
from hk.domain.fields import is_sealed_text, mask_phone
from hk.domain.layout import Kind

FOLDER = "conflicts"
"""The attic's folder in the archive."""

RECORD_FIELD = "*"
"""The field of an entry about a whole record: deleted on one side, changed on the other."""


class AtticEntry(Strict):
    """One value that lost a merge, and the value that was kept instead."""

    kind: Kind
    record: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="the record's ID")
    field: str = Field(
        min_length=1,
        description="dotted path (preferences.cooking_taste), an entry (skills[保洁]), or *",
    )
    kept: Any = None
    lost: Any = None
    kept_by: str = ""
    kept_at: AwareDatetime
    lost_by: str = ""
    lost_at: AwareDatetime
    resolved: bool = False
    resolved_by: str = ""
    resolved_at: AwareDatetime | None = None
    resolution: str = Field("", description="kept or lost: which value the record has now")

    def key(self) -> tuple[str, str, str, str, str, str]:
        """What makes two entries the same loss (the same merge done on two clones)."""
        return (
            self.kind,
            self.record,
            self.field,
            _json_text(self.lost),
            self.lost_at.isoformat(),
            self.kept_at.isoformat(),
        )

    def order(self) -> tuple[float, str, str]:
        return (max(self.kept_at, self.lost_at).timestamp(), self.field, self.lost_at.isoformat())


def attic_path(record_id: str, kept_at: dt.datetime, lost_at: dt.datetime) -> str:
    """The attic file of one record's entries from one year (see the module text)."""
    return f"{FOLDER}/{max(kept_at, lost_at).year:04d}/{record_id}.yaml"


def is_attic_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == FOLDER and parts[2].endswith(".yaml")


def merged_entries(*lists: list[AtticEntry]) -> list[AtticEntry]:
    """Entries of several versions of one attic file, each loss once, in time order.

    The same loss found by two clones is one entry; if either clone resolved it, it is
    resolved (the resolution with the later time wins)."""
    found: dict[tuple[str, ...], AtticEntry] = {}
    for entries in lists:
        for entry in entries:
            key = entry.key()
            have = found.get(key)
            if have is None or _later_resolution(entry, have):
                found[key] = entry
    return sorted(found.values(), key=AtticEntry.order)


def _later_resolution(entry: AtticEntry, have: AtticEntry) -> bool:
    if not entry.resolved:
        return False
    if not have.resolved:
        return True
    mine = entry.resolved_at.timestamp() if entry.resolved_at else 0.0
    theirs = have.resolved_at.timestamp() if have.resolved_at else 0.0
    return (mine, entry.resolution, entry.resolved_by) > (
        theirs,
        have.resolution,
        have.resolved_by,
    )


# --- showing values -------------------------------------------------------------------------------

HIDDEN = "******"
"""A sensitive value as shown without --reveal."""

_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def masked(value: Any) -> Any:
    """``value`` safe to print: sealed tokens as ``******``, phone numbers as ``138****8000``.

    Goes into lists and mappings; everything else is shown as it is.
    """
    if isinstance(value, str):
        if is_sealed_text(value):
            return HIDDEN
        if _PHONE.match(value):
            return mask_phone(value)
        return value
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    return value


def shown(value: Any) -> str:
    """A value in one line for a message: text as it is, anything else as compact JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value else '""'
    return _json_text(value)


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
