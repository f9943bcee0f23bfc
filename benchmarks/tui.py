"""The TUI's budget (DESIGN §6), measured with Textual's Pilot on a real archive.

``python -m benchmarks.tui --archive DIR [--today YYYY-MM-DD] [--json]``

Prints:

- time to the first usable screen: from this process's start (Python, imports included) until
  the dashboard shows its figures (budget 1.2 s); also until the customers list is shown;
- the search update after a keystroke: for each key typed into the customers' search box, the
  time from the key until the list shows the result (budget: median 80 ms);
- the time to open a customer's page, and the peak memory of the process (budget 300 MB).

The anchor printed first is ``import textual.app`` alone in a fresh process: what any Textual
app pays before its first frame on the same machine.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (the clock starts before anything is imported)
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

TYPED = ["zhang", "wxy", "138", "1390028", "li", "高端"]
"""What the operator types, one key at a time, clearing the box between words."""
BUDGET = {"first_usable_s": 1.2, "search_median_ms": 80.0, "peak_rss_mb": 300.0}


async def until(pilot: Any, done: Any, timeout: float = 120.0) -> float:
    """Wait until ``done()``, letting the app's loop run; seconds waited.

    Plain sleeps, not Pilot's pauses: those also wait for the process to go idle, which would
    count the worker threads' time twice.
    """
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the TUI did not get there in time")
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


def type_key(app: Any, key: str) -> None:
    """A key as the terminal driver hands it to the app (no waiting, unlike Pilot.press)."""
    from textual import events

    app.post_message(events.Key(key, key))


async def measure(root: Path, today: dt.date | None) -> dict[str, Any]:
    from hk.tui.app import make_app
    from hk.tui.screens.customers import CustomersScreen
    from hk.tui.screens.dashboard import DashboardScreen

    app = make_app(root, today=today, refresh_seconds=600)
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.ready)
        out["first_usable_s"] = time.perf_counter() - STARTED
        await until(pilot, lambda: not any(w.is_running for w in app.workers))
        out["dashboard_complete_s"] = time.perf_counter() - STARTED
        begin = time.perf_counter()
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, CustomersScreen) and app.screen.ready)
        out["customers_list_s"] = time.perf_counter() - begin
        screen = app.screen
        assert isinstance(screen, CustomersScreen)
        latencies: list[float] = []
        for word in TYPED:
            await pilot.press("escape")
            await until(pilot, lambda: not any(w.is_running for w in app.workers))
            await pilot.pause(0.05)
            for key in word:
                seen = screen.searches
                begin = time.perf_counter()
                type_key(app, key)
                await until(
                    pilot,
                    lambda seen=seen: (
                        screen.searches > seen
                        and not any(w.is_running and w.name == "search" for w in app.workers)
                    ),
                )
                latencies.append((time.perf_counter() - begin) * 1000)
        out["search_ms"] = [round(ms, 1) for ms in latencies]
        out["search_median_ms"] = statistics.median(latencies)
        out["search_max_ms"] = max(latencies)
        found = screen.found
        if found and found.rows:
            begin = time.perf_counter()
            app.open_record("customer", found.rows[0]["id"])
            await until(
                pilot, lambda: getattr(app.screen, "ready", False) and app.screen is not screen
            )
            out["customer_page_s"] = time.perf_counter() - begin
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def textual_import_s() -> float:
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, required=True, help="the archive to open")
    parser.add_argument("--today", help="the dashboard's day (default: today)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    today = dt.date.fromisoformat(args.today) if args.today else None
    results = asyncio.run(measure(args.archive, today))
    results["anchor_import_textual_s"] = textual_import_s()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"archive: {args.archive}")
    anchor = results["anchor_import_textual_s"]
    print(f"anchor: import textual.app in a fresh process   {anchor:.2f} s")
    rows = [
        (
            "first usable screen (dashboard figures)",
            f"{results['first_usable_s']:.2f} s",
            f"budget {BUDGET['first_usable_s']} s",
        ),
        ("dashboard complete (queues too)", f"{results['dashboard_complete_s']:.2f} s", ""),
        ("customers list shown after F3", f"{results['customers_list_s'] * 1000:.0f} ms", ""),
        (
            "search update after a keystroke, median",
            f"{results['search_median_ms']:.0f} ms",
            f"budget {BUDGET['search_median_ms']:.0f} ms",
        ),
        ("search update after a keystroke, slowest", f"{results['search_max_ms']:.0f} ms", ""),
        ("customer page shown", f"{results.get('customer_page_s', 0) * 1000:.0f} ms", ""),
        (
            "peak memory (RSS)",
            f"{results['peak_rss_mb']:.0f} MB",
            f"budget {BUDGET['peak_rss_mb']:.0f} MB",
        ),
    ]
    for what, value, budget in rows:
        print(f"  {what:<42} {value:>9}  {budget}")
    within = (
        results["first_usable_s"] <= BUDGET["first_usable_s"]
        and results["search_median_ms"] <= BUDGET["search_median_ms"]
        and results["peak_rss_mb"] <= BUDGET["peak_rss_mb"]
    )
    print("within budget" if within else "OVER BUDGET")


if __name__ == "__main__":
    main()
