"""A day of hourly jobs as a routing problem, and the solver's answer as a plan people read.

This module is pure: the service layer (:mod:`hk.services.dispatch.plan`) reads the archive into
:class:`DayJob` and :class:`DayWorker` values — who may take which job, by the same rules
``hk order assign`` applies — and this module turns them into the solver-neutral
:class:`~hk.dispatch.model.Problem`, solves it, and explains the result: each worker's
itinerary, why each job went to its worker, and why each job left out could not be placed.

Times are seconds from midnight of the day planned, in the archive's timezone.

How the rules reach the solver:

- hard rules that are not about time (skills, certificates, leave, a customer's refusal,
  gender and age, a pin by hand, an order already dispatched) become the set of workers each
  job may go to (``Job.vehicles``);
- working hours are the worker's shift; a gap in the weekly hours (08:00-12:00, 14:00-18:00)
  is a break of that length that must start when the gap starts;
- the caps on jobs and hours per worker are ``max_jobs`` and a capacity in minutes;
- the customer's preferred worker and one who served them before are affinities: travel
  time the plan may spend to send them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hk.dispatch import vroom
from hk.dispatch.model import Break, Job, Problem, Solution, Stop, Vehicle, Window
from hk.dispatch.travel import LatLon, Located, Travel

Span = tuple[float, float]
"""A stretch of the day, in seconds from midnight."""

#: Rules of :mod:`hk.services.orders.rules` in words for an unplaced job's reason.
RULE_WORDS = {
    "inactive": "已停用",
    "blocked": "被客户拒绝",
    "skill": "缺少技能",
    "certificate": "证书无效",
    "leave": "请假",
    "gender": "性别不符",
    "age": "年龄不符",
    "placed": "长期在岗",
}


@dataclass(frozen=True, slots=True)
class DayJob:
    """One order of the day, as the planner needs it.

    ``earliest``/``latest`` bound when the service may start and ``seconds`` is how long it
    takes. ``excluded`` names, for each worker who may not take it, the rules that stop them
    (rule → detail). ``fixed`` is the worker of an order already dispatched or under way,
    ``pinned`` the worker an operator chose by hand. ``days`` is set for a booking that goes
    past the day (a live-in role), which is matched, not routed.
    """

    id: str
    code: str
    customer: str
    customer_code: str
    community: str
    district: str
    services: str
    earliest: float
    latest: float
    seconds: float
    located: Located | None
    excluded: dict[str, dict[str, str]] = field(default_factory=dict)
    preferred: frozenset[str] = frozenset()
    served_before: dict[str, int] = field(default_factory=dict)
    pinned: str | None = None
    fixed: str | None = None
    status: str = "to_dispatch"
    days: int = 0


@dataclass(frozen=True, slots=True)
class DayWorker:
    """A worker who could work that day: where she starts and the stretches she works.

    ``shifts`` are her working hours that day, after leave and long bookings are taken out;
    empty when she does not work. ``home`` None lets her day begin at her first job.
    """

    id: str
    code: str
    name: str
    home: Located | None
    shifts: tuple[Span, ...]
    off_reason: str = ""


@dataclass(frozen=True, slots=True)
class Limits:
    """The settings of ``[dispatch]`` the problem depends on."""

    travel: Travel
    max_jobs: int = 5
    max_hours: float = 8
    lunch: Span | None = None
    lunch_seconds: float = 0
    preferred_seconds: float = 1800
    continuity_seconds: float = 900


@dataclass(slots=True)
class Visit:
    """One job in a worker's day: when she gets there, starts and leaves, and why her."""

    job: DayJob
    arrival: float
    start: float
    end: float
    travel_seconds: float
    travel_metres: float
    reasons: list[str]


@dataclass(slots=True)
class Itinerary:
    """A worker's day in visiting order, with the way home."""

    worker: DayWorker
    visits: list[Visit]
    leave_home: float | None
    back_home: float | None
    travel_seconds: float
    travel_metres: float

    @property
    def service_seconds(self) -> float:
        return sum(visit.job.seconds for visit in self.visits)


@dataclass(slots=True)
class Plan:
    """The answer for a day: itineraries, jobs left out with a reason, and the totals."""

    day: dt.date
    itineraries: list[Itinerary]
    unplaced: dict[str, str]
    jobs: dict[str, DayJob]
    problem: Problem | None = None
    solution: Solution | None = None
    seconds: float = 0.0

    @property
    def placed(self) -> int:
        return sum(len(it.visits) for it in self.itineraries)

    @property
    def travel_seconds(self) -> float:
        return sum(it.travel_seconds for it in self.itineraries)

    @property
    def travel_metres(self) -> float:
        return sum(it.travel_metres for it in self.itineraries)

    def assignment(self) -> dict[str, str]:
        """Order id → worker id for every job placed."""
        return {visit.job.id: it.worker.id for it in self.itineraries for visit in it.visits}


def minutes(seconds: float) -> int:
    """Whole minutes, rounded up: a plan never promises an arrival sooner than it can be."""
    return -int(-seconds // 60)


def clock(seconds: float) -> str:
    """``09:05`` for a time of day given in seconds from midnight."""
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}"


# --- building the problem ------------------------------------------------------------------


def eligible(job: DayJob, workers: Sequence[DayWorker]) -> list[DayWorker]:
    """The workers who may take ``job`` by the rules, whatever their day looks like."""
    if job.fixed is not None:
        return [w for w in workers if w.id == job.fixed]
    if job.pinned is not None:
        return [w for w in workers if w.id == job.pinned and w.id not in job.excluded]
    return [w for w in workers if w.id not in job.excluded]


def build(
    jobs: Sequence[DayJob],
    workers: Sequence[DayWorker],
    limits: Limits,
) -> tuple[Problem, dict[str, str]]:
    """The routing problem for the day, and the jobs left out before solving, with why.

    A job is left out before solving when it cannot be located or no worker who works that
    day may take it; every other job goes to the solver, with the workers it may go to.
    """
    unplaced: dict[str, str] = {}
    points: list[LatLon] = []
    starts: dict[str, int] = {}
    for worker in workers:
        if worker.home is not None and _working(worker, jobs):
            starts[worker.id] = len(points)
            points.append(worker.home.point)
    model_jobs: list[Job] = []
    affinity: dict[tuple[str, str], float] = {}
    for job in jobs:
        why = _left_out(job, workers)
        if why:
            unplaced[job.id] = why
            continue
        assert job.located is not None
        allowed = [w.id for w in eligible(job, workers) if _works(w, job)]
        location = len(points)
        points.append(job.located.point)
        slack = max(job.latest, job.earliest)
        model_jobs.append(
            Job(
                id=job.id,
                location=location,
                service=job.seconds,
                windows=(Window(job.earliest, slack),),
                demand=(minutes(job.seconds),),
                priority=100 if job.fixed else 90 if job.pinned else 10,
                vehicles=frozenset(allowed),
            )
        )
        for worker_id in allowed:
            saving = _wish(job, worker_id, limits)
            if saving > 0 and job.fixed is None and job.pinned is None:
                affinity[(job.id, worker_id)] = saving
    durations, distances = limits.travel.matrices(points)
    homeless = [w.id for w in workers if w.id not in starts and _working(w, jobs)]
    if homeless:
        # The solver needs somewhere to start a route: "anywhere", no way from it to any job,
        # so her day begins at her first job, and no way home at the end.
        anywhere = len(points)
        for matrix in (durations, distances):
            for row in matrix:
                row.append(0.0)
            matrix.append([0.0] * (anywhere + 1))
        starts.update(dict.fromkeys(homeless, anywhere))
    vehicles = [
        _vehicle(worker, starts.get(worker.id), jobs, limits)
        for worker in workers
        if _working(worker, jobs)
    ]
    problem = Problem(
        jobs=model_jobs,
        vehicles=vehicles,
        durations=durations,
        distances=distances,
        affinity=affinity,
    )
    return problem, unplaced


def _works(worker: DayWorker, job: DayJob) -> bool:
    return bool(worker.shifts) or job.fixed == worker.id


def _working(worker: DayWorker, jobs: Sequence[DayJob]) -> bool:
    return bool(worker.shifts) or any(job.fixed == worker.id for job in jobs)


def _wish(job: DayJob, worker_id: str, limits: Limits) -> float:
    saving = 0.0
    if worker_id in job.preferred:
        saving += limits.preferred_seconds
    if job.served_before.get(worker_id):
        saving += limits.continuity_seconds
    return saving


def _vehicle(
    worker: DayWorker, start: int | None, jobs: Sequence[DayJob], limits: Limits
) -> Vehicle:
    """The worker's shift, breaks in the gaps of her hours, and her caps.

    A job already given to her by hand stretches her shift to cover it: the operator knows
    she agreed to it, and the plan must keep it.
    """
    spans = sorted(worker.shifts)
    for job in jobs:
        if job.fixed == worker.id:
            spans.append((job.earliest, job.latest + job.seconds))
    spans = _merged(spans)
    shift = Window(spans[0][0], spans[-1][1])
    breaks = [
        Break(id=f"{worker.id}:gap{k}", windows=(Window(a[1], a[1]),), service=b[0] - a[1])
        for k, (a, b) in enumerate(itertools.pairwise(spans))
    ]
    if limits.lunch is not None and limits.lunch_seconds > 0:
        lunch_start, lunch_end = limits.lunch
        latest = lunch_end - limits.lunch_seconds
        inside = any(a <= lunch_start and latest + limits.lunch_seconds <= b for a, b in spans)
        if inside and latest >= lunch_start:
            breaks.append(
                Break(
                    id=f"{worker.id}:lunch",
                    windows=(Window(lunch_start, latest),),
                    service=limits.lunch_seconds,
                )
            )
    fixed_minutes = sum(minutes(j.seconds) for j in jobs if j.fixed == worker.id)
    fixed_count = sum(1 for j in jobs if j.fixed == worker.id)
    return Vehicle(
        id=worker.id,
        start=start,
        end=start if worker.home is not None else None,
        shift=shift,
        breaks=tuple(breaks),
        capacity=(max(int(limits.max_hours * 60), fixed_minutes),),
        max_jobs=max(limits.max_jobs, fixed_count),
    )


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _left_out(job: DayJob, workers: Sequence[DayWorker]) -> str:
    """Why ``job`` cannot go to the solver at all, or "" when it can."""
    if job.days:
        return f"跨 {job.days} 天的长期服务，不排进当天路线：用 hk dispatch match 为它选人"
    if job.located is None:
        places = "」「".join(p for p in (job.community, job.district) if p)
        where = f"，「{places}」也不在 [dispatch.places] 里" if places else ""
        return (
            f"地址没有坐标{where}：补上地址的坐标，"
            "或在 hk.toml 的 [dispatch.places] 加上小区或区的坐标"
        )
    if job.pinned is not None and job.fixed is None:
        worker = next((w for w in workers if w.id == job.pinned), None)
        if worker is None:
            return "手动指定的阿姨已不在可派工名单中（停用或长期在岗）"
        rules = job.excluded.get(worker.id)
        if rules:
            return f"手动指定的阿姨 {worker.code} {worker.name} 不能接：{_rules_text(rules)}"
        if not worker.shifts:
            return (
                f"手动指定的阿姨 {worker.code} {worker.name} 当天不上班"
                f"{'（' + worker.off_reason + '）' if worker.off_reason else ''}"
            )
        return ""
    if job.fixed is not None:
        return ""
    able = eligible(job, workers)
    if not able:
        return "没有符合条件的阿姨：" + _tally(job, workers)
    if not any(w.shifts for w in able):
        return f"符合条件的 {len(able)} 位阿姨当天都不上班（休息、请假或已有长期安排）"
    return ""


def _rules_text(rules: dict[str, str]) -> str:
    return "；".join(
        f"{RULE_WORDS.get(rule, rule)}（{detail}）" if detail else RULE_WORDS.get(rule, rule)
        for rule, detail in rules.items()
    )


def _tally(job: DayJob, workers: Sequence[DayWorker]) -> str:
    """``12 位缺少技能 深度保洁；3 位请假``: how many workers each rule stopped."""
    counts: Counter[str] = Counter()
    for worker in workers:
        for rule, detail in job.excluded.get(worker.id, {}).items():
            words = RULE_WORDS.get(rule, rule)
            counts[
                f"{words} {detail}" if rule in ("skill", "certificate") and detail else words
            ] += 1
    if not counts:
        return "没有可派工的阿姨"
    return "；".join(f"{n} 位{what}" for what, n in counts.most_common())


# --- solving and explaining ----------------------------------------------------------------


def solver_options(time_limit_s: float | None = None) -> dict[str, Any]:
    """How a day is solved, shared by ``hk dispatch plan`` and the day benchmark.

    Whole seconds are precise enough for a day, and keep VROOM's cost totals (32-bit) far
    from overflowing with sixty workers' travel and the wishes' costs on top. Exploration
    level 3 finishes a 300-job day on two cores in about five seconds; level 5 would still
    be searching when the time limit stops it, with a worse plan in hand.
    """
    return {"time_limit_s": time_limit_s, "scale": 1, "exploration_level": 3}


def plan(
    day: dt.date,
    jobs: Sequence[DayJob],
    workers: Sequence[DayWorker],
    limits: Limits,
    *,
    time_limit_s: float | None = None,
) -> Plan:
    """Build the day's problem, solve it, and explain the answer."""
    problem, unplaced = build(jobs, workers, limits)
    solution = vroom.solve(problem, **solver_options(time_limit_s))
    return explain(day, jobs, workers, limits, problem, solution, unplaced)


def explain(
    day: dt.date,
    jobs: Sequence[DayJob],
    workers: Sequence[DayWorker],
    limits: Limits,
    problem: Problem,
    solution: Solution,
    unplaced: dict[str, str],
) -> Plan:
    """The solution in the operator's terms: itineraries with reasons, and each job left out
    with a reason that names the rule or the shortage."""
    by_id = {job.id: job for job in jobs}
    people = {worker.id: worker for worker in workers}
    itineraries = []
    for route in solution.routes:
        if not route.job_ids:
            continue
        worker = people[route.vehicle_id]
        visits: list[Visit] = []
        place: int | None = None
        for stop in route.stops:
            if stop.kind != "job" or stop.job_id is None:
                if stop.kind == "start":
                    place = stop.location
                continue
            job = by_id[stop.job_id]
            seconds = metres = 0.0
            if place is not None and stop.location is not None:
                seconds = problem.durations[place][stop.location]
                metres = problem.distances[place][stop.location]
            visits.append(
                Visit(
                    job=job,
                    arrival=stop.arrival,
                    start=stop.begin,
                    end=stop.begin + job.seconds,
                    travel_seconds=seconds,
                    travel_metres=metres,
                    reasons=[],
                )
            )
            place = stop.location
        first = route.stops[0]
        itinerary = Itinerary(
            worker=worker,
            visits=visits,
            leave_home=first.begin if first.kind == "start" and worker.home else None,
            back_home=_home_time(problem, route.stops, visits) if worker.home else None,
            travel_seconds=route.travel,
            travel_metres=route.distance,
        )
        for number, visit in enumerate(visits):
            visit.reasons = _reasons(visit, number, itinerary, workers, limits)
        itineraries.append(itinerary)
    itineraries.sort(key=lambda it: (it.worker.code, it.worker.id))
    left = dict(unplaced)
    for job_id, why in solution.unassigned.items():
        left[job_id] = _unplaced(by_id[job_id], why, workers, limits, itineraries)
    return Plan(
        day=day,
        itineraries=itineraries,
        unplaced=left,
        jobs=by_id,
        problem=problem,
        solution=solution,
        seconds=solution.seconds,
    )


def _home_time(problem: Problem, stops: Sequence[Stop], visits: Sequence[Visit]) -> float | None:
    """When she is home after her last job: its end plus the way back (a break the solver
    puts after it, in a gap of her hours, is time off, not time on the road)."""
    places = [s.location for s in stops if s.kind == "job"]
    end = stops[-1]
    if end.kind != "end" or end.location is None or not places or places[-1] is None:
        return None
    return visits[-1].end + problem.durations[places[-1]][end.location]


def _reasons(
    visit: Visit, number: int, itinerary: Itinerary, workers: Sequence[DayWorker], limits: Limits
) -> list[str]:
    """Why this job went to this worker, the strongest reason first."""
    job, worker = visit.job, itinerary.worker
    out = []
    if job.fixed is not None:
        out.append("服务中，保持不变" if job.status == "in_service" else "已派工，保持不变")
    elif job.pinned is not None:
        out.append("手动指定")
    if worker.id in job.preferred:
        out.append("客户偏好的阿姨")
    served = job.served_before.get(worker.id, 0)
    if served:
        out.append(f"近期服务过该客户 {served} 次")
    if number == 0:
        where = "从住处出发" if worker.home is not None else "当天第一单"
    else:
        previous = itinerary.visits[number - 1].job
        where = f"上一单在{previous.community or previous.district or '附近'}"
    if number > 0 or worker.home is not None:
        way = minutes(visit.travel_seconds)
        out.append(f"{where}，路程约 {way} 分钟" if way else f"{where}，就在附近")
    else:
        out.append(where)
    others = len([w for w in eligible(job, workers) if w.shifts]) - 1
    if job.fixed is None and job.pinned is None:
        out.append(f"另有 {others} 位阿姨符合条件" if others > 0 else "唯一符合条件的阿姨")
    return out


def _when(job: DayJob) -> str:
    if job.latest <= job.earliest:
        return f"预约的 {clock(job.earliest)} "
    return f" {clock(job.earliest)}–{clock(job.latest)} 之间"


def _unplaced(
    job: DayJob,
    code: str,
    workers: Sequence[DayWorker],
    limits: Limits,
    itineraries: Sequence[Itinerary] = (),
) -> str:
    """The solver's reason for a job it left out, told with the day's numbers."""
    if job.fixed is not None:
        held = next((w for w in workers if w.id == job.fixed), None)
        who = f"{held.code} {held.name}" if held else job.fixed
        return (
            f"已派给 {who}，但排不进她当天的路线（与别的单时间重叠、路程来不及或超出"
            "工作时间）：hk dispatch check 会列出冲突"
        )
    able = [w for w in eligible(job, workers) if w.shifts]
    if job.pinned is not None and able:
        worker = able[0]
        hours = "、".join(f"{clock(a)}-{clock(b)}" for a, b in worker.shifts)
        why = (
            f"无法在{_when(job)}开始服务、并在下班前回到住处（当天工作时间 {hours}）"
            if code == vroom.OUT_OF_REACH
            else "当天已排满或与其他单时间冲突"
        )
        return f"手动指定的阿姨 {worker.code} {worker.name} {why}；可改派他人（hk dispatch unpin）"
    if code == vroom.TOO_BIG:
        return f"服务时长 {minutes(job.seconds)} 分钟超过每人每天上限 {limits.max_hours:g} 小时"
    if code == vroom.OUT_OF_REACH:
        return f"符合条件的 {len(able)} 位阿姨都无法在{_when(job)}开始服务、并在下班前回到住处"
    if code == vroom.NO_SKILLS:
        return "没有符合条件的阿姨：" + _tally(job, workers)
    return f"符合条件的 {len(able)} 位阿姨都排不进：" + _full(job, able, limits, itineraries)


def _full(
    job: DayJob, able: Sequence[DayWorker], limits: Limits, itineraries: Sequence[Itinerary]
) -> str:
    """Why each worker who could take ``job`` did not, counted: at her daily cap, busy with
    another job at that time, or too far to fit between her other jobs and the day's end."""
    days = {it.worker.id: it for it in itineraries}
    capped = busy = far = 0
    last = job.latest + job.seconds
    for worker in able:
        day = days.get(worker.id)
        visits = day.visits if day else []
        service = sum(v.job.seconds for v in visits)
        if len(visits) >= limits.max_jobs or service + job.seconds > limits.max_hours * 3600:
            capped += 1
        elif any(v.start < last and job.earliest < v.end for v in visits):
            busy += 1
        else:
            far += 1
    parts = [
        f"{capped} 位已到每日上限（{limits.max_jobs} 单、{limits.max_hours:g} 小时）"
        if capped
        else "",
        f"{busy} 位那时已有别的单" if busy else "",
        f"{far} 位赶过去会误了前后的单或下班" if far else "",
    ]
    return "，".join(p for p in parts if p)
