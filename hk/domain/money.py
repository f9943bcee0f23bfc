"""Money as hk keeps and shows it: integer fen (分), written as yuan for people.

Kept free of Pydantic and every other import, since listings that show amounts (``hk order
list``, the reminders) print them without loading a model.
"""

from __future__ import annotations


def format_money(fen: int) -> str:
    """``12050`` → ``¥120.50``."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"
