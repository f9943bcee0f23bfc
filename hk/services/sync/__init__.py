"""``hk sync``: several operators, one archive, through an ordinary git remote.

A sync fetches the remote, merges its branch record by record (:mod:`.merging`), and pushes; a
push refused because the remote moved meanwhile fetches and merges again. ``hk review
--accept`` merges without pushing; ``hk propose`` pushes to a branch of its own for the owner
to review, who accepts or rejects it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from hk.errors import ConflictError, HkError
from hk.services.review import Target, current_branch, default_remote, fetch, resolve_target
from hk.services.sync.merging import Outcome, Recoded, merge, rev
from hk.services.sync.worktree import refuse_uncommitted
from hk.store import git
from hk.store.archive import Archive

__all__ = [
    "Outcome",
    "Proposal",
    "PushRejected",
    "Recoded",
    "SyncReport",
    "accept",
    "merge",
    "operator_slug",
    "propose",
    "push",
    "reject",
    "sync",
]

MAX_TRIES = 5
"""Fetch-merge-push rounds before giving up when others keep pushing first."""


@dataclass
class SyncReport:
    outcome: Outcome
    pushed: int = 0
    """Commits the remote did not have and now has."""
    tries: int = 1


# --- sync, accept, propose, reject ----------------------------------------------------------


class PushRejected(HkError):
    """The remote moved while we merged."""


def push(archive: Archive, target: Target) -> int:
    """Push HEAD to ``target``'s branch; how many commits the remote did not have."""
    assert target.remote is not None
    head = rev(archive, "HEAD")
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
        return SyncReport(outcome, pushed, tries)


def accept(archive: Archive, name: str | None = None) -> Outcome:
    """``hk review --accept``: merge the branch reviewed (fetched again), without pushing;
    the index is up to date with the merge (:func:`merge`)."""
    return merge(archive, resolve_target(archive, name))


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
    head = rev(archive, "HEAD")
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
