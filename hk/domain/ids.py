"""Record IDs and short human codes.

IDs are random and time-sortable (ULID layout: 48 bits of milliseconds, 80 random bits, Crockford
base32), so two operators working offline never create the same one and files sort by age.
Short codes (``K7F3Q``) are derived from the ID, so they need no counter and no storage;
collisions are resolved by :func:`assign_codes` the same way on every machine.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 26
CODE_DIGITS = 4


def new_id(now_ms: int | None = None) -> str:
    """A fresh 26-character ULID-style ID."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    """True if ``text`` has the shape of an ID (not whether such a record exists)."""
    return len(text) == ID_LENGTH and all(c in CROCKFORD for c in text.upper())


def _code_digits(record_id: str) -> str:
    digest = hashlib.blake2b(record_id.encode(), digest_size=10).digest()
    value = int.from_bytes(digest, "big")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in range(16))


def assign_codes(prefix: str, record_ids: Iterable[str]) -> dict[str, str]:
    """Map each ID to its short code, unique within ``record_ids``.

    Oldest first (IDs sort by time): each record takes the shortest code, from ``CODE_DIGITS``
    characters up, that no older record holds. A record's code therefore changes only if an
    older record with the same code turns up later (an offline merge) or is deleted; codes
    stay a function of the set of IDs, so every machine computes the same ones.
    """
    taken: set[str] = set()
    codes: dict[str, str] = {}
    for record_id in sorted(record_ids):
        code = next_code(prefix, record_id, taken)
        taken.add(code)
        codes[record_id] = code
    return codes


def next_code(prefix: str, record_id: str, taken: set[str]) -> str:
    """The shortest code of ``record_id`` not in ``taken``."""
    digits = _code_digits(record_id)
    length = CODE_DIGITS
    code = prefix + digits[:length]
    while code in taken and length < len(digits):
        length += 1
        code = prefix + digits[:length]
    return code
