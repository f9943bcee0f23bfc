"""The archive's one write lock: a ``flock`` held for a whole read-validate-write-commit.

A cron run, the TUI and a CLI command in another terminal all take it before writing, so they
never interleave and never trip over git's own ``index.lock``. Readers never take it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hk.errors import ConflictError

DEFAULT_TIMEOUT = 30.0


@contextmanager
def archive_lock(path: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the lock file at ``path``; wait up to ``timeout`` seconds (writers pass the
    ``lock_timeout_s`` setting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConflictError(
                        f"another hk process is writing to this archive (waited {timeout:g} s)",
                        hint="try again when it has finished; lock_timeout_s sets the wait",
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)
