"""Text cut and padded to a width in terminal cells, on Rich's measure of a character.

Chinese characters take two cells and combining marks none, so ``len()`` cannot line up a
column; Rich's ``cell_len`` is the one measure hk uses, in every table it prints.
"""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size

__all__ = ["cell_len", "fit"]


def fit(text: str, width: int) -> str:
    """``text`` cut with an ellipsis to at most ``width`` cells, then padded to exactly that."""
    cells = cell_len(text)
    if cells > width:
        out, used = [], 0
        for char in text:
            w = get_character_cell_size(char)
            if used + w > width - 1:
                break
            out.append(char)
            used += w
        text = "".join(out) + "…"
        cells = used + 1  # the ellipsis takes one cell
    return text + " " * (width - cells)
