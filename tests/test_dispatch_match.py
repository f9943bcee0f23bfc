"""Placement matching (SPEC §5): hard filters, a score per factor, weights from hk.toml, and a
worker for every open role at once, never one worker twice. Real archives, real records."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.dispatch.match import Candidate, Factor, Proposed, Ranking, Request, assign_all, propose
from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.domain.survey import DIMENSIONS, Survey
from hk.domain.worker import Worker
from hk.services.contracts import steps as contracts
from hk.services.dispatch.match import Match, apply, match, match_all
from hk.services.orders import money as order_money
from hk.services.orders import steps as orders
from hk.services.orders.money import PaymentIn
from hk.services.orders.rules import assignment_breaches
from hk.services.orders.steps import service_items
from hk.services.people import add_customer, add_worker, edit
from hk.services.records import load
from hk.store.archive import Archive
from hk.store.writer import save
from hk.textwidth import cell_len
from tests.conftest import Hk

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(TZ).date()
START = TODAY + dt.timedelta(days=30)
"""The 月嫂 role starts in a month; YS-26:26 makes it 26 days."""
LATER = TODAY + dt.timedelta(days=3 * 365)
HOME = {
    "city": "成都市",
    "district": "武侯区",
    "community": "万科城",
    "detail": "3栋2单元501",
    "lat": 30.6000,
    "lon": 104.0500,
}
NEAR = {
    "city": "成都市",
    "district": "武侯区",
    "community": "万科城",
    "detail": "1栋101",
    "lat": 30.6010,
    "lon": 104.0510,
}
FAR = {
    "city": "成都市",
    "district": "双流区",
    "community": "航空港",
    "detail": "8栋101",
    "lat": 30.5500,
    "lon": 103.9000,
}
CUSTOMER = {
    "name": "王女士",
    "phones": ["13800138000"],
    "category": "月嫂",
    "addresses": [HOME],
    "preferences": {
        "worker_gender": "女",
        "worker_age_min": 35,
        "worker_age_max": 50,
        "native_places": ["四川"],
        "dialects": ["四川话"],
        "skills": ["烹饪"],
        "cooking_taste": "川菜，月子餐少油",
    },
}
NURSE = {
    "name": "李春梅",
    "gender": "女",
    "birth_year": START.year - 45,
    "native_place": "四川广安",
    "dialects": ["四川话", "普通话"],
    "skills": [
        {"name": "母婴护理", "level": 5},
        {"name": "烹饪", "level": 4, "cuisines": ["川菜", "月子餐"]},
    ],
    "certificates": [
        {"kind": "健康证", "expires": LATER},
        {"kind": "母婴护理师", "expires": LATER},
    ],
    "experience_years": 9,
    "home": NEAR,
}


@dataclass
class Place:
    """An archive with one customer (a 月嫂 client with wishes) and workers hired by name."""

    archive: Archive
    root: Path
    customer: str
    customer_id: str
    ids: dict[str, str] = field(default_factory=dict)

    def hire(self, name: str, **changes: Any) -> str:
        """A worker like :data:`NURSE` with ``changes``; returns her code."""
        worker, result = add_worker(self.archive, {**NURSE, "name": name, **changes})
        assert result.code
        self.ids[name] = worker.id
        return result.code

    def order(
        self, service: str = "YS-26:26", start: dt.date = START, time: str = "09:00", **options: Any
    ) -> str:
        begin = dt.datetime.combine(start, dt.time.fromisoformat(time), TZ)
        code, _, quantity = service.partition(":")
        taken = orders.new_order(
            self.archive,
            orders.OrderRequest(
                self.customer, [(code, quantity or None)], begin, channel="phone", **options
            ),
        )
        assert taken.result.code
        return taken.result.code

    def ready(self, code: str) -> None:
        """Confirmed, its deposit (if any) paid: 待派工."""
        orders.confirm(self.archive, code)
        order, _ = orders.load_order(self.archive, code)
        if order.deposit_outstanding():
            order_money.pay(self.archive, code, [PaymentIn("deposit", "wechat")])

    def match(self, ref: str) -> Match:
        return match(self.archive, ref, today=TODAY)


@pytest.fixture
def place(archive: Archive, archive_path: Path) -> Place:
    customer, added = add_customer(archive, CUSTOMER)
    assert added.code
    return Place(archive, archive_path, added.code, customer.id)


def names(found: Match) -> list[str]:
    return [c.name for c in found.ranking.candidates]


def rules(found: Match) -> dict[str, list[str]]:
    return {e.name: [b.rule for b in e.breaks] for e in found.ranking.excluded}


def score(found: Match, name: str, factor: str) -> float:
    pick = next(c for c in found.ranking.candidates if c.name == name)
    return next(f.score for f in pick.factors if f.name == factor)


def reason(found: Match, name: str, factor: str) -> str:
    pick = next(c for c in found.ranking.candidates if c.name == name)
    return next(f.reason for f in pick.factors if f.name == factor)


# --- hard filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"status": "inactive"}, "inactive"),
        ({"gender": "男"}, "gender"),
        ({"skills": [{"name": "育儿", "level": 5}]}, "skill"),
        (
            {"leave": [{"start": START - dt.timedelta(days=2), "end": START, "reason": "探亲"}]},
            "leave",
        ),
    ],
)
def test_a_worker_who_breaks_a_hard_filter_is_no_candidate(
    place: Place, changes: dict[str, Any], rule: str
) -> None:
    place.hire("李春梅")
    place.hire("反例", **changes)
    found = place.match(place.order())
    assert names(found) == ["李春梅"]
    assert rules(found) == {"反例": [rule]}


def test_a_worker_the_customer_blocked_is_no_candidate(place: Place) -> None:
    place.hire("李春梅")
    place.hire("被拒")
    edit(place.archive, "customer", place.customer, {"blocked_workers": [place.ids["被拒"]]})
    assert rules(place.match(place.order())) == {"被拒": ["blocked"]}


def test_the_orders_age_requirement_filters_the_customers_wish_only_scores(place: Place) -> None:
    place.hire("李春梅")
    place.hire("年长", birth_year=START.year - 55)
    wished = place.match(place.order())
    assert names(wished) == ["李春梅", "年长"]
    assert score(wished, "年长", "age") == 0.0
    assert "希望35–50岁" in reason(wished, "年长", "age")
    required = place.match(place.order(requirements={"age_max": 50}))
    assert rules(required) == {"年长": ["age"]}


def test_a_required_certificate_must_be_valid_over_the_whole_term(place: Place) -> None:
    place.hire("李春梅")
    place.hire("无证", certificates=[{"kind": "健康证", "expires": LATER}])
    place.hire(
        "中途到期",
        certificates=[
            {"kind": "健康证", "expires": LATER},
            {"kind": "母婴护理师", "expires": START + dt.timedelta(days=10)},
        ],
    )
    place.hire(
        "续证",
        certificates=[
            {"kind": "健康证", "expires": LATER},
            {"kind": "母婴护理师", "expires": START + dt.timedelta(days=10)},
            {"kind": "母婴护理师", "issued": START + dt.timedelta(days=5), "expires": LATER},
        ],
    )
    found = place.match(place.order(requirements={"certificates": ["母婴护理师"]}))
    assert sorted(names(found)) == ["李春梅", "续证"]
    assert rules(found) == {"无证": ["certificate"], "中途到期": ["certificate"]}


def test_the_filters_agree_with_the_assignment_rules(place: Place) -> None:
    cases: dict[str, dict[str, Any]] = {
        "李春梅": {},
        "停用": {"status": "inactive"},
        "男": {"gender": "男"},
        "无技能": {"skills": []},
        "年长": {"birth_year": START.year - 60},
        "无证": {"certificates": []},
        "请假": {"leave": [{"start": START, "end": START}]},
    }
    for name, changes in cases.items():
        place.hire(name, **changes)
    code = place.order(requirements={"gender": "女", "age_max": 55, "certificates": ["母婴护理师"]})
    found = place.match(code)
    order, _ = orders.load_order(place.archive, code)
    customer, _ = load(place.archive, Customer, place.customer_id)
    items = service_items(place.archive, order.services())
    for name, worker_id in place.ids.items():
        worker, _ = load(place.archive, Worker, worker_id)
        expected = sorted({b.rule for b in assignment_breaches(order, worker, customer, items)})
        assert sorted(set(rules(found).get(name, []))) == expected, name


def test_the_tally_counts_each_excluded_worker_once(place: Place, hk: Hk) -> None:
    place.hire("李春梅")
    place.hire("停用", status="inactive", skills=[])
    place.hire("无技能甲", skills=[])
    place.hire("无技能乙", skills=[{"name": "保洁", "level": 3}])
    code = place.order()
    out = hk("dispatch", "match", code).stdout
    assert ("3 workers excluded: 2 lack the skill 母婴护理, 1 inactive (停用)") in out


def test_the_worker_who_holds_the_role_is_not_on_its_list(place: Place) -> None:
    code = place.hire("李春梅")
    place.hire("张秀英")
    contract, _ = contracts.new_contract(
        place.archive,
        place.customer,
        kind="placement",
        start=START,
        months=12,
        services=["YS-26:26"],
        worker=code,
    )
    found = place.match(contract.id)
    assert names(found) == ["张秀英"]
    assert "李春梅" in found.notes[0]


# --- factors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "better", "worse"),
    [
        ("skills", {}, {"skills": [{"name": "母婴护理", "level": 2}]}),
        (
            "certificates",
            {},
            {"certificates": [{"kind": "健康证", "expires": START + dt.timedelta(days=5)}]},
        ),
        ("experience", {"experience_years": 12}, {"experience_years": 2}),
        (
            "fit",
            {},
            {
                "native_place": "广东潮州",
                "dialects": ["粤语"],
                "skills": [
                    {"name": "母婴护理", "level": 5},
                    {"name": "烹饪", "level": 4, "cuisines": ["粤菜"]},
                ],
            },
        ),
        ("age", {}, {"birth_year": START.year - 58}),
        ("distance", {"home": NEAR}, {"home": FAR}),
    ],
)
def test_each_factor_scores_the_better_worker_higher(
    place: Place, factor: str, better: dict[str, Any], worse: dict[str, Any]
) -> None:
    place.hire("好", **better)
    place.hire("差", **worse)
    found = place.match(place.order())
    assert score(found, "好", factor) > score(found, "差", factor)
    assert names(found)[0] == "好"


def test_skills_and_their_levels_read_as_the_operator_says_them(place: Place) -> None:
    place.hire("李春梅")
    found = place.match(place.order())
    assert reason(found, "李春梅", "skills") == "母婴护理5级；客户希望：烹饪4级"
    assert reason(found, "李春梅", "fit") == "籍贯四川广安，会四川话，会做川菜、月子餐"
    assert reason(found, "李春梅", "certificates") == "健康证有效、母婴护理师有效"


def test_ratings_come_from_the_survey_responses(place: Place) -> None:
    place.hire("好评")
    place.hire("差评")
    place.hire("新人")
    stamp = now()
    for name, scores in (("好评", (5, 5, 5)), ("差评", (2, 3))):
        for value in scores:
            save(
                place.archive,
                Survey.model_validate(
                    {
                        "id": new_id(),
                        "created": stamp,
                        "updated": stamp,
                        "customer": place.customer_id,
                        "workers": [place.ids[name]],
                        "at": stamp,
                        "channel": "phone",
                        **dict.fromkeys(DIMENSIONS, value),
                    }
                ),
            )
    found = place.match(place.order())
    assert (
        score(found, "好评", "rating")
        > score(found, "新人", "rating")
        > score(found, "差评", "rating")
    )
    assert reason(found, "好评", "rating") == "5.0分（3次）"
    assert reason(found, "新人", "rating") == "暂无"


def test_available_from_is_the_day_after_her_placement_ends(place: Place) -> None:
    busy = place.hire("在岗")
    place.hire("空闲")
    contracts.new_contract(
        place.archive,
        place.customer,
        kind="placement",
        start=TODAY,
        end=START + dt.timedelta(days=9),
        services=["BM-LIVEIN"],
        worker=busy,
    )
    found = place.match(place.order())
    pick = {c.name: c for c in found.ranking.candidates}
    assert pick["空闲"].available_from == START
    assert pick["在岗"].available_from == START + dt.timedelta(days=10)
    assert 0 < score(found, "在岗", "available") < score(found, "空闲", "available") == 1
    assert names(found) == ["空闲", "在岗"]


def test_a_booking_later_in_the_term_halves_availability(place: Place) -> None:
    code = place.hire("另有预约")
    place.hire("空闲")
    later = place.order(service="BJ-HOURLY:3", start=START + dt.timedelta(days=12))
    place.ready(later)
    orders.assign(place.archive, later, [code], force=True, reason="测试")
    found = place.match(place.order())
    assert score(found, "另有预约", "available") == 0.5
    assert "另有安排" in reason(found, "另有预约", "available")


def test_a_placed_worker_without_a_contract_has_no_known_free_day(place: Place) -> None:
    place.hire("在岗", status="placed")
    found = place.match(place.order())
    assert found.ranking.candidates[0].available_from is None
    assert score(found, "在岗", "available") == 0


def test_weights_in_the_settings_change_the_ranking(place: Place) -> None:
    place.hire("技能好", experience_years=1)
    place.hire("经验足", experience_years=15, skills=[{"name": "母婴护理", "level": 3}])
    code = place.order()
    assert names(place.match(code))[0] == "技能好"
    settings = place.root / "hk.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("skills = 25", "skills = 5").replace("experience = 15", "experience = 60")
    settings.write_text(text, encoding="utf-8")
    again = match(Archive(place.root), code, today=TODAY)
    assert names(again)[0] == "经验足"
    assert again.ranking.candidates[0].out_of == 125


# --- every open role at once --------------------------------------------------------------------


def greedy(scores: list[list[float | None]]) -> list[int | None]:
    """Best pair first, then the best pair left, and so on: what assign_all must beat."""
    pairs = sorted(
        ((s, r, c) for r, row in enumerate(scores) for c, s in enumerate(row) if s is not None),
        reverse=True,
    )
    chosen: list[int | None] = [None] * len(scores)
    for _, r, c in pairs:
        if chosen[r] is None and c not in chosen:
            chosen[r] = c
    return chosen


def total(scores: list[list[float | None]], chosen: list[int | None]) -> float:
    return sum(scores[r][c] or 0 for r, c in enumerate(chosen) if c is not None)


def test_assign_all_never_gives_a_worker_twice_and_beats_greedy() -> None:
    scores: list[list[float | None]] = [[90, 80], [85, None]]
    assert greedy(scores) == [0, None]
    assert assign_all(scores) == [1, 0]
    assert total(scores, assign_all(scores)) == 165 > total(scores, greedy(scores))
    same: list[list[float | None]] = [[10, 9, 8], [10, 9, 8], [10, 9, 8]]
    assert sorted(c for c in assign_all(same) if c is not None) == [0, 1, 2]
    close: list[list[float | None]] = [[9, 8, 1], [8, 1, 1], [1, 7, 6]]
    assert total(close, assign_all(close)) == 22 > total(close, greedy(close)) == 17


def test_assign_all_fills_the_most_rows_then_the_best_total() -> None:
    assert assign_all([[100, 1], [None, 2]]) == [0, 1]
    assert assign_all([[5], [7], [6]]) == [None, 0, None]
    assert assign_all([[None, None], [3, None]]) == [None, 0]
    assert assign_all([]) == []
    assert assign_all([[], []]) == [None, None]
    with pytest.raises(ValueError):
        assign_all([[-1]])


def _candidates(*pairs: tuple[str, float]) -> list[Candidate]:
    return [Candidate(w, w, w, [Factor("skills", 100, s / 100, "")], None) for w, s in pairs]


def test_propose_tells_why_a_role_has_no_worker() -> None:
    def role(ref: str) -> Request:
        return Request("order", ref, ref, "K", ref, START, START)

    rankings = [
        Ranking(role("D1"), _candidates(("A", 90), ("B", 80))),
        Ranking(role("D2"), _candidates(("A", 85))),
        Ranking(role("D3"), _candidates(("A", 70))),
        Ranking(role("D4"), []),
    ]
    out: list[Proposed] = propose(rankings)
    assert [p.chosen.worker_id if p.chosen else None for p in out] == ["B", "A", None, None]
    assert "went to other requests: A A → D2" in out[2].reason
    assert out[3].reason.startswith("no eligible worker")


def test_match_all_proposes_then_applies_without_giving_one_worker_twice(place: Place) -> None:
    place.hire("李春梅")
    place.hire("马文静", experience_years=3, skills=[{"name": "母婴护理", "level": 3}])
    first = place.order()
    place.ready(first)
    second = place.order(start=START + dt.timedelta(days=1))
    draft, _ = contracts.new_contract(
        place.archive,
        place.customer,
        kind="placement",
        start=START,
        months=12,
        services=["BM-LIVEIN"],
    )
    place.order(service="BJ-HOURLY:3")  # an hourly job is the daily plan's, not an open role
    proposal = match_all(place.archive, today=TODAY)
    by_ref = {p.ranking.request.ref: p for p in proposal.proposed}
    assert set(by_ref) == {first, second, draft.number}
    picks = [by_ref[ref].chosen for ref in (first, second)]
    assert {p.name for p in picks if p} == {"李春梅", "马文静"}
    assert by_ref[draft.number].chosen is None
    assert "no eligible worker: 2 lack the skill 保洁" in by_ref[draft.number].reason
    done = {a.ref: a for a in apply(place.archive, proposal)}
    assert done[first].done
    assert not done[second].done and "待派工" in done[second].message
    assert draft.number not in done
    order, _ = orders.load_order(place.archive, first)
    chosen = by_ref[first].chosen
    assert chosen is not None
    assert order.status == "dispatched" and order.workers == [chosen.worker_id]
    assert "派工匹配" in order.events[-1].note


def test_a_role_already_over_is_not_open(place: Place) -> None:
    place.hire("李春梅")
    place.order(start=TODAY - dt.timedelta(days=40))
    assert match_all(place.archive, today=TODAY).proposed == []


def test_a_draft_placement_gets_its_worker_named(place: Place, hk: Hk) -> None:
    place.hire(
        "李春梅",
        skills=[{"name": "保洁", "level": 4}, {"name": "烹饪", "level": 4, "cuisines": ["川菜"]}],
    )
    draft, _ = contracts.new_contract(
        place.archive,
        place.customer,
        kind="placement",
        start=START,
        months=12,
        services=["BM-LIVEIN"],
    )
    result = hk("dispatch", "match", "--all", "--apply")
    assert result.exit_code == 0, result.output
    assert f"assigned {draft.number} → " in result.stdout
    contract, _ = contracts.load_contract(place.archive, draft.id)
    assert contract.worker == place.ids["李春梅"]
    assert contract.parties.worker is not None and contract.parties.worker.name == "李春梅"
    again = hk("dispatch", "match", "--all")
    assert "no open long-term roles" in again.stdout


# --- the command --------------------------------------------------------------------------------


def test_the_table_shows_points_per_factor_aligned_for_chinese(place: Place, hk: Hk) -> None:
    place.hire("李春梅")
    place.hire("欧阳秀英", experience_years=2)
    code = place.order()
    result = hk("dispatch", "match", code)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    head = next(n for n, line in enumerate(lines) if line.startswith("#"))
    table = lines[head : head + 3]
    column = cell_len(table[0][: table[0].index("总分")]) + cell_len("总分")
    for row in table[1:]:
        total = row.split()[3]
        assert cell_len(row[: row.index(total)]) + cell_len(total) == column
    assert "要求：技能 母婴护理；性别 女" in result.stdout
    assert "1 李春梅：技能 母婴护理5级" in result.stdout
    assert "权重：技能 25 证书 15" in result.stdout


def test_json_gives_the_request_the_factors_and_the_excluded(place: Place, hk: Hk) -> None:
    place.hire("李春梅")
    place.hire("停用", status="inactive")
    code = place.order()
    data = json.loads(hk("dispatch", "match", code, "--json", "--top", "1").stdout)
    assert data["request"]["ref"] == code and data["request"]["long_term"] is True
    assert data["request"]["requires"]["skills"] == ["母婴护理"]
    assert data["candidate_count"] == 1
    top = data["candidates"][0]
    assert top["worker"]["name"] == "李春梅"
    assert set(top["factors"]) == {
        "skills",
        "certificates",
        "experience",
        "rating",
        "fit",
        "age",
        "available",
        "distance",
    }
    assert top["total"] == pytest.approx(
        sum(f["points"] for f in top["factors"].values()), abs=0.05
    )
    assert data["excluded"][0]["rules"][0]["rule"] == "inactive"
    everything = json.loads(hk("dispatch", "match", "--all", "--json").stdout)
    assert everything["requests"][0]["worker"]["worker"]["name"] == "李春梅"
    assert everything["applied"] == []


def test_an_hourly_order_is_matched_but_said_to_be_no_long_term_role(place: Place, hk: Hk) -> None:
    place.hire(
        "钟点工",
        skills=[{"name": "保洁", "level": 4}],
        availability={
            "mon": ["08:00-12:00"],
            "tue": ["08:00-12:00"],
            "wed": ["08:00-12:00"],
            "thu": ["08:00-12:00"],
            "fri": ["08:00-12:00"],
            "sat": ["08:00-12:00"],
            "sun": ["08:00-12:00"],
        },
    )
    place.hire(
        "下午不行",
        skills=[{"name": "保洁", "level": 4}],
        availability={
            d: ["08:00-10:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    booked = place.hire("已有单", skills=[{"name": "保洁", "level": 4}])
    other = place.order(service="BJ-HOURLY:2", time="10:00")
    place.ready(other)
    orders.assign(place.archive, other, [booked])
    code = place.order(service="BJ-HOURLY:3", time="09:00")
    found = place.match(code)
    assert names(found) == ["钟点工"]
    assert rules(found) == {"下午不行": ["availability"], "已有单": ["double_booking"]}
    assert "not a long-term role" in found.notes[0]
    assert "not a long-term role" in hk("dispatch", "match", code).stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["dispatch", "match", "NOSUCH"], 1, "no order or contract with code or ID 'NOSUCH'"),
        (["dispatch", "match"], 2, "give one order or contract, or --all"),
        (["dispatch", "match", "--all", "D0000"], 2, "give one order or contract, or --all"),
        (["dispatch", "match", "D0000", "--apply"], 2, "--apply goes with --all"),
    ],
)
def test_bad_input_is_refused_clearly(
    place: Place, hk: Hk, args: list[str], code: int, message: str
) -> None:
    result = hk(*args)
    assert result.exit_code == code
    assert message in result.output


def test_a_customer_code_or_a_closed_role_is_refused(place: Place, hk: Hk) -> None:
    result = hk("dispatch", "match", place.customer)
    assert result.exit_code == 2 and "is a customer" in result.output
    service, _ = contracts.new_contract(
        place.archive,
        place.customer,
        kind="service",
        start=START,
        months=3,
        schedule="weekly:tue 09:00-12:00",
        services=["BJ-DAILY"],
    )
    result = hk("dispatch", "match", service.number)
    assert result.exit_code == 2 and "matching is for placements" in result.output
    code = place.order()
    order_money.cancel(place.archive, code, "客户取消")
    result = hk("dispatch", "match", code)
    assert result.exit_code == 1 and "已取消 cancelled" in result.output


def test_no_candidate_exits_1_and_says_why(place: Place, hk: Hk) -> None:
    place.hire("男", gender="男")
    result = hk("dispatch", "match", place.order())
    assert result.exit_code == 1
    assert "no worker passes the hard filters" in result.stdout
    assert "1 worker excluded: 1 not 女 (性别要求)" in result.stdout
