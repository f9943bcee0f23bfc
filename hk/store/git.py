"""The git calls hk makes, in one place. Git is the history, the backup and the sync engine."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hk.errors import HkError

FALLBACK_EMAIL = "hk@localhost"


class GitError(HkError):
    """A git command failed; the message carries git's own words."""


def fallback_name() -> str:
    """The login name, when git has no ``user.name``."""
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "hk"


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
        run(root, ["config", "user.name", fallback_name()])
        run(root, ["config", "user.email", FALLBACK_EMAIL])


def ensure_commit_graph(root: Path) -> None:
    """Bring git's commit-graph, with changed-path Bloom filters, up to HEAD if it is behind.

    ``git log -- PATH`` (a record's history) otherwise opens every commit's trees to see
    whether the path changed: seconds on an archive of a hundred thousand orders. With the
    filters it skips the commits that did not touch the path; 1.4 s became 6 ms at benchmark
    scale. The graph only speeds git up (commits it lacks are read as before), so it is
    brought up to date when a history is asked for, incrementally (``--split``), and a
    failure (another process writing it) changes nothing.
    """
    git_dir = root / ".git"
    info = git_dir / "objects" / "info"
    graphs = [
        p
        for p in (info / "commit-graph", info / "commit-graphs" / "commit-graph-chain")
        if p.exists()
    ]
    written = max((p.stat().st_mtime_ns for p in graphs), default=-1)
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        ref = git_dir / head[5:] if head.startswith("ref: ") else git_dir / "HEAD"
        moved = max(p.stat().st_mtime_ns for p in (ref, git_dir / "packed-refs") if p.exists())
    except (OSError, ValueError):
        return
    if written >= moved:
        return
    run(root, ["commit-graph", "write", "--reachable", "--changed-paths", "--split"], check=False)


def is_ancestor(root: Path, commit: str, of: str) -> bool:
    """Whether ``commit`` is in the history of ``of`` (False for a commit git does not know)."""
    proc = subprocess.run(
        ["git", "-C", str(root), "merge-base", "--is-ancestor", commit, of],
        capture_output=True,
        env=_env(),
    )
    return proc.returncode == 0


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
    if len(change.paths) <= DIRECT_MAX:
        direct = commit_direct(root, change)
        if direct is not None:
            return direct
    if new_paths:
        if contents is not None and len(new_paths) > BULK:
            _stage_packed(root, new_paths, contents)
        else:
            _add(root, new_paths)
    if (
        len(change.paths) > BULK
        and set(new_paths) == set(change.paths)
        and not _staged_other(root, change.paths)
    ):
        # Only these paths are staged, so a plain commit commits exactly them; --only with
        # thousands of pathspecs costs seconds.
        run(root, ["commit", "-q", "--no-verify", "-m", change.message])
    else:
        run(
            root,
            [
                "commit",
                "-q",
                "--no-verify",
                "-m",
                change.message,
                "--only",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ],
            input="\0".join(change.paths),
        )
    return run(root, ["rev-parse", "HEAD"]).strip()


BULK = 100
"""Above this many new files, blobs go into one pack instead of one loose object each."""
DIRECT_MAX = 20
"""Up to this many paths, a commit is built from HEAD's trees (:func:`commit_direct`)."""


def commit_direct(root: Path, change: Change) -> str | None:
    """Commit ``change.paths`` by building the new trees from HEAD's; None if it cannot.

    ``git commit --only`` builds a temporary index from HEAD, the size of the whole archive
    (a hundred thousand orders), to commit one file. Only the trees on the changed paths
    differ, so they are read (one ``cat-file`` process), changed and written here as loose
    objects, then ``commit-tree`` and ``update-ref`` (which checks that HEAD did not move)
    finish the commit. Staging the paths first keeps the index in step, and a process killed
    half-way leaves at worst those paths staged, as a killed ``git commit`` would. Anything
    unusual (no commit yet, a ``.git`` file, a SHA-256 repository) returns None: the caller
    falls back to ``git commit --only``.
    """
    git_dir = root / ".git"
    if not (git_dir / "objects").is_dir() or _object_format(git_dir) != "sha1":
        return None
    dirs = sorted(
        {"/".join(p.split("/")[:n]) for p in change.paths for n in range(p.count("/") + 1)},
        key=lambda d: (d.count("/"), d),
    )
    # Staging rewrites the whole index file (megabytes for a large archive): it runs while
    # the trees are read and built, and HEAD moves only once it has succeeded.
    staging = subprocess.Popen(
        ["git", "-C", str(root), "update-index", "--add", "--remove", "-z", "--stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    idents = subprocess.Popen(
        ["git", "-C", str(root), "var", "-l"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        assert staging.stdin is not None
        staging.stdin.write(("\0".join(change.paths) + "\0").encode())
        staging.stdin.close()
        commit = _commit_trees(root, git_dir, change, dirs, idents)
    finally:
        if idents.returncode is None:  # not asked for: the commit went another way
            idents.kill()
            idents.communicate()
        err = staging.stderr.read().decode(errors="replace") if staging.stderr else ""
        if staging.wait() != 0:
            raise GitError(f"git update-index failed: {err.strip()}")
    if commit is None:
        return None
    subject = change.message.splitlines()[0] if change.message else ""
    run(root, ["update-ref", "-m", f"commit: {subject}", "HEAD", commit[0], commit[1]])
    return commit[0]


def _commit_trees(
    root: Path, git_dir: Path, change: Change, dirs: list[str], idents: subprocess.Popen[bytes]
) -> tuple[str, str] | None:
    """The new commit (not yet on any branch) and its parent, or None to fall back."""
    answers = _cat_batch(root, ["HEAD", *(f"HEAD:{d}" if d else "HEAD^{tree}" for d in dirs)])
    head = answers[0]
    if head is None or head[0] != "commit":
        return None
    trees: dict[str, _Tree] = {}
    for folder, answer in zip(dirs, answers[1:], strict=True):
        if answer is not None and answer[0] != "tree":
            return None  # a file where a folder should be: let git explain
        trees[folder] = _Tree(answer[2] if answer is not None else b"")
    present = [p for p in change.paths if (root / p).is_file()]
    for path in change.paths:
        folder, _, name = path.rpartition("/")
        if path in present:
            sha = _write_object(git_dir, b"blob", (root / path).read_bytes())
            trees[folder].put(name.encode(), b"100644", sha)
        else:
            trees[folder].remove(name.encode())
    for folder in sorted(dirs, key=lambda d: -d.count("/") if d else 1):
        if not folder:
            continue
        parent, _, name = folder.rpartition("/")
        if trees[folder].empty():
            trees[parent].remove(name.encode())
        else:
            trees[parent].put(name.encode(), b"40000", trees[folder].write(git_dir))
    tree = trees[""].write(git_dir).hex()
    parent_commit = head[1]
    message = change.message if change.message.endswith("\n") else change.message + "\n"
    found = _idents(idents)
    if found is None:
        commit = run(
            root, ["commit-tree", tree, "-p", parent_commit, "-F", "-"], input=message
        ).strip()
    else:
        author, committer = found
        body = (
            f"tree {tree}\nparent {parent_commit}\nauthor {author}\n"
            f"committer {committer}\n\n{message}"
        )
        commit = _write_object(git_dir, b"commit", body.encode("utf-8")).hex()
    return commit, parent_commit


def _idents(idents: subprocess.Popen[bytes]) -> tuple[str, str] | None:
    """Author and committer as ``git var`` resolved them (name, email, time, zone), or None.

    Writing the commit object here, as ``git commit-tree`` would without ``-S``, spares a
    process after the trees are built; a repository that asks for another message encoding,
    or an identity git cannot tell, goes through ``commit-tree`` instead.
    """
    out, _ = idents.communicate()
    if idents.returncode != 0:
        return None
    found = dict(
        line.split("=", 1) for line in out.decode("utf-8", "replace").splitlines() if "=" in line
    )
    encoding = found.get("i18n.commitencoding", "utf-8").lower().replace("-", "")
    author, committer = found.get("GIT_AUTHOR_IDENT"), found.get("GIT_COMMITTER_IDENT")
    if encoding != "utf8" or not author or not committer:
        return None
    return author, committer


def _object_format(git_dir: Path) -> str:
    """``sha1`` unless the repository's config names another object format."""
    try:
        config = (git_dir / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    return "sha256" if "objectformat" in config.lower().replace(" ", "") else "sha1"


def blob_ids(root: Path, contents: Sequence[bytes]) -> list[str]:
    """The ids git gives ``contents`` stored as blobs (hex), computed here, not by a process."""
    import hashlib

    sha256 = _object_format(root / ".git") == "sha256"
    out = []
    for data in contents:
        header = b"blob %d\0" % len(data)
        digest = hashlib.sha256(header) if sha256 else hashlib.sha1(header)  # git's ids
        digest.update(data)
        out.append(digest.hexdigest())
    return out


def _cat_batch(root: Path, names: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
    """``git cat-file --batch`` for ``names``: (type, id, content), or None where missing."""
    proc = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input="".join(f"{n}\n" for n in names).encode(),
        capture_output=True,
        env=_env(),
    )
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    out, pos = proc.stdout, 0
    answers: list[tuple[str, str, bytes] | None] = []
    for _ in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3:  # "<name> missing" (or ambiguous)
            answers.append(None)
            continue
        size = int(header[2])
        answers.append((header[1].decode(), header[0].decode(), out[pos : pos + size]))
        pos += size + 1
    return answers


class _Tree:
    """A tree object being changed: its raw bytes, parsed only when an entry comes or goes.

    Changing a file of a folder of 10 000 records replaces 20 bytes of the folder's tree;
    splicing them in place spares parsing and re-joining ten thousand entries.
    """

    def __init__(self, raw: bytes) -> None:
        self.raw: bytes | None = raw
        self.entries: dict[bytes, tuple[bytes, bytes]] | None = None

    def _parsed(self) -> dict[bytes, tuple[bytes, bytes]]:
        if self.entries is None:
            self.entries = _parse_tree(self.raw or b"")
            self.raw = None
        return self.entries

    def put(self, name: bytes, mode: bytes, sha: bytes) -> None:
        """Set ``name`` to the object ``sha``; a file keeps its mode (an executable bit)."""
        if self.raw is not None:
            # "<mode> <name>\0<20-byte id>": a name is unique in its tree, and ends in NUL
            at = self.raw.find(b" " + name + b"\0")
            if at > 0 and any(self.raw[at - len(m) : at] == m for m in (mode, b"100755")):
                end = at + len(name) + 2
                self.raw = self.raw[:end] + sha + self.raw[end + 20 :]
                return
        entries = self._parsed()
        kept = entries.get(name, (mode, b""))[0] if mode != b"40000" else mode
        entries[name] = (kept, sha)

    def remove(self, name: bytes) -> None:
        self._parsed().pop(name, None)

    def empty(self) -> bool:
        return not self.raw if self.entries is None else not self.entries

    def write(self, git_dir: Path) -> bytes:
        if self.entries is None:
            return _write_object(git_dir, b"tree", self.raw or b"")
        return _write_tree(git_dir, self.entries)


def _parse_tree(data: bytes) -> dict[bytes, tuple[bytes, bytes]]:
    """A raw tree object → {name: (mode, 20-byte id)}."""
    entries: dict[bytes, tuple[bytes, bytes]] = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        entries[data[space + 1 : nul]] = (data[pos:space], data[nul + 1 : nul + 21])
        pos = nul + 21
    return entries


def _write_tree(git_dir: Path, entries: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """Write a tree object in git's order (a folder sorts as if its name ended in ``/``)."""

    def key(name: bytes) -> bytes:
        return name + b"/" if entries[name][0] == b"40000" else name

    body = b"".join(
        entries[n][0] + b" " + n + b"\0" + entries[n][1] for n in sorted(entries, key=key)
    )
    return _write_object(git_dir, b"tree", body)


def _write_object(git_dir: Path, kind: bytes, body: bytes) -> bytes:
    """Store a loose object (atomically: a temporary file renamed into place); its 20-byte id."""
    import hashlib
    import zlib

    data = kind + b" %d\0" % len(body) + body
    sha = hashlib.sha1(data).digest()  # git's object id, not a security hash
    name = sha.hex()
    folder = git_dir / "objects" / name[:2]
    target = folder / name[2:]
    if target.exists():
        return sha
    folder.mkdir(exist_ok=True)
    tmp = folder / f"tmp_obj_{os.getpid()}_{name[2:8]}"
    with open(tmp, "wb") as f:
        f.write(zlib.compress(data, 1))
    os.replace(tmp, target)
    return sha


def _staged_other(root: Path, paths: Sequence[str]) -> bool:
    """True if something other than ``paths`` is staged (the user's own work in progress)."""
    out = run(root, ["diff", "--cached", "--name-only", "-z"])
    ours = set(paths)
    return any(p not in ours for p in out.split("\0") if p)


def _add(root: Path, paths: Sequence[str]) -> None:
    """Stage new files: ``update-index --add`` (``git add`` matches pathspecs quadratically)."""
    run(root, ["update-index", "--add", "-z", "--stdin"], input="\0".join(paths) + "\0")


def write_blobs(root: Path, contents: Sequence[bytes]) -> list[str]:
    """Store ``contents`` as blobs in one pack written by ``git fast-import``; their ids.

    Ten thousand loose objects cost seconds of file creation (and start git's background
    gc); one pack costs a fraction of a second.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hk-pack-") as tmp:
        marks = Path(tmp) / "marks"
        proc = subprocess.Popen(
            ["git", "-C", str(root), "fast-import", "--quiet", f"--export-marks={marks}"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        assert proc.stdin is not None
        for number, data in enumerate(contents, 1):
            proc.stdin.write(b"blob\nmark :%d\ndata %d\n%s\n" % (number, len(data), data))
        proc.stdin.close()
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.wait() != 0:
            raise GitError(f"git fast-import failed: {err.strip()}")
        blobs = dict(line.split() for line in marks.read_text().splitlines())
    return [blobs[f":{n}"] for n in range(1, len(contents) + 1)]


def _stage_packed(root: Path, paths: Sequence[str], contents: Sequence[bytes]) -> None:
    """Stage many new files with their blobs written as one pack (:func:`write_blobs`).

    The index entries then get their stat data from ``update-index --refresh``, so
    ``git status`` does not hash the files again.
    """
    blobs = write_blobs(root, contents)
    info = "".join(f"100644 {sha}\t{path}\n" for sha, path in zip(blobs, paths, strict=True))
    run(root, ["update-index", "--add", "--index-info"], input=info)
    run(root, ["update-index", "-q", "--refresh"], check=False)


# --- the merge driver --------------------------------------------------------------------------

ATTRIBUTES_HEAD = "# Record files merge field by field (hk merge-driver); see `hk conflicts`."


def merge_attributes() -> str:
    """The ``.gitattributes`` lines that send every record file and attic file to hk's driver,
    and the files that hold sealed values (people's) to its diff view (``hk textconv``)."""
    from hk.domain.conflicts import FOLDER
    from hk.domain.layout import LAYOUT

    folders = sorted({layout.folder for layout in LAYOUT.values()} | {FOLDER})
    sealed = {LAYOUT["customer"].folder, LAYOUT["worker"].folder}
    lines = [f"{f}/** merge=hk" + (" diff=hk" if f in sealed else "") for f in folders]
    return "\n".join([ATTRIBUTES_HEAD, *lines]) + "\n"


def driver_command() -> str:
    """The command git runs to merge a record file: this hk, through this Python."""
    import shlex
    import sys

    return f"{shlex.quote(sys.executable)} -m hk merge-driver %O %A %B %P"


def textconv_command() -> str:
    """The command git runs to show a people file in a diff (sealed values, masked)."""
    import shlex
    import sys

    return f"{shlex.quote(sys.executable)} -m hk textconv"


def ensure_merge_driver(root: Path) -> None:
    """Make ``git merge`` and ``git pull`` in this clone merge records with hk.

    git's configuration is not cloned, so every clone needs ``merge.hk.driver`` in its own
    ``.git/config``; the attributes go into ``.git/info/attributes`` too, so that an archive
    made before ``.gitattributes`` existed is covered without a commit. Costs two small file
    reads when all is in place (every command that opens an archive calls it); a failure
    (another process writing git's config this very moment) is left for the next call.
    """
    git_dir = root / ".git"
    try:
        config = (git_dir / "config").read_text(encoding="utf-8")
    except OSError:
        return
    command = driver_command()
    if f"driver = {command}\n" not in config:
        run(root, ["config", "merge.hk.name", "hk record files, field by field"], check=False)
        run(root, ["config", "merge.hk.driver", command], check=False)
    textconv = textconv_command()
    if f"textconv = {textconv}\n" not in config:
        run(root, ["config", "diff.hk.textconv", textconv], check=False)
    info = git_dir / "info" / "attributes"
    wanted = merge_attributes()
    try:
        current = info.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    except OSError:
        return
    if wanted in current:
        return
    kept = current.split(ATTRIBUTES_HEAD)[0].rstrip("\n")
    try:
        info.parent.mkdir(parents=True, exist_ok=True)
        info.write_text((kept + "\n" if kept else "") + wanted, encoding="utf-8")
    except OSError:
        return


def purge_paths(root: Path, paths: Sequence[str]) -> list[tuple[str, str]]:
    """Remove ``paths`` from every commit of every branch (git-filter-repo), old objects
    pruned at once; returns the remotes as they were (filter-repo drops ``origin`` so that the
    rewritten history is not pushed by accident; the caller puts them back and says how to
    force-push). The files leave the working tree too: the caller writes back what stays.
    """
    import shutil
    import sys
    import tempfile

    tool = Path(sys.executable).with_name("git-filter-repo")
    command = str(tool) if tool.exists() else shutil.which("git-filter-repo")
    if command is None:
        raise GitError(
            "git-filter-repo is not installed",
            hint="install hk's dependencies again (`pip install -e .`), or install git-filter-repo",
        )
    remotes = [
        (name, run(root, ["remote", "get-url", name]).strip())
        for name in run(root, ["remote"]).split()
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("".join(f"literal:{p}\n" for p in paths))
        listing = f.name
    try:
        proc = subprocess.run(
            [command, "--force", "--quiet", "--invert-paths", "--paths-from-file", listing],
            cwd=root,
            capture_output=True,
            text=True,
            env=_env(),
        )
    finally:
        Path(listing).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise GitError(f"git-filter-repo failed: {proc.stderr.strip() or proc.stdout.strip()}")
    present = set(run(root, ["remote"]).split())
    for name, url in remotes:
        if name not in present:
            run(root, ["remote", "add", name, url])
    return remotes
