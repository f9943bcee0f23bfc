"""Solomon VRPTW benchmark: the 56 instances through the same model and solver as the daily plan.

Each instance is translated into :class:`hk.dispatch.model.Problem` the way ``hk dispatch plan``
translates a day's orders (jobs with windows and service times, vehicles with a shift and a
capacity), solved by :func:`hk.dispatch.vroom.solve`, verified by :func:`hk.dispatch.check.check`
and compared with the best-known distance (``<name>_distance`` in ``BKS.json``: Euclidean
distances summed at full precision, rounded to two decimals).

    python -m benchmarks.solomon [--data DIR] [--instances C101,R201] [--time-limit S]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from hk.dispatch.check import check
from hk.dispatch.model import Job, Problem, Vehicle, Window, euclidean
from hk.dispatch.vroom import solve

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "solomon"


@dataclass(frozen=True, slots=True)
class Instance:
    """A parsed Solomon file: the fleet, and customer 0 as the depot."""

    name: str
    vehicles: int
    capacity: int
    rows: list[tuple[float, float, int, float, float, float]]  # x, y, demand, ready, due, service


def parse(path: Path, customers: int | None = None) -> Instance:
    """Read the standard Solomon text format; ``customers`` keeps only the first N of them."""
    lines = [line.split() for line in path.read_text().splitlines()]
    vehicles = capacity = 0
    rows: list[tuple[float, float, int, float, float, float]] = []
    for k, fields in enumerate(lines):
        if fields[:2] == ["NUMBER", "CAPACITY"]:
            vehicles, capacity = (int(v) for v in lines[k + 1][:2])
        if len(fields) == 7 and all(_number(f) for f in fields):
            _, x, y, demand, ready, due, service = fields
            rows.append(
                (float(x), float(y), int(float(demand)), float(ready), float(due), float(service))
            )
    if not vehicles or not rows:
        raise ValueError(f"{path.name}: not a Solomon instance")
    if customers is not None:
        rows = rows[: customers + 1]
    return Instance(path.stem, vehicles, capacity, rows)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def problem_of(instance: Instance) -> Problem:
    """The routing model of an instance: travel time equals Euclidean distance.

    The depot's window is every vehicle's shift; its start and end are the depot (index 0).
    """
    points = [(x, y) for x, y, *_ in instance.rows]
    matrix = euclidean(points)
    depot = instance.rows[0]
    shift = Window(depot[3], depot[4])
    jobs = [
        Job(id=str(k), location=k, service=service, windows=(Window(ready, due),), demand=(demand,))
        for k, (_, _, demand, ready, due, service) in enumerate(instance.rows)
        if k
    ]
    vehicles = [
        Vehicle(id=f"v{k + 1}", start=0, end=0, shift=shift, capacity=(instance.capacity,))
        for k in range(instance.vehicles)
    ]
    return Problem(jobs=jobs, vehicles=vehicles, durations=matrix, distances=matrix)


def best_known(data: Path) -> dict[str, dict[str, float]]:
    """The ``_distance`` best-known values by instance name (with the vehicles they used)."""
    raw = json.loads((data / "BKS.json").read_text())
    return {
        name.removesuffix("_distance"): value
        for name, value in raw.items()
        if name.endswith("_distance")
    }


def main(argv: list[str] | None = None) -> int:
    """Run the instances, print one line each and the summary; exit 1 on any violation."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.solomon",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--instances", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=4.5,
        help="seconds the solver may search per instance (default 4.5: the "
        "budget is 5 s an instance, translating and checking included; "
        "0 for no limit)",
    )
    parser.add_argument("--exploration", type=int, default=5, help="VROOM level 1–5")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    bks = best_known(args.data)
    names = [n.strip() for n in args.instances.split(",") if n.strip()] or sorted(
        p.stem for p in args.data.glob("*.txt")
    )
    print(
        f"{'instance':<8} {'veh':>4} {'bks':>4} {'distance':>10} {'best':>10} {'gap%':>7} "
        f"{'seconds':>8}  violations"
    )
    gaps: list[float] = []
    seconds: list[float] = []
    failures = 0
    for name in names:
        instance = parse(args.data / f"{name}.txt")
        problem = problem_of(instance)
        began = time.perf_counter()
        solution = solve(
            problem,
            time_limit_s=args.time_limit or None,
            exploration_level=args.exploration,
            threads=args.threads,
        )
        elapsed = time.perf_counter() - began
        violations = check(problem, solution)
        if solution.unassigned:
            violations.append(f"{len(solution.unassigned)} customers not served")
        if solution.vehicles_used > instance.vehicles:
            violations.append(f"{solution.vehicles_used} vehicles, fleet is {instance.vehicles}")
        failures += bool(violations)
        distance = round(solution.distance, 2)
        known = bks.get(name, {})
        best = known.get("best_known_cost")
        gap = (distance - best) / best * 100 if best else None
        if gap is not None:
            gaps.append(gap)
        seconds.append(elapsed)
        used = known.get("solved_with_vehicles")
        print(
            f"{name:<8} {solution.vehicles_used:>4} {used if used is not None else '-':>4} "
            f"{distance:>10.2f} {best if best is not None else '-':>10} "
            f"{f'{gap:.2f}' if gap is not None else '-':>7} {elapsed:>8.2f}  "
            f"{len(violations)}{': ' + violations[0] if violations else ''}"
        )
    if gaps:
        print(
            f"\n{len(names)} instances: mean gap {statistics.fmean(gaps):.2f} %, "
            f"max gap {max(gaps):.2f} %, mean {statistics.fmean(seconds):.2f} s, "
            f"max {max(seconds):.2f} s, instances with violations: {failures}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
