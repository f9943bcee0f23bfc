"""The working tree must be hk's before a merge: hk commits every write of its own, so what
git does not have is a hand edit (or an interrupted one), and a merge never runs over it."""

from __future__ import annotations

from hk.domain.conflicts import FOLDER as ATTIC
from hk.domain.layout import LAYOUT
from hk.errors import ConflictError, HkError
from hk.store import git
from hk.store.archive import Archive

SHOWN_DIRTY = 10
"""Uncommitted files named in the refusal; the rest are counted."""


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
