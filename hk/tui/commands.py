"""The command palette (Ctrl+P): every action of the current page, and records by search.

:class:`ActionCommands` lists each binding with an id that is active where the palette was
opened (the app's and the page's), in the TUI's language with its key, so anything a key does
can be found by name. :class:`RecordCommands` searches customers and workers as the lists do
(name, pinyin, initials, phone digits …) and opens the page of the one chosen.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape
from textual.worker import WorkerCancelled

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.dom import DOMNode

    from hk.domain.layout import Kind
    from hk.tui.app import HkApp

RECORD_HITS = 8
"""Records of each kind the palette offers for one query."""


class ActionCommands(Provider):
    """Every action with an id that is active on the page the palette was opened from."""

    def _actions(self) -> list[tuple[str, str, DOMNode, Binding]]:
        app = cast("HkApp", self.app)
        seen: set[str] = set()
        out = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.id or binding.id in seen or binding.id == "palette":
                continue
            seen.add(binding.id)
            display = app.get_key_display(binding) or key
            out.append(
                (
                    binding.description,
                    escape(f"{binding.tooltip} · {display}"),
                    active.node,
                    binding,
                )
            )
        return out

    async def discover(self) -> Hits:
        for title, help_text, node, binding in self._actions():
            yield DiscoveryHit(title, partial(self._run, node, binding.action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, node, binding in self._actions():
            score = max(matcher.match(title), matcher.match(binding.id or ""))
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self._run, node, binding.action),
                    text=title,
                    help=help_text,
                )

    async def _run(self, node: DOMNode, action: str) -> None:
        await self.app.run_action(action, node)


class RecordCommands(Provider):
    """Customers and workers found by the lists' search; choosing one opens their page."""

    async def search(self, query: str) -> Hits:
        from hk.tui.data.lists import Filters, search

        app = cast("HkApp", self.app)
        text = query.strip()
        if len(text) < 1:
            return

        def find(archive: Any) -> list[tuple[Kind, dict[str, Any]]]:
            found: list[tuple[Kind, dict[str, Any]]] = []
            kinds: tuple[Kind, ...] = ("customer", "worker")
            for kind in kinds:
                rows = search(archive, kind, text, Filters(), cap=RECORD_HITS).rows
                found += [(kind, row) for row in rows]
            return found

        results: list[list[tuple[Kind, dict[str, Any]]]] = []
        try:
            await app.work(app, "palette-search", find, results.append).wait()
        except WorkerCancelled:  # the operator typed on: a newer search runs
            return
        label = {
            "customer": app.texts("palette.open_customer"),
            "worker": app.texts("palette.open_worker"),
        }
        for rank, (kind, row) in enumerate(results[0] if results else []):
            phones = " ".join(row.get("phones", []))
            title = f"{label[kind]}  {row['code']} {row['name']}  {phones}".rstrip()
            yield Hit(
                1.0 - rank / 100,
                escape(title),
                partial(app.open_record, kind, row["id"]),
                text=title,
            )
