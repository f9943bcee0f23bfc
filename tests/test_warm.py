"""The warm command server (``hk watch`` starts it): same output, same exit codes, same commits
as a fresh ``hk``; never a command run twice; stale code never served.

A real server process started by the real ``hk`` binary, real sockets, real git.
"""

from __future__ import annotations

import json
import os
import shutil
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


def run(
    root: Path,
    *args: str,
    served: bool = True,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """The real ``hk`` binary, with the server in use or kept out."""
    extra = {} if served else {"HK_NO_SERVER": "1"}
    where = [] if cwd is not None else ["--archive", str(root)]
    return subprocess.run(
        [HK_BIN, *where, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env={**os.environ, **extra, **(env or {})},
    )


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
    for args in (
        ["customer", "find", "zs"],
        ["customer", "list", "--json"],
        ["customer", "show", "NOPE"],
        ["customer", "find", "nobody-here"],
        ["customer", "edit"],
        ["doctor"],
        ["customer", "--help"],
    ):
        warm, cold = run(served, *args), run(served, *args, served=False)
        assert (warm.returncode, warm.stdout, warm.stderr) == (
            cold.returncode,
            cold.stdout,
            cold.stderr,
        ), args


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
    edited = run(
        served,
        "customer",
        "edit",
        found["code"],
        "--notes",
        "周三上午方便",
        cwd=sub,
        env={"HK_OPERATOR": "小王"},
    )
    assert edited.returncode == 0, edited.stderr
    assert int(git(served, "rev-list", "--count", "HEAD")) == before + 1
    assert "Operator: 小王" in git(served, "log", "-1", "--format=%B")
    shown = json.loads(run(served, "customer", "show", found["code"], "--json").stdout)
    assert shown["notes"] == "周三上午方便"


def test_concurrent_served_writes_all_land(served: Path) -> None:
    procs = [
        subprocess.Popen(
            [
                HK_BIN,
                "--archive",
                str(served),
                "customer",
                "add",
                "--name",
                f"客户{i}",
                "--phone",
                f"1380013{i:04d}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
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
    assert server.refusal(
        {"version": 2, "python": "/elsewhere/python", "hk": server.HK}, [0, 1, 2], code
    )
    assert server.refusal({"version": 0}, [0, 1, 2], code)
    assert server.refusal({"version": 2, "python": sys.executable, "hk": server.HK}, [0, 1], code)
    assert not server.refusal(
        {"version": 2, "python": sys.executable, "hk": server.HK}, [0, 1, 2], code
    )


def test_a_request_reads_back_as_the_caller_sent_it(tmp_path: Path) -> None:
    request = client._request(["customer", "find", "张三", "--json"])
    parsed = server.parse(request[4:])
    assert int.from_bytes(request[:4], "big") == len(request) - 4
    assert parsed["argv"] == [sys.argv[0], "customer", "find", "张三", "--json"]
    assert parsed["env"] == dict(os.environ)
    assert parsed["cwd"] == os.getcwd() and parsed["python"] == sys.executable
    assert parsed["streams"] is not None and len(parsed["streams"]) == 3
    assert server.parse(b"\x80\x03}q\x00.")["version"] == 0  # another format: refused
    with pytest.raises(ValueError):
        server.parse(b"\0".join([b"hk-request-2", b"py", b"hk", b"/", b"18", b"", b"9", b"hk"]))


STREAM_CASES = [
    {},
    {"LANG": "C.UTF-8"},
    {"LANG": "C"},
    {"LC_ALL": "C"},
    {"LANG": "xx_YY.UTF-8"},
    {"PYTHONIOENCODING": "gbk"},
    {"PYTHONIOENCODING": "utf-8:replace"},
    {"PYTHONUTF8": "1", "LANG": "C"},
    {"PYTHONUTF8": "0", "LANG": "C"},
    {"PYTHONUTF8": "0", "LC_ALL": "C"},
    {"LC_CTYPE": "C.UTF-8", "LANG": "C"},
    {"PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0", "LANG": "C"},
]


@pytest.mark.parametrize(
    "env", STREAM_CASES, ids=lambda env: " ".join(f"{k}={v}" for k, v in env.items()) or "empty"
)
def test_a_native_callers_streams_are_those_python_would_open(env: dict[str, str]) -> None:
    """The native client cannot say how Python would encode its streams; the server works it
    out from the environment, and must agree with a real Python started in it."""
    base = {"PATH": os.environ["PATH"], **env}
    real = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; print([[s.encoding, s.errors] for s in "
            "(sys.stdin, sys.stdout, sys.stderr)])",
        ],
        env=base,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # the server's child switches from the server's own environment to the caller's
    worked_out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; from hk.warm.server import python_streams; "
            f"env = {base!r}; os.environ.clear(); os.environ.update(env); "
            "print([list(s) for s in python_streams(env)])",
        ],
        env={**os.environ, "LANG": "C.UTF-8", "PYTHONIOENCODING": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert worked_out == real


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
    request = client._request(
        ["--archive", str(served), "customer", "add", "--name", "孙八", "--phone", "13600136000"]
    )
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

    def __init__(self, root: Path, *args: str, binary: str = HK_BIN) -> None:
        import pty

        self.master, slave = pty.openpty()
        self.tty = os.ttyname(slave)
        self.proc = subprocess.Popen(
            [binary, "--archive", str(root), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
        )
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
    answer_a_prompt(served, HK_BIN)


def answer_a_prompt(served: Path, binary: str) -> None:
    info = watch.status(str(served), DAEMON)
    assert info is not None
    term = Terminal(served, "customer", "add", binary=binary)
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
    interrupt_a_prompt(served, HK_BIN)


def interrupt_a_prompt(served: Path, binary: str) -> None:
    info = watch.status(str(served), DAEMON)
    assert info is not None
    before = git(served, "rev-parse", "HEAD")
    term = Terminal(served, "customer", "add", binary=binary)
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


# The native client (native/hk.c), built here from source with the project's build script.

ROOT = Path(__file__).resolve().parent.parent


def build_native(out: Path, *defines: str) -> str:
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler (scripts/system-packages.sh installs one for the tests)")
    if defines:  # a client built for another hk: the server must refuse it
        subprocess.run(
            [
                os.environ.get("CC", "cc"),
                "-O2",
                "-o",
                str(out),
                *defines,
                str(ROOT / "native" / "hk.c"),
            ],
            check=True,
        )
    else:
        built = subprocess.run(
            [str(ROOT / "scripts" / "build-client"), sys.executable, str(out)],
            capture_output=True,
            text=True,
        )
        assert built.returncode == 0 and not built.stderr, built.stderr  # no warning either
    return str(out)


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_native(tmp_path_factory.mktemp("native") / "hk")


@pytest.fixture(scope="module")
def python_hk(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ``hk`` script pip writes, whatever the environment's ``hk`` has become."""
    script = tmp_path_factory.mktemp("script") / "hk"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom hk.__main__ import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return str(script)


def both(
    binary: str,
    python_hk: str,
    root: Path,
    *args: str,
    cwd: Path | None = None,
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    where = [] if cwd is not None else ["--archive", str(root)]
    out = []
    for command, extra in ((binary, {}), (python_hk, {"HK_NO_SERVER": "1"})):
        out.append(
            subprocess.run(
                [command, *where, *args],
                capture_output=True,
                text=True,
                cwd=cwd,
                env={**os.environ, **extra},
            )
        )
    return out[0], out[1]


def test_the_native_client_prints_and_exits_as_python_hk_does(
    served: Path, native: str, python_hk: str
) -> None:
    for args in (
        ["customer", "find", "zs"],
        ["customer", "find", "张三", "--json"],
        ["customer", "show", "NOPE"],
        ["customer", "edit"],
        ["customer", "--help"],
        ["--help"],
        ["--version"],
        ["watch", "status"],
        ["nonsense"],
    ):
        warm, cold = both(native, python_hk, served, *args)
        assert (warm.returncode, warm.stdout, warm.stderr) == (
            cold.returncode,
            cold.stdout,
            cold.stderr,
        ), args
    warm, cold = both(
        native, python_hk, served, "customer", "find", "13900", cwd=served / "customers"
    )  # the archive found from the folder
    assert warm.returncode == 0 and warm.stdout == cold.stdout and "赵六" in warm.stdout


def test_the_native_client_hands_prompts_and_ctrl_c_to_the_server(
    served: Path, native: str
) -> None:
    answer_a_prompt(served, native)
    interrupt_a_prompt(served, native)


def test_without_a_server_the_native_client_runs_python_hk(
    archive: Archive, archive_path: Path, native: str, python_hk: str
) -> None:
    add_customer(archive, {"name": "张三", "phones": ["13800138000"]})
    for args in (
        ["customer", "find", "zs"],
        ["customer", "list", "--json"],
        ["--version"],
        ["customer", "add", "--help"],
        ["customer", "show", "NOPE"],
    ):
        alone, cold = both(native, python_hk, archive_path, *args)
        assert (alone.returncode, alone.stdout, alone.stderr) == (
            cold.returncode,
            cold.stdout,
            cold.stderr,
        ), args
    before = int(git(archive_path, "rev-list", "--count", "HEAD"))
    added = subprocess.run(
        [
            native,
            "--archive",
            str(archive_path),
            "customer",
            "add",
            "--name",
            "李四",
            "--phone",
            "13700137000",
        ],
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    assert int(git(archive_path, "rev-list", "--count", "HEAD")) == before + 1


def test_a_native_client_for_another_hk_is_refused_and_runs_it_once(
    served: Path, tmp_path: Path
) -> None:
    other = build_native(
        tmp_path / "hk", f'-DHK_PYTHON="{sys.executable}"', '-DHK_PACKAGE="/elsewhere/hk"'
    )
    before = int(git(served, "rev-list", "--count", "HEAD"))
    added = subprocess.run(
        [
            other,
            "--archive",
            str(served),
            "customer",
            "add",
            "--name",
            "钱七",
            "--phone",
            "13500135000",
        ],
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    assert int(git(served, "rev-list", "--count", "HEAD")) == before + 1
    assert "钱七" in run(served, "customer", "find", "钱七").stdout
