"""Shared fixtures: every test runs with its own home, key folder and git identity.

Archives are real git repositories in temp dirs; nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hk.cli import app
from hk.store.archive import Archive, init

HK_BIN = str(Path(sys.executable).with_name("hk"))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home: XDG folders, no global git config, a fixed operator and git identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_DATA_HOME", ".local/share"), ("XDG_STATE_HOME", ".local/state"),
                     ("XDG_CONFIG_HOME", ".config")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HK_OPERATOR", "测试员")
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    for var in ("HK_ARCHIVE", "HK_KEY_DIR", "EDITOR", "VISUAL", "HK_EDITOR", "HK_NO_FASTPATH"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    """A new archive with the default catalog."""
    root = tmp_path / "archive"
    init(root)
    return root


@pytest.fixture
def archive(archive_path: Path) -> Archive:
    return Archive(archive_path)


class Hk:
    """Runs ``hk`` on one archive: in-process through Typer's CliRunner, or as a real process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return self.runner.invoke(app, ["--archive", str(self.root), *args], input=input,
                                  catch_exceptions=False)

    def process(self, *args: str, env: dict[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HK_BIN, "--archive", str(self.root), *args], capture_output=True,
                              text=True, env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.fixture
def hk(archive_path: Path) -> Iterator[Hk]:
    yield Hk(archive_path)
