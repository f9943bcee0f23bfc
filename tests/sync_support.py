"""Several clones of one archive and the shared remote they sync through, served by a real
``git daemon`` on loopback (git:// URLs), as an office would share one on its network.

The remote is a bare repository; each clone is an ordinary ``git clone`` with its own
operator (``hk.local.toml``) and the same key folder (the test's home), as operators who
copied the owner's key would have.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hk.services.archive import init
from hk.store.archive import Archive
from tests.conftest import Hk, git


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class GitServer:
    """A running ``git daemon`` serving the bare repositories under ``base``."""

    base: Path
    port: int

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def bare(self, name: str) -> str:
        """A new empty bare repository served as ``name``; its URL."""
        subprocess.run(
            ["git", "init", "-q", "--bare", "-b", "main", str(self.base / name)], check=True
        )
        return self.url(name)


def _serve(base: Path) -> tuple[subprocess.Popen[bytes], int]:
    for _ in range(5):  # a free port can be taken between the check and the bind
        port = free_port()
        proc = subprocess.Popen(
            [
                "git",
                "daemon",
                "--export-all",
                "--enable=receive-pack",
                "--reuseaddr",
                "--informative-errors",
                f"--base-path={base}",
                "--listen=127.0.0.1",
                f"--port={port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return proc, port
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    raise RuntimeError("git daemon did not start")


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    """A real git server on loopback for this test (stopped after it)."""
    if shutil.which("git") is None:  # pragma: no cover - git is part of the test setup
        pytest.fail("git is not installed")
    base = tmp_path / "served"
    base.mkdir()
    proc, port = _serve(base)
    try:
        yield GitServer(base, port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def set_operator(root: Path, name: str) -> None:
    """The clone's operator, in its own ``hk.local.toml`` (git ignores it)."""
    (root / "hk.local.toml").write_text(f'operator = "{name}"\n', encoding="utf-8")


def office(
    server: GitServer, tmp_path: Path, operators: list[str], monkeypatch: pytest.MonkeyPatch
) -> list[Path]:
    """An archive created by the first operator, pushed to a new remote and cloned by the
    others: one folder per operator, all at the same commit, each with its operator set."""
    monkeypatch.delenv("HK_OPERATOR", raising=False)
    url = server.bare("office.git")
    first = tmp_path / "clone-0"
    init(first)
    set_operator(first, operators[0])
    git(first, "remote", "add", "origin", url)
    roots = [first]
    result = Hk(first)("sync")
    assert result.exit_code == 0, result.output
    for n, name in enumerate(operators[1:], start=1):
        root = tmp_path / f"clone-{n}"
        subprocess.run(["git", "clone", "-q", url, str(root)], check=True, capture_output=True)
        for key, value in (("user.name", name), ("user.email", f"op{n}@office.test")):
            git(root, "config", key, value)
        set_operator(root, name)
        roots.append(root)
    return roots


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def tree(root: Path) -> str:
    return git(root, "rev-parse", "HEAD^{tree}").strip()


def opened(root: Path) -> Archive:
    return Archive(root)
