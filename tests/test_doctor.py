"""``hk doctor`` (DESIGN §4): check the whole archive, report ALL problems with file:line:col,
warn about what is not wrong but needs a look, and say it all as JSON too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.services.people import add_customer, add_worker
from hk.store.archive import Archive
from hk.store.files import relpath_for, serialise
from tests.conftest import Hk, git


def doctor(hk: Hk) -> dict[str, Any]:
    result = hk("doctor", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1)
    return report


def write_customer(archive: Archive, text: str | None = None, **fields: Any) -> str:
    """A customer file written by hand; returns its path relative to the archive."""
    stamp = now()
    record = Customer.model_validate(
        {"id": new_id(), "created": stamp, "updated": stamp, "name": "张三", **fields}
    )
    rel = relpath_for(Customer, record.id)
    path = archive.root / rel
    path.parent.mkdir(exist_ok=True)
    path.write_text(serialise(record) if text is None else text, encoding="utf-8")
    return rel


def break_file(archive: Archive, rel: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in the file; return the line number of the change."""
    path = archive.root / rel
    text = path.read_text(encoding="utf-8").replace(old, new)
    path.write_text(text, encoding="utf-8")
    return next(i for i, line in enumerate(text.splitlines(), 1) if new.split("\n")[0] in line)


def commit_all(archive: Archive) -> None:
    git(archive.root, "add", "-A")
    git(archive.root, "commit", "-qm", "hand edits")


# --- a clean archive -----------------------------------------------------------------------------


def test_a_clean_archive_passes_with_exit_0(archive: Archive, hk: Hk) -> None:
    add_customer(
        archive, {"name": "张三", "phones": ["13800138000"], "id_number": "510104199001011230"}
    )
    add_worker(archive, {"name": "王秀英", "gender": "女"})
    result = hk("doctor")
    assert result.exit_code == 0
    assert result.stdout == "checked 24 files: ok\n"
    report = doctor(hk)
    assert report == {"ok": True, "checked": 24, "errors": [], "warnings": []}


def test_doctor_changes_nothing(archive: Archive, hk: Hk) -> None:
    rel = write_customer(archive)
    break_file(archive, rel, "name: 张三", "name: [张三")
    head = git(archive.root, "rev-parse", "HEAD")
    status = git(archive.root, "status", "--porcelain")
    hk("doctor")
    assert git(archive.root, "rev-parse", "HEAD") == head
    assert git(archive.root, "status", "--porcelain") == status


# --- every problem, located ----------------------------------------------------------------------


def test_every_broken_file_is_reported_not_just_the_first(archive: Archive, hk: Hk) -> None:
    syntax = write_customer(archive)
    syntax_line = break_file(archive, syntax, "name: 张三", "name: [张三")
    unknown = write_customer(archive)
    unknown_line = break_file(archive, unknown, "name: 张三", "name: 张三\ncolour: red")
    phone = write_customer(archive, phones=["13800138000"])
    phone_line = break_file(archive, phone, "'+8613800138000'", "'12345'")
    not_utf8 = write_customer(archive)
    (archive.root / not_utf8).write_bytes("name: 张三\n".encode("gbk"))
    commit_all(archive)

    result = hk("doctor")
    assert result.exit_code == 1
    assert "4 problem(s)" in result.stdout
    report = doctor(hk)
    located = {(e["path"], e["line"]) for e in report["errors"]}
    assert (phone, phone_line) in located
    assert (unknown, unknown_line + 1) in located
    assert any(path == syntax and line in (syntax_line, syntax_line + 1) for path, line in located)
    assert not_utf8 in {e["path"] for e in report["errors"]}
    assert report["checked"] == 26


def test_a_file_with_several_problems_reports_each(archive: Archive, hk: Hk) -> None:
    rel = write_customer(archive, phones=["13800138000"], birthday="1980-05-01")
    break_file(archive, rel, "'+8613800138000'", "'12345'")
    break_file(archive, rel, "1980-05-01", "1980-02-30")
    break_file(archive, rel, "name: 张三", "nmae: 张三")
    commit_all(archive)
    errors = [e for e in doctor(hk)["errors"] if e["path"] == rel]
    assert sorted(e["field"] for e in errors) == ["birthday", "name", "nmae", "phones[0]"]
    assert next(e for e in errors if e["field"] == "nmae")["hint"] == "did you mean 'name'?"


def test_problems_are_printed_beancount_style(archive: Archive, hk: Hk) -> None:
    rel = write_customer(archive, phones=["13800138000"])
    line = break_file(archive, rel, "'+8613800138000'", "'12345'")
    commit_all(archive)
    output = hk("doctor").output.splitlines()
    first = next(i for i, text in enumerate(output) if text.startswith(f"{rel}:{line}:"))
    assert "phones[0]" in output[first] and "not a valid phone number" in output[first]
    assert output[first + 1] == "    - '12345'"
    assert output[first + 2] == "      ^"


def test_json_problems_carry_path_line_column_field_message_and_hint(
    archive: Archive, hk: Hk
) -> None:
    rel = write_customer(archive, addresses=[{"city": "成都市", "lat": 30.5}])
    line = break_file(archive, rel, "lat: 30.5", "lat: 300.5")
    commit_all(archive)
    [error] = doctor(hk)["errors"]
    assert set(error) == {"path", "line", "column", "field", "message", "hint"}
    assert (error["path"], error["line"], error["column"], error["field"]) == (
        rel,
        line,
        3,
        "addresses[0].lat",
    )


def test_a_record_in_the_wrong_file_is_reported(archive: Archive, hk: Hk) -> None:
    rel = write_customer(archive)
    path = archive.root / rel
    moved = path.with_name(f"{new_id()}.yaml")
    path.rename(moved)
    commit_all(archive)
    [error] = doctor(hk)["errors"]
    assert error["path"] == f"customers/{moved.name}"
    assert "does not match the file name" in error["message"]


def test_a_value_outside_the_lists_of_hk_toml_is_reported(archive: Archive, hk: Hk) -> None:
    rel = write_customer(archive, category="家庭保洁")
    break_file(archive, rel, "category: 家庭保洁", "category: 擦皮鞋")
    commit_all(archive)
    [error] = doctor(hk)["errors"]
    assert (error["path"], error["field"]) == (rel, "category")
    assert "hk.toml" in error["hint"]


def test_a_broken_hk_toml_is_reported_and_the_records_still_checked(
    archive: Archive, hk: Hk
) -> None:
    settings = archive.root / "hk.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace('currency = "CNY"', 'curency = "CNY"'),
        encoding="utf-8",
    )
    rel = write_customer(archive, phones=["13800138000"])
    break_file(archive, rel, "'+8613800138000'", "'12345'")
    commit_all(archive)
    errors = doctor(hk)["errors"]
    assert {e["path"] for e in errors} == {"hk.toml", rel}
    toml = next(e for e in errors if e["path"] == "hk.toml")
    assert toml["field"] == "locale.curency"
    assert toml["hint"] == "did you mean 'currency'?"


# --- references and codes ------------------------------------------------------------------------


def test_dangling_references_are_reported(archive: Archive, hk: Hk) -> None:
    gone_customer, gone_worker, gone_blocked = new_id(), new_id(), new_id()
    rel = write_customer(
        archive,
        referrer=gone_customer,
        preferred_workers=[gone_worker],
        blocked_workers=[gone_blocked],
    )
    commit_all(archive)
    errors = doctor(hk)["errors"]
    assert {(e["path"], e["field"]) for e in errors} == {
        (rel, "referrer"),
        (rel, "preferred_workers"),
        (rel, "blocked_workers"),
    }
    assert any(gone_customer in e["message"] for e in errors)
    assert any(gone_worker in e["message"] for e in errors)


def test_a_reference_to_a_record_of_the_wrong_kind_is_reported(archive: Archive, hk: Hk) -> None:
    worker, _ = add_worker(archive, {"name": "王秀英", "gender": "女"})
    rel = write_customer(archive, referrer=worker.id)
    commit_all(archive)
    [error] = doctor(hk)["errors"]
    assert (error["path"], error["field"]) == (rel, "referrer")


def test_references_to_existing_records_are_fine(archive: Archive, hk: Hk) -> None:
    referrer, _ = add_customer(archive, {"name": "李四"})
    worker, _ = add_worker(archive, {"name": "王秀英", "gender": "女"})
    write_customer(archive, referrer=referrer.id, preferred_workers=[worker.id])
    commit_all(archive)
    assert doctor(hk)["ok"]


def test_duplicate_catalog_codes_are_reported(archive: Archive, hk: Hk) -> None:
    services = archive.root / "catalog" / "services"
    original = next(
        p for p in services.glob("*.yaml") if "code: BJ-DAILY\n" in p.read_text(encoding="utf-8")
    )
    copy_id = new_id()
    copy = services / f"{copy_id}.yaml"
    copy.write_text(
        original.read_text(encoding="utf-8").replace(original.stem, copy_id), encoding="utf-8"
    )
    commit_all(archive)
    [error] = doctor(hk)["errors"]
    assert error["field"] == "code"
    assert "code BJ-DAILY is also used by" in error["message"]
    assert {error["path"], error["message"].split("used by ")[1]} == {
        f"catalog/services/{copy.name}",
        f"catalog/services/{original.name}",
    }


# --- warnings ------------------------------------------------------------------------------------


def test_a_leftover_temp_file_is_a_warning_not_an_error(archive: Archive, hk: Hk) -> None:
    add_customer(archive, {"name": "张三"})
    (archive.root / "customers" / ".hk-x1y2z3.tmp").write_text("id: half\n", encoding="utf-8")
    result = hk("doctor")
    assert result.exit_code == 0
    assert "warning: customers/.hk-x1y2z3.tmp" in result.output
    [warning] = doctor(hk)["warnings"]
    assert warning["path"] == "customers/.hk-x1y2z3.tmp"
    assert warning["hint"] == "delete it"


def test_an_uncommitted_hand_edit_is_a_warning(archive: Archive, hk: Hk) -> None:
    record, _ = add_customer(archive, {"name": "张三"})
    rel = relpath_for(Customer, record.id)
    break_file(archive, rel, "name: 张三", "name: 张叁")
    untracked = write_customer(archive)
    report = doctor(hk)
    assert report["ok"]
    warned = {w["path"]: w for w in report["warnings"]}
    assert set(warned) == {rel, untracked}
    assert "not committed" in warned[rel]["message"]
    assert "git diff" in warned[rel]["hint"]


def test_a_file_that_is_not_a_record_is_a_warning(archive: Archive, hk: Hk) -> None:
    add_customer(archive, {"name": "张三"})
    (archive.root / "customers" / "说明.txt").write_text("给新同事\n", encoding="utf-8")
    commit_all(archive)
    [warning] = doctor(hk)["warnings"]
    assert warning["path"] == "customers/说明.txt"
    assert "not a record file" in warning["message"]


def test_a_missing_data_key_is_a_warning(archive: Archive, hk: Hk) -> None:
    record, _ = add_customer(archive, {"name": "张三", "health_notes": "青霉素过敏"})
    (archive.keyring.folder / "people" / record.id).unlink()
    report = doctor(hk)
    assert report["ok"]
    [warning] = report["warnings"]
    assert "1 records have no data key here" in warning["message"]


def test_errors_and_warnings_are_reported_together(archive: Archive, hk: Hk) -> None:
    rel = write_customer(archive)
    break_file(archive, rel, "name: 张三", "name: [张三")
    (archive.root / "customers" / ".hk-abc.tmp").write_text("", encoding="utf-8")
    result = hk("doctor")
    assert result.exit_code == 1
    assert "1 problem(s), 2 warning(s)" in result.stdout
    report = doctor(hk)
    assert [e["path"] for e in report["errors"]] == [rel]
    assert {w["path"] for w in report["warnings"]} == {rel, "customers/.hk-abc.tmp"}


@pytest.mark.parametrize("broken", [3, 6])
def test_the_report_counts_every_problem(archive: Archive, hk: Hk, broken: int) -> None:
    for _ in range(broken):
        rel = write_customer(archive)
        break_file(archive, rel, "name: 张三", "name: 张三\nage: 40")
    commit_all(archive)
    report = doctor(hk)
    assert len(report["errors"]) == broken
    assert f"{broken} problem(s)" in hk("doctor").stdout
