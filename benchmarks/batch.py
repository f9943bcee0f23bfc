"""``hk batch`` at the budget of DESIGN §6: 1 000 customer edits, one commit, ≤ 5 s.

``python -m benchmarks.batch [--archive DIR] [--edits N]``

Without ``--archive`` a customers-only archive (300 workers, 10 000 customers) is generated
in a temporary folder with :mod:`benchmarks.generate` (its keys there too) and removed
afterwards. Each edit changes a different customer's community and notes and adds a phone;
one ``hk batch`` process is timed as a user sees it, from start to exit, and the commits it
made are counted (there must be one). On a given ``--archive`` the edits stay as a commit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HK = str(Path(sys.executable).with_name("hk"))
BUDGET = 5.0
COMMUNITIES = ["万科城", "保利公园198", "中海城南一号", "麓湖生态城", "南湖国际社区"]


def edit_lines(root: Path, count: int, seed: int = 7) -> list[str]:
    """``count`` edit lines, each for a different customer, named by code as a script would."""
    listed = subprocess.run(
        [HK, "--archive", str(root), "customer", "list", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    codes = [c["code"] for c in json.loads(listed.stdout)]
    rng = random.Random(seed)
    chosen = rng.sample(codes, min(count, len(codes)))
    lines = []
    for n, code in enumerate(chosen):
        change = {
            "community": rng.choice(COMMUNITIES),
            "notes": f"批量更新 第{n + 1}条",
            "add_phone": f"139{rng.randrange(10**8):08d}",
        }
        lines.append(
            json.dumps({"op": "customer.edit", "ref": code, "set": change}, ensure_ascii=False)
        )
    return lines


def commits(root: Path) -> int:
    out = subprocess.run(
        ["git", "-C", str(root), "rev-list", "--count", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout)


def measure(root: Path, count: int) -> tuple[float, int, int]:
    """(seconds, commits made, exit code) of one ``hk batch`` of ``count`` edits."""
    lines = "\n".join(edit_lines(root, count)) + "\n"
    before = commits(root)
    started = time.perf_counter()
    run = subprocess.run(
        [HK, "--archive", str(root), "batch"], input=lines, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
    return seconds, commits(root) - before, run.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__)
    parser.add_argument("--archive", type=Path, help="an archive to edit (default: generate one)")
    parser.add_argument("--edits", type=int, default=1000, help="lines in the batch")
    args = parser.parse_args(argv)
    temp = None
    root = args.archive
    if root is None:
        from benchmarks.generate import generate

        temp = Path(tempfile.mkdtemp(prefix="hk-batch-bench-"))
        os.environ["HK_KEY_DIR"] = str(temp / "keys")
        root = temp / "archive"
        print("generating a customers-only archive (300 workers, 10 000 customers) …")
        generate(root, only=["worker", "customer"])
    try:
        subprocess.run([HK, "--archive", str(root), "reindex"], check=True, capture_output=True)
        seconds, made, code = measure(root, args.edits)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    print(f"hk batch {args.edits} edits: {seconds:.2f} s (budget ≤ {BUDGET:g} s), commits: {made}")
    return 0 if code == 0 and made == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
