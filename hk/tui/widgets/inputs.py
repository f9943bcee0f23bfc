"""The search box and the filter choosers of the list pages, each with its F1 help."""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import Input, Select


class SearchBox(Input):
    """Where the operator types a name, pinyin, initials, phone digits, a tag or a community."""

    help_key: ClassVar[str] = "help.search"


class FilterSelect(Select[str]):
    """One filter of a list (category, tag, tier …); blank means any."""

    help_key: ClassVar[str] = "help.filter"
