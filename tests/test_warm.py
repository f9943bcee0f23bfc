"""The warm command server (``hk watch`` starts it): same output, same exit codes, same commits
as a fresh ``hk``; never a command run twice; stale code never served.

A real server process started by the real ``hk`` binary, real sockets, real git.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hk.services.people import add_customer
from hk.store import watch
from hk.store.archive import Archive
from hk.warm import DAEMON, client, server
from tests.conftest import HK_BIN, git
from tests.test_watch import gone, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and inotify")


def alive(pid: int) -> bool:
    return not gone(pid)


def run(root: Path, *args: str, served: bool = True, cwd: Path | None = None,
        env: dict[str, str] | None = None, stdin: str | None = None,
        ) -> subprocess.CompletedProcess[str]:
    """The real ``hk`` binary, with the server in use or kept out."""
    extra = {} if served else {"HK_NO_SERVER": "1"}
    where = [] if cwd is not None else ["--archive", str(root)]
    return subprocess.run([HK_BIN, *where, *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, env={**os.environ, **extra, **(env or {})})


@pytest.fixture
def served(archive: Archive, archive_path: Path) -> Iterator[Path]:
    add_customer(archive, {"name": "张三", "phones": ["13800138000"], "tags": ["高端客户"]})
    add_customer(archive, {"name": "赵六", "phones": ["13900139000"]})
    started = run(archive_path, "watch", "start", served=False)
    assert started.returncode == 0, started.stderr
    info = watch.status(str(archive_path), DAEMON)
    assert info is not None and info["pid"].isdigit()
    try:
        yield archive_path
    finally:
        run(archive_path, "watch", "stop", served=False)
        pid = int(info["pid"])
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
        assert wait_until(lambda: not alive(pid), seconds=10)


def hand_over(root: Path, *args: str) -> int | None:
    """What the client does in ``hk``: the exit code if the server ran it, None if not."""
    return client.try_serve(["--archive", str(root), *args])


def test_served_commands_print_and_exit_as_a_fresh_hk_does(served: Path) -> None:
    for args in (["customer", "find", "zs"], ["customer", "list", "--json"],
                 ["customer", "show", "NOPE"], ["customer", "find", "nobody-here"],
                 ["customer", "edit"], ["doctor"], ["customer", "--help"]):
        warm, cold = run(served, *args), run(served, *args, served=False)
        assert (warm.returncode, warm.stdout, warm.stderr) == (
            cold.returncode, cold.stdout, cold.stderr), args


def test_the_server_runs_it_in_a_child_with_the_callers_streams(
    served: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert hand_over(served, "customer", "find", "13900") == 0
    assert "赵六" in capfd.readouterr().out
    assert hand_over(served, "customer", "show", "NOPE") == 1
    assert "NOPE" in capfd.readouterr().err


def test_a_served_edit_commits_once_with_the_callers_operator_and_folder(served: Path) -> None:
    before = int(git(served, "rev-list", "--count", "HEAD"))
    sub = served / "customers"
    found = json.loads(run(served, "customer", "find", "zs", "--json").stdout)[0]
    edited = run(served, "customer", "edit", found["code"], "--notes", "周三上午方便",
                 cwd=sub, env={"HK_OPERATOR": "小王"})
    assert edited.returncode == 0, edited.stderr
    assert int(git(served, "rev-list", "--count", "HEAD")) == before + 1
    assert "Operator: 小王" in git(served, "log", "-1", "--format=%B")
    shown = json.loads(run(served, "customer", "show", found["code"], "--json").stdout)
    assert shown["notes"] == "周三上午方便"


def test_concurrent_served_writes_all_land(served: Path) -> None:
    procs = [subprocess.Popen([HK_BIN, "--archive", str(served), "customer", "add", "--name",
                               f"客户{i}", "--phone", f"1380013{i:04d}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(4)]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    listed = json.loads(run(served, "customer", "list", "--json").stdout)
    assert {f"客户{i}" for i in range(4)} <= {c["name"] for c in listed}
    assert git(served, "status", "--porcelain") == ""


def test_commands_that_own_the_terminal_are_not_served(served: Path) -> None:
    for args in ([], ["tui"], ["demo"], ["edit", "X"], ["watch", "status"], ["--version"]):
        assert not client.served(["--archive", str(served), *args])
    assert client.served(["--archive", str(served), "customer", "find", "x"])


def test_without_a_server_nothing_waits_and_hk_runs_it_itself(archive_path: Path) -> None:
    started = time.monotonic()
    assert hand_over(archive_path, "customer", "find", "x") is None
    assert time.monotonic() - started < 0.05


def test_a_refused_request_is_run_by_the_caller(served: Path) -> None:
    """Another Python (or another hk) is refused before anything runs."""
    code = server.Code()
    assert server.refusal({"version": 1, "python": "/elsewhere/python", "hk": server.HK},
                          [0, 1, 2], code)
    assert server.refusal({"version": 2}, [0, 1, 2], code)
    assert server.refusal({"version": 1, "python": sys.executable, "hk": server.HK},
                          [0, 1], code)
    assert not server.refusal({"version": 1, "python": sys.executable, "hk": server.HK},
                              [0, 1, 2], code)


def test_changed_code_is_noticed(tmp_path: Path) -> None:
    code = server.Code()
    extra = tmp_path / "module.py"
    extra.write_text("x = 1\n")
    code.paths.append(str(extra))
    code.seen = code.now()
    assert not code.changed()
    extra.write_text("x = 22\n")
    assert code.changed()


def test_a_caller_that_gives_up_before_go_runs_nothing(served: Path) -> None:
    """The two-step hand-over: a child that never hears ``G`` ends without running."""
    import _socket

    path = watch.socket_path(str(served), DAEMON)
    assert path is not None
    before = git(served, "rev-parse", "HEAD")
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.connect(path)
    request = client._request(["--archive", str(served), "customer", "add", "--name", "孙八",
                               "--phone", "13600136000"])
    rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2))
    sock.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
    reply = client._line(sock)
    assert reply is not None and reply.startswith(b"A")
    sock.close()  # no G
    pid = int(reply[1:])
    assert wait_until(lambda: not alive(pid), seconds=10)
    assert git(served, "rev-parse", "HEAD") == before
    assert "孙八" not in run(served, "customer", "find", "孙八").stdout


class Terminal:
    """``hk`` on a pseudo-terminal, as an operator runs it: prompts, answers, Ctrl-C."""

    def __init__(self, root: Path, *args: str) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.tty = os.ttyname(slave)
        self.proc = subprocess.Popen([HK_BIN, "--archive", str(root), *args], stdin=slave,
                                     stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.seen = b""

    def wait_for(self, text: str, seconds: float = 15.0) -> bool:
        import select

        deadline = time.monotonic() + seconds
        while text.encode() not in self.seen and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    break
        return text.encode() in self.seen

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self) -> int:
        code = self.proc.wait(timeout=15)
        self.wait_for("\0", seconds=0.2)  # whatever is left
        os.close(self.master)
        return code


def served_child_on(tty: str, server_pid: int) -> bool:
    """A child of the server has the terminal as its standard input."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            if ppid == server_pid and os.readlink(f"/proc/{entry}/fd/0") == tty:
                return True
        except (OSError, ValueError):
            continue
    return False


def test_prompts_and_answers_go_through_the_callers_terminal(served: Path) -> None:
    info = watch.status(str(served), DAEMON)
    assert info is not None
    term = Terminal(served, "customer", "add")
    assert term.wait_for(":"), term.seen
    assert served_child_on(term.tty, int(info["pid"]))
    term.type("王五\n")
    assert term.finish() == 0, term.seen
    assert "王五" in run(served, "customer", "find", "王五").stdout


def test_garbage_from_a_caller_leaves_the_server_serving(
    served: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A request that cannot be read is dropped; the next caller is served at once."""
    import _socket

    path = watch.socket_path(str(served), DAEMON)
    assert path is not None
    for junk in (b"", b"\x00\x00", b"\x00\x00\x00\x05hello"):
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.connect(path)
        sock.sendall(junk)
        sock.close()
    assert wait_until(lambda: hand_over(served, "customer", "find", "zs") == 0, seconds=3)
    assert "张三" in capfd.readouterr().out


def test_ctrl_c_reaches_the_served_command(served: Path) -> None:
    info = watch.status(str(served), DAEMON)
    assert info is not None
    before = git(served, "rev-parse", "HEAD")
    term = Terminal(served, "customer", "add")
    assert term.wait_for(":"), term.seen
    term.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends the foreground process
    assert term.finish() != 0
    assert b"Traceback" not in term.seen
    assert wait_until(lambda: not served_child_on(term.tty, int(info["pid"])))
    assert git(served, "rev-parse", "HEAD") == before


def test_stop_ends_the_server_and_hk_keeps_working(served: Path) -> None:
    info = watch.status(str(served), DAEMON)
    assert info is not None
    assert "command server stopped" in run(served, "watch", "stop").stdout
    assert wait_until(lambda: not alive(int(info["pid"])))
    assert watch.status(str(served), DAEMON) is None
    assert hand_over(served, "customer", "find", "zs") is None
    found = run(served, "customer", "find", "zs")
    assert found.returncode == 0 and "张三" in found.stdout
