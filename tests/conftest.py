"""Shared fixtures: every test runs with its own home, key folder and git identity.

Archives are real git repositories in temp dirs; nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hk.cli import app
from hk.services.archive import init
from hk.store.archive import Archive

HK_BIN = str(Path(sys.executable).with_name("hk"))


def isolate(env: pytest.MonkeyPatch, home: Path) -> None:
    """A fresh home: XDG folders, no global git config, a fixed operator and git identity."""
    env.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CONFIG_HOME", ".config"),
    ):
        env.setenv(var, str(home / sub))
    env.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    env.setenv("GIT_CONFIG_NOSYSTEM", "1")
    env.setenv("HK_OPERATOR", "测试员")
    env.setenv("TZ", "Asia/Shanghai")
    for var in ("HK_ARCHIVE", "HK_KEY_DIR", "EDITOR", "VISUAL", "HK_EDITOR"):
        env.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own home (see :func:`isolate`)."""
    home = tmp_path_factory.mktemp("home")
    isolate(monkeypatch, home)
    return home


@contextmanager
def isolated_home(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """:func:`isolate` for a module-scoped fixture (an archive built once, read by many tests)."""
    home = tmp_path_factory.mktemp(f"{name}-home")
    with pytest.MonkeyPatch.context() as env:
        isolate(env, home)
        yield home


def git(root: Path, *args: str) -> str:
    """Run git in an archive; its output."""
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def ok(result: Any) -> Any:
    """A CliRunner result or a finished process that must have succeeded (its output shown
    if not)."""
    if isinstance(result, subprocess.CompletedProcess):
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        return result
    assert result.exit_code == 0, result.output
    return result


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
        return self.runner.invoke(
            app, ["--archive", str(self.root), *args], input=input, catch_exceptions=False
        )

    def process(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HK_BIN, "--archive", str(self.root), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )


@pytest.fixture
def hk(archive_path: Path) -> Iterator[Hk]:
    yield Hk(archive_path)
