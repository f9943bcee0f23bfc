"""``hk sync`` at the budget of DESIGN §6: two clones with 1 000 diverged records each, merged in
≤ 3× a plain ``git fetch`` + ``git merge`` of the same histories, index refresh included.

``python -m benchmarks.sync [--records N] [--repeat N] [--json]``

A customers-only archive is generated in a temporary folder (:mod:`benchmarks.generate`, its
keys there too), pushed to a bare repository and cloned twice. Each clone changes ``N``
customers with one ``hk batch`` (different fields, so nothing overlaps), and the first clone
pushes. The second clone is then copied, with the remote, twice per round: in one copy
``hk sync`` runs (fetch, field-level merge, validation of every touched record, merge commit,
index refresh, push), in the other ``git fetch`` + ``git merge --no-edit`` (git's own line
merge, with no merge driver). Both are timed as whole processes, taking turns after a warm-up
run of each, and the median of each is compared.

Two shapes of divergence, each a row:

- *same records*: both clones change the same ``N`` customers (one the notes, the other the
  tags): every file changed on both sides, merged field by field by hk. Plain git stops on
  these files with conflicts (the ``updated:`` line), so its time is that of a merge that
  gives up; it is the anchor all the same, as DESIGN §6 names it.
- *other records*: each clone changes ``N`` customers of its own: no file changed on both
  sides; hk's work is the validation and the index.
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

from benchmarks.run import compare

HK = str(Path(sys.executable).with_name("hk"))
BUDGET = 3.0
TAGS = ["高端客户", "重点维护客户", "季度服务套餐", "母婴护理需求"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def hk(root: Path, *args: str, stdin: str | None = None, operator: str = "") -> str:
    env = {**os.environ, "HK_NO_WATCH": "1"}
    if operator:
        env["HK_OPERATOR"] = operator
    proc = subprocess.run(
        [HK, "--archive", str(root), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"hk {' '.join(args)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stdout


def edits(codes: list[str], field: str, seed: int) -> str:
    """One ``hk batch`` line per customer, each setting ``field``."""
    rng = random.Random(seed)
    lines = []
    for n, code in enumerate(codes):
        value: object = f"同步测试 第{n + 1}条" if field == "notes" else [rng.choice(TAGS)]
        lines.append(
            json.dumps(
                {"op": "customer.edit", "ref": code, "set": {field: value}}, ensure_ascii=False
            )
        )
    return "\n".join(lines) + "\n"


def prepare(work: Path, records: int, same: bool) -> tuple[Path, Path]:
    """The remote (with the first clone's changes pushed) and the second clone (with its own,
    not pushed): the histories both measures merge."""
    from benchmarks.generate import generate

    customers = records if same else 2 * records
    base = work / "base"
    generate(base, scale=customers / 10_000, only=["worker", "customer"])
    remote = work / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(base, "push", "-q", str(remote), "main")
    clones = []
    for name in ("first", "second"):
        clone = work / name
        subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True)
        git(clone, "config", "user.name", name)
        git(clone, "config", "user.email", f"{name}@office.test")
        clones.append(clone)
    first, second = clones
    codes = sorted(r["code"] for r in json.loads(hk(first, "customer", "list", "--json")))
    mine, theirs = (codes, codes) if same else (codes[:records], codes[records:])
    hk(first, "batch", stdin=edits(mine, "notes", 1), operator="王店长")
    git(first, "push", "-q", "origin", "main")
    hk(second, "batch", stdin=edits(theirs, "tag", 2), operator="李会计")
    return remote, second


def copies(work: Path, remote: Path, clone: Path, name: str) -> Path:
    """A copy of the clone whose origin is its own copy of the remote; its index warmed (the
    copy changed every file's inode), and, for plain git, no merge driver configured."""
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copytree(remote, folder / "remote.git", symlinks=True)
    shutil.copytree(clone, folder / "clone", symlinks=True)
    copy = folder / "clone"
    git(copy, "remote", "set-url", "origin", str(folder / "remote.git"))
    if name.startswith("git"):
        subprocess.run(
            ["git", "-C", str(copy), "config", "--remove-section", "merge.hk"],
            capture_output=True,
        )
    else:
        hk(copy, "reindex")
    os.sync()  # the copy's pages on disk: neither measure pays for the other's writeback
    return copy


def timed(cmds: list[list[str]], cwd: Path) -> float:
    env = {**os.environ, "HK_NO_WATCH": "1", "HK_OPERATOR": "李会计"}
    started = time.perf_counter()
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
        if proc.returncode not in (0, 1):  # a plain merge that stops on conflicts exits 1
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]!r}")
    return time.perf_counter() - started


def measure(work: Path, records: int, repeat: int, same: bool) -> dict[str, float]:
    remote, second = prepare(work, records, same)

    def hk_sync(i: int) -> float:
        copy = copies(work, remote, second, f"hk{i}")
        seconds = timed([[HK, "--archive", str(copy), "sync"]], copy)
        check(copy)
        return seconds

    def plain_git(i: int) -> float:
        copy = copies(work, remote, second, f"git{i}")
        return timed(
            [["git", "fetch", "-q", "origin"], ["git", "merge", "--no-edit", "-q", "origin/main"]],
            copy,
        )

    return compare({"hk sync": hk_sync, "git fetch + merge": plain_git}, repeat)


def check(copy: Path) -> None:
    """The sync did the job: a merge commit, pushed, with both sides' fields."""
    parents = git(copy, "log", "-1", "--format=%P").split()
    if len(parents) != 2:
        raise RuntimeError("hk sync made no merge commit")
    if git(copy, "rev-parse", "HEAD") != git(copy, "rev-parse", "origin/main"):
        raise RuntimeError("hk sync did not push")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sync", description=__doc__)
    parser.add_argument("--records", type=int, default=1000, help="records changed per clone")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = []
    for same in (True, False):
        work = Path(tempfile.mkdtemp(prefix="hk-sync-bench-"))
        os.environ["HK_KEY_DIR"] = str(work / "keys")
        try:
            times = measure(work, args.records, args.repeat, same)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        ratio = times["hk sync"] / times["git fetch + merge"]
        rows.append(
            {
                "measure": f"hk sync, {args.records} records each side "
                + ("(the same records, other fields)" if same else "(other records)"),
                "hk": times["hk sync"],
                "anchor": times["git fetch + merge"],
                "ratio": ratio,
                "budget": BUDGET,
                "ok": ratio <= BUDGET,
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(
                f"{row['measure']}: {row['hk']:.2f} s vs git fetch + merge {row['anchor']:.2f} s"
                f" = {row['ratio']:.2f}× (budget ≤ {BUDGET:g}×) {'ok' if row['ok'] else 'OVER'}"
            )
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
