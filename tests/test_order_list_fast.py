"""``hk order list`` without Typer or Pydantic: the same output as the full CLI, lighter."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hk.store.archive import Archive
from tests.conftest import Hk
from tests.orders_support import DAY, Shop, make_shop, when

NO_FASTPATH = {"HK_NO_FASTPATH": "1"}


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    shop = make_shop(archive, archive_path)
    shop.new()
    shop.dispatched("--start", when(1, "14:00"))
    ready = shop.new("--start", when(1, "09:00"), "--service", "JD-AC")
    shop.cli.ok("order", "confirm", ready)
    return shop


ARGS = [
    ["order", "list"],
    ["order", "list", "--json"],
    ["order", "list", "--status", "to_dispatch"],
    ["order", "list", "--status", "待确认", "--json"],
    ["order", "list", "--date", str(DAY + dt.timedelta(days=1))],
    ["order", "list", f"--from={DAY}", "--to", str(DAY), "--limit", "1"],
    ["order", "list", "--service", "jd-ac"],
    ["order", "list", "--date", "2001-01-01"],
]


@pytest.mark.parametrize("args", ARGS)
def test_the_fast_order_list_prints_what_the_full_cli_prints(
    shop: Shop, hk: Hk, args: list[str]
) -> None:
    fast = hk.process(*args)
    full = hk.process(*args, env=NO_FASTPATH)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        full.returncode,
        full.stdout,
        full.stderr,
    )


def test_the_filters_select_the_right_orders(shop: Shop, hk: Hk) -> None:
    def listed(*args: str) -> list[str]:
        proc = hk.process("order", "list", *args, "--json")
        assert proc.returncode == 0, proc.stderr
        return [item["status"] for item in json.loads(proc.stdout)]

    assert sorted(listed()) == ["dispatched", "pending", "to_dispatch"]
    assert listed("--status", "to_dispatch") == ["to_dispatch"]
    assert sorted(listed("--from", str(DAY))) == ["dispatched", "pending", "to_dispatch"]
    assert listed("--date", str(DAY)) == ["pending"]


PROBE = """
import json, sys
from hk.fastpath import try_fast
code = try_fast(sys.argv[1:])
sys.stderr.write(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_the_fast_order_list_loads_no_model(shop: Shop, hk: Hk) -> None:
    hk.process("order", "list")  # warm the index
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "--archive",
            str(hk.root),
            "order",
            "list",
            "--status",
            "待派工",
            "--date",
            "tomorrow",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stderr)
    assert report["code"] == 0
    assert {m.split(".")[0] for m in report["modules"]} & {"pydantic", "typer", "click"} == set()


@pytest.mark.parametrize(
    "args",
    [
        ["--status", "nonsense"],
        ["--date", "someday"],
        ["--date", str(DAY), "--to", str(DAY)],
        ["--customer", "x"],
        ["--limit", "many"],
        ["--help"],
    ],
)
def test_anything_else_goes_to_the_full_cli(shop: Shop, hk: Hk, args: list[str]) -> None:
    from hk.fastpath import try_fast

    assert try_fast(["--archive", str(hk.root), "order", "list", *args]) is None
