"""The routing model, its VROOM adapter and the independent checker, on hand-made problems.

Each test builds a tiny problem whose right answer is obvious, so a failure points at the
translation to or from the solver, or at the checker, not at the solver's search.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks.solomon import parse, problem_of
from hk.dispatch.check import check
from hk.dispatch.model import Break, Job, Problem, Route, Solution, Vehicle, Window, euclidean
from hk.dispatch.vroom import NO_SKILLS, OUT_OF_REACH, solve


def small() -> Problem:
    """A depot and three homes on a line; two workers, one of them able to cook."""
    matrix = euclidean([(0, 0), (10, 0), (20, 0), (30, 0)])
    jobs = [
        Job("a", 1, service=5, windows=(Window(10, 40),), demand=(1,)),
        Job("b", 2, service=5, windows=(Window(20, 60),), demand=(1,), skills=frozenset({"做饭"})),
        Job("c", 3, service=5, windows=(Window(0, 200),), demand=(1,)),
    ]
    vehicles = [
        Vehicle(
            "w1", start=0, end=0, shift=Window(0, 300), capacity=(3,), skills=frozenset({"做饭"})
        ),
        Vehicle("w2", start=0, end=0, shift=Window(0, 300), capacity=(3,)),
    ]
    return Problem(jobs=jobs, vehicles=vehicles, durations=matrix, distances=matrix)


def test_small_problem_is_solved_and_passes_the_checker() -> None:
    problem = small()
    solution = solve(problem, time_limit_s=1)
    assert check(problem, solution) == []
    assert not solution.unassigned
    cook = next(r for r in solution.routes if "b" in r.job_ids)
    assert cook.vehicle_id == "w1"
    # one vehicle out to the farthest home and back is the shortest plan
    assert solution.distance == pytest.approx(60)
    assert solution.vehicles_used == 1


def test_fractional_travel_is_kept_at_full_precision() -> None:
    matrix = euclidean([(0, 0), (1, 1), (2, 0)])
    problem = Problem(
        jobs=[Job("x", 1), Job("y", 2)],
        vehicles=[Vehicle("v", start=0, end=0)],
        durations=matrix,
        distances=matrix,
    )
    solution = solve(problem)
    assert check(problem, solution) == []
    assert solution.distance == pytest.approx(2 + 2 * 2**0.5, abs=1e-12)


def test_unplaceable_jobs_come_back_with_reasons() -> None:
    problem = small()
    problem.jobs.append(Job("needs-nurse", 1, skills=frozenset({"护理"})))
    problem.jobs.append(Job("too-early", 3, windows=(Window(0, 5),)))
    solution = solve(problem, time_limit_s=1)
    assert solution.unassigned == {"needs-nurse": NO_SKILLS, "too-early": OUT_OF_REACH}
    assert check(problem, solution) == []


def test_breaks_are_scheduled_and_checked() -> None:
    problem = small()
    lunch = Break("lunch", windows=(Window(50, 70),), service=30)
    problem.vehicles = [dataclasses.replace(v, breaks=(lunch,)) for v in problem.vehicles]
    solution = solve(problem, time_limit_s=1)
    assert check(problem, solution) == []
    taken = [s for r in solution.routes if r.job_ids for s in r.stops if s.kind == "break"]
    assert taken and all(50 <= s.begin <= 70 for s in taken)


def _planned() -> tuple[Problem, Solution]:
    problem = small()
    return problem, solve(problem, time_limit_s=1)


def _with_stop(solution: Solution, job_id: str, **changes: float) -> Solution:
    routes = []
    for route in solution.routes:
        stops = [
            dataclasses.replace(s, **changes) if s.job_id == job_id else s for s in route.stops
        ]
        routes.append(Route(route.vehicle_id, stops))
    return Solution(routes=routes, unassigned=dict(solution.unassigned))


def test_checker_catches_a_broken_time_window() -> None:
    problem, solution = _planned()
    late = _with_stop(solution, "a", arrival=45, begin=45, end=50)
    assert any("job a starts at 45, outside its time windows" in v for v in check(problem, late))


def test_checker_catches_travel_faster_than_the_matrix() -> None:
    problem, solution = _planned()
    early = _with_stop(solution, "c", arrival=1, begin=1, end=6)
    assert any("sooner than the travel" in v for v in check(problem, early))


def test_checker_catches_a_job_served_twice_and_a_missing_one() -> None:
    problem, solution = _planned()
    route = solution.routes[0]
    twice = [*route.stops[:-1], next(s for s in route.stops if s.job_id == "c"), route.stops[-1]]
    doubled = Solution(routes=[Route(route.vehicle_id, twice)], unassigned={})
    assert any("job c is served 2 times" in v for v in check(problem, doubled))
    dropped = Solution(
        routes=[Route(route.vehicle_id, [s for s in route.stops if s.job_id != "a"])]
    )
    assert "job a is neither served nor listed as unassigned" in check(problem, dropped)


def test_checker_catches_capacity_and_skills() -> None:
    problem, solution = _planned()
    problem.vehicles = [
        dataclasses.replace(v, capacity=(2,), skills=frozenset()) for v in problem.vehicles
    ]
    found = check(problem, solution)
    assert any("more than its capacity [2]" in v for v in found)
    assert any("job b needs skills it lacks: 做饭" in v for v in found)


def test_checker_catches_a_shift_overrun() -> None:
    problem, solution = _planned()
    problem.vehicles = [dataclasses.replace(v, shift=Window(0, 50)) for v in problem.vehicles]
    assert any("after the shift ends at 50" in v for v in check(problem, solution))


SOLOMON_C101 = Path(__file__).parent / "data" / "solomon_C101.txt"
"""Solomon's public VRPTW instance C101, kept with the tests so they need nothing outside the
repository (the benchmark reads all 56 from the shared data folder)."""


def test_a_cut_solomon_instance_solves_without_violations() -> None:
    instance = parse(SOLOMON_C101, customers=25)
    assert len(instance.rows) == 26 and instance.capacity == 200
    problem = problem_of(instance)
    solution = solve(problem, time_limit_s=2)
    assert check(problem, solution) == []
    assert not solution.unassigned
    assert solution.vehicles_used <= instance.vehicles
    # C101.25 is known at 191.3 with distances cut to one decimal, a lower bound at full precision
    assert 191.3 <= solution.distance < 200


def test_the_model_refuses_inconsistent_input() -> None:
    matrix = euclidean([(0, 0), (1, 0)])
    with pytest.raises(ValueError, match="not in the matrix"):
        Problem(jobs=[Job("x", 5)], vehicles=[], durations=matrix, distances=matrix)
    with pytest.raises(ValueError, match="unique"):
        Problem(jobs=[Job("x", 1), Job("x", 1)], vehicles=[], durations=matrix, distances=matrix)
    with pytest.raises(ValueError, match="before it starts"):
        Window(5, 1)
