"""A watcher per archive, so that a read need not stat every record file (``hk watch``).

The index must never serve stale data, so without help every read stats every record file:
110 000 calls at benchmark scale. git meets the same problem with a file-system monitor
(``core.fsmonitor``): a daemon watching the folders tells the reader what changed since the
token it was given last time. This module is the client of hk's daemon
(:mod:`hk.store.watch_daemon`, built on ``watchfiles``), which
:meth:`hk.store.index.Index.refresh` and the TUI's poller ask first, and the commands that
start, stop and ask about it.

The watcher is optional and only ever a shortcut. A reader that finds no daemon, cannot reach
it within a few tens of milliseconds, or is told "everything" (an unknown token, a daemon just
started, a flood of changes, a watcher error, a record folder removed or renamed) stats every
file as before.

Trust: the daemon runs as the user, in a folder only the user can enter (``.git/hk/watch/``,
mode 0700). A client talks to a socket only if that folder and the socket are the user's and
the process listening on it runs as the user (``SO_PEERCRED``); otherwise another user could
answer "nothing changed" and make reads stale. Nothing here ever signals a process named by a
file: ``hk watch stop`` asks the daemon over its socket, and only a daemon that accepted the
connection but does not answer is ended, by the pid the kernel gives for the socket's peer.

Exchange, one per connection, fields ended by NUL: the client sends ``F<folder>`` and
``K<token>`` per record folder, then ``Q``. The daemon first creates a cookie file and waits
for its event, so every change made before the request has been seen (git's fsmonitor does the
same), then answers ``T<new token>`` and per folder ``U<folder>`` (not watched), ``A<folder>``
(everything) or ``W<folder>`` followed by ``P<path>`` for each record path (relative to the
folder) changed since the token; ``E`` ends a complete answer. ``S`` asks for the daemon's state
(``D<key> <value>`` fields) and ``X`` tells it to stop. The daemon never writes the archive:
only its socket, lock, log and cookies under ``.git/hk/watch/``.

The client half stays light to import (every read runs it): ``os``, and ``_socket`` only
when a daemon's socket exists.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
    from collections.abc import Iterable

    from hk.store.snapshot import Snapshot, Stat

CONNECT_TIMEOUT = 0.05
"""Seconds to reach the daemon: a stopped or hung one must never hold up a read."""
ANSWER_TIMEOUT = 0.5
"""Seconds for the whole answer; a daemon still digesting a flood of events is skipped."""
MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the final NUL
DEFAULT_IDLE_HOURS = 24.0
RESTAMP_AFTER = 64
"""Paths a watcher may keep naming though they match the snapshot (files hk wrote and noted
itself) before the snapshot takes the watcher's newer token, which costs a rewrite of it."""
_S_IFMT, _S_IFSOCK = 0o170000, 0o140000


def state_dir(root: str) -> str:
    """The daemon's private folder: lock, socket, log and cookies, mode 0700."""
    return os.path.join(root, ".git", "hk", "watch")


def lock_path(root: str) -> str:
    """Locked (``flock``) by the daemon for as long as it lives: one daemon per archive.

    It holds the daemon's pid for people reading it; hk never acts on that number.
    """
    return os.path.join(state_dir(root), "lock")


def log_path(root: str) -> str:
    return os.path.join(state_dir(root), "log")


def cookie_dir(root: str) -> str:
    return os.path.join(state_dir(root), "cookies")


def socket_path(root: str) -> str | None:
    """``.git/hk/watch/sock``, or for a deep archive (a socket path holds at most 107 bytes)
    a short one in a private folder named by a hash of the archive's path; None if neither fits.
    """
    root = os.path.realpath(root)
    path = os.path.join(state_dir(root), "sock")
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    import hashlib

    key = hashlib.blake2b(os.fsencode(root), digest_size=8).hexdigest()
    path = os.path.join(private_dir(), f"hk-watch-{key}.sock")
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def private_dir() -> str:
    """``$XDG_RUNTIME_DIR``, else ``hk-<uid>`` in the temp folder (made private by the daemon)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return runtime
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", f"hk-{os.getuid()}")


def is_private(folder: str) -> bool:
    """Owned by this user and closed to others: no one else can stand in for the daemon."""
    try:
        st = os.stat(folder)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def make_private(folder: str) -> None:
    """Create ``folder`` (mode 0700) if missing, or close one of ours to others.

    Raises PermissionError for a folder someone else owns: it is never used.
    """
    import contextlib

    os.makedirs(os.path.dirname(folder), exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    st = os.lstat(folder)
    if st.st_uid != os.getuid() or (st.st_mode & _S_IFMT) != 0o040000:
        raise PermissionError(f"{folder} is not a folder of this user")
    if st.st_mode & 0o077:
        os.chmod(folder, 0o700)


# --- the client -----------------------------------------------------------------------------


class Answer:
    """What the daemon saw: a new token, and per folder the changed paths or None (everything).

    Folders it does not watch are absent from ``changed``.
    """

    __slots__ = ("changed", "token")

    def __init__(self, token: str, changed: dict[str, list[str] | None]) -> None:
        self.token = token
        self.changed = changed

    def watches(self, folder: str) -> bool:
        return folder in self.changed

    def changes(self, folder: str) -> list[str] | None:
        """Paths under ``folder`` (relative to it) changed since its token; None: everything."""
        return self.changed.get(folder)


def ask(root: str, tokens: dict[str, str | None]) -> Answer | None:
    """Ask the archive's daemon what changed in these folders since their tokens.

    None when no daemon answers in time (or ``HK_NO_WATCH`` is set): the caller stats every
    file, as it would without a watcher.
    """
    if os.environ.get("HK_NO_WATCH"):
        return None
    fields = [f"F{folder}\0K{token or ''}\0" for folder, token in tokens.items()]
    raw = exchange(root, ("".join(fields) + "Q\0").encode("utf-8", "surrogateescape"))
    if raw is None:
        return None
    token = ""
    changed: dict[str, list[str] | None] = {}
    current: list[str] = []
    for field in raw.decode("utf-8", "surrogateescape").split("\0")[:-2]:
        kind, value = field[:1], field[1:]
        if kind == "P":
            current.append(value)
        elif kind == "W":
            current = changed[value] = []
        elif kind == "A":
            changed[value] = None
        elif kind == "T":
            token = value
    return Answer(token, changed) if token else None


def exchange(root: str, request: bytes, timeout: float = ANSWER_TIMEOUT) -> bytes | None:
    """Send one request and read the whole answer; None on any failure or an incomplete one."""
    talked = talk(root, request, timeout)
    return None if talked is None else talked[1]


def talk(
    root: str, request: bytes, timeout: float = ANSWER_TIMEOUT
) -> tuple[int, bytes | None] | None:
    """Send one request to the archive's daemon: (its pid, the whole answer or None).

    None when there is no daemon this user can trust: no socket, a socket or folder of another
    user or open to others, a refused connection, or a listener of another user. The pid is
    the kernel's (``SO_PEERCRED``) for the process listening on the socket, never a file's.
    """
    path = socket_path(root)
    if path is None or not is_private(os.path.dirname(path)):
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    uid = os.getuid()
    if st.st_uid != uid or (st.st_mode & _S_IFMT) != _S_IFSOCK:
        return None
    import _socket
    import sys
    import time

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    chunks: list[bytes] = []
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(path)
        cred = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # pid, uid, gid
        pid = int.from_bytes(cred[0:4], sys.byteorder, signed=True)
        if int.from_bytes(cred[4:8], sys.byteorder) != uid:
            return None  # someone else's process listens there
    except OSError:  # refused (a stale socket), timed out: no daemon to rely on
        sock.close()
        return None
    try:
        deadline = time.monotonic() + timeout
        sock.settimeout(timeout)
        sock.sendall(request)
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            chunks.append(data)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
    except OSError:  # timed out, reset: the daemon is there but gives no answer
        return pid, None
    finally:
        sock.close()
    raw = b"".join(chunks)
    return pid, (raw if raw.endswith(b"E\0") else None)


def is_record(name: str, suffix: str, partitioned: bool) -> bool:
    """Whether a path relative to a kind's folder is one :func:`hk.store.snapshot.scan` lists."""
    parts = name.split("/")
    if partitioned:
        if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
            return False
    elif len(parts) != 1:
        return False
    return parts[-1].endswith(suffix) and parts[-1][:1] not in (".", "")


def restat(
    root: str, folder: str, suffix: str, partitioned: bool, snap: Snapshot, changed: list[str]
) -> tuple[list[str], list[Stat], bool]:
    """The folder's listing: the snapshot's, with the changed paths stat'ed again.

    Also says whether anything differs from the snapshot. A path that no longer exists leaves
    the listing, a new one joins it, exactly as a full scan would have found them.
    """
    from hk.store.snapshot import entry

    current = dict(zip(snap.names, snap.stats, strict=True))
    top = os.path.join(root, folder)
    differs = False
    for name in changed:
        if not is_record(name, suffix, partitioned):
            continue
        try:
            st: Stat | None = entry(os.stat(os.path.join(top, name), follow_symlinks=False))
        except OSError:  # gone, or a partition folder that is not a folder
            st = None
        if current.get(name) != st:
            differs = True
            if st is None:
                del current[name]
            else:
                current[name] = st
    return list(current), list(current.values()), differs


class Tracker:
    """Whether any record file changed since the last call, by the daemon's tokens.

    The TUI's poller asks this first: with a daemon it learns of every change, an edit in place
    included, without a stat of each file; without one it falls back to its own checks.
    """

    def __init__(self, root: str, folders: Iterable[str]) -> None:
        self.root = root
        self.tokens: dict[str, str | None] = dict.fromkeys(folders)

    def changed(self) -> bool | None:
        """True if something changed in a folder since the last call (or the daemon cannot
        tell), False if nothing did, None when no daemon answers."""
        answer = ask(self.root, self.tokens)
        if answer is None:
            self.tokens = dict.fromkeys(self.tokens)  # a daemon found later starts afresh
            return None
        moved = any(answer.changes(folder) != [] for folder in self.tokens)
        self.tokens = dict.fromkeys(self.tokens, answer.token)
        return moved


# --- the daemon's life, for ``hk watch`` ----------------------------------------------------


def status(root: str) -> dict[str, str] | None:
    """The running daemon's own account (pid, since, socket, idle_hours…), or None if no daemon
    this user can trust answers."""
    talked = talk(root, b"S\0")
    if talked is None:
        return None
    pid, raw = talked
    if raw is None:
        return None
    info: dict[str, str] = {}
    for field in raw.decode("utf-8", "replace").split("\0"):
        if field[:1] == "D":
            key, _, value = field[1:].partition(" ")
            info[key] = value
    info["pid"] = str(pid)  # the kernel's word, whatever the daemon says
    return info


def locked(root: str) -> bool:
    """Whether some process holds the daemon's lock (a daemon, perhaps one not answering)."""
    import fcntl

    try:
        fd = os.open(lock_path(root), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def start(root: str, idle_hours: float = DEFAULT_IDLE_HOURS, wait: float = 10.0) -> dict[str, str]:
    """Start a detached daemon for the archive (if none answers) and wait until it answers."""
    import subprocess
    import sys
    import time

    from hk.errors import HkError

    if not sys.platform.startswith("linux"):
        raise HkError(
            "hk watch needs Linux (inotify)",
            hint="reads stay correct without it: they check every file's stat data",
        )
    running = status(root)
    if running is not None:
        return running
    try:
        make_private(state_dir(root))
    except PermissionError as exc:
        raise HkError(str(exc), hint="remove that folder; hk makes it again, private") from exc
    with open(log_path(root), "ab") as log:
        if log.tell() > 1 << 20:  # keep the log small: each start begins a fresh one past 1 MB
            log.truncate(0)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hk.store.watch_daemon",
                os.path.realpath(root),
                str(idle_hours),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd="/",
            start_new_session=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        info = status(root)
        if info is not None:
            return info
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise HkError("the watcher did not start", hint=f"see {log_path(root)}")


def stop(root: str, wait: float = 5.0) -> bool:
    """Stop the archive's daemon by asking it over its socket; False if none answered.

    A daemon that accepts the connection but does not answer is ended with SIGTERM, by the pid
    the kernel names as the socket's peer and only if that process is hk's watcher.
    """
    import contextlib
    import signal
    import time

    from hk.errors import HkError

    talked = talk(root, b"X\0", timeout=1.0)
    if talked is None:
        return False
    pid, answer = talked
    if answer is None and is_watcher(pid, root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once resumed
    deadline = time.monotonic() + wait
    while locked(root) or talk(root, b"S\0", timeout=0.1) is not None:
        if time.monotonic() > deadline:
            raise HkError(f"the watcher (pid {pid}) did not stop")
        time.sleep(0.02)
    return True


def is_watcher(pid: int, root: str) -> bool:
    """Whether process ``pid`` is this user's hk watcher of this archive (by its command line)."""
    try:
        if os.stat(f"/proc/{pid}").st_uid != os.getuid():
            return False
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            args = handle.read().split(b"\0")
    except OSError:
        return False
    want = [b"-m", b"hk.store.watch_daemon", os.fsencode(os.path.realpath(root))]
    return any(args[i : i + 3] == want for i in range(len(args)))
