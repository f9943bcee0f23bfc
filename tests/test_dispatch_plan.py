"""``hk dispatch plan|check|pin|unpin`` on real archives: the rules hold in every plan, the
operator's pins and earlier assignments are kept, applying is one commit, and the checker
finds what a plan or a hand got wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from hk.dispatch.check import check
from hk.services.dispatch import plan as dispatch
from hk.services.people import add_customer, add_worker
from hk.store.archive import Archive
from tests.conftest import git
from tests.orders_support import DAY, Cli

# Three places in a small town (about 2 km apart), and a fourth far away.
EAST, WEST, NORTH, FAR = (30.600, 104.100), (30.600, 104.080), (30.615, 104.090), (30.90, 104.40)


def _address(community: str, point: tuple[float, float] | None) -> dict[str, Any]:
    address: dict[str, Any] = {
        "city": "成都市",
        "district": "武侯区",
        "community": community,
        "detail": "1栋1单元101",
    }
    if point is not None:
        address["lat"], address["lon"] = point
    return address


class Town:
    """An archive with workers living in the east and the west, and customers around."""

    def __init__(self, archive: Archive, root: Path) -> None:
        self.archive, self.cli = archive, Cli(root)
        self.workers: dict[str, str] = {}
        self.customers: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def worker(self, key: str, home: tuple[float, float] | None, **fields: Any) -> str:
        data = {
            "name": f"{key}阿姨",
            "gender": "女",
            "birth_year": 1980,
            "home": _address(f"{key}苑", home),
            "skills": [{"name": "保洁", "level": 3}],
            "certificates": [{"kind": "健康证", "expires": DAY + dt.timedelta(days=200)}],
            **fields,
        }
        worker, saved = add_worker(self.archive, data)
        assert saved.code
        self.workers[key], self.ids[key] = saved.code, worker.id
        return saved.code

    def customer(self, key: str, point: tuple[float, float] | None, **fields: Any) -> str:
        data = {
            "name": f"{key}先生",
            "phones": [f"1380013{len(self.customers):04d}"],
            "addresses": [_address(f"{key}小区", point)],
            **fields,
        }
        customer, saved = add_customer(self.archive, data)
        assert saved.code
        self.customers[key], self.ids[key] = saved.code, customer.id
        return saved.code

    def order(self, customer: str, start: str, service: str = "BJ-HOURLY:2", *extra: str) -> str:
        """An order of ``customer`` on DAY at ``start``, confirmed and waiting for dispatch."""
        code = str(
            self.cli.json(
                "order",
                "new",
                "--customer",
                self.customers[customer],
                "--channel",
                "phone",
                "--service",
                service,
                "--start",
                f"{DAY} {start}",
                *extra,
            )["code"]
        )
        self.cli.ok("order", "confirm", code)
        return code

    def plan(self, *args: str) -> dict[str, Any]:
        """The day's plan through the CLI; every plan is also checked, by the model checker
        before it is applied and by ``hk dispatch check`` after."""
        if "--apply" not in args:
            self.checked()
        data: dict[str, Any] = self.cli.json("dispatch", "plan", "--date", str(DAY), *args)
        if data.get("applied"):
            self.cli.ok("dispatch", "check", "--date", str(DAY))
        return data

    def routes(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """Worker code → order codes in visiting order."""
        return {r["worker_code"]: [j["code"] for j in r["jobs"]] for r in data["routes"]}

    def checked(self) -> dispatch.Plan:
        """Plan the day through the service layer and run the model checker on it."""
        _, plan = dispatch.make_plan(Archive(self.archive.root), DAY, time_limit_s=5)
        assert plan.problem is not None and plan.solution is not None
        assert check(plan.problem, plan.solution) == []
        return plan


@pytest.fixture
def town(archive: Archive, archive_path: Path) -> Town:
    town = Town(archive, archive_path)
    town.worker("东", EAST)
    town.worker("西", WEST, skills=[{"name": "保洁", "level": 4}, {"name": "家电清洗"}])
    return town


def test_each_job_goes_to_the_nearer_worker_and_the_plan_holds(town: Town) -> None:
    town.customer("甲", EAST)
    town.customer("乙", WEST)
    east = town.order("甲", "09:00")
    west = town.order("乙", "09:00")
    data = town.plan()
    assert town.routes(data) == {town.workers["东"]: [east], town.workers["西"]: [west]}
    assert data["unplaced"] == []
    job = data["routes"][0]["jobs"][0]
    assert job["start"] == "09:00" and job["end"] == "11:00"
    assert any(reason.startswith("从住处出发") for reason in job["reasons"])
    assert data["totals"]["placed"] == 2 and data["applied"] is False
    town.checked()


def test_skills_blocked_gender_and_leave_are_never_broken(town: Town) -> None:
    town.worker("北", NORTH, gender="男")
    town.worker("假", EAST, leave=[{"start": DAY, "end": DAY, "reason": "回老家"}])
    town.customer("甲", EAST, blocked_workers=[town.ids["东"]])
    town.customer("丙", NORTH)
    ac = town.order("丙", "09:00", "JD-AC")
    refused = town.order("甲", "14:00")
    woman = town.order("丙", "14:00", "BJ-HOURLY:2", "--require-gender", "女")
    plan = town.checked()
    got = plan.assignment()
    ids = {code: town.ids[key] for key, code in town.workers.items()}
    assert got[_id(town, ac)] == ids[town.workers["西"]]  # the only one with 家电清洗
    assert got[_id(town, refused)] not in (ids[town.workers["东"]], ids[town.workers["假"]])
    assert got[_id(town, woman)] != ids[town.workers["北"]]
    assert ids[town.workers["假"]] not in got.values()


def _id(town: Town, code: str) -> str:
    return str(town.cli.json("order", "show", code)["id"])


def test_a_job_nobody_may_take_is_left_out_with_the_rules_counted(town: Town) -> None:
    town.customer("甲", EAST)
    smart = town.order("甲", "09:00", "ZN-SETUP")
    data = town.plan()
    [left] = data["unplaced"]
    assert left["code"] == smart
    assert "没有符合条件的阿姨" in left["reason"] and "2 位缺少技能 智能家居" in left["reason"]


def test_an_address_without_coordinates_falls_back_to_its_community(town: Town) -> None:
    town.customer("无", None)
    code = town.order("无", "10:00")
    [left] = town.plan()["unplaced"]
    assert left["code"] == code and "[dispatch.places]" in left["reason"]
    toml = town.archive.root / "hk.toml"
    toml.write_text(
        toml.read_text().replace(
            '# "桐梓林雅苑" = [30.6227, 104.0703]', '"无小区" = [30.600, 104.081]'
        )
    )
    data = town.plan()
    assert data["unplaced"] == []
    assert town.routes(data) == {town.workers["西"]: [code]}


def test_a_worker_whose_home_has_no_coordinates_starts_at_her_first_job(
    archive: Archive, archive_path: Path
) -> None:
    town = Town(archive, archive_path)
    town.worker("远", None)
    town.customer("甲", EAST)
    town.customer("乙", WEST)
    first, second = town.order("甲", "09:00"), town.order("乙", "13:00")
    data = town.plan()
    assert data["unplaced"] == []
    assert town.routes(data) == {town.workers["远"]: [first, second]}
    [route] = data["routes"]
    assert route["leave_home"] is None and route["back_home"] is None
    assert any("当天第一单" in reason for reason in route["jobs"][0]["reasons"])
    applied = town.plan("--apply")
    assert applied["applied"]


def test_the_preferred_worker_is_worth_a_little_travel(town: Town) -> None:
    town.customer("甲", EAST, preferred_workers=[])
    town.customer("乙", EAST)
    plain = town.order("甲", "09:00")
    assert town.routes(town.plan()) == {town.workers["东"]: [plain]}
    town.cli.ok("customer", "edit", town.customers["乙"], "--prefer-worker", town.workers["西"])
    wished = town.order("乙", "14:00")
    data = town.plan()
    routes = town.routes(data)
    assert routes[town.workers["西"]] == [wished]
    reasons = next(j for r in data["routes"] for j in r["jobs"] if j["code"] == wished)["reasons"]
    assert "客户偏好的阿姨" in reasons


def test_gaps_in_the_weekly_hours_and_the_cap_on_jobs_are_kept(town: Town) -> None:
    town.cli.ok(
        "worker", "edit", town.workers["东"], "--available", "mon-sun 08:00-12:00,14:00-18:00"
    )
    town.customer("甲", EAST)
    noon = town.order("甲", "12:00")
    plan = town.checked()
    assert plan.assignment()[_id(town, noon)] == town.ids["西"]
    toml = town.archive.root / "hk.toml"
    toml.write_text(toml.read_text().replace("max_jobs = 5 ", "max_jobs = 1 "))
    codes = [town.order("甲", f"{hour:02d}:00") for hour in (8, 15)]
    plan = town.checked()
    assert len(plan.itineraries) == 2 and all(len(it.visits) == 1 for it in plan.itineraries)
    assert any("已到每日上限" in why for why in plan.unplaced.values())
    assert len(plan.unplaced) == len(codes) + 1 - 2


def test_pin_holds_through_a_replan_and_apply_writes_one_commit(town: Town) -> None:
    town.customer("甲", EAST)
    town.customer("乙", WEST)
    east = town.order("甲", "09:00")
    west = town.order("乙", "13:00")
    assert town.routes(town.plan())[town.workers["东"]] == [east]
    town.cli.ok("dispatch", "pin", east, town.workers["西"])
    data = town.plan()
    assert town.routes(data)[town.workers["西"]] == [east, west]
    assert "手动指定" in data["routes"][0]["jobs"][0]["reasons"]
    commits = git(town.archive.root, "rev-list", "--count", "HEAD")
    applied = town.plan("--apply")
    assert applied["applied"] is True
    assert int(git(town.archive.root, "rev-list", "--count", "HEAD")) == int(commits) + 1
    subject = git(town.archive.root, "log", "-1", "--format=%s").strip()
    assert subject == f"dispatch {DAY}: assign 2 orders"
    shown = town.cli.json("order", "show", east)
    assert shown["status"] == "dispatched" and shown["workers"] == [town.ids["西"]]
    assert shown["planned_start"].startswith(f"{DAY}T09:00")
    assert "派工计划" in shown["events"][-1]["note"]
    again = town.plan()
    assert town.routes(again)[town.workers["西"]] == [east, west]
    assert all("已派工，保持不变" in j["reasons"] for r in again["routes"] for j in r["jobs"])
    nothing = town.cli.ok("dispatch", "plan", "--date", str(DAY), "--apply")
    assert "nothing to apply" in nothing.stdout
    assert town.cli.ok("dispatch", "check", "--date", str(DAY)).stdout.startswith(
        f"{DAY}: 2 assignments of 1 workers checked, 0 violations"
    )


def test_a_pin_the_rules_forbid_is_refused_and_unpin_frees_the_job(town: Town) -> None:
    town.customer("甲", EAST, blocked_workers=[])
    code = town.order("甲", "09:00", "JD-AC")
    refused = town.cli("dispatch", "pin", code, town.workers["东"])
    assert refused.exit_code == 1 and "skill" in refused.output
    town.cli.ok("dispatch", "pin", code, town.workers["西"])
    assert town.cli.json("order", "show", code)["pinned_worker"] == town.ids["西"]
    assert "unpinned" in town.cli.ok("dispatch", "unpin", code).stdout
    assert "was not pinned" in town.cli.ok("dispatch", "unpin", code).stdout


def test_a_pinned_worker_on_leave_leaves_the_job_out_with_her_name(town: Town) -> None:
    town.customer("甲", EAST)
    code = town.order("甲", "09:00")
    town.cli.ok("dispatch", "pin", code, town.workers["东"])
    town.cli.ok("worker", "edit", town.workers["东"], "--leave", f"{DAY}..{DAY}:看病")
    [left] = town.plan()["unplaced"]
    assert left["code"] == code and "手动指定的阿姨" in left["reason"]


def test_apply_refuses_when_the_day_changed_since_the_plan(town: Town) -> None:
    town.customer("甲", EAST)
    code = town.order("甲", "09:00")
    other = town.order("甲", "15:00")
    inputs, plan = dispatch.make_plan(town.archive, DAY, time_limit_s=5)
    town.cli.ok("order", "cancel", other, "--reason", "客户改期")
    from hk.errors import ConflictError

    with pytest.raises(ConflictError, match="changed since the plan"):
        dispatch.apply(Archive(town.archive.root), inputs, plan)
    assert town.cli.json("order", "show", code)["status"] == "to_dispatch"


def test_check_lists_a_forced_rule_and_a_journey_too_short(town: Town) -> None:
    town.customer("甲", EAST)
    town.customer("远", FAR)
    first = town.order("甲", "09:00")
    far = town.order("远", "11:30")
    for code in (first, far):
        town.cli.ok("order", "assign", code, town.workers["东"])
    result = town.cli("dispatch", "check", "--date", str(DAY))
    assert result.exit_code == 1
    assert "travel" in result.stdout and far in result.stdout
    town.cli.ok("worker", "edit", town.workers["西"], "--leave", f"{DAY}..{DAY}:看病")
    town.customer("乙", WEST)
    late = town.order("乙", "16:00")
    town.cli.ok("order", "assign", late, town.workers["西"], "--force", "--reason", "阿姨同意调休")
    report = json.loads(town.cli("dispatch", "check", "--date", str(DAY), "--json").stdout)
    leave = [v for v in report["violations"] if v["rule"] == "leave"]
    assert leave and "阿姨同意调休" in leave[0]["overridden"]


def test_plan_text_lines_up_and_tells_how_to_apply(town: Town) -> None:
    town.customer("甲", EAST)
    town.order("甲", "09:00")
    out = town.cli.ok("dispatch", "plan", "--date", str(DAY)).stdout
    assert f"派工计划 {DAY}" in out and "为何：" in out
    assert f"hk dispatch plan --date {DAY} --apply" in out
    bad = town.cli("dispatch", "plan", "--date", "someday")
    assert bad.exit_code == 2 and "is not a day" in bad.output


def test_a_worker_on_a_signed_placement_gets_no_hourly_job(town: Town) -> None:
    town.customer("甲", EAST)
    town.customer("雇", WEST)
    contract = str(
        town.cli.json(
            "contract",
            "new",
            "--customer",
            town.customers["雇"],
            "--kind",
            "placement",
            "--worker",
            town.workers["东"],
            "--start",
            str(DAY - dt.timedelta(days=3)),
            "--months",
            "6",
            "--service",
            "BM-LIVEIN",
            "--service-fee",
            "6800",
        )["code"]
    )
    code = town.order("甲", "09:00")
    assert town.routes(town.plan()) == {town.workers["东"]: [code]}  # a draft holds nobody
    for party, name in (("customer", "雇先生"), ("worker", "东阿姨"), ("company", "李经理")):
        town.cli.ok("contract", "sign", contract, "--party", party, "--name", name)
    assert town.routes(town.plan()) == {town.workers["西"]: [code]}


def test_apply_only_some_orders_leaves_the_others_waiting(town: Town) -> None:
    town.customer("甲", EAST)
    town.customer("乙", WEST)
    east = town.order("甲", "09:00")
    west = town.order("乙", "13:00")
    inputs, plan = dispatch.make_plan(town.archive, DAY, time_limit_s=5)
    saved = dispatch.apply(Archive(town.archive.root), inputs, plan, only={_id(town, west)})
    assert len(saved.paths) == 1
    assert town.cli.json("order", "show", west)["status"] == "dispatched"
    assert town.cli.json("order", "show", east)["status"] == "to_dispatch"
    assert town.routes(town.plan())[town.workers["东"]] == [east]
