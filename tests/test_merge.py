"""The field-level three-way merge (hk/store/merge.py): every strategy, determinism, losers."""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.domain.layout import kind_of_path
from hk.domain.merging import RULES, rule_for
from hk.errors import InvalidData
from hk.store import codec
from hk.store.merge import RECORD, Loser, NotARecord, Side, merge_data, merge_file

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 12, 8, 10, 0, tzinfo=TZ)
EARLY = T0 + dt.timedelta(minutes=5)
LATE = T0 + dt.timedelta(minutes=9)
CID = "01JF0000000000000000000001"
WID = "01JF0000000000000000000002"
TOKEN_A = "enc:v1:AAAA"
TOKEN_B = "enc:v1:BBBB"


def customer(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": CID, "name": "陈淑芬"}
    data.update(fields)
    data.setdefault("created", "2026-12-01T09:00:00+08:00")
    data.setdefault("updated", "2026-12-01T09:00:00+08:00")
    return data


def edited(base: dict[str, Any], at: str = "2026-12-08T10:05:00+08:00", **changes: Any):
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    out["updated"] = out.pop("updated") and at
    return out


def merge(kind: Any, base: Any, a: Any, b: Any, by_a: str = "王店长", by_b: str = "李助理"):
    """Merge with ``a`` the earlier writer and ``b`` the later; also checks that swapping the
    sides gives the same record and the same losers."""
    one = merge_data(kind, base, Side(a, by_a, EARLY), Side(b, by_b, LATE))
    two = merge_data(kind, base, Side(b, by_b, LATE), Side(a, by_a, EARLY))
    assert one.data == two.data
    assert one.losers == two.losers
    return one


def test_one_side_changed_takes_that_side_without_losers() -> None:
    base = customer(notes="老客户")
    ours = edited(base, notes="老客户, 周三不在家")
    result = merge("customer", base, ours, base)
    assert result.data == ours
    assert result.losers == []


def test_different_fields_both_kept_and_updated_is_the_later() -> None:
    base = customer(phones=["+8613800138000"], notes="")
    a = edited(base, phones=["+8613900139000"])
    b = edited(base, at="2026-12-08T10:09:00+08:00", notes="带钥匙", wechat="chen_sf")
    result = merge("customer", base, a, b)
    assert result.losers == []
    assert result.data is not None
    assert result.data["phones"] == ["+8613900139000"]
    assert result.data["notes"] == "带钥匙"
    assert result.data["wechat"] == "chen_sf"
    assert result.data["updated"] == "2026-12-08T10:09:00+08:00"
    assert result.data["created"] == base["created"]


def test_same_scalar_changed_both_ways_the_later_wins_and_the_other_loses() -> None:
    base = customer(notes="原来")
    a = edited(base, notes="甲写的")
    b = edited(base, notes="乙写的")
    result = merge("customer", base, a, b)
    assert result.data is not None and result.data["notes"] == "乙写的"
    assert result.losers == [
        Loser(
            field="notes",
            kept="乙写的",
            lost="甲写的",
            kept_by="李助理",
            kept_at=LATE,
            lost_by="王店长",
            lost_at=EARLY,
        )
    ]


def test_same_value_on_both_sides_is_no_conflict() -> None:
    base = customer(notes="原来")
    a = edited(base, notes="一样")
    b = edited(base, notes="一样", at="2026-12-08T10:09:00+08:00")
    result = merge("customer", base, a, b)
    assert result.losers == []
    assert result.data is not None and result.data["notes"] == "一样"


def test_ties_in_time_are_broken_by_operator_then_value_on_every_machine() -> None:
    base = customer(notes="原来")
    a, b = edited(base, notes="甲"), edited(base, notes="乙")
    one = merge_data("customer", base, Side(a, "amy", T0), Side(b, "bob", T0))
    two = merge_data("customer", base, Side(b, "bob", T0), Side(a, "amy", T0))
    assert one == two
    assert one.data is not None and one.data["notes"] == "乙"  # "bob" sorts after "amy"
    same = merge_data("customer", base, Side(a, "amy", T0), Side(b, "amy", T0))
    again = merge_data("customer", base, Side(b, "amy", T0), Side(a, "amy", T0))
    assert same == again


def test_tags_are_a_set_additions_and_removals_from_both_sides() -> None:
    base = customer(tags=["老客户", "有宠物", "VIP"])
    a = edited(base, tags=["老客户", "有宠物", "VIP", "需发票"])  # adds 需发票
    b = edited(base, tags=["有宠物", "VIP", "周末"])  # removes 老客户, adds 周末
    result = merge("customer", base, a, b)
    assert result.data is not None
    assert result.data["tags"] == ["有宠物", "VIP", "需发票", "周末"]
    assert result.losers == []


def test_removing_every_tag_on_one_side_is_a_change_too() -> None:
    base = customer(tags=["老客户"])
    a = edited(base, tags=None)  # canonical data leaves an empty list out
    b = edited(base, tags=["老客户", "周末"])
    result = merge("customer", base, a, b)
    assert result.data is not None and result.data["tags"] == ["周末"]


def test_nested_mapping_merges_field_by_field() -> None:
    base = customer(preferences={"cooking_taste": "清淡", "skills": ["做饭"]})
    a = edited(base, preferences={"cooking_taste": "微辣", "skills": ["做饭"]})
    b = edited(base, preferences={"cooking_taste": "清淡", "skills": ["做饭", "带娃"]})
    result = merge("customer", base, a, b)
    assert result.data is not None
    assert result.data["preferences"] == {"cooking_taste": "微辣", "skills": ["做饭", "带娃"]}
    assert result.losers == []


def test_a_nested_conflict_names_the_dotted_field() -> None:
    base = customer(preferences={"cooking_taste": "清淡"})
    a = edited(base, preferences={"cooking_taste": "微辣"})
    b = edited(base, preferences={"cooking_taste": "重辣"})
    result = merge("customer", base, a, b)
    assert [(x.field, x.kept, x.lost) for x in result.losers] == [
        ("preferences.cooking_taste", "重辣", "微辣")
    ]


def test_addresses_as_whole_entries_one_edited_one_added() -> None:
    home = {"label": "家", "city": "成都市", "detail": "3栋501"}
    base = customer(addresses=[home])
    a = edited(base, addresses=[{**home, "detail": "3栋502"}])
    b = edited(base, addresses=[home, {"label": "父母家", "detail": "1栋101"}])
    result = merge("customer", base, a, b)
    assert result.data is not None
    assert result.data["addresses"] == [
        {"label": "家", "city": "成都市", "detail": "3栋502"},
        {"label": "父母家", "detail": "1栋101"},
    ]


def worker(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": WID, "name": "王秀英", "gender": "女"}
    data.update(fields)
    data.setdefault("created", "2026-12-01T09:00:00+08:00")
    data.setdefault("updated", "2026-12-01T09:00:00+08:00")
    return data


def test_entries_by_key_merge_one_by_one() -> None:
    base = worker(skills=[{"name": "保洁", "level": 3}, {"name": "做饭", "level": 2}])
    a = edited(base, skills=[{"name": "保洁", "level": 4}, {"name": "做饭", "level": 2}])
    b = edited(
        base,
        skills=[
            {"name": "保洁", "level": 3},
            {"name": "做饭", "level": 2},
            {"name": "育儿", "level": 1},
        ],
    )
    result = merge("worker", base, a, b)
    assert result.data is not None
    assert result.data["skills"] == [
        {"name": "保洁", "level": 4},
        {"name": "做饭", "level": 2},
        {"name": "育儿", "level": 1},
    ]
    assert result.losers == []


def test_an_entry_changed_on_both_sides_keeps_the_later_and_names_the_entry() -> None:
    base = worker(skills=[{"name": "保洁", "level": 3}])
    a = edited(base, skills=[{"name": "保洁", "level": 4}])
    b = edited(base, skills=[{"name": "保洁", "level": 5}])
    result = merge("worker", base, a, b)
    assert result.data is not None and result.data["skills"] == [{"name": "保洁", "level": 5}]
    assert [(x.field, x.kept, x.lost) for x in result.losers] == [
        ("skills[保洁]", {"name": "保洁", "level": 5}, {"name": "保洁", "level": 4})
    ]


def test_an_entry_removed_on_one_side_and_changed_on_the_other_is_kept() -> None:
    base = worker(skills=[{"name": "保洁", "level": 3}, {"name": "做饭", "level": 1}])
    a = edited(base, skills=[{"name": "做饭", "level": 1}])  # removes 保洁
    b = edited(base, skills=[{"name": "保洁", "level": 5}, {"name": "做饭", "level": 1}])
    result = merge("worker", base, a, b)
    assert result.data is not None
    assert result.data["skills"] == [{"name": "保洁", "level": 5}, {"name": "做饭", "level": 1}]
    assert [(x.field, x.kept, x.lost, x.lost_by) for x in result.losers] == [
        ("skills[保洁]", {"name": "保洁", "level": 5}, None, "王店长")
    ]


def test_availability_merges_day_by_day() -> None:
    base = worker(availability={"mon": ["08:00-12:00"], "tue": ["08:00-12:00"]})
    a = edited(base, availability={"mon": ["09:00-12:00"], "tue": ["08:00-12:00"]})
    b = edited(base, availability={"mon": ["08:00-12:00"], "tue": ["13:00-17:00"]})
    result = merge("worker", base, a, b)
    assert result.data is not None
    assert result.data["availability"] == {"mon": ["09:00-12:00"], "tue": ["13:00-17:00"]}
    both = edited(base, availability={"mon": ["14:00-18:00"], "tue": ["08:00-12:00"]})
    clash = merge("worker", base, a, both)
    assert [(x.field, x.kept, x.lost) for x in clash.losers] == [
        ("availability.mon", ["14:00-18:00"], ["09:00-12:00"])
    ]


COMPLAINT_ID = "01JF0000000000000000000003"


def complaint(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": COMPLAINT_ID,
        "customer": CID,
        "category": "quality",
        "description": "厨房没擦干净",
        "received_at": "2026-12-08T09:00:00+08:00",
        "response_due": "2026-12-09T09:00:00+08:00",
        "events": [{"at": "2026-12-08T09:00:00+08:00", "actor": "王店长", "to_status": "open"}],
    }
    data.update(fields)
    data.setdefault("created", "2026-12-08T09:00:00+08:00")
    data.setdefault("updated", "2026-12-08T09:00:00+08:00")
    return data


def step(at: str, actor: str, old: str, new: str) -> dict[str, Any]:
    return {"at": at, "actor": actor, "from_status": old, "to_status": new}


def test_event_logs_append_in_time_order_without_duplicates() -> None:
    opened = complaint()
    base = complaint(
        status="in_progress",
        assignee="王店长",
        events=[
            *opened["events"],
            step("2026-12-08T09:30:00+08:00", "王店长", "open", "in_progress"),
        ],
    )
    hand_a = step("2026-12-08T10:00:00+08:00", "王店长", "in_progress", "in_progress")
    hand_b = step("2026-12-08T09:45:00+08:00", "李助理", "in_progress", "in_progress")
    a = edited(base, assignee="李助理", events=[*base["events"], hand_a])
    b = edited(base, severity="serious", events=[*base["events"], hand_b])
    result = merge("complaint", base, a, b)
    assert result.data is not None
    assert result.data["events"] == [*base["events"], hand_b, hand_a]
    assert result.data["severity"] == "serious"
    assert result.data["assignee"] == "李助理"
    assert result.losers == []


def test_a_log_and_status_that_do_not_chain_fall_back_to_the_later_writer() -> None:
    """A resolves the complaint while B rejects it: the union of both logs is no chain, so
    the later writer's status and log win and the earlier's go to the attic."""
    base = complaint()
    resolved = step("2026-12-08T10:00:00+08:00", "王店长", "open", "resolved")
    rejected = step("2026-12-08T10:05:00+08:00", "李助理", "open", "rejected")
    a = edited(base, status="resolved", resolution="重新打扫", events=[*base["events"], resolved])
    b = edited(
        base,
        status="rejected",
        resolution="不在服务范围",
        events=[*base["events"], rejected],
        severity="minor",
    )
    result = merge("complaint", base, a, b)
    assert result.data is not None
    assert result.data["status"] == "rejected"
    assert result.data["events"] == b["events"]
    assert result.data["severity"] == "minor"
    lost = {x.field: x.lost for x in result.losers}
    assert lost == {
        "status": "resolved",
        "resolution": "重新打扫",
        "events": a["events"],
    }


def test_the_later_writers_whole_record_when_fields_only_make_sense_together() -> None:
    """A fixes the response deadline, B the time received, each valid alone, together not."""
    base = complaint()
    a = edited(base, response_due="2026-12-08T12:00:00+08:00")
    b = edited(
        base, received_at="2026-12-08T13:00:00+08:00", response_due="2026-12-09T13:00:00+08:00"
    )
    result = merge("complaint", base, a, b)
    assert result.data is not None
    assert result.data["received_at"] == b["received_at"]
    assert result.data["response_due"] == b["response_due"]
    assert [(x.field, x.lost) for x in result.losers] == [
        ("response_due", "2026-12-08T12:00:00+08:00")
    ]


def test_the_fallback_gives_up_as_few_of_the_earlier_writers_fields_as_it_can() -> None:
    """A prefers a worker whom B blocks: each valid alone, together not. Only the earlier
    writer's field that breaks the rule goes to the attic; her notes stay."""
    base = customer()
    a = edited(base, preferred_workers=[WID], notes="甲")
    b = edited(base, blocked_workers=[WID], tags=["新"])
    result = merge("customer", base, a, b)
    assert result.data is not None
    assert result.data["blocked_workers"] == [WID]
    assert "preferred_workers" not in result.data
    assert result.data["notes"] == "甲" and result.data["tags"] == ["新"]
    assert [(x.field, x.lost) for x in result.losers] == [("preferred_workers", [WID])]


def test_when_the_later_writers_own_record_is_invalid_the_merge_refuses() -> None:
    base = customer()
    a = edited(base, notes="甲")
    b = edited(base, tier=["not", "text"])
    with pytest.raises(InvalidData):
        merge("customer", base, a, b)


def test_delete_against_edit_keeps_the_edit_and_notes_the_deletion() -> None:
    base = customer(notes="原来")
    b = edited(base, notes="改了")
    result = merge("customer", base, None, b)
    assert result.data == b
    assert [(x.field, x.kept, x.lost, x.lost_by) for x in result.losers] == [
        (RECORD, "changed", "deleted", "王店长")
    ]
    later = merge("customer", base, b, None)
    assert later.data == b and len(later.losers) == 1


def test_deleted_on_one_side_only_is_deleted() -> None:
    base = customer()
    assert merge("customer", base, None, base).data is None
    assert merge("customer", base, None, None).data is None


def test_made_on_both_sides_keeps_the_earlier_created() -> None:
    a = customer(created="2026-12-08T10:00:00+08:00", notes="甲")
    b = customer(created="2026-12-08T09:00:00+08:00", wechat="x")
    result = merge("customer", None, a, b)
    assert result.data is not None
    assert result.data["created"] == "2026-12-08T09:00:00+08:00"
    assert result.data["notes"] == "甲" and result.data["wechat"] == "x"


def test_sealed_values_compare_as_tokens_and_lose_as_tokens() -> None:
    base = customer(health_notes=TOKEN_A)
    a = edited(base, health_notes="enc:v1:CCCC")
    b = edited(base, health_notes=TOKEN_B)
    result = merge("customer", base, a, b)
    assert result.data is not None and result.data["health_notes"] == TOKEN_B
    assert [(x.field, x.kept, x.lost) for x in result.losers] == [
        ("health_notes", TOKEN_B, "enc:v1:CCCC")
    ]
    untouched = merge("customer", base, edited(base, notes="x"), edited(base, wechat="y"))
    assert untouched.data is not None and untouched.data["health_notes"] == TOKEN_A


def test_every_declared_rule_names_a_field_of_its_model() -> None:
    from hk.domain.kinds import KINDS

    for kind, rules in RULES.items():
        model = KINDS[kind]
        for dotted in rules:
            name = dotted.split(".")[0]
            assert name in model.model_fields, f"{kind}: {dotted}"
    assert rule_for("customer", ("updated",)) is not None
    assert rule_for("worker", ("availability", "mon")) is not None


def test_kind_of_path() -> None:
    assert kind_of_path(f"customers/{CID}.yaml") == "customer"
    assert kind_of_path(f"orders/2026/12/{CID}.json") == "order"
    assert kind_of_path(f"orders/{CID}.json") is None
    assert kind_of_path(f"catalog/services/{CID}.yaml") == "service"
    assert kind_of_path("hk.toml") is None
    assert kind_of_path("conflicts/2026/x.yaml") is None


# --- files --------------------------------------------------------------------------------------


def text(data: dict[str, Any]) -> bytes:
    return codec.dump_yaml(data).encode()


def test_merge_file_writes_canonical_yaml_keeping_our_comments() -> None:
    path = f"customers/{CID}.yaml"
    base = customer(notes="原来", tags=["老客户"])
    ours_data = edited(base, tags=["老客户", "周末"])
    ours = b"# \xe5\xa4\x87\xe6\xb3\xa8: call first\n" + text(ours_data)
    theirs = text(edited(base, at="2026-12-08T10:09:00+08:00", notes="带钥匙"))
    result = merge_file(path, text(base), ours, theirs, ("王店长", EARLY), ("李助理", LATE))
    assert result.kind == "customer" and result.record_id == CID and result.losers == []
    assert result.text is not None
    merged = result.text.decode()
    assert merged.startswith("# 备注: call first\n")
    data = codec.parse(merged, path)
    assert data["tags"] == ["老客户", "周末"] and data["notes"] == "带钥匙"


def test_merge_file_locates_a_side_that_does_not_parse() -> None:
    path = f"customers/{CID}.yaml"
    base = text(customer())
    with pytest.raises(InvalidData) as caught:
        merge_file(path, base, b"name: [unclosed\n", base, ("a", EARLY), ("b", LATE))
    assert caught.value.problems[0].path == path
    assert caught.value.problems[0].line is not None


def test_merge_file_refuses_a_side_that_is_not_a_valid_record() -> None:
    path = f"customers/{CID}.yaml"
    base = text(customer())
    bad = text(customer(phones=["12"]))
    with pytest.raises(InvalidData) as caught:
        merge_file(path, base, bad, base, ("a", EARLY), ("b", LATE))
    assert caught.value.problems[0].field is not None


def test_merge_file_json_orders_the_same_way() -> None:
    """A JSON record merges through the same engine and comes out as canonical JSON."""
    path = f"points/2026/12/{CID}.json"
    base = {
        "id": CID,
        "customer": WID,
        "type": "earn",
        "points": 10,
        "order": COMPLAINT_ID,
        "at": "2026-12-08T09:00:00+08:00",
        "created": "2026-12-08T09:00:00+08:00",
        "updated": "2026-12-08T09:00:00+08:00",
    }
    kind = kind_of_path(path)
    assert kind == "points"
    ours = {**base, "reason": "订单"}
    theirs = {**base, "by": "李助理"}
    result = merge_file(
        path,
        codec.dump_json(base).encode(),
        codec.dump_json(ours).encode(),
        codec.dump_json(theirs).encode(),
        ("a", EARLY),
        ("b", LATE),
    )
    assert result.text is not None
    assert result.text.decode() == codec.dump_json({**base, "reason": "订单", "by": "李助理"})


def test_merge_file_refuses_what_is_not_a_record() -> None:
    with pytest.raises(NotARecord):
        merge_file("hk.toml", b"", b"a", b"b", ("a", EARLY), ("b", LATE))


# --- property: random edits --------------------------------------------------------------------

_VALUES: dict[str, list[Any]] = {
    "notes": ["", "甲", "乙", "丙"],
    "wechat": ["", "w1", "w2"],
    "tier": ["", "黄金", "白银"],
    "tags": [[], ["老客户"], ["老客户", "VIP"], ["周末"]],
    "phones": [[], ["+8613800138000"], ["+8613900139000", "+8613800138000"]],
    "preferences": [{}, {"cooking_taste": "清淡"}, {"skills": ["做饭"]}],
}


def _random_side(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key in rng.sample(sorted(_VALUES), rng.randint(0, 3)):
        value = rng.choice(_VALUES[key])
        if value in ("", [], {}):
            out.pop(key, None)
        else:
            out[key] = value
    return out


def test_random_edits_are_deterministic_keep_one_side_changes_and_lose_nothing() -> None:
    rng = random.Random(14)
    for _ in range(300):
        base = _random_side(rng, customer())
        a, b = _random_side(rng, base), _random_side(rng, base)
        result = merge("customer", base, a, b)
        assert result.data is not None
        lost = {x.field.split(".")[0] for x in result.losers}
        for key in _VALUES:
            was, x, y = base.get(key), a.get(key), b.get(key)
            got = result.data.get(key)
            if x == was and y != was:
                assert got == y, key
            elif y == was and x != was:
                assert got == x, key
            elif x != was and y != was and x != y and not isinstance(x or y, (list, dict)):
                assert got == y or key in lost, key  # a scalar: the later wins or it is noted


def test_one_item_of_a_set_replaced_two_ways_is_a_conflict_over_the_list() -> None:
    base = customer(phones=["+8613800138000", "+862888886666"])
    a = edited(base, phones=["+8613700137000", "+862888886666"])
    b = edited(base, phones=["+8613900139000", "+862888886666"])
    result = merge("customer", base, a, b)
    assert result.data is not None and result.data["phones"] == b["phones"]
    assert [(x.field, x.kept, x.lost) for x in result.losers] == [
        ("phones", b["phones"], a["phones"])
    ]
