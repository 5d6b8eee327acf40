"""Deactivating a logged-in agent, as the session sees it (SPEC §2): out at once without work; with
tasks active, LOGOUT becomes a next state set by the system - no offers meanwhile, applied when the
last task ends, and not the agent's (nor a supervisor's) to withdraw or replace."""

from __future__ import annotations

import pytest

from domain.agents.events import AgentLoggedOut, AgentNextStateChanged
from domain.agents.rules import broken_invariants
from domain.agents.session import AgentSession
from domain.agents.states import NextStateKind, StateChangeReason
from domain.channels import Channel
from domain.errors import InvalidState
from domain.identity import Actor
from tests.domain.test_agent_states import (
    BY_AGENT,
    BY_SUPERVISOR,
    LATER,
    NOW,
    ROUTING,
    logged_in,
    only_event,
    working,
)

SYSTEM = Actor.system("agent-deactivation")


def test_an_agent_without_work_is_logged_out_by_the_system() -> None:
    change = logged_in().deactivated(now=LATER, by=SYSTEM)

    event = only_event(change)
    assert isinstance(event, AgentLoggedOut)
    assert (event.reason, event.actor, event.from_state) == (
        StateChangeReason.AGENT_DEACTIVATED,
        SYSTEM,
        "AVAILABLE",
    )
    session = change.session
    assert (session.logged_in, session.state_reason, session.state_changed_by) == (
        False,
        StateChangeReason.AGENT_DEACTIVATED,
        SYSTEM,
    )
    assert broken_invariants(session) == []


def test_an_agent_with_an_active_task_gets_no_offers_and_is_out_when_it_ends() -> None:
    change = working(logged_in(), tasks=1).deactivated(now=LATER, by=SYSTEM)

    event = only_event(change)
    assert isinstance(event, AgentNextStateChanged)
    assert (event.next_state, event.reason, event.actor) == (
        NextStateKind.LOGOUT,
        StateChangeReason.AGENT_DEACTIVATED,
        SYSTEM,
    )
    session = change.session
    assert (session.logged_in, session.accepts_offers, session.open_channels) == (True, False, ())
    assert broken_invariants(session) == []

    done = session.adjust_load(Channel.CHAT, tasks=-1, now=LATER, by=ROUTING)

    out = only_event(done)
    assert isinstance(out, AgentLoggedOut)
    assert (done.session.logged_in, out.reason) == (False, StateChangeReason.NEXT_STATE_APPLIED)


@pytest.mark.parametrize("who", [BY_AGENT, BY_SUPERVISOR])
def test_the_systems_next_state_is_neither_withdrawn_nor_replaced(who: dict[str, object]) -> None:
    session = working(logged_in(), tasks=1).deactivated(now=LATER, by=SYSTEM).session

    with pytest.raises(InvalidState, match="system") as cancelled:
        session.cancel_next_state(now=LATER, **who)  # type: ignore[arg-type]
    with pytest.raises(InvalidState, match="system"):
        session.set_next_state(NextStateKind.IDLE, "lunch", now=LATER, **who)  # type: ignore[arg-type]

    assert cancelled.value.current_state == "AVAILABLE"


def test_only_a_logged_in_agent_is_signed_out() -> None:
    with pytest.raises(InvalidState) as refused:
        AgentSession.new("org-1", "a1", NOW).deactivated(now=LATER, by=SYSTEM)
    assert refused.value.current_state == "LOGGED_OUT"
