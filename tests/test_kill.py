"""A writer SIGKILLed at random moments loses no acknowledged write and tears no file (DESIGN §3).

The full benchmark is ``python -m benchmarks.killtest --runs 1000``; this runs a few dozen
kills on a real archive in a temp dir, with a seed printed so a failure can be replayed.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from benchmarks.killtest import run_killtest


def test_killed_writer_loses_no_acknowledged_write_and_leaves_the_archive_usable(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("HK_KILLTEST_SEED") or random.SystemRandom().randrange(10**9))
    print(f"kill test seed {seed} (replay: HK_KILLTEST_SEED={seed})")
    summary = run_killtest(tmp_path / "archive", runs=40, seed=seed, max_delay=0.3)
    assert summary.runs == 40
    assert summary.killed > 0, "every child finished before its kill; nothing was tested"
    assert summary.acknowledged > 0, "no write was acknowledged before a kill"
