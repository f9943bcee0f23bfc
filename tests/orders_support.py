"""What the order tests share: an archive with a customer and a worker, and the ``hk`` app
with the order commands (mounted here if the CLI does not register them yet)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from hk import cli as hk_cli
from hk.services.people import add_customer, add_worker
from hk.store.archive import Archive
from tests.conftest import Hk

TZ = ZoneInfo("Asia/Shanghai")
DAY = (dt.datetime.now(TZ) + dt.timedelta(days=10)).date()
CUSTOMER = {
    "name": "张三",
    "phones": ["13800138000"],
    "tier": "黄金",
    "addresses": [
        {
            "city": "成都市",
            "district": "武侯区",
            "community": "万科城",
            "detail": "3栋2单元501",
            "access_notes": "门禁 1234",
        },
        {"city": "成都市", "district": "锦江区", "community": "望江苑", "detail": "1栋1单元101"},
    ],
}
CLEANER = {
    "name": "王秀英",
    "gender": "女",
    "birth_year": 1978,
    "skills": [{"name": "保洁", "level": 4}, {"name": "家电清洗"}],
    "certificates": [{"kind": "健康证", "expires": DAY + dt.timedelta(days=365)}],
}


def when(days: int = 0, time: str = "09:00") -> str:
    return f"{DAY + dt.timedelta(days=days)} {time}"


def _app() -> typer.Typer:
    """The real ``hk`` app."""
    return hk_cli.whole_app()


class Cli(Hk):
    app = _app()

    def __call__(self, *args: str, input: str | None = None) -> Any:
        return self.runner.invoke(
            self.app, ["--archive", str(self.root), *args], input=input, catch_exceptions=False
        )

    def ok(self, *args: str) -> Any:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)


@dataclass
class Shop:
    archive: Archive
    cli: Cli
    customer: str
    customer_id: str
    cleaner: str
    cleaner_id: str

    def worker(self, **fields: Any) -> str:
        """A worker like the cleaner, with ``fields`` changed; returns the worker's code."""
        _, result = add_worker(self.archive, {**CLEANER, "name": "李桂芳", **fields})
        assert result.code
        return result.code

    def new(self, *args: str) -> str:
        """A new order (BJ-HOURLY 3 hours on DAY 09:00 by phone unless ``args`` add more)."""
        base = ["order", "new", "--customer", self.customer, "--channel", "phone"]
        if "--service" not in args:
            base += ["--service", "BJ-HOURLY:3"]
        if "--start" not in args:
            base += ["--start", when()]
        return str(self.cli.json(*base, *args)["code"])

    def dispatched(self, *args: str, worker: str | None = None) -> str:
        code = self.new(*args)
        self.cli.ok("order", "confirm", code)
        self.cli.ok("order", "assign", code, worker or self.cleaner)
        return code

    def show(self, code: str) -> dict[str, Any]:
        data: dict[str, Any] = self.cli.json("order", "show", code)
        return data


def make_shop(archive: Archive, archive_path: Path) -> Shop:
    """The archive with 张三 (黄金, two addresses) and 王秀英 (保洁, 家电清洗, 健康证)."""
    customer, added = add_customer(archive, CUSTOMER)
    worker, hired = add_worker(archive, CLEANER)
    assert added.code and hired.code
    return Shop(archive, Cli(archive_path), added.code, customer.id, hired.code, worker.id)


def git_log(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "log", "--format=%B%x00"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
