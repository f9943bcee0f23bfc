"""All-or-nothing bulk writes (DESIGN §3), and the cleanup of temp files a killed write left.

A bulk write (import, dispatch apply, ``hk batch``, a renewal) changes many record files and
commits them once. Renaming the files into place one by one and then committing leaves, when
the process dies in between, some files new and uncommitted and the rest as temp files: the
retry is refused ("phone already belongs to customer …") and nobody cleans up. So a bulk write
goes through a write-ahead journal, :func:`write_together`, always under the archive lock:

1. ``.git/hk/journal`` is written atomically and fsynced *before any record file changes*. It
   names the commit HEAD is at, and every path with the git blob id of its new bytes, the
   bytes it held before (or that it did not exist) and the temp file that carries the new
   bytes (``.hk-<token>-<n>.tmp`` beside it, a name chosen before the file exists).
2. The temp files are written and flushed to disk together (one ``os.sync``).
3. Each is renamed over its path; each folder is fsynced.
4. The commit runs. **The commit is the commit point**: once HEAD holds the new blobs, the write
   happened.
5. The journal is removed.

:func:`recover` finishes a journal a dead writer left. It runs under the lock at the entry of
every writer (:mod:`hk.store.writer`), and on any read that refreshes the index, when it finds
the journal (one ``stat``) and the lock free (:func:`recover_if_free`). It first waits for git
processes the killed writer started and that run on (git's ``index.lock``, the branch's ref
lock): one of them may still be about to move HEAD. Then:

* **Roll forward** if HEAD moved and holds the new blob of any journalled path. The new
  bytes of a bulk write exist nowhere else (a new record's file is named by a fresh ID, an
  updated record has a new ``updated`` stamp), and a commit is all or nothing, so one path
  suffices; asking for all would undo a write of which a later ``git pull`` changed one
  record. Every rename happened before the commit, so only the journal is left to remove.
* **Roll back** otherwise: a path that holds the new bytes gets its old bytes back, or is
  removed if it did not exist; a path holding anything else (never renamed, or changed by
  hand since) is left alone. The git index entries of the paths are reset to HEAD (a killed
  commit may have staged them), and the temp files removed.

Either way the working tree and HEAD then agree on every journalled path: the whole write or
none of it. Recovery is idempotent: killed during recovery, the next one finishes it. If a
git lock stays (a git process was killed too), recovery refuses with a hint and the journal
waits; nothing is guessed.

Reads: a reader never waits for the lock. While a *live* writer holds it, a reader can see
some of its files during the milliseconds between the first rename and the commit, as it can
see a single record's new file a moment before that record's commit; a dead writer's half
write is undone before the reader looks (the read refreshes the index, which recovers first).

Leftover temp files: every write to a record folder holds the archive lock, so under the lock
any ``.hk-*.tmp`` in a record folder is a leftover. The next writer removes them where one can
be: in the folders a journal names, and in the one folder of a single-record write that did
not finish (:func:`write_one` notes that folder in ``.git/hk/writing`` for the length of the
write: two tiny file operations, instead of listing folders of 100 000 files on every write).
``hk doctor --fix`` sweeps the whole archive (:func:`sweep_archive`). Outside the record
folders (the reminders' logs, written without the lock when another writer holds it) only temp
files older than :data:`STALE_S` count as leftovers.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hk.errors import HkError
from hk.store import git
from hk.store.atomic import fsync_dir, write_atomic, write_atomic_many

T = TypeVar("T")

JOURNAL = "journal"
"""The journal's name in ``.git/hk``."""
WRITING = "writing"
"""The note of :func:`write_one` in ``.git/hk``: the folder of the single write under way."""
PAUSE_ENV = "HK_BULK_PAUSE"
"""For the kill tests (declared in :data:`hk.domain.settings.PROCESS_ENV`)."""
STALE_S = 60.0
"""A temp file outside the record folders older than this is a leftover."""
GIT_WAIT_S = 10.0
"""How long recovery waits for a git process the killed writer left running."""


def is_temp(name: str) -> bool:
    """Whether a file name is one of hk's temp files (:mod:`hk.store.atomic`)."""
    return name.startswith(".hk-") and name.endswith(".tmp")


@dataclass(frozen=True)
class Entry:
    """One path of a bulk write, as the journal names it (paths relative to the archive)."""

    path: str
    temp: str
    new: str
    """git blob id of the new bytes"""
    old: bytes | None
    """the bytes before, None if the path did not exist"""


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` did with a journal."""

    forward: bool
    """True: the commit had happened (journal removed); False: the files were restored."""
    paths: int


# --- the bulk write ---------------------------------------------------------------------------


def write_together(
    root: Path,
    hk_dir: Path,
    files: Sequence[tuple[str, bytes, bytes | None]],
    commit: Callable[[], T],
) -> T:
    """Put ``files`` (path, new bytes, old bytes or None) in place and ``commit()``, all or none.

    The archive lock must be held. If anything fails before the commit, the files are restored
    at once; if the process dies, the next :func:`recover` does it (see the module text).
    """
    token = uuid.uuid4().hex[:12]
    ids = git.blob_ids(root, [data for _, data, _ in files])
    entries = [
        Entry(path, _temp_for(path, token, n), new, old)
        for n, ((path, _, old), new) in enumerate(zip(files, ids, strict=True))
    ]
    journal = hk_dir / JOURNAL
    write_atomic(journal, _encode(token, _head(root), entries))
    _pause(0, len(entries))
    try:
        for entry, (_, data, _) in zip(entries, files, strict=True):
            _create(root / entry.temp, data)
        os.sync()  # every temp file's bytes on disk before the first rename
        for done, entry in enumerate(entries, 1):
            os.replace(root / entry.temp, root / entry.path)
            _pause(done, len(entries))
        for folder in _folders(root, entries):
            fsync_dir(folder)
        result = commit()
    except BaseException:  # even on Ctrl-C: undo now if possible, else the next run does
        with contextlib.suppress(HkError, OSError):
            _recover_journal(root, journal)
        raise
    _pause(-1, len(entries))
    journal.unlink()
    return result


def _temp_for(path: str, token: str, n: int) -> str:
    folder, _, _ = path.rpartition("/")
    name = f".hk-{token}-{n}.tmp"
    return f"{folder}/{name}" if folder else name


def _create(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.fchmod(fd, 0o644)  # as write_atomic, whatever the umask
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
    finally:
        os.close(fd)


def _folders(root: Path, entries: Iterable[Entry]) -> list[Path]:
    return sorted({(root / e.path).parent for e in entries})


def _pause(done: int, total: int) -> None:
    """Stop this process (SIGSTOP) where ``HK_BULK_PAUSE`` says, for a test to kill it there.

    ``N``: once N files are in place (0: the journal is written, no file renamed yet; N at
    least the number of files: all renamed, before the commit); ``commit``: after the commit,
    before the journal is removed (``done`` is -1 there).
    """
    want = os.environ.get(PAUSE_ENV)
    if not want:
        return
    if (want == "commit" and done == -1) or (
        want.isdigit() and done >= 0 and min(int(want), total) == done
    ):
        os.kill(os.getpid(), signal.SIGSTOP)


def _encode(token: str, parent: str, entries: Sequence[Entry]) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "token": token,
            "parent": parent,
            "entries": [
                {
                    "path": e.path,
                    "temp": e.temp,
                    "new": e.new,
                    "old": None if e.old is None else base64.b64encode(e.old).decode("ascii"),
                }
                for e in entries
            ],
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _decode(journal: Path) -> tuple[str, list[Entry]]:
    """The commit the write started from ("" if none) and the entries."""
    try:
        data = json.loads(journal.read_bytes())
        if data.get("version") != 1:
            raise ValueError(f"version {data.get('version')}")
        return str(data["parent"]), [
            Entry(
                e["path"],
                e["temp"],
                e["new"],
                None if e["old"] is None else base64.b64decode(e["old"]),
            )
            for e in data["entries"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise HkError(
            f"the journal of an interrupted bulk write cannot be read ({exc})",
            hint=f"`git status` shows what it changed; restore with git, then delete {journal}",
        ) from None


# --- recovery ---------------------------------------------------------------------------------


def recover(root: Path, hk_dir: Path) -> Recovery | None:
    """Finish what a dead writer left: its journal, and the temp file of its single write.

    The archive lock must be held. Costs two ``stat`` calls when there is nothing to do.
    """
    found = None
    journal = hk_dir / JOURNAL
    if journal.exists():
        found = _recover_journal(root, journal)
    note = hk_dir / WRITING
    if note.exists():
        folder = note.read_text(encoding="utf-8").strip()
        sweep(root, [root / folder] if folder else [])
        note.unlink(missing_ok=True)
    return found


def recover_if_free(root: Path | str) -> None:
    """For a reader that found a journal: recover if no writer holds the lock, else read on.

    A held lock means a live writer (it is in its rename window and about to commit); a
    recovery that cannot finish (a git lock stays) leaves the journal to the next writer,
    which says why.
    """
    from hk.errors import ConflictError
    from hk.store.lock import archive_lock

    base = Path(root)
    hk_dir = base / ".git" / "hk"
    with contextlib.suppress(ConflictError, HkError), archive_lock(hk_dir / "lock", 0):
        recover(base, hk_dir)


def _recover_journal(root: Path, journal: Path) -> Recovery:
    parent, entries = _decode(journal)
    _wait_for_git(root)
    forward = _committed(root, parent, entries)
    if not forward:
        _roll_back(root, entries)
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(root / entry.temp)
    folders = _folders(root, entries)
    sweep(root, folders)
    for folder in folders:
        with contextlib.suppress(FileNotFoundError):
            fsync_dir(folder)
    journal.unlink()
    return Recovery(forward=forward, paths=len(entries))


def _wait_for_git(root: Path) -> None:
    """Wait until no git process holds the index or the branch (one the killed writer
    started may still be committing); refuse if a lock stays."""
    git_dir = root / ".git"
    locks = [git_dir / "index.lock", git_dir / "HEAD.lock"]
    with contextlib.suppress(OSError):
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if head.startswith("ref: "):
            locks.append(git_dir / (head[5:] + ".lock"))
    deadline = time.monotonic() + GIT_WAIT_S
    while held := [p for p in locks if p.exists()]:
        if time.monotonic() > deadline:
            raise git.GitError(
                f"an interrupted bulk write cannot be finished: {held[0]} exists",
                hint=f"if no git command is running, delete {held[0]} and run hk again",
            )
        time.sleep(0.05)


def _head(root: Path) -> str:
    """HEAD's commit id, "" on a branch with no commit yet."""
    return git.run(root, ["rev-parse", "-q", "--verify", "HEAD"], check=False).strip()


def _committed(root: Path, parent: str, entries: Sequence[Entry]) -> bool:
    """Whether HEAD holds the new blob of a journalled path (the commit point was passed).

    HEAD still at the commit the write started from answers at once. Otherwise the trees of
    the journal's folders are listed (one process; asking ``HEAD:path`` per path would read
    a folder's tree of 100 000 entries once per path).
    """
    head = _head(root)
    if not entries or not head or head == parent:
        return False
    folders = sorted({e.path.rpartition("/")[0] or "." for e in entries})
    out = git.run(root, ["ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", *folders])
    blobs: dict[str, str] = {}
    for line in out.split("\0"):
        meta, _, path = line.partition("\t")
        if path:
            blobs[path] = meta.rsplit(" ", 1)[-1]
    return any(blobs.get(e.path) == e.new for e in entries)


def _roll_back(root: Path, entries: Sequence[Entry]) -> None:
    """Undo the renames that happened: each path holding its new bytes goes back to its old."""
    present: list[tuple[Entry, Path, bytes]] = []
    for entry in entries:
        full = root / entry.path
        try:
            present.append((entry, full, full.read_bytes()))
        except FileNotFoundError:
            continue
    ids = git.blob_ids(root, [data for _, _, data in present])
    restore: list[tuple[Path, bytes]] = []
    for (entry, full, _), sha in zip(present, ids, strict=True):
        if sha != entry.new:
            continue  # never renamed, already undone, or changed by hand since: not ours
        if entry.old is None:
            full.unlink()
        else:
            restore.append((full, entry.old))
    if restore:
        write_atomic_many(restore)
    git.run(
        root,
        ["reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul"],
        input="\0".join(e.path for e in entries),
    )


# --- leftover temp files ----------------------------------------------------------------------


def write_one(root: Path, hk_dir: Path, path: Path, data: bytes) -> None:
    """:func:`~hk.store.atomic.write_atomic` for a writer holding the lock, with its folder
    noted while the temp file may exist, so that a kill's leftover is found by the next writer."""
    note = hk_dir / WRITING
    note.write_text(path.parent.relative_to(root).as_posix(), encoding="utf-8")
    write_atomic(path, data)
    note.unlink(missing_ok=True)


def sweep(root: Path, folders: Iterable[Path]) -> list[str]:
    """Remove the leftover temp files of ``folders`` (the lock held); their archive paths."""
    removed: list[str] = []
    now = time.time()
    for folder in folders:
        try:
            names = [n for n in os.listdir(folder) if is_temp(n)]
        except (FileNotFoundError, NotADirectoryError):
            continue
        locked = _in_record_folder(root, folder)
        for name in names:
            path = folder / name
            try:
                if not locked and now - path.lstat().st_mtime < STALE_S:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path.relative_to(root).as_posix())
    return removed


def sweep_archive(root: Path) -> list[str]:
    """Every leftover temp file of the archive, removed (``hk doctor --fix``; the lock held)."""
    folders = []
    for top, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        folders.append(Path(top))
    return sorted(sweep(root, folders))


def _in_record_folder(root: Path, folder: Path) -> bool:
    from hk.domain.layout import LAYOUT

    try:
        first = folder.relative_to(root).parts[:1]
    except ValueError:
        return False
    return bool(first) and first[0] in {k.folder for k in LAYOUT.values()}
