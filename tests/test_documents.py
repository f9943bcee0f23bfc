"""The document engine: filters, the sandbox, strict variables, archive overrides, HTML."""

from __future__ import annotations

import datetime as dt

import pytest

from hk.services import documents
from hk.services.documents import TemplateProblem, digest, md_escape, money, rmb_upper, zh_date
from hk.store.archive import Archive


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "人民币零元整"),
        (5, "人民币伍分"),
        (100, "人民币壹元整"),
        (1000, "人民币壹拾元整"),
        (1005, "人民币壹拾元零伍分"),
        (10050, "人民币壹佰元零伍角整"),
        (123456, "人民币壹仟贰佰叁拾肆元伍角陆分"),
        (600000, "人民币陆仟元整"),
        (1000500, "人民币壹万零伍元整"),
        (10100000, "人民币壹拾万壹仟元整"),
        (10001000000, "人民币壹亿零壹万元整"),
        (880000, "人民币捌仟捌佰元整"),
    ],
)
def test_capital_amounts(fen: int, words: str) -> None:
    assert rmb_upper(fen) == words


def test_money_dates_and_escaping() -> None:
    assert money(123456) == "¥1,234.56"
    assert money(-5) == "-¥0.05"
    assert money(None) == ""
    assert zh_date(dt.date(2026, 2, 3)) == "2026年2月3日"
    assert zh_date("2026-11-22T09:00:00+08:00") == "2026年11月22日 09:00"
    assert md_escape("A|B *x*\nC") == "A\\|B \\*x\\* C"


def _write(archive: Archive, name: str, text: str) -> None:
    folder = archive.root / documents.ARCHIVE_TEMPLATES
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_archive_template_overrides_and_renders_html(archive: Archive) -> None:
    _write(
        archive,
        "note.md.j2",
        "# {{ company.name }}\n\n| 金额 | 大写 |\n|---|---|\n"
        "| {{ 88000 | money }} | {{ 88000 | rmb_upper }} |\n"
        "{{ who | md }}\n",
    )
    text = documents.render(archive, "note", {"who": "<script>x</script>"})
    assert text.startswith(f"# {archive.settings.company.name}\n")
    assert "¥880.00" in text and "人民币捌佰捌拾元整" in text
    page = documents.render(
        archive, "note", {"who": "<script>x</script>"}, fmt="html", title="说明"
    )
    assert "<title>说明</title>" in page and "size: A4" in page and "<table>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert digest(text) == digest(documents.render(archive, "note", {"who": "<script>x</script>"}))


def test_undefined_values_and_unsafe_templates_fail_loudly(archive: Archive) -> None:
    _write(archive, "typo.md.j2", "甲方：{{ customer.nmae }}\n")
    with pytest.raises(TemplateProblem, match="nmae"):
        documents.render(archive, "typo", {"customer": {"name": "张三"}})
    _write(archive, "escape.md.j2", "{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(TemplateProblem):
        documents.render(archive, "escape", {})
    with pytest.raises(TemplateProblem, match="no template"):
        documents.render(archive, "nothing", {})
