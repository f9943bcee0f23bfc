"""An independent check of a :class:`~hk.dispatch.model.Solution` against its Problem.

It shares no code with the solver adapter: it replays every route from the problem's own
(unscaled) matrices and rules and names each broken rule in words, so a bug in translating to
or from the solver shows up here instead of in a worker's day. Stated times may be later than
the earliest possible ones (a plan may leave slack) but never earlier.
"""

from __future__ import annotations

import itertools
from collections import Counter

from hk.dispatch.model import Problem, Route, Solution, Stop, Vehicle, Window

#: Tolerance for comparing times and amounts computed in floating point.
EPSILON = 1e-6


def check(problem: Problem, solution: Solution) -> list[str]:
    """Every violated rule of ``solution``, one sentence each; an empty list means it holds."""
    problems: list[str] = []
    jobs = {job.id: job for job in problem.jobs}
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    served: Counter[str] = Counter()
    used: Counter[str] = Counter()
    for route in solution.routes:
        used[route.vehicle_id] += 1
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            problems.append(f"route of unknown vehicle {route.vehicle_id}")
            continue
        served.update(route.job_ids)
        problems.extend(_route(problem, vehicle, route))
    for vehicle_id, count in used.items():
        if count > 1:
            problems.append(f"vehicle {vehicle_id} has {count} routes")
    for job_id, count in served.items():
        if job_id not in jobs:
            problems.append(f"job {job_id} is not in the problem")
        elif count > 1:
            problems.append(f"job {job_id} is served {count} times")
        if job_id in solution.unassigned:
            problems.append(f"job {job_id} is served and also listed as unassigned")
    for job_id in jobs:
        if job_id not in served and job_id not in solution.unassigned:
            problems.append(f"job {job_id} is neither served nor listed as unassigned")
    for job_id, why in solution.unassigned.items():
        if job_id not in jobs:
            problems.append(f"unassigned job {job_id} is not in the problem")
        elif not why.strip():
            problems.append(f"job {job_id} is unassigned without a reason")
    return problems


def _route(problem: Problem, vehicle: Vehicle, route: Route) -> list[str]:
    """The violations of one route: order of steps, travel, windows, shift, skills, loads."""
    who = f"vehicle {vehicle.id}"
    out: list[str] = []
    stops = route.stops
    if not stops:
        return out
    kinds = [stop.kind for stop in stops]
    if vehicle.start is not None and (kinds[0] != "start" or stops[0].location != vehicle.start):
        out.append(f"{who}: the route does not begin at the vehicle's start")
    if vehicle.end is not None and (kinds[-1] != "end" or stops[-1].location != vehicle.end):
        out.append(f"{who}: the route does not finish at the vehicle's end")
    jobs = {job.id: job for job in problem.jobs}
    breaks = {b.id: b for b in vehicle.breaks}
    shift = vehicle.shift
    if shift is not None:
        if stops[0].begin < shift.start - EPSILON:
            out.append(
                f"{who}: leaves at {stops[0].begin:g}, before the shift starts at {shift.start:g}"
            )
        if stops[-1].end > shift.end + EPSILON:
            out.append(
                f"{who}: finishes at {stops[-1].end:g}, after the shift ends at {shift.end:g}"
            )
    # Breaks carry no location: they happen between two places, so travel is measured from
    # the last place left to the next place reached, with the breaks' length added.
    place: int | None = None
    left = departed = stops[0].begin
    paused = 0.0
    taken: Counter[str] = Counter()
    for stop in stops:
        if stop.begin < stop.arrival - EPSILON:
            out.append(f"{who}: a step begins before it is reached ({_name(stop)})")
        if stop.end < stop.begin - EPSILON:
            out.append(f"{who}: a step ends before it begins ({_name(stop)})")
        if stop.kind == "break":
            brk = breaks.get(stop.break_id or "")
            if brk is None:
                out.append(f"{who}: unknown break {stop.break_id}")
                continue
            taken[brk.id] += 1
            if stop.begin < left - EPSILON:
                out.append(f"{who}: break {brk.id} starts before the previous step ends")
            if not _inside(stop.begin, brk.windows):
                out.append(f"{who}: break {brk.id} starts at {stop.begin:g}, outside its windows")
            if stop.end - stop.begin < brk.service - EPSILON:
                out.append(f"{who}: break {brk.id} is shorter than {brk.service:g}")
            paused += brk.service
            left = stop.end
            continue
        if stop.location is None:
            out.append(f"{who}: {_name(stop)} has no location")
            continue
        if place is not None:
            earliest = departed + problem.durations[place][stop.location] + paused
            if stop.arrival < earliest - EPSILON:
                out.append(
                    f"{who}: reaches {_name(stop)} at {stop.arrival:g}, sooner than "
                    f"the travel from the previous place allows ({earliest:g})"
                )
        paused = 0.0
        if stop.kind == "job":
            job = jobs.get(stop.job_id or "")
            if job is None:
                continue
            if stop.location != job.location:
                out.append(f"{who}: job {job.id} is visited at the wrong place")
            if job.windows and not _inside(stop.begin, job.windows):
                out.append(
                    f"{who}: job {job.id} starts at {stop.begin:g}, outside its "
                    f"time windows {_windows(job.windows)}"
                )
            if stop.end - stop.begin < job.service - EPSILON:
                out.append(f"{who}: job {job.id} gets less than its service time")
            if not job.skills <= vehicle.skills:
                missing = ", ".join(sorted(job.skills - vehicle.skills))
                out.append(f"{who}: job {job.id} needs skills it lacks: {missing}")
            if job.vehicles is not None and vehicle.id not in job.vehicles:
                out.append(
                    f"{who}: job {job.id} may only go to "
                    f"{', '.join(sorted(job.vehicles)) or 'no vehicle'}"
                )
        place = stop.location
        left = departed = stop.end
    out.extend(_after(problem, vehicle, route, taken))
    return out


def _after(problem: Problem, vehicle: Vehicle, route: Route, taken: Counter[str]) -> list[str]:
    """Route-wide rules: capacity, job and travel caps, breaks taken exactly once."""
    who = f"vehicle {vehicle.id}"
    out: list[str] = []
    jobs = {job.id: job for job in problem.jobs}
    served = [jobs[j] for j in route.job_ids if j in jobs]
    if vehicle.capacity:
        load = [0] * max([len(vehicle.capacity)] + [len(j.demand) for j in served])
        for job in served:
            for k, amount in enumerate(job.demand):
                load[k] += amount
        capacity = list(vehicle.capacity) + [0] * (len(load) - len(vehicle.capacity))
        if any(have > cap for have, cap in zip(load, capacity, strict=True)):
            out.append(f"{who}: carries {load}, more than its capacity {list(vehicle.capacity)}")
    if vehicle.max_jobs is not None and len(served) > vehicle.max_jobs:
        out.append(f"{who}: {len(served)} jobs, more than its cap of {vehicle.max_jobs}")
    places = [s.location for s in route.stops if s.location is not None]
    travel = sum(problem.durations[a][b] for a, b in itertools.pairwise(places))
    if vehicle.max_travel is not None and travel > vehicle.max_travel + EPSILON:
        out.append(f"{who}: travels {travel:g}, more than its cap of {vehicle.max_travel:g}")
    if served:
        for brk in vehicle.breaks:
            if taken[brk.id] != 1:
                out.append(f"{who}: break {brk.id} is taken {taken[brk.id]} times")
    return out


def _inside(moment: float, windows: tuple[Window, ...]) -> bool:
    return any(w.start - EPSILON <= moment <= w.end + EPSILON for w in windows)


def _windows(windows: tuple[Window, ...]) -> str:
    return ", ".join(f"[{w.start:g}, {w.end:g}]" for w in windows)


def _name(stop: Stop) -> str:
    if stop.kind == "job":
        return f"job {stop.job_id}"
    if stop.kind == "break":
        return f"break {stop.break_id}"
    return f"the {stop.kind}"
