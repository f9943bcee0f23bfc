"""Measure hk on a generated archive against anchors timed in the same run (DESIGN §6).

``python -m benchmarks.run --archive DIR [--repeat N] [--json] [--watch]``

Every measure is a ratio: hk's time over an anchor's (``git status``, ``grep -r``, a bare
parsing loop, a bare ``git add`` + ``git commit``) on the same archive, so a slow or busy
machine slows both. An edit is set against the same change made by hand: a line added to
another customer's file, committed with ``git add`` + ``git commit``; the commit of a file at
the archive's top, which leaves the big folder trees alone, is printed beside it. The warm
reads are a customer search, the dispatcher's list of orders waiting for a worker on one day
(``hk order list --status to_dispatch --date D``) and the day's reminders
(``hk remind --dry-run``). Each value is the median of N runs after a warm-up, with hk and its
anchors run in turn so that drift affects them alike. Whole processes are timed, as a user
sees them. With ``--watch`` the archive's file watcher and warm command server (``hk watch``)
run for the whole run and are stopped afterwards.
"""

from __future__ import annotations

import argparse
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

HK = str(Path(sys.executable).with_name("hk"))

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

ORDER_LIST = """
import sys
from hk.services.lookup import list_rows, open_index, render_table
day = sys.argv[2]
rows = list_rows(open_index(sys.argv[1]), "order", category="to_dispatch", day_from=day,
                 day_to=day)
print(render_table("order", rows))
"""
"""What ``hk order list --status to_dispatch --date D`` does, through the Python API, for a
build in which the command is not there yet."""

MAX_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Peak RSS (KiB on Linux) of one child, measured from a parent that has no other children."""


@dataclass
class Result:
    """One line of the table."""

    measure: str
    value: float | None
    unit: str
    anchor_name: str = ""
    anchor: float | None = None
    budget: str = ""
    limit: float | None = None
    """The ratio (or, without an anchor, the value) that must not be exceeded."""
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
        measured = self.ratio if self.anchor is not None else self.value
        return measured is not None and measured <= self.limit

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio, "ok": self.ok}


class Bench:
    """Runs commands in the archive folder and times them as whole processes."""

    def __init__(self, archive: Path, repeat: int) -> None:
        self.archive = archive
        self.repeat = repeat
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("HK_NO_FASTPATH", "HK_NO_WATCH")
        }
        self.env.pop("HK_ARCHIVE", None)

    def run(
        self,
        cmd: Sequence[str],
        check: bool = True,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            list(cmd), cwd=cwd or self.archive, env=env or self.env, capture_output=True
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
        self,
        jobs: dict[str, Callable[[int], float]],
        repeat: int | None = None,
        warmup: bool = True,
    ) -> dict[str, float]:
        """Median time of each job; jobs take turns, in a rotating order, round after round."""
        repeat = repeat or self.repeat
        names = list(jobs)
        if warmup:
            for name in names:
                jobs[name](-1)
        samples: dict[str, list[float]] = {n: [] for n in names}
        for i in range(repeat):
            order = names[i % len(names) :] + names[: i % len(names)]
            for name in order:
                samples[name].append(jobs[name](i))
        return {n: statistics.median(s) for n, s in samples.items()}


# --- the measures --------------------------------------------------------------------------------


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
            }
    raise RuntimeError(f"no customer with a phone in {folder}")


def _job(bench: Bench, cmd: list[str], ok_codes: tuple[int, ...]) -> Callable[[int], float]:
    return lambda _i: bench.timed(cmd, ok_codes)


def measure_find(bench: Bench, who: dict[str, str]) -> list[Result]:
    results = []
    bench.run([HK, "reindex"])  # start from a complete index: "warm" means nothing to refresh
    git_status = ["git", "status"]
    for label, query in (
        ("name", who["name"]),
        ("initials", who["initials"]),
        ("phone", who["phone"]),
    ):
        find = [HK, "customer", "find", query]
        grep = ["grep", "-r", "--exclude-dir=.git", query, "."]
        t = bench.compare(
            {
                "hk": _job(bench, find, (0, 1)),
                "git": _job(bench, git_status, (0,)),
                "grep": _job(bench, grep, (0, 1)),  # 1: no match, which is fine for an anchor
            }
        )
        results.append(
            Result(f"warm find ({label})", t["hk"], "s", "git status", t["git"], "≤ 1.0×", 1.0)
        )
        results.append(
            Result(f"warm find ({label})", t["hk"], "s", "grep -r", t["grep"], "≤ 0.5×", 0.5)
        )
    return results


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


def order_list_command(bench: Bench, day: str) -> tuple[list[str], str]:
    """``hk order list`` if this build has it (with both options), else the same query through
    :func:`hk.services.lookup.list_rows` in a small script; and a note saying which."""
    proc = bench.run([HK, "order", "list", "--help"], check=False)
    text = proc.stdout.decode(errors="replace")
    if proc.returncode == 0 and "--status" in text and "--date" in text:
        return [HK, "order", "list", "--status", "to_dispatch", "--date", day], ""
    script = [sys.executable, "-c", ORDER_LIST, str(bench.archive), day]
    return script, "via hk.services.lookup.list_rows: no `hk order list` in this build"


def measure_orders(bench: Bench, day: str) -> list[Result]:
    cmd, note = order_list_command(bench, day)
    bench.run(cmd)  # the index is complete after reindex; this run only warms the cache
    grep = ["grep", "-r", "--exclude-dir=.git", "to_dispatch", "."]
    t = bench.compare(
        {
            "hk": _job(bench, cmd, (0,)),
            "git": _job(bench, ["git", "status"], (0,)),
            "grep": _job(bench, grep, (0, 1)),
        }
    )
    label = f"warm order list to_dispatch {day}"
    return [
        Result(label, t["hk"], "s", "git status", t["git"], "≤ 1.0×", 1.0, note=note),
        Result(label, t["hk"], "s", "grep -r", t["grep"], "≤ 0.5×", 0.5, note=note),
    ]


def measure_remind(bench: Bench, day: str | None) -> list[Result]:
    """``hk remind --dry-run`` for the day before the busiest dispatch day (its appointments
    are "tomorrow"), or today: every rule of SPEC §4 over the whole archive, warm."""
    import datetime as dt

    when = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat() if day else "today"
    cmd = [HK, "remind", "--dry-run", "--date", when]
    bench.run(cmd)  # fills the reminders' cache for this day, as a first run of the day does
    t = bench.compare(
        {
            "hk": _job(bench, cmd, (0,)),
            "git": _job(bench, ["git", "status"], (0,)),
        }
    )
    return [
        Result(f"warm remind --dry-run {when}", t["hk"], "s", "git status", t["git"], "≤ 1.0×", 1.0)
    ]


def measure_cold(bench: Bench, repeat: int) -> list[Result]:
    hk_dir = bench.archive / ".git" / "hk"

    def reindex(_i: int) -> float:
        shutil.rmtree(hk_dir, ignore_errors=True)
        return bench.timed([HK, "reindex"])

    def first_find(_i: int) -> float:
        shutil.rmtree(hk_dir, ignore_errors=True)
        return bench.timed([HK, "customer", "find", "zzzz"], (0, 1))

    def loop(_i: int) -> float:
        return bench.timed([sys.executable, "-c", PARSE_LOOP, str(bench.archive)])

    t = bench.compare({"reindex": reindex, "find": first_find, "loop": loop}, repeat=repeat)
    bench.run([HK, "reindex"])
    return [
        Result("cold index (hk reindex)", t["reindex"], "s", "parse loop", t["loop"], "≤ 3×", 3.0),
        Result("cold index (first find)", t["find"], "s", "parse loop", t["loop"], "≤ 3×", 3.0),
    ]


def measure_edit(bench: Bench, who: dict[str, str]) -> list[Result]:
    found = bench.run([HK, "customer", "find", who["name"], "--json"])
    code = next(r["code"] for r in json.loads(found.stdout) if r["id"] == who["id"])
    anchor = "bench-anchor.txt"
    stamp = time.strftime("%H%M%S")

    def edit(i: int) -> float:
        return bench.timed([HK, "customer", "edit", code, "--notes", f"基准测试 {stamp} {i}"])

    def bare(i: int) -> float:
        script = (
            f'echo "基准测试 {stamp} {i}" >> {anchor}; git add {anchor}; '
            f'git commit -q -m "benchmark anchor {i}"'
        )
        return bench.timed(["sh", "-c", script])

    # The same change made by hand: a line added to another customer's file (a YAML comment,
    # so the record stays valid), then git add + git commit of that file. Like hk's edit it
    # rewrites the tree of the customers' folder, which a file at the top does not touch.
    beside = neighbour_file(bench.archive, who["id"])

    def by_hand(i: int) -> float:
        script = (
            f'echo "# 基准测试 {stamp} {i}" >> {beside}; git add {beside}; '
            f'git commit -q -m "benchmark anchor {i}"'
        )
        return bench.timed(["sh", "-c", script])

    t = bench.compare({"edit": edit, "bare": bare, "by_hand": by_hand})
    return [
        Result(
            "edit + commit",
            t["edit"],
            "s",
            "git add+commit, a record beside it",
            t["by_hand"],
            "≤ 1.5×",
            1.5,
        ),
        Result(
            "edit + commit",
            t["edit"],
            "s",
            "git add+commit, a file at the top",
            t["bare"],
            "",
            None,
            note="the cheapest commit git can make here",
        ),
    ]


def neighbour_file(archive: Path, record_id: str) -> str:
    """Another customer's file, relative to the archive: the anchor's hand edit goes there."""
    folder = customer_folder(archive)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".yaml"))
    other = next(n for n in names if not n.startswith(record_id))
    return f"{folder.name}/{other}"


def measure_memory(bench: Bench, who: dict[str, str], day: str | None) -> list[Result]:
    def peak(cmd: list[str]) -> float:
        out = bench.run([sys.executable, "-c", MAX_RSS, *cmd]).stdout
        return int(out.strip()) / 1024

    git_mb = max(peak(["git", "status"]) for _ in range(3))
    commands = [("warm find", [HK, "customer", "find", who["name"]], "")]
    if day is not None:
        cmd, note = order_list_command(bench, day)
        commands.append(("warm order list", cmd, note))
    results = []
    for label, cmd, note in commands:
        peak(cmd)
        hk_mb = max(peak(cmd) for _ in range(3))
        results.append(
            Result(
                f"peak RSS {label}",
                hk_mb,
                "MB",
                budget="≤ 100 MB",
                limit=100.0,
                note="; ".join(n for n in (f"git status: {git_mb:.1f} MB", note) if n),
            )
        )
    server_mb = command_server_rss(bench.archive)
    if server_mb is not None:  # a served command's memory is mostly the server's, shared
        results.append(
            Result(
                "RSS of the command server",
                server_mb,
                "MB",
                budget="≤ 100 MB",
                limit=100.0,
                note="resident; each command forks from it",
            )
        )
    return results


def command_server_rss(archive: Path) -> float | None:
    """The resident size of the archive's warm command server (``hk watch``), if one runs."""
    try:
        pid = (archive / ".git" / "hk" / "serve.pid").read_text().split()[0]
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return None
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(kb) / 1024 if kb else None


def import_available(bench: Bench) -> bool:
    proc = bench.run([HK, "import", "customers", "--help"], check=False)
    return proc.returncode == 0


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
    if not import_available(bench):
        return [
            Result(
                "import: not available",
                None,
                "s",
                budget="≤ 15 s",
                limit=15.0,
                note="`hk import customers` is not in this build",
            )
        ]
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
            return [
                Result(
                    "import 10 000 from XLSX",
                    None,
                    "s",
                    budget="≤ 15 s",
                    limit=15.0,
                    note=f"failed: {proc.stderr.decode().strip()[-300:]}",
                )
            ]
        files = len(os.listdir(target / "customers")) if (target / "customers").is_dir() else 0
        commits = bench.run(["git", "rev-list", "--count", "HEAD"], cwd=target).stdout
        note = f"{files} files, {int(commits) - 1} commit(s) after init"
        return [
            Result(
                f"import {rows:,} from XLSX", elapsed, "s", budget="≤ 15 s", limit=15.0, note=note
            )
        ]


# --- output --------------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return f"{value:.1f} {unit}"


def table(results: list[Result]) -> str:
    head = ["measure", "value", "anchor", "anchor value", "ratio", "budget", "result"]
    rows = [head]
    for r in results:
        ok = {True: "pass", False: "FAIL", None: "-"}[r.ok]
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "-"
        anchor = _fmt(r.anchor, r.unit) if r.anchor is not None else "-"
        rows.append(
            [
                r.measure,
                _fmt(r.value, r.unit),
                r.anchor_name or "-",
                anchor,
                ratio,
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


def client_kind() -> str:
    """Which ``hk`` is measured: the native client (``make`` builds it from native/hk.c when a
    C compiler is there) or the Python script pip writes."""
    with open(HK, "rb") as handle:
        native = handle.read(4) == b"\x7fELF"
    return "the native client (native/hk.c)" if native else "the Python script"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--archive", type=Path, required=True, help="a generated archive")
    parser.add_argument("--repeat", type=int, default=9, help="runs per measure (median)")
    parser.add_argument("--cold-repeat", type=int, default=3, help="runs of the cold build")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["find", "orders", "remind", "cold", "edit", "import", "memory"],
        help="leave out a measure (repeatable)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="run the archive's file watcher and command server (hk watch) during the run",
    )
    args = parser.parse_args(argv)
    archive = args.archive.resolve()
    if not (archive / "hk.toml").is_file():
        print(
            f"{archive} is not an hk archive; create one with benchmarks.generate", file=sys.stderr
        )
        return 2
    bench = Bench(archive, args.repeat)
    if not args.watch:  # off means off, even if a watcher happens to run for this archive
        bench.env["HK_NO_WATCH"] = "1"
        bench.env["HK_NO_SERVER"] = "1"
    who = sample_customer(archive)
    busiest = dispatch_day(archive)
    day = busiest[0] if busiest else None
    customers = sum(1 for n in os.listdir(customer_folder(archive)) if not n.startswith("."))
    orders = sum(len(files) for _, _, files in os.walk(archive / "orders"))
    log = sys.stderr if args.json else sys.stdout
    print(
        f"archive {archive}: {customers} customer files, {orders} order files; median of "
        f"{args.repeat} runs (cold build: {args.cold_repeat})",
        file=log,
    )
    print(
        f"queries: name {who['name']}, initials {who['initials']}, phone {who['phone']}"
        + (
            f"; orders to dispatch on {day}: {busiest[1]}"
            if busiest
            else "; no order is waiting for dispatch, so no order list"
        ),
        file=log,
    )
    results: list[Result] = []
    steps = [
        ("find", lambda: measure_find(bench, who)),
        ("orders", lambda: measure_orders(bench, day) if day else []),
        ("remind", lambda: measure_remind(bench, day)),
        ("cold", lambda: measure_cold(bench, args.cold_repeat)),
        ("edit", lambda: measure_edit(bench, who)),
        ("memory", lambda: measure_memory(bench, who, day)),
        ("import", lambda: measure_import(bench)),
    ]
    watcher = "on (hk watch: watcher and command server)" if args.watch else "off"
    print(f"file watcher: {watcher}; hk is {client_kind()}", file=log)
    try:
        if args.watch:
            bench.run([HK, "watch", "start"])
        if "find" in args.skip and "orders" not in args.skip:
            bench.run([HK, "reindex"])  # warm reads start from a complete index
        for name, step in steps:
            if name in args.skip:
                continue
            if args.watch:  # the cold build removes .git/hk, and the watcher with it
                bench.run([HK, "watch", "start"])
            print(f"measuring {name} …", file=log, flush=True)
            results += step()
    finally:
        if args.watch:
            bench.run([HK, "watch", "stop"], check=False)
    for r in results:
        if r.measure.startswith(("warm", "peak RSS")):
            r.note = "; ".join(n for n in (f"watcher {watcher}", r.note) if n)
    if args.json:
        queries = {**who, "dispatch_day": day}
        print(
            json.dumps(
                {
                    "archive": str(archive),
                    "repeat": args.repeat,
                    "queries": queries,
                    "watcher": args.watch,
                    "client": client_kind(),
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
