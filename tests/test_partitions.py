"""Month-partitioned record folders (orders): the path rule and the index's view of them."""

from __future__ import annotations

import json
from pathlib import Path

from hk.domain.ids import new_id
from hk.domain.layout import KindLayout, partition_of
from hk.store.index import FolderSpec, Index, IndexedRecord

ORDERS = KindLayout("note", "notes", ".json", "N", partitioned=True)


def _load(path: str, data: bytes) -> IndexedRecord:
    doc = json.loads(data)
    return IndexedRecord(
        id=doc["id"],
        kind="note",
        path=path,
        name=doc["name"],
        sort_key=doc["name"],
        prefix_terms="\x1f",
        substring_terms=f"\x1f{doc['name']}\x1f",
        tags="\x1f",
        communities="\x1f",
        category="",
        data=data,
        summary=b"",
    )


def _index(root: Path) -> Index:
    (root / ".git").mkdir(exist_ok=True)
    return Index(root, [FolderSpec("note", "notes", ".json", "N", _load, partitioned=True)])


def _write(root: Path, record_id: str, name: str) -> Path:
    path = root / ORDERS.relpath(record_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"id": record_id, "name": name}), encoding="utf-8")
    return path


def test_a_record_lives_in_the_utc_month_its_id_was_made() -> None:
    ms = 1_764_547_200_000  # 2025-12-01T00:00:00Z
    assert partition_of(new_id(ms)) == "2025/12"
    assert partition_of(new_id(ms - 1)) == "2025/11"
    record_id = new_id(ms)
    assert ORDERS.relpath(record_id) == f"notes/2025/12/{record_id}.json"


def test_the_index_sees_files_in_every_month_folder(tmp_path: Path) -> None:
    first = new_id(1_764_547_200_000 - 86_400_000)
    second = new_id(1_764_547_200_000 + 86_400_000)
    _write(tmp_path, first, "甲")
    _write(tmp_path, second, "乙")
    index = _index(tmp_path)
    assert index.refresh(["note"]).parsed == 2
    assert {r["name"] for r in index.list("note")} == {"甲", "乙"}


def test_the_index_sees_an_edit_a_new_month_and_a_removal(tmp_path: Path) -> None:
    first = new_id(1_764_547_200_000)
    path = _write(tmp_path, first, "甲")
    index = _index(tmp_path)
    index.refresh(["note"])
    path.write_text(json.dumps({"id": first, "name": "丙"}), encoding="utf-8")
    later = new_id(1_767_225_600_000)  # 2026-01-01, a new year folder
    _write(tmp_path, later, "丁")
    index.refresh(["note"])
    assert {r["name"] for r in index.list("note")} == {"丙", "丁"}
    path.unlink()
    index.refresh(["note"])
    assert [r["name"] for r in index.list("note")] == ["丁"]


def test_folders_that_are_not_months_are_not_read(tmp_path: Path) -> None:
    record_id = new_id(1_764_547_200_000)
    _write(tmp_path, record_id, "甲")
    stray = tmp_path / "notes" / "drafts" / "x.json"
    stray.parent.mkdir()
    stray.write_text("{}", encoding="utf-8")
    index = _index(tmp_path)
    report = index.refresh(["note"])
    assert report.parsed == 1 and not report.broken
