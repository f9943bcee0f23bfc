"""Measure hk on generated archives against anchors timed in the same run (DESIGN §6).

``python -m benchmarks.run --archive DIR [--customers-only DIR] [--repeat N] [--json] [--watch]``

Every row is a ratio: hk's time over its anchor's, both measured in this run on the same
archive, so a slow or busy machine slows both. hk and its anchor take turns (in a rotating
order, after one warm-up run of each) and each value is the median of N; whole processes are
timed, as a user sees them.

- Reads (``customer find`` by name, by initials, by phone digits; ``order list --date D``;
  ``hk remind --dry-run``) against ``git status``: ≤ 1.5× with no watcher; with ``--watch``
  they are measured again while ``hk watch`` runs (started before, stopped after): ≤ 0.3×.
- ``customer edit --phone`` against the same change made by hand: another customer's phone
  changed in its file, then ``git add`` + ``git commit``: ≤ 1.5×.
- On the customers-only archive (``--customers-only``, 10 000 customers + 300 workers, made
  with ``benchmarks.generate --only worker,customer``): ``customer find`` against a bare
  ``python -S`` script that opens the index with sqlite3 and runs the same query (≤ 2.0×),
  and ``customer edit`` against a bare Python script that loads the YAML, sets the field,
  writes atomically (tmp + fsync + rename) and commits that path (≤ 1.5×).
- ``hk batch`` of 1 000 edits: one commit, ≤ 5 s (when this build has ``hk batch``).
- A cold ``hk reindex`` against a bare loop that reads and parses every file with the fastest
  parser for its format: ≤ 2.5×.
- The TUI (:mod:`benchmarks.tui`): first usable screen ≤ 1.2 s, search keystroke ≤ 80 ms,
  beside ``import textual.app`` in a fresh process.
- Peak memory of the read commands (≤ 100 MB) and the import of 10 000 customers (≤ 15 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HK = str(Path(sys.executable).with_name("hk"))

READ_BUDGET = 1.5
WATCHED_READ_BUDGET = 0.3
EDIT_BUDGET = 1.5
BARE_FIND_BUDGET = 2.0
BARE_EDIT_BUDGET = 1.5
BATCH_BUDGET_S = 5.0
COLD_BUDGET = 2.5
TUI_FIRST_SCREEN_S = 1.2
TUI_KEYSTROKE_MS = 80.0
RSS_BUDGET_MB = 100.0
IMPORT_BUDGET_S = 15.0

PARSE_LOOP = """
import os, sys
import orjson, yaml
loader = yaml.CSafeLoader
for folder, dirs, files in os.walk(sys.argv[1]):
    if ".git" in dirs:
        dirs.remove(".git")
    for name in files:
        if name.endswith(".yaml"):
            with open(os.path.join(folder, name), "rb") as f:
                yaml.load(f.read(), Loader=loader)
        elif name.endswith(".json"):
            with open(os.path.join(folder, name), "rb") as f:
                orjson.loads(f.read())
"""
"""The anchor of a cold index build: read and parse every record with the fastest parser for
its format (orjson for the JSON orders, libyaml's CSafeLoader for the YAML people)."""

BARE_FIND = """
import sqlite3, sys
from json import loads
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2], loads(sys.argv[3])).fetchall():
    print(*row)
"""
"""The anchor of a search on the customers-only archive, run with ``python -S``: open the
index and run the query ``hk customer find`` runs (captured from :meth:`Index.find`)."""

BARE_EDIT = """
import os, subprocess, sys
import yaml
path, field, value = sys.argv[1:4]
with open(path, "rb") as f:
    data = yaml.load(f.read(), Loader=yaml.CSafeLoader)
data[field] = [value]
text = yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
tmp = path + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
subprocess.run(["git", "commit", "-q", "-m", "edit " + field, "--", path], check=True)
"""
"""The anchor of an edit on the customers-only archive: load, set, write atomically, commit."""

MAX_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Peak RSS (KiB on Linux) of one child, measured from a parent that has no other children."""


@dataclass
class Result:
    """One row of the table: hk's value, its anchor's, and the budget."""

    measure: str
    value: float | None
    unit: str
    anchor_name: str = ""
    anchor: float | None = None
    budget: str = ""
    limit: float | None = None
    """What must not be exceeded: the ratio, or the value itself when ``absolute``."""
    absolute: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.anchor:
            return None
        return self.value / self.anchor

    @property
    def ok(self) -> bool | None:
        if self.limit is None or self.value is None:
            return None
        measured = self.value if self.absolute else self.ratio
        return measured is not None and measured <= self.limit

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio, "ok": self.ok}


def ratio_row(
    measure: str, value: float, anchor_name: str, anchor: float, limit: float, note: str = ""
) -> Result:
    return Result(measure, value, "s", anchor_name, anchor, f"≤ {limit:g}×", limit, note=note)


class Bench:
    """Runs commands in one archive folder and times them as whole processes."""

    def __init__(self, archive: Path, repeat: int) -> None:
        self.archive = archive
        self.repeat = repeat
        self.env = {k: v for k, v in os.environ.items() if k not in ("HK_ARCHIVE", "HK_NO_WATCH")}
        self.env["HK_NO_WATCH"] = "1"
        """Reads check every file unless a measure says the watcher runs (:meth:`watched`)."""

    def watched(self, on: bool) -> None:
        if on:
            self.env.pop("HK_NO_WATCH", None)
        else:
            self.env["HK_NO_WATCH"] = "1"

    def run(
        self,
        cmd: Sequence[str],
        check: bool = True,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd or self.archive,
            env=env or self.env,
            capture_output=True,
            input=stdin.encode() if stdin is not None else None,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}"
            )
        return proc

    def timed(self, cmd: Sequence[str], ok_codes: tuple[int, ...] = (0,)) -> float:
        started = time.perf_counter()
        proc = subprocess.run(
            list(cmd),
            cwd=self.archive,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        elapsed = time.perf_counter() - started
        if proc.returncode not in ok_codes:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}"
            )
        return elapsed

    def compare(
        self, jobs: dict[str, Callable[[int], float]], repeat: int | None = None
    ) -> dict[str, float]:
        """Median time of each job after one warm-up run each; jobs take turns, in a
        rotating order, round after round."""
        return compare(jobs, repeat or self.repeat)


def compare(jobs: dict[str, Callable[[int], float]], repeat: int) -> dict[str, float]:
    names = list(jobs)
    for name in names:
        jobs[name](-1)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for i in range(repeat):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            samples[name].append(jobs[name](i))
    return {n: statistics.median(s) for n, s in samples.items()}


def _job(bench: Bench, cmd: list[str], ok_codes: tuple[int, ...] = (0,)) -> Callable[[int], float]:
    return lambda _i: bench.timed(cmd, ok_codes)


GIT_STATUS = ["git", "status"]


# --- what to ask ---------------------------------------------------------------------------------


def customer_folder(archive: Path) -> Path:
    from hk.domain.customer import Customer

    return archive / Customer.folder


def sample_customer(archive: Path) -> dict[str, str]:
    """A customer that exists, chosen the same way every run: its name, initials and phone."""
    import yaml

    from hk.store.search import pinyin_readings

    folder = customer_folder(archive)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".yaml"))
    for name in names[len(names) // 3 :]:
        data = yaml.load((folder / name).read_bytes(), Loader=yaml.CSafeLoader)
        if data.get("phones") and data.get("category") != "企业客户" and len(data["name"]) == 3:
            phone = data["phones"][0]
            return {
                "id": data["id"],
                "name": data["name"],
                "initials": pinyin_readings(data["name"])[0][1],
                "phone": phone[3:] if phone.startswith("+86") else phone,
                "file": f"{folder.name}/{name}",
            }
    raise RuntimeError(f"no customer with a phone in {folder}")


def neighbour_file(archive: Path, record_id: str) -> str:
    """Another customer's file, relative to the archive: the anchors' edits go there."""
    folder = customer_folder(archive)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".yaml"))
    other = next(n for n in names[len(names) // 2 :] if not n.startswith(record_id))
    return f"{folder.name}/{other}"


def dispatch_day(archive: Path) -> tuple[str, int] | None:
    """The coming day with the most orders waiting for dispatch, and how many (None if none).

    Orders are filed by the month they were taken in, so the last two month folders hold every
    order still to be dispatched but those booked months ahead.
    """
    import orjson

    top = archive / "orders"
    months = sorted(p for year in top.glob("[0-9]*") for p in year.glob("[0-9]*"))[-2:]
    days: dict[str, int] = {}
    for folder in months:
        for path in folder.glob("*.json"):
            data = orjson.loads(path.read_bytes())
            if data.get("status") == "to_dispatch":
                day = data["window"]["start"][:10]
                days[day] = days.get(day, 0) + 1
    if not days:
        return None
    return max(sorted(days.items()), key=lambda item: item[1])


def reads(who: dict[str, str], day: str | None) -> list[tuple[str, list[str], tuple[int, ...]]]:
    """The read commands measured against ``git status``: (label, command, exit codes)."""
    cmds: list[tuple[str, list[str], tuple[int, ...]]] = [
        (f"customer find (name {who['name']})", [HK, "customer", "find", who["name"]], (0,)),
        (
            f"customer find (initials {who['initials']})",
            [HK, "customer", "find", who["initials"]],
            (0,),
        ),
        (f"customer find (phone {who['phone']})", [HK, "customer", "find", who["phone"]], (0,)),
    ]
    if day is not None:
        cmds.append((f"order list --date {day}", order_list_command(day), (0,)))
    cmds.append(("remind --dry-run", remind_command(day), (0,)))
    return cmds


def order_list_command(day: str) -> list[str]:
    return [HK, "order", "list", "--date", day]


def remind_command(day: str | None) -> list[str]:
    """``hk remind --dry-run`` for the day before the busiest dispatch day (its appointments
    are "tomorrow"), or today: every rule of SPEC §4 over the whole archive."""
    when = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat() if day else "today"
    return [HK, "remind", "--dry-run", "--date", when]


def phone_for(i: int, seed: int) -> str:
    """A mobile number no generated customer has (the generator draws 13x–18x numbers from
    its own RNG; 166 is not among its prefixes), different for each run ``i``."""
    return f"166{(seed * 1000 + i + 1) % 10**8:08d}"


# --- the measures --------------------------------------------------------------------------------


def measure_reads(
    bench: Bench, who: dict[str, str], day: str | None, watched: bool
) -> list[Result]:
    """Each read against ``git status``; with the watcher running when ``watched``."""
    bench.watched(watched)
    limit = WATCHED_READ_BUDGET if watched else READ_BUDGET
    suffix = ", watcher on" if watched else ""
    results = []
    try:
        for label, cmd, codes in reads(who, day):
            bench.run(cmd)  # the index is complete; this run only warms the page cache
            t = bench.compare({"hk": _job(bench, cmd, codes), "git": _job(bench, GIT_STATUS)})
            results.append(ratio_row(label + suffix, t["hk"], "git status", t["git"], limit))
    finally:
        bench.watched(False)
    return results


def measure_edit(bench: Bench, who: dict[str, str]) -> list[Result]:
    """``hk customer edit --phone`` against the same change by hand: another customer's phone
    line changed in its file (not timed: that is the editor's part), then ``git add`` +
    ``git commit`` of it (timed). Both rewrite the customers' folder tree."""
    code = code_of(bench, who)
    seed = int(time.strftime("%H%M%S"))
    beside = neighbour_file(bench.archive, who["id"])
    path = bench.archive / beside

    def edit(i: int) -> float:
        return bench.timed([HK, "customer", "edit", code, "--phone", phone_for(i, seed)])

    def by_hand(i: int) -> float:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        at = lines.index("phones:\n") + 1
        lines[at] = f"- '+86{phone_for(i, seed + 1)}'\n"
        path.write_text("".join(lines), encoding="utf-8")
        started = time.perf_counter()
        bench.run(["git", "add", beside])
        bench.run(["git", "commit", "-q", "-m", f"benchmark: phone of {beside} by hand"])
        return time.perf_counter() - started

    t = bench.compare({"edit": edit, "by_hand": by_hand})
    return [
        ratio_row(
            "customer edit --phone", t["edit"], "git add + git commit", t["by_hand"], EDIT_BUDGET
        )
    ]


def code_of(bench: Bench, who: dict[str, str]) -> str:
    found = bench.run([HK, "customer", "find", who["name"], "--json"])
    code: str = next(r["code"] for r in json.loads(found.stdout) if r["id"] == who["id"])
    return code


def find_query(archive: Path, kind: str, query: str) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters :meth:`Index.find` runs for ``query``: captured by running it
    once over a connection that records what it is asked."""
    from hk.services.lookup import open_index

    index = open_index(archive)
    from hk.domain.layout import kind_of

    index.refresh([kind_of(kind)])  # as hk's search does first: then it runs only the query
    real = index.db
    seen: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        row_factory = property(
            lambda _self: real.row_factory,
            lambda _self, value: setattr(real, "row_factory", value),
        )

        def execute(self, sql: str, params: Any = ()) -> Any:
            seen.append((sql, params))
            return real.execute(sql, params)

    index._db = Recorder()  # type: ignore[assignment]
    try:
        index.find(kind, query)
    finally:
        index._db = real
        index.close()
    if not seen or not isinstance(seen[-1][1], dict):
        raise RuntimeError("Index.find ran no query with named parameters: update find_query")
    return seen[-1]


def index_path(archive: Path) -> Path:
    from hk.services.lookup import open_index

    index = open_index(archive)
    return Path(index.dir) / "index.sqlite"


def measure_bare_find(bench: Bench, who: dict[str, str]) -> list[Result]:
    """On the customers-only archive: each search against a ``python -S`` script running the
    same query over the same index."""
    bench.run([HK, "reindex"])
    db = str(index_path(bench.archive))
    results = []
    for label in ("name", "initials", "phone"):
        query = who[label]
        sql, params = find_query(bench.archive, "customer", query)
        bare = [sys.executable, "-S", "-c", BARE_FIND, db, sql, json.dumps(params)]
        hk = [HK, "customer", "find", query]
        t = bench.compare({"hk": _job(bench, hk), "bare": _job(bench, bare)})
        results.append(
            ratio_row(
                f"customer find ({label}), customers only",
                t["hk"],
                "python -S + sqlite3, same query",
                t["bare"],
                BARE_FIND_BUDGET,
            )
        )
    return results


def measure_bare_edit(bench: Bench, who: dict[str, str]) -> list[Result]:
    """On the customers-only archive: ``hk customer edit --phone`` against a bare script that
    makes the same change to another customer's file and commits it."""
    code = code_of(bench, who)
    seed = int(time.strftime("%H%M%S"))
    beside = neighbour_file(bench.archive, who["id"])

    def edit(i: int) -> float:
        return bench.timed([HK, "customer", "edit", code, "--phone", phone_for(i, seed)])

    def bare(i: int) -> float:
        phone = f"+86{phone_for(i, seed + 1)}"
        return bench.timed([sys.executable, "-c", BARE_EDIT, beside, "phones", phone])

    t = bench.compare({"edit": edit, "bare": bare})
    return [
        ratio_row(
            "customer edit --phone, customers only",
            t["edit"],
            "python: load, set, atomic write, git commit",
            t["bare"],
            BARE_EDIT_BUDGET,
        )
    ]


def batch_available(bench: Bench) -> bool:
    return bench.run([HK, "batch", "--help"], check=False).returncode == 0


def batch_lines(bench: Bench, count: int) -> list[str]:
    """``count`` edits of different customers, one JSON line each, named by code."""
    listed = bench.run([HK, "customer", "list", "--json"])
    codes = [c["code"] for c in json.loads(listed.stdout)][:count]
    seed = int(time.strftime("%H%M%S"))
    return [
        json.dumps(
            {
                "op": "customer.edit",
                "ref": code,
                "set": {"notes": f"批量更新 第{n + 1}条", "phone": [phone_for(n, seed)]},
            },
            ensure_ascii=False,
        )
        for n, code in enumerate(codes)
    ]


def measure_batch(bench: Bench, count: int = 1000) -> list[Result]:
    label = f"hk batch of {count:,} edits"
    if not batch_available(bench):
        return [
            Result(
                label,
                None,
                "s",
                budget=f"≤ {BATCH_BUDGET_S:g} s",
                limit=BATCH_BUDGET_S,
                absolute=True,
                note="not available: no `hk batch` in this build",
            )
        ]
    lines = "\n".join(batch_lines(bench, count)) + "\n"
    before = commits(bench)
    started = time.perf_counter()
    proc = bench.run([HK, "batch"], check=False, stdin=lines)
    elapsed = time.perf_counter() - started
    made = commits(bench) - before
    note = f"{len(lines.splitlines())} lines, {made} commit(s)"
    if proc.returncode != 0:
        note += f"; exit {proc.returncode}: {proc.stderr.decode().strip()[-200:]}"
    ok = proc.returncode == 0 and made == 1
    return [
        Result(
            label,
            elapsed if ok else None,
            "s",
            budget=f"one commit, ≤ {BATCH_BUDGET_S:g} s",
            limit=BATCH_BUDGET_S,
            absolute=True,
            note=note if ok else f"FAILED: {note}",
        )
    ]


def commits(bench: Bench) -> int:
    return int(bench.run(["git", "rev-list", "--count", "HEAD"]).stdout)


def measure_cold(bench: Bench, repeat: int) -> list[Result]:
    """``hk reindex`` with no index at all (a fresh clone) against the bare parse loop."""
    hk_dir = bench.archive / ".git" / "hk"

    def reindex(_i: int) -> float:
        shutil.rmtree(hk_dir, ignore_errors=True)
        return bench.timed([HK, "reindex"])

    def loop(_i: int) -> float:
        return bench.timed([sys.executable, "-c", PARSE_LOOP, str(bench.archive)])

    t = bench.compare({"reindex": reindex, "loop": loop}, repeat=repeat)
    return [
        ratio_row(
            "cold hk reindex",
            t["reindex"],
            "parse loop (orjson, CSafeLoader)",
            t["loop"],
            COLD_BUDGET,
        )
    ]


def measure_tui(bench: Bench, day: str | None, repeat: int) -> list[Result]:
    """:mod:`benchmarks.tui` in a fresh process, in turn with ``import textual.app``."""
    runs: list[dict[str, Any]] = []
    tui = [sys.executable, "-m", "benchmarks.tui", "--archive", str(bench.archive), "--json"]
    if day is not None:
        tui += ["--today", day]
    here = Path(__file__).resolve().parent.parent

    def app(_i: int) -> float:
        out = bench.run(tui, cwd=here).stdout
        runs.append(json.loads(out))
        return float(runs[-1]["first_usable_s"])

    anchor = [sys.executable, "-c", "import textual.app"]
    t = compare({"tui": app, "import": _job(bench, anchor)}, repeat)
    search_ms = statistics.median(r["search_median_ms"] for r in runs[1:] or runs)
    rss = max(r["peak_rss_mb"] for r in runs)
    name = "import textual.app"
    return [
        Result(
            "TUI first usable screen",
            t["tui"],
            "s",
            name,
            t["import"],
            f"≤ {TUI_FIRST_SCREEN_S:g} s",
            TUI_FIRST_SCREEN_S,
            absolute=True,
        ),
        Result(
            "TUI search keystroke (median)",
            search_ms / 1000,
            "s",
            name,
            t["import"],
            f"≤ {TUI_KEYSTROKE_MS:g} ms",
            TUI_KEYSTROKE_MS / 1000,
            absolute=True,
        ),
        Result("TUI peak RSS", rss, "MB", budget="≤ 300 MB", limit=300.0, absolute=True),
    ]


def measure_memory(bench: Bench, who: dict[str, str], day: str | None) -> list[Result]:
    def peak(cmd: list[str]) -> float:
        out = bench.run([sys.executable, "-c", MAX_RSS, *cmd]).stdout
        return int(out.strip()) / 1024

    git_mb = max(peak(GIT_STATUS) for _ in range(3))
    results = []
    for label, cmd, _codes in reads(who, day):
        if label.startswith("customer find (initials") or label.startswith("customer find (ph"):
            continue
        hk_mb = max(peak(cmd) for _ in range(3))
        results.append(
            Result(
                f"peak RSS {label}",
                hk_mb,
                "MB",
                "git status",
                git_mb,
                budget=f"≤ {RSS_BUDGET_MB:g} MB",
                limit=RSS_BUDGET_MB,
                absolute=True,
            )
        )
    return results


def import_available(bench: Bench) -> bool:
    return bench.run([HK, "import", "customers", "--help"], check=False).returncode == 0


def write_xlsx(path: Path, rows: int, seed: int = 7) -> None:
    """An operator's spreadsheet of customers, with the headers the import command reads."""
    import random

    from openpyxl import Workbook

    from benchmarks import pools
    from benchmarks.generate import Context, address, person_name

    ctx = Context(rng=random.Random(seed))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append(["姓名", "电话", "小区", "地址", "服务类型", "来源", "备注"])
    for _ in range(rows):
        phone = ctx.phone()[3:]
        if ctx.chance(0.3):
            phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        addr = address(ctx)
        note = ctx.rng.choice(pools.NOTES) if ctx.chance(0.3) else ""
        ws.append(
            [
                person_name(ctx),
                phone,
                addr["community"],
                f"{addr['district']}{addr['detail']}",
                ctx.pick(pools.CATEGORIES),
                ctx.pick(pools.CHANNELS),
                note,
            ]
        )
    wb.save(path)


def measure_import(bench: Bench, rows: int = 10_000) -> list[Result]:
    label = f"import {rows:,} customers from XLSX"
    budget = {"budget": f"≤ {IMPORT_BUDGET_S:g} s", "limit": IMPORT_BUDGET_S, "absolute": True}
    if not import_available(bench):
        return [Result(label, None, "s", note="not available", **budget)]  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="hk-bench-import-") as tmp:
        work = Path(tmp)
        sheet = work / "customers.xlsx"
        write_xlsx(sheet, rows)
        target = work / "archive"
        env = {**bench.env, "HK_KEY_DIR": str(work / "keys")}
        bench.run([HK, "init", str(target)], cwd=work, env=env)
        started = time.perf_counter()
        proc = bench.run(
            [HK, "--archive", str(target), "import", "customers", str(sheet)],
            check=False,
            cwd=work,
            env=env,
        )
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            note = f"failed: {proc.stderr.decode().strip()[-300:]}"
            return [Result(label, None, "s", note=note, **budget)]  # type: ignore[arg-type]
        files = len(os.listdir(target / "customers")) if (target / "customers").is_dir() else 0
        made = bench.run(["git", "rev-list", "--count", "HEAD"], cwd=target).stdout
        note = f"{files} files, {int(made) - 1} commit(s) after init"
        return [Result(label, elapsed, "s", note=note, **budget)]  # type: ignore[arg-type]


# --- output --------------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return f"{value:.0f} {unit}"


def table(results: list[Result]) -> str:
    """The results as an aligned table (widths in terminal cells), one row each."""
    head = ["measure", "hk", "anchor", "anchor time", "ratio", "budget", "result"]
    rows = [head]
    for r in results:
        ok = {True: "pass", False: "FAIL", None: "-"}[r.ok]
        rows.append(
            [
                r.measure,
                _fmt(r.value, r.unit),
                r.anchor_name or "-",
                _fmt(r.anchor, r.unit),
                f"{r.ratio:.2f}×" if r.ratio is not None else "-",
                r.budget or "-",
                ok + (f"  ({r.note})" if r.note else ""),
            ]
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = []
    for row in rows:
        cells = [c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "-" * (sum(widths) + 2 * len(widths) + len(head[-1])))
    return "\n".join(lines)


def _width(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


# --- the run -------------------------------------------------------------------------------------

STEPS = ("reads", "edit", "memory", "customers", "batch", "cold", "tui", "import")


def count_files(root: Path) -> int:
    count = 0
    for _folder, dirs, files in os.walk(root):
        if ".git" in dirs:
            dirs.remove(".git")
        count += len(files)
    return count


def check_archive(path: Path) -> Path | None:
    root = path.resolve()
    if not (root / "hk.toml").is_file():
        print(f"{root} is not an hk archive; create one with benchmarks.generate", file=sys.stderr)
        return None
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--archive", type=Path, required=True, help="a generated archive")
    parser.add_argument(
        "--customers-only",
        type=Path,
        help="a customers-only archive (benchmarks.generate --only worker,customer)",
    )
    parser.add_argument("--repeat", type=int, default=9, help="runs per measure (median)")
    parser.add_argument("--cold-repeat", type=int, default=3, help="runs of the cold build")
    parser.add_argument("--tui-repeat", type=int, default=3, help="runs of the TUI")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--skip", action="append", default=[], choices=STEPS, help="leave out a step (repeatable)"
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="measure the reads again while the archive's file watcher (hk watch) runs",
    )
    args = parser.parse_args(argv)
    archive = check_archive(args.archive)
    only = check_archive(args.customers_only) if args.customers_only else None
    if archive is None or (args.customers_only and only is None):
        return 2
    bench = Bench(archive, args.repeat)
    who = sample_customer(archive)
    busiest = dispatch_day(archive)
    day = busiest[0] if busiest else None
    log = sys.stderr if args.json else sys.stdout
    customers = sum(1 for n in os.listdir(customer_folder(archive)) if not n.startswith("."))
    files = count_files(archive)
    print(
        f"archive: {customers} customer files, {files} files in all; median of {args.repeat} "
        f"runs after a warm-up (cold build: {args.cold_repeat}, TUI: {args.tui_repeat})",
        file=log,
    )
    print(
        f"queries: name {who['name']}, initials {who['initials']}, phone {who['phone']}"
        + (f"; order list day {day} ({busiest[1]} to dispatch)" if busiest else ""),
        file=log,
    )
    results: list[Result] = []

    def step(name: str, measure: Callable[[], list[Result]]) -> None:
        if name not in args.skip:
            print(f"measuring {name} …", file=log, flush=True)
            results.extend(measure())

    bench.run([HK, "reindex"])  # reads start from a complete index
    step("reads", lambda: measure_reads(bench, who, day, watched=False))
    if args.watch and "reads" not in args.skip:
        bench.run([HK, "watch", "start"])
        try:
            step("reads", lambda: measure_reads(bench, who, day, watched=True))
        finally:
            bench.run([HK, "watch", "stop"], check=False)
    step("edit", lambda: measure_edit(bench, who))
    step("memory", lambda: measure_memory(bench, who, day))
    if only is not None:
        small = Bench(only, args.repeat)
        small_who = sample_customer(only)
        step("customers", lambda: measure_bare_find(small, small_who))
        step("customers", lambda: measure_bare_edit(small, small_who))
        step("batch", lambda: measure_batch(small))
    else:
        if "customers" not in args.skip:
            print("no --customers-only archive: its rows are left out", file=log)
        step("batch", lambda: measure_batch(bench))
    step("cold", lambda: measure_cold(bench, args.cold_repeat))
    bench.run([HK, "reindex"])
    step("tui", lambda: measure_tui(bench, day, args.tui_repeat))
    step("import", lambda: measure_import(bench))
    if args.json:
        print(
            json.dumps(
                {
                    "archive": str(archive),
                    "customers_only": str(only) if only else None,
                    "repeat": args.repeat,
                    "queries": {**who, "order_list_day": day},
                    "results": [r.to_json() for r in results],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print()
        print(table(results))
    return 0 if all(r.ok is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
