"""The messages reminders go out as: the office's digest and one message per person.

Rendered from Jinja2 templates through :mod:`hk.services.documents` (an archive's own
``templates/`` folder may override them by file name), in the archive's language:

- ``remind_digest.<lang>.md.j2`` — the office's digest, in Markdown that e-mail (as text and
  HTML), WeCom and DingTalk all show: headings, lists and bold only (group bots draw no
  tables);
- ``remind_customer.<lang>.txt.j2``, ``remind_worker.<lang>.txt.j2`` — plain text for one
  person, every item of theirs in one message (an SMS or a chat message).

A channel with a size limit (the group bots) gets the digest in as many parts as it takes,
each a message of its own carrying its own occasion keys: a part that fails is retried alone.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from hk.domain.reminders import Due
    from hk.remind.gather import Found
    from hk.store.archive import Archive

LANGUAGES = ("zh_CN", "en")
WEEKDAY = {"zh_CN": "一二三四五六日", "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}
HEADINGS = {
    "zh_CN": {
        "appointment": "明日预约",
        "contract_end": "合同即将到期",
        "certificate": "证书到期",
        "insurance": "保险到期",
        "employment": "阿姨合同到期",
        "deposit": "定金未收",
        "quote_expiry": "报价单即将过期",
        "package_low": "套餐次数将用完",
        "birthday": "客户生日",
        "lapsed": "流失客户待挽回",
        "visit": "回访到期",
        "complaint": "投诉处理时限",
    },
    "en": {
        "appointment": "Tomorrow's appointments",
        "contract_end": "Contracts ending",
        "certificate": "Certificates expiring",
        "insurance": "Insurance expiring",
        "employment": "Worker contracts ending",
        "deposit": "Deposits due",
        "quote_expiry": "Quotes about to expire",
        "package_low": "Packages nearly used up",
        "birthday": "Birthdays",
        "lapsed": "Lapsed customers to win back",
        "visit": "Return visits due",
        "complaint": "Complaints near their deadline",
    },
}
"""Each rule's section heading in the digest (the template may name them otherwise)."""
ROLE = {
    "zh_CN": {"customer": "客户", "worker": "阿姨"},
    "en": {"customer": "customer", "worker": "worker"},
}


class Message:
    """One message on one channel, and the occasions it carries (recorded once delivered)."""

    __slots__ = ("audience", "day", "format", "keys", "language", "person", "text", "title")

    def __init__(
        self,
        audience: str,
        keys: list[str],
        title: str,
        text: str,
        fmt: str,
        day: str,
        language: str,
        person: dict[str, Any] | None = None,
    ) -> None:
        self.audience, self.keys, self.title, self.text = audience, keys, title, text
        self.format, self.day, self.language, self.person = fmt, day, language, person

    def banner(self) -> str:
        """What precedes a personal message on standard output: whom to forward it to."""
        if not self.person:
            return ""
        p = self.person
        role = ROLE.get(self.language, ROLE["en"]).get(p.get("kind", ""), "")
        contact = "，".join(x for x in (p.get("phone", ""), p.get("wechat", "")) if x)
        if self.language == "zh_CN":
            return (
                f"—— 给{role} {p.get('name', '')}" + (f"（{contact}）" if contact else "") + " ——\n"
            )
        return f"-- to {role} {p.get('name', '')}" + (f" ({contact})" if contact else "") + " --\n"

    def plain(self) -> str:
        """The text without Markdown marks, for channels that show text as it is."""
        if self.format != "markdown":
            return self.text
        lines = []
        for line in self.text.splitlines():
            line = line.lstrip("#").strip() if line.startswith("#") else line
            lines.append(line.replace("**", "").replace("\\", ""))
        return "\n".join(lines)

    def html(self) -> str:
        """The text as a small HTML page (e-mail's second part)."""
        from html import escape

        from markdown_it import MarkdownIt

        if self.format != "markdown":
            body = f"<pre>{escape(self.text)}</pre>"
        else:
            body = MarkdownIt("commonmark", {"html": False}).render(self.text)
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(self.title)}'
            f"</title></head><body>{body}</body></html>\n"
        )


def day_context(day: dt.date, language: str) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "year": day.year,
        "month": day.month,
        "day": day.day,
        "weekday": WEEKDAY.get(language, WEEKDAY["en"])[day.weekday()],
    }


def record_of(records: dict[str, dict[str, Any]], rid: str | None) -> dict[str, Any] | None:
    """The record an ID names, or a stand-in showing the ID if it is not in the index."""
    if not rid:
        return None
    return records.get(rid) or {
        "id": rid,
        "kind": "",
        "code": rid[:8],
        "name": rid[:8],
        "phones": [],
        "phone": "",
        "wechat": "",
    }


def item_context(item: Due, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An item as templates see it: its facts, and each record it names by role."""
    out: dict[str, Any] = {
        "key": item.key,
        "rule": item.rule,
        "audience": item.audience,
        "day": item.day.isoformat(),
        "facts": item.facts,
        "customer": None,
        "worker": None,
        "workers": [],
        "order": None,
        "contract": None,
        "quote": None,
        "visit": None,
        "complaint": None,
    }
    for role, value in item.refs.items():
        out[role] = (
            [record_of(records, v) for v in value]
            if isinstance(value, list)
            else record_of(records, value)
        )
    return out


def _title(
    company: str, language: str, day: dt.date, count: int, part: str = "", personal: bool = False
) -> str:
    if language == "zh_CN":
        head = f"【{company}】" if company else ""
        if personal:
            return f"{head}服务提醒"
        return f"{head}{day.month}月{day.day}日提醒（{count}项）{part}"
    head = f"{company}: " if company else ""
    if personal:
        return f"{head}a reminder"
    return f"{head}reminders for {day.isoformat()} ({count}){part}"


def digest(
    archive: Archive, found: Found, items: Sequence[Due], language: str, limit: int | None = None
) -> list[Message]:
    """The office digest of ``items``: one message, or parts under ``limit`` bytes each."""
    from hk.services.documents import render_text

    company = archive.settings.company.name
    template = f"remind_digest.{language}.md.j2"

    def render(chunk: Sequence[Due], part: str) -> Message:
        sections = []
        for rule, heading in HEADINGS.get(language, HEADINGS["en"]).items():
            mine = [item_context(i, found.records) for i in chunk if i.rule == rule]
            if mine:
                sections.append({"rule": rule, "heading": heading, "items": mine})
        title = _title(company, language, found.day, len(chunk), part)
        text = render_text(
            archive,
            template,
            {
                "title": title,
                "day": day_context(found.day, language),
                "sections": sections,
                "count": len(chunk),
            },
        )
        return Message(
            "office",
            [i.key for i in chunk],
            title,
            text,
            "markdown",
            found.day.isoformat(),
            language,
        )

    return _parts(list(items), render, limit, language)


def _parts(
    items: list[Due],
    render: Callable[[Sequence[Due], str], Message],
    limit: int | None,
    language: str,
) -> list[Message]:
    """Split ``items`` in halves until each part's message fits ``limit`` (a lone item that
    does not fit is cut short rather than lost)."""
    chunks = [items]
    if limit:
        done: list[list[Due]] = []
        while chunks:
            chunk = chunks.pop(0)
            if len(chunk) > 1 and len(render(chunk, " (9/9)").text.encode()) > limit:
                half = len(chunk) // 2
                chunks[:0] = [chunk[:half], chunk[half:]]
            else:
                done.append(chunk)
        chunks = done
    out = []
    for n, chunk in enumerate(chunks, 1):
        part = f"（{n}/{len(chunks)}）" if language == "zh_CN" else f" ({n}/{len(chunks)})"
        message = render(chunk, part if len(chunks) > 1 else "")
        if limit and len(message.text.encode()) > limit:
            message.text = message.text.encode()[: limit - 3].decode(errors="ignore") + "…"
        out.append(message)
    return out


def personal(
    archive: Archive, found: Found, items: Sequence[Due], language: str, limit: int | None = None
) -> list[Message]:
    """One message per person (customer or worker) with every item of theirs."""
    from hk.services.documents import render_text

    company = archive.settings.company.name
    people: dict[tuple[str, str], list[Due]] = {}
    for item in items:
        people.setdefault((item.audience, item.person), []).append(item)
    out: list[Message] = []
    for (audience, person), mine in people.items():
        record = record_of(found.records, person)
        template = f"remind_{audience}.{language}.txt.j2"

        def render(
            chunk: Sequence[Due],
            part: str,
            record: Any = record,
            template: str = template,
            audience: str = audience,
        ) -> Message:
            text = render_text(
                archive,
                template,
                {
                    "person": record,
                    "day": day_context(found.day, language),
                    "items": [item_context(i, found.records) for i in chunk],
                },
            )
            title = _title(company, language, found.day, len(chunk), part, personal=True)
            return Message(
                audience,
                [i.key for i in chunk],
                title,
                text,
                "text",
                found.day.isoformat(),
                language,
                record,
            )

        out += _parts(mine, render, limit, language)
    return out
