"""The TUI in a real terminal: ``hk`` started in tmux on a demo archive, driven by keys, the
screen read back as text (DESIGN §7: one smoke test in a real terminal).

tmux is required: without it this test fails and says how to install it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import HK_BIN


class Tmux:
    """A tmux server of this test's own (its own socket, no user configuration)."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "hk")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        """The screen once ``text`` shows on it (fails with the screen after ``timeout``)."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear; the screen shows:\n{shown}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "hk", *keys)

    def alive(self) -> bool:
        """Whether the session still runs (it ends when hk quits, and the server with it)."""
        proc = subprocess.run(
            ["tmux", "-L", self.socket, "has-session", "-t", "hk"],
            capture_output=True,
            env=os.environ.copy(),
        )
        return proc.returncode == 0


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail(
            "tmux is not installed; the terminal smoke test needs it "
            "(Debian/Ubuntu: apt-get install tmux)"
        )
    server = Tmux(f"hk-test-{os.getpid()}-{tmp_path.name}")
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True)


def test_hk_opens_the_tui_in_a_terminal_and_answers_keys(tmp_path: Path, tmux: Tmux) -> None:
    demo = tmp_path / "demo"
    built = subprocess.run(
        [HK_BIN, "demo", "--out", str(demo), "--no-tui"], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    command = f"{shlex.quote(HK_BIN)} -C {shlex.quote(str(demo))}"
    tmux.run("new-session", "-d", "-s", "hk", "-x", "120", "-y", "40", command)
    for text in ("今天和明天的订单", "本月", "证书将到期"):
        tmux.wait_for(text)
    tmux.keys("F3")
    tmux.wait_for("姓名/拼音/首字母")
    tmux.keys("c", "s", "f")
    tmux.wait_for("共 1 条")
    tmux.wait_for("陈淑芬")
    tmux.keys("Enter")
    for text in ("服务禁忌", "已遮住", "桐梓林"):
        tmux.wait_for(text)
    tmux.keys("v")
    tmux.wait_for("原因")
    tmux.keys("check", "Enter")
    tmux.wait_for("已显示")
    tmux.wait_for("尘螨过敏")
    tmux.keys("Escape", "F4")
    tmux.wait_for("可用时间")
    tmux.keys("C-q")
    deadline = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not tmux.alive(), "hk did not quit on Ctrl+Q:\n" + tmux.screen()
