"""Architecture that is enforced, not hoped for (DESIGN §1 principle 3, §6; STYLE: harlequin).

The core never imports Textual; the domain does no I/O and knows nothing of the store or the
CLI; and a read command imports only what it uses.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hk
from hk.services.people import add_customer, add_worker
from hk.store.archive import Archive
from tests.conftest import HK_BIN, Hk

PACKAGE = Path(hk.__file__).parent

HEAVY_FOR_A_READ = {
    "textual",
    "pypinyin",
    "yaml",
    "ruamel",
    "cryptography",
    "phonenumbers",
    "vroom",
    "scipy",
    "numpy",
    "openpyxl",
    "jinja2",
    "icalendar",
}


def modules_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(folder: Path, forbidden: set[str], skip: Path | None = None) -> list[str]:
    found = []
    for path in modules_in(folder):
        if skip is not None and skip in path.parents:
            continue
        for name in imported_names(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


def test_the_core_never_imports_textual() -> None:
    assert offending(PACKAGE, {"textual"}, skip=PACKAGE / "tui") == []


def test_what_the_tui_reads_is_plain_python() -> None:
    """hk/tui/data computes what the pages show; it stays testable (and movable into
    hk.services) without a terminal."""
    assert (
        offending(
            PACKAGE / "tui" / "data", {"textual", "hk.tui.app", "hk.tui.screens", "hk.tui.widgets"}
        )
        == []
    )


def test_the_core_never_imports_the_tui() -> None:
    for part in ("domain", "store", "services"):
        assert offending(PACKAGE / part, {"hk.tui"}) == []


def test_the_domain_does_no_io_and_knows_nothing_of_store_services_or_cli() -> None:
    forbidden = {
        "hk.store",
        "hk.services",
        "hk.commands",
        "hk.cli",
        "hk.tui",
        "typer",
        "textual",
        "rich",
        "sqlite3",
        "subprocess",
        "socket",
        "urllib",
        "shutil",
        "tempfile",
    }
    assert offending(PACKAGE / "domain", forbidden) == []


def test_the_store_and_services_never_import_the_cli() -> None:
    forbidden = {"hk.commands", "hk.cli", "typer", "click"}
    assert offending(PACKAGE / "store", forbidden) == []
    assert offending(PACKAGE / "services", forbidden) == []


def test_the_scan_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from textual.app import App\n    import textual\n", encoding="utf-8"
    )
    assert imported_names(sample) == {"textual.app", "textual"}


# --- a search stays light -----------------------------------------------------------------------


@pytest.fixture
def people(archive: Archive, hk: Hk) -> Hk:
    """An archive with a customer and a worker, its index built."""
    add_customer(archive, {"name": "张三", "phones": ["13800138000"], "tags": ["高端客户"]})
    add_worker(archive, {"name": "王秀英", "gender": "女", "skills": [{"name": "育儿"}]})
    for kind, query in (("customer", "zs"), ("worker", "wxy")):
        assert hk.process(kind, "find", query).returncode == 0
    return hk


@pytest.mark.parametrize(
    "args",
    [
        ["customer", "find", "zs"],
        ["customer", "find", "13800", "--json"],
        ["worker", "find", "wxy", "--limit", "5"],
        ["order", "list", "--date", "today"],
        ["remind", "--dry-run"],
        ["report", "revenue"],
    ],
)
def test_a_read_command_imports_only_what_it_uses(people: Hk, args: list[str]) -> None:
    """The CLI is light by construction: a read command of the index loads no TUI, no solver,
    no pinyin, no YAML parser, no document or spreadsheet library (DESIGN §1 principle 4)."""
    proc = subprocess.run(
        [HK_BIN, "--archive", str(people.root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert proc.returncode in (0, 1), proc.stderr
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "hk" in imported
    assert imported & HEAVY_FOR_A_READ == set()


def test_a_search_answers_after_a_hand_edit(people: Hk) -> None:
    """A changed file must be parsed again, which may load the models: that is allowed."""
    path = next((people.root / "customers").glob("*.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("张三", "张叁"), encoding="utf-8")
    proc = people.process("customer", "find", "zs")
    assert proc.returncode == 0
    assert "张叁" in proc.stdout


def test_every_kind_has_its_model_and_layout() -> None:
    from hk.domain.kinds import KINDS
    from hk.domain.layout import LAYOUT

    assert set(KINDS) == set(LAYOUT)
    for kind, model in KINDS.items():
        assert model.kind == kind
        assert model.folder == LAYOUT[kind].folder


def test_text_is_measured_and_cut_in_terminal_cells() -> None:
    """Text is measured as Rich measures it, and cutting keeps columns."""
    from rich.cells import cell_len as rich_len

    from hk.textwidth import cell_len, fit

    for text in ("abc", "张三", "高玉涵 13094007011", "ｆｕｌｌ", "e\u0301", "✓短信", ""):
        assert cell_len(text) == rich_len(text), text
    assert fit("张三", 6) == "张三  "
    assert fit("欧阳娜娜的家", 7) == "欧阳娜…"
    assert fit("欧阳娜娜的家", 8) == "欧阳娜… "  # a wide character never half-shown
    assert fit("abcdef", 4) == "abc…"


# --- the layer contracts ------------------------------------------------------------------------


def lint_imports(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package found first on ``root`` (no cache: a fresh graph)."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("lint-imports")),
            "--config",
            str(config),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_the_layers_and_the_no_cycles_contracts_hold() -> None:
    result = lint_imports(PACKAGE.parent, PACKAGE.parent / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("store/index.py", "from hk.services import records", "Layers"),
        ("store/archive.py", "from hk.commands import common", "Layers"),
        ("domain/customer.py", "from hk.store import git", "Layers"),
        ("services/records.py", "from hk.services import visits", "No cycles"),
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    """The contracts are not decoration: an upward import, even one hidden inside a function,
    fails ``make test``."""
    shutil.copytree(PACKAGE, tmp_path / "hk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PACKAGE.parent / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "hk" / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _sneaky() -> None:\n    {line}  # noqa\n",
        encoding="utf-8",
    )
    result = lint_imports(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout
