"""The rule every event log in hk keeps: it tells, step by step, how a record got to its status.

Orders, quotes and contracts each keep an append-only log of (time, actor, from → to, note).
Whoever wrote the file, the log must be a chain from the first state through allowed steps,
in time order, ending at the record's status; this module checks that once for all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol


class Event(Protocol):
    """What the check reads of an event."""

    @property
    def at(self) -> dt.datetime: ...
    @property
    def from_status(self) -> str | None: ...
    @property
    def to_status(self) -> str: ...


def log_problem(
    events: Sequence[Event],
    status: str,
    *,
    first: str,
    transitions: Mapping[str, Sequence[str]],
    label: Callable[[str], str],
    noun: str,
    first_rule: str,
    keeps_status: bool = False,
    may_be_empty: bool = False,
) -> str | None:
    """The first way ``events`` fails to lead from ``first`` to ``status``, in words, or None.

    ``first_rule`` is the message for a log that does not open with the record being made
    (only the first event lacks ``from_status``, and it goes to ``first``). With
    ``keeps_status`` an event may leave the status as it was (a signature on a contract).
    ``may_be_empty`` accepts a record with no log at all, whatever its status.
    """
    state, previous = first, None
    for n, event in enumerate(events, 1):
        if event.from_status is None:
            if n > 1 or event.to_status != first:
                return first_rule
        elif event.from_status != state:
            return (
                f"event {n} starts from {label(event.from_status)} but the {noun} was "
                f"{label(state)}"
            )
        elif event.to_status not in transitions[state] and not (
            keeps_status and event.to_status == state
        ):
            return (
                f"event {n} goes from {label(state)} to {label(event.to_status)}, which the "
                "lifecycle does not allow"
            )
        if previous is not None and event.at < previous:
            return f"event {n} is earlier than the event before it; the log only grows"
        state, previous = event.to_status, event.at
    if (events or not may_be_empty) and state != status:
        return f"the status is {label(status)} but the event log ends at {label(state)}"
    return None
