"""Search terms computed at index time, so a query never imports pypinyin.

A record gets two strings: *prefix terms* (full pinyin of the name in every reading of its
polyphonic characters, the initials, the short code) matched from the start of a term, and
*substring terms* (name, phone digits, WeChat, tags, communities) matched anywhere.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable

SEP = "\x1f"
MAX_READINGS = 16


_known: dict[str, tuple[str, ...]] = {}
"""Readings of single characters, from the index's cache or computed in this process."""
_learned: dict[str, tuple[str, ...]] = {}
"""Readings computed in this process, for the caller to save in the index's cache."""


def remember(table: dict[str, tuple[str, ...]]) -> None:
    """Load cached character readings, so that indexing known names needs no pypinyin."""
    _known.update(table)


def learned() -> dict[str, tuple[str, ...]]:
    """Readings computed since the last call (to be cached), and forget them."""
    out = dict(_learned)
    _learned.clear()
    return out


def _char_options(chars: str) -> list[tuple[str, ...]]:
    """Every reading of each character; pypinyin is imported only for characters not yet known.

    Its phrase dictionary is not loaded (``PYPINYIN_NO_PHRASES``): a name is read character by
    character with all readings kept, and loading phrases would triple the import time.
    """
    missing = [c for c in dict.fromkeys(chars) if c not in _known and not c.isascii()]
    if missing:
        import os

        os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
        from pypinyin import Style, pinyin

        for char in missing:
            opts = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")[0]
            reading = tuple(dict.fromkeys(o.lower() for o in opts if o)) or (char,)
            _known[char] = _learned[char] = reading
    return [(c.lower(),) if c.isascii() else _known[c] for c in chars]


def pinyin_readings(name: str) -> list[tuple[str, str]]:
    """(full pinyin, initials) for each reading of ``name``, e.g. 张三 → [("zhangsan", "zs")].

    Polyphonic characters (曾, 单, 解 …) give several readings, capped at ``MAX_READINGS``.
    Characters that are not Chinese are kept as they are, lower-cased.
    """
    if name.isascii():  # order titles, company names in Latin letters: nothing to read
        text = "".join(c for c in name.lower() if not c.isspace())
        initials = "".join(c for c in text if c.isalnum())
        return [(text, initials)] if text else []
    per_char = [opts for opts in _char_options(name.replace(" ", "")) if opts != ("",)]
    readings: list[tuple[str, str]] = []
    for combo in itertools.islice(itertools.product(*per_char), MAX_READINGS):
        full = "".join(combo).replace(" ", "")
        initials = "".join(p[0] for p in combo if p and p[0].isalnum())
        if (full, initials) not in readings:
            readings.append((full, initials))
    return readings


def prefix_terms(readings: list[tuple[str, str]], code: str | None) -> str:
    """Terms matched from their start: every reading's full pinyin and initials, the code."""
    terms: list[str] = []
    for full, initials in readings:
        terms += [full, initials]
    if code:
        terms.append(code.lower())
    return SEP + SEP.join(dict.fromkeys(t for t in terms if t)) + SEP


def substring_terms(values: Iterable[str]) -> str:
    return SEP + SEP.join(v.lower() for v in values if v) + SEP


def pack(values: Iterable[str]) -> str:
    """Tags or communities as ``␟a␟b␟``, so that one ``LIKE '%␟a␟%'`` tests membership."""
    return SEP + SEP.join(values) + SEP


def normalize_query(text: str) -> str:
    """Lower-case, without spaces or dashes; a phone typed as ``138-0013 8000`` still matches."""
    q = unicodedata.normalize("NFKC", text).strip().lower()  # full-width １３８ as 138
    stripped = q.replace(" ", "").replace("-", "")
    if stripped.lstrip("+").isdigit():
        stripped = stripped.lstrip("+")
        if stripped.startswith("86") and len(stripped) == 13:
            stripped = stripped[2:]
    return stripped
