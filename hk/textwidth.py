"""Text width in terminal cells: Chinese characters take two cells, combining marks none.

The same measure as ``rich.cells.cell_len``, in a module light enough for the search fast path
(importing Rich costs more than the whole search).
"""

from __future__ import annotations

from functools import lru_cache
from unicodedata import combining, east_asian_width


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if combining(char) or char in "\u200b\u200d\ufe0f":
        return 0
    return 2 if east_asian_width(char) in ("W", "F") else 1


@lru_cache(maxsize=16384)
def cell_len(text: str) -> int:
    """Cells ``text`` takes in a terminal. Kept for the strings seen: a table measures each
    cell twice (the column's width, then the padding), and columns repeat their values."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


def fit(text: str, width: int) -> str:
    """``text`` cut with an ellipsis to at most ``width`` cells, then padded to exactly that."""
    cells = cell_len(text)
    if cells > width:
        out, used = [], 0
        for char in text:
            w = _char_width(char)
            if used + w > width - 1:
                break
            out.append(char)
            used += w
        text = "".join(out) + "…"
        cells = used + 1  # the ellipsis takes one cell
    return text + " " * (width - cells)
