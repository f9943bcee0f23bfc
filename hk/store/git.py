"""The git calls hk makes, in one place. Git is the history, the backup and the sync engine."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hk.errors import HkError

FALLBACK_NAME = os.environ.get("USER") or os.environ.get("LOGNAME") or "hk"
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


def commit(
    root: Path,
    change: Change,
    new_paths: Sequence[str] = (),
    contents: Sequence[bytes] | None = None,
) -> str:
    """Commit exactly ``change.paths`` (nothing else the user may have staged); return the id.

    Files that git does not track yet are staged first (``contents``, when given, are their
    bytes, saving git a read). For tracked files a single ``git commit --only`` stages and
    commits in one process. Paths go through stdin, so 10 000 of them fit.
    """
    if new_paths:
        if contents is not None and len(new_paths) > BULK:
            _stage_packed(root, new_paths, contents)
        else:
            _add(root, new_paths)
    if len(change.paths) > BULK and set(new_paths) == set(change.paths) and not _staged_other(
        root, change.paths
    ):
        # Only these paths are staged, so a plain commit commits exactly them; --only with
        # thousands of pathspecs costs seconds.
        run(root, ["commit", "-q", "--no-verify", "-m", change.message])
    else:
        run(
            root,
            ["commit", "-q", "--no-verify", "-m", change.message, "--only",
             "--pathspec-from-file=-", "--pathspec-file-nul"],
            input="\0".join(change.paths),
        )
    return run(root, ["rev-parse", "HEAD"]).strip()


BULK = 100
"""Above this many new files, blobs go into one pack instead of one loose object each."""


def _staged_other(root: Path, paths: Sequence[str]) -> bool:
    """True if something other than ``paths`` is staged (the user's own work in progress)."""
    out = run(root, ["diff", "--cached", "--name-only", "-z"])
    ours = set(paths)
    return any(p not in ours for p in out.split("\0") if p)


def _add(root: Path, paths: Sequence[str]) -> None:
    """Stage new files: ``update-index --add`` (``git add`` matches pathspecs quadratically)."""
    run(root, ["update-index", "--add", "-z", "--stdin"], input="\0".join(paths) + "\0")


def _stage_packed(root: Path, paths: Sequence[str], contents: Sequence[bytes]) -> None:
    """Stage many new files with their blobs written as one pack by ``git fast-import``.

    Ten thousand loose objects cost seconds of file creation (and start git's background
    gc); one pack costs a fraction of a second. The index entries then get their stat data
    from ``update-index --refresh``, so ``git status`` does not hash the files again.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hk-pack-") as tmp:
        marks = Path(tmp) / "marks"
        proc = subprocess.Popen(
            ["git", "-C", str(root), "fast-import", "--quiet", f"--export-marks={marks}"],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
        )
        assert proc.stdin is not None
        for number, data in enumerate(contents, 1):
            proc.stdin.write(b"blob\nmark :%d\ndata %d\n%s\n" % (number, len(data), data))
        proc.stdin.close()
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.wait() != 0:
            raise GitError(f"git fast-import failed: {err.strip()}")
        blobs = dict(line.split() for line in marks.read_text().splitlines())
    info = "".join(
        f"100644 {blobs[f':{n}']}\t{path}\n" for n, path in enumerate(paths, 1)
    )
    run(root, ["update-index", "--add", "--index-info"], input=info)
    run(root, ["update-index", "-q", "--refresh"], check=False)
