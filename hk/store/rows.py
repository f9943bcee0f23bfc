"""What the index keeps of one record, and how rows go into its database.

Shared by the index (:mod:`hk.store.index`, which refreshes a folder file by file) and the bulk
build (:mod:`hk.store.build`, which parses thousands of files in worker processes): both make
the same rows and write them with the same statement. Light to import, like the index.
"""

from __future__ import annotations

import sqlite3

from hk.store.search import SEP

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from hk.domain.layout import Kind

CHUNK = 500
"""IDs per ``IN (…)`` query; SQLite builds may cap a statement at 999 variables."""
BULK_MIN = 2000
"""Changed files in a folder from which they are parsed in worker processes (``build``)."""


class IndexedRecord:
    """What the index keeps of one record: enough to list and search it without its file."""

    __slots__ = (
        "category",
        "communities",
        "data",
        "day",
        "id",
        "kind",
        "name",
        "own_code",
        "path",
        "prefix_terms",
        "refs",
        "sort_key",
        "substring_terms",
        "summary",
        "tags",
    )

    def __init__(
        self,
        *,
        id: str,
        kind: Kind,
        path: str,
        name: str,
        sort_key: str,
        prefix_terms: str,
        substring_terms: str,
        tags: str,
        communities: str,
        category: str,
        data: bytes,
        summary: bytes = b"",
        own_code: str | None = None,
        day: str = "",
        refs: str = SEP,
    ) -> None:
        self.id, self.kind, self.path, self.name = id, kind, path, name
        self.sort_key = sort_key
        self.prefix_terms, self.substring_terms = prefix_terms, substring_terms
        self.tags, self.communities, self.category = tags, communities, category
        self.data, self.summary, self.own_code = data, summary, own_code
        self.day, self.refs = day, refs


class FolderSpec:
    """A folder of records, with the function that turns one file into an index row.

    ``load(relative path, file bytes)`` returns an :class:`IndexedRecord` or raises
    :class:`hk.errors.InvalidData` for a bad file.
    """

    __slots__ = ("code_prefix", "folder", "kind", "load", "partitioned", "suffix")

    def __init__(
        self,
        kind: Kind,
        folder: str,
        suffix: str,
        code_prefix: str,
        load: Callable[[str, bytes], IndexedRecord],
        partitioned: bool = False,
    ) -> None:
        self.kind, self.folder, self.suffix = kind, folder, suffix
        self.code_prefix, self.load, self.partitioned = code_prefix, load, partitioned


class RefreshReport:
    __slots__ = ("broken", "parsed", "removed")

    def __init__(self) -> None:
        self.parsed = 0
        self.removed = 0
        self.broken: dict[str, str] = {}


def load_file(spec: FolderSpec, name: str, data: bytes) -> IndexedRecord | str:
    """The row of one file of the folder, or the first problem of a file that is broken."""
    try:
        return spec.load(f"{spec.folder}/{name}", data)
    except Exception as exc:  # every failure is recorded and reported, never skipped
        from hk.errors import InvalidData

        if isinstance(exc, InvalidData) and exc.problems:
            return exc.problems[0].render().splitlines()[0]
        return f"{spec.folder}/{name}: {exc}"


UPSERT = (
    "INSERT INTO records (id, kind, path, code, name, sort_key, prefix_terms,"
    " substring_terms, tags, communities, category, data, summary, day, refs)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, path = excluded.path,"
    " code = coalesce(excluded.code, records.code), name = excluded.name,"
    " sort_key = excluded.sort_key, prefix_terms = excluded.prefix_terms,"
    " substring_terms = excluded.substring_terms, tags = excluded.tags,"
    " communities = excluded.communities, category = excluded.category,"
    " data = excluded.data, summary = excluded.summary, day = excluded.day,"
    " refs = excluded.refs"
)
"""Insert a row or update it in place; a derived code (``code`` given as None) is kept."""


def row_params(r: IndexedRecord) -> tuple[Any, ...]:
    """A row as :data:`UPSERT`'s parameters (the ID first, the code fourth)."""
    return (
        r.id,
        r.kind,
        r.path,
        r.own_code,
        r.name,
        r.sort_key,
        r.prefix_terms,
        r.substring_terms,
        r.tags,
        r.communities,
        r.category,
        r.data,
        r.summary,
        r.day,
        r.refs,
    )


def upsert_params(db: sqlite3.Connection, params: list[tuple[Any, ...]]) -> list[str]:
    """Insert or update rows given as :func:`row_params`; return the IDs that are new."""
    known: set[str] = set()
    ids = [p[0] for p in params]
    for start in range(0, len(ids), CHUNK):  # SQLite caps the variables of one statement
        chunk = ids[start : start + CHUNK]
        known.update(
            rid
            for (rid,) in db.execute(
                f"SELECT id FROM records WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
        )
    db.executemany("DELETE FROM records WHERE path = ? AND id != ?", [(p[2], p[0]) for p in params])
    db.executemany(UPSERT, params)
    return [rid for rid in ids if rid not in known]
