"""Holes a data-protection check found: the crash log, the masked ID number, a lost data key."""

from __future__ import annotations

import base64
import itertools
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from hk.cli import command_name, report_crash
from hk.domain.fields import id_check_char, mask_id_number
from hk.store.archive import Archive
from hk.store.paths import crash_log
from tests.conftest import Hk, git, ok

ID_NUMBER = "510104199001011230"
CANARY = "青霉素过敏-canary-7731"


def test_the_crash_log_holds_the_command_name_and_frames_but_no_value() -> None:
    argv = ["--archive", "/a", "customer", "add", "--name", "陈淑芬", "--id-number", ID_NUMBER]
    try:
        raise ValueError(f"could not use {ID_NUMBER} with {CANARY}")
    except ValueError:
        assert report_crash(argv) == 1
    text = crash_log().read_text(encoding="utf-8")
    assert "hk customer add" in text
    assert "test_privacy_holes.py" in text and "ValueError" in text
    assert ID_NUMBER not in text and CANARY not in text and "陈淑芬" not in text
    assert stat.S_IMODE(crash_log().stat().st_mode) == 0o600


def test_an_existing_crash_log_readable_by_others_is_made_private() -> None:
    crash_log().parent.mkdir(parents=True)
    crash_log().write_text("old\n")
    crash_log().chmod(0o644)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report_crash(["doctor"])
    assert stat.S_IMODE(crash_log().stat().st_mode) == 0o600
    assert crash_log().read_text().startswith("old\n")


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["-C", "/x", "customer", "edit", "K1", "--phone", "139"], "hk customer edit"),
        (["show", "陈淑芬"], "hk show"),
        (["customer", "陈淑芬"], "hk customer ?"),
        (["--help"], "hk"),
        ([], "hk"),
    ],
)
def test_a_command_is_named_without_its_values(argv: list[str], name: str) -> None:
    assert command_name(argv) == name


def test_the_masked_id_number_cannot_be_rebuilt_from_the_rest_of_the_record() -> None:
    """What a record says in plain text besides the mask: the birthday and the district.

    Every number that fits the mask, that birthday and that district is a candidate; the mask
    must leave many, not one.
    """
    masked = mask_id_number(ID_NUMBER)
    assert masked.startswith("5101") and masked.count("*") == 14
    birthday, district = "19900101", "04"
    candidates = []
    for digits in itertools.product("0123456789", repeat=3):
        body = "5101" + district + birthday + "".join(digits)
        number = body + id_check_char(body)
        if mask_id_number(number) == masked:
            candidates.append(number)
    assert ID_NUMBER in candidates
    assert len(candidates) == 1000


def test_a_lost_data_key_is_named_never_replaced(hk: Hk) -> None:
    added = json.loads(
        ok(
            hk(
                "customer",
                "add",
                "--name",
                "张三",
                "--phone",
                "13800138000",
                "--id-number",
                ID_NUMBER,
                "--consent-sensitive",
                "纸质签字",
                "--json",
            )
        ).stdout
    )
    key = Archive(hk.root).keyring.folder / "people" / added["id"]
    assert key.exists()
    key.unlink()
    result = hk.process("customer", "edit", added["code"], "--health-note", CANARY)
    assert result.returncode != 0
    assert "张三" in result.stderr and f"people/{added['id']}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not key.exists(), "no new key was made"
    assert CANARY not in (hk.root / "customers" / f"{added['id']}.yaml").read_text()


def test_rotating_the_master_key_rewraps_every_data_key(hk: Hk) -> None:
    added = json.loads(
        ok(
            hk(
                "customer",
                "add",
                "--name",
                "李四",
                "--phone",
                "13800138001",
                "--id-number",
                ID_NUMBER,
                "--consent-sensitive",
                "纸质签字",
                "--json",
            )
        ).stdout
    )
    keyring = Archive(hk.root).keyring
    old_master = keyring.master_path.read_bytes()
    wrapped = (keyring.folder / "people" / added["id"]).read_bytes()
    head = git_head(hk)
    result = hk.process("key", "rotate")
    assert result.returncode == 0, result.stderr
    assert "re-wrapped 1" in result.stdout
    assert keyring.master_path.read_bytes() != old_master
    assert (keyring.folder / "people" / added["id"]).read_bytes() != wrapped
    assert stat.S_IMODE(keyring.master_path.stat().st_mode) == 0o600
    assert git_head(hk) == head, "no record changed"
    shown = json.loads(
        ok(hk("customer", "show", added["code"], "--reveal", "--reason", "核对", "--json")).stdout
    )
    assert shown["id_number"] == ID_NUMBER


def test_an_interrupted_rotation_still_opens_every_key_and_finishes_when_run_again(hk: Hk) -> None:
    ids = [
        json.loads(
            ok(
                hk(
                    "customer",
                    "add",
                    "--name",
                    name,
                    "--phone",
                    phone,
                    "--health-note",
                    CANARY,
                    "--consent-sensitive",
                    "纸质签字",
                    "--json",
                )
            ).stdout
        )["id"]
        for name, phone in (("王五", "13800138002"), ("赵六", "13800138003"))
    ]
    keyring = Archive(hk.root).keyring
    # the state a rotation killed after re-wrapping the first key leaves behind
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

    new = bytes(range(32))
    keyring.next_master_path.write_bytes(base64.b64encode(new) + b"\n")
    first = keyring.folder / "people" / ids[0]
    key = aes_key_unwrap(keyring._master_key(), base64.b64decode(first.read_bytes()))
    first.write_bytes(base64.b64encode(aes_key_wrap(new, key)) + b"\n")
    for rid in ids:
        assert Archive(hk.root).keyring.unseal(rid, _token(hk, rid)) == CANARY
    assert hk.process("key", "rotate").returncode == 0
    assert not keyring.next_master_path.exists()
    assert base64.b64decode(keyring.master_path.read_bytes()) == new
    for rid in ids:
        assert Archive(hk.root).keyring.unseal(rid, _token(hk, rid)) == CANARY


def _token(hk: Hk, record_id: str) -> str:
    text = (hk.root / "customers" / f"{record_id}.yaml").read_text(encoding="utf-8")
    return next(line.split(": ", 1)[1] for line in text.splitlines() if "health_notes:" in line)


def git_head(hk: Hk) -> str:
    return git(hk.root, "rev-parse", "HEAD").strip()


def test_git_log_p_shows_sealed_values_masked_to_key_holders_and_ciphertext_to_others(
    hk: Hk, tmp_path: Path
) -> None:
    added = json.loads(
        ok(
            hk(
                "customer", "add", "--name", "周七", "--phone", "13800138009",
                "--id-number", ID_NUMBER, "--health-note", "轻度哮喘",
                "--consent-sensitive", "纸质签字", "--json",
            )
        ).stdout
    )  # fmt: skip
    ok(hk("customer", "edit", added["code"], "--health-note", "重度哮喘"))
    log = git(hk.root, "log", "-p", "--", "customers/")
    assert "id_number: 5101************** #" in log
    assert "-health_notes: ****** #" in log and "+health_notes: ****** #" in log
    assert "哮喘" not in log and ID_NUMBER not in log and "enc:v1:" not in log
    marks = [line.rsplit("#", 1)[1] for line in log.splitlines() if "health_notes:" in line]
    assert len(set(marks)) == 2, "a changed value shows a changed mark"
    without_key = subprocess.run(
        ["git", "-C", str(hk.root), "log", "-p", "--", "customers/"],
        capture_output=True,
        text=True,
        env={**os.environ, "HK_KEY_DIR": str(tmp_path / "elsewhere")},
        check=True,
    ).stdout
    assert "enc:v1:" in without_key and "哮喘" not in without_key
