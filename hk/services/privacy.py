"""A person's rights over their data (PIPL Art. 45, 47): a copy of all of it, and erasure.

Both work on a *person* — a customer or a worker — and everything that belongs to them in the
index (orders, visits, complaints, surveys, points, quotes, contracts). Both are recorded in
the audit trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from hk.domain.base import Record
from hk.domain.erasure import redact, without_sensitive
from hk.domain.kinds import KINDS
from hk.domain.layout import Kind
from hk.domain.lifecycle import lifecycle_of
from hk.errors import HkError, InvalidData, Problem
from hk.services.audit import Access, Filter, entries, record, require_reason
from hk.services.records import code_of, display, load, moment, resolve_id
from hk.store.archive import Archive
from hk.store.files import relpath_for
from hk.store.writer import Loaded, save_together

PEOPLE: tuple[Kind, ...] = ("customer", "worker")
BELONGING: tuple[Kind, ...] = (
    "order",
    "quote",
    "contract",
    "visit",
    "complaint",
    "survey",
    "points",
)
"""Kinds whose records name a person (the index's references): what a copy holds and what
an erasure redacts."""


def resolve_person(archive: Archive, ref: str) -> tuple[Kind, str]:
    kind, record_id = resolve_id(archive, None, ref)
    if kind not in PEOPLE:
        raise InvalidData(
            [
                Problem(
                    message=f"{ref} is a {kind}, not a person",
                    path="<input>",
                    field="person",
                    hint="give the code of a customer or a worker",
                )
            ]
        )
    return kind, record_id


def belonging(archive: Archive, person_id: str) -> list[tuple[Kind, str]]:
    """Every record that names the person, by kind and ID (fresh from the files)."""
    archive.index.refresh([*PEOPLE, *BELONGING])
    return [
        (kind, str(row["id"]))
        for kind in BELONGING
        for row in archive.index.list(kind, ref=person_id)
    ]


# --- a copy (PIPL Art. 45) ---------------------------------------------------------------------

ANOTHER = "choose another folder with --out"


@dataclass
class PersonalCopy:
    kind: Kind
    person_id: str
    code: str
    person: dict[str, Any]
    sensitive: list[str] = field(default_factory=list)
    """The person's sensitive fields (shown in full in the copy), by name."""
    records: dict[Kind, list[dict[str, Any]]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.person_id,
            "code": self.code,
            "person": self.person,
            "records": self.records,
            "audit": self.audit,
        }


def personal_copy(archive: Archive, ref: str) -> PersonalCopy:
    """Everything hk holds about a person, sensitive values in full (for the person)."""
    kind, person_id = resolve_person(archive, ref)
    person, _ = load(archive, KINDS[kind], person_id)
    copy = PersonalCopy(
        kind=kind,
        person_id=person_id,
        code=code_of(archive, person_id) or person_id,
        person=display(archive, person, reveal=True),
        sensitive=[path for path, _ in person.sealed_values()],
    )
    for other_kind, record_id in belonging(archive, person_id):
        other, _ = load(archive, KINDS[other_kind], record_id)
        copy.records.setdefault(other_kind, []).append(display(archive, other, reveal=False))
    copy.audit = [e.model_dump(mode="json") for e in entries(archive, Filter(record=person_id))]
    return copy


def write_copy(
    archive: Archive, copy: PersonalCopy, folder: Path, reason: str | None
) -> list[Path]:
    """The copy as ``<code>.json`` and a readable ``<code>.html`` in ``folder``; audited.

    The files are named by the record's code, never by the person's name.
    """
    import json

    from hk.services.documents import render
    from hk.store.atomic import write_atomic

    why = require_reason(reason, "a copy of a person's data")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HkError(f"cannot create {folder}: {exc.strerror}", hint=ANOTHER) from None
    data = copy.to_json()
    page = render(
        archive,
        "privacy_copy",
        {"copy": data, "labels": {k: KINDS[k].label_zh for k in copy.records}},
        "html",
        title=f"个人信息副本 {copy.code}",
    )
    written = []
    for name, body in (
        (f"{copy.code}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n"),
        (f"{copy.code}.html", page),
    ):
        path = folder / name
        try:
            write_atomic(path, body.encode("utf-8"), mode=0o600)
        except OSError as exc:
            raise HkError(f"cannot write {path}: {exc.strerror}", hint=ANOTHER) from None
        written.append(path)
    count = 1 + sum(len(v) for v in copy.records.values())
    access = Access(
        "access-copy", copy.kind, [copy.person_id], copy.sensitive, "file", why, "json+html", count
    )
    record(archive, access)
    return written


# --- erasure (PIPL Art. 47) --------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    kind: Kind
    person_id: str
    code: str
    redacted: int
    """Records changed (the person's own and those that belong to them)."""
    key_destroyed: bool
    commit: str | None
    purged: list[str] = field(default_factory=list)
    """Remotes to force-push to after ``--purge-history`` rewrote the history (by name)."""


def erase(
    archive: Archive,
    ref: str,
    reason: str | None,
    sensitive_only: bool = False,
    purge_history: bool = False,
) -> Erasure:
    """Erase a person: their data key destroyed, their plain-text data redacted; one commit.

    ``sensitive_only`` (consent for sensitive data withdrawn) removes just the sealed values
    and destroys the key. Refused while the person has business under way (an order, quote,
    contract or complaint not yet closed): close it first, so that nothing a customer is owed
    or owes is lost. Return visits still due are cancelled.

    ``purge_history`` then removes every past version of those records from git's history as
    well (their plain-text names, addresses and notes; the sealed values are unreadable
    already) and commits them again as they are now: every commit id changes, so every clone
    must be made again after a force-push.
    """
    from hk.domain.visit.model import Visit, step

    why = require_reason(reason, "an erasure")
    kind, person_id = resolve_person(archive, ref)
    person, loaded = load(archive, KINDS[kind], person_id)
    today = moment(archive, None).date()
    changes: list[tuple[Record, Loaded | None]] = []
    if sensitive_only:
        changes.append((without_sensitive(person), loaded))
    else:
        open_ = []
        others: list[tuple[Record, Loaded]] = []
        for other_kind, record_id in belonging(archive, person_id):
            other, other_loaded = load(archive, KINDS[other_kind], record_id)
            cycle = lifecycle_of(other_kind)
            status = getattr(other, "status", None)
            if isinstance(other, Visit) and status == "due":
                other = step(other, "cancelled", archive.operator(), moment(archive, None))
            elif cycle is not None and status is not None and not cycle.is_final(status):
                open_.append(f"{other_kind} {code_of(archive, record_id) or record_id}")
                continue
            others.append((other, other_loaded))
        if open_:
            raise HkError(
                f"{kind} {code_of(archive, person_id)} still has business under way: "
                + ", ".join(open_[:8])
                + (" …" if len(open_) > 8 else ""),
                hint="finish, settle or cancel these first; nothing was erased",
            )
        changes.append((redact(person, today), loaded))
        changes += [(redact(other, today), other_loaded) for other, other_loaded in others]
    code = code_of(archive, person_id) or person_id
    what = "sensitive data" if sensitive_only else "personal data"
    result = save_together(archive, changes, summary=f"privacy: erase {what} of {kind} {code}")
    paths = [relpath_for(type(changed), changed.id) for changed, _ in changes]
    destroyed = archive.keyring.destroy(person_id)
    record(
        archive,
        Access(
            "erase",
            kind,
            [person_id],
            [path for path, _ in person.sealed_values()] if sensitive_only else ["*"],
            "archive",
            why,
        ),
    )
    purged = _purge(archive, paths, kind, code) if purge_history else []
    return Erasure(kind, person_id, code, len(result.paths), destroyed, result.commit, purged)


def _purge(archive: Archive, paths: list[str], kind: Kind, code: str) -> list[str]:
    """Every past version of ``paths`` out of git's history; the files as they are now
    committed again. The remotes to force-push to, by name."""
    from hk.store import git
    from hk.store.lock import archive_lock
    from hk.store.writer import write_files

    kept = [(p, (archive.root / p).read_bytes()) for p in paths if (archive.root / p).exists()]
    with archive_lock(archive.hk_dir / "lock", archive.settings.lock_timeout_s):
        remotes = git.purge_paths(archive.root, paths)
        for path, _ in kept:  # untracked now, whether or not the rewrite left them in place
            (archive.root / path).unlink(missing_ok=True)
    write_files(archive, kept, f"privacy: {kind} {code}'s records as they are now (history purged)")
    return [name for name, _ in remotes]


# --- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    kind: Kind
    person_id: str
    code: str
    name: str
    last_business: dt.date


def due_for_review(archive: Archive) -> list[Due]:
    """People with no business for longer than ``[privacy] retention_years``, oldest first."""
    years = archive.settings.privacy.retention_years
    today = moment(archive, None).date()
    cutoff = today - dt.timedelta(days=round(365.25 * years))
    archive.index.refresh([*PEOPLE, *BELONGING])
    db = archive.index.db
    out = []
    for kind in PEOPLE:
        rows = db.execute(
            "SELECT r.id, r.code, r.name, r.data, "
            "(SELECT max(o.day) FROM refs f JOIN records o ON o.id = f.id WHERE f.ref = r.id) "
            "FROM records r WHERE r.kind = ?",
            (kind,),
        ).fetchall()
        for rid, code, name, data, last_day in rows:
            stored = orjson.loads(data)
            if stored.get("erased"):
                continue
            created = dt.date.fromisoformat(str(stored.get("created", ""))[:10])
            last = dt.date.fromisoformat(last_day) if last_day else created
            last = max(last, created)
            if last < cutoff:
                out.append(Due(kind, rid, code or rid, name, last))
    return sorted(out, key=lambda d: d.last_business)
