"""The local SQLite index: fast queries over the archive, never stale, always rebuildable.

It lives in ``.git/hk/index.sqlite``, so it is never committed and a fresh clone has none.
Freshness is checked per folder on every read: the folder is listed and each file's stat data
(mtime, ctime, size, inode) compared with a snapshot taken at the last refresh. Only files that
differ are parsed again, which covers ``git pull``, a checkout, an editor that writes in place
or by rename, and files added or deleted by hand. Files whose mtime is too close to the
snapshot to be trusted (the "racy" case git knows too) are compared by content next time.

This module stays light to import: a search imports no Pydantic and no pypinyin through it
(a record's parser is imported only when a file changed).
"""

from __future__ import annotations

import os
import sqlite3
import time

from hk.store.limits import MAX_RECORD_BYTES
from hk.store.rows import (
    BULK_MIN,
    FolderSpec,
    IndexedRecord,
    RefreshReport,
    load_file,
    row_params,
    upsert_params,
)
from hk.store.schema import DDL, FOUND_COLUMNS, SCHEMA_VERSION, SEARCHED
from hk.store.search import SEP, normalize_query
from hk.store.snapshot import (
    RACY_NS,
    Snapshot,
    content_hash,
    entry,
    fingerprint,
    read_snapshot,
    read_stamp,
    scan,
    stamp,
    write_snapshot,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path
    from typing import Any

    from hk.domain.layout import Kind
    from hk.errors import InvalidData
    from hk.store.snapshot import Stat


def default_specs() -> list[FolderSpec]:
    """One folder spec per record kind; a kind's parser is imported only when a file changed."""
    from hk.domain.layout import LAYOUT

    return [
        FolderSpec(k.name, k.folder, k.suffix, k.code_prefix, _lazy_loader(k.name), k.partitioned)
        for k in LAYOUT.values()
    ]


def _lazy_loader(kind: Kind) -> Callable[[str, bytes], IndexedRecord]:
    def load(path: str, data: bytes) -> IndexedRecord:
        from hk.domain.kinds import KINDS
        from hk.store.files import row_loader

        return row_loader(KINDS[kind])(path, data)

    return load


class Index:
    """Queries over one archive's records, refreshed from the files before every read."""

    def __init__(self, root: Path | str, specs: Sequence[FolderSpec]) -> None:
        self.root = os.fspath(root)
        self.dir = os.path.join(self.root, ".git", "hk")
        self.specs = {s.kind: s for s in specs}
        self._db: sqlite3.Connection | None = None
        self._written: dict[str, tuple[tuple[int, int, int], Snapshot]] = {}
        self.broken: dict[str, str] = {}
        """Files that failed to parse, as the refreshes of this object found them (path →
        first problem): the command or screen that asked says so; never a silent skip."""
        self.fresh: set[str] = set()
        """Kinds this object has refreshed: each query refreshes the kinds it reads first,
        unless they are here (see :meth:`_reading`)."""

    # --- storage -------------------------------------------------------------------------------

    def _recover(self) -> None:
        """Undo (or finish) a bulk write whose writer died half-way, before anything is read:
        at the first query of this object and at every refresh (see :mod:`hk.store.journal`).
        One ``stat`` when there is none."""
        if os.path.exists(os.path.join(self.dir, "journal")):
            from hk.store.journal import recover_if_free

            recover_if_free(self.root)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._recover()
            os.makedirs(self.dir, exist_ok=True)
            path = os.path.join(self.dir, "index.sqlite")
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                # Order rows are ~2 KiB: 8 KiB pages hold three, 4 KiB pages one (new files only).
                db.execute("PRAGMA page_size = 8192")
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(
                    "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS terms;"
                    " DROP TABLE IF EXISTS refs; DROP TABLE IF EXISTS grams;"
                )
                for spec in self.specs.values():
                    _unlink(self._snapshot_path(spec))
                db.executescript(DDL)
            self._db = db
        return self._db

    def load_pinyin(self) -> None:
        """Give the search-term builder the readings already known, before indexing rows."""
        from hk.store import search

        search.remember(
            {c: tuple(r.split(",")) for c, r in self.db.execute("SELECT * FROM pinyin_chars")}
        )

    def save_pinyin(self, more: dict[str, tuple[str, ...]] | None = None) -> None:
        """Keep readings computed while indexing (here, or ``more`` by worker processes), so
        the next write needs no pypinyin."""
        from hk.store import search

        new = {**(more or {}), **search.learned()}
        if new:
            self.db.executemany(
                "INSERT OR REPLACE INTO pinyin_chars VALUES (?, ?)",
                [(c, ",".join(r)) for c, r in new.items()],
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _snapshot_path(self, spec: FolderSpec) -> str:
        return os.path.join(self.dir, f"snapshot-{spec.kind}.marshal")

    def _snapshot(self, spec: FolderSpec) -> Snapshot:
        """The folder's snapshot: the one this object last wrote if the file is still that one
        (an edit refreshes, then notes its own write: one decoding instead of two), else read.
        """
        path = self._snapshot_path(spec)
        kept = self._written.pop(spec.kind, None)
        if kept is not None:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                return Snapshot()
            if kept[0] == (st.st_mtime_ns, st.st_size, st.st_ino):
                return kept[1]
        return read_snapshot(path)

    def _write_snapshot(self, spec: FolderSpec, snap: Snapshot) -> None:
        path = self._snapshot_path(spec)
        write_snapshot(path, snap)
        st = os.stat(path)
        self._written[spec.kind] = ((st.st_mtime_ns, st.st_size, st.st_ino), snap)

    def refresh(self, kinds: Iterable[Kind] | None = None) -> RefreshReport:
        """Bring the given kinds (default: all) up to date with the files; cheap if unchanged.

        With a watcher running (``hk watch``, :mod:`hk.store.watch`) a folder it saw no change
        in since its snapshot's token is not even listed, and only the paths it names are
        stat'ed again. Without one, or when it cannot tell, every file is stat'ed. Either way
        racy files are compared by content, and the watcher's new token is stamped on the
        snapshot only once the listing is known to be current.
        """
        from hk.store.watch import RESTAMP_AFTER, ask, restat

        self._recover()
        report = RefreshReport()
        _ = self.db  # opening it drops an index of another schema, and the snapshots with it
        specs = [self.specs[kind] for kind in kinds or list(self.specs)]
        paths = [self._snapshot_path(spec) for spec in specs]
        heads = [read_stamp(path) for path in paths]
        answer = ask(self.root, {s.folder: h.token for s, (_, h) in zip(specs, heads, strict=True)})
        for spec, path, (seen, head) in zip(specs, paths, heads, strict=True):
            changed = answer.changes(spec.folder) if answer else None
            snap = None
            if changed is not None and (changed or head.racy):
                snap = self._snapshot(spec)
                if snap.token != head.token:  # replaced meanwhile: trust only a full listing
                    changed, snap = None, None
            if changed is None:
                names, stats = scan(self.root, spec.folder, spec.suffix, spec.partitioned)
                differs = seen != fingerprint(names, stats)
            elif snap is None:
                names, stats, differs = [], [], False
            else:
                names, stats, differs = restat(
                    self.root, spec.folder, spec.suffix, spec.partitioned, snap, changed
                )
            if not differs and not head.racy:
                report.broken.update({f"{spec.folder}/{n}": p for n, p in head.broken.items()})
                if (
                    answer
                    and answer.watches(spec.folder)
                    and (changed is None or len(changed) > RESTAMP_AFTER)
                ):
                    stamp(path, answer.token, seen)
                continue
            token = answer.token if answer and answer.watches(spec.folder) else None
            self._update_folder(spec, snap or self._snapshot(spec), names, stats, report, token)
        for spec in specs:  # what is broken now, folder by folder: a fixed file leaves the list
            prefix = spec.folder + "/"
            self.broken = {p: m for p, m in self.broken.items() if not p.startswith(prefix)}
            self.fresh.add(spec.kind)
        self.broken.update(report.broken)
        return report

    def _reading(self, kinds: Iterable[Kind]) -> None:
        """Refresh the ``kinds`` a query is about to read, if this object has not yet.

        Every query goes through here, so no read can be served from rows older than the
        files (a hand edit, a ``git pull``) whether or not its caller thought of refreshing:
        the first query of a kind refreshes it, and later ones in the same command or screen
        read what that refresh found. An explicit :meth:`refresh` always looks again (the TUI
        polls with it; a write's recheck under the lock uses it).
        """
        stale = [k for k in kinds if k not in self.fresh and k in self.specs]
        if stale:
            self.refresh(stale)

    def freshness(self, kinds: Iterable[Kind]) -> tuple[tuple[int, int, int], ...]:
        """A token that changes whenever the index changes the rows of one of ``kinds``: for
        caches of what is computed from those rows (the day's reminders, customers' stages).

        Each kind's snapshot is replaced, with a new inode, whenever its folder's rows change
        (:mod:`hk.store.snapshot`); a kind never indexed yet gives zeros.
        """
        out = []
        for kind in kinds:
            try:
                st = os.stat(self._snapshot_path(self.specs[kind]))
                out.append((st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append((0, 0, 0))
        return tuple(out)

    def derived_path(self, name: str) -> str:
        """Where a cache derived from the index may keep a file: beside the index, deleted
        with it (``hk reindex``, or by hand), never committed."""
        return os.path.join(self.dir, name)

    def _update_folder(
        self,
        spec: FolderSpec,
        snap: Snapshot,
        names: list[str],
        stats: list[Stat],
        report: RefreshReport,
        token: str | None = None,
    ) -> None:
        """Index what changed between ``snap`` and the listing; write the listing, with the
        watcher's ``token`` (from before the listing was taken) if there is one."""
        from hk.errors import InvalidData

        old = dict(zip(snap.names, snap.stats, strict=True))
        now_ns = time.time_ns()
        current = dict(zip(names, stats, strict=True))
        changed = [n for n, s in current.items() if old.get(n) != s]
        contents: dict[str, bytes] = {}
        for name, digest in snap.racy.items():
            if name in current and old.get(name) == current[name]:
                data = self._read_quietly(spec, name)
                if data is not None and content_hash(data) != digest:
                    changed.append(name)
                    contents[name] = data
        removed = [n for n in old if n not in current]
        broken = {n: p for n, p in snap.broken.items() if n in current and n not in changed}
        refused = {n for n in changed if _refused(spec, n, current[n], broken)}
        if refused:  # not a regular file, or too big: said from the listing, never opened
            changed = [n for n in changed if n not in refused]
        rows: list[IndexedRecord] = []
        if changed:
            self.load_pinyin()
        bulk = None
        if len(changed) >= BULK_MIN:  # workers start parsing before the transaction opens
            from hk.store import build

            bulk = build.Batches(self.root, spec, sorted(changed), build.workers())
        for name in changed if bulk is None else ():
            try:
                data = contents.get(name) if name in contents else self._read(spec, name)
            except InvalidData as exc:  # replaced since it was listed
                broken[name] = _first(exc)
                continue
            if data is None:
                continue
            contents[name] = data
            loaded = load_file(spec, name, data)
            if isinstance(loaded, str):
                broken[name] = loaded
            else:
                rows.append(loaded)
        db = self.db
        try:
            with _transaction(db):
                gone = [f"{spec.folder}/{n}" for n in removed] + [
                    f"{spec.folder}/{n}" for n in broken
                ]
                db.executemany("DELETE FROM records WHERE path = ?", [(p,) for p in gone])
                if bulk is None:
                    inserted = self._upsert(db, rows)
                    self._assign_codes(db, spec, inserted, removed=bool(gone))
                    self.save_pinyin()
                    parsed = len(rows)
                else:
                    parsed = build.write(self, db, spec, bulk, broken, removed=bool(gone))
        finally:
            if bulk is not None:
                bulk.close()
        racy: dict[str, str] = {}
        for name, st in current.items():
            if st[0] >= now_ns - RACY_NS and name not in broken:
                data = contents.get(name) or self._read_quietly(spec, name)
                if data is not None:
                    racy[name] = content_hash(data)
        self._write_snapshot(spec, Snapshot(names, stats, racy, broken, token))
        report.parsed += parsed
        report.removed += len(removed)
        report.broken.update({f"{spec.folder}/{n}": p for n, p in broken.items()})

    def _read(self, spec: FolderSpec, name: str) -> bytes | None:
        """A listed record file's bytes (None if gone); :class:`InvalidData` if it is no
        longer a regular file within the size limit."""
        from hk.store.limits import read_record

        return read_record(self.root, f"{spec.folder}/{name}", listed=True)

    def _read_quietly(self, spec: FolderSpec, name: str) -> bytes | None:
        """:meth:`_read` for the content check of racy files: a file that cannot be read is
        none of its business (the next refresh, which parses it, says why)."""
        from hk.errors import InvalidData

        try:
            return self._read(spec, name)
        except InvalidData:
            return None

    def _upsert(self, db: sqlite3.Connection, rows: list[IndexedRecord]) -> list[str]:
        """Insert or update rows, keeping derived codes; return the IDs that are new."""
        return upsert_params(db, [row_params(r) for r in rows])

    def _assign_codes(
        self, db: sqlite3.Connection, spec: FolderSpec, inserted: list[str], removed: bool
    ) -> None:
        """Keep derived short codes a pure function of the set of IDs (see ``assign_codes``).

        A record newer than all others only needs a free code; anything else (a removal, an
        older record arriving by merge, a first build) recomputes the whole kind.
        """
        if not spec.code_prefix or (not inserted and not removed):
            return
        from hk.domain.ids import assign_codes, next_code

        current = dict(
            db.execute(
                "SELECT id, code FROM records WHERE kind = ? AND code IS NOT NULL", (spec.kind,)
            )
        )
        if current and not removed and min(inserted) > max(current):
            taken = set(current.values())
            updates = []
            for rid in sorted(inserted):
                code = next_code(spec.code_prefix, rid, taken)
                taken.add(code)
                updates.append((code, rid))
        else:
            ids = [r[0] for r in db.execute("SELECT id FROM records WHERE kind = ?", (spec.kind,))]
            codes = assign_codes(spec.code_prefix, ids)
            updates = [(c, rid) for rid, c in codes.items() if current.get(rid) != c]
        db.executemany("UPDATE records SET code = ? WHERE id = ?", updates)

    def code_for_new(self, kind: Kind, record_id: str) -> str:
        """The code a record about to be created will get (for its commit message)."""
        from hk.domain.ids import next_code

        self._reading([kind])
        taken = {c for (c,) in self.db.execute("SELECT code FROM records WHERE kind = ?", (kind,))}
        return next_code(self.specs[kind].code_prefix, record_id, taken)

    def note_written(self, kind: Kind, rows: list[IndexedRecord], names: list[str]) -> None:
        """After hk wrote files itself: index the rows it already has, without re-parsing them.

        Only the written files' stat data enter the snapshot; every other file keeps the stat
        data the index last saw, so a change someone else made meanwhile is still found by the
        next refresh.
        """
        spec = self.specs[kind]
        snap = self._snapshot(spec)
        with _transaction(self.db):
            inserted = self._upsert(self.db, rows)
            self._assign_codes(self.db, spec, inserted, removed=False)
            self.save_pinyin()
        position = {n: i for i, n in enumerate(snap.names)}
        folder = os.path.join(self.root, spec.folder)
        now_ns = time.time_ns()
        for name in names:
            try:
                st = entry(os.stat(os.path.join(folder, name), follow_symlinks=False))
            except FileNotFoundError:
                continue
            if name in position:
                snap.stats[position[name]] = st
            else:
                position[name] = len(snap.names)
                snap.names.append(name)
                snap.stats.append(st)
            snap.broken.pop(name, None)
            snap.racy.pop(name, None)
            if st[0] >= now_ns - RACY_NS:
                data = self._read_quietly(spec, name)
                if data is not None:
                    snap.racy[name] = content_hash(data)
        self._write_snapshot(spec, snap)

    def rebuild(self) -> RefreshReport:
        """``hk reindex``: build a whole new index aside, then put it in place of the old one.

        The new database is written with SQLite's safety nets off (no rollback journal, no WAL,
        no fsync per transaction: WAL alone would write every page twice) into a folder of its
        own, with larger pages that hold three order rows instead of one. Only once it is complete,
        switched to WAL like any index and synced to disk, does it replace the old index and its
        snapshots. An interrupted rebuild therefore leaves an index that is simply missing (and
        built again by the next read) plus its folder, which the next rebuild removes.
        """
        import shutil

        from hk.store.build import _fsync, _remove_abandoned
        from hk.store.schema import FILL_BULK, WITHOUT_BULK_TRIGGERS

        self.close()
        _remove_abandoned(self.dir)
        work = os.path.join(self.dir, f"rebuild-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        aside = Index(self.root, list(self.specs.values()))
        aside.dir = work
        try:
            db = sqlite3.connect(
                os.path.join(work, "index.sqlite"), timeout=30, isolation_level=None
            )
            aside._db = db
            db.execute("PRAGMA page_size = 8192")
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(DDL + WITHOUT_BULK_TRIGGERS)
            report = aside.refresh()
            db.executescript(FILL_BULK + DDL)
            db.execute("PRAGMA journal_mode = WAL")
            aside.close()
            _fsync(os.path.join(work, "index.sqlite"))
            for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
                _unlink(os.path.join(self.dir, name))
            names = sorted(os.listdir(work))  # the database first, then the snapshots
            for name in names:
                os.replace(os.path.join(work, name), os.path.join(self.dir, name))
        finally:
            aside.close()
            shutil.rmtree(work, ignore_errors=True)
        return report

    # --- queries -------------------------------------------------------------------------------

    def get(self, record_id: str, kind: Kind | None = None) -> sqlite3.Row | None:
        """The row of ``record_id``, fresh: its kind is refreshed first if this object has
        not yet. ``kind`` is the kind the caller expects (only it is refreshed); without
        one, the row's kind is, and an ID not found refreshes every kind not yet refreshed
        before it is declared missing (it may be a file added by hand)."""
        if kind is not None:
            self._reading([kind])
            return self._row(record_id)
        row = self._row(record_id)
        stale = [k for k in ([row["kind"]] if row else self.specs) if k not in self.fresh]
        if stale:
            self._reading(stale)
            row = self._row(record_id)
        return row

    def _row(self, record_id: str) -> sqlite3.Row | None:
        db = self.db
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()

    def resolve(self, kind: Kind | None, ref: str) -> list[sqlite3.Row]:
        """Records named by ``ref``: an ID, an ID prefix (8+ chars), a short code or own code."""
        kinds = [kind] if kind else list(self.specs)
        self._reading(kinds)
        db = self.db
        db.row_factory = sqlite3.Row
        where, args = f"kind IN ({','.join('?' * len(kinds))}) AND ", kinds
        ref_up = ref.strip().upper()
        # Two lookups, one per index (the primary key, then kind and code): with an OR, SQLite
        # walks every record of the kind instead.
        rows = db.execute(f"SELECT * FROM records WHERE {where}id = ?", [*args, ref_up]).fetchall()
        rows += db.execute(
            f"SELECT * FROM records WHERE {where}code = ? AND id != ?", [*args, ref_up, ref_up]
        ).fetchall()
        if not rows and len(ref_up) >= 8:
            rows = db.execute(  # a range on the primary key: IDs are upper-case letters
                f"SELECT * FROM records WHERE {where}id >= ? AND id < ?",
                [*args, ref_up, ref_up + "~"],
            ).fetchall()
        return rows

    def find(self, kind: Kind, query: str, limit: int = 50) -> list[sqlite3.Row]:
        """Records whose name, pinyin, initials, code, phone, WeChat, tag or community match."""
        q = normalize_query(query)
        if not q:
            return []
        self._reading([kind])
        db = self.db
        db.row_factory = sqlite3.Row
        args = {
            "kind": kind,
            "q": q,
            "whole": f"{SEP}{q}{SEP}",
            "start": f"{SEP}{q}",
            "like_prefix": f"%{SEP}{_escape(q)}%",
            "like_sub": f"%{_escape(q)}%",
            "limit": limit or -1,
        }
        # Matching and ranking in SQL: the terms of one kind are one range of the table, and
        # only the rows shown are fetched whole, however many match. The rank: exact name or
        # code first, then whole pinyin or initials (or a name that starts so), then
        # prefixes, then the rest; pinyin order within each (lower() folds ASCII letters only:
        # Chinese has no case, and q is folded already).
        if kind in SEARCHED and len(q) >= 3 and not any(c in q for c in "%_\\"):
            # The trigram index names the few records whose terms hold q, each checked below;
            # CROSS JOIN keeps SQLite from starting at the kind's terms instead.
            source = (
                "grams CROSS JOIN records ON records.rowid = grams.rowid CROSS JOIN terms"
                " ON terms.kind = records.kind AND terms.id = records.id"
                " WHERE grams.text LIKE :like_sub AND records.kind = :kind AND"
            )
        else:
            source = "terms JOIN records ON records.id = terms.id WHERE terms.kind = :kind AND"
        return db.execute(
            f"SELECT {FOUND_COLUMNS} FROM {source}"
            " (terms.prefix_terms LIKE :like_prefix ESCAPE '\\'"
            " OR terms.substring_terms LIKE :like_sub ESCAPE '\\')"
            " ORDER BY CASE"
            "  WHEN lower(records.name) = :q OR lower(coalesce(records.code, '')) = :q"
            "   THEN 0"
            "  WHEN substr(lower(records.name), 1, length(:q)) = :q"
            "   OR instr(terms.prefix_terms, :whole) THEN 1"
            "  WHEN instr(terms.prefix_terms, :start)"
            "   OR substr(lower(coalesce(records.code, '')), 1, length(:q)) = :q THEN 2"
            "  ELSE 3 END, records.sort_key, records.id LIMIT :limit",
            args,
        ).fetchall()

    def list(
        self,
        kind: Kind,
        tag: str | None = None,
        community: str | None = None,
        category: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        day_from: str | None = None,
        day_to: str | None = None,
        ref: str | None = None,
    ) -> list[sqlite3.Row]:
        """Records of a kind, filtered; ``category`` is an order's status, ``ref`` an ID it
        belongs to (customer or worker), days are ``YYYY-MM-DD`` and both ends included."""
        self._reading([kind])
        db = self.db
        db.row_factory = sqlite3.Row
        sql = "SELECT * FROM records WHERE kind = ?"
        args: list[Any] = [kind]
        if tag:
            sql += " AND tags LIKE ? ESCAPE '\\'"
            args.append(f"%{SEP}{_escape(tag)}{SEP}%")
        if community:
            sql += " AND communities LIKE ? ESCAPE '\\'"
            args.append(f"%{_escape(community)}%")
        if category:
            sql += " AND category = ?"
            args.append(category)
        if day_from:
            sql += " AND day >= ?"
            args.append(day_from)
        if day_to:
            sql += " AND day <= ?"
            args.append(day_to)
        if ref:
            sql += " AND id IN (SELECT id FROM refs WHERE ref = ? AND kind = ?)"
            args += [ref, kind]
        sql += " ORDER BY sort_key, id"
        if limit:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return db.execute(sql, args).fetchall()

    def count(self, kind: Kind) -> int:
        self._reading([kind])
        return int(
            self.db.execute("SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0]
        )


def _refused(spec: FolderSpec, name: str, stat: Stat, broken: dict[str, str]) -> bool:
    """Whether the listing alone says the file cannot be a record (not a regular file, too
    big); if so, why goes into ``broken``."""
    if 0 <= stat[2] <= MAX_RECORD_BYTES:
        return False
    from hk.store.limits import refusal

    problem = refusal(f"{spec.folder}/{name}", stat[2])
    if problem is None:
        return False
    broken[name] = _first(problem)
    return True


def _first(exc: InvalidData) -> str:
    """A broken file's first problem, one line, as the index keeps it."""
    return exc.problems[0].render().splitlines()[0]


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 - contextlib would be one more import on the search path
        os.unlink(path)
    except FileNotFoundError:
        pass


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
