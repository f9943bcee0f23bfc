"""The file watcher (``hk watch``): reads with it running see every change a full scan would.

Real archives, a real daemon process started by the real ``hk`` binary, real inotify.
"""

from __future__ import annotations

import datetime as dt
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

from hk.domain.ids import new_id
from hk.services.archive import init
from hk.services.lookup import find, list_rows, open_index
from hk.services.people import add_customer
from hk.store import watch
from hk.store.archive import Archive
from hk.store.snapshot import read_stamp
from tests.conftest import Hk, git, ok
from tests.orders_support import make_shop

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

PEOPLE = [{"name": "张三", "phones": ["13800138000"]}, {"name": "赵六", "phones": ["13900139000"]}]


def names(root: Path, query: str, kind: str = "customer") -> list[str]:
    """What a search finds, through the index as a read command uses it."""
    return [item["name"] for item in find(open_index(root), kind, query)]


def token(root: Path, kind: str) -> str | None:
    return read_stamp(str(root / ".git" / "hk" / f"snapshot-{kind}.marshal"))[1].token


def gone(pid: int) -> bool:
    """No such process, or only its zombie (its parent, ``hk watch start``, has exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


class Daemon:
    """Starts the archive's watcher with the real binary; ends it, by its pid, afterwards."""

    def __init__(self, root: Path) -> None:
        self.hk = Hk(root)
        self.root = root
        self.pids: list[int] = []

    def start(self, *args: str) -> int:
        proc = self.hk.process("watch", "start", *args)
        assert proc.returncode == 0, proc.stderr
        info = watch.status(str(self.root))
        assert info is not None
        self.pids.append(int(info["pid"]))
        return self.pids[-1]

    def end(self) -> None:
        for pid in self.pids:
            if not gone(pid):
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda pid=pid: gone(pid))


@pytest.fixture
def people(archive: Archive, archive_path: Path) -> Path:
    for fields in PEOPLE:
        add_customer(archive, fields)
    return archive_path


@pytest.fixture
def daemon(people: Path) -> Iterator[Daemon]:
    running = Daemon(people)
    try:
        running.start()
        assert names(people, "张三") == ["张三"]  # the snapshot now carries the daemon's token
        assert token(people, "customer")
        yield running
    finally:
        running.end()


def customer_file(root: Path, name: str) -> Path:
    return next(
        p
        for p in (root / "customers").glob("*.yaml")
        if f"name: {name}\n" in p.read_text(encoding="utf-8")
    )


# --- reads with the watcher see every change -------------------------------------------------


def test_a_hand_edit_in_place_of_the_same_size_is_seen(daemon: Daemon) -> None:
    root = daemon.root
    path = customer_file(root, "张三")
    data = path.read_bytes()
    edited = data.replace("张三".encode(), "李四".encode())
    assert len(edited) == len(data)
    with open(path, "r+b") as handle:  # in place: same inode, same size
        handle.write(edited)
    answer = watch.ask(str(root), {"customers": token(root, "customer")})
    assert answer is not None and answer.changes("customers") == [path.name]
    assert names(root, "李四") == ["李四"]
    assert names(root, "张三") == []


def test_a_new_file_and_a_deleted_file_are_seen(daemon: Daemon) -> None:
    root = daemon.root
    source = customer_file(root, "张三")
    fresh = new_id()
    text = source.read_text(encoding="utf-8").replace(source.stem, fresh).replace("张三", "王五")
    (root / "customers" / f"{fresh}.yaml").write_text(text, encoding="utf-8")
    customer_file(root, "赵六").unlink()
    assert names(root, "王五") == ["王五"]
    assert names(root, "赵六") == []
    assert names(root, "张三") == ["张三"]


def test_a_checkout_of_an_older_commit_is_seen(daemon: Daemon, archive: Archive) -> None:
    root = daemon.root
    add_customer(archive, {"name": "钱七", "phones": ["13700137000"]})
    assert names(root, "钱七") == ["钱七"]
    git(root, "checkout", "-q", "HEAD~1")
    assert names(root, "钱七") == []
    git(root, "checkout", "-q", "-")
    assert names(root, "钱七") == ["钱七"]


def test_a_new_month_folder_of_orders_is_seen_and_then_watched(
    archive: Archive, archive_path: Path
) -> None:
    shop = make_shop(archive, archive_path)
    first = shop.new()
    daemon = Daemon(archive_path)
    try:
        daemon.start()
        index = open_index(archive_path)
        assert [r["code"] for r in list_rows(index, "order")] == [first]
        source = next((archive_path / "orders").glob("*/*/*.json"))
        later = new_id(int(dt.datetime(2031, 5, 1, tzinfo=dt.UTC).timestamp() * 1000))
        month = archive_path / "orders" / "2031" / "05"
        month.mkdir(parents=True)
        copy = month / f"{later}.json"
        copy.write_text(
            source.read_text(encoding="utf-8").replace(source.stem, later), encoding="utf-8"
        )
        assert {r["id"] for r in list_rows(index, "order")} == {source.stem, later}
        data = json.loads(copy.read_text(encoding="utf-8"))
        copy.write_text(json.dumps({**data, "channel": "wechat"}), encoding="utf-8")
        answer = watch.ask(str(archive_path), {"orders": token(archive_path, "order")})
        assert answer is not None and answer.changes("orders") == [f"2031/05/{later}.json"]
        rows = {r["id"]: r for r in list_rows(index, "order")}
        assert rows[later]["channel"] == "wechat"
    finally:
        daemon.end()


def test_a_removed_record_folder_makes_the_watcher_answer_everything(daemon: Daemon) -> None:
    root = daemon.root
    shutil.rmtree(root / "customers")
    answer = watch.ask(str(root), {"customers": token(root, "customer")})
    assert answer is not None and answer.changes("customers") is None
    assert names(root, "张三") == []
    git(root, "checkout", "-q", "--", "customers")
    assert names(root, "张三") == ["张三"]
    answer = watch.ask(str(root), {"customers": token(root, "customer")})
    assert answer is not None and answer.changes("customers") == []


def test_an_unknown_token_or_folder_gets_no_list_of_changes(daemon: Daemon) -> None:
    answer = watch.ask(str(daemon.root), {"customers": "0.1:0", "orders": None, "notes": "x"})
    assert answer is not None
    assert answer.changes("customers") is None and answer.changes("orders") is None
    assert not answer.watches("notes")
    current = watch.ask(str(daemon.root), {"customers": answer.token})
    assert current is not None and current.changes("customers") == []


# --- the daemon's life ------------------------------------------------------------------------


def test_after_sigkill_reads_fall_back_and_stay_correct_and_it_restarts(daemon: Daemon) -> None:
    root = daemon.root
    os.kill(daemon.pids[0], signal.SIGKILL)
    assert wait_until(lambda: watch.status(str(root)) is None)
    assert (root / ".git" / "hk" / "watch.sock").exists()  # stale, refuses connections
    assert watch.ask(str(root), {"customers": token(root, "customer")}) is None
    path = customer_file(root, "张三")
    path.write_text(path.read_text(encoding="utf-8").replace("张三", "孙八"), encoding="utf-8")
    assert names(root, "孙八") == ["孙八"]
    daemon.start()
    assert watch.ask(str(root), {"customers": None}) is not None
    path.write_text(path.read_text(encoding="utf-8").replace("孙八", "周九"), encoding="utf-8")
    assert names(root, "周九") == ["周九"]


def test_stop_and_status(people: Path) -> None:
    hk = Hk(people)
    assert "not running" in ok(hk("watch", "status")).stdout
    daemon = Daemon(people)
    try:
        pid = daemon.start()
        status = ok(hk("watch", "status")).stdout
        assert f"pid {pid}" in status and "running since" in status
        assert "already running" in hk.process("watch", "start").stdout
        assert "watcher stopped" in ok(hk("watch", "stop")).stdout
        assert wait_until(lambda: gone(pid))
        assert not (people / ".git" / "hk" / "watch.sock").exists()
        assert "not running" in ok(hk("watch", "status")).stdout
        assert "was not running" in ok(hk("watch", "stop")).stdout
    finally:
        daemon.end()


def test_it_stops_when_idle_or_when_the_archive_is_gone(people: Path) -> None:
    daemon = Daemon(people)
    try:
        pid = daemon.start("--idle-hours", "0.0003")  # about a second
        assert wait_until(lambda: gone(pid), seconds=10)
        pid = daemon.start()
        shutil.rmtree(people)
        assert wait_until(lambda: gone(pid))
    finally:
        daemon.end()


def test_a_deep_archive_gets_a_short_socket_in_a_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    root = tmp_path.joinpath(*["folder-of-some-length"] * 5, "archive")
    init(root)
    add_customer(Archive(root), PEOPLE[0])
    path = watch.socket_path(str(root))
    assert path is not None and path.startswith(str(runtime))
    daemon = Daemon(root)
    try:
        daemon.start()
        assert names(root, "张三") == ["张三"]
        customer_file(root, "张三").unlink()
        answer = watch.ask(str(root), {"customers": token(root, "customer")})
        assert answer is not None and len(answer.changes("customers") or []) == 1
        assert names(root, "张三") == []
    finally:
        daemon.end()


def test_reads_without_a_watcher_never_wait(people: Path) -> None:
    started = time.monotonic()
    assert watch.ask(str(people), {"customers": None}) is None
    assert time.monotonic() - started < 0.05
    assert (
        subprocess.run(
            ["git", "-C", str(people), "status", "--porcelain"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        == ""
    )
