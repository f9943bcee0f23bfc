"""The watcher daemon of :mod:`hk.store.watch`: ``watchfiles`` on the archive, a unix socket.

``python -m hk.store.watch_daemon ROOT [IDLE_HOURS]``, started detached by ``hk watch start``.

One thread follows ``watchfiles.watch`` (Rust ``notify``, inotify on Linux) over the whole
archive folder: record folders come and go with checkouts, and the cookie folder in ``.git``
must be watched by the same watcher for its events to arrive in order with the others. The
main thread serves the socket, one request at a time: the answers are tiny.

Every change to a record path bumps a sequence number and files the path under its kind's
folder, newest last, so an answer walks back only over what changed since the asker's token.
A kind is reset (older tokens get "everything") when its folder, a folder above it or one of
its partition folders appears, goes or is renamed: files may be in it that no event named.
Every kind is reset when watchfiles reports an error (it drops the changes it held) or when one
batch holds a flood of paths. The flood rule is there because watchfiles (1.x) discards the
path-less "rescan" event by which notify reports that the kernel's event queue overflowed and
events were lost: a batch of more paths than a quarter of that queue (``max_queued_events``)
is taken as one in which events may have been dropped. Tokens name the daemon instance (start
time and pid) and the watcher's generation is checked by a cookie, so a token from an earlier
daemon or from before a restart of the watcher is never taken for a current one.

Kept light: the standard library, watchfiles and the record layout; no Typer, no Pydantic.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Collection

import watchfiles

from hk.domain.layout import LAYOUT
from hk.store.watch import (
    cookie_dir,
    is_private,
    is_record,
    lock_path,
    make_private,
    socket_path,
    state_dir,
)

STEP_MS = 5
"""How often watchfiles looks for new changes: a reader waits one to two steps for its cookie."""
DEBOUNCE_MS = 50
"""The longest watchfiles groups a stream of changes before handing them over."""
MAX_CHANGES = 500_000
"""Paths remembered in all; past that the daemon forgets them all and older tokens get
"everything" (memory stays bounded however long it runs)."""
HOUSEKEEPING = 30.0
COOKIE_WAIT = 1.0
START_WAIT = 10.0
ERRORS_BEFORE_GIVING_UP = 3
"""Watcher errors within :data:`ERROR_WINDOW` seconds after which the daemon stops."""
ERROR_WINDOW = 60.0
ADDED, MODIFIED, DELETED = 1, 2, 3  # watchfiles.Change, without importing it here


def log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {message}\n")
    sys.stderr.flush()


def flood_size() -> int:
    """Paths in one batch past which events may have been lost (see the module's text)."""
    try:
        with open("/proc/sys/fs/inotify/max_queued_events", encoding="ascii") as handle:
            return max(int(handle.read()) // 4, 256)
    except (OSError, ValueError):
        return 4096


class Watcher:
    """What changed in the archive's record folders, and the thread that follows watchfiles."""

    def __init__(self, root: str, idle_hours: float) -> None:
        self.root = root
        self.prefix = root.rstrip("/") + "/"
        self.idle = idle_hours * 3600
        self.kinds = {k.folder: (k.suffix, k.partitioned) for k in LAYOUT.values()}
        self.by_top: dict[str, list[str]] = {}
        for folder in self.kinds:
            self.by_top.setdefault(folder.split("/", 1)[0], []).append(folder)
        self.cookies = cookie_dir(root)
        self.cookie_rel = self.cookies[len(self.prefix) :] + "/"
        self.instance = f"{time.time_ns():x}.{os.getpid()}"
        self.flood = flood_size()
        self.seq = 0
        self.remembered = 0
        self.changes: dict[str, dict[str, int]] = {f: {} for f in self.kinds}
        self.reset: dict[str, int] = dict.fromkeys(self.kinds, 0)
        self.cond = threading.Condition()
        self.cookies_seen: set[str] = set()
        self.cookie_count = 0
        self.generation = 0
        """Bumped each time the thread (re)starts watchfiles; ``live`` once a cookie proves it
        sees events."""
        self.live = -1
        self.stop = threading.Event()
        self.gone: str | None = None
        """Why the daemon must end, set by the thread (the archive went, the watcher failed)."""
        self.wake_r, self.wake_w = os.pipe()
        self.thread = threading.Thread(target=self.follow, name="watchfiles", daemon=True)
        self.last_request = time.monotonic()
        self.started = ""
        """When it began to answer, for ``hk watch status``."""
        self.socket_file = ""

    # --- the watching thread --------------------------------------------------------------------

    def follow(self) -> None:
        """Run watchfiles until told to stop; after an error, start it again (a few times)."""
        errors: list[float] = []
        while not self.stop.is_set():
            with self.cond:
                self.generation += 1
            try:
                for batch in watchfiles.watch(
                    self.root,
                    watch_filter=None,
                    debounce=DEBOUNCE_MS,
                    step=STEP_MS,
                    stop_event=self.stop,
                    rust_timeout=0,
                    raise_interrupt=False,
                    force_polling=False,
                    recursive=True,
                    ignore_permission_denied=False,
                ):
                    self.take(batch)
                    if self.gone:
                        return
            except Exception as exc:  # watchfiles' own error, or an OSError from notify
                with self.cond:
                    self.live = -1
                    self.everything(list(self.kinds), f"watcher error: {exc}")
                    self.cond.notify_all()
                now = time.monotonic()
                errors = [t for t in errors if now - t < ERROR_WINDOW] + [now]
                if len(errors) >= ERRORS_BEFORE_GIVING_UP or not os.path.isdir(self.root):
                    self.end(f"watcher failed {len(errors)} times: {exc}")
                    return
                self.stop.wait(0.2)

    def take(self, batch: Collection[tuple[int, str]]) -> None:
        """File a batch of changes from watchfiles, then wake requests waiting for a cookie."""
        with self.cond:
            if len(batch) >= self.flood:
                self.everything(list(self.kinds), f"{len(batch)} changes at once")
            prefix = self.prefix
            for change, path in batch:
                if not path.startswith(prefix):
                    if path.rstrip("/") == self.root.rstrip("/") and change != MODIFIED:
                        self.end("the archive folder was removed or moved")
                    continue
                self.file(change, path[len(prefix) :])
            self.cond.notify_all()

    def file(self, change: int, rel: str) -> None:
        """One change, by its path relative to the archive (the lock is held)."""
        if rel.startswith(".git/"):
            if rel.startswith(self.cookie_rel) and change == ADDED:
                self.cookie_seen(rel[len(self.cookie_rel) :])
            return
        top = rel.split("/", 1)[0]
        if top == ".git":
            if change != MODIFIED:
                self.end("the archive's .git folder was removed or moved")
            return
        for folder in self.by_top.get(top, ()):
            if rel == folder or folder.startswith(rel + "/"):  # the kind's folder or above it
                if change != MODIFIED:
                    self.everything([folder], f"{rel}/ appeared, went or was renamed")
            elif rel.startswith(folder + "/"):
                name = rel[len(folder) + 1 :]
                suffix, partitioned = self.kinds[folder]
                parts = name.split("/")
                if partitioned and len(parts) <= 2 and all(p.isdigit() for p in parts):
                    if change != MODIFIED:
                        self.everything([folder], f"{rel}/ appeared, went or was renamed")
                elif is_record(name, suffix, partitioned):
                    self.note(folder, name)

    def cookie_seen(self, name: str) -> None:
        if self.live != self.generation:
            # the first cookie of this watcher: it is set up, and what happened before is unknown
            self.live = self.generation
            self.everything(list(self.kinds), "the watcher (re)started")
        self.cookies_seen.add(name)

    def note(self, folder: str, name: str) -> None:
        self.seq += 1
        paths = self.changes[folder]
        if paths.pop(name, None) is None:
            self.remembered += 1
        paths[name] = self.seq  # re-inserted last: each kind's paths stay in the order they changed
        if self.remembered > MAX_CHANGES:
            self.everything(list(self.kinds), "too many changes to remember")

    def everything(self, folders: list[str], why: str) -> None:
        """Forget what changed in these folders: tokens from before now get "everything"."""
        self.seq += 1
        for folder in folders:
            self.reset[folder] = self.seq
            self.remembered -= len(self.changes[folder])
            self.changes[folder].clear()
        log(f"everything changed in {', '.join(folders)}: {why}")

    def end(self, why: str) -> None:
        """Tell the serving thread to end the daemon."""
        if self.gone is None:
            self.gone = why
            self.stop.set()
            with contextlib.suppress(OSError):
                os.write(self.wake_w, b"x")

    # --- requests -------------------------------------------------------------------------------

    def sync(self, wait: float = COOKIE_WAIT) -> bool:
        """Make sure every change made before now has been filed: write a cookie file and wait
        until the watcher hands over its event (events come in order)."""
        self.cookie_count += 1
        name = f"{self.instance}.{self.cookie_count}"
        path = os.path.join(self.cookies, name)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        except OSError as exc:
            log(f"cookie not written: {exc}")
            return False
        try:
            with self.cond:
                seen = self.cond.wait_for(
                    lambda: name in self.cookies_seen or self.gone is not None, wait
                )
                self.cookies_seen.discard(name)
                return bool(seen) and self.gone is None and self.live == self.generation
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def start(self) -> bool:
        """Start the watching thread and wait until it sees events (its first cookie)."""
        make_private(self.cookies)
        for name in os.listdir(self.cookies):  # left by a daemon that was killed
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.cookies, name))
        self.thread.start()
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline and self.gone is None:
            if self.sync(wait=0.1):
                return True
        return False

    def answer(self, request: list[str]) -> bytes:
        """The reply to a request's fields (see :mod:`hk.store.watch`)."""
        if request[:1] == ["S"]:
            return self.state()
        if request[:1] == ["X"]:
            self.end("asked to stop")
            return b"E\0"
        synced = self.sync()
        with self.cond:
            out = [f"T{self.instance}:{self.seq}"]
            folder = None
            for field in request:
                kind, value = field[:1], field[1:]
                if kind == "F":
                    folder = value
                elif kind == "K" and folder is not None:
                    out += self.since(folder, value, synced)
                    folder = None
        out.append("E\0")
        return "\0".join(out).encode("utf-8", "surrogateescape")

    def since(self, folder: str, token: str, synced: bool) -> list[str]:
        if folder not in self.kinds:
            return [f"U{folder}"]
        instance, _, seq = token.rpartition(":")
        if not synced or instance != self.instance or not seq.isdigit():
            return [f"A{folder}"]
        after = int(seq)
        if after < self.reset[folder] or after > self.seq:
            return [f"A{folder}"]
        out = [f"W{folder}"]
        for rel, when in reversed(self.changes[folder].items()):
            if when <= after:
                break
            out.append(f"P{rel}")
        return out

    def state(self) -> bytes:
        with self.cond:
            fields = {
                "pid": str(os.getpid()),
                "since": self.started,
                "socket": self.socket_file,
                "idle_hours": f"{self.idle / 3600:g}",
                "changes": str(self.remembered),
                "seq": str(self.seq),
                "live": "yes" if self.live == self.generation else "no",
            }
        return ("Tstate\0" + "".join(f"D{k} {v}\0" for k, v in fields.items()) + "E\0").encode()

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.5)
        data = b""
        try:
            while not (data.endswith(b"\0Q\0") or data in (b"Q\0", b"S\0", b"X\0")):
                chunk = conn.recv(1 << 16)
                if not chunk:
                    return
                data += chunk
            conn.sendall(self.answer(data.decode("utf-8", "surrogateescape").split("\0")[:-1]))
        except OSError:
            pass  # the reader gave up waiting; it falls back to a full scan
        finally:
            conn.close()

    # --- life -----------------------------------------------------------------------------------

    def run(self, server: socket.socket, sock_path: str) -> None:
        sock_ino = os.stat(sock_path).st_ino
        next_check = time.monotonic() + HOUSEKEEPING
        while self.gone is None:
            wait = max(0.0, min(next_check, self.last_request + self.idle) - time.monotonic())
            readable, _, _ = select.select([server.fileno(), self.wake_r], [], [], wait)
            if server.fileno() in readable:
                try:
                    conn, _ = server.accept()
                except OSError:
                    continue
                self.last_request = time.monotonic()
                self.serve(conn)
            if time.monotonic() >= next_check or not readable:
                next_check = time.monotonic() + HOUSEKEEPING
                why = unwanted(self.root, sock_path, sock_ino, self.last_request, self.idle)
                if why is None and not self.thread.is_alive():
                    why = "the watcher thread ended"
                if why is not None:
                    self.end(why)
        log(f"stopping: {self.gone}")


def unwanted(
    root: str, sock_path: str, sock_ino: int, last_request: float, idle: float
) -> str | None:
    """Why the daemon is no longer wanted (idle, the archive gone, its socket removed), if so."""
    if time.monotonic() - last_request > idle:
        return f"idle for {idle / 3600:g} h"
    if not os.path.isdir(os.path.join(root, ".git")):
        return "the archive is gone"
    try:
        if os.stat(sock_path).st_ino != sock_ino:
            return "the socket was replaced"
    except FileNotFoundError:
        return "the socket was removed"
    return None


def listen(root: str, path: str) -> socket.socket:
    """Bind the socket in a private folder, replacing a stale one (the lock proves no daemon
    owns it)."""
    folder = os.path.dirname(path)
    if folder != state_dir(root):
        make_private(folder)
    if not is_private(folder):
        raise OSError(f"{folder} is not private to this user")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    try:
        server.bind(path)
    finally:
        os.umask(old)
    server.listen(64)
    return server


def main(argv: list[str]) -> int:
    root = os.path.realpath(argv[0])
    idle_hours = float(argv[1]) if len(argv) > 1 else 24.0
    if not os.path.isdir("/proc/sys/fs/inotify"):
        log("no inotify on this system: watchfiles would poll, which cannot keep reads exact")
        return 1
    try:
        make_private(state_dir(root))
    except OSError as exc:
        log(f"no private folder: {exc}")
        return 1
    lock = os.open(lock_path(root), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another watcher already runs for this archive")
        return 0
    path = socket_path(root)
    if path is None:
        log("no socket path short enough for this archive")
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    watcher = Watcher(root, idle_hours)
    server: socket.socket | None = None
    server_ino = 0
    try:
        if not watcher.start():
            log(f"the watcher did not start: {watcher.gone or 'no event seen'}")
            return 1
        server = listen(root, path)
        server_ino = os.stat(path).st_ino
        watcher.started = time.strftime("%Y-%m-%d %H:%M:%S")
        watcher.socket_file = path
        os.ftruncate(lock, 0)
        os.pwrite(lock, f"{os.getpid()}\n".encode(), 0)
        log(f"watching {root} on {path}")
        watcher.run(server, path)
    except OSError as exc:  # e.g. the inotify watch limit: readers fall back to full scans
        log(f"stopping: {exc}")
        return 1
    finally:
        watcher.end("stopped")
        if server is not None:
            server.close()
            _unlink_own(path, server_ino)
        os.ftruncate(lock, 0)  # the lock file stays: removing it would let two daemons lock
        if watcher.thread.ident is not None:
            watcher.thread.join(timeout=1.0)
        log("stopped")
    return 0


def _unlink_own(path: str, ino: int) -> None:
    """Remove our socket, never a successor's that took its place."""
    try:
        if os.stat(path).st_ino == ino:
            os.unlink(path)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
