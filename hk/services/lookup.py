"""Search and listing over the index, kept light: no Pydantic, no pypinyin on this path.

``hk customer find`` and the listings read the index through this module, which imports no
Pydantic and no pypinyin, so that a search starts within the performance budget of DESIGN §6.
"""

from __future__ import annotations

import marshal

from hk.store.index import Index, default_specs
from hk.textwidth import cell_len, fit

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path
    from typing import Any

    from hk.domain.layout import Kind

SUMMARY_FIELDS = ("code", "name", "phones", "community", "tags")


def open_index(root: Path | str) -> Index:
    return Index(root, default_specs())


def summary(row: sqlite3.Row) -> dict[str, Any]:
    """The short form of a record used by listings and search results (made at index time)."""
    out: dict[str, Any] = {"id": row["id"], "code": row["code"], "name": row["name"]}
    out.update(marshal.loads(row["summary"]))
    return out


COLUMNS: dict[str, list[tuple[str, str]]] = {
    "customer": [
        ("code", "编号"),
        ("name", "姓名"),
        ("phones", "电话"),
        ("community", "小区"),
        ("category", "类别"),
        ("tags", "标签"),
    ],
    "worker": [
        ("code", "编号"),
        ("name", "姓名"),
        ("phones", "电话"),
        ("status", "状态"),
        ("skills", "技能"),
        ("native_place", "籍贯"),
    ],
}


def render_table(
    kind: Kind | None, items: list[dict[str, Any]], columns: list[tuple[str, str]] | None = None
) -> str:
    """Plain aligned columns, measured in terminal cells (Chinese takes two)."""
    columns = (
        columns
        or (COLUMNS.get(kind) if kind else None)
        or ([(k, k) for k in items[0]] if items else [])
    )
    cells = [[_cell(item.get(key)) for key, _ in columns] for item in items]
    heads = [title for _, title in columns]
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    widths = [min(w, 40) for w in widths]
    lines = ["  ".join(fit(h, w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(fit(c, w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def find(index: Index, kind: Kind, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Summaries of the records of ``kind`` that ``query`` finds (name, pinyin, initials,
    phone digits, tag, community); files that fail to parse are in ``index.broken``."""
    index.refresh([kind])
    return [summary(r) for r in index.find(kind, query, limit)]


def list_rows(index: Index, kind: Kind, limit: int = 0, **filters: Any) -> list[dict[str, Any]]:
    """Summaries of a kind's records; ``filters`` are :meth:`Index.list`'s (tag, community,
    category, day_from, day_to, ref)."""
    index.refresh([kind])
    return [summary(r) for r in index.list(kind, limit=limit or None, **filters)]


class Names:
    """``K3F9Q 张三`` for a record ID, each looked up in the index once."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.seen: dict[str, tuple[str, str]] = {}

    def parts(self, record_id: str) -> tuple[str, str]:
        if record_id not in self.seen:
            row = self.index.get(record_id)
            self.seen[record_id] = (
                (row["code"] or record_id, row["name"]) if row is not None else (record_id, "")
            )
        return self.seen[record_id]

    def __call__(self, record_id: str) -> str:
        code, name = self.parts(record_id)
        return f"{code} {name}".strip()
