"""Key bindings: each has an id, its words in both languages, and can be rebound.

A binding is declared once with :func:`bind` (its id is its i18n key, ``bind.<id>``); every
screen and widget that declares bindings calls :func:`localize` when it is made, so that the
footer, the command palette and F1 show them in the TUI's language. ``[tui.keys]`` in
``hk.toml`` (or ``hk.local.toml``) maps ids to other keys through Textual's keymap.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingsMap

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from hk.tui.i18n import Texts

IDS: set[str] = set()
"""Every binding id declared so far (all of them once the screens are imported)."""


def bind(
    key: str, action: str, binding_id: str, *, show: bool = True, priority: bool = False
) -> Binding:
    """A binding named ``binding_id``; its description is filled in by :func:`localize`."""
    IDS.add(binding_id)
    return Binding(key, action, binding_id, show=show, priority=priority, id=binding_id)


def localize(node: DOMNode, texts: Texts) -> None:
    """Give ``node``'s own bindings their words in ``texts``' language.

    Textual copies a class's bindings into each node when it is made; this replaces the copy
    (descriptions and tooltips only: keys, actions and ids stay).
    """
    table = BindingsMap()
    for key, bindings in node._bindings.key_to_bindings.items():
        table.key_to_bindings[key] = [_worded(b, texts) for b in bindings]
    node._bindings = table


def _worded(binding: Binding, texts: Texts) -> Binding:
    if not binding.id or f"bind.{binding.id}" not in texts.table:
        return binding
    return replace(
        binding, description=texts(f"bind.{binding.id}"), tooltip=texts(f"bind.{binding.id}.tip")
    )


def keymap(keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The keymap of ``[tui.keys]``, and the ids in it that no binding has."""
    unknown = sorted(set(keys) - IDS)
    return {k: v for k, v in keys.items() if k in IDS}, unknown
