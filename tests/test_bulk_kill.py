"""A bulk write killed with SIGKILL in its rename window leaves all of it or none (DESIGN §3).

Real ``hk import`` and ``hk dispatch plan --apply`` processes are killed at chosen moments:
stopped by ``HK_BULK_PAUSE`` after 0, 1, some or all of their renames or after their commit
(deterministic), killed as soon as their journal appears plus a random few milliseconds, and
killed after a random delay from their start. After each kill another ``hk`` command runs (any
read recovers), then HEAD and the working tree must hold the whole write or nothing of it, no
``.hk-*.tmp`` may be left, and when nothing was written the same command run again must do it
all. The test prints how many kills it made and how many torn or partial states it found.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.killtest import _wait_group
from hk.domain.customer import Customer
from hk.errors import HkError
from hk.services.people import add_customer
from hk.store import git as git_store
from hk.store.archive import Archive
from hk.store.files import relpath_for
from hk.store.journal import is_temp, write_together
from tests.conftest import HK_BIN, Hk, git
from tests.orders_support import DAY
from tests.test_dispatch_plan import EAST, WEST, Town

CUSTOMERS = 200
ORDERS = 6


@dataclass
class Tally:
    """Kills made and what each left, over one test."""

    kills: int = 0
    partial_at_kill: int = 0
    """kills made while part of the write, not all, was on disk (the window under test)"""
    finished: int = 0
    """runs that ended before their kill (nothing to check but the result)"""
    states: Counter[str] = field(default_factory=Counter)
    torn: list[str] = field(default_factory=list)

    def line(self, what: str) -> str:
        seen = ", ".join(f"{k} {v}" for k, v in sorted(self.states.items()))
        return (
            f"{what}: kills: {self.kills}, torn or partial states: {len(self.torn)} "
            f"(killed with part of the write on disk: {self.partial_at_kill}; after recovery: "
            f"{seen}; runs that finished before the kill: {self.finished})"
        )


@dataclass
class Bulk:
    """One bulk command on one archive, and how to tell its whole write from none of it."""

    root: Path
    args: Sequence[str]
    base: str
    """HEAD before the command"""
    paths: set[str]
    """the files the command writes when it is not killed"""
    new_ids: bool = False
    """each run writes new records (an import): compare how many files in which folders"""

    def start(self, pause: str | None) -> subprocess.Popen[bytes]:
        env = {**os.environ}
        env.pop("HK_BULK_PAUSE", None)
        if pause is not None:
            env["HK_BULK_PAUSE"] = pause
        return subprocess.Popen(
            [HK_BIN, "--archive", str(self.root), *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "HK_BULK_PAUSE"}
        return subprocess.run(
            [HK_BIN, "--archive", str(self.root), *args], capture_output=True, text=True, env=env
        )

    def state(self) -> str:
        """``none``, ``all``, or what is torn about the archive.

        A clean ``git status`` (untracked files included) says the working tree is HEAD;
        HEAD is then either where it was, or one commit on with exactly the command's files.
        """
        problems = []
        status = git(self.root, "status", "--porcelain", "--untracked-files=all")
        if status:
            problems.append(f"git status not clean: {status.splitlines()[:3]}")
        temps = _temps(self.root)
        if temps:
            problems.append(f"{len(temps)} temp files left, e.g. {temps[0]}")
        if (self.root / ".git" / "hk" / "journal").exists():
            problems.append("the journal is still there")
        if git(self.root, "rev-parse", "HEAD").strip() == self.base:
            return "; ".join(problems) or "none"
        if git(self.root, "rev-parse", "HEAD^").strip() != self.base:
            problems.append("more than one commit")
        committed = set(git(self.root, "diff", "--name-only", self.base, "HEAD").split())
        if _shape(committed, self.new_ids) != _shape(self.paths, self.new_ids):
            problems.append(f"the commit has {len(committed)} files, not {len(self.paths)}")
        return "; ".join(problems) or "all"

    def on_disk(self) -> int:
        """How many files of the write are in place now (renamed, committed or not)."""
        return len(git(self.root, "status", "--porcelain", "--untracked-files=all").splitlines())

    def reset(self) -> None:
        """Back to HEAD before the command, and the index brought up to date with it."""
        git(self.root, "reset", "-q", "--hard", self.base)
        archive = Archive(self.root)
        archive.index.refresh()
        archive.index.close()


def _shape(paths: set[str], new_ids: bool) -> object:
    if not new_ids:
        return paths
    return sorted(Counter(p.rpartition("/")[0] for p in paths).items())


def _temps(root: Path) -> list[str]:
    """Every ``.hk-*.tmp`` of the archive (git ignores them, so ``git status`` does not tell)."""
    found = []
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        found += [os.path.join(top, name) for name in files if is_temp(name)]
    return found


def _stopped_or_done(proc: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """Wait until ``proc`` stops itself (True) or ends (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with open(f"/proc/{proc.pid}/stat", "rb") as handle:
                if handle.read().rsplit(b")", 1)[1].split()[0] == b"T":
                    return True
        except FileNotFoundError:
            return False
        time.sleep(0.005)
    raise AssertionError(f"hk neither stopped nor ended in {timeout} s")


def _journal_seen(root: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """Wait until the journal of ``proc``'s bulk write exists (True) or ``proc`` ends."""
    journal = root / ".git" / "hk" / "journal"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.0005)
    raise AssertionError("the bulk write never started")


def _kill_round(
    bulk: Bulk,
    tally: Tally,
    how: str,
    arm: Callable[[subprocess.Popen[bytes]], bool],
    pause: str | None = None,
) -> None:
    """Start the command, wait for ``arm`` (False: it ended first), kill it, recover, check.

    Stopped by ``pause``, the command must leave nothing before its commit and everything
    after it.
    """
    proc = bulk.start(pause)
    armed = arm(proc)
    assert armed or pause is None, f"{how}: the command ended without stopping"
    if armed and proc.poll() is None:
        if pause is not None and 0 < bulk.on_disk() < len(bulk.paths):
            tally.partial_at_kill += 1
        proc.send_signal(signal.SIGKILL)
    code = proc.wait()
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    _wait_group(proc.pid)  # git processes the killed hk started run on; let them end
    if code == -signal.SIGKILL:
        tally.kills += 1
    else:
        assert code == 0, f"{how}: hk {bulk.args} failed: {err}"
        tally.finished += 1
    read = bulk.run("customer", "list")  # any read recovers a dead writer's bulk write
    assert read.returncode == 0, read.stderr
    state = bulk.state()
    kind = state if state in ("none", "all") else "torn"
    tally.states[kind] += 1
    if kind == "torn":
        tally.torn.append(f"{how}: {state}")
    elif pause is not None:
        assert state == ("all" if pause == "commit" else "none"), f"{how}: {state}"
    if state == "none":
        again = bulk.run(*bulk.args)  # the retry does the whole write
        assert again.returncode == 0, f"{how}: the retry failed: {again.stderr}"
        assert bulk.state() == "all", f"{how}: after the retry: {bulk.state()}"
    bulk.reset()


def _retry_at_once(bulk: Bulk, tally: Tally) -> None:
    """Killed after its first rename, the command run again at once (no other command
    between) does the whole write."""
    proc = bulk.start("1")
    assert _stopped_or_done(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _wait_group(proc.pid)
    tally.kills += 1
    again = bulk.run(*bulk.args)
    assert again.returncode == 0, f"the retry at once failed: {again.stderr}"
    state = bulk.state()
    tally.states["all" if state == "all" else "torn"] += 1
    if state != "all":
        tally.torn.append(f"retried at once: {state}")
    bulk.reset()


def _rounds(bulk: Bulk, tally: Tally, pauses: Sequence[str], rng: random.Random) -> None:
    for pause in pauses:
        _kill_round(bulk, tally, f"stopped at {pause}", _stopped_or_done, pause)
    _retry_at_once(bulk, tally)
    for _ in range(2):
        wait = rng.uniform(0, 0.03)

        def at_journal(proc: subprocess.Popen[bytes], wait: float = wait) -> bool:
            seen = _journal_seen(bulk.root, proc)
            time.sleep(wait)
            return seen

        _kill_round(bulk, tally, f"journal + {wait * 1000:.0f} ms", at_journal)
    delay = rng.uniform(0.1, 0.8)

    def after(proc: subprocess.Popen[bytes]) -> bool:
        time.sleep(delay)
        return True

    _kill_round(bulk, tally, f"after {delay:.2f} s", after)


def _seed() -> random.Random:
    seed = int(os.environ.get("HK_KILLTEST_SEED") or random.SystemRandom().randrange(10**9))
    print(f"bulk kill test seed {seed} (replay: HK_KILLTEST_SEED={seed})")
    return random.Random(seed)


def test_a_killed_import_leaves_all_or_nothing_and_the_retry_imports_everything(
    archive_path: Path, tmp_path: Path
) -> None:
    rng = _seed()
    sheet = tmp_path / "客户.csv"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["客户姓名", "手机号", "小区", "备注"])
        out.writerows([f"客户{n}", f"139{n:08d}", "万科城", "导入"] for n in range(CUSTOMERS))
    base = git(archive_path, "rev-parse", "HEAD").strip()
    bulk = Bulk(archive_path, ["import", "customers", str(sheet)], base, set(), new_ids=True)
    done = bulk.run(*bulk.args)
    assert done.stdout.strip() == f"imported {CUSTOMERS} customers", done.stderr
    bulk.paths = set(git(archive_path, "diff", "--name-only", base, "HEAD").split())
    assert len(bulk.paths) == CUSTOMERS
    bulk.reset()
    tally = Tally()
    _rounds(bulk, tally, ["0", "1", str(CUSTOMERS // 2), str(CUSTOMERS), "commit"], rng)
    print(tally.line("import"))
    assert not tally.torn, tally.torn
    assert tally.kills >= 5 + 1 + 2
    assert tally.partial_at_kill >= 2  # stopped after 1 and after half of the renames


def test_a_killed_dispatch_apply_leaves_all_or_nothing_and_the_retry_applies(
    archive: Archive, archive_path: Path
) -> None:
    rng = _seed()
    town = Town(archive, archive_path)
    town.worker("东", EAST)
    town.worker("西", WEST)
    for n in range(ORDERS):
        key = f"客{n}"
        town.customer(key, EAST if n % 2 else WEST)
        town.order(key, f"{8 + 2 * (n // 2):02d}:00")
    base = git(archive_path, "rev-parse", "HEAD").strip()
    args = ["dispatch", "plan", "--date", str(DAY), "--apply"]
    bulk = Bulk(archive_path, args, base, set())
    done = bulk.run(*args)
    assert done.returncode == 0, done.stderr
    bulk.paths = set(git(archive_path, "diff", "--name-only", base, "HEAD").split())
    assert len(bulk.paths) == ORDERS, done.stdout
    bulk.reset()
    tally = Tally()
    _rounds(bulk, tally, ["0", "1", str(ORDERS), "commit"], rng)
    print(tally.line("dispatch apply"))
    assert not tally.torn, tally.torn
    assert tally.kills >= 4 + 1 + 2
    assert tally.partial_at_kill >= 1  # stopped after the first rename


# --- the journal's other ways out, reads during a live write, leftover temp files ---------------


def _customers(archive: Archive, n: int) -> list[Customer]:
    return [
        add_customer(archive, {"name": f"老客户{i}", "phones": [f"1370000{i:04d}"]})[0]
        for i in range(n)
    ]


def _bulk_files(archive: Archive, old: list[Customer]) -> list[tuple[str, bytes, bytes | None]]:
    """An update of each of ``old`` and one new file: what a bulk write would put in place."""
    files: list[tuple[str, bytes, bytes | None]] = []
    for customer in old:
        path = relpath_for(Customer, customer.id)
        before = (archive.root / path).read_bytes()
        files.append((path, before.replace(b"name: ", b"name: \xe6\x96\xb0"), before))
    files.append(("customers/01K0000000000000000000NEW0.yaml", b"id: new\n", None))
    return files


def test_a_commit_that_fails_puts_every_file_back_at_once(archive: Archive) -> None:
    files = _bulk_files(archive, _customers(archive, 2))
    head = git(archive.root, "rev-parse", "HEAD")

    def refuse() -> str:
        assert (archive.root / files[-1][0]).exists()  # every file was in place
        raise HkError("the commit failed")

    with pytest.raises(HkError, match="the commit failed"):
        write_together(archive.root, archive.hk_dir, files, refuse)
    for path, _, before in files:
        assert (
            (archive.root / path).read_bytes() == before
            if before
            else not (archive.root / path).exists()
        )
    assert git(archive.root, "rev-parse", "HEAD") == head
    assert git(archive.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert not _temps(archive.root) and not (archive.hk_dir / "journal").exists()


def test_a_failure_after_the_commit_keeps_the_write(archive: Archive) -> None:
    files = _bulk_files(archive, _customers(archive, 2))
    paths = tuple(path for path, _, _ in files)

    def commit_then_fail() -> str:
        git_store.commit(archive.root, git_store.Change(paths, "bulk"), [paths[-1]])
        raise HkError("lost after the commit")

    with pytest.raises(HkError):
        write_together(archive.root, archive.hk_dir, files, commit_then_fail)
    for path, data, _ in files:
        assert (archive.root / path).read_bytes() == data
    assert git(archive.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (archive.hk_dir / "journal").exists()


def test_a_read_does_not_wait_for_a_live_bulk_write_and_recovers_a_dead_one(
    archive_path: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "c.csv"
    sheet.write_text("客户姓名,手机号\n" + "".join(f"客户{n},139{n:08d}\n" for n in range(20)))
    bulk = Bulk(archive_path, ["import", "customers", str(sheet)], "", set())
    proc = bulk.start("5")
    assert _stopped_or_done(proc)  # holding the lock, 5 of 20 files in place
    started = time.monotonic()
    read = bulk.run("customer", "list")
    assert read.returncode == 0 and time.monotonic() - started < 10
    assert (archive_path / ".git" / "hk" / "journal").exists()  # a live writer's: left alone
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert bulk.run("customer", "list", "--json").stdout.strip() == "[]"
    assert not (archive_path / ".git" / "hk" / "journal").exists()
    assert git(archive_path, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_next_write_removes_the_temp_file_a_killed_single_write_left(archive: Archive) -> None:
    _customers(archive, 1)
    # What a process killed inside write_one leaves: its folder noted, a temp file there.
    leftover = archive.root / "customers" / ".hk-k1ll3d.tmp"
    leftover.write_bytes(b"id: half")
    (archive.hk_dir / "writing").write_text("customers", encoding="utf-8")
    Archive(archive.root).index.refresh()
    assert leftover.exists()  # a read leaves it; only a writer holds the lock
    add_customer(Archive(archive.root), {"name": "新客户", "phones": ["13600000001"]})
    assert not leftover.exists() and not (archive.hk_dir / "writing").exists()


def test_doctor_lists_leftovers_and_fix_removes_them_and_undoes_a_dead_bulk_write(
    archive_path: Path, tmp_path: Path, hk: Hk
) -> None:
    sheet = tmp_path / "c.csv"
    sheet.write_text("客户姓名,手机号\n" + "".join(f"客户{n},139{n:08d}\n" for n in range(20)))
    proc = Bulk(archive_path, ["import", "customers", str(sheet)], "", set()).start("5")
    assert _stopped_or_done(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    old = archive_path / ".hk-old.tmp"
    old.write_text("x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    fresh = archive_path / ".hk-fresh.tmp"  # outside a record folder, maybe a live writer's
    fresh.write_text("x")
    checked = hk("doctor")
    assert "warning: customers/.hk-" in checked.output  # the killed import's temp files
    fixed = hk("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "a bulk write of 20 files interrupted by a killed process: undone" in fixed.stdout
    assert "removed 1 leftover temp file" in fixed.stdout
    assert "warning" not in fixed.output
    assert not old.exists() and fresh.exists()
    assert _temps(archive_path) == [str(fresh)]
    assert git(archive_path, "status", "--porcelain", "--untracked-files=all") == ""
