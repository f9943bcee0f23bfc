"""Settings, read in one place: ``hk.toml``, then ``hk.local.toml`` over it, then ``HK_*``.

``hk.toml`` is the office's, committed and shared. ``hk.local.toml`` beside it is one
operator's own (git ignores it) and may override any key of it. An ``HK_*`` variable declared on
a field of :class:`~hk.domain.settings.Settings` overrides both. Tables merge key by key (a
local ``[tui.keys]`` keeps the office's other bindings); any other value, an array included,
replaces the one below it.

Each effective value remembers where it came from, for ``hk config show`` and for errors: a
wrong value is reported in the file that gave it, with line, column and a hint, or under the
variable that gave it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from hk.domain.settings import (
    CHANNEL_FIELDS,
    LOCAL_ONLY_NOT,
    NotifyChannel,
    Settings,
    env_overrides,
    is_secret,
)
from hk.errors import HkError, InvalidData, Problem
from hk.store import toml_lines
from hk.store.codec import problems_from_validation
from hk.store.discover import LOCAL_SETTINGS_FILE, SETTINGS_FILE
from hk.store.toml_lines import KeyPath

DEFAULT = "default"
"""The source of a value no file and no variable sets."""
LAYERS = (SETTINGS_FILE, LOCAL_SETTINGS_FILE)
"""The files, lowest first; the environment comes after them."""
ENV_OVERRIDES = env_overrides()
"""``HK_*`` variable → the setting it overrides, as the model declares them."""
MASK = "***"
_CHANNEL_ALWAYS = frozenset({"name", "kind", "audiences"})


@dataclass(frozen=True)
class Entry:
    """One effective value: its dotted key, the value (masked if secret) and its source."""

    key: str
    value: Any
    source: str
    secret: bool = False


@dataclass(frozen=True)
class LoadedSettings:
    """The validated settings and, for every key a file or variable set, where it came from.

    ``sources`` maps a key path to ``hk.toml``, ``hk.local.toml`` or ``env HK_…``; a key not
    in it (nor under a key in it) has its default.
    """

    settings: Settings
    sources: dict[KeyPath, str] = field(default_factory=dict)

    def source_of(self, path: KeyPath) -> str:
        """Where the value at ``path`` came from; several sources joined by `` + ``."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.sources:
                return self.sources[path[:end]]
        below = {s for p, s in self.sources.items() if p[: len(path)] == path}
        return " + ".join(sorted(below, key=_rank)) or DEFAULT

    def entries(self, environ: Mapping[str, str] | None = None) -> list[Entry]:
        """Every effective value, in the model's order; secrets masked.

        A notification channel's secrets (``password_env``, ``url_file`` …) are listed too,
        as ``***`` where the variable or file exists, so a missing one shows before cron
        needs it. ``environ`` (default: this process's) is only asked whether they are set.
        """
        env = os.environ if environ is None else environ
        found: dict[str, Entry] = {}
        self._walk(self.settings, (), found, env)
        return list(found.values())

    def _walk(
        self, model: BaseModel, prefix: KeyPath, out: dict[str, Entry], env: Mapping[str, str]
    ) -> None:
        names = list(type(model).model_fields)
        if isinstance(model, NotifyChannel):  # only the keys its kind takes
            names = [n for n in names if n in CHANNEL_FIELDS[model.kind] | _CHANNEL_ALWAYS]
        for name in names:
            value = getattr(model, name)
            path = (*prefix, name)
            if isinstance(value, BaseModel):
                self._walk(value, path, out, env)
            elif value and isinstance(value, list) and isinstance(value[0], BaseModel):
                for n, item in enumerate(value):
                    self._walk(item, (*path, n), out, env)
            elif value and isinstance(value, dict):
                for key, item in value.items():
                    self._add((*path, str(key)), item, False, out)
            else:
                self._add(path, value, is_secret(type(model), name), out)
        if isinstance(model, NotifyChannel):
            for stem, where in model.secret_sources():
                kind, _, name = where.partition(" ")
                there = bool(env.get(name)) if kind == "env" else Path(name).expanduser().is_file()
                key = _dotted((*prefix, stem))
                out[key] = Entry(
                    key, MASK if there else None, where + ("" if there else " (not set)"), True
                )

    def _add(self, path: KeyPath, value: Any, secret: bool, out: dict[str, Entry]) -> None:
        shown = MASK if secret and value else to_jsonable_python(value)
        out[_dotted(path)] = Entry(_dotted(path), shown, self.source_of(path), secret)


def load_settings(root: Path, environ: Mapping[str, str] | None = None) -> LoadedSettings:
    """The settings of the archive at ``root``: files, then variables, validated once.

    Raises :class:`InvalidData` with every problem found, each in the file (line, column)
    or the variable it came from.
    """
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    sources: dict[KeyPath, str] = {}
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for name in LAYERS:
        try:
            text = (root / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            if name == SETTINGS_FILE:
                raise HkError(f"no {SETTINGS_FILE} in {root}") from None
            continue
        texts[name] = text
        try:
            layer = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidData([toml_lines.decode_problem(str(exc), text, name)]) from None
        if name == LOCAL_SETTINGS_FILE:
            problems += _shared_only(layer, text)
        _overlay(data, layer, (), name, sources)
    for var, path in ENV_OVERRIDES.items():
        value = env.get(var)
        if value:
            _put(data, path, value)
            _forget_below(sources, path)
            sources[path] = f"env {var}"
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems += _located(exc, sources, texts)
    if problems:
        raise InvalidData(problems)
    return LoadedSettings(settings, sources)


def _overlay(
    into: dict[str, Any],
    layer: dict[str, Any],
    prefix: KeyPath,
    source: str,
    sources: dict[KeyPath, str],
) -> None:
    """Merge ``layer`` into ``into``: tables key by key, anything else replaced whole."""
    for key, value in layer.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            if not isinstance(into.get(key), dict):
                into[key] = {}
                _forget_below(sources, path)
            _overlay(into[key], value, path, source, sources)
        else:
            into[key] = value
            _forget_below(sources, path)
            sources[path] = source


def _put(data: dict[str, Any], path: KeyPath, value: str) -> None:
    for key in path[:-1]:
        data = data.setdefault(str(key), {})
    data[str(path[-1])] = value


def _forget_below(sources: dict[KeyPath, str], path: KeyPath) -> None:
    for known in [p for p in sources if p[: len(path)] == path]:
        del sources[known]


def _shared_only(layer: dict[str, Any], text: str) -> list[Problem]:
    """Keys of the shared archive that ``hk.local.toml`` may not change (taken out of it)."""
    problems = []
    for key in sorted(LOCAL_ONLY_NOT & layer.keys()):
        del layer[key]
        at = toml_lines.locate(text, (key,))
        problems.append(
            Problem(
                message="belongs to the archive itself and is set only in hk.toml",
                path=LOCAL_SETTINGS_FILE,
                line=at[0] if at else None,
                column=at[1] if at else None,
                field=key,
                hint=f"remove it from {LOCAL_SETTINGS_FILE}",
                source_line=_line(text, at[0]) if at else None,
            )
        )
    return problems


def _located(
    exc: ValidationError, sources: dict[KeyPath, str], texts: dict[str, str]
) -> list[Problem]:
    """Pydantic's errors, each placed in the file or variable its value came from."""
    problems = problems_from_validation(exc, None, SETTINGS_FILE, Settings)
    for problem, error in zip(problems, exc.errors(include_url=False), strict=True):
        loc: KeyPath = tuple(s for s in error["loc"] if isinstance(s, str | int))
        origin = _origin(loc, sources)
        if origin.startswith("env "):
            var = origin.removeprefix("env ")
            problem.path = f"environment variable {var}"
            problem.hint = f"correct {var}, or unset it to use the files' value"
            continue
        problem.path = origin
        at = toml_lines.locate(texts[origin], loc)
        if at:
            problem.line, problem.column = at
            problem.source_line = _line(texts[origin], at[0])
    return problems


def _origin(loc: KeyPath, sources: dict[KeyPath, str]) -> str:
    """The source of the value at ``loc``; for a table, the last layer that set a key in it."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in sources:
            return sources[loc[:end]]
    below = [s for p, s in sources.items() if p[: len(loc)] == loc]
    return max(below, key=_rank, default=SETTINGS_FILE)


def _rank(source: str) -> int:
    return LAYERS.index(source) if source in LAYERS else len(LAYERS)


def _dotted(path: KeyPath) -> str:
    """``("notify", "channels", 0, "url")`` → ``notify.channels[0].url``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _line(text: str, number: int) -> str | None:
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else None
