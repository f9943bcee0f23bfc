"""The customers page (客户): search as you type, filters by category, tag, tier and stage."""

from __future__ import annotations

from typing import Any, ClassVar

from hk.domain.layout import Kind
from hk.tui.data.lists import Listed
from hk.tui.format import joined
from hk.tui.keys import bind
from hk.tui.screens.lists import ListScreen
from hk.tui.widgets.results import Cells


class CustomersScreen(ListScreen):
    """Every customer, in pinyin order, or those the search and filters find."""

    TITLE_KEY: ClassVar[str] = "screen.customers"
    KIND: ClassVar[Kind] = "customer"
    SEARCH_KEY: ClassVar[str] = "search.customers"
    FILTER_KEYS: ClassVar[dict[str, str]] = {
        "category": "filter.category",
        "tag": "filter.tag",
        "tier": "filter.tier",
        "stage": "filter.stage",
    }
    BINDINGS: ClassVar[list[Any]] = [bind("ctrl+n", "new_record", "new_customer")]

    def choice_label(self, name: str, value: str) -> str:
        return self.texts(f"stage.{value}") if name == "stage" else value

    def columns(self) -> list[str]:
        t = self.texts
        return [
            t("col.code"),
            t("col.name"),
            t("col.phones"),
            t("col.community"),
            t("col.category"),
            t("col.tier"),
            t("col.tags"),
        ]

    def cells(self, row: Listed) -> Cells:
        return [
            row["code"] or "",
            row["name"],
            joined(row.get("phones", []), " "),
            row.get("community", ""),
            row.get("category", ""),
            row.data.get("tier", ""),
            joined(row.get("tags", [])),
        ]
