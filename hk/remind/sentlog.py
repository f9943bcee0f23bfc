"""What was sent: one committed file per ``hk remind --send`` run, and a local cache of them.

**The files are the truth** (DESIGN §2). Each run that sends anything writes
``reminders/sent/<yyyy>/<mm>/<run id>.json``: the run's day, start and operator, and one entry
per occasion and channel that went out (occasion key, channel name, audience, time) and one per
delivery that failed. Nothing in a path or an entry is personal data: occasion keys hold IDs
and dates only. A new file per run means two operators' machines never edit the same file, so
their sent logs merge in git without conflicts.

The run's file is rewritten (atomically, under the archive lock) after every delivery, so a
run killed midway leaves on disk exactly what had gone out, and the next run sends only the
rest. It is committed once, at the end of the run, or by the next run if this one was killed.

**The cache** (``.git/hk/remind-sent.sqlite``, derived, never committed) maps occasion keys to
the channels they went out on, so that a run looks up today's few hundred keys instead of
reading three years of run files. It is refreshed from the files' stat data on every read,
like the index, and can be deleted at any time.
"""

from __future__ import annotations

import os
import sqlite3

import orjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

SENT_DIR = "reminders/sent"
"""Where run files live, relative to the archive root."""
SCHEMA_VERSION = 1
CHUNK = 500

_DDL = f"""
PRAGMA user_version = {SCHEMA_VERSION};
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, stat TEXT NOT NULL,
                                  broken TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sent (occasion TEXT NOT NULL, channel TEXT NOT NULL,
                                 path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sent_occasion ON sent(occasion);
CREATE INDEX IF NOT EXISTS sent_path ON sent(path);
"""


def run_path(run_id: str, started: dt.datetime) -> str:
    """A run's file, in the folder of the month it started (archive time)."""
    return f"{SENT_DIR}/{started:%Y}/{started:%m}/{run_id}.json"


def encode(data: dict[str, Any]) -> bytes:
    """Indented, sorted JSON with a final newline, as hk writes every JSON record."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


class SentLog:
    """Which occasions went out on which channels, per the archive's run files."""

    def __init__(self, root: Path | str) -> None:
        self.root = os.fspath(root)
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            folder = os.path.join(self.root, ".git", "hk")
            os.makedirs(folder, exist_ok=True)
            db = sqlite3.connect(
                os.path.join(folder, "remind-sent.sqlite"), timeout=30, isolation_level=None
            )
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                db.executescript("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS sent;")
                db.executescript(_DDL)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def refresh(self) -> dict[str, str]:
        """Bring the cache up to date with the run files; the broken ones, by path."""
        current = _scan(self.root)
        db = self.db
        known = {
            path: (stat, broken)
            for path, stat, broken in db.execute("SELECT path, stat, broken FROM files")
        }
        changed = [p for p, stat in current.items() if known.get(p, ("",))[0] != stat]
        gone = [p for p in known if p not in current]
        if changed or gone:
            db.execute("BEGIN IMMEDIATE")
            try:
                for path in [*gone, *changed]:
                    db.execute("DELETE FROM sent WHERE path = ?", (path,))
                    db.execute("DELETE FROM files WHERE path = ?", (path,))
                for path in changed:
                    rows, problem = _read(self.root, path)
                    db.executemany(
                        "INSERT INTO sent VALUES (?, ?, ?)",
                        [(key, channel, path) for key, channel in rows],
                    )
                    db.execute("INSERT INTO files VALUES (?, ?, ?)", (path, current[path], problem))
                    known[path] = (current[path], problem)
            except BaseException:  # even on Ctrl-C: the cache is left as it was; re-raised
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return {p: broken for p, (_, broken) in known.items() if broken and p in current}

    def sent(self, keys: Iterable[str]) -> dict[str, set[str]]:
        """Occasion key → the channels it went out on (keys never sent are left out)."""
        out: dict[str, set[str]] = {}
        wanted = sorted(set(keys))
        for i in range(0, len(wanted), CHUNK):
            chunk = wanted[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, channel in self.db.execute(
                f"SELECT occasion, channel FROM sent WHERE occasion IN ({marks})", chunk
            ):
                out.setdefault(key, set()).add(channel)
        return out


def _scan(root: str) -> dict[str, str]:
    """Every run file (relative path → its stat data as text)."""
    out: dict[str, str] = {}
    top = os.path.join(root, SENT_DIR)
    try:
        years = [e for e in os.scandir(top) if e.is_dir() and e.name.isdigit()]
    except FileNotFoundError:
        return out
    for year in years:
        for month in os.scandir(year.path):
            if not (month.is_dir() and month.name.isdigit()):
                continue
            for entry in os.scandir(month.path):
                if entry.name.endswith(".json") and not entry.name.startswith("."):
                    s = entry.stat(follow_symlinks=False)
                    out[f"{SENT_DIR}/{year.name}/{month.name}/{entry.name}"] = (
                        f"{s.st_mtime_ns}:{s.st_size}:{s.st_ino}"
                    )
    return out


def _read(root: str, path: str) -> tuple[list[tuple[str, str]], str]:
    """The (occasion, channel) pairs a run file records, or none and what is wrong with it."""
    try:
        with open(os.path.join(root, path), "rb") as handle:
            data = orjson.loads(handle.read())
        return [(str(e["occasion"]), str(e["channel"])) for e in data["sent"]], ""
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        return [], f"{path}: not a sent log ({type(exc).__name__}: {exc})"
