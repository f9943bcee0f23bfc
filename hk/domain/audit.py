"""The audit trail of personal data (PIPL Art. 54, SPEC §7): who saw or sent what, and why.

Every reveal of a sensitive value, every export, every document with personal data, every
message sent and every erasure leaves one entry: who, when, which record(s) by ID, which kinds
of data (field names, never values), why, and where the data went. No entry holds personal
data, so the trail itself can be shown to anyone who audits the company.

Entries are chained: each names the hash of the one before it (on the machine that wrote it),
so an entry edited or removed by hand breaks its successor's link and is found by
``hk doctor``. Each entry is a file of its own, so operators on different clones never
conflict over the trail: a merge of two clones makes the chain a tree, still checked link by
link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from hk.domain.base import Strict
from hk.domain.layout import Kind

Action = Literal["reveal", "export", "document", "send", "erase", "access-copy"]
ACTION_ZH: dict[str, str] = {
    "reveal": "查看敏感信息",
    "export": "导出",
    "document": "生成文书",
    "send": "发送消息",
    "erase": "删除个人信息",
    "access-copy": "个人信息副本",
}
Destination = Literal["terminal", "file", "stdout", "printer", "channel", "screen", "archive"]
"""Where the data went: a screen, a pipe, a file, a message channel; ``archive`` for an
erasure, which sends nothing anywhere."""

FOLDER = "audit"
GENESIS = "0" * 32
"""The ``prev`` of the first entry of an archive."""


class AuditEntry(Strict):
    id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")
    at: AwareDatetime
    operator: str
    action: Action
    kind: Kind
    records: list[str] = Field(default_factory=list, description="record IDs; [] = every one")
    count: int = Field(ge=0, description="how many records the data came from")
    fields: list[str] = Field(default_factory=list, description="kinds of data, never values")
    reason: str = ""
    to: Destination
    channel: str = Field("", description="the channel or file format it went to")
    prev: str
    hash: str

    def relpath(self) -> str:
        return entry_path(self.id, self.at)


def entry_path(entry_id: str, at: dt.datetime) -> str:
    return f"{FOLDER}/{at:%Y}/{at:%m}/{entry_id}.json"


def entry_hash(data: dict[str, Any]) -> str:
    """The hash of an entry's data without its own ``hash``: what the next entry links to."""
    body = {k: v for k, v in data.items() if k != "hash"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
