"""Hand a command to the archive's warm command server, if one runs (see :mod:`hk.warm`).

This runs before anything else in every ``hk`` call, so it imports only what a call without
a server needs anyway (``os``, the archive's discovery) and, when a server's socket exists,
the built-in ``_socket`` and ``_signal``. ``native/hk.c`` is the same client in C, for an
``hk`` that does not pay Python's start when a server runs.

The exchange is in two steps so that a command never runs twice: the server's child says
``A<pid>`` once it holds the caller's terminal, and waits; only when the caller answers ``G``
does it run the command. A caller that hears nothing in time, or a refusal (``R<why>``: another
Python, hk changed since the server started), runs the command itself, and the waiting child
ends without doing anything. Once ``G`` is sent the command is the child's: the caller
forwards its signals (Ctrl-C) to it and exits with the status ``X<code>`` it reports.
"""

from __future__ import annotations

import os
import sys

NOT_SERVED = frozenset({"tui", "demo", "edit", "watch"})
"""Commands that always run in the caller: the TUI and ``$EDITOR`` need to own the terminal,
and ``hk watch`` starts and stops the server itself."""
CONNECT_TIMEOUT = 0.05
ACCEPT_TIMEOUT = 2.0
"""Seconds for the server's child to say it is ready; past that the caller runs the command."""
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
MAGIC = "hk-request-2"
"""The request format's name and version: a server that reads another refuses it."""


def split_archive(argv: list[str]) -> tuple[str | None, list[str]]:
    """``--archive P`` / ``-C P`` / ``--archive=P`` at the front, and the rest."""
    if len(argv) >= 2 and argv[0] in ("--archive", "-C"):
        return argv[1], argv[2:]
    if argv and argv[0].startswith("--archive="):
        return argv[0].split("=", 1)[1], argv[1:]
    return None, list(argv)


def served(argv: list[str]) -> bool:
    """Whether this command line may run in the server: a command, not help on its own, not
    one that needs to own the terminal."""
    rest = split_archive(argv)[1]
    return bool(rest) and not rest[0].startswith("-") and rest[0] not in NOT_SERVED


def try_serve(argv: list[str]) -> int | None:
    """Run ``hk argv`` in the archive's command server; its exit code, or None to run here."""
    if os.environ.get("HK_NO_SERVER") or not served(argv):
        return None
    from hk.store.discover import find_root
    from hk.store.watch import is_private, socket_path, state_dir

    root = find_root(split_archive(argv)[0])
    path = socket_path(root, "serve")
    if path is None or not os.path.exists(path):
        return None
    if os.path.dirname(path) != state_dir(root) and not is_private(os.path.dirname(path)):
        return None  # a socket in a shared folder could be anyone's
    fds = [0, 1, 2]
    try:
        for fd in fds:
            os.fstat(fd)
    except OSError:
        return None  # a closed standard stream: nothing to hand over, run here
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        pid = _hand_over(sock, path, argv, fds)
        if pid is None:
            return None
        return _wait(sock, pid)
    finally:
        sock.close()


def _request(argv: list[str]) -> bytes:
    """The request in the format of :func:`hk.warm.server.parse`, which the native client
    (``native/hk.c``) writes too; a Python caller also says how its streams are encoded."""
    streams = ",".join(
        f"{s.encoding}:{s.errors}" if s is not None else "utf-8:strict"
        for s in (sys.stdin, sys.stdout, sys.stderr)
    )
    umask = os.umask(0o022)
    os.umask(umask)
    args = [sys.argv[0], *argv]
    fields = [
        MAGIC,
        sys.executable,
        os.path.dirname(os.path.dirname(__file__)),
        os.getcwd(),
        str(umask),
        streams,
        str(len(args)),
        *args,
        *(f"{key}={value}" for key, value in os.environ.items()),
    ]
    body = b"\0".join(os.fsencode(field) for field in fields)
    return len(body).to_bytes(4, "big") + body


def _hand_over(sock: object, path: str, argv: list[str], fds: list[int]) -> int | None:
    """Connect, send the request with our standard streams, hear ``A<pid>``, say ``G``."""
    import _socket

    assert isinstance(sock, _socket.socket)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(path)
        sock.settimeout(ACCEPT_TIMEOUT)
        rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)
        sock.sendmsg([_request(argv)], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
        reply = _line(sock)
        if reply is None or not reply.startswith(b"A") or not reply[1:].isdigit():
            return None  # refused, or no answer in time: the child gives up when we close
        sock.sendall(b"G")
    except OSError:
        return None
    return int(reply[1:])


def _line(sock: object) -> bytes | None:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(256)  # type: ignore[attr-defined]
        if not chunk:
            return None
        data += chunk
    return data[:-1]


def _wait(sock: object, pid: int) -> int:
    """The command runs in ``pid`` now: pass it our signals, and return its exit code."""
    import _signal

    def forward(signum: int, _frame: object) -> None:
        try:  # noqa: SIM105 (contextlib is an import this path does without)
            os.kill(pid, signum)
        except OSError:
            pass

    for name in FORWARDED:
        _signal.signal(getattr(_signal, name), forward)
    sock.settimeout(None)  # type: ignore[attr-defined]
    try:
        reply = _line(sock)
    except OSError:
        reply = None
    if reply is None or not reply.startswith(b"X") or not reply[1:].lstrip(b"-").isdigit():
        sys.stderr.write(
            "hk: the command server's process ended without an exit status; "
            "see .git/hk/serve.log in the archive\n"
        )
        return 1
    return int(reply[1:])
