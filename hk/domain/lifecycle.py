"""One lifecycle for every record that has states: orders, quotes, contracts, return visits
and complaints (SPEC §3).

A :class:`Lifecycle` is a table: the states, their Chinese names, and the moves each allows.
It names a state for messages (``待确认 pending``), says which moves a state allows, and refuses
any other with :class:`IllegalStep` (in the record's own error class), naming the moves that
are allowed; so every record is moved, and every refusal worded, the same way. What a move
does to the record (its event, its other fields) stays with the record's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

from hk.errors import HkError

S = TypeVar("S", bound=str)


class IllegalStep(HkError):
    """A move the lifecycle does not allow; the message names the moves that are.

    Each record's lifecycle raises a subclass that is also that record's own error class
    (an illegal quote step is a :class:`hk.domain.quote.QuoteError`), so callers catch what
    they always caught.
    """

    def __init__(self, lifecycle: Lifecycle[Any], current: str, target: str) -> None:
        self.current, self.target = current, target
        self.allowed = [s for s in lifecycle.moves.get(current, ()) if s != current]
        label = lifecycle.label
        if self.allowed:
            options = "allowed: " + ", ".join(label(s) for s in self.allowed)
        else:
            options = f"allowed: none, {label(current)} is final"
        super().__init__(f"cannot go from {label(current)} to {label(target)}; {options}")


class Lifecycle(Generic[S]):
    """The states of one kind of record and the moves between them: the only place they are
    written down."""

    def __init__(
        self,
        noun: str,
        names: Mapping[str, str],
        moves: Mapping[str, tuple[S, ...]],
        refusal: type[HkError],
        illegal: type[IllegalStep],
        *,
        stays: bool = False,
    ) -> None:
        self.noun = noun
        """What the record is called in messages (``order``)."""
        self.names = names
        """Each state's Chinese name (and, for some records, derived states' names too)."""
        self.moves = moves
        """Each state and the states it may move to next, in lifecycle order."""
        self.refusal = refusal
        """The record's own error class: an unknown state is refused with it."""
        self.illegal = illegal
        """The record's illegal-step class (a subclass of both :class:`IllegalStep` and
        ``refusal``)."""
        self.stays = stays
        """Whether a step may keep the state (a contract's signature, a worker replaced)."""

    @property
    def states(self) -> tuple[str, ...]:
        """Every stored state, in lifecycle order."""
        return tuple(self.moves)

    def is_final(self, status: str) -> bool:
        """Whether a record in ``status`` is done with: no move leads on from it."""
        return not self.moves.get(status)

    def label(self, status: str) -> str:
        """``待确认 pending``: how messages and listings name a state."""
        return f"{self.names[status]} {status}" if status in self.names else status

    def known(self, status: str) -> S:
        """``status`` if it is a state of this lifecycle; refused otherwise, listing them."""
        if status in self.moves:
            return cast(S, status)
        raise self.refusal(
            f"'{status}' is not {self._article()} {self.noun} status; statuses: "
            + ", ".join(map(self.label, self.states))
        )

    def allowed(self, status: str) -> list[S]:
        """The states a record in ``status`` may move to next, in lifecycle order."""
        return list(self.moves[self.known(status)])

    def check(self, current: str, target: str) -> S:
        """``target`` if a record in ``current`` may move there; :class:`IllegalStep` if not."""
        state = self.known(target)
        if self.stays and target == current:
            return state
        if state not in self.moves[current]:
            raise self.illegal(self, current, target)
        return state

    def refuse(self, current: str, target: str) -> IllegalStep:
        """The error for a move from ``current`` to ``target`` that a rule beyond the table
        refuses in the table's words (a settle with nothing to settle, a second cancel)."""
        return self.illegal(self, current, target)

    def _article(self) -> str:
        return "an" if self.noun[:1] in "aeiou" else "a"


def lifecycle_of(kind: str) -> Lifecycle[Any] | None:
    """The lifecycle of a kind of record, or None for records without one (people, catalog)."""
    import importlib

    where = {
        "order": ("hk.domain.order.status", "ORDER"),
        "quote": ("hk.domain.quote", "QUOTE"),
        "contract": ("hk.domain.contract", "CONTRACT"),
        "visit": ("hk.domain.visit.model", "VISIT"),
        "complaint": ("hk.domain.complaint", "COMPLAINT"),
    }.get(kind)
    if where is None:
        return None
    found: Lifecycle[Any] = getattr(importlib.import_module(where[0]), where[1])
    return found
