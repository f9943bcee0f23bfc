"""The TUI's own words in Chinese (zh_CN) and English (en): the tables (in
:mod:`hk.tui.words_zh` and :mod:`hk.tui.words_en`) and :class:`Texts`, which picks one.

Record data stays as it was typed (names, tags, notes are Chinese whatever the language);
what changes with the language are the labels, titles, key descriptions and messages around it.
One table per language with the same keys: a test checks that they match, so a label never
falls back to the other language unnoticed.
"""

from __future__ import annotations

from hk.tui.words_en import EN
from hk.tui.words_zh import ZH

TABLES: dict[str, dict[str, str]] = {"zh_CN": ZH, "en": EN}
LANGUAGES = tuple(TABLES)

ORDER_STATUS_EN: dict[str, str] = {
    "pending": "pending",
    "confirmed": "confirmed",
    "to_dispatch": "to dispatch",
    "dispatched": "dispatched",
    "in_service": "in service",
    "completed": "completed",
    "settled": "settled",
    "cancelled": "cancelled",
}
WORKER_STATUS_EN: dict[str, str] = {
    "available": "available",
    "placed": "placed",
    "inactive": "inactive",
}
CONTRACT_STATUS_EN: dict[str, str] = {
    "draft": "draft",
    "signed": "signed",
    "active": "active",
    "expired": "expired",
    "terminated": "terminated",
    "renewed": "renewed",
}


class Texts:
    """The words of one language: ``texts("list.count", n=3)``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in TABLES else "zh_CN"
        self.table = TABLES[self.language]

    @property
    def zh(self) -> bool:
        return self.language == "zh_CN"

    def __call__(self, key: str, **values: object) -> str:
        text = self.table.get(key) or ZH.get(key, key)
        return text.format(**values) if values else text

    def order_status(self, status: str) -> str:
        from hk.domain.order.status import STATUS_ZH

        table = STATUS_ZH if self.zh else ORDER_STATUS_EN
        return table.get(status, status)

    def worker_status(self, status: str) -> str:
        from hk.domain.worker import STATUS_ZH

        table = STATUS_ZH if self.zh else WORKER_STATUS_EN
        return table.get(status, status)

    def contract_status(self, status: str) -> str:
        from hk.domain.contract import STATUS_ZH

        table = STATUS_ZH if self.zh else CONTRACT_STATUS_EN
        return table.get(status, status)

    def label(self, zh: dict[str, str], key: str) -> str:
        """A stored key (``first_service``) in words: the domain's Chinese label, or the key
        itself spelt out in English."""
        return zh.get(key, key) if self.zh else key.replace("_", " ")

    def paren(self, text: str) -> str:
        """``（text）`` in Chinese, `` (text)`` in English."""
        return f"（{text}）" if self.zh else f" ({text})"

    def labelled(self, label: str, value: str) -> str:
        """``label：value`` or ``label: value``."""
        return f"{label}：{value}" if self.zh else f"{label}: {value}"

    def join_clauses(self, parts: list[str]) -> str:
        return ("；" if self.zh else "; ").join(p for p in parts if p)

    def weekday(self, index: int) -> str:
        """Monday is 0: ``周一`` or ``M``."""
        return self("weekday.prefix") + self("weekdays")[index]
