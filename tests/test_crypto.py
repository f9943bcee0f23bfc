"""Sensitive fields (SPEC §7, DESIGN §2): ciphertext at rest, a key per person, a master key
outside the archive; without the keys everything but those values keeps working.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hk.domain.customer import Customer
from hk.domain.fields import SEAL_PREFIX, Sealed
from hk.domain.worker import Worker
from hk.errors import HkError
from hk.services.people import add_customer, add_worker, edit
from hk.store.archive import Archive
from hk.store.crypto import Keyring
from hk.store.files import relpath_for
from tests.conftest import Hk, git

ID_NUMBER = "510104199001011230"
OTHER_ID = "11010519491231002X"
HEALTH = "青霉素过敏"
CHILDREN = "女儿3岁，对花生过敏"
CARE = "父亲有高血压，每天早上吃药"


def sensitive_customer(
    archive: Archive, name: str = "张三", id_number: str = ID_NUMBER
) -> Customer:
    record, _ = add_customer(
        archive,
        {
            "name": name,
            "phones": ["13800138000"],
            "id_number": id_number,
            "health_notes": HEALTH,
            "children_details": CHILDREN,
            "household": [{"relation": "父亲", "birth_year": 1950, "care_notes": CARE}],
            "addresses": [{"city": "成都市", "community": "万科城"}],
            "tags": ["高端客户"],
        },
    )
    return record


def code_of(archive: Archive, record_id: str) -> str:
    return str(archive.index.get(record_id)["code"])


def file_text(archive: Archive, record: Customer | Worker) -> str:
    return (archive.root / relpath_for(type(record), record.id)).read_text(encoding="utf-8")


@pytest.fixture
def lock_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[], None]:
    """Take the key folder off this machine (HK_KEY_DIR then names an empty folder)."""

    def lock() -> None:
        empty = tmp_path / "no-keys-here"
        empty.mkdir()
        monkeypatch.setenv("HK_KEY_DIR", str(empty))

    return lock


# --- at rest ------------------------------------------------------------------------------------


def test_sensitive_values_are_stored_only_as_ciphertext(archive: Archive) -> None:
    record = sensitive_customer(archive)
    text = file_text(archive, record)
    for secret in (ID_NUMBER, HEALTH, "青霉素", CHILDREN, "花生", CARE, "高血压"):
        assert secret not in text
    assert text.count(f": {SEAL_PREFIX}") == 4
    assert "name: 张三" in text and "高端客户" in text


def test_sensitive_values_never_appear_in_git_history(archive: Archive) -> None:
    record = sensitive_customer(archive)
    edit(archive, "customer", record.id, {"health_notes": "芒果过敏", "id_number": OTHER_ID})
    add_worker(archive, {"name": "王阿姨", "gender": "女", "id_number": ID_NUMBER})
    history = git(archive.root, "log", "-p", "--no-textconv", "--all", "--format=%B")
    for secret in (ID_NUMBER, OTHER_ID, HEALTH, "芒果过敏", "芒果", CHILDREN, CARE):
        assert secret not in history
    assert SEAL_PREFIX in history


def test_the_keys_live_outside_the_archive(archive: Archive) -> None:
    sensitive_customer(archive)
    key_dir = archive.keyring.folder
    assert archive.root not in key_dir.parents
    assert (key_dir / "master.key").is_file()
    tracked = git(archive.root, "ls-files")
    assert "master.key" not in tracked and "people/" not in tracked
    assert (key_dir / "master.key").stat().st_mode & 0o077 == 0


def test_each_person_has_their_own_data_key(archive: Archive) -> None:
    first = sensitive_customer(archive)
    second = sensitive_customer(archive, name="李四")
    people = archive.keyring.folder / "people"
    assert sorted(p.name for p in people.iterdir()) == sorted([first.id, second.id])
    assert (people / first.id).read_bytes() != (people / second.id).read_bytes()


def test_the_same_plaintext_seals_differently_for_different_people(archive: Archive) -> None:
    first = sensitive_customer(archive)
    second = sensitive_customer(archive, name="李四")
    assert first.id_number is not None and second.id_number is not None
    assert first.id_number.token != second.id_number.token


def test_a_token_moved_to_another_record_does_not_decrypt(archive: Archive) -> None:
    first = sensitive_customer(archive)
    second = sensitive_customer(archive, name="李四", id_number=OTHER_ID)
    assert first.id_number is not None and first.id_number.token is not None
    keyring = Keyring(archive.keyring.folder)
    assert keyring.unseal(first.id, first.id_number.token) == ID_NUMBER
    with pytest.raises(HkError, match="does not decrypt"):
        keyring.unseal(second.id, first.id_number.token)


def test_a_token_copied_into_another_file_by_hand_is_not_shown_as_its_plaintext(
    archive: Archive, hk: Hk
) -> None:
    first = sensitive_customer(archive)
    second = sensitive_customer(archive, name="李四", id_number=OTHER_ID)
    assert first.id_number is not None and second.id_number is not None
    path = archive.root / relpath_for(Customer, second.id)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(str(second.id_number.token), str(first.id_number.token)), encoding="utf-8"
    )
    result = hk("show", code_of(archive, second.id), "--reveal", "--reason", "核对", "--json")
    assert ID_NUMBER not in result.output
    assert result.exit_code == 0, "one bad value must not hide the rest of the record"
    assert "does not decrypt" in result.output
    assert "李四" in result.output
    assert "Traceback" not in result.output
    doctor = hk("doctor")
    assert "does not decrypt" in doctor.output


def test_a_tampered_token_does_not_decrypt(archive: Archive) -> None:
    record = sensitive_customer(archive)
    assert record.id_number is not None and record.id_number.token is not None
    body = record.id_number.token[len(SEAL_PREFIX) :]
    blob = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    blob[-1] ^= 1
    forged = SEAL_PREFIX + base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")
    with pytest.raises(HkError, match="does not decrypt"):
        Keyring(archive.keyring.folder).unseal(record.id, forged)


# --- showing ------------------------------------------------------------------------------------


def test_show_masks_the_id_number_and_hides_health_notes(archive: Archive, hk: Hk) -> None:
    record = sensitive_customer(archive)
    shown = json.loads(hk("customer", "show", code_of(archive, record.id), "--json").output)
    assert shown["id_number"] == "5101**************"
    assert shown["health_notes"] == "******"
    assert shown["children_details"] == "******"
    assert shown["household"][0]["care_notes"] == "******"


def test_reveal_shows_the_plaintext(archive: Archive, hk: Hk) -> None:
    record = sensitive_customer(archive)
    result = hk(
        "customer", "show", code_of(archive, record.id), "--reveal", "--reason", "核对", "--json"
    )
    shown = json.loads(result.output)
    assert shown["id_number"] == ID_NUMBER
    assert shown["health_notes"] == HEALTH
    assert shown["household"][0]["care_notes"] == CARE
    text = hk("show", code_of(archive, record.id), "--reveal", "--reason", "核对").output
    assert ID_NUMBER in text and HEALTH in text


def test_re_entering_the_same_id_number_keeps_the_same_token(archive: Archive, hk: Hk) -> None:
    record = sensitive_customer(archive)
    path = archive.root / relpath_for(Customer, record.id)
    before = path.read_bytes()
    head = git(archive.root, "rev-parse", "HEAD")
    result = hk(
        "customer",
        "edit",
        code_of(archive, record.id),
        "--id-number",
        ID_NUMBER,
        "--health-note",
        HEALTH,
    )
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    assert path.read_bytes() == before
    assert git(archive.root, "rev-parse", "HEAD") == head


def test_changing_one_sealed_value_keeps_the_others_tokens(archive: Archive) -> None:
    record = sensitive_customer(archive)
    updated, result = edit(archive, "customer", record.id, {"health_notes": "芒果过敏"})
    assert result.changed_fields == ["health_notes"]
    assert updated.id_number == record.id_number
    assert updated.health_notes != record.health_notes


def write_plain_health_note(archive: Archive, record: Customer) -> None:
    path = archive.root / relpath_for(Customer, record.id)
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith("health_notes:")
    ]
    lines.insert(2, "health_notes: 海鲜过敏")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_plaintext_written_into_a_file_by_hand_is_sealed_on_the_next_save(
    archive: Archive,
) -> None:
    record = sensitive_customer(archive)
    write_plain_health_note(archive, record)
    _, result = edit(archive, "customer", record.id, {"notes": "回访"})
    assert result.changed_fields == ["health_notes", "notes"]
    text = file_text(archive, record)
    assert "海鲜" not in text
    assert "海鲜" not in git(archive.root, "show", "HEAD")
    assert (
        Keyring(archive.keyring.folder).unseal(
            record.id,
            next(
                line.split(": ")[1]
                for line in text.splitlines()
                if line.startswith("health_notes:")
            ),
        )
        == "海鲜过敏"
    )


def test_a_plaintext_written_by_hand_is_found_and_shown_masked_but_never_indexed(
    archive: Archive, hk: Hk
) -> None:
    record = sensitive_customer(archive)
    write_plain_health_note(archive, record)
    assert "张三" in hk("customer", "find", "张三").output
    shown = json.loads(hk("show", code_of(archive, record.id), "--json").output)
    assert shown["health_notes"] == "******"
    for part in archive.hk_dir.iterdir():
        assert "海鲜".encode() not in part.read_bytes()


# --- without the keys ---------------------------------------------------------------------------


def test_without_the_key_folder_show_says_locked(
    archive: Archive, hk: Hk, lock_keys: Callable[[], None]
) -> None:
    record = sensitive_customer(archive)
    code = code_of(archive, record.id)
    lock_keys()
    shown = json.loads(hk("customer", "show", code, "--json").output)
    assert shown["id_number"] == "[locked]"
    assert shown["health_notes"] == "[locked]"
    assert shown["household"][0]["care_notes"] == "[locked]"
    assert shown["name"] == "张三"
    revealed = json.loads(hk("show", code, "--reveal", "--reason", "核对", "--json").output)
    assert revealed["id_number"] == "[locked]"
    assert "[locked]" in hk("show", code).output


def test_without_the_key_folder_find_list_and_doctor_still_work(
    archive: Archive, hk: Hk, lock_keys: Callable[[], None]
) -> None:
    sensitive_customer(archive)
    lock_keys()
    assert "张三" in hk("customer", "find", "zs").output
    assert "张三" in hk("customer", "list").output
    assert "张三" in hk.process("customer", "find", "0013").stdout
    doctor = hk("doctor")
    assert doctor.exit_code == 0, doctor.output
    assert "master key is not on this machine" in doctor.output


def test_without_the_key_folder_other_fields_can_be_edited_and_sealed_values_kept(
    archive: Archive, hk: Hk, lock_keys: Callable[[], None]
) -> None:
    record = sensitive_customer(archive)
    before = file_text(archive, record)
    lock_keys()
    result = hk(
        "customer",
        "edit",
        code_of(archive, record.id),
        "--phone",
        "13900139000",
        "--tag",
        "重点维护客户",
    )
    assert result.exit_code == 0, result.output
    after = file_text(archive, record)
    sealed = [line for line in before.splitlines() if SEAL_PREFIX in line]
    assert [line for line in after.splitlines() if SEAL_PREFIX in line] == sealed
    assert "+8613900139000" in after and "重点维护客户" in after


def test_without_the_key_folder_a_new_sensitive_value_cannot_be_sealed(
    archive: Archive, hk: Hk, lock_keys: Callable[[], None]
) -> None:
    record = sensitive_customer(archive)
    before = file_text(archive, record)
    lock_keys()
    result = hk(
        "customer",
        "edit",
        code_of(archive, record.id),
        "--health-note",
        "芒果过敏",
        "--consent-sensitive",
        "纸质签字",
    )
    assert result.exit_code == 1
    assert "master key is not on this machine" in result.output
    assert "Traceback" not in result.output
    assert file_text(archive, record) == before


def test_a_record_without_sensitive_values_needs_no_key(
    hk: Hk, lock_keys: Callable[[], None]
) -> None:
    lock_keys()
    result = hk("customer", "add", "--name", "李四", "--phone", "13900139000")
    assert result.exit_code == 0, result.output


def test_the_key_folder_restored_from_a_backup_unlocks_the_values_again(
    archive: Archive,
    hk: Hk,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    lock_keys: Callable[[], None],
) -> None:
    record = sensitive_customer(archive)
    code = code_of(archive, record.id)
    backup = tmp_path / "backup"
    subprocess.run(["cp", "-a", str(archive.keyring.folder), str(backup)], check=True)
    lock_keys()
    assert (
        json.loads(hk("show", code, "--reveal", "--reason", "核对", "--json").output)["id_number"]
        == "[locked]"
    )
    monkeypatch.setenv("HK_KEY_DIR", str(backup))
    assert (
        json.loads(hk("show", code, "--reveal", "--reason", "核对", "--json").output)["id_number"]
        == ID_NUMBER
    )


def test_the_sealed_type_never_serialises_a_plaintext() -> None:
    with pytest.raises(ValueError, match="must be sealed"):
        Sealed._serialize(Sealed(plain=ID_NUMBER))
