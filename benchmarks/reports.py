"""A year's reports at benchmark scale (DESIGN §6), against two anchors, in one run.

``python -m benchmarks.reports --archive DIR [--from 2024-01-01 --to 2024-12-31] [--repeat N]``

Each ``hk report NAME`` for the year, as a whole process with a warm index, is timed against

- ``git status`` on the same archive (budget ≤ 1.0×), and
- DuckDB's ``read_json`` over ``orders/**/*.json`` doing the revenue report's aggregation for
  the year (orders, served orders, revenue, cancellations and fees by month), also as a whole
  process (budget ≤ 0.2×): what the same question costs straight over the files.

The HTML document of every report for the year is timed too (budget ≤ 5 s). Medians of
``--repeat`` runs after a warm-up, the jobs taking turns; DuckDB, which takes minutes over
100 000 files, is run ``--duckdb-runs`` times (default once) after them, with the files in
the page cache, and its best time kept. DuckDB comes with the ``bench``
extra (``pip install -e '.[bench]'``); without it that column is left empty.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.run import GIT_STATUS, Bench, _job, compare

REPORTS = (
    "revenue",
    "funnel",
    "customers",
    "retention",
    "workers",
    "satisfaction",
    "quality",
    "channels",
)

DUCKDB = """
import sys, duckdb
start, end = sys.argv[1], sys.argv[2]
duckdb.sql('''
    SELECT strftime(\"window\".start, '%Y-%m') AS month,
           count(*) AS orders,
           count(*) FILTER (WHERE status IN ('completed', 'settled')) AS served,
           sum(total_fen) FILTER (WHERE status IN ('completed', 'settled')) AS revenue_fen,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           sum(cancellation_fee_fen) FILTER (WHERE status = 'cancelled') AS fee_fen
    FROM read_json('orders/**/*.json', format = 'auto', union_by_name = true,
                   timestampformat = '%Y-%m-%dT%H:%M:%S+08:00')
    WHERE CAST(\"window\".start AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
    GROUP BY 1 ORDER BY 1
''', params=[start, end]).fetchall()
"""


def duckdb_available() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, required=True)
    parser.add_argument("--from", dest="start", default="2024-01-01")
    parser.add_argument("--to", dest="end", default="2024-12-31")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--duckdb-runs", type=int, default=1)
    args = parser.parse_args(argv)
    hk = shutil.which("hk", path=str(Path(sys.executable).parent)) or "hk"
    bench = Bench(args.archive.resolve(), args.repeat)
    period = ["--from", args.start, "--to", args.end]
    bench.run([hk, "report", "all", *period])  # the index and the reports' tables, warm
    jobs = {"git status": _job(bench, GIT_STATUS)}
    for name in REPORTS:
        jobs[name] = _job(bench, [hk, "report", name, *period])
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "report.html")
        jobs["all --format html"] = _job(
            bench, [hk, "report", "all", *period, "--format", "html", "--out", out]
        )
        times = compare(jobs, args.repeat)
    if duckdb_available():  # minutes a run: timed apart, --duckdb-runs times (files cached)
        duckdb = [sys.executable, "-c", DUCKDB, args.start, args.end]
        times["duckdb"] = min(bench.timed(duckdb) for _ in range(args.duckdb_runs))
    git, duck = times["git status"], times.get("duckdb")
    orders = count_orders(bench, args.start, args.end)
    print(f"archive {args.archive}: {orders} orders from {args.start} to {args.end}")
    print(
        f"git status {git * 1000:.0f} ms; duckdb read_json "
        + (f"{duck * 1000:.0f} ms" if duck else "not installed (pip install -e '.[bench]')")
    )
    print()
    print(f"{'report':<20}{'hk':>9}{'÷ git status':>15}{'≤ 1.0×':>8}{'÷ duckdb':>11}{'≤ 0.2×':>8}")
    failed = False
    for name in [*REPORTS, "all --format html"]:
        t = times[name]
        vs_git = t / git
        line = f"{name:<20}{t * 1000:>7.0f}ms{vs_git:>14.2f}×{_ok(vs_git <= 1.0):>8}"
        failed |= vs_git > 1.0 and name in REPORTS
        if duck:
            vs_duck = t / duck
            line += f"{vs_duck:>10.2f}×{_ok(vs_duck <= 0.2):>8}"
            failed |= vs_duck > 0.2 and name in REPORTS
        if name.startswith("all"):
            line += f"   (≤ 5 s: {_ok(t <= 5.0)})"
            failed |= t > 5.0
        print(line)
    return 1 if failed else 0


def count_orders(bench: Bench, start: str, end: str) -> int:
    import sqlite3

    db = sqlite3.connect(f"file:{bench.archive / '.git' / 'hk' / 'index.sqlite'}?mode=ro", uri=True)
    try:
        (n,) = db.execute(
            "SELECT count(*) FROM records WHERE kind = 'order' AND day BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
    finally:
        db.close()
    return int(n)


def _ok(good: bool) -> str:
    return "pass" if good else "FAIL"


if __name__ == "__main__":
    raise SystemExit(main())
