"""PyYAML's libyaml loader and dumper as hk reads and writes YAML: duplicate keys refused,
dates left as text, multi-line text in block style, nesting limited.

A module of its own so that importing :mod:`hk.store.codec` costs no YAML parser: commands
that read only the index or JSON files never load PyYAML (DESIGN §1 principle 4).

The loader builds only what a record is made of (mappings, lists and scalars). Nesting deeper
than :data:`~hk.store.limits.MAX_DEPTH` is refused where it starts, so that no file can exhaust
Python's stack; aliases are refused before loading by :mod:`hk.store.codec`, and so are the
collection tags that would nest without being counted (``!!omap``, ``!!pairs``, ``!!set``)
and merge keys (``<<``), which only make sense with aliases.
"""

from __future__ import annotations

from typing import Any

import yaml

from hk.store.limits import MAX_DEPTH

TIMESTAMP = "tag:yaml.org,2002:timestamp"
MERGE = "tag:yaml.org,2002:merge"


def without_timestamps(resolvers: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
    return {k: [(t, rx) for t, rx in v if t != TIMESTAMP] for k, v in resolvers.items()}


class Loader(yaml.CSafeLoader):
    """libyaml parser; refuses duplicate keys and deep nesting, leaves dates as strings."""

    depth = 0
    """Mappings and lists open around the node being built (per loader: one per load)."""


class Dumper(yaml.CSafeDumper):
    """libyaml emitter with the same resolvers as :class:`Loader`, so dates need no quotes."""


Loader.yaml_implicit_resolvers = without_timestamps(yaml.CSafeLoader.yaml_implicit_resolvers)
Dumper.yaml_implicit_resolvers = without_timestamps(yaml.CSafeDumper.yaml_implicit_resolvers)


def _enter(loader: Loader, node: yaml.Node) -> None:
    loader.depth += 1
    if loader.depth > MAX_DEPTH:
        raise yaml.constructor.ConstructorError(
            None, None, f"nested more than {MAX_DEPTH} levels deep", node.start_mark
        )


def construct_mapping(loader: Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(
            None, None, f"expected a mapping, found a {node.id}", node.start_mark
        )
    _enter(loader, node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            raise yaml.constructor.ConstructorError(
                None, None, "merge keys (<<) are not used in record files", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' appears twice", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    loader.depth -= 1
    return mapping


def construct_sequence(loader: Loader, node: yaml.SequenceNode) -> list[Any]:
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(
            None, None, f"expected a list, found a {node.id}", node.start_mark
        )
    _enter(loader, node)
    items = [loader.construct_object(child, deep=True) for child in node.value]
    loader.depth -= 1
    return items


def refuse_tag(loader: Loader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {node.tag} is not used in record files", node.start_mark
    )


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
for _tag in ("omap", "pairs", "set"):
    Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", refuse_tag)


def represent_str(dumper: Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, represent_str)
