"""Indexing many files at once: rows built in worker processes, written in big sorted batches.

A cold build (``hk reindex``, a fresh clone, the first read after ``.git/hk`` was deleted)
parses, validates and turns into rows every record of the archive, 100 000 orders at
benchmark scale. That is CPU work for each file independently, so it is shared between forked
worker processes, a chunk of files each, while this process writes the rows they send back
into SQLite in one transaction per folder. A folder with few changed files never gets here
(see ``BULK_MIN`` in :mod:`hk.store.index`): forking costs more than it saves.

Every file is still validated, and a file that fails is reported exactly as by the serial
path (it is the same function, :func:`hk.store.index.load_file`, run in the worker).

Short codes are a function of the set of IDs, oldest first (:func:`hk.domain.ids.assign_codes`).
Chunks come back in the order they were sent and file names sort like the IDs they hold, so
for a kind that has no row yet each row can take its code as it arrives, and go in with it:
no second pass of 100 000 updates. If the order turns out not to hold (an order file moved
to another month's folder by hand), the codes of the kind are recomputed at the end.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hk.errors import InvalidData
from hk.store.limits import read_record
from hk.store.rows import (
    UPSERT,
    FolderSpec,
    load_file,
    row_params,
    upsert_params,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from hk.store.index import Index

CHUNK_FILES = 250
"""Files per task sent to a worker: big enough that the round trip is noise, small enough that
the workers stay busy to the end and the parent can write while they parse."""

Batch = tuple[list[tuple[Any, ...]], dict[str, str], dict[str, tuple[str, ...]]]
"""What one chunk of files gives: row parameters (see :func:`row_params`), the broken files
(name → first problem) and the pinyin readings the worker had to compute."""

_job: tuple[str, FolderSpec] | None = None
"""The archive root and folder the forked workers index (inherited, never pickled: a folder's
loader is a closure)."""


def workers() -> int:
    """Worker processes to use: one per CPU this process may run on; 0 means none (no fork)."""
    if sys.platform != "linux":  # fork is the only start method that needs no re-import
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0


class Batches:
    """The batches of a folder's changed files, in order; :meth:`close` stops the workers."""

    def __init__(self, root: str, spec: FolderSpec, names: list[str], processes: int) -> None:
        self._chunks = [names[i : i + CHUNK_FILES] for i in range(0, len(names), CHUNK_FILES)]
        self._pool: Executor | None = None
        self._results: Iterator[Batch]
        if processes < 1:
            self._results = (_chunk(root, spec, chunk) for chunk in self._chunks)
            return
        global _job
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        _job = (root, spec)
        self._pool = ProcessPoolExecutor(
            processes, mp_context=get_context("fork"), initializer=_quiet_interrupts
        )
        try:  # the workers start now, so the caller can open its transaction while they parse
            self._results = self._pool.map(_work, self._chunks)
        except BaseException:  # even on Ctrl-C: the worker processes are stopped; re-raised
            self.close()
            raise
        finally:
            _job = None

    def __iter__(self) -> Iterator[Batch]:
        return self._results

    def close(self) -> None:
        """Stop the workers (after the chunks they are on), also when not all were read."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _quiet_interrupts() -> None:
    """Ctrl-C is the parent's to handle: it stops the pool; workers print no tracebacks."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(names: list[str]) -> Batch:
    assert _job is not None, "worker started without a job"
    root, spec = _job
    return _chunk(root, spec, names)


def _chunk(root: str, spec: FolderSpec, names: list[str]) -> Batch:
    from hk.store import search

    params: list[tuple[Any, ...]] = []
    broken: dict[str, str] = {}
    for name in names:
        try:
            data = read_record(root, f"{spec.folder}/{name}", listed=True)
        except InvalidData as exc:  # no longer a regular file within the limit
            broken[name] = exc.problems[0].render().splitlines()[0]
            continue
        if data is None:  # deleted since the folder was listed: the next read sees it
            continue
        loaded = load_file(spec, name, data)
        if isinstance(loaded, str):
            broken[name] = loaded
        else:
            params.append(row_params(loaded))
    return params, broken, search.learned()


def write(
    index: Index,
    db: sqlite3.Connection,
    spec: FolderSpec,
    parts: Batches,
    broken: dict[str, str],
    removed: bool,
) -> int:
    """Write every batch's rows inside the caller's transaction; return how many there were.

    Broken files go into ``broken`` (their old rows, if any, are deleted); learned pinyin
    readings are saved with the index's own.
    """
    fresh = (
        db.execute("SELECT 1 FROM records WHERE kind = ? LIMIT 1", (spec.kind,)).fetchone() is None
    )
    inserted: list[str] = []
    learned: dict[str, tuple[str, ...]] = {}
    codes = _Codes(spec.code_prefix) if fresh and spec.code_prefix else None
    count = 0
    for params, bad, readings in parts:
        learned.update(readings)
        if bad:
            broken.update(bad)
            db.executemany(
                "DELETE FROM records WHERE path = ?", [(f"{spec.folder}/{n}",) for n in bad]
            )
            removed = True
        if codes is not None:
            db.executemany(UPSERT, codes.assign(params))
        elif fresh:
            db.executemany(UPSERT, params)
        else:
            inserted += upsert_params(db, params)
        count += len(params)
    if codes is not None and not codes.in_order:
        index._assign_codes(db, spec, [], removed=True)
    elif not fresh:
        index._assign_codes(db, spec, inserted, removed=removed)
    index.save_pinyin(learned)
    return count


class _Codes:
    """Short codes handed out to rows arriving oldest first (see the module's docstring)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.taken: set[str] = set()
        self.last = ""
        self.in_order = True

    def assign(self, params: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        from hk.domain.ids import next_code

        out = []
        taken, prefix = self.taken, self.prefix
        for p in params:
            rid = p[0]
            if rid < self.last:
                self.in_order = False
            self.last = max(self.last, rid)
            code = next_code(prefix, rid, taken)
            taken.add(code)
            out.append((*p[:3], code, *p[4:]))
        return out


def _remove_abandoned(folder: str) -> None:
    """Remove the work folders of rebuilds whose process is gone (killed, crashed)."""
    import shutil

    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        pid = name.removeprefix("rebuild-")
        if pid != name and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 - as in the index: no contextlib
        os.unlink(path)
    except FileNotFoundError:
        pass
