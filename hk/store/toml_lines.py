"""Where a key sits in a TOML file, so a settings error can name its line and column.

``tomllib`` returns plain data with no positions, and hk's settings files are small and written
by hand, so the lines are scanned once more when (and only when) something is wrong: table
headers (``[tui]``, ``[[notify.channels]]``, counted so each array element has its index) and
``key = value`` lines (dotted and quoted keys too). Lines inside multi-line strings are skipped.
"""

from __future__ import annotations

import re

from hk.errors import Problem

KeyPath = tuple[str | int, ...]

_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_KEY = re.compile(rf"^(\s*)({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_HEADER = re.compile(rf"^(\s*)(\[\[?)\s*({_PART}(?:\s*\.\s*{_PART})*)\s*\]\]?\s*(?:#.*)?$")
_PARTS = re.compile(_PART)
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _parts(dotted: str) -> list[str]:
    return [p[1:-1] if p[0] in "\"'" else p for p in _PARTS.findall(dotted)]


def positions(text: str) -> dict[KeyPath, tuple[int, int]]:
    """Every table and key of ``text`` → (line, column), both counted from 1."""
    found: dict[KeyPath, tuple[int, int]] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: KeyPath = ()
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if in_string:
            if line.count(in_string) % 2:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            names = _parts(header[3])
            table = _resolve(names, arrays, array=header[2] == "[[")
            found.setdefault(table, (number, len(header[1]) + 1))
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*table, *_parts(key[2])), (number, len(key[1]) + 1))
            rest = line[key.end() :]
            for quotes in ('"""', "'''"):
                if rest.count(quotes) % 2:
                    in_string = quotes
    return found


def _resolve(names: list[str], arrays: dict[tuple[str, ...], int], array: bool) -> KeyPath:
    """A header's path with the current index of every array of tables it passes through."""
    path: list[str | int] = []
    for n, name in enumerate(names):
        path.append(name)
        prefix = tuple(names[: n + 1])
        last = n == len(names) - 1
        if array and last:
            arrays[prefix] = arrays.get(prefix, 0) + 1
        if prefix in arrays:
            path.append(arrays[prefix] - 1)
    return tuple(path)


def locate(text: str, loc: KeyPath) -> tuple[int, int] | None:
    """The line and column of ``loc``, or of the nearest table or key above it in the path."""
    found = positions(text)
    for end in range(len(loc), 0, -1):
        if loc[:end] in found:
            return found[loc[:end]]
    return None


def decode_problem(message: str, text: str, path: str) -> Problem:
    """A ``tomllib.TOMLDecodeError`` as a located problem with the offending line."""
    at = _AT.search(message)
    line, column = (int(at[1]), int(at[2])) if at else (None, None)
    lines = text.splitlines()
    source = lines[line - 1] if line is not None and 0 < line <= len(lines) else None
    return Problem(
        message=_AT.sub("", message).strip() or "not valid TOML",
        path=path,
        line=line,
        column=column if source is not None else None,
        hint="see https://toml.io for the syntax; a text value needs quotes",
        source_line=source,
    )
