"""Review before apply: what a colleague's commits would change, record by record, field by field.

``hk review`` (and ``hk sync --dry-run``, and the TUI's review page) name what comes in before it
lands: each commit on the fetched remote branch (or a named branch) that HEAD does not have,
read as field changes of the records it touched, with who made it (the commit's ``Operator:``
trailer, as ``hk log`` reads it) and when (commit time, in the archive's timezone). Sensitive
values are masked the way ``hk show`` masks them unless revealed.

Where the branch comes from is settled here too (:func:`resolve_target`): a remote (its branch
of the same name as ours), ``REMOTE/BRANCH``, a local branch, or a branch of the default remote
(``propose/…``, as ``hk propose`` pushes them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hk.domain.audit import Destination
from hk.domain.fields import is_sealed_text
from hk.domain.layout import LAYOUT, Kind
from hk.errors import HkError, InvalidData
from hk.services.history import blobs, flatten, parse_version, shown
from hk.store import git
from hk.store.archive import Archive

Action = Literal["created", "changed", "deleted"]
NO_BLOB = "0" * 40


class NoRemote(HkError):
    """The archive has no git remote to sync with (or not the one named)."""


@dataclass(frozen=True)
class Target:
    """What is reviewed or merged: a git ref, and where it came from.

    ``remote`` is None for a local branch; ``branch`` is the branch's name on the remote (or
    locally). ``ref`` is None when the remote has no such branch yet (an empty remote).
    """

    name: str
    ref: str | None
    remote: str | None
    branch: str


@dataclass
class FieldDiff:
    """One field of one record, before and after (None: absent), sensitive values masked."""

    field: str
    old: Any
    new: Any
    sensitive: bool = False
    """A sealed value, before or after: shown masked, or in full (and audited) when revealed."""


@dataclass
class RecordChange:
    """What one commit did to one file: a record (``kind`` set) or another file of the archive."""

    commit: str
    operator: str
    when: str
    """Commit time in the archive's timezone, ``YYYY-MM-DD HH:MM``."""
    path: str
    action: Action
    kind: Kind | None = None
    record_id: str | None = None
    code: str | None = None
    title: str = ""
    changes: list[FieldDiff] = field(default_factory=list)

    def label(self) -> str:
        """``customer K9F13 陈淑芬``, or the path of a file that is not a record."""
        if self.kind is None:
            return self.path
        return " ".join(p for p in (self.kind, self.code or self.record_id, self.title) if p)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "operator": self.operator,
            "when": self.when,
            "path": self.path,
            "kind": self.kind,
            "id": self.record_id,
            "code": self.code,
            "title": self.title,
            "action": self.action,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
        }


@dataclass
class Incoming:
    """The commits ``target`` has and HEAD has not, as record changes, oldest first."""

    target: Target
    commits: int = 0
    changes: list[RecordChange] = field(default_factory=list)
    outgoing: int = 0
    """Commits HEAD has and the target has not (what a sync would push)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target.name,
            "commits": self.commits,
            "outgoing": self.outgoing,
            "changes": [c.to_json() for c in self.changes],
        }


# --- remotes and branches -------------------------------------------------------------------


def remotes(archive: Archive) -> list[str]:
    return git.run(archive.root, ["remote"]).split()


def current_branch(archive: Archive) -> str:
    """The branch HEAD is on (``main``); a detached HEAD cannot be synced."""
    name = git.run(archive.root, ["symbolic-ref", "--quiet", "--short", "HEAD"], check=False)
    if not name.strip():
        raise HkError(
            "the archive is not on a branch (detached HEAD)",
            hint="go back to the main branch with `git switch main`",
        )
    return name.strip()


def default_remote(archive: Archive) -> str:
    """The current branch's upstream remote, else ``origin``, else the only remote."""
    names = remotes(archive)
    branch = current_branch(archive)
    upstream = git.run(archive.root, ["config", f"branch.{branch}.remote"], check=False).strip()
    if upstream in names:
        return upstream
    if "origin" in names:
        return "origin"
    if len(names) == 1:
        return names[0]
    if not names:
        raise NoRemote(
            "this archive has no remote to sync with",
            hint="add the shared repository once: `git remote add origin URL`",
        )
    raise NoRemote(
        f"this archive has several remotes ({', '.join(names)}) and none is the default",
        hint="name one (`hk sync REMOTE`), or set it: `git branch --set-upstream-to REMOTE/main`",
    )


def fetch(archive: Archive, remote: str) -> None:
    """``git fetch`` of every branch of ``remote`` (branches deleted there go here too)."""
    try:
        git.run(archive.root, ["fetch", "--quiet", "--prune", "--no-tags", remote])
    except git.GitError as exc:
        raise HkError(
            f"could not fetch from {remote}: {exc.message.removeprefix('git fetch failed: ')}",
            hint=f"check the network and the remote's address (`git remote get-url {remote}`)",
        ) from None


def _has_ref(archive: Archive, ref: str) -> bool:
    out = git.run(archive.root, ["rev-parse", "--verify", "--quiet", ref + "^{commit}"], False)
    return bool(out.strip())


def resolve_target(archive: Archive, name: str | None = None, fetched: bool = True) -> Target:
    """The branch ``name`` means (see the module's docstring), fetched from its remote first
    unless ``fetched`` is False (the caller fetched just before)."""
    names = remotes(archive)
    branch = current_branch(archive)
    if name is None or name in names:
        remote = name or default_remote(archive)
        return _remote_branch(archive, name or remote, remote, branch, fetched)
    head, _, rest = name.partition("/")
    if rest and head in names:
        return _remote_branch(archive, name, head, rest, fetched)
    if _has_ref(archive, f"refs/heads/{name}"):
        return Target(name, f"refs/heads/{name}", None, name)
    if names:
        remote = default_remote(archive)
        found = _remote_branch(archive, name, remote, name, fetched)
        if found.ref is not None:
            return found
    raise HkError(
        f"there is no remote or branch named '{name}'",
        hint="remotes: "
        + (", ".join(names) or "none")
        + "; propose branches are listed by `git branch -r`",
    )


def _remote_branch(archive: Archive, name: str, remote: str, branch: str, fetched: bool) -> Target:
    if fetched:
        fetch(archive, remote)
    ref = f"refs/remotes/{remote}/{branch}"
    return Target(name, ref if _has_ref(archive, ref) else None, remote, branch)


# --- the changes ----------------------------------------------------------------------------


def record_of(path: str) -> tuple[Kind, str] | None:
    """(kind, id) of the record file at ``path``, or None for any other file."""
    for kind, layout in LAYOUT.items():
        if path.startswith(layout.folder + "/") and path.endswith(layout.suffix):
            stem = path.rpartition("/")[2][: -len(layout.suffix)]
            if layout.relpath(stem) == path:
                return kind, stem
    return None


@dataclass
class Commit:
    """A commit as review and sync read it: who (the ``Operator:`` trailer, else the author),
    when (committer time), and the files it changed."""

    sha: str
    operator: str
    at: dt.datetime
    when: str
    """``at`` in the archive's timezone, ``YYYY-MM-DD HH:MM``."""
    files: list[tuple[str, str, str, str]]
    """(status, old blob, new blob, path) of each file the commit changed."""


_OPERATOR = re.compile(r"^Operator: (.+)$", re.M)


def commits_of(archive: Archive, revisions: str, paths: Collection[str] = ()) -> list[Commit]:
    """The commits of ``revisions`` (``HEAD..ref``), oldest first, without merges (a merge only
    brings commits that are listed themselves), each with its changed files and blobs; only
    those that touch ``paths``, when given (and only those files)."""
    out = git.run(
        archive.root,
        [
            "log",
            "--reverse",
            "--no-merges",
            "--no-renames",
            "--no-abbrev",
            "--raw",
            "--format=%x1e%H%x1f%an%x1f%cI%x1f%B%x1f",
            revisions,
            "--",
            *sorted(paths),
        ],
    )
    zone = ZoneInfo(archive.settings.locale.timezone)
    commits = []
    for chunk in out.split("\x1e")[1:]:
        sha, author, stamp, body, raw = chunk.split("\x1f", 4)
        found = _OPERATOR.search(body)
        at = dt.datetime.fromisoformat(stamp).astimezone(zone)
        files = []
        for line in raw.splitlines():
            if not line.startswith(":"):
                continue
            meta, _, path = line.partition("\t")
            _, _, old, new, status = meta.split()
            files.append((status[0], old, new, path))
        who = found.group(1).strip() if found else author
        commits.append(Commit(sha, who, at, at.strftime("%Y-%m-%d %H:%M"), files))
    return commits


def changes_between(
    archive: Archive, revisions: str, reveal: bool = False
) -> tuple[int, list[RecordChange]]:
    """How many commits ``revisions`` holds, and what they change (see :func:`incoming`)."""
    commits = commits_of(archive, revisions)
    wanted = sorted(
        {b for c in commits for _, old, new, _ in c.files for b in (old, new) if b != NO_BLOB}
    )
    contents = dict(zip(wanted, blobs(archive, wanted), strict=True)) if wanted else {}
    codes = _codes(archive, commits)
    changes: list[RecordChange] = []
    for commit in commits:
        for status, old, new, path in commit.files:
            before = parse_version(contents.get(old), path) if old != NO_BLOB else None
            after = parse_version(contents.get(new), path) if new != NO_BLOB else None
            action: Action = (
                "created" if before is None else "deleted" if after is None else "changed"
            )
            change = RecordChange(commit.sha, commit.operator, commit.when, path, action)
            found = record_of(path)
            if found is not None:
                change.kind, change.record_id = found
                data = after if after is not None else before
                change.code = codes.get(change.record_id) or (data or {}).get("code")
                change.title = _title(found[0], data, path)
                if action == "changed":
                    change.changes = _diff(archive, change.record_id, before, after, reveal)
                    if not change.changes and status != "M":
                        continue
            changes.append(change)
    return len(commits), changes


def incoming(archive: Archive, target: Target, reveal: bool = False) -> Incoming:
    """What merging ``target`` would bring: its commits HEAD does not have, as field changes
    of each record they touched, oldest first; and how many commits HEAD has that it lacks."""
    found = Incoming(target)
    if target.ref is None:
        found.outgoing = int(git.run(archive.root, ["rev-list", "--count", "HEAD"]).strip())
        return found
    found.commits, found.changes = changes_between(archive, f"HEAD..{target.ref}", reveal)
    found.outgoing = int(
        git.run(archive.root, ["rev-list", "--count", f"{target.ref}..HEAD"]).strip()
    )
    return found


def _diff(
    archive: Archive,
    record_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reveal: bool,
) -> list[FieldDiff]:
    """Field changes, ``updated`` left out (every save moves it), sensitive values masked."""
    old, new = flatten(before or {}), flatten(after or {})
    out = []
    for key in dict.fromkeys([*old, *new]):
        if key == "updated" or old.get(key) == new.get(key):
            continue
        out.append(
            FieldDiff(
                key,
                shown(archive, record_id, key, old[key], reveal) if key in old else None,
                shown(archive, record_id, key, new[key], reveal) if key in new else None,
                is_sealed_text(old.get(key)) or is_sealed_text(new.get(key)),
            )
        )
    return out


def audit_revealed(archive: Archive, found: Incoming, reason: str, to: Destination) -> None:
    """Record the sensitive values a revealed review showed, one entry per record."""
    from hk.services.audit import Access, record

    fields: dict[tuple[Kind, str], set[str]] = {}
    for change in found.changes:
        sealed = {d.field for d in change.changes if d.sensitive}
        if sealed and change.kind is not None and change.record_id is not None:
            fields.setdefault((change.kind, change.record_id), set()).update(sealed)
    accesses = [
        Access("reveal", kind, [record_id], sorted(names), to, reason)
        for (kind, record_id), names in sorted(fields.items())
    ]
    if accesses:
        record(archive, *accesses)


def _title(kind: Kind, data: dict[str, Any] | None, path: str) -> str:
    """The record's one-line name as listings show it (its model's ``title``)."""
    from hk.domain.kinds import KINDS
    from hk.store.files import validate_data

    if not data:
        return ""
    try:
        return validate_data(KINDS[kind], data, None, path).title()
    except InvalidData:
        return str(data.get("name", ""))


def _codes(archive: Archive, commits: list[Commit]) -> dict[str, str]:
    """Short codes of the records the commits touch, as they are once the commits are merged:
    codes are a function of the set of IDs, so the newcomers join the IDs the index knows."""
    from hk.domain.ids import assign_codes

    touched: dict[Kind, set[str]] = {}
    for commit in commits:
        for _, _, _, path in commit.files:
            found = record_of(path)
            if found is not None and LAYOUT[found[0]].code_prefix:
                touched.setdefault(found[0], set()).add(found[1])
    if not touched:
        return {}
    archive.index.refresh(list(touched))
    codes: dict[str, str] = {}
    for kind, ids in touched.items():
        known = [
            r[0] for r in archive.index.db.execute("SELECT id FROM records WHERE kind = ?", (kind,))
        ]
        every = assign_codes(LAYOUT[kind].code_prefix, {*known, *ids})
        codes.update({rid: every[rid] for rid in ids})
    return codes
