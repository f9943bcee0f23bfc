"""Atomic file replacement: a reader, or a process killed mid-write, sees old or new, never torn."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644, sync_dir: bool = True) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, rename it over ``path``.

    The temp file lives in the same folder so that ``os.replace`` is a rename on one file
    system; the folder is fsynced afterwards so the rename itself survives a power cut.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hk-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:  # even on Ctrl-C: no temp file is left behind; re-raised
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def write_atomic_many(items: list[tuple[Path, bytes]], mode: int = 0o644) -> None:
    """Write many files atomically with one sync instead of two fsyncs per file.

    All temp files are written first, then flushed to disk together (``os.sync``), then
    renamed into place, then each folder is fsynced once. A crash at any point leaves every
    file either old or new, each on its own: some may be new and others old. Record files
    that must change together go through :func:`hk.store.journal.write_together` instead.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in items:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".hk-", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, mode)
            temps.append((tmp, path))
        os.sync()
        for tmp, path in temps:
            os.replace(tmp, path)
        temps = []
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for folder in {path.parent for path, _ in items}:
        fsync_dir(folder)
