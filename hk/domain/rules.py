"""Checks of a record against the archive's settings (lists of categories, channels, tiers)."""

from __future__ import annotations

from hk.domain.base import Record
from hk.domain.customer import Customer
from hk.domain.settings import Settings
from hk.errors import Problem


def settings_problems(record: Record, settings: Settings, path: str) -> list[Problem]:
    """Values that must come from a list in ``hk.toml``; a typo there is caught on save."""
    problems: list[Problem] = []
    if isinstance(record, Customer):
        checks = (
            ("category", record.category, settings.customers.categories, "[customers] categories"),
            ("channel", record.channel, settings.customers.channels, "[customers] channels"),
            ("tier", record.tier, settings.tier_names(), "[[tiers]]"),
        )
        for field, value, allowed, where in checks:
            if value and allowed and value not in allowed:
                problems.append(
                    Problem(
                        message=f"'{value}' is not one of: {', '.join(allowed)}",
                        path=path,
                        field=field,
                        hint=f"use one of those, or add it to hk.toml {where}",
                    )
                )
    return problems
