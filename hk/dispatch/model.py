"""The routing model shared by the daily plan, the benchmarks, the solver adapter and the checker.

It knows nothing of orders, workers or any solver: jobs at locations with service times and
time windows, vehicles (workers) with shifts, skills and optional capacities, and matrices of
travel durations and distances between location indices. Times are plain numbers in one unit
(seconds for a working day; the benchmark's own unit for Solomon instances) so that the same
model carries fractional travel times without rounding; the solver adapter scales them to
integers and the checker works on the original values.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

Matrix = Sequence[Sequence[float]]


@dataclass(frozen=True, slots=True)
class Window:
    """A closed interval [start, end] in which a service (or a shift, or a break) may begin."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, slots=True)
class Job:
    """One visit: where, how long, when it may start, what it needs.

    ``windows`` empty means any time within the vehicle's shift; several windows are
    alternatives (the service starts inside one of them). ``demand`` is one amount per
    capacity dimension and only matters when vehicles have a capacity. ``priority`` (0–100)
    tells the solver which jobs to keep when not all fit. ``vehicles``, when set, are the only
    vehicles that may serve the job: the rules that are not skills (a customer who refused a
    worker, a gender asked for, a job pinned by hand) come to the solver this way.
    """

    id: str
    location: int
    service: float = 0
    windows: tuple[Window, ...] = ()
    demand: tuple[int, ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int = 0
    vehicles: frozenset[str] | None = None

    def allows(self, vehicle: Vehicle) -> bool:
        """Whether ``vehicle`` may serve this job at all (skills and the list of vehicles)."""
        return self.skills <= vehicle.skills and (
            self.vehicles is None or vehicle.id in self.vehicles
        )


@dataclass(frozen=True, slots=True)
class Break:
    """A pause of ``service`` length that has to start inside one of ``windows``."""

    id: str
    windows: tuple[Window, ...]
    service: float


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A worker (or a truck): start and end places, the shift, skills and an optional capacity.

    ``start``/``end`` of None lets the route begin at its first job or end at its last one.
    ``max_jobs`` and ``max_travel`` cap the workload of one route when set.
    """

    id: str
    start: int | None
    end: int | None
    shift: Window | None = None
    capacity: tuple[int, ...] = ()
    skills: frozenset[str] = frozenset()
    breaks: tuple[Break, ...] = ()
    max_jobs: int | None = None
    max_travel: float | None = None


@dataclass(slots=True)
class Problem:
    """Jobs, vehicles and the square matrices indexed by the locations they refer to.

    ``durations`` are travel times in the problem's time unit, ``distances`` what the totals
    report (metres, or Euclidean units); ``costs`` is what the solver minimises and defaults
    to the durations. ``affinity`` maps (job id, vehicle id) to a saving in cost units when
    that vehicle serves that job: the soft wishes (a preferred worker, one who knows the
    customer) weighed against travel. A job with an affinity needs a location of its own.
    """

    jobs: list[Job]
    vehicles: list[Vehicle]
    durations: Matrix
    distances: Matrix
    costs: Matrix | None = None
    affinity: dict[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        size = len(self.durations)
        for name, matrix in (
            ("durations", self.durations),
            ("distances", self.distances),
            ("costs", self.costs),
        ):
            if matrix is not None and (len(matrix) != size or any(len(r) != size for r in matrix)):
                raise ValueError(f"{name} must be a square matrix of {size} locations")
        ids = [job.id for job in self.jobs]
        if len(set(ids)) != len(ids):
            raise ValueError("job ids must be unique")
        vids = [vehicle.id for vehicle in self.vehicles]
        if len(set(vids)) != len(vids):
            raise ValueError("vehicle ids must be unique")
        for job in self.jobs:
            if not 0 <= job.location < size:
                raise ValueError(f"job {job.id}: location {job.location} is not in the matrix")
        for vehicle in self.vehicles:
            for place in (vehicle.start, vehicle.end):
                if place is not None and not 0 <= place < size:
                    raise ValueError(f"vehicle {vehicle.id}: location {place} is not in the matrix")
        for (job_id, vehicle_id), saving in self.affinity.items():
            if job_id not in ids or vehicle_id not in vids or saving < 0:
                raise ValueError(
                    f"affinity ({job_id}, {vehicle_id}) names an unknown job or "
                    "vehicle, or is negative"
                )
        wished = {job_id for job_id, _ in self.affinity}
        places = Counter(job.location for job in self.jobs)
        for job in self.jobs:
            if job.id in wished and places[job.location] > 1:
                raise ValueError(
                    f"job {job.id} has an affinity and shares its location; "
                    "give it a location of its own"
                )

    def job(self, job_id: str) -> Job:
        """The job with this id (a linear scan is fine: callers index once, not per step)."""
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise KeyError(job_id)


@dataclass(frozen=True, slots=True)
class Stop:
    """One step of a route: ``kind`` is start, job, break or end.

    ``arrival`` is when the vehicle gets there, ``begin`` when the service starts (later when
    it waits for a window), ``end`` when it leaves.
    """

    kind: str
    location: int | None
    arrival: float
    begin: float
    end: float
    job_id: str | None = None
    break_id: str | None = None


@dataclass(slots=True)
class Route:
    """One vehicle's day in order, with its travel totals from the problem's own matrices."""

    vehicle_id: str
    stops: list[Stop]
    distance: float = 0.0
    travel: float = 0.0

    @property
    def job_ids(self) -> list[str]:
        """The jobs of the route in visiting order."""
        return [stop.job_id for stop in self.stops if stop.kind == "job" and stop.job_id]


@dataclass(slots=True)
class Solution:
    """Routes, the jobs left out with a reason each, and totals summed at full precision."""

    routes: list[Route]
    unassigned: dict[str, str] = field(default_factory=dict)
    distance: float = 0.0
    travel: float = 0.0
    seconds: float = 0.0

    @property
    def vehicles_used(self) -> int:
        """Routes that serve at least one job (an empty route is a vehicle left at home)."""
        return sum(1 for route in self.routes if route.job_ids)


def euclidean(points: Sequence[tuple[float, float]]) -> list[list[float]]:
    """Plain Euclidean distances at full precision, as the Solomon best-known values use."""
    return [[math.hypot(ax - bx, ay - by) for bx, by in points] for ax, ay in points]
