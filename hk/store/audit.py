"""The audit trail on disk: one JSON file per entry under ``audit/<yyyy>/<mm>/``.

Written like the archive's other logs (:func:`hk.store.writer.write_log`, one commit per
command) and read by walking the folder; the index does not hold it. See
:mod:`hk.domain.audit` for what an entry says and why the entries are chained.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import orjson

from hk.domain.audit import FOLDER, GENESIS, AuditEntry, entry_hash, entry_path
from hk.errors import Problem
from hk.store.archive import Archive
from hk.store.writer import commit_logs, write_log


def _files(root: str) -> Iterator[str]:
    """Every entry file, relative to the archive, in time order (IDs sort by time)."""
    top = os.path.join(root, FOLDER)
    for year in sorted(_names(top)):
        for month in sorted(_names(os.path.join(top, year))):
            folder = os.path.join(top, year, month)
            for name in sorted(_names(folder)):
                if name.endswith(".json"):
                    yield f"{FOLDER}/{year}/{month}/{name}"


def _names(folder: str) -> list[str]:
    try:
        return [n for n in os.listdir(folder) if not n.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _last_hash(root: str) -> str:
    """The hash of the newest entry: the last name of the newest month folder that has one
    (entry IDs sort by time), so an entry costs a listing of one month, not of the trail."""
    top = os.path.join(root, FOLDER)
    for year in sorted(_names(top), reverse=True):
        for month in sorted(_names(os.path.join(top, year)), reverse=True):
            folder = os.path.join(top, year, month)
            names = [n for n in _names(folder) if n.endswith(".json")]
            if not names:
                continue
            try:
                with open(os.path.join(folder, max(names)), "rb") as handle:
                    data = orjson.loads(handle.read())
            except (OSError, orjson.JSONDecodeError):
                return GENESIS  # an unreadable entry is one `hk doctor` names
            return str(data.get("hash", GENESIS))
    return GENESIS


def append(
    archive: Archive, entries: list[dict[str, Any]], subject: str | None
) -> list[AuditEntry]:
    """Chain ``entries`` (each without ``prev``/``hash``) after the last one and commit them
    (``subject`` None: written only, for the caller to commit with its own files)."""
    made: list[AuditEntry] = []
    prev = _last_hash(str(archive.root))
    paths = []
    for data in entries:
        data = {**data, "prev": prev}
        data["hash"] = entry_hash(data)
        entry = AuditEntry.model_validate(data)
        path = entry_path(entry.id, entry.at)
        write_log(archive, path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        paths.append(path)
        made.append(entry)
        prev = entry.hash
    if paths and subject is not None:
        commit_logs(archive, paths, subject)
    return made


def read(archive: Archive) -> tuple[list[AuditEntry], list[Problem]]:
    """Every entry, oldest first, and the problems of the trail: a file that does not parse,
    an entry whose hash does not match its content (edited), a link to an entry that is not
    there (removed)."""
    entries: list[AuditEntry] = []
    problems: list[Problem] = []
    hashes: set[str] = {GENESIS}
    raw: list[tuple[str, dict[str, Any]]] = []
    for path in _files(str(archive.root)):
        try:
            data = orjson.loads((archive.root / path).read_bytes())
            entry = AuditEntry.model_validate(data)
        except (OSError, orjson.JSONDecodeError, ValueError) as exc:
            problems.append(
                Problem(
                    message=f"audit entry cannot be read: {str(exc).splitlines()[0]}",
                    path=path,
                    hint="restore it from git: `git checkout -- " + path + "`",
                )
            )
            continue
        if entry_hash(data) != entry.hash:
            problems.append(
                Problem(
                    message="audit entry was changed after it was written (its hash does not "
                    "match)",
                    path=path,
                    hint=f"see what changed with `git log -p -- {path}` and restore it",
                )
            )
        hashes.add(entry.hash)
        raw.append((path, data))
        entries.append(entry)
    for path, data in raw:
        if data["prev"] not in hashes:
            problems.append(
                Problem(
                    message="the audit entry before this one is missing (removed or changed)",
                    path=path,
                    hint=f"find it with `git log --diff-filter=D --stat -- {FOLDER}`, restore it",
                )
            )
    return entries, problems


def rewritten(archive: Archive) -> list[Problem]:
    """Entries that a commit changed or removed after they were committed.

    An entry is written once and never again, so any later change to it in git's history is
    tampering, even one the chain cannot see (the newest entry removed, with nothing after it).
    """
    from hk.store import git

    out = git.run(
        archive.root,
        ["log", "--diff-filter=DM", "--name-status", "--format=%h", "--", FOLDER],
        check=False,
    )
    problems = []
    commit = ""
    for line in out.splitlines():
        if "\t" not in line:
            commit = line.strip() or commit
            continue
        status, path = line.split("\t", 1)
        what = "removed" if status.startswith("D") else "changed"
        problems.append(
            Problem(
                message=f"audit entry was {what} by commit {commit}",
                path=path,
                hint=f"restore it with `git checkout {commit}^ -- {path}` and commit",
            )
        )
    return problems
