"""One value set in the operator's own ``hk.local.toml`` (never committed), the rest kept.

People edit ``hk.local.toml`` by hand, so setting a value keeps everything else in it as it is
— comments, order, other tables: the key's line is replaced, or added under its table's
header, or the table is added at the end. The new text is read back before it replaces the
file, and must say exactly what the old one said plus the new value; a file that writes the
key some other way (an inline table, a dotted key) is left alone with an error instead.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from hk.errors import HkError
from hk.store.atomic import write_atomic
from hk.store.discover import LOCAL_SETTINGS_FILE

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")


def set_local(root: Path, table: str, key: str, value: str) -> None:
    """Set ``[table] key = "value"`` in ``root``'s ``hk.local.toml`` (made if missing)."""
    path = root / LOCAL_SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    try:
        before: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HkError(
            f"{LOCAL_SETTINGS_FILE} is not valid TOML: {exc}",
            hint="correct it by hand; nothing was changed",
        ) from None
    after = with_value(text, table, key, value)
    expected = {**before, table: {**before.get(table, {}), key: value}}
    try:
        ok = tomllib.loads(after) == expected
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        raise HkError(
            f"could not set {table}.{key} in {LOCAL_SETTINGS_FILE}",
            hint=f'set it by hand: [{table}] {key} = "{value}"',
        )
    if after != text:
        write_atomic(path, after.encode("utf-8"))


def with_value(text: str, table: str, key: str, value: str) -> str:
    """``text`` with ``key = "value"`` under ``[table]``, found or added; lines kept."""
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
    lines = text.splitlines(keepends=True)
    key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
    header = None
    for n, current in enumerate(lines):
        match = _HEADER.match(current)
        if header is None:
            if match and match.group(1) == table:
                header = n
            continue
        if _ANY_HEADER.match(current):  # the table ended without the key: add it at its top
            break
        if key_line.match(current):
            ending = "\n" if current.endswith("\n") else ""
            return "".join([*lines[:n], line + ending, *lines[n + 1 :]])
    if header is not None:
        return "".join([*lines[: header + 1], line + "\n", *lines[header + 1 :]])
    lead = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
    return f"{text}{lead}[{table}]\n{line}\n"
