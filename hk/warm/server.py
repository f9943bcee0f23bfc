"""The command server of :mod:`hk.warm`: hk imported once, one forked child per command.

``python -m hk.warm.server ROOT [IDLE_HOURS]``, started detached by ``hk watch start``.

At start it imports hk's command line and everything a command imports (not the TUI, and not
dispatch's solver libraries, which start threads), builds every command's options, and then
stays single-threaded. For each caller it checks that the caller is this user, runs the same
Python and the same hk as when it started (it starts afresh otherwise), and forks. The child
takes over the caller's standard streams (passed over the socket), working folder, environment
and umask, and runs the command exactly as ``hk`` would (:func:`hk.__main__.run_here`); the
parent goes back to waiting. A child shares its parent's imported modules, so it starts in a
millisecond or two instead of the few hundred a fresh ``hk`` needs.

The children write through the same write path, lock and all, as any other hk process; the
server itself never touches the archive. It stops when idle too long, when its socket is
removed, when the archive goes, or on ``hk watch stop``.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import os
import select
import signal
import socket
import struct
import sys
import time

from hk.store.watch import pid_path, socket_path, state_dir
from hk.store.watch_daemon import listen, log, still_wanted
from hk.warm.client import MAGIC

DAEMON = "serve"
HOUSEKEEPING = 30.0
REQUEST_TIMEOUT = 2.0
GO_TIMEOUT = 5.0
"""Seconds a child waits for the caller's ``G`` before giving up without running anything."""
MAX_REQUEST = 1 << 22
PRELOAD = ("hk.domain", "hk.store", "hk.services", "hk.remind", "hk.commands")
SKIP = ("hk.tui", "hk.dispatch", "hk.services.dispatch", "hk.store.watch_daemon")
"""Left to each child to import: the TUI never runs here, and dispatch's numerical libraries
start threads at import, which a process that forks must not have."""
HK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def preload() -> None:
    """Import what commands use and build their options, then freeze it for the children."""
    import importlib
    import pkgutil

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    import hk.__main__
    import hk.cli
    import hk.fastpath

    hk.cli.build_whole()
    for package in PRELOAD:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if not info.name.startswith(SKIP):
                importlib.import_module(info.name)
    complete_models()
    warm_up()
    gc.collect()
    gc.freeze()  # the children then leave these objects' pages shared


def warm_up() -> None:
    """Read and write a small YAML record once (the codec imports its YAML library on first
    use, and the library builds its tables then), and work out how each kind is written."""
    from hk.domain.records import KINDS
    from hk.store import codec

    text = "# example\nname: 示例\nphones:\n- '+8613800138000'\n"
    data = codec.parse(text, "example.yaml")
    codec.dump_keeping_comments(text, {**data, "notes": "示例"})
    codec.dump_yaml(data)
    for kind in list(KINDS):  # how each kind is written canonically, worked out once
        codec.canonical_plan(KINDS[kind])


def complete_models() -> None:
    """Build now the validators Pydantic defers to a model's first use (forward references):
    a good part of a short command's time otherwise, paid again by every child."""
    from pydantic import BaseModel

    for name, module in list(sys.modules.items()):
        if not name.startswith("hk.") or module is None:
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ):
                with contextlib.suppress(Exception):  # left to be built on first use
                    value.model_rebuild()


class Code:
    """What this process's code is: hk's source files and the folders on ``sys.path``.

    A change means hk or a library was upgraded or edited since the server started: it then
    starts afresh rather than run a command with old code. The files are listed once; each
    check stats them again (a fraction of a millisecond), and a file added to hk or to a
    library changes its folder's time.
    """

    SUFFIXES = (".py", ".toml", ".yaml", ".j2", ".tcss")

    def __init__(self) -> None:
        paths: list[str] = []
        folders = [HK]
        while folders:
            folder = folders.pop()
            paths.append(folder)
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            folders.append(entry.path)
                    elif entry.name.endswith(self.SUFFIXES):
                        paths.append(entry.path)
        self.paths = paths + [p for p in sys.path if p and os.path.isdir(p)]
        self.seen = self.now()

    def now(self) -> list[tuple[int, int]]:
        out = []
        for path in self.paths:
            try:
                st = os.stat(path)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((0, -1))
        return out

    def changed(self) -> bool:
        return self.now() != self.seen


class Server:
    """Keeps one child forked and waiting to accept the next caller.

    Forking a process of this size takes milliseconds, so it happens before a caller comes:
    the waiting child accepts the connection itself, tells the parent (a byte on a pipe), and
    the parent forks the next one while this one serves. Stopping shuts the listening socket,
    which wakes the waiting child to end; children already running a command finish it.
    """

    def __init__(self, root: str, idle_hours: float, listener: socket.socket, lock: int) -> None:
        self.root = root
        self.lock = lock
        self.idle = idle_hours * 3600
        self.listener = listener
        self.code = Code()
        self.last_request = time.monotonic()
        self.children: set[int] = set()
        self.spare = 0
        self.restart = False
        self.notes, self.notify = os.pipe()
        self.alive_r, self.alive_w = os.pipe()
        """Never written: a waiting child sees end-of-file on it when the parent has died."""
        self.quick_deaths = 0

    def run(self, sock_path: str) -> None:
        sock_ino = os.stat(sock_path).st_ino
        next_check = time.monotonic() + HOUSEKEEPING
        self.fork_spare()
        while not self.restart:
            wait = 1.0 if len(self.children) > 1 else max(0.0, next_check - time.monotonic())
            readable, _, _ = select.select([self.notes], [], [], wait)
            if readable:
                note = os.read(self.notes, 64)
                self.last_request = time.monotonic()
                self.quick_deaths = 0
                if b"R" in note:
                    log("hk or its libraries changed: starting afresh")
                    self.restart = True
                    break
                self.fork_spare()
            self.reap()
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + HOUSEKEEPING
                if not self.alive(sock_path, sock_ino):
                    return

    def fork_spare(self) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                os.close(self.lock)  # the server's pid-file lock is the server's alone
                os.close(self.notes)
                os.close(self.alive_w)
                spare(self.listener, self.notify, self.alive_r, self.code)
            finally:
                os._exit(1)
        self.spare = pid
        self.children.add(pid)

    def reap(self) -> None:
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if not done:
                continue
            self.children.discard(pid)
            if os.WIFSIGNALED(status):
                log(f"child {pid} ended by signal {os.WTERMSIG(status)}")
            if pid == self.spare:  # it died waiting, without taking a caller
                self.quick_deaths += 1
                if self.quick_deaths > 5:
                    log("waiting children keep dying: stopping")
                    raise SystemExit(1)
                self.fork_spare()

    def alive(self, sock_path: str, sock_ino: int) -> bool:
        if not still_wanted(self.root, sock_path, sock_ino, self.last_request, self.idle):
            return False
        if self.code.changed():
            log("hk or its libraries changed: starting afresh")
            self.restart = True
            return False
        return True

    def close(self) -> None:
        """Wake the waiting child (its accept fails) and stop listening."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


def spare(listener: socket.socket, notify: int, parent: int, code: Code) -> None:
    """A waiting child: take one caller, tell the parent, serve it, end.

    It ends without serving if the parent dies first (``parent`` reads end-of-file): a server
    killed outright leaves no child behind to serve with what may be old code.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        ready, _, _ = select.select([listener.fileno(), parent], [], [])
        if parent in ready:
            os._exit(0)
        conn, _ = listener.accept()
    except OSError:  # the server is stopping
        os._exit(0)
    listener.close()
    os.close(parent)
    os.write(notify, b".")  # taken: the parent forks the next waiting child at once
    fds: list[int] = []
    try:
        uid = struct.unpack(
            "3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        )[1]
        conn.settimeout(REQUEST_TIMEOUT)
        if uid != os.getuid():
            log(f"refused a caller of uid {uid}")
            return
        request, fds = receive(conn)
        why = refusal(request, fds, code)
        if why == STALE:
            os.write(notify, b"R")
        os.close(notify)
        if why:
            conn.sendall(f"R{why}\n".encode())
            return
        child(conn, request, fds)  # never returns
    except (OSError, ValueError, EOFError, TypeError) as exc:
        log(f"request dropped: {exc}")
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        os._exit(0)


STALE = "hk changed"


def refusal(request: dict[str, object], fds: list[int], code: Code) -> str:
    """Why this server must not run the request ('' if it may)."""
    if request.get("version") != 2 or len(fds) != 3:
        return "unknown request"
    if request.get("python") != sys.executable or request.get("hk") != HK:
        return "another Python or another hk"
    if code.changed():
        return STALE
    return ""


def receive(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    """The request (length, then the body :func:`parse` reads) and the three file descriptors
    sent with it."""
    fds: list[int] = []
    data, ancillary, _flags, _addr = conn.recvmsg(1 << 16, socket.CMSG_SPACE(3 * 4))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += list(struct.unpack(f"{usable // 4}i", payload[:usable]))
    if len(data) < 4:
        raise ValueError("short request")
    size = int.from_bytes(data[:4], "big")
    if size > MAX_REQUEST:
        raise ValueError("request too large")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(min(1 << 16, size - len(body)))
        if not chunk:
            raise EOFError("caller went away")
        body += chunk
    return parse(body), fds


def parse(body: bytes) -> dict[str, object]:
    """A request: fields separated by NUL bytes, in this order: ``hk-request-2``, the caller's
    Python, its hk package folder, working folder, umask (decimal), how its three streams are
    encoded (``enc:errors`` by commas, or empty to work it out as Python would), the number of
    arguments, the arguments (``argv[0]`` first), then ``NAME=value`` for each environment
    variable. Bytes, so that names and values that are not UTF-8 pass unchanged.

    A request in another format is returned with ``version`` 0, which :func:`refusal` refuses:
    the caller then runs the command itself.
    """
    fields = [os.fsdecode(field) for field in body.split(b"\0")]
    if len(fields) < 7 or fields[0] != MAGIC:
        return {"version": 0}
    python, hk, cwd, umask, streams, count = fields[1:7]
    if not umask.isdigit() or not count.isdigit() or len(fields) < 7 + int(count):
        raise ValueError("malformed request")
    argv = fields[7 : 7 + int(count)]
    env = dict(entry.split("=", 1) for entry in fields[7 + int(count) :] if "=" in entry)
    return {
        "version": 2,
        "python": python,
        "hk": hk,
        "cwd": cwd,
        "umask": int(umask),
        "streams": [tuple(s.split(":", 1)) for s in streams.split(",")] if streams else None,
        "argv": argv,
        "env": env,
    }


def child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    """Become the caller's command: its streams, folder and environment; then run it."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        fds.clear()
        conn.settimeout(GO_TIMEOUT)
        conn.sendall(f"A{os.getpid()}\n".encode())
        if conn.recv(1) != b"G":
            os._exit(0)  # the caller runs the command itself
        conn.settimeout(None)
        code = run(request)
        with contextlib.suppress(OSError):
            conn.sendall(f"X{code}\n".encode())
    finally:
        os._exit(code & 0xFF)


def run(request: dict[str, object]) -> int:
    """Run the request's command here, as ``hk`` would in the caller; its exit code."""
    import tempfile

    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    tempfile.tempdir = None
    os.umask(int(request["umask"]))  # type: ignore[call-overload]
    streams = request["streams"] or python_streams(env)
    assert isinstance(streams, list)
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = streams
    sys.stdin, sys.stdout, sys.stderr = (
        _stream(0, "r", in_enc, in_err),
        _stream(1, "w", out_enc, out_err),
        _stream(2, "w", err_enc, err_err, line=True),
    )
    # what Python's start made of the caller's streams, for code that asks for the originals
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = (  # type: ignore[misc]
        sys.stdin,
        sys.stdout,
        sys.stderr,
    )
    argv = request["argv"]
    assert isinstance(argv, list)
    sys.argv = [str(a) for a in argv]
    try:
        os.chdir(str(request["cwd"]))
        from hk.__main__ import run_here

        run_here(sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = exit_code(exc.code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    except BaseException as exc:  # the child must report, whatever happened
        sys.stderr.write(f"hk: {type(exc).__name__}: {exc}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return code


def python_streams(env: dict[str, str]) -> list[tuple[str, str]]:
    """The encoding and error handler of stdin, stdout and stderr that Python 3.11 would set
    up in an environment ``env`` (already this process's): for a caller that is not Python.

    ``PYTHONIOENCODING`` first (strict errors unless it names others); then UTF-8 mode
    (``PYTHONUTF8``, or the C/POSIX locale, which Python also coerces to C.UTF-8), else the
    locale's codeset. Errors are ``surrogateescape`` under UTF-8 mode or a C-like locale, else
    ``strict``; stderr is always ``backslashreplace``.
    """
    import codecs
    import locale

    try:
        ctype = locale.setlocale(locale.LC_CTYPE, "")
    except locale.Error:  # a locale that is not installed: Python runs under "C" then
        ctype = locale.setlocale(locale.LC_CTYPE, "C")
    legacy = ctype in ("C", "POSIX")
    if legacy and env.get("PYTHONCOERCECLOCALE") != "0" and not env.get("LC_ALL"):
        with contextlib.suppress(locale.Error):  # PEP 538, as Python does at its start
            ctype = locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
            os.environ["LC_CTYPE"] = "C.UTF-8"
    flag = env.get("PYTHONUTF8")
    utf8 = flag == "1" or (flag != "0" and legacy)
    encoding = "utf-8" if utf8 else locale.getencoding()
    errors = (
        "surrogateescape"
        if utf8 or ctype in ("C", "POSIX", "C.UTF-8", "C.utf8", "UTF-8")
        else "strict"
    )
    io_encoding, _, io_errors = env.get("PYTHONIOENCODING", "").partition(":")
    if io_encoding:  # an encoding named without errors means strict ones
        encoding, errors = io_encoding, "strict"
    errors = io_errors or errors
    with contextlib.suppress(LookupError):  # the name Python reports: utf-8, not UTF-8
        encoding = codecs.lookup(encoding).name
    return [(encoding, errors), (encoding, errors), (encoding, "backslashreplace")]


def exit_code(value: object) -> int:
    """``sys.exit``'s argument as the process's exit status, as Python itself maps it."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    sys.stderr.write(f"{value}\n")
    return 1


def _stream(fd: int, mode: str, encoding: str, errors: str, line: bool = False) -> io.TextIOWrapper:
    """A text stream on ``fd`` as Python would have made it for the caller."""
    binary = open(fd, mode + "b", closefd=False)  # noqa: SIM115 (lives as long as the child)
    tty = os.isatty(fd)
    return io.TextIOWrapper(
        binary, encoding=encoding, errors=errors, line_buffering=line or (tty and mode == "w")
    )


def main(argv: list[str]) -> int:
    root = os.path.realpath(argv[0])
    idle_hours = float(argv[1]) if len(argv) > 1 else 24.0
    os.makedirs(state_dir(root), exist_ok=True)
    lock = os.open(pid_path(root, DAEMON), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another command server already runs for this archive")
        return 0
    path = socket_path(root, DAEMON)
    if path is None:
        log("no socket path short enough for this archive")
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    started = time.monotonic()
    preload()
    import threading

    if threading.active_count() != 1:
        log("an import started a thread: a forking server cannot run safely")
        return 1
    listener = listen(root, path)
    listener_ino = os.stat(path).st_ino
    server = Server(root, idle_hours, listener, lock)
    try:
        os.ftruncate(lock, 0)
        since = time.strftime("%Y-%m-%d %H:%M:%S")
        os.pwrite(lock, f"{os.getpid()}\n{since}\n{path}\n{idle_hours:g}\n".encode(), 0)
        log(f"serving {root} on {path} (ready in {time.monotonic() - started:.2f} s)")
        server.run(path)
    finally:
        server.close()
        _unlink_own(path, listener_ino)
        if not server.restart:
            _unlink_own(pid_path(root, DAEMON), os.fstat(lock).st_ino)
        log("stopped" if not server.restart else "restarting")
    if server.restart:
        os.close(lock)
        os.execv(sys.executable, [sys.executable, "-m", "hk.warm.server", root, f"{idle_hours:g}"])
    return 0


def _unlink_own(path: str, ino: int) -> None:
    """Remove our socket or pid file, never a successor's that took its place."""
    with contextlib.suppress(FileNotFoundError):
        if os.stat(path).st_ino == ino:
            os.unlink(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
