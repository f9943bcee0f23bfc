"""The archive as the TUI's workers use it, and the cheap test for changes made outside.

Workers run in a thread pool, and a SQLite connection belongs to the thread that opened it, so
each thread gets its own :class:`~hk.store.archive.Archive` (settings, keys, index connection),
made on its first job and kept for the next ones. Their refreshes of the index take turns.

Whether someone else changed the archive (the CLI, cron, ``git pull``, an editor) is first
asked cheaply: the archive's file watcher (``hk watch``, :class:`hk.store.watch.Tracker`), when
one runs, says whether any record file changed, an edit in place included; and the stat data
of the record folders (a file created, replaced or removed changes its folder), of git's HEAD
and branch, and of ``hk.toml`` say whether a commit was made or the settings changed. Only when
one of them says so, or without a watcher every :data:`FULL_EVERY` checks to catch a file
edited in place, is the index refreshed (which itself asks the watcher, or stats every file).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hk.domain.layout import LAYOUT
from hk.store.archive import Archive
from hk.store.index import Index, RefreshReport, default_specs
from hk.store.watch import Tracker

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hk.domain.layout import Kind

FULL_EVERY = 15
"""Checks between two full refreshes of the index (about half a minute at the default rate)
when no watcher runs."""

Signature = tuple[tuple[str, int, int, int], ...]


class SharedIndex(Index):
    """This thread's connection to the index; refreshes wait for each other.

    Every thread refreshing at once would rewrite the same snapshot files, whose temporary
    names differ by process only, and they would gain nothing by it: the second finds the work
    done.
    """

    def __init__(self, root: Path, lock: threading.Lock) -> None:
        super().__init__(root, default_specs())
        self._refreshing = lock

    def refresh(self, kinds: Iterable[Kind] | None = None) -> RefreshReport:
        with self._refreshing:
            return super().refresh(kinds)


class Session:
    """One archive, opened once per worker thread."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.main = Archive(self.root)
        """The main thread's archive: settings and keys only, never the index."""
        self._local = threading.local()
        self._refreshing = threading.Lock()
        self.generation = 0
        """Bumped when ``hk.toml`` changed: threads then open the archive again."""

    def archive(self) -> Archive:
        """This thread's archive (its own index connection)."""
        local = self._local
        if getattr(local, "generation", None) != self.generation:
            old = getattr(local, "archive", None)
            if old is not None:
                old.index.close()
            fresh = Archive(self.root)
            fresh.__dict__["index"] = SharedIndex(self.root, self._refreshing)
            local.archive = fresh
            local.generation = self.generation
        archive: Archive = local.archive
        return archive

    def settings_changed(self) -> None:
        self.generation += 1
        self.main = Archive(self.root)


def signature(root: Path) -> Signature:
    """Stat data that changes whenever a record file is added, replaced, renamed or removed,
    a commit is made or pulled, or the settings change."""
    out: list[tuple[str, int, int, int]] = []

    def add(path: str) -> None:
        try:
            s = os.stat(path)
        except FileNotFoundError:
            return
        out.append((path, s.st_mtime_ns, s.st_ino, s.st_size))

    base = str(root)
    add(os.path.join(base, "hk.toml"))
    git = os.path.join(base, ".git")
    head = os.path.join(git, "HEAD")
    add(head)
    add(os.path.join(git, "packed-refs"))
    try:
        with open(head, encoding="utf-8") as handle:
            ref = handle.read().strip()
    except OSError:
        ref = ""
    if ref.startswith("ref: "):
        add(os.path.join(git, *ref[5:].split("/")))
    for kind in LAYOUT.values():
        top = os.path.join(base, kind.folder)
        add(top)
        if kind.partitioned:
            for year in _digits(top):
                add(os.path.join(top, year))
                for month in _digits(os.path.join(top, year)):
                    add(os.path.join(top, year, month))
    return tuple(out)


def _digits(folder: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(folder) if n.isdigit())
    except FileNotFoundError:
        return []


@dataclass
class Outcome:
    """What a check found: whether anything changed, and files that cannot be read."""

    changed: bool = False
    settings: bool = False
    broken: dict[str, str] = field(default_factory=dict)


class Watch:
    """Remembers the last signature and the watcher's tokens; :meth:`check` refreshes the index
    when either says something changed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.last: Signature = signature(self.root)
        self.tracker = Tracker(str(self.root), [kind.folder for kind in LAYOUT.values()])
        self.checks = 0
        self.known_broken: set[str] = set()

    def check(self, archive: Archive, force: bool = False) -> Outcome:
        """Refresh the index if the archive changed (without a watcher, also on every
        :data:`FULL_EVERY`-th call); report whether anything changed. Runs in a worker thread.

        A change made by the CLI is already in the index (the CLI updates it as it writes), so
        a moved signature counts as a change even when the refresh parses nothing. The watcher
        is asked before the refresh, so a change it reports later came after the refresh began.
        """
        self.checks += 1
        now = signature(self.root)
        moved = now != self.last
        seen = self.tracker.changed()
        outcome = Outcome()
        periodic = seen is None and self.checks % FULL_EVERY == 0
        if not (moved or force or seen or periodic):
            return outcome
        outcome.settings = _settings_of(now) != _settings_of(self.last)
        self.last = now
        report = archive.index.refresh()
        outcome.changed = moved or bool(report.parsed or report.removed)
        new_broken = set(report.broken) - self.known_broken
        self.known_broken = set(report.broken)
        if new_broken:
            outcome.broken = report.broken
        return outcome


def _settings_of(sig: Signature) -> tuple[str, int, int, int] | None:
    return next((entry for entry in sig if entry[0].endswith("hk.toml")), None)
