"""A busy day for the planner: 300 hourly jobs, 60 workers, every rule in play.

The day is written into a fresh archive through hk's own models and pricing — workers with
skills, health certificates (some expired), weekly hours with gaps, leave; customers with
preferred and blocked workers; orders with fixed and flexible windows and requirements — and
then planned exactly as ``hk dispatch plan`` plans it (read from the archive, solved, explained).
The plan is checked twice: by the model checker on the routing problem, and, once applied, by
``hk dispatch check``'s archive check. A greedy nearest-available dispatcher, run on the same
problem, is the baseline a person with a map would roughly match.

    python -m benchmarks.dispatch_day [--jobs 300] [--workers 60] [--seed 7] [--keep DIR]

Prints time, violations, jobs placed, total travel and its ratio to the greedy baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.generate import Context, address, person_name
from hk.dispatch.check import check
from hk.dispatch.model import Job, Problem, Route, Solution, Stop, Vehicle

DAY = dt.date(2026, 12, 7)
"""A Monday."""

SERVICES: list[tuple[tuple[str, str | None, Decimal | None], int]] = [
    (("JD-AC", None, None), 40),
    (("JD-FRIDGE", None, None), 15),
    (("JD-HOOD", None, None), 10),
    (("JD-WASHER", None, None), 5),
    (("BJ-HOURLY", "2", None), 20),
    (("BJ-DAILY", None, None), 5),
    (("BJ-GLASS", "20", Decimal("1.5")), 5),
]
"""(code, quantity, hours) and weight: an appliance-cleaning season's day, mostly short visits."""


def build_archive(root: Path, jobs: int, workers: int, seed: int) -> dict[str, Any]:
    """Write the day into a new archive at ``root``; return what was made, for the report."""
    import random

    from hk.domain.base import now
    from hk.domain.customer import Customer
    from hk.domain.ids import new_id
    from hk.domain.order.steps import transition
    from hk.domain.worker import Worker
    from hk.services.archive import init
    from hk.services.orders.steps import OrderRequest, build_order
    from hk.store.archive import Archive
    from hk.store.writer import save_new_bulk

    init(root, company="基准家政", city="成都市")
    text = (root / "hk.toml").read_text()
    text = text.replace("max_jobs = 5 ", "max_jobs = 8 ").replace(
        "max_hours = 8 ", "max_hours = 10 "
    )
    (root / "hk.toml").write_text(text)
    archive = Archive(root)
    ctx = Context(rng=random.Random(seed))
    rng = ctx.rng
    stamp = now(archive.settings.locale.timezone)
    people = [_worker(ctx, k) for k in range(workers)]
    staff = [
        Worker.model_validate({"id": new_id(), "created": stamp, "updated": stamp, **p})
        for p in people
    ]
    save_new_bulk(archive, staff, f"benchmark: {len(staff)} workers")
    clients = []
    for _ in range(int(jobs * 0.85)):
        data: dict[str, Any] = {
            "name": person_name(ctx),
            "phones": [ctx.phone()],
            "addresses": [address(ctx)],
            "category": "家庭保洁",
            "channel": "电话",
        }
        if ctx.chance(0.2):
            data["preferred_workers"] = [rng.choice(staff).id]
        if ctx.chance(0.1):
            data["blocked_workers"] = [rng.choice(staff).id]
        clients.append(
            Customer.model_validate({"id": new_id(), "created": stamp, "updated": stamp, **data})
        )
    save_new_bulk(archive, clients, f"benchmark: {len(clients)} customers")
    orders = []
    tz = archive.settings.locale.timezone
    for k in range(jobs):
        customer = clients[k] if k < len(clients) else rng.choice(clients)
        ((code, quantity, hours),) = rng.choices([s for s, _ in SERVICES], [w for _, w in SERVICES])
        start = dt.datetime.combine(DAY, dt.time(8, 30), _zone(tz)) + dt.timedelta(
            minutes=30 * rng.randrange(0, 19)
        )
        requirements: dict[str, Any] = {}
        if ctx.chance(0.2):
            requirements["certificates"] = ["健康证"]
        if ctx.chance(0.05):
            requirements["gender"] = "女"
        order, _ = build_order(
            archive,
            OrderRequest(
                customer.id,
                [(code, quantity)],
                start,
                channel="phone",
                hours=hours,
                requirements=requirements,
                at=stamp,
            ),
        )
        if ctx.chance(0.5):  # "any time this morning": a window wider than the job
            widened = order.window.end + dt.timedelta(minutes=60 * rng.randrange(1, 4))
            order = order.model_copy(
                update={
                    "window": order.window.model_copy(update={"end": widened}),
                    "expected_minutes": int(order.duration().total_seconds() // 60),
                }
            )
        for status in ("confirmed", "to_dispatch"):
            order = transition(order, status, "基准", stamp)
        orders.append(order)
    save_new_bulk(archive, orders, f"benchmark: {len(orders)} orders")
    return {"workers": len(staff), "customers": len(clients), "orders": len(orders)}


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _worker(ctx: Context, k: int) -> dict[str, Any]:
    rng = ctx.rng
    female = ctx.chance(0.9)
    skills = [{"name": "保洁", "level": rng.randrange(1, 6)}] if ctx.chance(0.8) else []
    if ctx.chance(0.35):
        skills.append({"name": "深度保洁", "level": rng.randrange(1, 6)})
    if not skills or ctx.chance(0.75):
        skills.append({"name": "家电清洗", "level": rng.randrange(1, 6)})
    expires = DAY + dt.timedelta(days=rng.randrange(-40, 300))
    data: dict[str, Any] = {
        "name": person_name(ctx, female),
        "gender": "女" if female else "男",
        "birth_year": rng.randrange(1965, 2000),
        "phone": ctx.phone(),
        "home": address(ctx, label="住处"),
        "skills": skills,
        "certificates": [
            {"kind": "健康证", "issued": expires - dt.timedelta(days=365), "expires": expires}
        ]
        if ctx.chance(0.9)
        else [],
    }
    shape = rng.random()  # else no weekly hours: the settings' working day, 08:00-20:00
    if shape < 0.25:
        data["availability"] = {
            d: ["08:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")
        }
    elif shape < 0.4:
        data["availability"] = {
            d: ["08:00-12:00", "14:00-20:00"] for d in ("mon", "wed", "thu", "fri", "sat", "sun")
        }
    if k % 12 == 5:
        data["leave"] = [
            {
                "start": DAY - dt.timedelta(days=1),
                "end": DAY + dt.timedelta(days=2),
                "reason": "回老家",
            }
        ]
    return data


# --- the greedy baseline --------------------------------------------------------------------


def greedy(problem: Problem) -> Solution:
    """Nearest available: jobs by earliest start, each to the allowed worker who gets there
    soonest with the least travel, keeping shifts, gaps, caps and the way home."""
    jobs = sorted(problem.jobs, key=lambda j: (j.windows[0].start if j.windows else 0, j.id))
    state = {v.id: _Day(v) for v in problem.vehicles}
    unassigned = {}
    for job in jobs:
        best: tuple[float, _Day, float] | None = None
        for vehicle in problem.vehicles:
            day = state[vehicle.id]
            if not job.allows(vehicle):
                continue
            begin = day.fits(problem, job)
            if begin is None:
                continue
            travel = day.travel_to(problem, job.location)
            if best is None or travel < best[0]:
                best = (travel, day, begin)
        if best is None:
            unassigned[job.id] = "no worker free"
            continue
        best[1].take(problem, job, best[2])
    routes = [day.route(problem) for day in state.values() if day.job_stops()]
    for route in routes:
        places = [s.location for s in route.stops if s.location is not None]
        route.distance = math.fsum(problem.distances[a][b] for a, b in itertools.pairwise(places))
        route.travel = math.fsum(problem.durations[a][b] for a, b in itertools.pairwise(places))
    return Solution(
        routes=routes,
        unassigned=unassigned,
        distance=math.fsum(r.distance for r in routes),
        travel=math.fsum(r.travel for r in routes),
    )


class _Day:
    """One worker's day as the greedy dispatcher fills it.

    Gaps in her hours are fixed breaks: a job may neither overlap one nor be travelled to
    across one without waiting it out. She leaves home when her shift starts.
    """

    def __init__(self, vehicle: Vehicle) -> None:
        assert vehicle.shift is not None
        self.vehicle = vehicle
        self.shift = vehicle.shift
        self.place = vehicle.start
        self.free = vehicle.shift.start
        self.load = 0
        self.stops: list[Stop] = []
        self.gaps = sorted(
            (b.windows[0].start, b.windows[0].start + b.service, b.id) for b in vehicle.breaks
        )

    def travel_to(self, problem: Problem, location: int) -> float:
        return 0.0 if self.place is None else problem.durations[self.place][location]

    def fits(self, problem: Problem, job: Job) -> float | None:
        """When the job could begin, or None if it does not fit the rest of her day."""
        vehicle = self.vehicle
        if vehicle.max_jobs is not None and len(self.job_stops()) >= vehicle.max_jobs:
            return None
        if vehicle.capacity and self.load + job.demand[0] > vehicle.capacity[0]:
            return None
        window = job.windows[0]
        travel = self.travel_to(problem, job.location)
        begin = max(self.free + travel, window.start)
        for start, end, _ in self.gaps:
            if start < begin + job.service:
                begin = max(begin, end + travel, window.start)
        if begin > window.end:
            return None
        finish = begin + job.service
        home = 0.0 if vehicle.end is None else problem.durations[job.location][vehicle.end]
        later = sum(end - start for start, end, _ in self.gaps if start >= finish)
        if finish + home + later > self.shift.end:
            return None
        return begin

    def job_stops(self) -> list[Stop]:
        return [stop for stop in self.stops if stop.kind == "job"]

    def take(self, problem: Problem, job: Job, begin: float) -> None:
        arrival = self.free + self.travel_to(problem, job.location)
        passed = [g for g in self.gaps if g[0] < begin]
        for start, end, gap_id in passed:
            self.stops.append(Stop("break", None, start, start, end, break_id=gap_id))
            arrival = begin
        self.gaps = [g for g in self.gaps if g not in passed]
        self.stops.append(
            Stop("job", job.location, arrival, begin, begin + job.service, job_id=job.id)
        )
        self.free, self.place = begin + job.service, job.location
        self.load += job.demand[0]

    def route(self, problem: Problem) -> Route:
        vehicle = self.vehicle
        leave = self.shift.start
        stops = (
            [Stop("start", vehicle.start, leave, leave, leave)] if vehicle.start is not None else []
        )
        stops += self.stops
        last = self.free
        for start, end, gap_id in self.gaps:
            stops.append(Stop("break", None, start, start, end, break_id=gap_id))
            last = max(last, end)
        if vehicle.end is not None and self.place is not None:
            back = max(
                self.free
                + problem.durations[self.place][vehicle.end]
                + sum(end - start for start, end, _ in self.gaps),
                last,
            )
            stops.append(Stop("end", vehicle.end, back, back, back))
        return Route(vehicle_id=vehicle.id, stops=stops)


def _only(problem: Problem, baseline: Solution) -> Problem:
    """The problem cut down to the jobs the greedy baseline placed."""
    kept = {job_id for route in baseline.routes for job_id in route.job_ids}
    return Problem(
        jobs=[j for j in problem.jobs if j.id in kept],
        vehicles=problem.vehicles,
        durations=problem.durations,
        distances=problem.distances,
        affinity={k: v for k, v in problem.affinity.items() if k[0] in kept},
    )


def _same_jobs(problem: Problem, baseline: Solution, time_limit_s: float) -> Solution:
    """hk's solver on exactly the jobs the baseline placed: travel compared like for like,
    since on the whole day hk also places the jobs greedy could not, which costs travel."""
    from hk.dispatch.day import solver_options
    from hk.dispatch.vroom import solve

    return solve(_only(problem, baseline), **solver_options(time_limit_s))


# --- the run --------------------------------------------------------------------------------


def run(jobs: int, workers: int, seed: int, keep: Path | None) -> int:
    from hk.services.dispatch import plan as dispatch
    from hk.services.dispatch.check import check_day
    from hk.store.archive import Archive

    root = keep or Path(tempfile.mkdtemp(prefix="hk-dispatch-day-"))
    if keep is not None and keep.exists():
        shutil.rmtree(keep)
    try:
        made = build_archive(root, jobs, workers, seed)
        print(
            f"day {DAY} ({made['orders']} jobs, {made['workers']} workers, "
            f"{made['customers']} customers) in {root}"
        )
        archive = Archive(root)
        began = time.perf_counter()
        inputs, plan = dispatch.make_plan(archive, DAY)
        elapsed = time.perf_counter() - began
        assert plan.problem is not None and plan.solution is not None
        model_violations = check(plan.problem, plan.solution)
        baseline = greedy(plan.problem)
        baseline_violations = check(plan.problem, baseline)
        dispatch.apply(archive, inputs, plan)
        archive_report = check_day(Archive(root), DAY)
        placed_greedy = sum(len(r.job_ids) for r in baseline.routes)
        same = _same_jobs(plan.problem, baseline, archive.settings.dispatch.time_limit_s)
        unreasoned = [j for j, why in plan.unplaced.items() if not why.strip()]
        ratio = same.travel / baseline.travel if baseline.travel else float("nan")
        whole = plan.solution.travel / baseline.travel if baseline.travel else float("nan")
        print(
            f"planned in {elapsed:.2f} s (read {elapsed - plan.seconds:.2f} s, "
            f"solve {plan.seconds:.2f} s)  budget 10 s: "
            f"{'ok' if elapsed <= 10 else 'OVER'}"
        )
        print(
            f"violations: model check {len(model_violations)}, archive check after apply "
            f"{len(archive_report.violations)}, greedy {len(baseline_violations)}"
        )
        for line in (model_violations + [v.render() for v in archive_report.violations])[:10]:
            print("  " + line)
        print(
            f"plan:   {plan.placed}/{len(plan.jobs)} placed, travel "
            f"{plan.solution.travel / 3600:.1f} h ({plan.solution.distance / 1000:.1f} km)"
        )
        print(
            f"greedy: {placed_greedy}/{len(plan.jobs)} placed, travel "
            f"{baseline.travel / 3600:.1f} h ({baseline.distance / 1000:.1f} km)"
        )
        print(
            f"the greedy's {placed_greedy} jobs planned by hk: {len(same.unassigned)} left out, "
            f"travel {same.travel / 3600:.1f} h, {same.seconds:.1f} s, "
            f"{len(check(_only(plan.problem, baseline), same))} violations"
        )
        print(f"travel ratio hk/greedy on the same jobs: {ratio:.2f} (target ≤ 0.75)")
        per_job = (plan.solution.travel / max(1, plan.placed)) / (
            baseline.travel / max(1, placed_greedy)
        )
        print(
            f"whole day: ratio {whole:.2f} while placing {plan.placed - placed_greedy:+d} "
            f"jobs; per job placed {per_job:.2f}"
        )
        reasons = Counter(why.split("：")[0] for why in plan.unplaced.values())
        print(f"unplaced: {len(plan.unplaced)}, without a reason: {len(unreasoned)}")
        for why, count in reasons.most_common():
            print(f"  {count:3d} × {why}")
        ok = (
            elapsed <= 10
            and not model_violations
            and not archive_report.violations
            and not unreasoned
            and ratio <= 0.75
            and plan.placed >= placed_greedy
        )
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dispatch_day", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it")
    args = parser.parse_args(argv)
    return run(args.jobs, args.workers, args.seed, args.keep)


if __name__ == "__main__":
    sys.exit(main())
