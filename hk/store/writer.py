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
from hk.store.limits import check_writable, read_record
from hk.store.lock import archive_lock


@dataclass
class Loaded:
    """A record as read from its file, with the bytes it was read from (for the stale check)."""

    record: Record
    path: str
    base: bytes
    broken: bool = False
    """The file did not hold a valid record (``hk edit`` repairing it): ``record`` is only the
    new one again, nothing to compare with, and the save writes the file whatever differs."""


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
    """Settings lists and references between records, and that each file lands in the
    archive as a regular file (no folder that is a link, nothing but a regular file in its
    place); raises with every problem found. Every writer runs it, under the lock, before
    it writes."""
    from hk.domain.rules import settings_problems

    problems: list[Problem] = []
    root = str(archive.root)
    batch = {r.id for r in records}
    refs = {r.id: [(f, k, ids) for f, k, ids in r.checked_refs() if ids] for r in records}
    kinds = sorted({k for found in refs.values() for _, k, _ in found})
    if kinds:
        archive.index.refresh(kinds)
    for record in records:
        path = relpath_for(type(record), record.id)
        try:
            check_writable(root, path)
        except InvalidData as exc:
            problems += exc.problems
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
) -> SaveResult:
    """Create ``record`` (``loaded`` is None) or save it over ``loaded``; one commit.

    ``text`` is the user's own file text when they edited it by hand: its comments and layout
    are kept where they mean the same as the canonical form. ``recheck`` runs under the lock,
    after the stale-edit check, for rules that depend on other records (a worker's bookings):
    two operators cannot both pass it and both write.
    """
    model = type(record)
    path = relpath_for(model, record.id)
    full = archive.root / path
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        check_writable(str(archive.root), path)  # never through a link, never over a pipe
        current = read_record(str(archive.root), path)
        if loaded is None and current is not None:
            raise ConflictError(f"{path} already exists")
        if loaded is not None and current != loaded.base:
            raise ConflictError(
                f"{model.kind} {record.id} was changed by someone else since it was opened",
                hint="open it again and redo the change; nothing was written",
            )
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
        old = loaded.record if loaded is not None and not loaded.broken else None
        _seal(archive, [record], old)
        fields = changed_fields(old, record)
        if loaded is not None and not fields and not loaded.broken:
            return SaveResult(commit=None, paths=[], code=_code(archive, record))
        check(archive, [record])
        if loaded is not None:
            record.updated = now(archive.settings.locale.timezone)
        old_text = text if text is not None else (loaded.base.decode("utf-8") if loaded else None)
        from hk.store.files import serialise

        text = serialise(record, old_text)
        code = _code(archive, record)
        write_atomic(full, text.encode("utf-8"))
        label = code or record.id
        action = "create" if loaded is None else "update " + ", ".join(fields)
        if loaded is not None and loaded.broken:
            action = "repair the file"
        message = f"{model.kind} {label}: {action}" + _trailers(archive, record.id)
        commit = _commit(archive, git.Change((path,), message), [path] if loaded is None else [])
        archive.index.load_pinyin()
        archive.index.note_written(model.kind, [index_row(record, path)], [_in_folder(path)])
        return SaveResult(commit=commit, paths=[path], changed_fields=fields, code=code)


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
        pending: list[tuple[Record, Loaded | None, str, list[str]]] = []
        for record, loaded in changes:
            path = relpath_for(type(record), record.id)
            current = (archive.root / path).read_bytes() if (archive.root / path).exists() else None
            if loaded is None and current is not None:
                raise ConflictError(f"{path} already exists")
            if loaded is not None and current != loaded.base:
                raise ConflictError(
                    f"{record.kind} {record.id} was changed by someone else since it was opened",
                    hint="open it again and redo the change; nothing was written",
                )
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
    row = archive.index.get(record.id, record.kind)
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
