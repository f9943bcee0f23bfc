"""PyYAML's libyaml loader and dumper as hk reads and writes YAML: duplicate keys refused,
dates left as text, multi-line text in block style.

A module of its own so that importing :mod:`hk.store.codec` costs no YAML parser: commands
that read only the index or JSON files never load PyYAML (DESIGN §1 principle 4).
"""

from __future__ import annotations

from typing import Any

import yaml

TIMESTAMP = "tag:yaml.org,2002:timestamp"


def without_timestamps(resolvers: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
    return {k: [(t, rx) for t, rx in v if t != TIMESTAMP] for k, v in resolvers.items()}


class Loader(yaml.CSafeLoader):
    """libyaml parser; refuses duplicate keys and leaves dates as strings."""


class Dumper(yaml.CSafeDumper):
    """libyaml emitter with the same resolvers as :class:`Loader`, so dates need no quotes."""


Loader.yaml_implicit_resolvers = without_timestamps(yaml.CSafeLoader.yaml_implicit_resolvers)
Dumper.yaml_implicit_resolvers = without_timestamps(yaml.CSafeDumper.yaml_implicit_resolvers)


def construct_mapping(loader: Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key '{key}' appears twice", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)


def represent_str(dumper: Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, represent_str)
