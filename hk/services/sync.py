"""``hk sync``: several operators, one archive, through an ordinary git remote.

A sync fetches the remote, merges its branch record by record, and pushes. The merge is git's
own three-way read of the trees (``git read-tree -m``: a file changed on one side only is taken
as it is) with every file changed on *both* sides merged field by field by the merge engine
(:mod:`hk.store.merge`) in this process, not by a merge driver started once per file: a
thousand records changed on both sides cost a thousand function calls, not a thousand Python
processes. Values that lose go to the attic (``hk conflicts``), with who and when.

What comes out is checked before anything is committed: every record file the merge touched
is parsed and validated against its model, and no file may hold a conflict marker. Any problem
puts the archive back as it was (HEAD, index and files) and names the file. Only then is the
merge committed (two parents, an ``Operator:`` trailer like every hk commit), the index brought
up to date and the result pushed; a push refused because the remote moved meanwhile fetches and
merges again.

Short codes are a function of the set of IDs (:func:`hk.domain.ids.assign_codes`), so every
clone computes the same ones after a sync; the records whose code changed are reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from hk.domain.conflicts import FOLDER as ATTIC
from hk.domain.conflicts import is_attic_path
from hk.domain.layout import LAYOUT, Kind
from hk.errors import ConflictError, HkError, InvalidData, Problem
from hk.services.history import blobs
from hk.services.review import (
    NO_BLOB,
    Target,
    current_branch,
    default_remote,
    fetch,
    record_of,
    resolve_target,
)
from hk.store import attic, git
from hk.store.archive import Archive
from hk.store.lock import archive_lock
from hk.store.merge import FileMerge, file_data, merge_file
from hk.store.rows import IndexedRecord
from hk.store.writer import settle_pending

T = TypeVar("T")
R = TypeVar("R")

MAX_TRIES = 5
"""Fetch-merge-push rounds before giving up when others keep pushing first."""
MARKER = "sync-started"
"""In ``.git/hk``: the HEAD a merge started from, while it runs (see :func:`_recover`)."""
SHOWN_DIRTY = 10
"""Uncommitted files named in the refusal; the rest are counted."""

Step = Literal["none", "fast-forward", "merge"]


@dataclass
class Recoded:
    """A record whose short code changed (an older record with the same code arrived)."""

    kind: str
    record_id: str
    title: str
    old: str
    new: str


@dataclass
class Outcome:
    """What merging a branch did."""

    target: Target
    step: Step = "none"
    head: str = ""
    incoming: int = 0
    """Commits brought in."""
    touched: list[str] = field(default_factory=list)
    """Files the merge changed in this archive."""
    merged: list[str] = field(default_factory=list)
    """Record files changed on both sides, merged field by field."""
    conflicts: list[tuple[str, Any]] = field(default_factory=list)
    """(record file, the engine's ``Loser``) of each losing value kept in the attic."""
    attic: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recoded: list[Recoded] = field(default_factory=list)


@dataclass
class SyncReport:
    outcome: Outcome
    pushed: int = 0
    """Commits the remote did not have and now has."""
    tries: int = 1


# --- the working tree must be hk's ----------------------------------------------------------


def _watched(path: str) -> bool:
    """Files a sync must not merge over: records, the attic, the settings."""
    return (
        path.startswith(ATTIC + "/")
        or path in ("hk.toml", ".gitattributes")
        or any(path.startswith(layout.folder + "/") for layout in LAYOUT.values())
    )


def uncommitted(archive: Archive) -> list[tuple[str, str]]:
    """(path, what) of changes git does not have: tracked files changed or deleted anywhere,
    new files where records live. hk commits every write of its own, so these are hand edits
    (or an interrupted one)."""
    out = git.run(archive.root, ["status", "--porcelain=v1", "-z", "--untracked-files=all"])
    entries = out.split("\0")
    found = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":  # a rename names its source next
            i += 1
        if code == "??":
            if _watched(path):
                found.append((path, "new, not committed"))
        elif "D" in code:
            found.append((path, "deleted, not committed"))
        elif "U" in code or code in ("AA", "DD"):
            found.append((path, "in an unfinished merge"))
        else:
            found.append((path, "changed, not committed"))
    return found


def refuse_uncommitted(archive: Archive) -> None:
    """A sync merges committed records only: it refuses while anything is left uncommitted."""
    if (archive.root / ".git" / "MERGE_HEAD").exists():
        raise ConflictError(
            "a git merge is in progress in this archive",
            hint="finish it (`git commit`) or undo it (`git merge --abort`), then sync again",
        )
    found = uncommitted(archive)
    if not found:
        return
    lines = [f"  {path}: {what}" for path, what in found[:SHOWN_DIRTY]]
    if len(found) > SHOWN_DIRTY:
        lines.append(f"  … and {len(found) - SHOWN_DIRTY} more (`git status`)")
    raise HkError(
        "the archive has changes hk did not make and git does not have:\n" + "\n".join(lines),
        hint="hk commits its own changes; check these (`hk doctor`), then commit them "
        "(`git add … && git commit`) or undo them (`git restore …`), and sync again",
    )


# --- merging --------------------------------------------------------------------------------


def _rev(archive: Archive, ref: str) -> str:
    return git.run(archive.root, ["rev-parse", "--verify", ref + "^{commit}"]).strip()


def _is_ancestor(archive: Archive, older: str, newer: str) -> bool:
    """``git merge-base --is-ancestor`` (it answers with its exit code only)."""
    import subprocess

    return (
        subprocess.run(
            ["git", "-C", str(archive.root), "merge-base", "--is-ancestor", older, newer],
            capture_output=True,
        ).returncode
        == 0
    )


def merge(archive: Archive, target: Target) -> Outcome:
    """Merge ``target`` into HEAD (see the module's docstring); under the archive lock.

    Values a ``git pull`` by hand set aside (the merge driver keeps them aside until an hk
    write) go into the attic first, in their own commit.
    """
    settle_pending(archive)
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        _recover(archive)
        refuse_uncommitted(archive)
        git.ensure_merge_driver(archive.root)
        outcome = Outcome(target)
        if target.ref is None:
            return outcome
        head, theirs = _rev(archive, "HEAD"), _rev(archive, target.ref)
        outcome.head = head
        if _is_ancestor(archive, theirs, head):
            return outcome
        before = _codes(archive)
        base = git.run(archive.root, ["merge-base", head, theirs], check=False).strip()
        if not base:
            raise HkError(
                f"{target.name} holds another archive (no history in common with this one)",
                hint="sync only clones of one archive; check `git remote -v`",
            )
        outcome.incoming = int(
            git.run(archive.root, ["rev-list", "--count", f"{head}..{theirs}"]).strip()
        )
        _start(archive, head)
        # git's index must know the files' stat data for read-tree to trust them
        git.run(archive.root, ["update-index", "-q", "--refresh"], check=False)
        try:
            if base == head:
                _fast_forward(archive, outcome, head, theirs)
            else:
                _three_way(archive, outcome, base, head, theirs)
        except BaseException:
            _undo(archive, head)
            raise
        finally:
            (archive.hk_dir / MARKER).unlink(missing_ok=True)
        outcome.recoded = _recoded(archive, before)
        return outcome


def _start(archive: Archive, head: str) -> None:
    archive.hk_dir.mkdir(parents=True, exist_ok=True)
    (archive.hk_dir / MARKER).write_text(head + "\n", encoding="ascii")


def _recover(archive: Archive) -> None:
    """A merge killed half-way (files and index changed, HEAD not moved) is undone at the next
    sync: the tree was clean when it started, so going back to HEAD loses nothing."""
    marker = archive.hk_dir / MARKER
    try:
        started = marker.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return
    if started == _rev(archive, "HEAD"):
        _undo(archive, started)
    marker.unlink(missing_ok=True)


def _undo(archive: Archive, head: str) -> None:
    """Git's index and the files back to ``head`` (only files git tracks or the merge added);
    hk's index follows them."""
    git.run(archive.root, ["reset", "--quiet", "--hard", head])
    archive.index.refresh()


def _fast_forward(archive: Archive, outcome: Outcome, head: str, theirs: str) -> None:
    reading = _Reading(archive, _records_changed(archive, head, theirs))
    try:
        git.run(archive.root, ["read-tree", "-m", "-u", head, theirs])
        outcome.touched = _changed(archive, head)
        _validate(archive, outcome.touched, reading.done())
    finally:
        reading.close()
    git.run(archive.root, ["update-ref", "-m", "hk sync: fast-forward", "HEAD", theirs, head])
    outcome.step, outcome.head = "fast-forward", theirs


def _three_way(archive: Archive, outcome: Outcome, base: str, head: str, theirs: str) -> None:
    ours = _records_changed(archive, base, head)
    incoming = _records_changed(archive, base, theirs)
    reading = _Reading(archive, {p: sha for p, sha in incoming.items() if p not in ours})
    try:  # one pool of workers at a time: forking beside another pool's threads is unsafe
        git.run(archive.root, ["read-tree", "-m", "-u", "--aggressive", base, head, theirs])
        read = reading.done()
    finally:
        reading.close()
    merged = _resolve(archive, outcome, base, head, theirs)
    outcome.touched = _changed(archive, head)
    _validate(archive, outcome.touched, {**read, **merged})
    tree = git.run(archive.root, ["write-tree"]).strip()
    message = _message(archive, outcome)
    commit = git.run(
        archive.root, ["commit-tree", tree, "-p", head, "-p", theirs, "-F", "-"], input=message
    ).strip()
    git.run(archive.root, ["update-ref", "-m", "hk sync: merge", "HEAD", commit, head])
    outcome.step, outcome.head = "merge", commit


def _records_changed(archive: Archive, old: str, new: str) -> dict[str, str]:
    """Record files that differ between two commits, with their blob in ``new`` (present
    there: a deleted file is left out)."""
    out = git.run(archive.root, ["diff-tree", "-r", "--no-renames", "-z", old, new])
    parts = out.split("\0")
    found = {}
    for meta, path in zip(parts[0::2], parts[1::2], strict=False):
        fields = meta.split()
        if len(fields) == 5 and fields[3] != NO_BLOB and record_of(path) is not None:
            found[path] = fields[3]
    return found


def _changed(archive: Archive, head: str) -> list[str]:
    """Files whose staged content differs from ``head`` (what the merge changed here)."""
    out = git.run(
        archive.root, ["diff-index", "--cached", "--name-only", "--no-renames", "-z", head]
    )
    return [p for p in out.split("\0") if p]


def _message(archive: Archive, outcome: Outcome) -> str:
    target = outcome.target
    subject = f"sync: merge {target.name}"
    if target.remote and target.name == target.remote:
        subject = f"sync: merge {target.remote}/{target.branch}"
    parts = [f"{outcome.incoming} commits"]
    if outcome.merged:
        parts.append(f"{len(outcome.merged)} records merged field by field")
    if outcome.conflicts:
        parts.append(f"{len(outcome.conflicts)} values kept in the attic")
    return f"{subject} ({', '.join(parts)})\n\nOperator: {archive.operator()}\n"


# --- files changed on both sides ------------------------------------------------------------


@dataclass
class _Unmerged:
    path: str
    stages: dict[int, tuple[str, str]] = field(default_factory=dict)
    """stage (1 base, 2 ours, 3 theirs) → (mode, blob id)."""


def _unmerged(archive: Archive) -> list[_Unmerged]:
    out = git.run(archive.root, ["ls-files", "--unmerged", "-z"])
    found: dict[str, _Unmerged] = {}
    for entry in out.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, sha, stage = meta.split()
        found.setdefault(path, _Unmerged(path)).stages[int(stage)] = (mode, sha)
    return list(found.values())


def _resolve(
    archive: Archive, outcome: Outcome, base: str, head: str, theirs: str
) -> dict[str, Read]:
    """Settle every file git left unmerged, then stage the results (stage 0).

    A record goes to the engine, whatever happened on each side (changed on both, created on
    both, deleted on one and changed on the other: the change is kept and the deletion goes to
    the attic). Any other file (``hk.toml``) is merged line by line, and a conflict there stops
    the merge: no conflict marker is ever written. The results are stored as blobs and
    checked out by git, as ``git merge`` writes files (a merge cut short is undone by the
    next sync, see :func:`_recover`).
    """
    unmerged = _unmerged(archive)
    if not unmerged:
        return {}
    shas = sorted({sha for u in unmerged for _, sha in u.stages.values()})
    content = dict(zip(shas, blobs(archive, shas), strict=True))
    sides = _last_writers(archive, base, head, theirs, [u.path for u in unmerged])
    written: list[tuple[str, str, bytes]] = []
    gone: list[str] = []
    conflicts: list[str] = []
    jobs: list[_Job] = []
    for item in unmerged:
        old, ours, new = (
            content[item.stages[n][1]] if n in item.stages else None for n in (1, 2, 3)
        )
        mode = (item.stages.get(2) or item.stages.get(3) or ("100644", ""))[0]
        if record_of(item.path) is not None:
            meta = (
                sides.get((2, item.path)) or _updated(item.path, ours),
                sides.get((3, item.path)) or _updated(item.path, new),
            )
            jobs.append((item.path, mode, old, ours, new, *meta))
            continue
        text = None
        if is_attic_path(item.path):  # every loss of both sides, each once
            text = attic.merge_texts(item.path, ours, new)
        elif ours is not None and new is not None:
            text = _merge_text(archive, ours, old or b"", new)
        if text is None:
            conflicts.append(item.path)
        else:
            written.append((item.path, mode, text))
    if conflicts:
        raise ConflictError(
            "these files were changed on both sides and cannot be merged line by line: "
            + ", ".join(conflicts),
            hint=f"merge them by hand (`git merge {outcome.target.ref}`, edit them, "
            "`git commit`), then sync again",
        )
    problems: list[Problem] = []
    lost: list[FileMerge] = []
    rows: dict[str, Read] = {}
    archive.index.load_pinyin()  # before the workers fork: they index what they merge
    for job, found in zip(jobs, _merge_records(jobs), strict=True):
        path, mode = job[0], job[1]
        if isinstance(found, list):
            problems += found
            continue
        merged, row = found
        if merged.text is None:
            gone.append(path)
        else:
            written.append((path, mode, merged.text))
        if row is not None:
            rows[path] = row
        outcome.merged.append(path)
        outcome.conflicts += [(path, loser) for loser in merged.losers]
        if merged.losers:
            lost.append(merged)
    if problems:
        raise InvalidData(problems, summary=f"{len(problems)} problem(s) in the versions to merge")
    _check_out(archive, written, gone)
    outcome.attic = _to_attic(archive, lost)
    return rows


_Meta = tuple[str, dt.datetime]
_Job = tuple[str, str, bytes | None, bytes | None, bytes | None, _Meta, _Meta]
"""A record to merge: path, file mode, base, ours, theirs (None: absent), and each side's
(operator, time)."""
PARALLEL_MIN = 200
"""Records to merge or read from which the work is shared between worker processes."""
CHUNK = 100


Read = IndexedRecord | list[Problem]
"""A record file read: its index row, or every problem it has."""
_Merged = tuple[FileMerge, IndexedRecord | None] | list[Problem]
"""A record merged, with its index row (None: gone); or why its versions could not be."""


def _merge_records(jobs: list[_Job]) -> list[_Merged]:
    """Each record merged by the engine, and its index row made from the merged file (see
    :func:`_in_workers`: each merge parses and validates three versions, and the row a
    fourth; the index then has nothing left to read). A version that does not validate gives
    its problems instead."""
    return _in_workers(_merge_chunk, jobs)


def _in_workers(work: Callable[[list[T]], list[R]], items: list[T]) -> list[R]:
    """``work`` over ``items``, in order (see :class:`_Workers`)."""
    running = _Workers(work, items)
    try:
        return running.results()
    finally:
        running.close()


class _Workers:
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


def _merge_chunk(jobs: list[_Job]) -> list[_Merged]:
    from hk.domain.kinds import KINDS
    from hk.store.files import row_loader

    out: list[_Merged] = []
    for path, _, base, ours, theirs, ours_meta, theirs_meta in jobs:
        try:
            merged = merge_file(path, base, ours, theirs, ours_meta, theirs_meta)
            row = None
            if merged.text is not None:
                row = row_loader(KINDS[merged.kind])(path, merged.text)
            out.append((merged, row))
        except InvalidData as exc:  # problems travel back from a worker; the error would not
            out.append(exc.problems)
    return out


def _check_out(archive: Archive, written: list[tuple[str, str, bytes]], gone: list[str]) -> None:
    """Stage the merged files (stage 0, replacing git's unmerged stages) and write them to
    the working tree through git; remove the records gone on both sides."""
    shas = git.write_blobs(archive.root, [data for *_, data in written]) if written else []
    info = "".join(
        f"{mode} {sha}\t{path}\n" for (path, mode, _), sha in zip(written, shas, strict=True)
    )
    info += "".join(f"0 {NO_BLOB}\t{path}\n" for path in gone)
    if info:
        git.run(archive.root, ["update-index", "--index-info"], input=info)
    if written:
        git.run(
            archive.root,
            ["-c", "checkout.workers=0", "checkout-index", "--force", "-z", "--stdin"],
            input="\0".join(path for path, *_ in written) + "\0",
        )
    for path in gone:
        (archive.root / path).unlink(missing_ok=True)


def _merge_text(archive: Archive, ours: bytes, base: bytes, theirs: bytes) -> bytes | None:
    """A file that is not a record (``hk.toml``), merged line by line; None on a conflict."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(dir=archive.hk_dir) as folder:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            (Path(folder) / name).write_bytes(data)
            names.append(str(Path(folder) / name))
        proc = subprocess.run(["git", "merge-file", "-p", "-q", *names], capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


def _updated(path: str, raw: bytes | None) -> tuple[str, dt.datetime]:
    """A side whose last change came only through merges: the time its record says it was
    updated (as git's merge driver does without a commit)."""
    data = file_data(path, raw) if raw is not None else None
    try:
        return ("", dt.datetime.fromisoformat(str((data or {})["updated"])))
    except (KeyError, ValueError):
        return ("", dt.datetime(1970, 1, 1, tzinfo=dt.UTC))


def _last_writers(
    archive: Archive, base: str, head: str, theirs: str, paths: list[str]
) -> dict[tuple[int, str], tuple[str, dt.datetime]]:
    """For each side (2 ours, 3 theirs) and path: who changed the file last on that side since
    the merge base, and when (the commit's ``Operator:`` and committer time)."""
    from hk.services.review import commits_of

    wanted = set(paths)
    found: dict[tuple[int, str], tuple[str, dt.datetime]] = {}
    for side, tip in ((2, head), (3, theirs)):
        for commit in commits_of(archive, f"{base}..{tip}", wanted):
            for *_, path in commit.files:
                if path in wanted:
                    found[(side, path)] = (commit.operator, commit.at)
    return found


def _to_attic(archive: Archive, merged: list[FileMerge]) -> list[str]:
    """Write the values that lost into the attic files of their records, merged with what
    those files hold (as the merge left them) and staged; the files written."""
    entries = [e for m in merged for e in attic.entries_of(m.kind, m.record_id, m.losers)]
    files = attic.with_entries(archive.root, entries) if entries else []
    _check_out(archive, [(path, "100644", data) for path, data in files], [])
    return [path for path, _ in files]


# --- checks before the commit ---------------------------------------------------------------

_MARKER_LINE = re.compile(rb"^(<{7}|>{7})( |$)", re.M)


def _validate(archive: Archive, paths: list[str], read: dict[str, Read]) -> None:
    """Every record file the merge touched parses and fits its model; no file holds a
    conflict marker. All problems are reported, each with its file.

    Reading a record is what indexing it needs too, so each file is read once: into its
    index row, in forked workers when there are many, and the rows go into the index once
    every file is known good. ``read`` holds the files read already: those the merge merged,
    and the incoming ones read from their blobs while git wrote them (:class:`_Reading`).
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
        for (_, path, kind), row in zip(jobs, _in_workers(_rows_of, jobs), strict=True)
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
    _note(archive, rows)


class _Reading:
    """The index rows of incoming record files, read from their blobs in worker processes
    while git writes the same files into the tree: the two take turns on the CPUs instead
    of one after the other."""

    def __init__(self, archive: Archive, files: dict[str, str]) -> None:
        self.paths = list(files)
        contents = blobs(archive, list(files.values())) if files else []
        archive.index.load_pinyin()  # before the workers fork
        jobs = [(path, data or b"") for path, data in zip(self.paths, contents, strict=True)]
        self._running = _Workers(_rows_of_blobs, jobs)

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


def _note(archive: Archive, rows: dict[Kind, list[IndexedRecord]]) -> None:
    """Rows of files just written, into the index (which then need not read them again)."""
    for kind, indexed in rows.items():
        folder = len(LAYOUT[kind].folder) + 1
        archive.index.note_written(kind, indexed, [row.path[folder:] for row in indexed])


# --- short codes ----------------------------------------------------------------------------


def _codes(archive: Archive) -> dict[str, tuple[str, str, str]]:
    """id → (kind, code, name) of every record with a derived code, from the fresh index."""
    archive.index.refresh()
    rows = archive.index.db.execute(
        "SELECT id, kind, code, name FROM records WHERE code IS NOT NULL"
    )
    return {r[0]: (r[1], r[2], r[3] or "") for r in rows}


def _recoded(archive: Archive, before: dict[str, tuple[str, str, str]]) -> list[Recoded]:
    after = _codes(archive)
    out = []
    for rid, (kind, code, name) in after.items():
        old = before.get(rid)
        if old is not None and old[1] != code:
            out.append(Recoded(kind, rid, name, old[1], code))
    return sorted(out, key=lambda r: (r.kind, r.new))


# --- sync, accept, propose, reject ----------------------------------------------------------


class PushRejected(HkError):
    """The remote moved while we merged."""


def push(archive: Archive, target: Target) -> int:
    """Push HEAD to ``target``'s branch; how many commits the remote did not have."""
    assert target.remote is not None
    head = _rev(archive, "HEAD")
    missing = int(
        git.run(
            archive.root,
            ["rev-list", "--count", head, *([f"^{target.ref}"] if target.ref else [])],
        ).strip()
    )
    if not missing:
        return 0
    _push(archive, target.remote, f"{head}:refs/heads/{target.branch}")
    branch = current_branch(archive)
    if not git.run(archive.root, ["config", f"branch.{branch}.remote"], check=False).strip():
        git.run(archive.root, ["config", f"branch.{branch}.remote", target.remote])
        git.run(archive.root, ["config", f"branch.{branch}.merge", f"refs/heads/{target.branch}"])
    return missing


def _push(archive: Archive, remote: str, refspec: str) -> None:
    try:
        git.run(archive.root, ["push", "--quiet", remote, refspec])
    except git.GitError as exc:
        words = exc.message
        if any(w in words for w in ("rejected", "fetch first", "non-fast-forward")):
            raise PushRejected(f"{remote} moved meanwhile") from None
        raise HkError(
            f"could not push to {remote}: {words.removeprefix('git push failed: ')}",
            hint=f"check the network and that you may write there (`git remote get-url {remote}`)",
        ) from None


def sync(archive: Archive, remote: str | None = None) -> SyncReport:
    """Fetch, merge and push, again if the remote moved meanwhile (see the module's docstring)."""
    target = resolve_target(archive, remote or default_remote(archive))
    tries = 0
    while True:
        tries += 1
        outcome = merge(archive, target)
        try:
            pushed = push(archive, target)
        except PushRejected:
            if tries >= MAX_TRIES:
                raise ConflictError(
                    f"{target.remote} kept moving: {tries} tries to push, each refused",
                    hint="others are syncing right now; run hk sync again in a moment",
                ) from None
            target = resolve_target(archive, target.name)
            continue
        archive.index.refresh()
        return SyncReport(outcome, pushed, tries)


def accept(archive: Archive, name: str | None = None) -> Outcome:
    """``hk review --accept``: merge the branch reviewed (fetched again), without pushing."""
    target = resolve_target(archive, name)
    outcome = merge(archive, target)
    archive.index.refresh()
    return outcome


@dataclass
class Proposal:
    remote: str
    branch: str
    commits: int


def operator_slug(name: str) -> str:
    """An ASCII name for a branch: the operator's name in pinyin (``王店长`` →
    ``wangdianzhang``), read as the index reads names (:func:`hk.store.search.pinyin_readings`:
    character by character, so the same on every machine), or, if nothing readable is left,
    a short hash of it."""
    from hk.store.search import pinyin_readings

    readings = pinyin_readings(name)
    text = readings[0][0] if readings else ""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:32].strip("-")
    return slug or "op-" + hashlib.blake2b(name.encode(), digest_size=4).hexdigest()


def propose(archive: Archive, remote: str | None = None, today: dt.date | None = None) -> Proposal:
    """Push the commits the remote's branch lacks to ``propose/<operator>-<day>`` instead,
    for the owner to review (``hk review BRANCH``) and accept or reject."""
    target = resolve_target(archive, remote or default_remote(archive))
    assert target.remote is not None
    refuse_uncommitted(archive)
    ahead = int(
        git.run(
            archive.root,
            ["rev-list", "--count", "HEAD", *([f"^{target.ref}"] if target.ref else [])],
        ).strip()
    )
    if not ahead:
        raise HkError(
            f"nothing to propose: {target.remote}/{target.branch} has every change made here",
        )
    if today is None:
        from hk.domain.base import now

        today = now(archive.settings.locale.timezone).date()
    stem = f"propose/{operator_slug(archive.operator())}-{today.isoformat()}"
    head = _rev(archive, "HEAD")
    for n in range(1, 100):
        branch = stem if n == 1 else f"{stem}-{n}"
        try:
            _push(archive, target.remote, f"{head}:refs/heads/{branch}")
        except PushRejected:  # a proposal of the same day, not part of this one: the next name
            continue
        fetch(archive, target.remote)
        return Proposal(target.remote, branch, ahead)
    raise HkError(f"too many proposals today on {target.remote}")


def reject(archive: Archive, name: str) -> Target:
    """``hk review BRANCH --reject``: delete a proposed branch from its remote (or a local
    branch); the branch the archive syncs with cannot be rejected."""
    target = resolve_target(archive, name)
    own = current_branch(archive)
    if target.branch == own:
        raise HkError(
            f"{target.name} is the branch this archive syncs with; it cannot be rejected",
            hint="reject a proposed branch (`git branch -r` lists them)",
        )
    if target.ref is None:
        raise HkError(f"there is no branch {target.name}")
    if target.remote is None:
        git.run(archive.root, ["branch", "-D", target.branch])
    else:
        try:
            git.run(archive.root, ["push", "--quiet", target.remote, "--delete", target.branch])
        except git.GitError as exc:
            raise HkError(
                f"could not delete {target.branch} on {target.remote}: {exc.message}"
            ) from None
        fetch(archive, target.remote)
    return target
