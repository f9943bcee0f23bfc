"""``hk cron install|show|remove`` with the real ``crontab`` command, and the installed line run
the way cron runs it: no terminal, an empty environment.

The user's own crontab is saved before each test and put back after it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import git
from tests.orders_support import Shop
from tests.remind_support import reminder_shop

OTHER = "17 3 * * 1 /usr/bin/true # someone else's job"


def crontab(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["crontab", *args], input=input, capture_output=True, text=True)


@pytest.fixture
def saved_crontab() -> Iterator[None]:
    assert shutil.which("crontab"), "the tests drive the real crontab: install cron"
    before = crontab("-l")
    try:
        yield
    finally:
        if before.returncode == 0:
            crontab("-", input=before.stdout)
        else:
            crontab("-r")


@pytest.fixture
def shop(archive: Any, archive_path: Path, saved_crontab: None) -> Shop:
    return reminder_shop(archive, archive_path)


def lines() -> list[str]:
    proc = crontab("-l")
    return proc.stdout.splitlines() if proc.returncode == 0 else []


def test_install_show_remove_keep_the_other_lines(shop: Shop) -> None:
    crontab("-", input=OTHER + "\n")
    installed = shop.cli("cron", "install")
    assert installed.exit_code == 0, installed.output
    archive_id = shop.archive.settings.archive_id
    mine = [ln for ln in lines() if ln.endswith(f"# hk remind: archive {archive_id}")]
    assert len(mine) == 1 and OTHER in lines()
    line = mine[0]
    # [reminders] daily_at is 08:00 Beijing time; cron reads the system's time.
    local = dt.datetime.combine(dt.date.today(), dt.time(8), ZoneInfo("Asia/Shanghai"))
    local = local.astimezone()
    assert line.startswith(f"{local.minute} {local.hour} * * * ")
    assert f"HK_ARCHIVE={shop.archive.root}" in line and "remind --send" in line
    assert "HK_OPERATOR='测试员'" in line and "PATH=" in line
    assert installed.stdout.strip() == f"installed: {line}"
    assert shop.cli("cron", "show").stdout.strip() == line

    again = shop.cli("cron", "install")
    assert again.stdout.startswith("updated: ")
    assert len([ln for ln in lines() if archive_id in ln]) == 1

    assert shop.cli("cron", "remove").exit_code == 0
    assert lines() == [OTHER]
    shown = shop.cli("cron", "show")
    assert shown.exit_code == 1 and "hk cron install" in shown.stderr


def test_installed_line_runs_under_cron_environment(shop: Shop) -> None:
    assert shop.cli("cron", "install").exit_code == 0
    [line] = [ln for ln in lines() if "# hk remind: archive" in ln]
    command = line.split(" ", 5)[5]  # after minute, hour, day, month, weekday
    run = subprocess.run(
        ["env", "-i", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    assert "健康证" in run.stdout  # the cleaner's certificate: due today, to the office
    assert git(shop.archive.root, "log", "--format=%s", "-1").startswith("remind: ")
    again = subprocess.run(
        ["env", "-i", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""


def test_install_warns_of_secrets_cron_will_not_have(shop: Shop) -> None:
    path = shop.archive.root / "hk.toml"
    path.write_text(
        path.read_text()
        + """
[[notify.channels]]
name = "office-mail"
kind = "email"
host = "smtp.example.com"
user = "office"
password_env = "HK_SMTP_PASSWORD"
sender = "office@example.com"
to = ["boss@example.com"]
"""
    )
    result = shop.cli("cron", "install")
    assert result.exit_code == 0
    assert "HK_SMTP_PASSWORD" in result.stderr and "password_file" in result.stderr
    assert "HK_SMTP_PASSWORD" not in "\n".join(lines())
