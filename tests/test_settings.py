"""Settings come from hk.toml, then hk.local.toml, then HK_* variables; `hk config show` says
which gave each value, and a wrong value is reported where it was written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.cells import cell_len

from hk.domain.settings import PROCESS_ENV, Settings, env_overrides
from hk.remind.cron import line
from hk.store.archive import Archive
from hk.store.lock import archive_lock
from tests.conftest import Hk, ok


def local(root: Path, text: str) -> None:
    (root / "hk.local.toml").write_text(text, encoding="utf-8")


def shared(root: Path, text: str) -> None:
    """Add ``text`` to hk.toml (at its end, so it may open tables of its own)."""
    path = root / "hk.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def shown(hk: Hk, *args: str) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = json.loads(
        ok(hk("config", "show", "--json", *args)).stdout
    )
    return result


def test_a_value_from_each_source_shows_its_source(hk: Hk, archive_path: Path) -> None:
    local(archive_path, '[tui]\ntheme = "light"\n')
    settings = shown(hk)
    assert settings["company.name"]["source"] == "hk.toml"
    assert settings["tui.theme"] == {"value": "light", "source": "hk.local.toml"}
    assert settings["operator"] == {"value": "测试员", "source": "env HK_OPERATOR"}
    assert settings["pricing.minimum"] == {"value": {}, "source": "default"}


@pytest.mark.parametrize(
    ("table", "key", "value", "path"),
    [
        ("reminders", "daily_at", '"07:30"', "reminders.daily_at"),
        ("company", "name", '"蓉城家政"', "company.name"),
        ("dispatch", "max_jobs", "3", "dispatch.max_jobs"),
        ("dispatch.match", "skills", "40", "dispatch.match.skills"),
        ("customers", "channels", '["门店"]', "customers.channels"),
    ],
)
def test_hk_local_toml_overrides_hk_toml_for_any_key(
    hk: Hk, archive_path: Path, table: str, key: str, value: str, path: str
) -> None:
    local(archive_path, f"[{table}]\n{key} = {value}\n")
    entry = shown(hk)[path]
    assert entry == {"value": json.loads(value), "source": "hk.local.toml"}


def test_tables_merge_key_by_key_and_arrays_are_replaced(archive_path: Path) -> None:
    path = archive_path / "hk.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[tui.keys]", '[tui.keys]\ncustomers = "f3"'), encoding="utf-8")
    local(archive_path, '[tui.keys]\nhelp = "f2"\n[reminders]\ncontract_end_days = [14]\n')
    loaded = Archive(archive_path).loaded_settings
    assert loaded.settings.tui.keys == {"customers": "f3", "help": "f2"}
    assert loaded.settings.reminders.contract_end_days == [14]
    assert loaded.source_of(("tui", "keys")) == "hk.toml + hk.local.toml"
    assert loaded.source_of(("reminders", "locale")) == "default"


def test_an_hk_variable_overrides_both_files(
    hk: Hk, archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (archive_path / "hk.toml").read_text(encoding="utf-8")
    (archive_path / "hk.toml").write_text("lock_timeout_s = 40\n" + text, encoding="utf-8")
    local(archive_path, 'lock_timeout_s = 50\noperator = "小王"\n')
    monkeypatch.setenv("HK_LOCK_TIMEOUT", "7")
    settings = shown(hk)
    assert settings["lock_timeout_s"] == {"value": 7.0, "source": "env HK_LOCK_TIMEOUT"}
    assert settings["operator"] == {"value": "测试员", "source": "env HK_OPERATOR"}
    monkeypatch.delenv("HK_OPERATOR")
    assert shown(hk)["operator"] == {"value": "小王", "source": "hk.local.toml"}


def test_json_maps_each_key_to_its_value_and_source(hk: Hk) -> None:
    settings = shown(hk)
    assert "archive_id" in settings and "notify.marketing_consent" in settings
    for key, entry in settings.items():
        assert set(entry) == {"value", "source"}, key
        assert entry["source"] in {"default", "hk.toml", "env HK_OPERATOR"}, key


def test_the_text_lines_up_its_columns_in_terminal_cells(hk: Hk, archive_path: Path) -> None:
    local(archive_path, '[dispatch.places]\n"万科城" = [30.6, 104.0]\n')
    lines = ok(hk("config", "show", "dispatch")).stdout.splitlines()
    assert "hk.local.toml  dispatch.places.万科城" in "\n".join(lines)
    starts = set()
    for text in lines:
        value = text.rsplit("  ", 1)[1]
        starts.add(cell_len(text) - cell_len(value))
    assert len(starts) == 1, lines


def test_changed_leaves_out_the_defaults_and_a_prefix_narrows(hk: Hk, archive_path: Path) -> None:
    local(archive_path, '[tui]\ntheme = "light"\n')
    settings = shown(hk, "tui", "--changed")
    assert settings["tui.theme"] == {"value": "light", "source": "hk.local.toml"}
    assert all(key.startswith("tui.") for key in settings)
    assert all(entry["source"] != "default" for entry in settings.values())
    assert "tui.keys" in shown(hk, "tui") and "tui.keys" not in settings


def test_secrets_are_shown_masked_with_where_they_come_from(
    hk: Hk, archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local(
        archive_path,
        '[[notify.channels]]\nname = "mail"\nkind = "email"\nhost = "smtp.example.com"\n'
        'sender = "office@example.com"\nto = ["boss@example.com"]\nuser = "office"\n'
        'password_env = "HK_TEST_SMTP"\n'
        '[[notify.channels]]\nname = "bot"\nkind = "wecom"\n'
        'url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=BOTKEY"\n'
        '[[notify.channels]]\nname = "ding"\nkind = "dingtalk"\nurl_env = "HK_TEST_DING"\n',
    )
    monkeypatch.setenv("HK_TEST_SMTP", "hunter2")
    result = ok(hk("config", "show", "notify"))
    assert "hunter2" not in result.stdout and "BOTKEY" not in result.stdout
    settings = shown(hk, "notify")
    assert "hunter2" not in str(settings) and "BOTKEY" not in str(settings)
    assert settings["notify.channels[0].password"] == {
        "value": "***",
        "source": "env HK_TEST_SMTP",
        "secret": True,
    }
    assert settings["notify.channels[1].url"]["value"] == "***"
    assert settings["notify.channels[2].url"] == {
        "value": None,
        "source": "env HK_TEST_DING (not set)",
        "secret": True,
    }
    assert "notify.channels[1].host" not in settings  # a group bot has no SMTP server


def test_a_typo_in_hk_local_toml_is_reported_with_its_file_and_line(
    hk: Hk, archive_path: Path
) -> None:
    local(archive_path, '# mine\n[tui]\nlangauge = "en"\n')
    result = hk("config", "show")
    assert result.exit_code == 1
    assert "hk.local.toml:3:1: tui.langauge: unknown field" in result.output
    assert 'langauge = "en"' in result.output
    assert "did you mean 'language'?" in result.output


def test_a_wrong_value_in_an_array_of_tables_names_its_line(hk: Hk, archive_path: Path) -> None:
    shared(
        archive_path,
        '[[notify.channels]]\nname = "out"\nkind = "stdout"\n'
        '[[notify.channels]]\nname = "bot"\nkind = "wecom"\nurl = "https://x"\nper_minute = 0\n',
    )
    text = (archive_path / "hk.toml").read_text(encoding="utf-8")
    line_no = text.splitlines().index("per_minute = 0") + 1
    result = hk("config", "show")
    assert result.exit_code == 1
    assert f"hk.toml:{line_no}:1: notify.channels[1].per_minute:" in result.output


def test_every_problem_is_reported_not_just_the_first(hk: Hk, archive_path: Path) -> None:
    local(archive_path, 'archive_id = "other"\n[reminders]\ndaily_at = "25:00"\n')
    result = hk("config", "show")
    assert result.exit_code == 1
    assert "hk.local.toml:1:1: archive_id: belongs to the archive" in result.output
    assert "hk.local.toml:3:1: reminders.daily_at:" in result.output


def test_broken_toml_is_located(hk: Hk, archive_path: Path) -> None:
    local(archive_path, "[tui]\ntheme = light\n")
    result = hk("config", "show")
    assert result.exit_code == 1
    assert "hk.local.toml:2:9:" in result.output
    assert "theme = light" in result.output and "hint:" in result.output


def test_a_wrong_variable_is_named(
    hk: Hk, archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HK_LOCK_TIMEOUT", "soon")
    result = hk("config", "show")
    assert result.exit_code == 1
    assert "environment variable HK_LOCK_TIMEOUT: lock_timeout_s:" in result.output
    assert "unset it" in result.output


def test_the_lock_timeout_setting_is_how_long_a_write_waits(hk: Hk, archive_path: Path) -> None:
    local(archive_path, "lock_timeout_s = 0.1\n")
    with archive_lock(archive_path / ".git" / "hk" / "lock"):
        result = hk("customer", "add", "--name", "张三")
    assert result.exit_code == 3
    assert "waited 0.1 s" in result.output


def test_the_key_folder_setting_is_where_the_keys_are(archive_path: Path, tmp_path: Path) -> None:
    local(archive_path, f'key_dir = "{tmp_path / "keys"}"\n')
    assert Archive(archive_path).keyring.folder == tmp_path / "keys"


def test_cron_passes_on_hk_key_dir_only_when_the_variable_set_it(
    archive_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local(archive_path, f'key_dir = "{tmp_path / "mine"}"\n')
    assert "HK_KEY_DIR" not in line(Archive(archive_path))
    monkeypatch.setenv("HK_KEY_DIR", str(tmp_path / "env"))
    assert f"HK_KEY_DIR={tmp_path / 'env'}" in line(Archive(archive_path))


def test_every_hk_variable_is_declared_once() -> None:
    overrides = env_overrides(Settings)
    assert set(overrides) == {"HK_OPERATOR", "HK_KEY_DIR", "HK_LOCK_TIMEOUT"}
    assert not set(overrides) & set(PROCESS_ENV)


def test_every_setting_says_what_it_is_for() -> None:
    """Each field has a docstring or a description, as ``hk config show`` users need."""
    from pydantic import BaseModel

    from hk.domain.settings import field_docs

    missing, seen, models = [], set(), [Settings]
    while models:
        model = models.pop()
        docs = field_docs(model)
        for name, info in model.model_fields.items():
            if not docs.get(name, "").strip():
                missing.append(f"{model.__name__}.{name}")
            for kind in (info.annotation, *getattr(info.annotation, "__args__", ())):
                if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in seen:
                    seen.add(kind)
                    models.append(kind)
    assert not missing
