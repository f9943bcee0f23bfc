"""A canary scan: unique values seeded in every sensitive field, then everything hk does with
them in the ordinary course — edits, history, exports and documents without --reveal, the
reminders sent, the index, its own files and logs — and not one copy in plain text anywhere."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hk.store.archive import Archive
from hk.store.paths import crash_log
from tests.conftest import git, ok
from tests.orders_support import DAY, Shop
from tests.remind_support import RUN_DAY, reminder_shop

CANARIES = {
    "id_number": "11010519491231002X",
    "health_note": "canary-健康-51733",
    "children": "canary-儿童-88412",
    "later_health_note": "canary-健康-later-29106",
    "worker_id": "510104199001011230",
}


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    made = reminder_shop(archive, archive_path)
    made.cli.ok(
        "customer", "edit", made.customer,
        "--id-number", CANARIES["id_number"],
        "--health-note", CANARIES["health_note"],
        "--children", CANARIES["children"],
        "--consent-sensitive", "纸质签字",
    )  # fmt: skip
    made.cli.ok("customer", "edit", made.customer, "--health-note", CANARIES["later_health_note"])
    made.cli.ok("worker", "edit", made.cleaner, "--id-number", CANARIES["worker_id"])
    return made


def _everything_written(root: Path, outputs: list[str]) -> bytes:
    """Every byte hk left: each git object (raw), every file under the archive and .git
    (the index, snapshots, logs), the crash log, and what the commands printed."""
    objects = git(root, "cat-file", "--batch-all-objects", "--batch-check").splitlines()
    shas = "\n".join(line.split()[0] for line in objects) + "\n"
    raw = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"], input=shas.encode(), capture_output=True
    ).stdout
    files = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    log = crash_log().read_bytes() if crash_log().exists() else b""
    return raw + files + log + "\n".join(outputs).encode("utf-8")


def test_no_sensitive_value_is_anywhere_in_plain_text(shop: Shop, tmp_path: Path) -> None:
    cli = shop.cli
    outputs = [
        ok(cli("customer", "show", shop.customer)).stdout,
        ok(cli("customer", "show", shop.customer, "--json")).stdout,
        ok(cli("worker", "show", shop.cleaner, "--json")).stdout,
        ok(cli("log", shop.customer)).stdout,
        ok(cli("export", "customers", "--format", "json")).stdout,
        ok(cli("export", "workers", "--format", "csv")).stdout,
        ok(cli("export", "orders", "--format", "json")).stdout,
        ok(cli("dispatch", "sheet", "--date", DAY.isoformat())).stdout,
        ok(cli("remind", "--send", "--date", RUN_DAY.isoformat())).stdout,
        git(shop.archive.root, "log", "-p"),  # through hk's diff view: masked
        ok(cli("audit", "--json")).stdout,
        ok(cli("reindex")).stdout,
        ok(cli("doctor")).stdout,
    ]
    ok(cli("export", "customers", "--format", "xlsx", "--out", str(tmp_path / "c.xlsx")))
    outputs.append((tmp_path / "c.xlsx").read_bytes().decode("latin-1"))
    found = _everything_written(shop.archive.root, outputs)
    for name, value in CANARIES.items():
        assert value.encode("utf-8") not in found, name
    # and the scan can see them: revealed on purpose, the value is there
    shown = ok(cli("customer", "show", shop.customer, "--reveal", "--reason", "核对")).stdout
    assert CANARIES["later_health_note"] in shown
