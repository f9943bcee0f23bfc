"""Setting one value in the operator's hk.local.toml keeps the rest of the file as written."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hk.errors import HkError
from hk.store.local_settings import set_local, with_value


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", '[tui]\nlanguage = "en"\n'),
        ('operator = "小王"', 'operator = "小王"\n\n[tui]\nlanguage = "en"\n'),
        (
            '# mine\n[tui]\ntheme = "light"  # bright office\n',
            '# mine\n[tui]\nlanguage = "en"\ntheme = "light"  # bright office\n',
        ),
        (
            '[tui]\nlanguage = "zh_CN"   # was\n[tui.keys]\nhelp = "f1"\n',
            '[tui]\nlanguage = "en"\n[tui.keys]\nhelp = "f1"\n',
        ),
        ('[tui.keys]\nhelp = "f1"\n', '[tui.keys]\nhelp = "f1"\n\n[tui]\nlanguage = "en"\n'),
    ],
)
def test_the_value_is_replaced_or_added_and_nothing_else_moves(before: str, after: str) -> None:
    assert with_value(before, "tui", "language", "en") == after
    assert tomllib.loads(after)["tui"]["language"] == "en"


def test_the_file_is_made_and_then_changed_in_place(tmp_path: Path) -> None:
    set_local(tmp_path, "tui", "language", "en")
    set_local(tmp_path, "tui", "theme", "light")
    set_local(tmp_path, "tui", "language", "zh_CN")
    assert (tmp_path / "hk.local.toml").read_text(encoding="utf-8") == (
        '[tui]\ntheme = "light"\nlanguage = "zh_CN"\n'
    )


@pytest.mark.parametrize(
    "text", ['tui = { language = "zh_CN" }\n', 'tui.language = "zh_CN"\n', "[tui\nbroken"]
)
def test_a_file_written_another_way_is_left_alone_with_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hk.local.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HkError) as raised:
        set_local(tmp_path, "tui", "language", "en")
    assert raised.value.hint
    assert path.read_text(encoding="utf-8") == text
