"""The watcher daemon of :mod:`hk.store.watch`: inotify on every record folder, a unix socket.

``python -m hk.store.watch_daemon ROOT [IDLE_HOURS]``, started detached by ``hk watch start``.

It watches the archive's root and each folder on the way to a record folder (to see one
appear), each record folder of :data:`hk.domain.layout.LAYOUT`, and for a partitioned kind each
``yyyy`` and ``yyyy/mm`` folder, adding watches as folders appear. Every event in a record
folder bumps a sequence number and files the path under its kind's folder, newest last, so an
answer walks back only over what changed since the asker's token. A kind whose folders were
removed or renamed, or every kind after a queue overflow, is reset: older tokens get
"everything". Tokens name the daemon instance (start time and pid), so a token from an earlier
daemon is never taken for one of this daemon's.

One request at a time, in one thread: the answers are tiny and the daemon must read its
inotify queue between them anyway.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import time

from hk.domain.layout import LAYOUT
from hk.store.watch import is_private, pid_path, socket_path, state_dir

IN_MODIFY, IN_ATTRIB, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x4, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED = 0x2000, 0x4000, 0x8000
IN_ONLYDIR, IN_EXCL_UNLINK, IN_ISDIR = 0x01000000, 0x04000000, 0x40000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, 0o2000000

GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED
PARENT_MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
RECORDS_MASK = PARENT_MASK | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_EXCL_UNLINK
ROOT_MASK = PARENT_MASK | IN_DELETE | IN_MOVED_FROM
"""The root also reports ``.git`` leaving: its own IN_DELETE_SELF never comes while our socket
and pid file, inside it, hold it."""
COOKIE_MASK = IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
EVENT = struct.Struct("iIII")
MAX_CHANGES = 500_000
"""Paths remembered in all; past that the daemon forgets them all and older tokens get
"everything" (memory stays bounded however long it runs)."""
HOUSEKEEPING = 30.0
COOKIE_WAIT = 2.0


def log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {message}\n")
    sys.stderr.flush()


class Inotify:
    """The three inotify calls of libc, through ctypes."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")

    def add(self, path: str, mask: int) -> int:
        wd = int(self.libc.inotify_add_watch(self.fd, os.fsencode(path), mask))
        if wd < 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"inotify_add_watch: {os.strerror(errno)}", path)
        return wd

    def remove(self, wd: int) -> None:
        self.libc.inotify_rm_watch(self.fd, wd)

    def read(self) -> list[tuple[int, int, str]]:
        """The events queued now: (watch, mask, name)."""
        try:
            data = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return []
        events, pos = [], 0
        while pos < len(data):
            wd, mask, _cookie, length = EVENT.unpack_from(data, pos)
            name = data[pos + 16 : pos + 16 + length].rstrip(b"\0")
            events.append((wd, mask, os.fsdecode(name)))
            pos += 16 + length
        return events


class Watcher:
    """The folders of one archive, what changed in them, and the socket that tells it."""

    def __init__(self, root: str, idle_hours: float) -> None:
        self.root = root
        self.idle = idle_hours * 3600
        self.kinds = {k.folder: k.partitioned for k in LAYOUT.values()}
        self.parents = {""} | {
            "/".join(f.split("/")[:i]) for f in self.kinds for i in range(1, f.count("/") + 1)
        }
        self.instance = f"{time.time_ns():x}.{os.getpid()}"
        self.seq = 0
        self.changes: dict[str, dict[str, int]] = {f: {} for f in self.kinds}
        self.reset: dict[str, int] = dict.fromkeys(self.kinds, 0)
        self.dirs: dict[int, str] = {}
        self.cookie_dir = os.path.join(state_dir(root), "watch-cookies")
        self.cookie_wd = -1
        self.cookies_seen: set[str] = set()
        self.cookie_count = 0
        self.running = True
        self.check_now = False
        self.last_request = time.monotonic()
        self.ino = Inotify()

    # --- folders --------------------------------------------------------------------------------

    def role(self, rel: str) -> tuple[str, str] | None:
        """(what the folder is, its kind's folder): parent, kind, year or records."""
        if rel in self.kinds:
            return ("kind" if self.kinds[rel] else "records"), rel
        if rel in self.parents:
            return "parent", ""
        for folder, partitioned in self.kinds.items():
            if partitioned and rel.startswith(folder + "/"):
                parts = rel[len(folder) + 1 :].split("/")
                if all(p.isdigit() for p in parts) and len(parts) <= 2:
                    return ("year" if len(parts) == 1 else "records"), folder
        return None

    def watch(self, rel: str, report: bool) -> None:
        """Watch a folder and the folders of interest inside it; with ``report``, file every
        record already there as changed (it may have been written before the watch began)."""
        role = self.role(rel)
        if role is None:
            return
        path = os.path.join(self.root, rel) if rel else self.root
        try:
            mask = RECORDS_MASK if role[0] == "records" else ROOT_MASK if rel == "" else PARENT_MASK
            wd = self.ino.add(path, mask)
        except FileNotFoundError:
            return
        except NotADirectoryError:
            return
        self.dirs[wd] = rel
        if role[0] == "records" and not report:
            return
        try:
            entries = os.listdir(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in entries:
            child = f"{rel}/{name}" if rel else name
            if role[0] == "records":
                if report:
                    self.change(role[1], child)
            elif self.role(child) is not None:
                self.watch(child, report)

    def change(self, folder: str, rel: str) -> None:
        self.seq += 1
        paths = self.changes[folder]
        name = rel[len(folder) + 1 :]
        paths.pop(name, None)  # re-inserted last: each kind's paths stay in the order they changed
        paths[name] = self.seq
        if sum(len(p) for p in self.changes.values()) > MAX_CHANGES:
            self.everything(list(self.kinds), "too many changes to remember")

    def everything(self, folders: list[str], why: str) -> None:
        """Forget what changed in these folders: tokens from before now get "everything"."""
        self.seq += 1
        for folder in folders:
            self.reset[folder] = self.seq
            self.changes[folder].clear()
        log(f"everything changed in {', '.join(folders) or 'nothing'}: {why}")

    def lost(self, wd: int, rel: str) -> None:
        """A watched folder was removed, renamed or unmounted: its kinds start over."""
        if rel == "":
            log("the archive folder was removed or moved")
            self.running = False
            return
        for other, path in list(self.dirs.items()):
            if path == rel or path.startswith(rel + "/"):  # a moved folder is still watched
                del self.dirs[other]
                self.ino.remove(other)
        folders = [
            f for f in self.kinds if f == rel or f.startswith(rel + "/") or rel.startswith(f + "/")
        ]
        self.everything(folders, f"{rel}/ was removed or renamed")
        self.watch("", report=False)  # whatever stands there now is watched again

    def handle(self, wd: int, mask: int, name: str) -> None:
        if mask & IN_Q_OVERFLOW:
            self.everything(list(self.kinds), "the event queue overflowed")
            return
        if wd == self.cookie_wd:
            if mask & GONE:  # .git/hk removed? then our socket went with it
                self.cookie_wd = -1
                self.check_now = True
            elif mask & IN_CREATE:
                self.cookies_seen.add(name)
            return
        rel = self.dirs.get(wd)
        if rel is None:
            return
        if mask & GONE:
            self.lost(wd, rel)
            return
        if rel == "" and name == ".git" and mask & (IN_DELETE | IN_MOVED_FROM):
            log("the archive's .git folder was removed or moved")
            self.running = False
            return
        child = f"{rel}/{name}" if rel else name
        role = self.role(rel)
        if role is not None and role[0] == "records":
            self.change(role[1], child)
        elif mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
            self.watch(child, report=True)

    def drain(self) -> None:
        for wd, mask, name in self.ino.read():
            self.handle(wd, mask, name)

    # --- requests -------------------------------------------------------------------------------

    def sync(self) -> bool:
        """Make sure every change made before now has been read: write a cookie file and read
        events until its own arrives (inotify queues events in order)."""
        if self.cookie_wd < 0:
            try:
                os.makedirs(self.cookie_dir, exist_ok=True)
                self.cookie_wd = self.ino.add(self.cookie_dir, COOKIE_MASK)
            except OSError as exc:
                log(f"no cookie folder: {exc}")
                return False
        self.cookie_count += 1
        name = f"{self.instance}.{self.cookie_count}"
        path = os.path.join(self.cookie_dir, name)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            log(f"cookie not written: {exc}")
            return False
        deadline = time.monotonic() + COOKIE_WAIT
        try:
            while name not in self.cookies_seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    log("cookie event not seen in time")
                    return False
                select.select([self.ino.fd], [], [], left)
                self.drain()
            return True
        finally:
            self.cookies_seen.discard(name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def answer(self, request: list[str]) -> bytes:
        """The reply to a request's fields (see :mod:`hk.store.watch`)."""
        if request[:1] == ["S"]:
            return self.state()
        if request[:1] == ["X"]:
            self.running = False
            return b"E\0"
        synced = self.sync()
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
        remembered = sum(len(p) for p in self.changes.values())
        return (
            f"Tstate\0Dfolders {len(self.dirs)}\0Dchanges {remembered}\0Dseq {self.seq}\0E\0"
        ).encode()

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

    def alive(self, sock_path: str, sock_ino: int) -> bool:
        return still_wanted(self.root, sock_path, sock_ino, self.last_request, self.idle)

    def run(self, server: socket.socket, sock_path: str) -> None:
        sock_ino = os.stat(sock_path).st_ino
        next_check = time.monotonic() + HOUSEKEEPING
        while self.running:
            wait = max(0.0, min(next_check, self.last_request + self.idle) - time.monotonic())
            readable, _, _ = select.select([self.ino.fd, server], [], [], wait)
            if self.ino.fd in readable:
                self.drain()
            if server in readable:
                try:
                    conn, _ = server.accept()
                except OSError:
                    continue
                self.last_request = time.monotonic()
                self.serve(conn)
            if time.monotonic() >= next_check or not readable or self.check_now:
                self.check_now = False
                next_check = time.monotonic() + HOUSEKEEPING
                if not self.alive(sock_path, sock_ino):
                    return


def still_wanted(
    root: str, sock_path: str, sock_ino: int, last_request: float, idle: float
) -> bool:
    """A daemon of the archive is still wanted: the archive exists, its socket is still in
    place, and it was asked something within ``idle`` seconds (logs why not)."""
    if time.monotonic() - last_request > idle:
        log(f"idle for {idle / 3600:g} h")
        return False
    if not os.path.isdir(os.path.join(root, ".git")):
        log("the archive is gone")
        return False
    try:
        if os.stat(sock_path).st_ino != sock_ino:
            raise FileNotFoundError(sock_path)
    except FileNotFoundError:
        log("the socket was removed")
        return False
    return True


def listen(root: str, path: str) -> socket.socket:
    """Bind the socket, replacing a stale one (the pid-file lock proves no daemon owns it)."""
    folder = os.path.dirname(path)
    if folder != state_dir(root):
        os.makedirs(folder, mode=0o700, exist_ok=True)
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
    os.makedirs(state_dir(root), exist_ok=True)
    lock = os.open(pid_path(root), os.O_RDWR | os.O_CREAT, 0o644)
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
    server = listen(root, path)
    server_ino = os.stat(path).st_ino
    try:
        watcher.watch("", report=False)
        os.ftruncate(lock, 0)
        since = time.strftime("%Y-%m-%d %H:%M:%S")
        os.pwrite(lock, f"{os.getpid()}\n{since}\n{path}\n{idle_hours:g}\n".encode(), 0)
        log(f"watching {root} ({len(watcher.dirs)} folders) on {path}")
        watcher.run(server, path)
    except OSError as exc:  # e.g. the inotify watch limit: readers fall back to full scans
        log(f"stopping: {exc}")
        return 1
    finally:
        server.close()
        _unlink_own(path, server_ino)
        _unlink_own(pid_path(root), os.fstat(lock).st_ino)
        log("stopped")
    return 0


def _unlink_own(path: str, ino: int) -> None:
    """Remove our socket or pid file, never a successor's that took its place."""
    try:
        if os.stat(path).st_ino == ino:
            os.unlink(path)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
