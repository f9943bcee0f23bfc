"""Placement matching (SPEC §5): who may take a long-term role, and how well each one fits.

A role (保姆, 育儿嫂, 月嫂, 老人陪护) comes from an order waiting for a worker or from a
placement contract; :class:`Request` is what both say about the worker they need. Matching is
two steps, kept apart so the operator sees both:

1. **Hard filters** (:func:`exclusions`): a worker who breaks one is not a candidate at all.
   They are the assignment rules of :mod:`hk.services.orders.rules`, under the same names
   (``inactive``, ``blocked``, ``gender``, ``age``, ``skill``, ``certificate``, ``leave``, and
   for a job of a few hours ``availability`` and ``double_booking``), stated for a role that
   runs from one day to another rather than for one order's window.
2. **Factors** (:func:`candidate`): each scores 0–1 with a short reason an operator can read
   out on the phone ("母婴护理5级", "2026-03-08 起有空"), and counts by its weight in
   ``[dispatch.match]`` of ``hk.toml``. The total is out of the sum of the weights.

:func:`assign_all` then gives several open roles their workers at once, never one worker
twice: the assignment that fills the most roles, and among those the best total score
(the Hungarian method of :func:`scipy.optimize.linear_sum_assignment`), which a greedy
"best pair first" misses as soon as two roles want the same worker.

Pure: the archive is read by :mod:`hk.services.dispatch.match`, which hands over the records
and :class:`Facts` (a worker's bookings and ratings).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hk.dispatch.travel import LatLon, locate, metres
from hk.domain.settings import MatchWeights
from hk.domain.worker import Certificate, Worker

LONG_TERM = ("保姆", "育儿嫂", "月嫂", "老人陪护")
"""Catalog categories of live-in and long-term roles, the ones placement matching is for."""
COOKING = "烹饪"
"""The cooking skill, whose cuisines (菜系) meet the customer's taste."""
HEALTH_CERTIFICATE = "健康证"
"""Every worker who works in a home carries one; it counts for every role."""
ROLE_CERTIFICATES: dict[str, tuple[str, ...]] = {
    "月嫂": ("母婴护理师",),
    "育儿嫂": ("育婴师",),
    "老人陪护": ("养老护理员",),
}
"""What a role's certificate usually is (the catalog's descriptions say 需持…证): it scores,
while a certificate the order requires is a hard filter."""

FACTORS = ("skills", "certificates", "experience", "rating", "fit", "age", "available", "distance")
"""The factors, in the order tables show them; each is a weight of :class:`MatchWeights`."""
FACTOR_ZH = {
    "skills": "技能",
    "certificates": "证书",
    "experience": "经验",
    "rating": "评价",
    "fit": "匹配",
    "age": "年龄",
    "available": "档期",
    "distance": "距离",
}
RULES = (
    "inactive",
    "blocked",
    "gender",
    "age",
    "skill",
    "certificate",
    "leave",
    "availability",
    "double_booking",
)
"""The hard filters, in the order they are checked (a worker is tallied under her first)."""

FULL_EXPERIENCE_YEARS = 10
"""Years of experience that score in full; fewer score in proportion."""
WAIT_DAYS = 30
"""A worker free this many days after the role starts scores nothing for availability."""
NEAR_KM, FAR_KM = 3.0, 30.0
"""Home within NEAR_KM of the customer scores in full, beyond FAR_KM nothing."""
AGE_SLACK_YEARS = 5
"""Each year outside the customer's preferred ages costs 1/AGE_SLACK_YEARS of the factor."""
PRIOR_RATINGS, PRIOR_SCORE = 2, 3.0
"""A worker's mean score is pulled towards 3/5 as if she had two more ratings of 3: one 5
from one customer is not yet a better record than forty ratings averaging 4.8."""


@dataclass(frozen=True)
class Request:
    """What a role asks of the worker: from an order, or a placement contract, and its customer.

    ``skills``, ``certificates``, ``gender`` and ``age_min``/``age_max`` are requirements (hard
    filters); ``wanted_skills``, ``customary``, the preferred ages and the native places,
    dialects and taste are what the customer would like (scored). ``window`` is set for a job
    of hours within one day, whose bookings and weekly hours count to the minute.
    """

    source: str
    record_id: str
    ref: str
    customer: str
    title: str
    start: dt.date
    end: dt.date
    categories: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    wanted_skills: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()
    customary: tuple[str, ...] = ()
    gender: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    preferred_age_min: int | None = None
    preferred_age_max: int | None = None
    native_places: tuple[str, ...] = ()
    dialects: tuple[str, ...] = ()
    cooking_taste: str = ""
    blocked: frozenset[str] = frozenset()
    preferred: frozenset[str] = frozenset()
    location: LatLon | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None
    current_worker: str | None = None

    @property
    def long_term(self) -> bool:
        return any(c in LONG_TERM for c in self.categories)


@dataclass(frozen=True)
class Busy:
    """Something that holds a worker from ``start`` to ``end`` (days, both included): a
    placement contract, or an order, whose window ``at`` is kept for jobs of hours."""

    start: dt.date
    end: dt.date
    label: str
    record_id: str = ""
    at: tuple[dt.datetime, dt.datetime] | None = None
    contract: bool = False


@dataclass(frozen=True)
class Facts:
    """What the archive knows of a worker beyond her own record."""

    code: str = ""
    busy: tuple[Busy, ...] = ()
    rating: float | None = None
    """Her mean score, 1–5 (each response's five scores averaged), or None if never rated."""
    ratings: int = 0


@dataclass(frozen=True)
class Exclusion:
    """One hard filter a worker fails: ``rule`` (an assignment rule's name), ``detail`` (what
    it is about: the skill, the certificate, the day) and ``reason`` in words."""

    rule: str
    detail: str
    reason: str


@dataclass(frozen=True)
class Factor:
    name: str
    weight: int
    score: float
    reason: str

    @property
    def points(self) -> float:
        return self.weight * self.score


@dataclass
class Candidate:
    """A worker who passed the hard filters, with her score broken down by factor."""

    worker_id: str
    code: str
    name: str
    factors: list[Factor]
    available_from: dt.date | None
    preferred: bool = False

    @property
    def total(self) -> float:
        return sum(f.points for f in self.factors)

    @property
    def out_of(self) -> int:
        return sum(f.weight for f in self.factors)


@dataclass
class Excluded:
    worker_id: str
    code: str
    name: str
    breaks: list[Exclusion]


@dataclass
class Ranking:
    """The short list for one request: candidates best first, and who was filtered out."""

    request: Request
    candidates: list[Candidate]
    excluded: list[Excluded] = field(default_factory=list)


# --- hard filters -----------------------------------------------------------------------------


def valid_until(held: Sequence[Certificate], start: dt.date, end: dt.date) -> dt.date | None:
    """The last day from ``start`` on which one of ``held`` is valid without a gap (``end`` at
    most); None if none is valid on ``start``. A renewed certificate continues the old one."""
    day, last = start, None
    while day <= end:
        covering = [c for c in held if c.valid_on(day)]
        if not covering:
            break
        until = max(c.expires or dt.date.max for c in covering)
        last = min(until, end)
        if until >= end:
            break
        day = until + dt.timedelta(days=1)
    return last


def exclusions(request: Request, worker: Worker, facts: Facts) -> list[Exclusion]:
    """Every hard filter ``worker`` fails for ``request``, in :data:`RULES` order."""
    out: list[Exclusion] = []
    if worker.status == "inactive":
        out.append(Exclusion("inactive", "", "已停用"))
    if worker.id in request.blocked:
        out.append(Exclusion("blocked", "", "客户拒绝该阿姨"))
    if request.gender is not None and worker.gender != request.gender:
        out.append(Exclusion("gender", request.gender, f"要求{request.gender}性"))
    if request.age_min is not None or request.age_max is not None:
        age = worker.age(request.start)
        wanted = ages(request.age_min, request.age_max)
        if age is None:
            out.append(Exclusion("age", wanted, f"要求{wanted}，出生年份未登记"))
        elif not (request.age_min or 0) <= age <= (request.age_max or 200):
            out.append(Exclusion("age", wanted, f"{age}岁，要求{wanted}"))
    out += [
        Exclusion("skill", skill, f"缺少技能 {skill}")
        for skill in request.skills
        if worker.skill_level(skill) == 0
    ]
    for kind in request.certificates:
        held = [c for c in worker.certificates if c.kind == kind]
        until = valid_until(held, request.start, request.end)
        if not held:
            out.append(Exclusion("certificate", kind, f"没有{kind}"))
        elif until is None:
            out.append(Exclusion("certificate", kind, f"{kind}在 {request.start} 无效"))
        elif until < request.end:
            out.append(Exclusion("certificate", kind, f"{kind} {until} 到期，早于结束日"))
    if worker.on_leave(request.start):
        out.append(Exclusion("leave", str(request.start), f"{request.start} 请假"))
    if request.window is not None:
        out += _same_day_exclusions(request, request.window, worker, facts)
    return out


def _same_day_exclusions(
    request: Request, window: tuple[dt.datetime, dt.datetime], worker: Worker, facts: Facts
) -> list[Exclusion]:
    """A job of hours: her weekly hours and her other jobs that day, to the minute."""
    from hk.domain.common import WEEKDAYS

    begin, end = window
    out = []
    if worker.availability:
        hours = worker.availability.get(WEEKDAYS[begin.weekday()], [])
        if not any(r[:5] <= f"{begin:%H:%M}" and f"{end:%H:%M}" <= r[6:] for r in hours):
            out.append(Exclusion("availability", "", f"{begin:%H:%M}–{end:%H:%M} 不在工作时间"))
    for busy in facts.busy:
        if busy.record_id == request.record_id:
            continue
        clash = (
            (busy.at[0] < end and begin < busy.at[1])
            if busy.at
            else (busy.start <= begin.date() <= busy.end)
        )
        if clash:
            out.append(Exclusion("double_booking", "", f"时间冲突：{busy.label}"))
            break
    return out


def tally(excluded: Sequence[Excluded]) -> list[str]:
    """``8 lack a valid 母婴护理师 certificate``: the workers left out, grouped by the first
    filter each one fails, largest group first."""
    counts = Counter((e.breaks[0].rule, e.breaks[0].detail) for e in excluded if e.breaks)
    return [
        _tally_text(n, rule, detail)
        for (rule, detail), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def ages(low: int | None, high: int | None) -> str:
    """``40–55岁``, ``40岁以上``, ``50岁以下``, or "" for no limit."""
    if low is not None and high is not None:
        return f"{low}–{high}岁"
    if low is not None:
        return f"{low}岁以上"
    return f"{high}岁以下" if high is not None else ""


def _tally_text(n: int, rule: str, detail: str) -> str:
    one = n == 1
    texts = {
        "inactive": f"{n} inactive (停用)",
        "blocked": f"{n} blocked by the customer (客户拒绝)",
        "gender": f"{n} not {detail} (性别要求)",
        "age": f"{n} outside the ages {detail} (年龄要求)",
        "skill": f"{n} {'lacks' if one else 'lack'} the skill {detail}",
        "certificate": f"{n} {'lacks' if one else 'lack'} a valid {detail} certificate",
        "leave": f"{n} on leave on {detail}",
        "availability": f"{n} not working those hours (不在工作时间)",
        "double_booking": f"{n} booked at that time (时间冲突)",
    }
    return texts.get(rule, f"{n} {rule}")


# --- factors ----------------------------------------------------------------------------------


def candidate(
    request: Request,
    worker: Worker,
    facts: Facts,
    weights: MatchWeights,
    places: Mapping[str, tuple[float, float]],
) -> Candidate:
    """``worker`` scored for ``request`` on every factor (she passed the hard filters)."""
    free, available = _available(request, worker, facts)
    scored = {
        "skills": _skills(request, worker),
        "certificates": _certificates(request, worker),
        "experience": _experience(worker),
        "rating": _rating(facts),
        "fit": _fit(request, worker),
        "age": _age(request, worker),
        "available": available,
        "distance": _distance(request, worker, places),
    }
    factors = [
        Factor(name, getattr(weights, name), round(score, 4), reason)
        for name, (score, reason) in scored.items()
    ]
    return Candidate(
        worker.id, facts.code, worker.name, factors, free, preferred=worker.id in request.preferred
    )


def _skills(request: Request, worker: Worker) -> tuple[float, str]:
    """Required skills count in full, skills the customer would like at half: level ÷ 5."""
    wanted = [s for s in request.wanted_skills if s not in request.skills]
    if not request.skills and not wanted:
        return 1.0, "无要求"
    total = weight = 0.0
    parts: list[str] = []
    for names, share in ((request.skills, 1.0), (wanted, 0.5)):
        for name in names:
            level = worker.skill_level(name)
            total += share * level / 5
            weight += share
            parts.append(f"{name}{level}级" if level else f"不会{name}")
    needed = "、".join(parts[: len(request.skills)])
    liked = "、".join(parts[len(request.skills) :])
    reason = "；".join(p for p in (needed, f"客户希望：{liked}" if liked else "") if p)
    return total / weight, reason


def _certificates(request: Request, worker: Worker) -> tuple[float, str]:
    """Each certificate the role asks for or usually has: valid over the whole term 1, valid
    at the start but expiring before the end ½ (it must be renewed on the job), else 0."""
    kinds = list(dict.fromkeys([*request.certificates, *request.customary]))
    if not kinds:
        return 1.0, "无要求"
    total, parts = 0.0, []
    for kind in kinds:
        held = [c for c in worker.certificates if c.kind == kind]
        until = valid_until(held, request.start, request.end)
        if until is not None and until >= request.end:
            total += 1
            parts.append(f"{kind}有效")
        elif until is not None:
            total += 0.5
            parts.append(f"{kind} {until} 到期")
        else:
            parts.append(f"{kind}已过期" if held else f"无{kind}")
    return total / len(kinds), "、".join(parts)


def _experience(worker: Worker) -> tuple[float, str]:
    years = worker.experience_years
    return min(years, FULL_EXPERIENCE_YEARS) / FULL_EXPERIENCE_YEARS, f"{years}年"


def _rating(facts: Facts) -> tuple[float, str]:
    """Her customers' mean score, pulled towards the middle while she has few ratings."""
    if facts.rating is None or not facts.ratings:
        return 0.5, "暂无"
    pulled = (facts.rating * facts.ratings + PRIOR_SCORE * PRIOR_RATINGS) / (
        facts.ratings + PRIOR_RATINGS
    )
    return (pulled - 1) / 4, f"{facts.rating:.1f}分（{facts.ratings}次）"


def _tastes(taste: str, cuisine: str) -> bool:
    """Whether the customer's taste (free text) names the cuisine, or its stem: 软食 → 软烂."""
    if cuisine in taste:
        return True
    return len(cuisine) > 1 and cuisine[-1] in "菜食餐" and cuisine[:-1] in taste


def _fit(request: Request, worker: Worker) -> tuple[float, str]:
    """Native place, dialect and cooking, each counted only when the customer has a wish."""
    checks: list[tuple[float, str]] = []
    if request.native_places:
        ok = any(p in worker.native_place for p in request.native_places)
        where = worker.native_place or "未登记"
        checks.append(
            (
                float(ok),
                f"籍贯{where}" + ("" if ok else "（希望" + "、".join(request.native_places) + "）"),
            )
        )
    if request.dialects:
        spoken = [d for d in request.dialects if d in worker.dialects]
        checks.append(
            (
                float(bool(spoken)),
                f"会{'、'.join(spoken)}" if spoken else f"不会{'、'.join(request.dialects)}",
            )
        )
    if request.cooking_taste and _cooks(request):
        checks.append(_cooking(request.cooking_taste, worker))
    if not checks:
        return 1.0, "无要求"
    return sum(ok for ok, _ in checks) / len(checks), "，".join(text for _, text in checks)


def _cooks(request: Request) -> bool:
    """A live-in or long-term role cooks, and so does any job that asks for 烹饪."""
    return request.long_term or COOKING in (*request.skills, *request.wanted_skills)


def _cooking(taste: str, worker: Worker) -> tuple[float, str]:
    cuisines = [c for s in worker.skills for c in s.cuisines]
    liked = [c for c in cuisines if _tastes(taste, c)]
    if liked:
        return 1.0, f"会做{'、'.join(liked)}"
    if cuisines:
        return 0.0, f"菜系不合（{'、'.join(cuisines)}）"
    if worker.skill_level(COOKING):
        return 0.5, "菜系未登记"
    return 0.0, "不会做饭"


def _age(request: Request, worker: Worker) -> tuple[float, str]:
    age = worker.age(request.start)
    low, high = request.preferred_age_min, request.preferred_age_max
    if age is None:
        return 0.5, "出生年份未登记"
    if low is None and high is None:
        return 1.0, f"{age}岁"
    wanted = f"希望{ages(low, high)}"
    off = max((low or 0) - age, age - (high or 200), 0)
    return max(0.0, 1 - off / AGE_SLACK_YEARS), f"{age}岁（{wanted}）"


def available_from(request: Request, worker: Worker, facts: Facts) -> dt.date | None:
    """The first day from the role's start on which nothing holds her; None when she is on a
    placement (status ``placed``) that the archive has no contract for, so no end is known."""
    own = [
        b
        for b in facts.busy
        if b.record_id != request.record_id and (request.window is None or b.at is None)
    ]
    if worker.status == "placed" and not any(b.contract for b in own):
        return None
    day, moved = request.start, True
    while moved:
        moved = False
        for busy in own:
            if busy.start <= day <= busy.end:
                day, moved = busy.end + dt.timedelta(days=1), True
    return day


def _available(
    request: Request, worker: Worker, facts: Facts
) -> tuple[dt.date | None, tuple[float, str]]:
    """Free on the first day scores 1, less for each day she is still held elsewhere; half
    again when something else claims her before the role ends (a booking, her leave)."""
    free = available_from(request, worker, facts)
    if free is None:
        return None, (0.0, "长期在岗，结束日期不明")
    wait = (free - request.start).days
    if wait == 0:
        score, reason = 1.0, f"{free} 可到岗"
    else:
        last = free - dt.timedelta(days=1)
        holder = next(
            b
            for b in facts.busy
            if b.end == last and b.start <= last and b.record_id != request.record_id
        )
        score, reason = max(0.0, 1 - wait / WAIT_DAYS), f"{free} 起有空（{holder.label}）"
    later = [
        b for b in facts.busy if free < b.start <= request.end and b.record_id != request.record_id
    ]
    leave = [span for span in worker.leave if free < span.start <= request.end]
    if later or leave:
        first = min(
            [(b.start, b.label) for b in later]
            + [(s.start, f"请假{s.reason and '：' + s.reason}") for s in leave]
        )
        score, reason = score / 2, f"{reason}；{first[0]} 起另有安排（{first[1]}）"
    return free, (score, reason)


def _distance(
    request: Request, worker: Worker, places: Mapping[str, tuple[float, float]]
) -> tuple[float, str]:
    home = locate(worker.home, places) if worker.home is not None else None
    if request.location is None:
        return 0.5, "客户地址无坐标"
    if home is None:
        return 0.5, "住址无坐标"
    km = metres(home.point, request.location) / 1000
    score = 1.0 if km <= NEAR_KM else max(0.0, 1 - (km - NEAR_KM) / (FAR_KM - NEAR_KM))
    return score, f"{km:.1f}公里"


# --- ranking and assigning ------------------------------------------------------------------------


def rank(
    request: Request,
    workers: Sequence[tuple[Worker, Facts]],
    weights: MatchWeights,
    places: Mapping[str, tuple[float, float]],
) -> Ranking:
    """Every worker filtered and the rest scored, best first (ties: the customer's preferred
    worker, the one free sooner, then by name and ID so the order never changes). The worker
    who holds the role now is left out: the list is who else could take it."""
    candidates, excluded = [], []
    for worker, facts in workers:
        if worker.id == request.current_worker:
            continue
        breaks = exclusions(request, worker, facts)
        if breaks:
            excluded.append(Excluded(worker.id, facts.code, worker.name, breaks))
        else:
            candidates.append(candidate(request, worker, facts, weights, places))
    candidates.sort(
        key=lambda c: (
            -round(c.total, 6),
            not c.preferred,
            c.available_from or dt.date.max,
            c.name,
            c.worker_id,
        )
    )
    return Ranking(request, candidates, excluded)


def assign_all(scores: Sequence[Sequence[float | None]]) -> list[int | None]:
    """For each row (a request) the column (a worker) it gets, or None; no column twice.

    ``None`` marks a pair that is not allowed; scores are 0 or more. The assignment fills as
    many rows as can be filled and, among those assignments, has the largest total: each
    allowed pair is worth its score plus more than all scores together, so one more filled
    row always beats any gain in score.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows = len(scores)
    cols = max((len(row) for row in scores), default=0)
    if not rows or not cols:
        return [None] * rows
    if any(s is not None and s < 0 for row in scores for s in row):
        raise ValueError("scores are 0 or more")
    bonus = 1.0 + sum(max((s for s in row if s is not None), default=0.0) for row in scores)
    value = np.zeros((rows, cols))
    for r, row in enumerate(scores):
        for c, s in enumerate(row):
            if s is not None:
                value[r, c] = bonus + s
    chosen: list[int | None] = [None] * rows
    for r, c in zip(*linear_sum_assignment(value, maximize=True), strict=True):
        if c < len(scores[r]) and scores[r][c] is not None:
            chosen[int(r)] = int(c)
    return chosen


@dataclass
class Proposed:
    """One request's outcome in :func:`propose`: its worker, or why it has none."""

    ranking: Ranking
    chosen: Candidate | None
    reason: str = ""


def propose(rankings: Sequence[Ranking]) -> list[Proposed]:
    """A worker for each request, none given twice (:func:`assign_all` on the total scores);
    a request left without one says why: nobody passed its filters, or they all went to
    other requests."""
    workers = list(dict.fromkeys(c.worker_id for r in rankings for c in r.candidates))
    column = {w: i for i, w in enumerate(workers)}
    matrix: list[list[float | None]] = []
    for ranking in rankings:
        row: list[float | None] = [None] * len(workers)
        for c in ranking.candidates:
            row[column[c.worker_id]] = max(0.0, c.total)
        matrix.append(row)
    chosen = assign_all(matrix)
    given = {
        workers[col]: ranking.request.ref
        for ranking, col in zip(rankings, chosen, strict=True)
        if col is not None
    }
    out = []
    for ranking, col in zip(rankings, chosen, strict=True):
        if col is not None:
            pick = next(x for x in ranking.candidates if x.worker_id == workers[col])
            out.append(Proposed(ranking, pick))
        elif not ranking.candidates:
            why = ", ".join(tally(ranking.excluded)) or "no workers"
            out.append(Proposed(ranking, None, f"no eligible worker: {why}"))
        else:
            taken = ", ".join(
                f"{x.code or x.worker_id} {x.name} → {given[x.worker_id]}"
                for x in ranking.candidates[:3]
                if x.worker_id in given
            )
            out.append(Proposed(ranking, None, f"its candidates went to other requests: {taken}"))
    return out
