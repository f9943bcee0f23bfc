"""``hk demo``: a whole small company, dated around the demo day, sealed, and safe to rebuild."""

from __future__ import annotations

import datetime as dt
import shlex
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from hk.commands import demo as demo_command
from hk.domain.customer import Customer
from hk.domain.worker import Worker
from hk.errors import HkError
from hk.services.archive import init
from hk.services.demo.build import (
    build_demo,
    default_location,
    is_demo,
    load_sample,
    read_info,
    tour,
)
from hk.services.doctor import check_archive
from hk.store import paths
from hk.store.archive import Archive
from hk.store.files import parse_record

DAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
"""The demo day: today in the archive's timezone, as quotes and contracts check validity by the
real clock."""


def records(root: Path) -> tuple[list[Customer], list[Worker]]:
    customers = [
        parse_record(Customer, p.read_text(encoding="utf-8"), f"customers/{p.name}")
        for p in sorted((root / "customers").glob("*.yaml"))
    ]
    workers = [
        parse_record(Worker, p.read_text(encoding="utf-8"), f"workers/{p.name}")
        for p in sorted((root / "workers").glob("*.yaml"))
    ]
    return customers, workers


def demo_app() -> typer.Typer:
    """The command on its own app, as hk.cli registers it."""
    from hk.cli import HkGroup

    app = typer.Typer(cls=HkGroup)
    app.callback()(lambda: None)
    app.command("demo")(demo_command.demo)
    return app


def test_demo_is_a_whole_small_company(tmp_path: Path) -> None:
    root = build_demo(tmp_path / "demo", today=DAY)
    archive = Archive(root)
    customers, workers = records(root)
    assert len(customers) >= 60
    assert len(workers) == 15
    settings = archive.settings.customers
    assert {c.category for c in customers} == set(settings.categories)
    assert {c.channel for c in customers} == set(settings.channels)
    assert {c.tier for c in customers} >= set(archive.settings.tier_names())
    assert {w.status for w in workers} == {"available", "placed", "inactive"}
    assert {w.employment.model for w in workers if w.employment} == {"中介制", "员工制"}
    assert any(w.leave for w in workers)
    assert all(c.consents for c in customers)


def test_referrals_and_worker_choices_point_at_demo_records(tmp_path: Path) -> None:
    customers, workers = records(build_demo(tmp_path / "demo", today=DAY))
    customer_ids = {c.id for c in customers}
    worker_ids = {w.id for w in workers}
    referred = [c for c in customers if c.channel == "老客户介绍"]
    assert len(referred) >= 8
    assert all(c.referrer in customer_ids for c in referred)
    assert all(c.referrer is None for c in customers if c.channel != "老客户介绍")
    assert any(c.preferred_workers for c in customers)
    assert any(c.blocked_workers for c in customers)
    for c in customers:
        assert set(c.preferred_workers) | set(c.blocked_workers) <= worker_ids


def test_dates_move_to_the_demo_day_but_birthdays_do_not(tmp_path: Path) -> None:
    sample = load_sample()
    root = build_demo(tmp_path / "demo", today=DAY)
    customers, workers = records(root)
    due = {
        w.name
        for w in workers
        if any(
            c.expires and DAY <= c.expires <= DAY + dt.timedelta(days=30) for c in w.certificates
        )
    }
    expired = {
        w.name for w in workers if any(c.expires and c.expires < DAY for c in w.certificates)
    }
    assert len(due) >= 3
    assert len(expired) == 1
    birthdays = {e["name"]: e.get("birthday") for e in sample.customers.entries}
    assert all(c.birthday == birthdays[c.name] for c in customers)
    assert read_info(root).today == DAY


def test_doctor_passes_on_the_demo(tmp_path: Path) -> None:
    report = check_archive(Archive(build_demo(tmp_path / "demo", today=DAY)))
    assert report.ok, [p.render() for p in report.errors]
    assert not report.warnings, [p.render() for p in report.warnings]


def test_sensitive_values_are_sealed_in_files_and_history(tmp_path: Path) -> None:
    sample = load_sample()
    secrets: list[str] = []
    for entry in [*sample.customers.entries, *sample.workers.entries]:
        secrets += [
            entry[k] for k in ("id_number", "health_notes", "children_details") if k in entry
        ]
        secrets += [m["care_notes"] for m in entry.get("household", []) if "care_notes" in m]
    assert len([s for s in secrets if len(s) == 18]) >= 20
    root = build_demo(tmp_path / "demo", today=DAY)
    history = subprocess.run(
        ["git", "-C", str(root), "log", "-p", "--no-textconv", "--all"],
        capture_output=True,
        check=True,
    ).stdout
    blobs = [history] + [p.read_bytes() for p in root.rglob("*") if p.is_file()]
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in blobs), secret
    assert b"enc:v1:" in history
    customers, _ = records(root)
    assert sum(1 for c in customers if c.id_number and c.id_number.sealed) >= 10


def test_rebuilding_replaces_the_old_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = build_demo(out, today=DAY)
    old_ids = set(read_info(first).ids.values())
    old_keys = Archive(first).keyring.folder
    assert is_demo(first) and old_keys.is_dir()
    later = DAY + dt.timedelta(days=500)
    second = build_demo(out, today=later)
    assert second == first
    info = read_info(second)
    assert info.today == later
    assert not old_ids & set(info.ids.values())
    assert not old_keys.exists()
    customers, workers = records(second)
    assert {c.id for c in customers} | {w.id for w in workers} == set(info.ids.values())
    assert any(
        c.expires and later <= c.expires <= later + dt.timedelta(days=30)
        for w in workers
        for c in w.certificates
    )


def test_a_folder_that_is_not_a_demo_is_never_replaced(tmp_path: Path) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "合同.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(HkError, match="not a demo archive"):
        build_demo(papers, today=DAY)
    assert (papers / "合同.txt").read_text(encoding="utf-8") == "keep me"
    real = tmp_path / "real"
    init(real)
    with pytest.raises(HkError, match="not a demo archive"):
        build_demo(real, today=DAY)
    assert (real / "hk.toml").is_file()
    result = CliRunner().invoke(demo_app(), ["demo", "--out", str(papers)])
    assert result.exit_code == 1
    assert "not a demo archive" in result.output
    assert (papers / "合同.txt").exists()


def test_demo_command_builds_in_the_data_folder_and_says_where(tmp_path: Path) -> None:
    result = CliRunner().invoke(demo_app(), ["demo", "--no-tui"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert default_location() == paths.data_home() / "demo"
    assert result.output.strip() == f"demo archive: {default_location()}"
    assert is_demo(default_location())


def test_every_command_of_the_tour_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hk.cli import app

    root = build_demo(tmp_path / "演示 archive", today=DAY)
    monkeypatch.chdir(tmp_path)  # the tour writes a contract file into the current folder
    lines = tour(root)
    commands = [shlex.split(line.split("  # ")[0]) for line in lines if line.startswith("  hk ")]
    assert len(commands) >= 8
    runner = CliRunner()
    outputs = []
    for argv in commands:
        assert argv[:3] == ["hk", "-C", str(root)]
        result = runner.invoke(app, argv[1:], catch_exceptions=False)
        assert result.exit_code == 0, (argv, result.output)
        outputs.append(result.output)
    featured = read_info(root).tour_customer
    name = next(e["name"] for e in load_sample().customers.entries if e["key"] == "c01")
    assert featured and any(name in out for out in outputs[1:3])


@pytest.mark.parametrize("offset", range(7), ids=lambda n: f"demo-day+{n}")
def test_the_demo_company_has_work_around_the_demo_day(tmp_path: Path, offset: int) -> None:
    """Orders replayed through the services: done and rated before, dispatched today,
    waiting for the dispatcher tomorrow; every one follows its lifecycle. Built for seven
    consecutive days, so it holds on every weekday (a weekly contract visit falls on the day
    after the demo day once a week)."""
    from hk.domain.order.model import Order

    day = DAY + dt.timedelta(days=offset)
    root = build_demo(tmp_path / "demo", today=day)
    orders = [
        parse_record(Order, p.read_text(encoding="utf-8"), p.relative_to(root).as_posix())
        for p in sorted((root / "orders").rglob("*.json"))
    ]
    by_day: dict[str, set[str]] = {}
    for order in orders:
        by_day.setdefault(order.index_day(), set()).add(order.status)
    assert {"settled", "completed", "cancelled"} <= set().union(
        *(s for d, s in by_day.items() if d < day.isoformat())
    )
    assert by_day[day.isoformat()] == {"dispatched"}
    tomorrow = (day + dt.timedelta(days=1)).isoformat()
    assert by_day[tomorrow] == {"to_dispatch"}
    rated = [o for o in orders if o.rating is not None]
    assert rated and all(o.rating and o.rating.survey for o in rated)
    assert len(list((root / "surveys").rglob("*.json"))) == len(rated)
    index = Archive(root).index
    assert not index.refresh().broken
    assert index.count("order") == len(orders)
