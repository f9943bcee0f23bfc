"""Record files: parse and validate one, serialise one, turn one into an index row."""

from __future__ import annotations

import marshal
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from hk.domain.base import Record
from hk.domain.layout import LAYOUT
from hk.errors import InvalidData, Problem
from hk.store import codec
from hk.store.rows import IndexedRecord
from hk.store.search import pack, pinyin_readings, prefix_terms, substring_terms

R = TypeVar("R", bound=Record)
M = TypeVar("M", bound=BaseModel)


def suffix_for(model: type[Record]) -> str:
    """File format by kind: YAML for records people edit, JSON for high-volume ones."""
    return LAYOUT[model.kind].suffix


def relpath_for(model: type[Record], record_id: str) -> str:
    """The record's file, relative to the archive root (month folders for partitioned kinds)."""
    return LAYOUT[model.kind].relpath(record_id)


def validate_data(model: type[M], data: object, text: str | None, path: str) -> M:
    """Validate parsed data; every problem is located in ``text`` (file:line:col)."""
    if not isinstance(data, dict):
        raise InvalidData(
            [
                Problem(
                    message="a record file must hold a mapping of fields (key: value)",
                    path=path,
                    line=1 if text is not None else None,
                )
            ]
        )
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidData(codec.problems_from_validation(exc, text, path, model)) from None
    folder = getattr(model, "folder", None)
    if (
        folder
        and path.startswith(folder + "/")
        and (stem := _stem(path)) != getattr(record, "id", stem)
    ):
        rid = getattr(record, "id", "")
        raise InvalidData(
            [
                Problem(
                    message=f"the id {rid} does not match the file name",
                    path=path,
                    field="id",
                    hint=f"the file of record {rid} is {rid}.yaml",
                )
            ]
        )
    return record


def _stem(path: str) -> str:
    """``PurePosixPath(path).stem`` without building a path object (once per indexed file)."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def decode(data: bytes, path: str) -> str:
    """A record file's text; a file that is not UTF-8 is a located error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidData(
            [
                Problem(
                    message=f"the file is not UTF-8 text (byte {exc.start})",
                    path=path,
                    hint="save it as UTF-8",
                )
            ]
        ) from None


def parse_record(model: type[R], text: str, path: str) -> R:
    return validate_data(model, codec.parse(text, path), text, path)


def serialise(
    record: Record, old_text: str | None = None, data: dict[str, Any] | None = None
) -> str:
    """The canonical text of ``record`` (keeping comments of ``old_text`` where possible)."""
    data = codec.canonical_data(record) if data is None else data
    if suffix_for(type(record)) == ".json":
        return codec.dump_json(data)
    if old_text is not None:
        return codec.dump_keeping_comments(old_text, data)
    return codec.dump_yaml(data)


NOT_SEALED_YET = "[not sealed yet]"
"""Stands for a sensitive value a user wrote into a file in plain text, until it is sealed."""


def stored_data(record: Record) -> dict[str, Any]:
    """The record's canonical data, even while a sensitive value is still in plain text.

    A value written into a file by hand is sealed by the next save. Until then it stands as
    :data:`NOT_SEALED_YET`, so that the record can be indexed, shown and edited, and its
    plaintext never reaches the index. (Writing a file still refuses any unsealed value.)
    """
    from pydantic_core import PydanticSerializationError

    try:
        return codec.canonical_data(record)
    except PydanticSerializationError:
        copy = record.model_copy(deep=True)
        for _, value in copy.sealed_values():
            if value.token is None:
                value.token = NOT_SEALED_YET
        return codec.canonical_data(copy)


def index_row(record: Record, path: str, data: dict[str, Any] | None = None) -> IndexedRecord:
    """The index's row for ``record``; ``data`` is its canonical data if already computed."""
    terms = record.index_terms()
    name = record.title()
    readings = pinyin_readings(name)
    return IndexedRecord(
        id=record.id,
        kind=record.kind,
        path=path,
        name=name,
        sort_key=readings[0][0] if readings else name,
        prefix_terms=prefix_terms(readings, record.own_code()),
        substring_terms=substring_terms(terms["terms"]),
        tags=pack(terms["tags"]),
        communities=pack(terms["communities"]),
        category=(terms["category"] or [""])[0],
        data=orjson.dumps(stored_data(record) if data is None else data),
        summary=marshal.dumps(record.summary()),
        day=record.index_day(),
        refs=pack(record.index_refs()),
        own_code=record.own_code(),
    )


def row_loader(model: type[Record]) -> Callable[[str, bytes], IndexedRecord]:
    """The index's parse function for one kind."""

    is_json = suffix_for(model) == ".json"

    def load(path: str, data: bytes) -> IndexedRecord:
        if is_json:  # orders: parse the bytes as they are; decode only to explain a problem
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                pass  # not UTF-8, or not JSON: told below, located in the text
            else:
                try:
                    codec.check_json_depth(parsed, data, path)
                    return index_row(validate_data(model, parsed, None, path), path)
                except InvalidData:
                    pass  # told below, each problem located in the text
        return index_row(parse_record(model, decode(data, path), path), path)

    return load
