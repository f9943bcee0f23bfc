"""The attic's files: reading, writing and merging ``conflicts/<yyyy>/<record-id>.yaml``.

Each file is a YAML list of :class:`hk.domain.conflicts.AtticEntry`. This module only turns
entries into file contents and back; writing them into the archive (atomically, under the
lock, committed) is the writer's (:func:`hk.store.writer.write_files`).

A merge run by git (``hk merge-driver``) may write nothing but the merged file, so the values
it set aside wait in ``.git/hk/attic-pending.jsonl`` (machine-local, never committed) until
the next hk write or ``hk conflicts`` moves them into the attic
(:func:`hk.store.writer.settle_pending`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hk.domain.conflicts import FOLDER, AtticEntry, attic_path, merged_entries
from hk.domain.layout import Kind
from hk.errors import InvalidData, Problem
from hk.store import codec

PENDING = "attic-pending.jsonl"
"""In ``.git/hk``: losers found by git's merge driver, not yet in the attic."""


def entries_of(kind: Kind, record_id: str, losers: Iterable[Any]) -> list[AtticEntry]:
    """Attic entries for the :class:`hk.store.merge.Loser` values of one record's merge."""
    return [
        AtticEntry(
            kind=kind,
            record=record_id,
            field=loser.field,
            kept=loser.kept,
            lost=loser.lost,
            kept_by=loser.kept_by,
            kept_at=loser.kept_at,
            lost_by=loser.lost_by,
            lost_at=loser.lost_at,
        )
        for loser in losers
    ]


def parse(text: str, path: str) -> list[AtticEntry]:
    """The entries of one attic file; :class:`InvalidData` (located) if it is not one."""
    from pydantic import TypeAdapter, ValidationError

    data = codec.parse(text, path)
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidData(
            [Problem(message="an attic file holds a list of entries", path=path, line=1)]
        )
    try:
        return TypeAdapter(list[AtticEntry]).validate_python(data)
    except ValidationError as exc:
        raise InvalidData(codec.problems_from_validation(exc, text, path, AtticEntry)) from None


def read(root: Path, relpath: str) -> list[AtticEntry]:
    """The entries of the attic file at ``relpath``; none if it does not exist."""
    try:
        text = (root / relpath).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse(text, relpath)


def dump(entries: Sequence[AtticEntry]) -> bytes:
    """Canonical YAML of an attic file (entries in time order, each field as stored)."""
    return codec.dump_yaml([_entry_data(e) for e in entries]).encode("utf-8")


def _entry_data(entry: AtticEntry) -> dict[str, Any]:
    data = entry.model_dump(mode="json")
    return {
        k: v
        for k, v in data.items()
        if k in ("kept", "lost", "resolved") or v not in (None, "", [], {})
    }


def merge_texts(path: str, *texts: bytes | None) -> bytes:
    """Several versions of one attic file as one: every loss once (git merges, sync)."""
    lists = [parse(t.decode("utf-8"), path) for t in texts if t is not None]
    return dump(merged_entries(*lists))


def with_entries(root: Path, entries: Sequence[AtticEntry]) -> list[tuple[str, bytes]]:
    """The attic files that ``entries`` change, with their new contents (merged with what
    each file holds now); files that would not change are left out."""
    by_file: dict[str, list[AtticEntry]] = {}
    for entry in entries:
        by_file.setdefault(attic_path(entry.record, entry.kept_at, entry.lost_at), []).append(entry)
    out = []
    for relpath, new in sorted(by_file.items()):
        old = read(root, relpath)
        merged = merged_entries(old, new)
        if merged != sorted(old, key=AtticEntry.order):
            out.append((relpath, dump(merged)))
    return out


def files(root: Path) -> list[str]:
    """Every attic file, relative to the archive root, oldest year first."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        f"{FOLDER}/{year.name}/{path.name}"
        for year in folder.iterdir()
        if year.is_dir() and not year.is_symlink()
        for path in year.iterdir()
        if path.suffix == ".yaml" and path.is_file() and not path.is_symlink()
    )


# --- values set aside by git's merge driver -------------------------------------------------------


def queue_pending(hk_dir: Path, entries: Sequence[AtticEntry], merged: str | None) -> None:
    """Keep ``entries`` for the attic until the next hk write (see the module text).

    ``merged`` is the commit being merged in (None if unknown): if that merge is aborted, its
    entries are dropped rather than kept for a merge that never happened. One ``write`` of
    whole lines in append mode, so that two drivers never interleave their lines.
    """
    if not entries:
        return
    hk_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {"merged": merged, "entries": [e.model_dump(mode="json") for e in entries]},
        ensure_ascii=False,
    )
    fd = os.open(hk_dir / PENDING, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def take_pending(hk_dir: Path) -> list[tuple[str | None, list[AtticEntry]]] | None:
    """The pending entries, by the commit each merge brought in; None if there are none.

    The file is renamed before it is read, so a driver writing meanwhile starts a new one;
    the caller removes the taken file with :func:`done_pending` once the attic holds them.
    """
    source, taken = hk_dir / PENDING, hk_dir / (PENDING + ".taken")
    if not taken.exists():
        try:
            os.replace(source, taken)
        except FileNotFoundError:
            return None
    out = []
    for number, line in enumerate(taken.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            entries = [AtticEntry.model_validate(e) for e in item["entries"]]
        except (ValueError, KeyError, TypeError):
            raise InvalidData(
                [
                    Problem(
                        message="a line of values set aside by a merge does not read",
                        path=str(taken),
                        line=number,
                        hint="look at it; remove the file when nothing in it is needed",
                    )
                ]
            ) from None
        out.append((item.get("merged"), entries))
    return out


def done_pending(hk_dir: Path) -> None:
    (hk_dir / (PENDING + ".taken")).unlink(missing_ok=True)


def has_pending(hk_dir: Path) -> bool:
    return (hk_dir / PENDING).exists() or (hk_dir / (PENDING + ".taken")).exists()
