"""Where each kind of record lives in an archive.

Kept free of Pydantic and every other heavy import: the index and a search need the layout
without loading the models.
"""

from __future__ import annotations

from typing import Literal, get_args

Kind = Literal[
    "customer",
    "worker",
    "service",
    "package",
    "order",
    "contract",
    "quote",
    "survey",
    "visit",
    "complaint",
    "points",
]
"""A kind of record, by its singular name: what the index, the services and the commands pass
around instead of a bare string, so that a misspelt kind fails the type check."""


class KindLayout:
    """A record kind's folder, file suffix and short-code prefix.

    A *partitioned* kind (orders: many, machine-written) keeps its files in month folders,
    ``orders/<yyyy>/<mm>/<id>.json``, so that no folder grows past a few thousand files.
    """

    __slots__ = ("code_prefix", "folder", "name", "partitioned", "suffix")

    def __init__(
        self, name: Kind, folder: str, suffix: str, code_prefix: str, partitioned: bool = False
    ) -> None:
        self.name = name
        self.folder = folder
        self.suffix = suffix
        self.code_prefix = code_prefix
        self.partitioned = partitioned

    def relpath(self, record_id: str) -> str:
        """The file of a record, relative to the archive root."""
        if not self.partitioned:
            return f"{self.folder}/{record_id}{self.suffix}"
        return f"{self.folder}/{partition_of(record_id)}/{record_id}{self.suffix}"


def partition_of(record_id: str) -> str:
    """``yyyy/mm`` of the UTC month in which the record was created, read from its ID.

    The ID carries its creation time (see :mod:`hk.domain.ids`), so a record's path follows
    from its ID alone, on every machine, whatever the archive's timezone setting says.
    """
    import time

    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ms = 0
    for char in record_id[:10].upper():
        ms = ms * 32 + crockford.index(char)
    year, month = time.gmtime(ms / 1000)[:2]
    return f"{year:04d}/{month:02d}"


def kind_of(text: str) -> Kind:
    """``text`` as a :data:`Kind`; ValueError naming the kinds when it is none of them."""
    for kind in get_args(Kind):
        if text == kind:
            return kind
    raise ValueError(f"'{text}' is not a kind of record; kinds: {', '.join(get_args(Kind))}")


LAYOUT: dict[Kind, KindLayout] = {
    k.name: k
    for k in (
        KindLayout("customer", "customers", ".yaml", "K"),
        KindLayout("worker", "workers", ".yaml", "W"),
        KindLayout("service", "catalog/services", ".yaml", ""),
        KindLayout("package", "catalog/packages", ".yaml", ""),
        KindLayout("order", "orders", ".json", "D", partitioned=True),
        KindLayout("contract", "contracts", ".yaml", "C"),
        KindLayout("quote", "quotes", ".yaml", "Q"),
        KindLayout("survey", "surveys", ".json", "S", partitioned=True),
        KindLayout("visit", "visits", ".yaml", "V", partitioned=True),
        KindLayout("complaint", "complaints", ".yaml", "T"),
        KindLayout("points", "points", ".json", "J", partitioned=True),
    )
}
"""Every record kind by its singular name; the models take their folder and prefix from here."""


def kind_of_path(path: str) -> Kind | None:
    """The kind of record whose file ``path`` (relative to the archive root) is, or None.

    A record file is ``<folder>/<id><suffix>``, or ``<folder>/<yyyy>/<mm>/<id><suffix>`` for a
    partitioned kind; anything else (hk.toml, the attic, a README) is not a record.
    """
    for layout in LAYOUT.values():
        if not path.startswith(layout.folder + "/") or not path.endswith(layout.suffix):
            continue
        rest = path[len(layout.folder) + 1 :].split("/")
        if len(rest) == (3 if layout.partitioned else 1):
            return layout.name
    return None
