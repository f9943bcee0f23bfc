"""``hk edit`` (a record in $EDITOR, like ``git commit``) and the history of a record from git:
``hk log`` (who changed which field from what to what) and ``hk show --at`` (a past state).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Hk, git, ok

ID_NUMBER = "510104199001011230"
HEADER = "# hk: "


def add(hk: Hk, *args: str) -> tuple[str, Path]:
    """A new customer: its code and its file."""
    data = json.loads(
        ok(
            hk("customer", "add", "--name", "张三", "--phone", "13800138000", *args, "--json")
        ).stdout
    )
    return data["code"], hk.root / "customers" / f"{data['id']}.yaml"


class Editor:
    """$EDITOR as a Python script that plays one round per invocation.

    ``rounds`` are Python snippets run with ``path`` and ``text`` (the draft's content) set;
    every draft the editor was shown is kept in :attr:`seen`.
    """

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *rounds: str) -> None:
        self.folder = tmp_path / "editor"
        self.folder.mkdir()
        for n, body in enumerate(rounds, 1):
            (self.folder / f"round{n}.py").write_text(body, encoding="utf-8")
        script = self.folder / "editor.py"
        script.write_text(
            "import sys\nfrom pathlib import Path\n"
            f"folder = Path({str(self.folder)!r})\n"
            "n = len(list(folder.glob('seen*.yaml'))) + 1\n"
            "path = Path(sys.argv[1])\n"
            "text = path.read_text(encoding='utf-8')\n"
            "(folder / f'seen{n}.yaml').write_text(text, encoding='utf-8')\n"
            "round_file = folder / f'round{n}.py'\n"
            "if not round_file.exists():\n"
            "    sys.exit('the editor was opened more often than the test expected')\n"
            "exec(round_file.read_text(encoding='utf-8'))\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")

    @property
    def seen(self) -> list[str]:
        files = sorted(self.folder.glob("seen*.yaml"), key=lambda p: int(p.stem[4:]))
        return [p.read_text(encoding="utf-8") for p in files]


def replace(old: str, new: str) -> str:
    return f"path.write_text(text.replace({old!r}, {new!r}), encoding='utf-8')\n"


LEAVE_AS_IS = "pass\n"
EMPTY = "path.write_text('', encoding='utf-8')\n"


# --- hk edit -------------------------------------------------------------------------------------


def test_a_valid_edit_is_saved_as_one_commit(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    editor = Editor(tmp_path, monkeypatch, replace("'+8613800138000'", "'139 0013 9000'"))
    before = int(git(hk.root, "rev-list", "--count", "HEAD"))
    assert ok(hk("edit", code)).stdout == f"saved {code}: phones\n"
    assert int(git(hk.root, "rev-list", "--count", "HEAD")) == before + 1
    assert "- '+8613900139000'" in path.read_text(encoding="utf-8")
    assert editor.seen[0].startswith("id: ")


def test_the_editor_gets_the_file_as_it_is_on_disk(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk, "--id-number", ID_NUMBER)
    editor = Editor(tmp_path, monkeypatch, LEAVE_AS_IS)
    ok(hk("edit", code))
    assert editor.seen == [path.read_text(encoding="utf-8")]
    assert ID_NUMBER not in editor.seen[0]


def test_an_invalid_edit_reopens_with_the_problems_on_top(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    editor = Editor(
        tmp_path,
        monkeypatch,
        replace("'+8613800138000'", "'12345'").rstrip("\n")
        + "\n"
        + "path.write_text(path.read_text(encoding='utf-8')"
        ".replace('name: 张三', 'nmae: 张三'), encoding='utf-8')\n",
        replace("'12345'", "'139 0013 9000'").rstrip("\n") + "\n"
        "path.write_text(path.read_text(encoding='utf-8')"
        ".replace('nmae:', 'name:'), encoding='utf-8')\n",
    )
    result = ok(hk("edit", code))
    assert result.stdout == f"saved {code}: phones\n"
    second = editor.seen[1].splitlines()
    header = [line for line in second if line.startswith(HEADER)]
    assert second[: len(header)] == header
    assert (
        header[0] == f"{HEADER}this record is not valid yet; fix it and save (empty the file "
        "to abort)"
    )
    assert len(header) == 4
    text = "\n".join(header)
    assert "phones[0]: '12345' is not a valid phone number" in text
    assert "nmae: unknown field (did you mean 'name'?)" in text
    assert "name: this field is required" in text
    phone_problem = next(line for line in header if "phones[0]" in line)
    line_no = int(phone_problem[len(HEADER) :].split(":")[0].removeprefix("line "))
    assert second[line_no - 1] == "- '12345'"
    saved = path.read_text(encoding="utf-8")
    assert HEADER not in saved
    assert "- '+8613900139000'" in saved and "name: 张三" in saved


def test_emptying_the_file_aborts_with_nothing_changed(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    before, head = path.read_bytes(), git(hk.root, "rev-parse", "HEAD")
    Editor(tmp_path, monkeypatch, EMPTY)
    result = ok(hk("edit", code))
    assert "aborted" in result.stdout
    assert path.read_bytes() == before
    assert git(hk.root, "rev-parse", "HEAD") == head


def test_emptying_the_file_after_an_error_also_aborts(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    before = path.read_bytes()
    editor = Editor(tmp_path, monkeypatch, replace("'+8613800138000'", "'12345'"), EMPTY)
    assert "aborted" in ok(hk("edit", code)).stdout
    assert len(editor.seen) == 2
    assert path.read_bytes() == before


def test_an_unchanged_save_changes_nothing(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    before, head = path.read_bytes(), git(hk.root, "rev-parse", "HEAD")
    Editor(tmp_path, monkeypatch, LEAVE_AS_IS)
    assert ok(hk("edit", code)).stdout == "nothing changed\n"
    assert path.read_bytes() == before
    assert git(hk.root, "rev-parse", "HEAD") == head


def test_a_layout_only_change_saves_nothing(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reordering keys means the same record: no commit."""
    code, _ = add(hk)
    head = git(hk.root, "rev-parse", "HEAD")
    Editor(
        tmp_path,
        monkeypatch,
        "lines = text.splitlines(keepends=True)\n"
        "path.write_text(lines[1] + lines[0] + ''.join(lines[2:]), encoding='utf-8')\n",
    )
    assert ok(hk("edit", code)).stdout == "nothing changed\n"
    assert git(hk.root, "rev-parse", "HEAD") == head


def test_comments_added_in_the_editor_are_kept(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    Editor(
        tmp_path,
        monkeypatch,
        "text = text.replace('name: 张三', 'name: 张三  # 老客户，春节前回访')\n"
        + replace("'+8613800138000'", "'139 0013 9000'"),
    )
    ok(hk("edit", code))
    saved = path.read_text(encoding="utf-8")
    assert "name: 张三  # 老客户，春节前回访\n" in saved
    assert "+8613900139000" in saved


def test_the_id_cannot_change_in_the_editor(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    before = path.read_bytes()
    record_id = path.stem
    editor = Editor(tmp_path, monkeypatch, replace(record_id, "01HZZZZZZZZZZZZZZZZZZZZZZZ"), EMPTY)
    assert "aborted" in ok(hk("edit", code)).stdout
    expected = f"{HEADER}line 3:1: id: the id cannot change (put back id: {record_id})"
    assert expected in editor.seen[1]
    assert path.read_bytes() == before


def test_a_sensitive_value_typed_in_the_editor_is_sealed(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    Editor(
        tmp_path,
        monkeypatch,
        "path.write_text(text.replace('phones:', 'health_notes: 海鲜过敏\\nphones:'), "
        "encoding='utf-8')\n",
    )
    assert ok(hk("edit", code)).stdout == f"saved {code}: health_notes\n"
    assert "海鲜" not in path.read_text(encoding="utf-8")
    assert "海鲜" not in git(hk.root, "log", "-p")


def test_an_edit_that_goes_stale_on_the_same_field_keeps_the_users_text_and_says_where(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    monkeypatch.setenv("REAL_FILE", str(path))
    Editor(
        tmp_path,
        monkeypatch,
        "import os\n"
        "real = Path(os.environ['REAL_FILE'])\n"
        "real.write_text(real.read_text(encoding='utf-8').replace('name: 张三', 'name: 张四'), "
        "encoding='utf-8')\n" + replace("name: 张三", "name: 张叁  # 我的修改"),
    )
    result = hk("edit", code)
    assert result.exit_code == 3
    assert "changed by someone else while you edited it" in result.output
    kept = Path(result.output.split("your text is kept in ")[1].split(";")[0])
    try:
        assert kept.read_text(encoding="utf-8").count("name: 张叁  # 我的修改") == 1
        assert "name: 张四" in path.read_text(encoding="utf-8")
        assert "张叁" not in path.read_text(encoding="utf-8")
    finally:
        shutil.rmtree(kept.parent)


def test_an_edit_that_goes_stale_on_other_fields_is_saved_with_both_changes(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    monkeypatch.setenv("REAL_FILE", str(path))
    Editor(
        tmp_path,
        monkeypatch,
        "import os\n"
        "real = Path(os.environ['REAL_FILE'])\n"
        "real.write_text(real.read_text(encoding='utf-8') + 'notes: 同事刚改的\\n', "
        "encoding='utf-8')\n" + replace("name: 张三", "name: 张叁  # 我的修改"),
    )
    assert ok(hk("edit", code)).stdout == f"saved {code}: name\n"
    text = path.read_text(encoding="utf-8")
    assert "name: 张叁  # 我的修改" in text and "notes: 同事刚改的" in text


def test_a_failing_editor_saves_nothing(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = add(hk)
    before = path.read_bytes()
    Editor(tmp_path, monkeypatch, replace("张三", "张叁") + "sys.exit(3)\n")
    result = hk("edit", code)
    assert result.exit_code == 1
    assert "nothing was saved" in result.output
    assert path.read_bytes() == before


def test_a_missing_editor_is_a_clear_error(hk: Hk, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = add(hk)
    monkeypatch.setenv("EDITOR", "no-such-editor-here")
    result = hk("edit", code)
    assert result.exit_code == 1
    assert "the editor 'no-such-editor-here' was not found" in result.output


def test_hk_editor_wins_over_visual_and_editor(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = add(hk)
    editor = Editor(tmp_path, monkeypatch, LEAVE_AS_IS)
    monkeypatch.setenv("HK_EDITOR", os.environ["EDITOR"])
    monkeypatch.setenv("VISUAL", "no-such-visual")
    monkeypatch.setenv("EDITOR", "no-such-editor")
    ok(hk("edit", code))
    assert len(editor.seen) == 1


def test_workers_and_catalog_items_are_edited_the_same_way(
    hk: Hk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = json.loads(
        ok(hk("worker", "add", "--name", "王秀英", "--gender", "女", "--json")).stdout
    )
    Editor(
        tmp_path,
        monkeypatch,
        replace("status: available", "status: placed"),
        replace("price_fen: 13800", "price_fen: 14800"),
    )
    assert ok(hk("edit", worker["code"])).stdout == f"saved {worker['code']}: status\n"
    assert ok(hk("edit", "BJ-DAILY")).stdout == "saved BJ-DAILY: price_fen\n"


# --- hk log --------------------------------------------------------------------------------------


def at_time(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)


@pytest.fixture
def history(hk: Hk, monkeypatch: pytest.MonkeyPatch) -> str:
    """A customer created on 1 March, changed on 2 and 3 March by two operators."""
    at_time(monkeypatch, "2026-03-01T10:00:00+08:00")
    code, _ = add(
        hk, "--id-number", ID_NUMBER, "--health-note", "青霉素过敏", "--community", "万科城"
    )
    at_time(monkeypatch, "2026-03-02T10:00:00+08:00")
    ok(hk("customer", "edit", code, "--phone", "13900139000", "--community", "中海"))
    at_time(monkeypatch, "2026-03-03T10:00:00+08:00")
    monkeypatch.setenv("HK_OPERATOR", "王店长")
    ok(hk("customer", "edit", code, "--health-note", "芒果过敏", "--tag", "高端客户"))
    monkeypatch.setenv("HK_OPERATOR", "测试员")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    return code


def test_log_lists_every_change_newest_first_with_who_and_when(hk: Hk, history: str) -> None:
    entries = json.loads(ok(hk("log", history, "--json")).stdout)
    assert [(e["when"], e["operator"]) for e in entries] == [
        ("2026-03-03T10:00:00+08:00", "王店长"),
        ("2026-03-02T10:00:00+08:00", "测试员"),
        ("2026-03-01T10:00:00+08:00", "测试员"),
    ]
    subject, fields = entries[0]["subject"].split(": update ")
    assert subject == f"customer {history}"
    assert sorted(fields.split(", ")) == ["health_notes", "tags"]
    changes = {c["field"]: (c["old"], c["new"]) for c in entries[1]["changes"]}
    assert changes["phones"] == (["+8613800138000"], ["+8613900139000"])
    assert changes["addresses[0].community"] == ("万科城", "中海")


def test_log_shows_old_and_new_values_in_words(hk: Hk, history: str) -> None:
    lines = ok(hk("log", history)).stdout.splitlines()
    assert "    phones: 138 0013 8000 → 139 0013 9000" in lines
    assert "    addresses[0].community: 万科城 → 中海" in lines
    assert "    tags: — → 高端客户" in lines
    assert lines[0].startswith("2026-03-03T10:00:00+08:00  王店长  customer ")


def test_log_masks_sensitive_values_unless_revealed(hk: Hk, history: str) -> None:
    plain = ok(hk("log", history)).stdout
    assert "    health_notes: ****** → ******" in plain
    assert "青霉素" not in plain and "芒果" not in plain
    revealed = ok(hk("log", history, "--reveal")).stdout
    assert "    health_notes: 青霉素过敏 → 芒果过敏" in revealed


def test_log_names_the_git_author_of_a_hand_commit(hk: Hk, history: str) -> None:
    path = next((hk.root / "customers").glob("*.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("张三", "张叁"), encoding="utf-8")
    git(hk.root, "-c", "user.name=李会计", "commit", "-qam", "fix the name")
    latest = json.loads(ok(hk("log", history, "--json")).stdout)[0]
    assert latest["operator"] == "李会计"
    assert latest["changes"] == [{"field": "name", "old": "张三", "new": "张叁"}]


def test_show_at_a_past_time_shows_the_record_as_it_was(hk: Hk, history: str) -> None:
    def at(when: str) -> dict[str, Any]:
        return json.loads(ok(hk("show", history, "--at", when, "--json")).stdout)

    assert at("2026-03-01 12:00")["phones"] == ["+8613800138000"]
    assert at("2026-03-01")["addresses"][0]["community"] == "万科城"
    assert at("2026-03-02T12:00:00+08:00")["phones"] == ["+8613900139000"]
    assert at("2026-03-02 12:00")["health_notes"] == "******"
    assert "tags" not in at("2026-03-02 12:00")
    assert at("2026-03-04")["tags"] == ["高端客户"]


def test_show_at_a_time_before_the_record_existed_is_an_error(hk: Hk, history: str) -> None:
    result = hk("show", history, "--at", "2026-02-28")
    assert result.exit_code == 1
    assert "did not exist yet" in result.output


def test_show_at_a_time_that_is_not_a_date_is_a_usage_error(hk: Hk, history: str) -> None:
    result = hk("show", history, "--at", "上周")
    assert result.exit_code == 2
    assert "is not a date or time" in result.output
