"""Kill test of the write path (DESIGN §3): ``python -m benchmarks.killtest --runs 1000``.

A child process adds and edits customers through the real write path
(:func:`hk.services.people.add_customer` and :func:`~hk.services.people.edit`) and is
SIGKILLed at a random moment. The child prints ``begin …`` before each write and ``done …``
only after the write returned (the commit exists), flushed, so the parent knows which writes
were acknowledged and which one, at most, was in flight. After every kill the parent checks:

* every acknowledged write is there, in the file and in ``HEAD``, with its value (the one
  write in flight may have landed or not: both are allowed);
* the file parses and validates (no torn file), and the index serves what the file says;
* ``hk doctor`` finds no error (warnings about an uncommitted file or a leftover
  ``.hk-*.tmp`` are what an interrupted write may leave, and are counted, not failed);
* the next child can write again: the archive lock and git's ``index.lock`` recovered.

Only the Python child is killed, as a user's ``kill -9`` or a closed terminal would; a git
process it started runs on, and the parent waits for it before checking. Timing makes every
run different, so a failure prints the seed and run to start a replay from.
"""

from __future__ import annotations

import argparse
import os
import random
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHILD = r"""
import random, sys
from pathlib import Path
from hk.services.people import add_customer, edit
from hk.store.archive import Archive

root, seed, max_writes, pool = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
archive = Archive(root)
rng = random.Random(seed)

def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

say("ready")
for n in range(max_writes):
    value = f"v{seed}-{n}-{rng.getrandbits(32):08x}"
    if pool and rng.random() < 0.7:
        rid = rng.choice(pool)
        say(f"begin edit {rid} {value}")
        edit(archive, "customer", rid, {"notes": value})
        say(f"done edit {rid} {value}")
    else:
        tag = f"kt{seed}x{n}"
        fields = {"name": rng.choice("王李张刘陈杨曾单解") + rng.choice("芳伟乐长行静"),
                  "phones": [f"139{rng.randrange(10**8):08d}"], "wechat": tag,
                  "category": "家庭保洁", "notes": value}
        if rng.random() < 0.3:
            fields["health_notes"] = "青霉素过敏"
        say(f"begin add {tag} {value}")
        customer, _ = add_customer(archive, fields)
        say(f"done add {customer.id} {value} {tag}")
        pool.append(customer.id)
"""
"""The writer: a plain script on the public service functions, run with hk's interpreter."""


class KillTestFailure(AssertionError):
    """An acknowledged write was lost, a file was torn, or the archive did not recover."""


@dataclass
class Summary:
    seed: int
    runs: int = 0
    killed: int = 0
    acknowledged: int = 0
    in_flight: int = 0
    """runs killed between a write's ``begin`` and its ``done``"""
    landed: int = 0
    """in-flight edits whose new value was found in the file afterwards"""
    orphans: int = 0
    """runs where a git process of the killed child was still running at the kill"""
    warnings: dict[str, set[str]] = field(default_factory=dict)
    """doctor warning → the distinct paths it was given for (over all runs)"""
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"kill test: seed {self.seed}, {self.runs} runs in {self.seconds:.0f} s",
            f"  killed mid-run {self.killed}, acknowledged writes {self.acknowledged}, all present",
            f"  killed during a write {self.in_flight} (edit landed anyway: {self.landed}); "
            f"git still running at the kill: {self.orphans}",
        ]
        for message, paths in sorted(self.warnings.items()):
            out.append(f"  doctor warning ({len(paths)} files): {message}")
        return out


@dataclass
class _State:
    allowed: dict[str, set[str]] = field(default_factory=dict)
    """record id → values its ``notes`` may hold now (the last acknowledged, plus one in flight)"""
    tags: dict[str, str] = field(default_factory=dict)
    """record id → the WeChat tag it was created with, to find it through the index"""
    in_flight: tuple[str, str] | None = None
    """(record id, value) of the edit the last kill interrupted, if it was one"""


def make_archive(root: Path, customers: int = 8) -> list[str]:
    """A fresh archive with a few customers to edit; returns their IDs."""
    from hk.domain.base import now
    from hk.domain.customer import Customer
    from hk.domain.ids import new_id
    from hk.services.archive import init
    from hk.store.archive import Archive
    from hk.store.writer import save_new_bulk

    init(root)
    archive = Archive(root)
    stamp = now()
    records = [
        Customer.model_validate(
            {
                "id": new_id(),
                "created": stamp,
                "updated": stamp,
                "name": f"种子客户{i}",
                "phones": [f"1380013{i:04d}"],
                "category": "钟点工",
                "notes": "initial",
            }
        )
        for i in range(customers)
    ]
    save_new_bulk(archive, records, f"killtest: {customers} customers")
    archive.index.close()
    return [r.id for r in records]


def run_killtest(
    root: Path,
    runs: int,
    seed: int,
    max_delay: float = 0.4,
    doctor_every: int = 1,
    log: Callable[[str], None] | None = None,
) -> Summary:
    """Kill a writing child ``runs`` times on a new archive at ``root``; raise on any loss."""
    rng = random.Random(seed)
    summary = Summary(seed=seed)
    started = time.monotonic()
    pool = make_archive(root)
    state = _State(allowed={rid: {"initial"} for rid in pool})
    for run in range(runs):
        child_seed = rng.getrandbits(31)
        delay = rng.uniform(0, max_delay)
        try:
            _one_run(root, state, summary, child_seed, delay)
            if doctor_every and (run + 1) % doctor_every == 0:
                _doctor(root, summary)
        except KillTestFailure as exc:
            raise KillTestFailure(
                f"run {run} (seed {seed}, child seed {child_seed}, kill after {delay:.3f} s): "
                f"{exc}\n  archive kept at {root}"
            ) from None
        summary.runs += 1
        if log and (run + 1) % 50 == 0:
            log(f"  {run + 1} runs, {summary.acknowledged} acknowledged writes")
    _final_checks(root, state, summary)
    summary.seconds = time.monotonic() - started
    return summary


def _one_run(root: Path, state: _State, summary: Summary, child_seed: int, delay: float) -> None:
    pool = sorted(state.allowed)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(child_seed), "40", *pool],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=60):
            proc.kill()
            raise KillTestFailure("the child did not start within 60 s")
    first = proc.stdout.readline()
    if first != b"ready\n":
        proc.wait()
        raise KillTestFailure(f"the child failed to start: {proc.stderr.read().decode()[-800:]}")
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    returncode = proc.wait()
    if returncode == -signal.SIGKILL:
        summary.killed += 1
        if _group_alive(proc.pid):
            summary.orphans += 1
        _wait_group(proc.pid)
    out = proc.stdout.read()
    err = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    if returncode not in (0, -signal.SIGKILL):
        raise KillTestFailure(f"a write failed (exit {returncode}): {err.strip()[-1500:]}")
    touched = _apply(out, state, summary)
    _verify(root, state, touched, summary)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (a zombie waiting for init does not)."""
    try:
        entries = os.listdir("/proc")
    except FileNotFoundError:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for pid in entries:
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def _wait_group(pgid: int, timeout: float = 30) -> None:
    """Wait until every process the child started (git, left running) has finished.

    Orphans are reparented to init, which may reap them only much later; their exit is what
    matters here, so zombies count as finished.
    """
    deadline = time.monotonic() + timeout
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            raise KillTestFailure(f"processes of the killed child still run after {timeout} s")
        time.sleep(0.01)


def _apply(out: bytes, state: _State, summary: Summary) -> set[str]:
    """Update what each record may hold from the child's acknowledgements; return IDs touched."""
    lines = out.decode("utf-8", "replace").split("\n")
    complete = lines[:-1]  # a last line without its newline was never acknowledged
    touched: set[str] = set()
    pending: list[str] | None = None
    state.in_flight = None
    for line in complete[1:] if complete and complete[0] == "ready" else complete:
        words = line.split(" ")
        if words[0] == "begin":
            pending = words
        elif words[0] == "done":
            pending = None
            summary.acknowledged += 1
            rid, value = words[2], words[3]
            state.allowed[rid] = {value}
            if words[1] == "add":
                state.tags[rid] = words[4]
            touched.add(rid)
    if pending is not None:
        summary.in_flight += 1
        if pending[1] == "edit":
            rid, value = pending[2], pending[3]
            state.allowed.setdefault(rid, set()).add(value)
            state.in_flight = (rid, value)
            touched.add(rid)
    return touched


def _verify(root: Path, state: _State, ids: set[str], summary: Summary) -> None:
    """The files, HEAD and the index all hold an allowed value for every record in ``ids``."""
    if not ids:
        return
    import orjson

    from hk.domain.customer import Customer
    from hk.errors import InvalidData
    from hk.services.lookup import find, open_index
    from hk.store.files import parse_record, relpath_for

    paths = {rid: relpath_for(Customer, rid) for rid in sorted(ids)}
    committed = _head_texts(root, list(paths.values()))
    index = open_index(root)
    try:
        index.refresh(["customer"])
        for rid, path in paths.items():
            allowed = state.allowed[rid]
            try:
                text = (root / path).read_text(encoding="utf-8")
                record = parse_record(Customer, text, path)
            except FileNotFoundError:
                raise KillTestFailure(f"{path} (acknowledged) is missing") from None
            except (InvalidData, UnicodeDecodeError) as exc:
                raise KillTestFailure(f"{path} is torn or invalid: {exc}") from None
            if record.notes not in allowed:
                raise KillTestFailure(f"{path}: notes {record.notes!r}, expected one of {allowed}")
            head = committed.get(path)
            if head is None:
                raise KillTestFailure(f"{path} (acknowledged) is not in HEAD")
            head_notes = parse_record(Customer, head, path).notes
            if head_notes not in allowed:
                raise KillTestFailure(f"{path} in HEAD: notes {head_notes!r}, expected {allowed}")
            if state.in_flight == (rid, record.notes):
                summary.landed += 1
            if record.notes == head_notes:
                state.allowed[rid] = {record.notes}
            row = index.get(rid)
            if row is None or orjson.loads(row["data"]).get("notes") != record.notes:
                raise KillTestFailure(f"the index does not serve {path} as the file holds it")
            tag = state.tags.get(rid)
            if tag and rid not in {item["id"] for item in find(index, "customer", tag)}:
                raise KillTestFailure(f"searching {tag} does not find {path}")
    finally:
        index.close()


def _head_texts(root: Path, paths: list[str]) -> dict[str, str]:
    """The committed text of each path (missing ones left out), with one ``git cat-file``."""
    request = "".join(f"HEAD:{p}\n" for p in paths).encode()
    proc = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input=request,
        capture_output=True,
        check=True,
    )
    out, texts, pos = proc.stdout, {}, 0
    for path in paths:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        texts[path] = out[pos : pos + size].decode("utf-8")
        pos += size + 1
    return texts


def _doctor(root: Path, summary: Summary) -> None:
    from hk.services.doctor import check_archive
    from hk.store.archive import Archive

    archive = Archive(root)
    try:
        report = check_archive(archive)
    finally:
        if "index" in archive.__dict__:
            archive.index.close()
    if report.errors:
        raise KillTestFailure("hk doctor: " + "; ".join(p.render() for p in report.errors[:5]))
    for problem in report.warnings:
        key = problem.message.split(":")[0].split("(")[0].strip()
        summary.warnings.setdefault(key, set()).add(problem.path or "")


def _final_checks(root: Path, state: _State, summary: Summary) -> None:
    """After the last kill: everything still holds, and this process can write."""
    from hk.services.people import add_customer, edit
    from hk.store.archive import Archive

    _verify(root, state, set(state.allowed), summary)
    _doctor(root, summary)
    archive = Archive(root)
    try:
        customer, result = add_customer(archive, {"name": "收尾客户", "notes": "final"})
        rid = next(iter(sorted(state.allowed)))
        _, edited = edit(archive, "customer", rid, {"notes": "final edit"})
    finally:
        if "index" in archive.__dict__:
            archive.index.close()
    if not result.commit or not edited.commit:
        raise KillTestFailure("a write after the last kill made no commit")
    state.allowed[customer.id] = {"final"}
    state.allowed[rid] = {"final edit"}
    _verify(root, state, {customer.id, rid}, summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.killtest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="default: a new random seed")
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.4,
        help="kill at most this many seconds after the child is ready",
    )
    parser.add_argument("--doctor-every", type=int, default=1, help="run the doctor every N kills")
    parser.add_argument("--keep", action="store_true", help="keep the archive afterwards")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    print(f"kill test: seed {seed} (replay with --seed {seed})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="hk-killtest-"))
    # Keys of this throwaway archive stay beside it, not in the user's key folder.
    os.environ["HK_KEY_DIR"] = str(work / "keys")
    try:
        summary = run_killtest(
            work / "archive",
            args.runs,
            seed,
            args.max_delay,
            args.doctor_every,
            log=lambda s: print(s, flush=True),
        )
    except KillTestFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("\n".join(summary.lines()))
    if args.keep:
        print(f"archive kept at {work / 'archive'}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
