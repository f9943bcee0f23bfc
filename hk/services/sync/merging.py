"""Merging a branch into HEAD, record by record.

The merge is git's own three-way read of the trees (``git read-tree -m``: a file changed on one
side only is taken as it is) with every file changed on *both* sides merged field by field by
the merge engine (:mod:`hk.store.merge`) in this process, not by a merge driver started once
per file: a thousand records changed on both sides cost a thousand function calls (shared
between worker processes), not a thousand Python processes. Values that lose go to the attic
(``hk conflicts``), with who and when.

What comes out is checked before anything is committed (:mod:`.reading`): every record file
the merge touched is parsed and validated against its model, and no file may hold a conflict
marker. Any problem puts the archive back as it was (HEAD, index and files) and names the file.
Only then is the merge committed, with two parents and an ``Operator:`` trailer like every hk
commit, and the index is up to date with it.

Short codes are a function of the set of IDs (:func:`hk.domain.ids.assign_codes`), so every
clone computes the same ones after a sync; the records whose code changed are reported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hk.domain.conflicts import is_attic_path
from hk.errors import ConflictError, HkError, InvalidData, Problem
from hk.services.history import blobs
from hk.services.review import NO_BLOB, Target, record_of
from hk.services.sync.reading import Read, Reading, in_workers, validate
from hk.services.sync.worktree import refuse_uncommitted
from hk.store import attic, git
from hk.store.archive import Archive
from hk.store.lock import archive_lock
from hk.store.merge import FileMerge, Loser, file_data, merge_file
from hk.store.rows import IndexedRecord
from hk.store.writer import settle_pending

MARKER = "sync-started"
"""In ``.git/hk``: the HEAD a merge started from, while it runs (see :func:`_recover`)."""

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
    conflicts: list[tuple[str, Loser]] = field(default_factory=list)
    """(record file, value) of each value that lost, kept in the attic."""
    attic: list[str] = field(default_factory=list)
    """The attic files the merge wrote."""
    recoded: list[Recoded] = field(default_factory=list)


# --- merging --------------------------------------------------------------------------------


def rev(archive: Archive, ref: str) -> str:
    """The commit ``ref`` names."""
    return git.run(archive.root, ["rev-parse", "--verify", ref + "^{commit}"]).strip()


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
        head, theirs = rev(archive, "HEAD"), rev(archive, target.ref)
        outcome.head = head
        if git.is_ancestor(archive.root, theirs, head):
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
    if started == rev(archive, "HEAD"):
        _undo(archive, started)
    marker.unlink(missing_ok=True)


def _undo(archive: Archive, head: str) -> None:
    """Git's index and the files back to ``head`` (only files git tracks or the merge added);
    hk's index follows them."""
    git.run(archive.root, ["reset", "--quiet", "--hard", head])
    archive.index.refresh()


def _fast_forward(archive: Archive, outcome: Outcome, head: str, theirs: str) -> None:
    reading = Reading(archive, _records_changed(archive, head, theirs))
    try:
        git.run(archive.root, ["read-tree", "-m", "-u", head, theirs])
        outcome.touched = _changed(archive, head)
        validate(archive, outcome.touched, reading.done())
    finally:
        reading.close()
    git.run(archive.root, ["update-ref", "-m", "hk sync: fast-forward", "HEAD", theirs, head])
    outcome.step, outcome.head = "fast-forward", theirs


def _three_way(archive: Archive, outcome: Outcome, base: str, head: str, theirs: str) -> None:
    ours = _records_changed(archive, base, head)
    incoming = _records_changed(archive, base, theirs)
    reading = Reading(archive, {p: sha for p, sha in incoming.items() if p not in ours})
    try:  # one pool of workers at a time: forking beside another pool's threads is unsafe
        git.run(archive.root, ["read-tree", "-m", "-u", "--aggressive", base, head, theirs])
        read = reading.done()
    finally:
        reading.close()
    merged = _resolve(archive, outcome, base, head, theirs)
    outcome.touched = _changed(archive, head)
    validate(archive, outcome.touched, {**read, **merged})
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


_Merged = tuple[FileMerge, IndexedRecord | None] | list[Problem]
"""A record merged, with its index row (None: gone); or why its versions could not be."""


def _merge_records(jobs: list[_Job]) -> list[_Merged]:
    """Each record merged by the engine, and its index row made from the merged file (see
    :func:`in_workers`: each merge parses and validates three versions, and the row a
    fourth; the index then has nothing left to read). A version that does not validate gives
    its problems instead."""
    return in_workers(_merge_chunk, jobs)


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
