"""Where each kind of record lives in an archive.

Kept free of Pydantic and every other heavy import: the index and the search fast path need
the layout without loading the models.
"""

from __future__ import annotations


class KindLayout:
    """A record kind's folder, file suffix and short-code prefix."""

    __slots__ = ("code_prefix", "folder", "name", "suffix")

    def __init__(self, name: str, folder: str, suffix: str, code_prefix: str) -> None:
        self.name = name
        self.folder = folder
        self.suffix = suffix
        self.code_prefix = code_prefix


LAYOUT: dict[str, KindLayout] = {
    k.name: k
    for k in (
        KindLayout("customer", "customers", ".yaml", "K"),
        KindLayout("worker", "workers", ".yaml", "W"),
        KindLayout("service", "catalog/services", ".yaml", ""),
        KindLayout("package", "catalog/packages", ".yaml", ""),
    )
}
"""Every record kind by its singular name; the models take their folder and prefix from here."""
