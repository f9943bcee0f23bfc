"""The write path of DESIGN §3, the only way hk changes the files of an archive.

lock → check (validation, settings, references, stale edit) → seal sensitive values →
atomic write → one ``git commit`` of exactly these paths → index update. A killed process
leaves every file old or new; a write is acknowledged only once its commit exists.

The archive's own logs that are not records (the reminders' sent log) take the same lock,
atomic write and commit through :func:`write_log` and :func:`commit_logs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hk.domain.base import Record, now
from hk.domain.layout import Kind
from hk.errors import ConflictError, InvalidData, Problem
from hk.store import codec, git
from hk.store.archive import Archive
from hk.store.atomic import write_atomic, write_atomic_many
from hk.store.files import index_row, relpath_for, stored_data
from hk.store.index import IndexedRecord
from hk.store.lock import archive_lock


@dataclass
class Loaded:
    """A record as read from its file, with the bytes it was read from (for the stale check)."""

    record: Record
    path: str
    base: bytes


@dataclass
class SaveResult:
    commit: str | None
    paths: list[str] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)
    code: str | None = None


def changed_fields(old: Record | None, new: Record) -> list[str]:
    """Top-level fields whose stored form differs (never their values: no personal data)."""
    if old is None:
        return []
    a, b = stored_data(old), codec.canonical_data(new)
    keys = [k for k in {**a, **b} if k not in ("updated",) and a.get(k) != b.get(k)]
    return keys


def _commit(
    archive: Archive,
    change: git.Change,
    new_paths: Sequence[str],
    contents: Sequence[bytes] | None = None,
) -> str:
    """Commit, waiting briefly if a git process killed a moment ago still holds index.lock."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return git.commit(archive.root, change, new_paths, contents)
        except git.GitError as exc:
            if "index.lock" not in exc.message or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _trailers(archive: Archive, record_id: str | None = None, count: int | None = None) -> str:
    lines = []
    if record_id:
        lines.append(f"Record: {record_id}")
    if count is not None:
        lines.append(f"Records: {count}")
    lines.append(f"Operator: {archive.operator()}")
    return "\n\n" + "\n".join(lines) + "\n"


def check(archive: Archive, records: Sequence[Record]) -> None:
    """Settings lists and references between records; raises with every problem found."""
    from hk.domain.rules import settings_problems

    problems: list[Problem] = []
    batch = {r.id for r in records}
    refs = {r.id: [(f, k, ids) for f, k, ids in r.checked_refs() if ids] for r in records}
    kinds = sorted({k for found in refs.values() for _, k, _ in found})
    if kinds:
        archive.index.refresh(kinds)
    for record in records:
        path = relpath_for(type(record), record.id)
        problems += settings_problems(record, archive.settings, path)
        for fld, kind, ids in refs[record.id]:
            for rid in ids:
                if rid in batch:
                    continue
                row = archive.index.get(rid)
                if row is None or row["kind"] != kind:
                    problems.append(
                        Problem(
                            message=f"there is no {kind} with id {rid}",
                            path=path,
                            field=fld,
                            hint=f"find the right one with `hk {kind} find`",
                        )
                    )
    if problems:
        raise InvalidData(problems)


def save(
    archive: Archive,
    record: Record,
    loaded: Loaded | None = None,
    text: str | None = None,
    recheck: Callable[[], None] | None = None,
    also: Sequence[tuple[str, bytes]] = (),
) -> SaveResult:
    """Create ``record`` (``loaded`` is None) or save it over ``loaded``; one commit.

    ``text`` is the user's own file text when they edited it by hand: its comments and layout
    are kept where they mean the same as the canonical form. ``recheck`` runs under the lock,
    after the stale-edit check, for rules that depend on other records (a worker's bookings):
    two operators cannot both pass it and both write. ``also`` are files of the archive's own
    (an attic file: path and contents) written and committed with the record.
    """
    model = type(record)
    path = relpath_for(model, record.id)
    full = archive.root / path
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        _settle_pending(archive)
        current = full.read_bytes() if full.exists() else None
        if loaded is None and current is not None:
            raise ConflictError(f"{path} already exists")
        if loaded is not None and current != loaded.base:
            loaded = reapply(archive, record, loaded, current)
        if loaded is not None and loaded.record.own_code() != record.own_code():
            raise InvalidData(
                [
                    Problem(
                        message="a catalog code cannot change; orders and quotes refer to it",
                        path=path,
                        field="code",
                        hint="add a new item with the new code and set this one to inactive",
                    )
                ]
            )
        if recheck is not None:
            recheck()
        _seal(archive, [record], loaded.record if loaded else None)
        fields = changed_fields(loaded.record if loaded else None, record)
        if loaded is not None and not fields:
            return SaveResult(commit=None, paths=[], code=_code(archive, record))
        check(archive, [record])
        if loaded is not None:
            record.updated = now(archive.settings.locale.timezone)
        old_text = text if text is not None else (loaded.base.decode("utf-8") if loaded else None)
        from hk.store.files import serialise

        text = serialise(record, old_text)
        code = _code(archive, record)
        new_paths = [path] if loaded is None else []
        if also:
            new_paths += [p for p, _ in also if not (archive.root / p).exists()]
            write_atomic_many(
                [(full, text.encode("utf-8"))] + [(archive.root / p, b) for p, b in also]
            )
        else:
            write_atomic(full, text.encode("utf-8"))
        label = code or record.id
        action = "create" if loaded is None else "update " + ", ".join(fields)
        message = f"{model.kind} {label}: {action}" + _trailers(archive, record.id)
        paths = (path, *(p for p, _ in also))
        commit = _commit(archive, git.Change(paths, message), new_paths)
        archive.index.load_pinyin()
        archive.index.note_written(model.kind, [index_row(record, path)], [_in_folder(path)])
        return SaveResult(commit=commit, paths=list(paths), changed_fields=fields, code=code)


def save_together(
    archive: Archive,
    changes: Sequence[tuple[Record, Loaded | None]],
    summary: str | None = None,
    recheck: Callable[[], None] | None = None,
) -> SaveResult:
    """Create or update several records of any kinds in one commit, or none of them.

    One step of the business often touches more than one file: a rating is kept as a survey
    response and linked from its order, a renewal writes the old contract and its successor, an
    accepted quote links the orders it became. Each pair is a record and what it was loaded
    from (None for a new record); every stale-edit check passes before anything is written.
    Unchanged records are left out; the commit subject is ``summary`` or one ``kind code:
    action`` per record. ``recheck`` runs under the lock after the stale-edit checks, as in
    :func:`save`.
    """
    from hk.store.files import serialise

    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        _settle_pending(archive)
        pending: list[tuple[Record, Loaded | None, str, list[str]]] = []
        fresh: list[tuple[Record, Loaded | None]] = []
        for record, loaded in changes:
            path = relpath_for(type(record), record.id)
            current = (archive.root / path).read_bytes() if (archive.root / path).exists() else None
            if loaded is None and current is not None:
                raise ConflictError(f"{path} already exists")
            if loaded is not None and current != loaded.base:
                loaded = reapply(archive, record, loaded, current)
            fresh.append((record, loaded))
        changes = fresh
        if recheck is not None:
            recheck()
        for record, loaded in changes:
            path = relpath_for(type(record), record.id)
            _seal(archive, [record], loaded.record if loaded else None)
            fields = changed_fields(loaded.record if loaded else None, record)
            if loaded is None or fields:
                pending.append((record, loaded, path, fields))
        if not pending:
            return SaveResult(commit=None, paths=[])
        check(archive, [record for record, *_ in pending])
        stamp = now(archive.settings.locale.timezone)
        items: list[tuple[Path, bytes]] = []
        actions: list[str] = []
        for record, loaded, path, fields in pending:
            if loaded is not None:
                record.updated = stamp
            old_text = loaded.base.decode("utf-8") if loaded else None
            items.append((archive.root / path, serialise(record, old_text).encode("utf-8")))
            label = _code(archive, record) or record.id
            action = "create" if loaded is None else "update " + ", ".join(fields)
            actions.append(f"{record.kind} {label}: {action}")
        write_atomic_many(items)
        paths = [path for _, _, path, _ in pending]
        new_paths = [path for _, loaded, path, _ in pending if loaded is None]
        message = (summary or "; ".join(actions)) + _trailers(archive, count=len(pending))
        commit = _commit(archive, git.Change(tuple(paths), message), new_paths)
        _note_written(archive, [(record, path) for record, _, path, _ in pending])
        return SaveResult(commit=commit, paths=paths, code=_code(archive, pending[0][0]))


def reapply(archive: Archive, record: Record, loaded: Loaded, current: bytes | None) -> Loaded:
    """A stale edit made again on the file as it is now, when the two changes do not overlap.

    ``record`` was edited from ``loaded``, but someone saved the file since (``current``). The
    edit is merged with that change (:func:`hk.store.merge.merge_data`, base = what was
    loaded): if no field was changed both ways, ``record`` becomes the merged record, in
    place, and the returned :class:`Loaded` is the file as it is now, for the save to go on
    as if it had been opened a moment ago. A real overlap raises :class:`ConflictError`
    naming the fields and both values, sensitive ones masked; nothing is written.
    """
    import datetime as dt

    from hk.domain.conflicts import masked, shown
    from hk.store.merge import Side, file_data, merge_data

    model = type(record)
    code = _code(archive, record) or record.id
    label = f"{model.kind} {code}"
    redo = f"nothing was written; see it as it is now (`hk show {code}`) and redo the change"
    if current is None:
        raise ConflictError(f"{label} was removed by someone else since it was opened", hint=redo)
    _seal(archive, [record], loaded.record)
    try:
        base, theirs = file_data(loaded.path, loaded.base), file_data(loaded.path, current)
    except InvalidData:
        raise ConflictError(
            f"{label} was changed by someone else since it was opened, and {loaded.path} no "
            "longer reads as a record",
            hint="see `hk doctor`; " + redo,
        ) from None
    assert theirs is not None
    now = dt.datetime.now(dt.UTC)
    mtime = dt.datetime.fromtimestamp((archive.root / loaded.path).stat().st_mtime, dt.UTC)
    ours = Side(codec.canonical_data(record), archive.operator(), now)
    other = Side(theirs, "", min(mtime, now - dt.timedelta(milliseconds=1)))
    merged = merge_data(model.kind, base, ours, other)
    if merged.losers or merged.data is None:
        clashes = []
        for loser in merged.losers:
            mine, saved = (
                (loser.kept, loser.lost) if loser.kept_at == now else (loser.lost, loser.kept)
            )
            saved_text, mine_text = shown(masked(saved)), shown(masked(mine))
            clashes.append(f"{loser.field}: saved meanwhile {saved_text}, yours {mine_text}")
        raise ConflictError(
            f"{label} was changed by someone else since it was opened, in the same "
            + ("field" if len(clashes) == 1 else "fields")
            + ": "
            + "; ".join(clashes),
            hint=redo,
        )
    from hk.store.files import validate_data

    fresh = validate_data(model, merged.data, None, loaded.path)
    for name in model.model_fields:
        setattr(record, name, getattr(fresh, name))
    now_loaded = validate_data(model, theirs, None, loaded.path)
    return Loaded(record=now_loaded, path=loaded.path, base=current)


def save_new_bulk(
    archive: Archive,
    records: Sequence[Record],
    summary: str,
    extra_paths: Sequence[str] = (),
) -> SaveResult:
    """Create many records in one commit (import, init, demo): one sync, one commit."""
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        check(archive, records)
        _seal(archive, records)
        from hk.store.files import serialise

        items: list[tuple[Path, bytes]] = []
        paths: list[str] = []
        datas = []
        for record in records:
            path = relpath_for(type(record), record.id)
            full = archive.root / path
            if full.exists():
                raise ConflictError(f"{path} already exists")
            data = codec.canonical_data(record)
            datas.append(data)
            items.append((full, serialise(record, data=data).encode("utf-8")))
            paths.append(path)
        write_atomic_many(items)
        extra = [(archive.root / p).read_bytes() for p in extra_paths]
        all_paths = [*extra_paths, *paths]
        message = summary + _trailers(archive, count=len(records))
        commit = _commit(
            archive,
            git.Change(tuple(all_paths), message),
            all_paths,
            [*extra, *(data for _, data in items)],
        )
        archive.index.load_pinyin()
        by_kind: dict[Kind, list[IndexedRecord]] = {}
        for record, path, data in zip(records, paths, datas, strict=True):
            by_kind.setdefault(record.kind, []).append(index_row(record, path, data))
        for kind, rows in by_kind.items():
            archive.index.note_written(kind, rows, [_in_folder(row.path) for row in rows])
        return SaveResult(commit=commit, paths=all_paths)


def _note_written(archive: Archive, written: Sequence[tuple[Record, str]]) -> None:
    """Index what was just written, one index update per kind.

    Each update rewrites the kind's snapshot (stat data of every file in its folder), so a
    thousand records of one kind cost one rewrite here, not a thousand (``hk batch``).
    """
    archive.index.load_pinyin()
    by_kind: dict[Kind, list[IndexedRecord]] = {}
    for record, path in written:
        by_kind.setdefault(record.kind, []).append(index_row(record, path))
    for kind, rows in by_kind.items():
        archive.index.note_written(kind, rows, [_in_folder(row.path) for row in rows])


def _in_folder(path: str) -> str:
    """A record's path relative to its kind's folder (``2026/11/<id>.json`` for orders)."""
    from hk.domain.layout import LAYOUT

    folder = next(k.folder for k in LAYOUT.values() if path.startswith(k.folder + "/"))
    return path[len(folder) + 1 :]


def _seal(archive: Archive, records: Sequence[Record], old: Record | None = None) -> None:
    """Seal new plaintexts; one equal to the old value keeps the old token (no byte changes)."""
    previous = dict(old.sealed_values()) if old is not None else {}
    if len(records) > 1:
        archive.keyring.create_keys(
            [r.id for r in records if any(v.token is None for _, v in r.sealed_values())]
        )
    for record in records:
        pending = [(p, v) for p, v in record.sealed_values() if v.token is None]
        for path, value in pending:
            before = previous.get(path)
            if before is not None and archive.keyring.try_unseal(record.id, before) == value.plain:
                value.token = before.token
        values = [v for _, v in pending if v.token is None]
        if values:
            archive.keyring.seal_all(record.id, values)


def _code(archive: Archive, record: Record) -> str | None:
    own = record.own_code()
    if own or not type(record).code_prefix:
        return own
    row = archive.index.get(record.id)
    if row is not None and row["code"]:
        return str(row["code"])
    return archive.index.code_for_new(record.kind, record.id)


# --- the archive's own logs ---------------------------------------------------------------------


def write_log(archive: Archive, relpath: str, data: bytes) -> None:
    """Write a log file of the archive's own (not a record), atomically, under the archive
    lock; it is committed later with :func:`commit_logs`.

    The file is its writer's alone (one per run), so when another writer holds the archive
    for long (a big import) it is written all the same rather than lost: what it records has
    happened already (a message went out), and forgetting it would do it twice.
    """
    path = archive.root / relpath
    try:
        with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
            write_atomic(path, data)
    except ConflictError:
        write_atomic(path, data)


def commit_logs(archive: Archive, paths: Sequence[str], subject: str) -> str:
    """Commit log files written by :func:`write_log` (one commit), under the archive lock."""
    message = f"{subject}\n\nOperator: {archive.operator()}\n"
    tracked = set(git.run(archive.root, ["ls-files", "--", *paths]).split("\n"))
    new = [p for p in paths if p not in tracked]
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        return _commit(archive, git.Change(tuple(paths), message), new)


# --- the attic ------------------------------------------------------------------------------------


def write_files(archive: Archive, files: Sequence[tuple[str, bytes]], subject: str) -> str | None:
    """Write files of the archive's own (attic files) and commit them in one commit, under
    the lock; None if there is nothing to write."""
    if not files:
        return None
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        return _write_files(archive, files, subject)


def _write_files(archive: Archive, files: Sequence[tuple[str, bytes]], subject: str) -> str:
    new = [p for p, _ in files if not (archive.root / p).exists()]
    write_atomic_many([(archive.root / p, data) for p, data in files])
    message = subject + _trailers(archive)
    return _commit(archive, git.Change(tuple(p for p, _ in files), message), new)


def settle_pending(archive: Archive) -> str | None:
    """Move the values git's merge driver set aside into the attic, in one commit.

    Entries of a merge that did not happen (aborted: the commit it brought in is not in
    HEAD's history) are dropped. Nothing is done while a merge is still under way (its
    MERGE_HEAD exists): a commit then would be refused, or would interfere with it.
    Returns the commit, or None.
    """
    from hk.store import attic

    if not attic.has_pending(archive.hk_dir):
        return None
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        return _settle_pending(archive)


def _settle_pending(archive: Archive) -> str | None:
    """:func:`settle_pending` with the lock held."""
    from hk.store import attic

    if not attic.has_pending(archive.hk_dir) or (archive.root / ".git" / "MERGE_HEAD").exists():
        return None
    taken = attic.take_pending(archive.hk_dir)
    if taken is None:
        return None
    landed: dict[str, bool] = {}
    entries = []
    for merged, found in taken:
        if merged is not None and merged not in landed:
            landed[merged] = git.is_ancestor(archive.root, merged, "HEAD")
        if merged is None or landed[merged]:
            entries += found
    files = attic.with_entries(archive.root, entries)
    commit = None
    if files:
        n = len(entries)
        subject = f"conflicts: {n} value{'s' if n != 1 else ''} that lost a merge kept in the attic"
        commit = _write_files(archive, files, subject)
    attic.done_pending(archive.hk_dir)
    return commit
