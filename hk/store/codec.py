"""Canonical file formats: YAML for records people edit by hand, JSON for machine-written ones.

Canonical means one text per value: fields in model order (``id`` first, timestamps last),
empty optional fields left out, UTF-8 Chinese as is, block style for multi-line text, no line
folding, LF endings. Saving an unchanged record therefore changes no byte, and a diff shows
only what changed. Reading uses libyaml through PyYAML (the fastest YAML parser available),
with duplicate keys refused and dates left as text for Pydantic to parse.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from hk.errors import InvalidData, Problem

if TYPE_CHECKING:
    import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


# --- reading --------------------------------------------------------------------------------------


def parse_yaml(text: str, path: str) -> Any:
    """Parse YAML text; a syntax error, or a file beyond what a record may be (see
    :mod:`hk.store.limits`), becomes an :class:`InvalidData` with line and column."""
    import yaml

    from hk.store.libyaml import Loader

    _check_size(text, path)
    if "<<<<<<<" in text or ">>>>>>>" in text:
        _refuse_conflict(text, path)
    try:
        if "*" in text:  # an alias needs a star; without one none can be there
            _refuse_aliases(text, path)
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = str(exc.problem or exc.context or "not valid YAML")
        if isinstance(exc, yaml.constructor.ConstructorError) and "appears twice" in problem:
            hint = "keep one of them: a field may appear only once"
        elif "nest" in problem:
            hint = "a record's fields nest a few levels at most; check the brackets and indentation"
        else:
            hint = "check the indentation and that text with ':' or '#' is quoted"
        raise InvalidData(
            [
                Problem(
                    message=f"not valid YAML: {problem}",
                    path=path,
                    line=line,
                    column=col,
                    source_line=_line(text, line, col),
                    hint=hint,
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidData([Problem(message=f"not valid YAML: {exc}", path=path)]) from None


def _refuse_aliases(text: str, path: str) -> None:
    """Refuse the first YAML alias (``*name``), located, before anything is built.

    An alias repeats the value of an anchor (``&name``); a few hundred KB of aliases of
    aliases stand for gigabytes of data, which every reader of the record would build,
    validate and index. hk never writes one, so a record file has none. The check reads
    libyaml's events (no data is built) and stops at the first alias.
    """
    import yaml

    from hk.store.libyaml import Loader

    anchors: dict[str, int] = {}
    for event in yaml.parse(text, Loader=Loader):
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        if isinstance(event, yaml.AliasEvent):
            where = (
                f" (anchored at line {anchors[event.anchor]})" if event.anchor in anchors else ""
            )
            raise InvalidData(
                [
                    Problem(
                        message=f"the alias *{event.anchor} repeats another value{where}: "
                        "record files do not use YAML aliases",
                        path=path,
                        line=line,
                        column=col,
                        source_line=_line(text, line, col),
                        hint="write the value out in full where it is needed (hk never writes "
                        "aliases)",
                    )
                ]
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None and line is not None:
            anchors.setdefault(anchor, line)


def _check_size(text: str, path: str) -> None:
    """The size limit for text that did not come from a file hk read itself (a past version
    from git, the text of an editor): a file on disk is measured before it is read."""
    from hk.store.limits import MAX_RECORD_BYTES, too_big

    if len(text) > MAX_RECORD_BYTES // 4 and (size := len(text.encode("utf-8"))) > MAX_RECORD_BYTES:
        raise too_big(path, size)


_CONFLICT = r"^(<{7}|>{7})(?: |$)"


def conflict_line(text: str) -> int | None:
    """The line of the first merge conflict marker (``<<<<<<<`` or ``>>>>>>>`` at the start
    of a line) git left in ``text``, if any."""
    import re

    found = re.search(_CONFLICT, text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _refuse_conflict(text: str, path: str) -> None:
    line = conflict_line(text)
    if line is None:
        return
    raise InvalidData(
        [
            Problem(
                message="the file has unresolved merge conflict markers",
                path=path,
                line=line,
                column=1,
                source_line=_line(text, line),
                hint="keep the lines you want and delete the markers (`hk edit` opens the file), "
                "or let `hk sync` merge the two versions field by field",
            )
        ]
    )


def parse_json(text: str, path: str) -> Any:
    import orjson

    _check_size(text, path)
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        _refuse_conflict(text, path)
        line, col = exc.lineno, exc.colno
        deep = "depth" in exc.msg or "recursion" in exc.msg.lower()
        raise InvalidData(
            [
                Problem(
                    message=_too_deep() if deep else f"not valid JSON: {exc.msg}",
                    path=path,
                    line=line,
                    column=col,
                    source_line=_line(text, line, col),
                    hint=_DEPTH_HINT if deep else None,
                )
            ]
        ) from None
    check_json_depth(data, text, path)
    return data


_DEPTH_HINT = "a record's fields nest a few levels at most; check the brackets"


def _too_deep() -> str:
    from hk.store.limits import MAX_DEPTH

    return f"not valid JSON: nested more than {MAX_DEPTH} levels deep"


def check_json_depth(data: Any, text: str | bytes, path: str) -> None:
    """Refuse parsed JSON nested deeper than :data:`~hk.store.limits.MAX_DEPTH`, located.

    orjson stops at 1 024 levels by itself; this keeps JSON records to the same limit as
    YAML ones. A file with fewer brackets than the limit cannot be that deep, so almost
    every record is let through on two counts of its bytes.
    """
    from hk.store.limits import MAX_DEPTH

    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= MAX_DEPTH:
            return
    elif text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            source = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            line, col = _json_depth_position(source, MAX_DEPTH + 1)
            raise InvalidData(
                [
                    Problem(
                        message=_too_deep(),
                        path=path,
                        line=line,
                        column=col,
                        source_line=_line(source, line, col),
                        hint=_DEPTH_HINT,
                    )
                ]
            )
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def _json_depth_position(text: str, depth: int) -> tuple[int | None, int | None]:
    """Line and column of the bracket that opens level ``depth`` (outside strings)."""
    level, line, col, in_string, escaped = 0, 1, 0, False, False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            if level == depth:
                return line, col
        elif ch in "]}":
            level -= 1
    return None, None


def parse(text: str, path: str) -> Any:
    return parse_json(text, path) if path.endswith(".json") else parse_yaml(text, path)


SHOWN_LINE = 160
"""Characters of a file's line shown under an error (a hostile file may be one long line)."""


def _line(text: str, line: int | None, column: int | None = None) -> str | None:
    """Line ``line`` of ``text`` to show under an error, cut to :data:`SHOWN_LINE` characters;
    None if the ``column`` pointed at is past the cut."""
    if line is None or (column is not None and column > SHOWN_LINE):
        return None
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    shown = lines[line - 1]
    return shown if len(shown) <= SHOWN_LINE else shown[:SHOWN_LINE] + " …"


# --- validation errors mapped back to lines -------------------------------------------------------


def _yaml_node_for(text: str, loc: Sequence[int | str]) -> tuple[yaml.Node | None, bool]:
    """The node at ``loc`` (its key node for mapping entries), or the deepest existing parent.

    The boolean says whether the whole path was found.
    """
    import yaml

    from hk.store.libyaml import Loader

    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return None, False
    found: yaml.Node | None = node
    for step in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            pair = next((kv for kv in node.value if kv[0].value == step), None)
            if pair is None:
                return found, False
            found, node = pair[0], pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return found, False
            node = node.value[step]
            found = node
        else:
            return found, False
    return found, True


def _json_position(text: str, loc: Sequence[int | str]) -> tuple[int | None, int | None]:
    """Line and column of the key at ``loc`` in canonical (indented) JSON, for error messages."""
    if not loc:
        return None, None
    key = next((s for s in reversed(loc) if isinstance(s, str)), None)
    if key is None:
        return None, None
    needle = f'"{key}":'
    for number, line in enumerate(text.splitlines(), 1):
        idx = line.find(needle)
        if idx >= 0:
            return number, idx + 1
    return None, None


_HINTS = {
    "missing": "add the field; `hk doctor` lists every problem at once",
    "string_type": "write it as text",
    "int_parsing": "write a whole number",
    "date_from_datetime_parsing": "write a date like 2026-03-01",
    "date_parsing": "write a date like 2026-03-01",
    "datetime_parsing": "write a time like 2026-03-01T09:00:00+08:00",
    "timezone_aware": "add the offset, e.g. +08:00",
}


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    stack: list[type[BaseModel]] = [model]
    seen: set[type[BaseModel]] = set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for name, info in cls.model_fields.items():
            names.add(name)
            for arg in _types_in(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    stack.append(arg)
    return names


def _types_in(annotation: Any) -> Iterable[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _types_in(arg)


def problems_from_validation(
    exc: ValidationError, text: str | None, path: str, model: type[BaseModel]
) -> list[Problem]:
    """Turn Pydantic's errors into located problems with a plain-words message and a hint."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [s for s in err["loc"] if isinstance(s, str | int)]
        field = ".".join(str(s) if isinstance(s, str) else f"[{s}]" for s in loc).replace(".[", "[")
        kind = err["type"]
        message = str(err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        hint = _HINTS.get(kind)
        if kind == "extra_forbidden":
            message = "unknown field"
            close = difflib.get_close_matches(str(loc[-1]), sorted(_field_names(model)), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it or check the spelling"
        elif kind == "missing":
            message = "this field is required"
        line = col = None
        source = None
        if text is not None:
            if path.endswith(".json"):
                line, col = _json_position(text, loc)
            else:
                node, _ = _yaml_node_for(text, loc)
                if node is not None:
                    line, col = node.start_mark.line + 1, node.start_mark.column + 1
            source = _line(text, line)
        problems.append(
            Problem(
                message=message,
                path=path,
                line=line,
                column=col,
                field=field or None,
                hint=hint,
                source_line=source,
            )
        )
    return problems


# --- writing --------------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def canonical_data(model: BaseModel) -> dict[str, Any]:
    """The record as plain data in canonical shape (model order, empty defaults left out)."""
    dumped = model.model_dump(mode="json")
    plan = _plan(type(model))
    return _canonical(model, dumped) if plan is None else _trim(plan, dumped)


def canonical_plan(cls: type[BaseModel]) -> None:
    """Work out now how records of ``cls`` are written (a long-lived process does this once
    for every kind, before it forks)."""
    _empty_defaults(cls)
    _plan(cls)


_NO_DEFAULT = object()


@cache
def _empty_defaults(cls: type[BaseModel]) -> dict[str, Any]:
    """Per model: the fields whose default is empty (None, "", [], {}), with that default.

    Computed once per class: asking Pydantic for a default each time is slow (it inspects
    the factory's signature on every call).
    """
    out: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        if info.is_required():
            continue
        default = info.get_default(call_default_factory=True)
        if _is_empty(default) or isinstance(default, BaseModel):
            out[name] = default
    return out


def _canonical(model: BaseModel, dumped: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    defaults = _empty_defaults(type(model))
    for name in type(model).model_fields:
        value = getattr(model, name)
        default = defaults.get(name, _NO_DEFAULT)
        if default is not _NO_DEFAULT and value == default:
            continue
        raw = dumped[name]
        if isinstance(value, BaseModel):
            raw = _canonical(value, raw)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            raw = [_canonical(item, r) for item, r in zip(value, raw, strict=True)]
        out[name] = raw
    for stamp in ("created", "updated"):
        if stamp in out:
            out[stamp] = out.pop(stamp)
    return out


_Plan = tuple[tuple[str, Any, Any], ...]
"""Per field of a model: name, its empty default as JSON (or ``_NO_DEFAULT``), and the plan of
the model it holds (alone, optional, or in a list), or None for a plain value."""


@cache
def _plan(cls: type[BaseModel]) -> _Plan | None:
    """How :func:`_trim` walks the dumped data of ``cls``, or None if it cannot.

    Indexing canonicalises every record, and :func:`_canonical` compares Python values field
    by field (model ``==`` included), which shows at 100 000 orders. The same decisions can be
    taken on the dumped JSON values alone (an empty default dumps as itself, a model default
    as its dump), as long as each field's type says where the nested models are. A model with
    a nested model anywhere else (in a dict, in a union of models) keeps the general walk.
    """
    defaults = _empty_defaults(cls)
    steps = []
    for name, info in cls.model_fields.items():
        default = defaults.get(name, _NO_DEFAULT)
        if isinstance(default, BaseModel):
            default = default.model_dump(mode="json")
        nested = _nested_model(info.annotation)
        if nested is False:
            return None
        sub = None if nested is None else _plan(nested)
        if nested is not None and sub is None:
            return None
        steps.append((name, default, sub))
    return tuple(steps)


def _nested_model(annotation: Any) -> type[BaseModel] | bool | None:
    """The model a field holds (alone, optional, in a list): None if none, False if it holds
    models some other way."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if not any(isinstance(t, type) and issubclass(t, BaseModel) for t in _types_in(annotation)):
        return None
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and origin in (Union, types.UnionType):
        return _nested_model(args[0])
    if len(args) == 1 and origin is list and isinstance(args[0], type):
        return args[0] if issubclass(args[0], BaseModel) else False
    return False


def _trim(plan: _Plan, dumped: dict[str, Any]) -> dict[str, Any]:
    """:func:`_canonical` on dumped data only (see :func:`_plan`)."""
    out: dict[str, Any] = {}
    for name, default, sub in plan:
        raw = dumped[name]
        if default is not _NO_DEFAULT and raw == default:
            continue
        if sub is not None:
            if raw.__class__ is dict:
                raw = _trim(sub, raw)
            elif raw.__class__ is list:
                raw = [_trim(sub, item) for item in raw]
        out[name] = raw
    for stamp in ("created", "updated"):
        if stamp in out:
            out[stamp] = out.pop(stamp)
    return out


def dump_yaml(data: Any) -> str:
    import yaml

    from hk.store.libyaml import Dumper

    return yaml.dump(
        data,
        Dumper=Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1 << 30,
        indent=2,
    )


def dump_json(data: Any) -> str:
    import orjson

    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def dump(data: Any, path: str) -> str:
    return dump_json(data) if path.endswith(".json") else dump_yaml(data)


def dump_keeping_comments(old_text: str, data: dict[str, Any]) -> str:
    """Write ``data`` over a hand-edited YAML file, keeping its comments where possible.

    ruamel.yaml's round-trip mode carries comments along; its output is then re-read with the
    canonical parser and used only if it means exactly ``data``. Otherwise (or if the old file
    had no comments) the canonical text is returned. A file in canonical form has no comments
    (the canonical writer never writes one), so a ``#`` inside a value, as in a door code, costs
    no round trip.
    """
    canonical = dump_yaml(data)
    if "#" not in old_text or _is_canonical(old_text):
        return canonical
    from io import StringIO

    import yaml
    from ruamel.yaml import YAML

    from hk.store.libyaml import Loader

    rt = YAML(typ="rt")
    rt.Resolver = _round_trip_resolver()
    rt.allow_unicode = True
    rt.width = 1 << 30
    rt.indent(mapping=2, sequence=2, offset=0)
    try:
        doc = rt.load(old_text)
        if not isinstance(doc, dict):
            return canonical
        _merge(doc, data)
        buf = StringIO()
        rt.dump(doc, buf)
        text = buf.getvalue()
        if yaml.load(text, Loader=Loader) == data:
            return text
    except Exception:  # any ruamel trouble: the canonical text is always a correct answer
        return canonical
    return canonical


def _is_canonical(text: str) -> bool:
    """Whether ``text`` is exactly what hk itself writes for what it means."""
    import yaml

    from hk.store.libyaml import Loader

    try:
        return dump_yaml(yaml.load(text, Loader=Loader)) == text
    except yaml.YAMLError:
        return False


def _round_trip_resolver() -> type:
    """ruamel's resolver without YAML's timestamp rule, like :mod:`hk.store.libyaml`'s.

    Dates and times are text here: without this, ruamel reads ``created:`` as a datetime, and
    every save of a commented file would rewrite unchanged dates in quotes.
    """
    from ruamel.yaml.resolver import VersionedResolver

    class Resolver(VersionedResolver):
        def add_version_implicit_resolver(
            self, version: Any, tag: Any, regexp: Any, first: Any
        ) -> None:
            if tag != _TIMESTAMP:
                super().add_version_implicit_resolver(version, tag, regexp, first)

    return Resolver


def _merge(target: Any, data: dict[str, Any]) -> None:
    """Make the round-trip mapping ``target`` equal ``data``, in data's key order for new keys."""
    for key in [k for k in target if k not in data]:
        del target[key]
    for key, value in data.items():
        if key in target and isinstance(target[key], dict) and isinstance(value, dict):
            _merge(target[key], value)
        elif key not in target or target[key] != value:
            target[key] = value
