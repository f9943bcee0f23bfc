"""The git calls hk makes, in one place. Git is the history, the backup and the sync engine."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hk.errors import HkError

FALLBACK_NAME = "hk"
FALLBACK_EMAIL = "hk@localhost"


class GitError(HkError):
    """A git command failed; the message carries git's own words."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C.UTF-8")
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run(root: Path, args: Sequence[str], check: bool = True, input: str | None = None) -> str:
    """Run ``git -C root args``; return stdout; raise :class:`GitError` on failure."""
    proc = subprocess.run(
        ["git", "-C", str(root), "-c", "core.quotepath=false", *args],
        capture_output=True,
        text=True,
        env=_env(),
        input=input,
    )
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def init(root: Path) -> None:
    """Create a repository tuned for many small files (index v4, untracked cache)."""
    run(root, ["init", "-q", "-b", "main"])
    for key, value in (
        ("index.version", "4"),
        ("core.untrackedCache", "true"),
        ("core.preloadIndex", "true"),
        ("core.precomposeUnicode", "true"),
        ("diff.renames", "false"),
    ):
        run(root, ["config", key, value])
    if not run(root, ["config", "user.email"], check=False).strip():
        # A machine without a git identity still gets working commits; the operator's name
        # goes into every commit's trailer anyway.
        run(root, ["config", "user.name", FALLBACK_NAME])
        run(root, ["config", "user.email", FALLBACK_EMAIL])


def user_name(root: Path) -> str:
    return run(root, ["config", "user.name"], check=False).strip()


@dataclass(frozen=True)
class Change:
    """What one commit does to the tree: files to stage (written or deleted) and the message."""

    paths: tuple[str, ...]
    message: str


def commit(root: Path, change: Change, new_paths: Sequence[str] = ()) -> str:
    """Commit exactly ``change.paths`` (nothing else the user may have staged); return the id.

    Files that git does not track yet are added first; for tracked ones a single
    ``git commit --only`` stages and commits in one process. Paths go through stdin, so a
    bulk change of 10 000 files does not overflow the command line.
    """
    if new_paths:
        _add(root, new_paths)
    run(
        root,
        ["commit", "-q", "--no-verify", "-m", change.message, "--only",
         "--pathspec-from-file=-", "--pathspec-file-nul"],
        input="\0".join(change.paths),
    )
    return run(root, ["rev-parse", "HEAD"]).strip()


def _add(root: Path, paths: Sequence[str]) -> None:
    """``git add`` with the paths on stdin."""
    run(root, ["add", "--pathspec-from-file=-", "--pathspec-file-nul"], input="\0".join(paths))


def head(root: Path) -> str | None:
    out = run(root, ["rev-parse", "-q", "--verify", "HEAD"], check=False).strip()
    return out or None
