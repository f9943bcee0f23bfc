"""Canonical YAML and located errors (DESIGN §2 "Canonical serialisation", §4).

One text per value, so that git diffs show only what changed; and every problem in a file
named by file:line:col, field, plain words and a hint.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from hk.domain.base import now
from hk.domain.customer import Customer
from hk.domain.ids import new_id
from hk.errors import InvalidData, Problem
from hk.services.people import add_customer, edit
from hk.services.records import load
from hk.store import codec
from hk.store.archive import Archive
from hk.store.files import parse_record, relpath_for, serialise
from hk.store.writer import save

LONG = "不要用含氯的消毒液擦木地板，" * 20


def customer(**fields: Any) -> Customer:
    stamp = now()
    return Customer.model_validate(
        {"id": new_id(), "created": stamp, "updated": stamp, "name": "张三", **fields}
    )


def keys_in_order(text: str) -> list[str]:
    return [line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha()]


def problems(text: str, path: str = "customers/X.yaml") -> list[Problem]:
    with pytest.raises(InvalidData) as exc:
        parse_record(Customer, text, path)
    return exc.value.problems


def canonical_text(**fields: Any) -> tuple[Customer, str]:
    record = customer(**fields)
    return record, serialise(record)


# --- canonical output ----------------------------------------------------------------------------


def test_id_comes_first_and_timestamps_last() -> None:
    _, text = canonical_text(phones=["13800138000"], tags=["高端客户"], notes="周三上午方便")
    keys = keys_in_order(text)
    assert keys[0] == "id"
    assert keys[-2:] == ["created", "updated"]


def test_fields_follow_the_model_order() -> None:
    _, text = canonical_text(
        notes="备注", tags=["高端客户"], phones=["13800138000"], category="保姆"
    )
    assert keys_in_order(text) == [
        "id",
        "name",
        "phones",
        "category",
        "tags",
        "notes",
        "created",
        "updated",
    ]


def test_empty_fields_are_left_out() -> None:
    _, text = canonical_text(
        wechat="", tags=[], addresses=[{"city": "成都市", "lat": None}], preferences={}
    )
    assert keys_in_order(text) == ["id", "name", "addresses", "created", "updated"]
    assert "lat" not in text and "wechat" not in text and "preferences" not in text


def test_chinese_is_written_as_is_not_escaped() -> None:
    _, text = canonical_text(addresses=[{"city": "成都市", "community": "万科城"}])
    assert "name: 张三\n" in text
    assert "community: 万科城\n" in text
    assert "\\u" not in text


def test_multi_line_text_is_written_in_block_style() -> None:
    _, text = canonical_text(notes="周三上午方便\n家里有一只猫\n钥匙在物业")
    assert "notes: |-\n  周三上午方便\n  家里有一只猫\n  钥匙在物业\n" in text


def test_long_lines_are_never_folded() -> None:
    record, text = canonical_text(notes=LONG, taboos=[LONG])
    assert f"notes: {LONG.strip()}\n" in text
    assert f"- {LONG.strip()}\n" in text
    assert parse_record(Customer, text, relpath_for(Customer, record.id)) == record


def test_timestamps_carry_their_offset() -> None:
    _, text = canonical_text()
    assert next(line for line in text.splitlines() if line.startswith("created: ")).endswith(
        "+08:00"
    )


def test_files_use_lf_line_endings_and_end_with_one_newline() -> None:
    _, text = canonical_text(notes="一\n二")
    assert "\r" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_a_canonical_file_parses_and_serialises_to_the_same_bytes() -> None:
    record, text = canonical_text(
        phones=["13800138000", "028-8888-6666"],
        notes="多行\n备注",
        addresses=[{"city": "成都市", "district": "武侯区", "lat": 30.64, "lon": 104.04}],
        household=[{"relation": "父亲", "birth_year": 1950, "care_notes": "enc:v1:QUJD"}],
        id_number="enc:v1:WFla",
    )
    back = parse_record(Customer, text, relpath_for(Customer, record.id))
    assert back == record
    assert serialise(back) == text


def test_saving_an_unchanged_record_changes_no_byte(archive: Archive) -> None:
    created, _ = add_customer(
        archive,
        {
            "name": "张三",
            "phones": ["13800138000"],
            "id_number": "510104199001011230",
            "notes": "多行\n备注",
        },
    )
    path = archive.root / relpath_for(Customer, created.id)
    before = path.read_bytes()
    head = _head(archive)
    record, loaded = load(archive, Customer, created.id)
    result = save(archive, record, loaded)
    assert result.commit is None
    assert path.read_bytes() == before
    assert _head(archive) == head


def test_a_hand_edited_files_comments_survive_an_update(archive: Archive) -> None:
    created, _ = add_customer(
        archive, {"name": "张三", "phones": ["13800138000"], "birthday": "1980-05-01"}
    )
    path = archive.root / relpath_for(Customer, created.id)
    text = path.read_text(encoding="utf-8")
    text = "# 老客户，春节前回访\n" + text.replace("name: 张三\n", "name: 张三  # 微信名 小张\n")
    text = text.replace("phones:\n", "# 常用号码，晚上别打\nphones:\n")
    path.write_text(text, encoding="utf-8")
    _git(archive, "commit", "-qam", "hand edit")

    edit(archive, "customer", created.id, {"phones": ["13900139000"]})

    after = path.read_text(encoding="utf-8")
    assert after.startswith("# 老客户，春节前回访\n")
    assert "name: 张三  # 微信名 小张\n" in after
    assert "# 常用号码，晚上别打\nphones:\n- '+8613900139000'\n" in after
    assert parse_record(Customer, after, relpath_for(Customer, created.id)).phones == [
        "+8613900139000"
    ]


def test_an_update_of_a_commented_file_changes_only_the_lines_of_changed_fields(
    archive: Archive,
) -> None:
    created, _ = add_customer(
        archive, {"name": "张三", "phones": ["13800138000"], "birthday": "1980-05-01"}
    )
    path = archive.root / relpath_for(Customer, created.id)
    path.write_text("# 老客户\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    _git(archive, "commit", "-qam", "hand edit")

    edit(archive, "customer", created.id, {"phones": ["13900139000"]})

    diff = _git(archive, "diff", "-U0", "HEAD~1", "HEAD", "--", relpath_for(Customer, created.id))
    changed = [
        line[1:].split(":")[0]
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    # ``updated`` changes too unless both writes fell in the same second
    assert sorted(c for c in changed if c != "updated") == [
        "- '+8613800138000'",
        "- '+8613900139000'",
    ]


# --- errors located in the file -------------------------------------------------------------------


def test_a_duplicate_key_is_refused_with_its_line() -> None:
    text = "id: 01M825Z0K7Q8J1KRFGJ5ZA1ESG\nname: 张三\nnotes: 一\nname: 李四\n"
    [problem] = problems(text)
    assert "the key 'name' appears twice" in problem.message
    assert problem.location() == "customers/X.yaml:4:1"
    assert problem.source_line == "name: 李四"
    assert problem.hint == "keep one of them: a field may appear only once"


def test_a_yaml_syntax_error_is_located_file_line_col() -> None:
    text = "id: 01M825Z0K7Q8J1KRFGJ5ZA1ESG\nname: 张三\n  phones: 138\n"
    [problem] = problems(text)
    assert problem.message.startswith("not valid YAML")
    assert problem.location() == "customers/X.yaml:3:9"
    rendered = problem.render().splitlines()
    assert rendered[0].startswith("customers/X.yaml:3:9: not valid YAML")
    assert rendered[1:3] == ["      phones: 138", "            ^"]
    assert problem.hint


def test_a_caret_under_chinese_text_counts_terminal_cells() -> None:
    text = "id: 01M825Z0K7Q8J1KRFGJ5ZA1ESG\nname: 张三: 李四\n"
    [problem] = problems(text)
    line, caret = problem.render().splitlines()[1:3]
    assert line == "    name: 张三: 李四"
    assert caret == "    " + " " * (len("name: ") + 4) + "^"


def test_a_nested_validation_error_is_located_at_its_line() -> None:
    record, text = canonical_text(
        addresses=[
            {"city": "成都市", "community": "万科城"},
            {"city": "成都市", "district": "武侯区", "lat": 30.5, "lon": 104.0},
        ]
    )
    path = relpath_for(Customer, record.id)
    bad = text.replace("lat: 30.5", "lat: 300.5")
    [problem] = problems(bad, path)
    line = bad.splitlines().index("  lat: 300.5") + 1
    assert problem.field == "addresses[1].lat"
    assert (problem.path, problem.line, problem.column) == (path, line, 3)
    assert "90" in problem.message
    assert problem.render().startswith(f"{path}:{line}:3: addresses[1].lat: ")


def test_an_invalid_phone_in_a_file_points_at_the_phone() -> None:
    record, text = canonical_text(phones=["13800138000", "13900139000"])
    bad = text.replace("'+8613900139000'", "'139 0013 900'")
    [problem] = problems(bad, relpath_for(Customer, record.id))
    assert problem.field == "phones[1]"
    assert problem.line == bad.splitlines().index("- '139 0013 900'") + 1
    assert "not a valid phone number" in problem.message


def test_an_unknown_field_gets_a_did_you_mean_hint() -> None:
    record, text = canonical_text(phones=["13800138000"])
    bad = text.replace("phones:", "phone:")
    [problem] = problems(bad, relpath_for(Customer, record.id))
    assert problem.field == "phone"
    assert problem.message == "unknown field"
    assert problem.hint == "did you mean 'phones'?"
    assert problem.line == 3


def test_an_unknown_nested_field_gets_a_hint_from_the_nested_model() -> None:
    record, text = canonical_text(addresses=[{"city": "成都市", "community": "万科城"}])
    bad = text.replace("community:", "comunity:")
    [problem] = problems(bad, relpath_for(Customer, record.id))
    assert problem.field == "addresses[0].comunity"
    assert problem.hint == "did you mean 'community'?"


def test_every_problem_in_a_file_is_reported_not_just_the_first() -> None:
    record, text = canonical_text(phones=["13800138000"], birthday="1980-05-01")
    bad = text.replace("'+8613800138000'", "'12345'").replace("1980-05-01", "1980-02-30")
    bad = bad.replace("name:", "nmae:")
    found = problems(bad, relpath_for(Customer, record.id))
    assert sorted(p.field or "" for p in found) == ["birthday", "name", "nmae", "phones[0]"]
    assert all(p.line is not None for p in found)


def test_a_missing_required_field_says_so() -> None:
    record, text = canonical_text()
    bad = "\n".join(line for line in text.splitlines() if not line.startswith("name:")) + "\n"
    [problem] = problems(bad, relpath_for(Customer, record.id))
    assert (problem.field, problem.message) == ("name", "this field is required")
    assert problem.hint


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    [problem] = problems("- 张三\n- 李四\n")
    assert "mapping of fields" in problem.message


def test_a_file_whose_id_does_not_match_its_name_is_refused() -> None:
    _, text = canonical_text()
    [problem] = problems(text, f"customers/{new_id()}.yaml")
    assert problem.field == "id"
    assert "does not match the file name" in problem.message


def test_dates_are_read_as_text_so_pydantic_checks_them() -> None:
    """YAML's own timestamp rules would turn 2026-02-30 into an opaque error or a datetime."""
    assert codec.parse_yaml("birthday: 1980-05-01\n", "x.yaml") == {"birthday": "1980-05-01"}


def _git(archive: Archive, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(archive.root), *args], check=True, capture_output=True, text=True
    ).stdout


def _head(archive: Archive) -> str:
    return _git(archive, "rev-parse", "HEAD").strip()
