"""One lifecycle for every record with states (SPEC §3): the same table shape, the same names,
the same refusal, each in the record's own error class."""

from __future__ import annotations

import pytest

from hk.domain.complaint import COMPLAINT, ComplaintError
from hk.domain.contract import CONTRACT, ContractError
from hk.domain.layout import kind_of
from hk.domain.lifecycle import IllegalStep, Lifecycle
from hk.domain.order.status import ORDER, LifecycleError
from hk.domain.quote import QUOTE, QuoteError
from hk.domain.visit.model import VISIT, VisitError
from hk.errors import HkError

LIFECYCLES: list[tuple[Lifecycle[str], type[HkError]]] = [
    (ORDER, LifecycleError),
    (QUOTE, QuoteError),
    (CONTRACT, ContractError),
    (VISIT, VisitError),
    (COMPLAINT, ComplaintError),
]


@pytest.mark.parametrize(("lifecycle", "error"), LIFECYCLES, ids=lambda x: getattr(x, "noun", ""))
def test_a_final_state_refuses_every_move_in_the_same_words(
    lifecycle: Lifecycle[str], error: type[HkError]
) -> None:
    finals = [s for s, moves in lifecycle.moves.items() if not moves]
    assert finals, f"{lifecycle.noun} has no final state"
    final, other = finals[0], lifecycle.states[0]
    with pytest.raises(IllegalStep) as refused:
        lifecycle.check(final, other)
    assert isinstance(refused.value, error)
    assert str(refused.value) == (
        f"cannot go from {lifecycle.label(final)} to {lifecycle.label(other)}; "
        f"allowed: none, {lifecycle.label(final)} is final"
    )


@pytest.mark.parametrize(("lifecycle", "error"), LIFECYCLES, ids=lambda x: getattr(x, "noun", ""))
def test_every_allowed_move_is_allowed_and_names_are_chinese_then_english(
    lifecycle: Lifecycle[str], error: type[HkError]
) -> None:
    for state, moves in lifecycle.moves.items():
        assert lifecycle.label(state) == f"{lifecycle.names[state]} {state}"
        for target in moves:
            assert lifecycle.check(state, target) == target


@pytest.mark.parametrize(("lifecycle", "error"), LIFECYCLES, ids=lambda x: getattr(x, "noun", ""))
def test_an_unknown_state_is_refused_with_the_states_listed(
    lifecycle: Lifecycle[str], error: type[HkError]
) -> None:
    with pytest.raises(error) as refused:
        lifecycle.known("paused")
    message = str(refused.value)
    assert (
        f"'paused' is not a{'n' if lifecycle.noun[0] in 'aeiou' else ''} {lifecycle.noun}"
        in message
    )
    assert all(lifecycle.label(s) in message for s in lifecycle.states)


def test_a_contract_step_may_keep_its_status_and_an_order_step_may_not() -> None:
    assert CONTRACT.check("active", "active") == "active"
    with pytest.raises(LifecycleError):
        ORDER.check("pending", "pending")


def test_a_kind_is_one_of_the_record_kinds() -> None:
    assert kind_of("customer") == "customer"
    with pytest.raises(ValueError, match="'customers' is not a kind of record; kinds: customer"):
        kind_of("customers")
