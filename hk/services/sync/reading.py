"""Reading the records a merge touched: each file parsed and validated once, into its index
row, in forked worker processes when there are many; and no conflict marker anywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from hk.domain.layout import LAYOUT, Kind
from hk.errors import InvalidData, Problem
from hk.services.history import blobs
from hk.services.review import record_of
from hk.store.archive import Archive
from hk.store.rows import IndexedRecord

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN = 200
"""Records to merge or read from which the work is shared between worker processes."""
CHUNK = 100
"""Items per task sent to a worker."""


Read = IndexedRecord | list[Problem]
"""A record file read: its index row, or every problem it has."""


def in_workers(work: Callable[[list[T]], list[R]], items: list[T]) -> list[R]:
    """``work`` over ``items``, in order (see :class:`Workers`)."""
    running = Workers(work, items)
    try:
        return running.results()
    finally:
        running.close()


class Workers:
    """``work`` over ``items``, started now, shared between forked worker processes when
    there are many (one per CPU this process may use, :func:`hk.store.build.workers`); few
    are done in this process when their results are asked for."""

    def __init__(self, work: Callable[[list[T]], list[R]], items: list[T]) -> None:
        from hk.store.build import workers

        self._work, self._items = work, items
        self._pool: Any = None
        self._parts: list[Any] = []
        processes = workers()
        if len(items) >= PARALLEL_MIN and processes > 0:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            self._pool = ProcessPoolExecutor(processes, mp_context=get_context("fork"))
            chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
            self._parts = [self._pool.submit(work, chunk) for chunk in chunks]

    def results(self) -> list[Any]:
        if self._pool is None:
            return self._work(self._items)
        return [done for part in self._parts for done in part.result()]

    def close(self) -> None:
        """Stop the workers (also when the results were not asked for: an error)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# --- checks before the commit ---------------------------------------------------------------

_MARKER_LINE = re.compile(rb"^(<{7}|>{7})( |$)", re.M)


def validate(archive: Archive, paths: list[str], read: dict[str, Read]) -> None:
    """Every record file the merge touched parses and fits its model; no file holds a
    conflict marker. All problems are reported, each with its file.

    Reading a record is what indexing it needs too, so each file is read once: into its
    index row, in forked workers when there are many, and the rows go into the index once
    every file is known good. ``read`` holds the files read already: those the merge merged,
    and the incoming ones read from their blobs while git wrote them (:class:`Reading`).
    Should the merge be undone, the index sees the files change back.
    """
    problems: list[Problem] = []
    found: list[tuple[str, Kind, Read]] = []
    records: list[tuple[str, Kind]] = []
    for path in paths:
        full = archive.root / path
        if not full.is_file():
            continue
        record = record_of(path)
        if record is not None:
            if path in read:
                found.append((path, record[0], read[path]))
            else:
                records.append((path, record[0]))
            continue
        data = full.read_bytes()
        marker = _MARKER_LINE.search(data)
        if marker is not None:
            problems.append(
                Problem(
                    message="a conflict marker: a merge left this file half-done",
                    path=path,
                    line=data.count(b"\n", 0, marker.start()) + 1,
                    hint="the merge was undone; fix the file on the side it came from",
                )
            )
    archive.index.load_pinyin()  # before the workers fork
    jobs = [(str(archive.root), path, kind) for path, kind in records]
    found += [
        (path, kind, row)
        for (_, path, kind), row in zip(jobs, in_workers(_rows_of, jobs), strict=True)
    ]
    rows: dict[Kind, list[IndexedRecord]] = {}
    for _, kind, row in found:
        if isinstance(row, list):
            problems += row
        else:
            rows.setdefault(kind, []).append(row)
    if problems:
        raise InvalidData(
            problems,
            summary=f"the merge would leave {len(problems)} problem(s); nothing was merged",
        )
    note(archive, rows)


class Reading:
    """The index rows of incoming record files, read from their blobs in worker processes
    while git writes the same files into the tree: the two take turns on the CPUs instead
    of one after the other."""

    def __init__(self, archive: Archive, files: dict[str, str]) -> None:
        self.paths = list(files)
        contents = blobs(archive, list(files.values())) if files else []
        archive.index.load_pinyin()  # before the workers fork
        jobs = [(path, data or b"") for path, data in zip(self.paths, contents, strict=True)]
        self._running = Workers(_rows_of_blobs, jobs)

    def done(self) -> dict[str, Read]:
        return dict(zip(self.paths, self._running.results(), strict=True))

    def close(self) -> None:
        self._running.close()


def _rows_of_blobs(jobs: list[tuple[str, bytes]]) -> list[Read]:
    """Each record's index row from its file's bytes (parsed and validated), or its problems."""
    from hk.domain.kinds import KINDS
    from hk.store.files import row_loader

    out: list[Read] = []
    for path, data in jobs:
        found = record_of(path)
        assert found is not None
        try:
            out.append(row_loader(KINDS[found[0]])(path, data))
        except InvalidData as exc:
            out.append(exc.problems)
    return out


def _rows_of(jobs: list[tuple[str, str, Kind]]) -> list[Read]:
    """Each record file's index row (parsed and validated), or all its problems."""
    from hk.domain.kinds import KINDS
    from hk.store.files import row_loader

    out: list[Read] = []
    for root, path, kind in jobs:
        try:
            with open(f"{root}/{path}", "rb") as handle:
                out.append(row_loader(KINDS[kind])(path, handle.read()))
        except InvalidData as exc:
            out.append(exc.problems)
    return out


def note(archive: Archive, rows: dict[Kind, list[IndexedRecord]]) -> None:
    """Rows of files just written, into the index (which then need not read them again)."""
    for kind, indexed in rows.items():
        folder = len(LAYOUT[kind].folder) + 1
        archive.index.note_written(kind, indexed, [row.path[folder:] for row in indexed])
