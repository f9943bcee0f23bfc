"""How two versions of one record that changed apart are put back together, field by field.

Two operators who edit one customer offline, or two commands that save her at the same
moment, each changed some fields. Which of their values the merged record keeps is business
knowledge, so it is declared here, once, for every kind and field; the merge engine
(:mod:`hk.store.merge`) only carries it out. A field with no rule below takes the default for
its shape:

- a mapping (an address, the preferences) merges key by key, recursively;
- a list of plain values (tags, phones) is a set: what either side added is kept, what either
  side removed goes (``union``);
- a list of entries with an ``id`` merges entry by entry (``entries`` keyed by ``id``); one
  with an ``at`` is a log (``append``); other lists of entries are sets of whole entries;
- anything else is one value: the side that wrote last wins, the other value goes to the
  attic (``lww``).

The strategies:

``lww``
    Last writer wins, by the commit time of each side's change (ties broken by the
    operator's name, then by the value, so every machine decides alike). The losing value is
    kept in the attic. Used for a list or a mapping too when its parts only make sense
    together (an order's priced lines, its assigned workers, an appointment window).
``fields``
    A mapping merged key by key, each key by its own rule (the default for a mapping).
``union``
    A set: items added on either side are kept (base order first, then the earlier writer's
    additions, then the later's), items removed on either side are gone. But when both sides
    took out one same item and each put in another (one phone number changed two ways), the
    list is one value: the later writer's wins and the other goes to the attic.
``entries``
    A list of entries named by ``key``: an entry added, removed or changed on one side takes
    that side's version; changed on both, the later writer's entry wins and the other goes to
    the attic; removed on one side and changed on the other, the change wins (data is never
    lost) and the removal is noted in the attic.
``append``
    An event log: the union of both sides' events, in time order (``at``), each once.
``max``
    The later of the two (``updated``): bookkeeping, never a conflict.
``first``
    The base's value, or the earlier of the two for a record made on both sides (``created``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from hk.domain.layout import Kind

Strategy = Literal["lww", "fields", "union", "entries", "append", "max", "first"]


@dataclass(frozen=True)
class Rule:
    """How one field merges; ``key`` names an entry of an ``entries`` list."""

    strategy: Strategy
    key: str | None = None


LWW = Rule("lww")
UNION = Rule("union")
APPEND = Rule("append")


def entries(key: str) -> Rule:
    """A list of entries that each side adds, changes or removes one by one."""
    return Rule("entries", key)


ANY = "*"
"""In a rule's path, any key of a mapping (a worker's availability, day by day)."""

COMMON: Mapping[str, Rule] = {"id": LWW, "created": Rule("first"), "updated": Rule("max")}
"""Every record: ``updated`` is the later of the two, ``created`` stays as it was."""

RULES: Mapping[Kind, Mapping[str, Rule]] = {
    "customer": {
        "phones": UNION,
        "tags": UNION,
        "taboos": UNION,
        "preferred_workers": UNION,
        "blocked_workers": UNION,
        "addresses": UNION,
        "household": UNION,
        "consents": UNION,
    },
    "worker": {
        "dialects": UNION,
        "skills": entries("name"),
        "certificates": UNION,
        "references": UNION,
        "leave": UNION,
        f"availability.{ANY}": LWW,
    },
    "service": {
        "required_skills": UNION,
        "checklist": entries("item"),
        "acceptance": entries("tier"),
    },
    "package": {"items": entries("service")},
    "order": {
        "lines": LWW,
        "workers": LWW,
        "window": LWW,
        "payments": APPEND,
        "checklist": entries("item"),
        "events": APPEND,
    },
    "quote": {"lines": LWW, "events": APPEND, "orders": UNION},
    "contract": {
        "lines": LWW,
        "schedule": LWW,
        "terms": UNION,
        "signatures": APPEND,
        "replacements": APPEND,
        "events": APPEND,
    },
    "survey": {"workers": UNION, "services": UNION},
    "visit": {"actions": UNION, "events": APPEND},
    "complaint": {"events": APPEND},
    "points": {},
}
"""Each kind's rules, by dotted field path (``preferences.skills``); see the module text."""


def rule_for(kind: Kind, path: tuple[str, ...]) -> Rule | None:
    """The declared rule of the field at ``path`` in a record of ``kind``, or None (by shape)."""
    dotted = ".".join(path)
    if len(path) == 1 and dotted in COMMON:
        return COMMON[dotted]
    rules = RULES.get(kind, {})
    found = rules.get(dotted)
    if found is None and len(path) > 1:
        found = rules.get(".".join((*path[:-1], ANY)))
    return found
