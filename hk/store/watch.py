"""A watcher per archive, so that a read need not stat every record file (``hk watch``).

The index must never serve stale data, so without help every read stats every record file:
110 000 calls at benchmark scale. git meets the same problem with a file-system monitor
(``core.fsmonitor``): a daemon watching the folders tells the reader what changed since the
token it was given last time. This is that daemon for hk, on Linux's inotify (through ctypes;
no dependency), and its client, which :meth:`hk.store.index.Index.refresh` asks first.

The watcher is optional and only ever a shortcut. A reader that finds no daemon, cannot reach
it within a few tens of milliseconds, or is told "everything" (an unknown token, a daemon just
started, a queue overflow, a watched folder removed or renamed) stats every file as before.

Exchange, one per connection, fields ended by NUL: the client sends ``F<folder>`` and
``K<token>`` per record folder, then ``Q``. The daemon first creates a cookie file and waits
for its event, so every change made before the request has been read (git's fsmonitor does the
same), then answers ``T<new token>`` and per folder ``U<folder>`` (not watched), ``A<folder>``
(everything) or ``W<folder>`` followed by ``P<path>`` for each path (relative to the folder)
changed since the token; ``E`` ends a complete answer. ``S`` asks for the daemon's state and
``X`` tells it to stop. The daemon never writes the archive: only its socket, pid file, log and
cookies under ``.git/hk/``.

The client half stays light to import (every read runs it): ``os``, and ``_socket`` only
when a daemon's socket exists.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
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


def state_dir(root: str) -> str:
    return os.path.join(root, ".git", "hk")


def pid_path(root: str, daemon: str = "watch") -> str:
    """The daemon's pid file, locked (``flock``) for as long as the daemon lives."""
    return os.path.join(state_dir(root), f"{daemon}.pid")


def log_path(root: str, daemon: str = "watch") -> str:
    return os.path.join(state_dir(root), f"{daemon}.log")


def socket_path(root: str, daemon: str = "watch") -> str | None:
    """``.git/hk/watch.sock``, or for a deep archive (a socket path holds at most 107 bytes)
    a short one in a private folder named by a hash of the archive's path; None if neither fits.
    """
    root = os.path.realpath(root)
    path = os.path.join(state_dir(root), f"{daemon}.sock")
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    import hashlib

    key = hashlib.blake2b(os.fsencode(root), digest_size=8).hexdigest()
    path = os.path.join(private_dir(), f"hk-{daemon}-{key}.sock")
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
    path = socket_path(root)
    if path is None or not os.path.exists(path):
        return None
    if os.path.basename(path) != "watch.sock" and not is_private(os.path.dirname(path)):
        return None  # a socket in a shared folder could be anyone's
    import _socket
    import time

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    chunks: list[bytes] = []
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(path)
        deadline = time.monotonic() + timeout
        sock.settimeout(timeout)
        sock.sendall(request)
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            chunks.append(data)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
    except OSError:  # refused (a stale socket), timed out, reset: no daemon to rely on
        return None
    finally:
        sock.close()
    raw = b"".join(chunks)
    return raw if raw.endswith(b"E\0") else None


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
    current = dict(zip(snap.names, snap.stats, strict=True))
    top = os.path.join(root, folder)
    differs = False
    for name in changed:
        if not is_record(name, suffix, partitioned):
            continue
        try:
            s = os.stat(os.path.join(top, name), follow_symlinks=False)
            st: Stat | None = (s.st_mtime_ns, s.st_ctime_ns, s.st_size, s.st_ino)
        except OSError:  # gone, or a partition folder that is not a folder
            st = None
        if current.get(name) != st:
            differs = True
            if st is None:
                del current[name]
            else:
                current[name] = st
    return list(current), list(current.values()), differs


def status(root: str, daemon: str = "watch") -> dict[str, str] | None:
    """The running daemon's pid, start time and socket (from its pid file), or None."""
    import fcntl

    try:
        fd = os.open(pid_path(root, daemon), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: a daemon lives
            lines = os.read(fd, 4096).decode("utf-8", "replace").splitlines()
            keys = ("pid", "since", "socket", "idle_hours")
            return dict(zip(keys, lines, strict=False))
        return None
    finally:
        os.close(fd)


def start(root: str, idle_hours: float = DEFAULT_IDLE_HOURS, wait: float = 10.0) -> dict[str, str]:
    """Start a detached daemon for the archive (if none runs) and wait until it answers."""
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
    os.makedirs(state_dir(root), exist_ok=True)
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
        if exchange(root, b"S\0") is not None:
            info = status(root)
            if info is not None:
                return info
        if proc.poll() is not None and status(root) is None:
            break
        time.sleep(0.02)
    raise HkError("the watcher did not start", hint=f"see {log_path(root)}")


def stop(root: str, wait: float = 5.0) -> bool:
    """Stop the archive's daemon; False if none was running."""
    import contextlib
    import signal
    import time

    from hk.errors import HkError

    info = status(root)
    if info is None:
        return False
    if exchange(root, b"X\0", timeout=1.0) is None and info.get("pid", "").isdigit():
        # it does not answer: end it by its recorded pid (the process holding the lock)
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(info["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + wait
    while status(root) is not None:
        if time.monotonic() > deadline:
            raise HkError(f"the watcher (pid {info.get('pid')}) did not stop")
        time.sleep(0.02)
    return True
