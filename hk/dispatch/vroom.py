"""The VROOM backend: translate a :class:`~hk.dispatch.model.Problem`, solve, translate back.

VROOM works in unsigned integers, so every time and matrix value is multiplied by ``scale``.
Travel and service times are rounded up and window ends down, which keeps a plan VROOM finds
feasible also feasible in the original (possibly fractional) units the checker uses; costs
are rounded to the nearest integer. Route distances and travel times in the returned
:class:`~hk.dispatch.model.Solution` are summed from the original float matrices, never from
the scaled ones, so reported totals carry no rounding error.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import vroom as _vroom

from hk.dispatch.model import Job, Problem, Route, Solution, Stop, Vehicle, Window

PROFILE = "car"

#: Reasons for a job left out, in the order they are tested.
NO_SKILLS = "no vehicle has the skills it needs"
TOO_BIG = "its demand exceeds the capacity of every vehicle that could take it"
OUT_OF_REACH = "no vehicle can reach it inside its time window and be back within the shift"
NO_ROOM = "no room left in any route without breaking another rule"


def solve(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    exploration_level: int = 5,
    threads: int = 2,
    scale: int = 1000,
) -> Solution:
    """Solve ``problem`` with VROOM and return routes in the model's own terms and units.

    ``scale`` turns fractional times into integers (1000 keeps three decimals; a working day
    in seconds then still fits VROOM's 32-bit input). Jobs VROOM leaves out come back in
    ``Solution.unassigned`` with the first reason :func:`reason` finds.
    """
    began = time.perf_counter()
    if not problem.jobs or not problem.vehicles:
        routes: list[Route] = []
        unassigned = {job.id: NO_ROOM if problem.vehicles else NO_SKILLS for job in problem.jobs}
        return Solution(routes=routes, unassigned=unassigned, seconds=time.perf_counter() - began)
    skill_ids = _skill_ids(problem)
    dims = max([len(j.demand) for j in problem.jobs] + [len(v.capacity) for v in problem.vehicles])
    data = _vroom.Input()
    profiles = _set_matrices(data, problem, scale)
    allowed: dict[str, set[int]] = {vehicle.id: set() for vehicle in problem.vehicles}
    for job in problem.jobs:
        for vehicle_id in job.vehicles or ():
            if vehicle_id in allowed:
                allowed[vehicle_id].add(skill_ids[f"@{job.id}"])
    for number, vehicle in enumerate(problem.vehicles):
        data.add_vehicle(
            _vehicle(
                number,
                vehicle,
                skill_ids,
                dims,
                scale,
                profiles.get(vehicle.id, PROFILE),
                allowed[vehicle.id],
            )
        )
    data.add_job(
        [_job(number, job, skill_ids, dims, scale) for number, job in enumerate(problem.jobs)]
    )
    timeout = None if time_limit_s is None else dt.timedelta(seconds=time_limit_s)
    raw = data.solve(
        exploration_level=exploration_level, nb_threads=threads, timeout=timeout
    ).to_dict()
    solution = _translate(problem, raw, scale)
    solution.seconds = time.perf_counter() - began
    return solution


def reason(problem: Problem, job: Job) -> str:
    """Why ``job`` could not be placed, in words, from the cheapest test that explains it.

    Skills, then capacity, then whether any qualified vehicle could get there in time from its
    start and still return by the end of its shift; otherwise the routes were simply full.
    """
    able = [v for v in problem.vehicles if job.allows(v)]
    if not able:
        return NO_SKILLS
    able = [v for v in able if _fits(job.demand, v.capacity)]
    if not able:
        return TOO_BIG
    if not any(_reachable(problem, job, v) for v in able):
        return OUT_OF_REACH
    return NO_ROOM


def _fits(demand: tuple[int, ...], capacity: tuple[int, ...]) -> bool:
    if not capacity:
        return True
    padded = demand + (0,) * (len(capacity) - len(demand))
    return len(padded) <= len(capacity) and all(
        d <= c for d, c in zip(padded, capacity, strict=True)
    )


def _reachable(problem: Problem, job: Job, vehicle: Vehicle) -> bool:
    shift = vehicle.shift or Window(-math.inf, math.inf)
    there = problem.durations[vehicle.start][job.location] if vehicle.start is not None else 0.0
    back = problem.durations[job.location][vehicle.end] if vehicle.end is not None else 0.0
    for window in job.windows or (Window(-math.inf, math.inf),):
        begin = max(shift.start + there, window.start)
        if begin <= window.end and begin + job.service + back <= shift.end:
            return True
    return False


def _set_matrices(data: _vroom.Input, problem: Problem, scale: int) -> dict[str, str]:
    """Durations and costs, one profile per vehicle with affinities; their profile names.

    VROOM has no notion of a job preferring a vehicle, but it takes a cost matrix per profile.
    Every vehicle pays, on arriving at a job's location, the job's largest saving; a vehicle
    with an affinity for the job pays that much less. Every served job is arrived at exactly
    once, so the added amounts are the same for any plan except for who serves whom.
    """
    durations = np.ceil(np.asarray(problem.durations, dtype=np.float64) * scale)
    base = (
        np.asarray(problem.costs, dtype=np.float64)
        if problem.costs is not None
        else np.asarray(problem.durations, dtype=np.float64)
    )
    costs = np.rint(base * scale)
    durations_int = durations.astype(np.uint32)
    if not problem.affinity:
        data.set_durations_matrix(PROFILE, durations_int)
        if problem.costs is not None:
            data.set_costs_matrix(PROFILE, costs.astype(np.uint32))
        return {}
    jobs = {job.id: job for job in problem.jobs}
    best: dict[str, float] = {}
    by_vehicle: dict[str, dict[str, float]] = {}
    for (job_id, vehicle_id), saving in problem.affinity.items():
        best[job_id] = max(best.get(job_id, 0.0), saving)
        by_vehicle.setdefault(vehicle_id, {})[job_id] = saving
    for job_id, most in best.items():
        costs[:, jobs[job_id].location] += round(most * scale)
    data.set_durations_matrix(PROFILE, durations_int)
    data.set_costs_matrix(PROFILE, costs.astype(np.uint32))
    profiles = {}
    for number, (vehicle_id, savings) in enumerate(sorted(by_vehicle.items())):
        name = f"{PROFILE}-{number}"
        own = costs.copy()
        for job_id, saving in savings.items():
            own[:, jobs[job_id].location] -= round(saving * scale)
        data.set_durations_matrix(name, durations_int)
        data.set_costs_matrix(name, own.astype(np.uint32))
        profiles[vehicle_id] = name
    return profiles


def _skill_ids(problem: Problem) -> dict[str, int]:
    """Skills by number, and one skill per job restricted to some vehicles (``@job id``)."""
    names = sorted(
        {s for j in problem.jobs for s in j.skills}
        | {s for v in problem.vehicles for s in v.skills}
    )
    names += [f"@{job.id}" for job in problem.jobs if job.vehicles is not None]
    return {name: number for number, name in enumerate(names, start=1)}


def _padded(amount: tuple[int, ...], dims: int) -> list[int]:
    return list(amount) + [0] * (dims - len(amount))


def _windows(windows: Iterable[Window], scale: int) -> list[_vroom.TimeWindow]:
    return [
        _vroom.TimeWindow(math.ceil(w.start * scale), math.floor(w.end * scale)) for w in windows
    ]


def _vehicle(
    number: int,
    vehicle: Vehicle,
    skill_ids: dict[str, int],
    dims: int,
    scale: int,
    profile: str,
    allowed: set[int],
) -> _vroom.Vehicle:
    options: dict[str, Any] = {}
    if vehicle.shift is not None:
        options["time_window"] = _windows([vehicle.shift], scale)[0]
    if vehicle.max_jobs is not None:
        options["max_tasks"] = vehicle.max_jobs
    if vehicle.max_travel is not None:
        options["max_travel_time"] = math.floor(vehicle.max_travel * scale)
    if dims:
        # a vehicle without a capacity in a problem that has them is simply unlimited
        big = 2**31 - 1
        options["capacity"] = _padded(vehicle.capacity, dims) if vehicle.capacity else [big] * dims
    breaks = [
        _vroom.Break(
            number * 1000 + k,
            time_windows=_windows(b.windows, scale),
            service=math.ceil(b.service * scale),
        )
        for k, b in enumerate(vehicle.breaks)
    ]
    skills = {skill_ids[s] for s in vehicle.skills} | allowed
    return _vroom.Vehicle(
        number,
        start=vehicle.start,
        end=vehicle.end,
        profile=profile,
        skills=skills,
        breaks=breaks,
        **options,
    )


def _job(number: int, job: Job, skill_ids: dict[str, int], dims: int, scale: int) -> _vroom.Job:
    options: dict[str, Any] = {}
    if dims:
        options["delivery"] = _vroom.Amount(_padded(job.demand, dims))
    skills = {skill_ids[s] for s in job.skills}
    if job.vehicles is not None:
        skills.add(skill_ids[f"@{job.id}"])
    return _vroom.Job(
        number,
        location=job.location,
        default_service=math.ceil(job.service * scale),
        skills=skills,
        priority=job.priority,
        time_windows=_windows(job.windows, scale),
        **options,
    )


def _translate(problem: Problem, raw: dict[str, Any], scale: int) -> Solution:
    routes = []
    for data in raw.get("routes", []):
        vehicle = problem.vehicles[data["vehicle"]]
        stops: list[Stop] = []
        for step in data["steps"]:
            arrival = step["arrival"] / scale
            begin = (step["arrival"] + step["waiting_time"] + step.get("setup", 0)) / scale
            end = begin + step["service"] / scale
            kind = step["type"]
            job_id = problem.jobs[step["id"]].id if kind == "job" else None
            break_id = vehicle.breaks[step["id"] % 1000].id if kind == "break" else None
            location = step.get("location_index") if kind != "break" else None
            stops.append(
                Stop(
                    kind=kind,
                    location=location,
                    arrival=arrival,
                    begin=begin,
                    end=end,
                    job_id=job_id,
                    break_id=break_id,
                )
            )
        routes.append(_measured(problem, Route(vehicle_id=vehicle.id, stops=stops)))
    unassigned = {
        problem.jobs[item["id"]].id: reason(problem, problem.jobs[item["id"]])
        for item in raw.get("unassigned", [])
    }
    return Solution(
        routes=routes,
        unassigned=unassigned,
        distance=math.fsum(r.distance for r in routes),
        travel=math.fsum(r.travel for r in routes),
    )


def _measured(problem: Problem, route: Route) -> Route:
    """Fill a route's distance and travel time from the original matrices, at full precision."""
    places = [s.location for s in route.stops if s.location is not None]
    legs = list(itertools.pairwise(places))
    route.distance = math.fsum(problem.distances[a][b] for a, b in legs)
    route.travel = math.fsum(problem.durations[a][b] for a, b in legs)
    return route
