"""Several writers, one record: stale edits re-applied, real overlaps refused, the attic,
``hk conflicts`` and the git merge driver. Real processes, real git, real clones."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from hk.store.archive import Archive
from hk.store.lock import archive_lock
from tests.conftest import HK_BIN, Hk, ok


def add_customer(hk: Hk, *args: str) -> tuple[str, Path]:
    data = json.loads(
        ok(
            hk("customer", "add", "--name", "陈淑芬", "--phone", "13800138000", *args, "--json")
        ).stdout
    )
    return data["code"], hk.root / "customers" / f"{data['id']}.yaml"


def field_of(path: Path, name: str) -> object:
    from hk.store import codec

    return codec.parse(path.read_text(encoding="utf-8"), str(path)).get(name)


# --- local concurrency: a stale edit is made again on the fresh record ----------------------------


def test_parallel_edits_of_different_fields_never_refuse_each_other(hk: Hk) -> None:
    code, path = add_customer(hk, "--address", "1栋101")
    loops = {
        field: subprocess.Popen(
            [
                "bash",
                "-c",
                f'for i in $(seq 20); do "{HK_BIN}" --archive "{hk.root}" customer edit {code} '
                f'--{field} "{field}$i" >/dev/null 2>>"$ERR" || echo "exit $? at $i"; done',
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**_env(), "ERR": str(hk.root.parent / f"{field}.err")},
        )
        for field in ("notes", "wechat", "address")
    }
    refusals = {field: proc.communicate(timeout=300)[0] for field, proc in loops.items()}
    errors = {f: (hk.root.parent / f"{f}.err").read_text(encoding="utf-8") for f in loops}
    assert refusals == {"notes": "", "wechat": "", "address": ""}, errors
    assert field_of(path, "notes") == "notes20"
    assert field_of(path, "wechat") == "wechat20"
    addresses = field_of(path, "addresses")
    assert isinstance(addresses, list) and addresses[0]["detail"] == "address20"
    status = subprocess.run(
        ["git", "-C", str(hk.root), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.stdout == ""


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _two_edits_while_locked(hk: Hk, code: str, one: list[str], two: list[str]) -> list:
    """Start two edits that both read the record while the archive is locked, then let them
    write one after the other: the second is stale, for certain."""
    archive = Archive(hk.root)
    with archive_lock(archive.hk_dir / "lock"):
        procs = [
            subprocess.Popen(
                [HK_BIN, "--archive", str(hk.root), "customer", "edit", code, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in (one, two)
        ]
        time.sleep(3)  # both have started, read the record and wait for the lock
    return [(p.wait(timeout=60), *p.communicate()) for p in procs]


def test_two_edits_of_different_fields_read_at_once_both_land(hk: Hk) -> None:
    code, path = add_customer(hk)
    results = _two_edits_while_locked(hk, code, ["--notes", "带钥匙"], ["--wechat", "chen_sf"])
    assert [r[0] for r in results] == [0, 0], results
    assert field_of(path, "notes") == "带钥匙"
    assert field_of(path, "wechat") == "chen_sf"


def test_two_edits_of_the_same_field_read_at_once_one_exits_3_naming_it(hk: Hk) -> None:
    code, path = add_customer(hk)
    results = _two_edits_while_locked(
        hk, code, ["--phone", "13700137000"], ["--phone", "13900139000"]
    )
    assert sorted(r[0] for r in results) == [0, 3], results
    [refused] = [r for r in results if r[0] == 3]
    message = refused[2]
    assert f"customer {code} was changed by someone else since it was opened" in message
    assert "in the same field: phones: saved meanwhile" in message
    assert "137****7000" in message and "139****9000" in message
    assert "13700137000" not in message and "13900139000" not in message
    assert "redo the change" in message
    [landed] = [r for r in results if r[0] == 0]
    assert field_of(path, "phones") in (["+8613700137000"], ["+8613900139000"])
    assert landed[0] == 0


def test_a_sealed_value_in_an_overlap_is_never_printed(hk: Hk) -> None:
    code, _ = add_customer(hk)
    results = _two_edits_while_locked(
        hk, code, ["--health-note", "对海鲜过敏"], ["--health-note", "高血压"]
    )
    assert sorted(r[0] for r in results) == [0, 3], results
    [refused] = [r for r in results if r[0] == 3]
    assert "health_notes: saved meanwhile ******, yours ******" in refused[2]
    assert "海鲜" not in refused[2] and "高血压" not in refused[2]
    assert "enc:v1:" not in refused[2]
