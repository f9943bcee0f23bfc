"""``hk remind`` end to end on the demo archive: the rules it has due, the fast listing equal to
the full one, sending twice under ``env -i`` with no terminal (each item once), a run killed
midway (the rest sent on the next run, nothing twice), and return visits and complaints equal
to what their own services say is due."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import HK_BIN, git, isolated_home
from tests.remind_support import Recorder, add_channels, http_server

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The demo archive, built once for the module, and the home it was built in."""
    with isolated_home(tmp_path_factory, "remind-demo") as home:
        root = tmp_path_factory.mktemp("remind-demo") / "demo"
        subprocess.run(
            [HK_BIN, "demo", "--out", str(root), "--no-tui"],
            check=True,
            capture_output=True,
            env=dict(os.environ),
        )
        yield root, home


@pytest.fixture
def demo(demo_build: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo archive of its own, in the home the demo was built in."""
    root, home = demo_build
    copy = tmp_path / "demo"
    shutil.copytree(root, copy, symlinks=True)
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CONFIG_HOME", ".config"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    return copy


def hk(
    root: Path, *args: str, env: dict[str, str] | None = None, stdin: Any = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HK_BIN, "--archive", str(root), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        stdin=stdin,
    )


def listed(root: Path, *args: str) -> list[dict[str, Any]]:
    proc = hk(root, "remind", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    items: list[dict[str, Any]] = json.loads(proc.stdout)["items"]
    return items


def bare_env() -> dict[str, str]:
    """What ``env -i`` leaves (nothing), plus what the test machine needs to find git's and
    hk's own config in the test home."""
    return {"GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"], "GIT_CONFIG_NOSYSTEM": "1"}


def test_demo_has_every_kind_of_reminder_its_sample_data_holds(demo: Path) -> None:
    items = listed(demo)
    rules = Counter(i["rule"] for i in items)
    assert rules["appointment"] and rules["certificate"] and rules["insurance"]
    assert {i["facts"]["lead"] for i in items if i["rule"] == "contract_end"} == {7, 30}
    assert any(i["facts"]["expired"] for i in items if i["rule"] == "certificate")
    assert rules["visit"]
    audiences = Counter(i["audience"] for i in items)
    assert audiences["office"] and audiences["customer"] and audiences["worker"]
    only_office = listed(demo, "--audience", "office")
    assert {i["audience"] for i in only_office} == {"office"}


def test_a_misspelt_setting_in_hk_toml_is_reported_by_the_listing(demo: Path) -> None:
    path = demo / "hk.toml"
    path.write_text(path.read_text().replace("birthday_days = 1", "birthday_dayz = 1"))
    full = hk(demo, "remind")
    assert full.returncode == 1 and "birthday_dayz" in full.stderr


def gateway(url: str) -> str:
    return f"""[[notify.channels]]
name = "stdout"
kind = "stdout"

[[notify.channels]]
name = "gateway"
kind = "webhook"
audiences = ["customers", "workers"]
url = "{url}/hk"
"""


def test_send_twice_under_env_i_sends_every_item_exactly_once(demo: Path) -> None:
    with http_server() as (url, rec):
        add_channels(demo, gateway(url))
        due = listed(demo)
        env = bare_env()
        first = subprocess.run(
            [
                "env",
                "-i",
                *(f"{k}={v}" for k, v in env.items()),
                HK_BIN,
                "--archive",
                str(demo),
                "remind",
                "--send",
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert first.returncode == 0, first.stderr
        assert first.stderr == ""
        office = [i for i in due if i["audience"] == "office"]
        assert first.stdout.startswith("## ") and f"提醒（{len(office)}项）" in first.stdout
        second = subprocess.run(
            [
                "env",
                "-i",
                *(f"{k}={v}" for k, v in env.items()),
                HK_BIN,
                "--archive",
                str(demo),
                "remind",
                "--send",
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert second.returncode == 0, second.stderr
        assert second.stdout == "" and second.stderr == ""  # nothing new: nothing said
    personal = [i["key"] for i in due if i["audience"] != "office"]
    assert sorted(rec.occasions()) == sorted(personal)
    log = git(demo, "log", "--format=%s%n%b", "-1")
    assert log.startswith(
        f"remind: {len(due)} sent (stdout {len(office)}, gateway {len(personal)})"
    )
    assert git(demo, "status", "--porcelain", "--", "reminders") == ""
    assert listed(demo, "--dry-run") == []


class Stall:
    """Answers requests until the ``at``-th, which it holds until released, then drops."""

    def __init__(self, at: int) -> None:
        self.at, self.seen = at, 0
        self.arrived, self.release = threading.Event(), threading.Event()

    def __call__(self, request: Any) -> tuple[int, dict[str, Any]]:
        self.seen += 1
        if self.seen != self.at:
            return 200, {}
        self.arrived.set()
        self.release.wait(30)
        return 0, {}


def test_killed_midway_the_next_run_sends_the_rest_and_nothing_twice(demo: Path) -> None:
    stall = Stall(at=4)
    with http_server(Recorder(answer=stall)) as (url, rec):
        add_channels(demo, gateway(url))
        due = [i["key"] for i in listed(demo) if i["audience"] != "office"]
        assert len(due) > 4
        proc = subprocess.Popen(
            [HK_BIN, "--archive", str(demo), "remind", "--send"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert stall.arrived.wait(60), "the fourth message never came"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        stall.release.set()
        delivered = list(rec.occasions())
        assert 0 < len(delivered) < len(due)
        left = git(demo, "status", "--porcelain", "--", "reminders")
        assert left.startswith("?? "), left  # what went out is on disk, not yet committed
        assert sorted(
            i["key"]
            for i in listed(demo, "--dry-run", "--audience", "customers", "--audience", "workers")
        ) == sorted(set(due) - set(delivered))
        time.sleep(0.05)
        again = hk(demo, "remind", "--send")
        assert again.returncode == 0, again.stderr
    assert Counter(rec.occasions()) == Counter(due)  # each once, in all
    subject = git(demo, "log", "--format=%s", "-1").strip()
    assert subject.endswith("recorded 1 interrupted run")
    assert git(demo, "status", "--porcelain", "--", "reminders") == ""


def test_return_visits_and_complaints_are_what_their_services_say(demo: Path) -> None:
    from hk.domain.reminders import CATCH_UP_DAYS
    from hk.remind.config import RemindConfig
    from hk.remind.gather import gather
    from hk.services.complaints import ComplaintIn, complaints_near_sla, open_complaint
    from hk.services.visits import visits_due
    from hk.store.archive import Archive

    archive = Archive(demo)
    now = dt.datetime.now(TZ).replace(microsecond=0)
    customers = [row["id"] for row in archive.index.list("customer", limit=3)]
    opened = [
        open_complaint(
            archive,
            ComplaintIn("quality", "没擦干净", received_at=now - dt.timedelta(hours=hours)),
            customer=customer,
        ).record.id
        for customer, hours in zip(customers, (2, 20, 30), strict=True)
    ]
    config = RemindConfig.from_settings(archive.settings)
    found = gather(archive.index, now.date(), config)
    mine = {i.key for i in found.items if i.rule == "complaint"}
    theirs = {f"{a.key}" for a in complaints_near_sla(archive, now)}
    assert mine == theirs
    # 2 hours into 24: running; 20 hours in: near; 30 hours: overdue.
    assert {k for k in mine if k.split(":")[1] in opened} == {
        f"complaint:{opened[1]}:near",
        f"complaint:{opened[2]}:overdue",
    }
    for offset in (0, 5, 30, 95, 190):
        day = now.date() + dt.timedelta(days=offset)
        items = [i for i in gather(archive.index, day, config).items if i.rule == "visit"]
        mine = {i.key.removeprefix("return-visit:").rsplit(":", 1)[0] for i in items}
        theirs = {v.key for v in visits_due(archive, day) if v.days_overdue < CATCH_UP_DAYS}
        assert mine == theirs, day
