"""The file watcher (``hk watch``): reads with it running see every change a full scan would,
and neither ``hk watch`` nor a read ever trusts what another user could have put in its way.

Real archives, a real daemon process started by the real ``hk`` binary, real watchfiles.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hk.domain.ids import new_id
from hk.services.archive import init
from hk.services.lookup import find, list_rows, open_index
from hk.services.people import add_customer
from hk.store import watch, watch_daemon
from hk.store.archive import Archive
from hk.store.snapshot import read_stamp
from hk.tui.data.session import Watch
from tests.conftest import Hk, git, ok
from tests.orders_support import make_shop

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="hk watch is Linux's")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs a second user: run as root")
NOBODY = 65534

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
    assert os.path.exists(str(watch.socket_path(str(root))))  # stale, refuses connections
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
        assert not os.path.exists(str(watch.socket_path(str(people))))
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


def test_a_hung_watcher_is_skipped_by_reads_and_ended_by_stop(daemon: Daemon) -> None:
    root = daemon.root
    pid = daemon.pids[0]
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert watch.ask(str(root), {"customers": token(root, "customer")}) is None
        assert time.monotonic() - started < watch.ANSWER_TIMEOUT + 0.2
        assert names(root, "张三") == ["张三"]
        assert "watcher stopped" in ok(Hk(root)("watch", "stop")).stdout
        assert wait_until(lambda: gone(pid))
    finally:
        if not gone(pid):
            os.kill(pid, signal.SIGCONT)


# --- what another process or user may have put in the way -----------------------------------


def holding_the_lock(root: Path) -> subprocess.Popen[bytes]:
    """An unrelated process (``sleep``) that holds the watcher's lock file locked, its pid
    written in it, as a crashed daemon's pid reused by someone else, or an attacker, would."""
    watch.make_private(watch.state_dir(str(root)))
    fd = os.open(watch.lock_path(str(root)), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        sleeper = subprocess.Popen(["sleep", "60"], pass_fds=(fd,))  # shares the lock
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{sleeper.pid}\n".encode(), 0)
    finally:
        os.close(fd)
    return sleeper


def test_stop_never_signals_the_process_a_stale_lock_file_names(people: Path) -> None:
    hk = Hk(people)
    sleeper = holding_the_lock(people)
    try:
        assert watch.locked(str(people))
        assert "does not answer" in ok(hk("watch", "status")).stdout
        assert "was not running" in ok(hk("watch", "stop")).stdout
        assert sleeper.poll() is None
        # a stale socket left by a killed daemon changes nothing
        server = watch_daemon.listen(str(people), str(watch.socket_path(str(people))))
        server.close()
        assert "was not running" in ok(hk("watch", "stop")).stdout
        time.sleep(0.1)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_stop_never_signals_the_pid_in_the_lock_file_of_a_live_watcher(daemon: Daemon) -> None:
    root = daemon.root
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        Path(watch.lock_path(str(root))).write_text(f"{sleeper.pid}\n", encoding="ascii")
        status = ok(Hk(root)("watch", "status")).stdout
        assert f"pid {daemon.pids[0]}" in status
        assert "watcher stopped" in ok(Hk(root)("watch", "stop")).stdout
        assert wait_until(lambda: gone(daemon.pids[0]))
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_socket_in_a_folder_open_to_others_is_ignored(daemon: Daemon) -> None:
    root = daemon.root
    folder = watch.state_dir(str(root))
    assert watch.ask(str(root), {"customers": None}) is not None
    os.chmod(folder, 0o770)
    try:
        assert watch.ask(str(root), {"customers": None}) is None
        assert watch.status(str(root)) is None
        assert names(root, "张三") == ["张三"]  # a full scan, as without a watcher
    finally:
        os.chmod(folder, 0o700)
    assert watch.ask(str(root), {"customers": None}) is not None


@as_root
def test_a_socket_of_another_user_is_ignored(daemon: Daemon) -> None:
    root = daemon.root
    path = str(watch.socket_path(str(root)))
    os.chown(path, NOBODY, NOBODY)
    try:
        assert watch.ask(str(root), {"customers": None}) is None
        assert watch.status(str(root)) is None
    finally:
        os.chown(path, os.getuid(), os.getgid())
    assert watch.ask(str(root), {"customers": None}) is not None


@as_root
@pytest.mark.skipif(not os.access("/usr/bin/python3", os.X_OK), reason="a Python for nobody")
def test_a_listener_of_another_user_is_ignored_whatever_the_socket_file_says(
    people: Path,
) -> None:
    """Another user's process answers "nothing changed" on a socket file made to look ours:
    the kernel's word on the peer (SO_PEERCRED) decides, and reads stay exact."""
    lair = Path(tempfile.mkdtemp())  # where nobody can reach it, unlike pytest's folders
    os.chown(lair, NOBODY, NOBODY)
    fake = textwrap.dedent(
        f"""
        import socket
        server = socket.socket(socket.AF_UNIX)
        server.bind({str(lair / "sock")!r})
        server.listen(8)
        print("ready", flush=True)
        while True:
            conn, _ = server.accept()
            try:
                conn.recv(65536)
                conn.sendall(b"Tx:1\\0Wcustomers\\0E\\0")
            except OSError:
                pass  # the client hung up, as it should
            conn.close()
        """
    )
    impostor = subprocess.Popen(
        ["/usr/bin/python3", "-c", fake], user=NOBODY, group=NOBODY, stdout=subprocess.PIPE
    )
    try:
        assert impostor.stdout is not None and impostor.stdout.readline() == b"ready\n"
        watch.make_private(watch.state_dir(str(people)))
        path = str(watch.socket_path(str(people)))
        os.rename(lair / "sock", path)
        os.chown(path, os.getuid(), os.getgid())
        assert watch.ask(str(people), {"customers": None}) is None
        assert "was not running" in ok(Hk(people)("watch", "stop")).stdout
        assert impostor.poll() is None
        customer_file(people, "张三").unlink()
        assert names(people, "张三") == []
    finally:
        impostor.kill()
        impostor.wait()
        shutil.rmtree(lair)


# --- the daemon's bookkeeping, in process ---------------------------------------------------


def watcher_of(root: Path) -> watch_daemon.Watcher:
    return watch_daemon.Watcher(os.path.realpath(root), 1.0)


def test_a_flood_of_changes_is_taken_as_everything(people: Path) -> None:
    """watchfiles drops notify's overflow ("rescan") event, so a batch big enough to have
    overflowed the kernel's queue counts as one in which events were lost."""
    watcher = watcher_of(people)
    start = f"{watcher.instance}:{watcher.seq}"
    prefix = watcher.prefix
    watcher.take({(2, f"{prefix}customers/a.yaml")})
    assert watcher.since("customers", start, synced=True) == ["Wcustomers", "Pa.yaml"]
    flood = {(2, f"{prefix}orders/2026/01/{n}.json") for n in range(watcher.flood)}
    watcher.take(flood)
    assert watcher.since("customers", start, synced=True) == ["Acustomers"]
    assert watcher.since("orders", start, synced=True) == ["Aorders"]


def test_folders_coming_and_going_reset_their_kind_and_other_files_are_not_noted(
    people: Path,
) -> None:
    watcher = watcher_of(people)
    start = f"{watcher.instance}:{watcher.seq}"
    prefix = watcher.prefix
    watcher.take(
        {
            (1, f"{prefix}customers/.tmp-1234"),  # a temporary file of an atomic write
            (1, f"{prefix}customers/b.yaml"),
            (2, f"{prefix}orders/2026/01/x.json"),
            (2, f"{prefix}orders"),  # a folder's own stat data: nothing to do
            (1, f"{prefix}catalog"),  # above two kinds' folders
            (3, f"{prefix}visits/2026/02"),  # a partition folder
            (1, f"{prefix}hk.toml"),
        }
    )
    assert watcher.since("customers", start, synced=True) == ["Wcustomers", "Pb.yaml"]
    assert watcher.since("orders", start, synced=True) == ["Worders", "P2026/01/x.json"]
    assert watcher.since("catalog/services", start, synced=True) == ["Acatalog/services"]
    assert watcher.since("catalog/packages", start, synced=True) == ["Acatalog/packages"]
    assert watcher.since("visits", start, synced=True) == ["Avisits"]
    assert watcher.since("quotes", start, synced=True) == ["Wquotes"]
    assert watcher.since("customers", start, synced=False) == ["Acustomers"]


def test_a_watchfiles_error_makes_every_older_token_get_everything(
    people: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """watchfiles drops the changes it held when it reports an error: nothing from before the
    error can be trusted, and the watcher starts again."""
    import watchfiles

    watcher = watcher_of(people)
    runs: list[int] = []
    fail = threading.Event()
    real = watchfiles.watch

    def flaky(*args: object, **kwargs: object) -> Iterator[set[tuple[int, str]]]:
        runs.append(1)
        for batch in real(*args, **kwargs):  # type: ignore[arg-type]
            yield batch
            if fail.is_set() and len(runs) == 1:
                raise RuntimeError("error in underlying watcher")

    monkeypatch.setattr(watchfiles, "watch", flaky)
    try:
        assert watcher.start()
        assert watcher.sync()
        before = f"{watcher.instance}:{watcher.seq}"
        (people / "customers" / "new.yaml").write_text("x", encoding="utf-8")
        assert watcher.sync()
        assert watcher.since("customers", before, synced=True) == ["Wcustomers", "Pnew.yaml"]
        fail.set()
        (people / "customers" / "new.yaml").unlink()
        assert wait_until(lambda: len(runs) == 2)
        assert wait_until(watcher.sync)
        assert watcher.since("customers", before, synced=True) == ["Acustomers"]
        after = f"{watcher.instance}:{watcher.seq}"
        assert watcher.since("customers", after, synced=True) == ["Wcustomers"]
    finally:
        watcher.end("test over")
        watcher.thread.join(2)


def test_the_tui_poller_sees_an_edit_in_place_at_once_with_a_watcher(
    daemon: Daemon, archive: Archive
) -> None:
    root = daemon.root
    poller = Watch(root)
    poller.check(archive)  # the first check takes the watcher's tokens
    assert poller.check(archive).changed is False
    path = customer_file(root, "张三")
    stat = path.stat()
    data = path.read_bytes()
    with open(path, "r+b") as handle:  # same size, same folder: the signature cannot tell
        handle.write(data.replace("张三".encode(), "李四".encode()))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert poller.check(archive).changed is True
    assert names(root, "李四") == ["李四"]
    assert poller.check(archive).changed is False


def test_the_daemon_stays_light() -> None:
    """No Typer, Pydantic or Rich in a process that lives for hours."""
    code = (
        "import sys, hk.store.watch_daemon, watchfiles\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'typer', 'click', 'pydantic', 'rich', 'textual', 'ruamel'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
