"""Agent sessions as a pure state machine (SPEC §2): log in and out, states, next states, load."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.agents.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNextStateChanged,
    AgentStateChanged,
)
from domain.agents.rules import broken_invariants
from domain.agents.session import AgentSession, Transition
from domain.agents.states import AgentState, NextStateKind, StateChangeReason
from domain.channels import Channel
from domain.configuration.agents import Agent
from domain.configuration.profiles import ChannelCapacity, MultimediaProfile, VoiceMode
from domain.errors import DomainError, Forbidden, InvalidState, ValidationFailed
from domain.identity import Actor, ActorKind
from domain.streams import agent_stream

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
AGENT = Actor(ActorKind.AGENT, "a1")
PROFILE = MultimediaProfile(
    id="p1",
    org_id="org-1",
    name="Blended",
    created_at=NOW,
    updated_at=NOW,
    channels=(ChannelCapacity(Channel.VOICE, 1), ChannelCapacity(Channel.CHAT, 3)),
    voice_mode=VoiceMode.BLENDED,
)
SUPERVISOR = Actor(ActorKind.SUPERVISOR, "s1")
ROUTING = Actor.system("routing")
BY_AGENT: dict[str, Any] = {"by": AGENT, "reason": StateChangeReason.AGENT_REQUEST}
BY_SUPERVISOR: dict[str, Any] = {"by": SUPERVISOR, "reason": StateChangeReason.SUPERVISOR_REQUEST}


def agent(**fields: Any) -> Agent:
    values: dict[str, Any] = {
        "name": "Ada",
        "email": "ada@example.com",
        "team_ids": ("t1", "t2"),
        "profile_id": "p1",
        "extension": "1001",
    }
    return Agent(id="a1", org_id="org-1", created_at=NOW, updated_at=NOW, **(values | fields))


def logged_in(idle_code_id: str | None = None, **fields: Any) -> AgentSession:
    session = AgentSession.new("org-1", "a1", NOW)
    login = dict(team_id="t1", dial_number=None, idle_code_id=idle_code_id, now=NOW, by=AGENT)
    return session.log_in(agent(**fields), PROFILE, **(login)).session


def working(session: AgentSession, tasks: int = 1, offers: int = 0) -> AgentSession:
    if tasks:
        session = session.adjust_load(
            channel=Channel.CHAT, tasks=tasks, now=NOW, by=ROUTING
        ).session
    if offers:
        session = session.adjust_load(Channel.CHAT, offers=offers, now=NOW, by=ROUTING).session
    return session


def only_event(change: Transition) -> Any:
    assert len(change.events) == 1, change.events
    return change.events[0]


# --- log in and out ------------------------------------------------------------------------


def test_log_in_starts_available_in_the_chosen_team_with_the_configured_extension() -> None:
    change = AgentSession.new("org-1", "a1", NOW).log_in(
        agent(), PROFILE, team_id="t2", dial_number=None, idle_code_id=None, now=LATER, by=AGENT
    )

    session = change.session
    assert (session.logged_in, session.team_id, session.dial_number) == (True, "t2", "1001")
    assert (session.state, session.state_since, session.state_reason) == (
        AgentState.AVAILABLE,
        LATER,
        StateChangeReason.LOGIN,
    )
    assert (session.version, session.logged_in_at, session.agent_name) == (1, LATER, "Ada")
    event = only_event(change)
    assert isinstance(event, AgentLoggedIn)
    assert (event.team_id, event.state, event.version, event.actor) == (
        "t2",
        AgentState.AVAILABLE,
        1,
        AGENT,
    )
    assert event.streams() == (agent_stream("org-1", "a1"),)


def test_log_in_with_an_idle_code_starts_idle_and_a_given_dial_number_wins() -> None:
    change = AgentSession.new("org-1", "a1", NOW).log_in(
        agent(),
        PROFILE,
        team_id="t1",
        dial_number=" +4420794 ",
        idle_code_id="lunch",
        now=NOW,
        by=AGENT,
    )
    assert (change.session.state, change.session.idle_code_id) == (AgentState.IDLE, "lunch")
    assert change.session.dial_number == "+4420794"


@pytest.mark.parametrize(
    ("fields", "error", "field", "rule"),
    [
        ({"team_id": "t9"}, ValidationFailed, "teamId", "agent_team"),
        ({"dial_number": "12-34"}, ValidationFailed, "dialNumber", "dial_number"),
        ({"dial_number": "1" * 16}, ValidationFailed, "dialNumber", "dial_number"),
    ],
)
def test_log_in_input_rules(fields: dict[str, Any], error: type, field: str, rule: str) -> None:
    login: dict[str, Any] = {"team_id": "t1", "dial_number": None, "idle_code_id": None}
    with pytest.raises(error) as refused:
        AgentSession.new("org-1", "a1", NOW).log_in(
            agent(), PROFILE, **(login | fields), now=NOW, by=AGENT
        )
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_a_deactivated_agent_cannot_log_in() -> None:
    with pytest.raises(Forbidden):
        AgentSession.new("org-1", "a1", NOW).log_in(
            agent(active=False),
            PROFILE,
            team_id="t1",
            dial_number=None,
            idle_code_id=None,
            now=NOW,
            by=AGENT,
        )


def test_logging_in_twice_names_the_current_state() -> None:
    session = logged_in("lunch")
    with pytest.raises(InvalidState) as refused:
        session.log_in(
            agent(), PROFILE, team_id="t1", dial_number=None, idle_code_id=None, now=NOW, by=AGENT
        )
    assert refused.value.current_state == "IDLE"


def test_log_out_clears_the_session_and_says_where_the_agent_was() -> None:
    session = logged_in("lunch")
    change = session.log_out(now=LATER, **BY_SUPERVISOR)

    out = change.session
    assert (out.logged_in, out.state, out.team_id, out.idle_code_id, out.dial_number) == (
        False,
        None,
        None,
        None,
        None,
    )
    assert (out.state_since, out.state_reason, out.state_changed_by) == (
        LATER,
        StateChangeReason.SUPERVISOR_REQUEST,
        SUPERVISOR,
    )
    event = only_event(change)
    assert isinstance(event, AgentLoggedOut)
    assert (event.from_state, event.from_idle_code_id, event.team_id, event.version) == (
        AgentState.IDLE,
        "lunch",
        "t1",
        2,
    )
    with pytest.raises(InvalidState) as again:
        out.log_out(now=LATER, **BY_AGENT)
    assert again.value.current_state == "LOGGED_OUT"


@pytest.mark.parametrize(("tasks", "offers", "words"), [(2, 0, "2 task(s)"), (0, 1, "offer")])
def test_log_out_is_refused_while_work_is_in_progress(tasks: int, offers: int, words: str) -> None:
    session = working(logged_in(), tasks=tasks, offers=offers)
    with pytest.raises(InvalidState) as refused:
        session.log_out(now=LATER, **BY_AGENT)
    assert refused.value.current_state == "AVAILABLE"
    assert words in refused.value.message


# --- states --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "state", "code"),
    [
        ("AVAILABLE", AgentState.IDLE, "lunch"),
        ("IDLE", AgentState.IDLE, "meeting"),
        ("IDLE", AgentState.AVAILABLE, None),
        ("RONA", AgentState.AVAILABLE, None),
        ("RONA", AgentState.IDLE, "lunch"),
    ],
)
def test_valid_state_changes(start: str, state: AgentState, code: str | None) -> None:
    session = {
        "AVAILABLE": logged_in(),
        "IDLE": logged_in("lunch"),
        "RONA": logged_in().went_rona(now=NOW, by=ROUTING).session,
    }[start]

    change = session.set_state(state, code, now=LATER, **BY_SUPERVISOR)

    assert (change.session.state, change.session.idle_code_id) == (state, code)
    assert (change.session.state_since, change.session.version) == (LATER, session.version + 1)
    event = only_event(change)
    assert isinstance(event, AgentStateChanged)
    assert (event.from_state.value, event.to_state, event.idle_code_id) == (start, state, code)
    assert (event.from_idle_code_id, event.reason, event.actor) == (
        session.idle_code_id,
        StateChangeReason.SUPERVISOR_REQUEST,
        SUPERVISOR,
    )


@pytest.mark.parametrize(
    ("session", "state", "code", "current"),
    [
        (AgentSession.new("org-1", "a1", NOW), AgentState.AVAILABLE, None, "LOGGED_OUT"),
        (logged_in(), AgentState.AVAILABLE, None, "AVAILABLE"),
        (logged_in("lunch"), AgentState.IDLE, "lunch", "IDLE"),
    ],
)
def test_invalid_state_changes_name_the_current_state(
    session: AgentSession, state: AgentState, code: str | None, current: str
) -> None:
    with pytest.raises(InvalidState) as refused:
        session.set_state(state, code, now=LATER, **BY_AGENT)
    assert refused.value.current_state == current


@pytest.mark.parametrize(
    ("state", "code", "field", "rule"),
    [
        (AgentState.IDLE, None, "idleCodeId", "required"),
        (AgentState.IDLE, "", "idleCodeId", "required"),
        (AgentState.AVAILABLE, "lunch", "idleCodeId", "only_when_idle"),
        (AgentState.RONA, None, "state", "requestable"),
    ],
)
def test_state_requests_that_can_never_work(
    state: AgentState, code: str | None, field: str, rule: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        logged_in().set_state(state, code, now=LATER, **BY_AGENT)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_rona_is_the_systems_and_happens_once() -> None:
    change = logged_in("lunch").went_rona(now=LATER, by=ROUTING)
    event = only_event(change)
    assert (event.to_state, event.reason, event.actor) == (
        AgentState.RONA,
        StateChangeReason.RONA,
        ROUTING,
    )
    assert change.session.idle_code_id is None
    assert not change.session.accepts_offers
    with pytest.raises(InvalidState) as again:
        change.session.went_rona(now=LATER, by=ROUTING)
    assert again.value.current_state == "RONA"


# --- next state ----------------------------------------------------------------------------


def test_without_work_a_next_state_applies_at_once() -> None:
    idle = logged_in().set_next_state(NextStateKind.IDLE, "lunch", now=LATER, **BY_AGENT)
    event = only_event(idle)
    assert isinstance(event, AgentStateChanged)
    assert (event.to_state, event.reason, event.actor) == (
        AgentState.IDLE,
        StateChangeReason.NEXT_STATE_APPLIED,
        AGENT,
    )
    assert idle.session.next_state is None

    out = idle.session.set_next_state(NextStateKind.LOGOUT, None, now=LATER, **BY_AGENT)
    event = only_event(out)
    assert isinstance(event, AgentLoggedOut)
    assert (event.reason, out.session.logged_in) == (StateChangeReason.NEXT_STATE_APPLIED, False)


def test_with_work_a_next_state_waits_for_the_last_task_and_stops_offers() -> None:
    session = working(logged_in(), tasks=2)
    pending = session.set_next_state(NextStateKind.IDLE, "lunch", now=LATER, **BY_AGENT)

    event = only_event(pending)
    assert isinstance(event, AgentNextStateChanged)
    assert (event.next_state, event.idle_code_id) == (NextStateKind.IDLE, "lunch")
    assert pending.session.state is AgentState.AVAILABLE
    assert not pending.session.accepts_offers

    one_left = pending.session.adjust_load(channel=Channel.CHAT, tasks=-1, now=LATER, by=AGENT)
    assert (one_left.events, one_left.session.next_state is not None) == ((), True)
    done = one_left.session.adjust_load(channel=Channel.CHAT, tasks=-1, now=LATER, by=AGENT)
    applied = only_event(done)
    assert (applied.to_state, applied.reason) == (
        AgentState.IDLE,
        StateChangeReason.NEXT_STATE_APPLIED,
    )
    assert (done.session.next_state, done.session.version) == (None, one_left.session.version + 1)


def test_a_pending_log_out_applies_when_the_offer_is_answered_elsewhere() -> None:
    session = working(logged_in(), tasks=0, offers=1)
    pending = session.set_next_state(NextStateKind.LOGOUT, None, now=LATER, **BY_SUPERVISOR)
    released = pending.session.adjust_load(Channel.CHAT, offers=-1, now=LATER, by=ROUTING)
    assert isinstance(only_event(released), AgentLoggedOut)
    assert broken_invariants(released.session) == []


def test_an_accepted_offer_keeps_the_next_state_pending() -> None:
    pending = (
        working(logged_in(), tasks=0, offers=1)
        .set_next_state(NextStateKind.LOGOUT, None, now=LATER, **BY_AGENT)
        .session
    )
    accepted = pending.adjust_load(Channel.CHAT, tasks=1, offers=-1, now=LATER, by=AGENT)
    assert accepted.events == ()
    assert (accepted.session.tasks_on(Channel.CHAT), accepted.session.pending_offer_count) == (
        1,
        0,
    )
    assert accepted.session.next_state is not None


def test_a_next_state_already_in_place_when_work_ends_only_withdraws_the_request() -> None:
    session = working(logged_in(), tasks=1)
    session = session.set_next_state(NextStateKind.IDLE, "lunch", now=NOW, **BY_AGENT).session
    session = session.set_state(AgentState.IDLE, "lunch", now=NOW, **BY_AGENT).session
    done = session.adjust_load(channel=Channel.CHAT, tasks=-1, now=LATER, by=AGENT)
    event = only_event(done)
    assert isinstance(event, AgentNextStateChanged)
    assert (event.next_state, event.reason) == (None, StateChangeReason.NEXT_STATE_APPLIED)
    assert (done.session.state, done.session.state_since) == (AgentState.IDLE, NOW)


def test_next_state_requests_that_are_refused() -> None:
    session = working(logged_in(), tasks=1)
    with pytest.raises(ValidationFailed) as no_code:
        session.set_next_state(NextStateKind.IDLE, None, now=NOW, **BY_AGENT)
    assert (no_code.value.field, no_code.value.rule) == ("idleCodeId", "required")
    with pytest.raises(ValidationFailed) as code_on_logout:
        session.set_next_state(NextStateKind.LOGOUT, "lunch", now=NOW, **BY_AGENT)
    assert code_on_logout.value.rule == "only_when_idle"
    pending = session.set_next_state(NextStateKind.LOGOUT, None, now=NOW, **BY_AGENT).session
    with pytest.raises(InvalidState):
        pending.set_next_state(NextStateKind.LOGOUT, None, now=NOW, **BY_AGENT)
    replaced = pending.set_next_state(NextStateKind.IDLE, "lunch", now=NOW, **BY_AGENT).session
    assert replaced.next_state is not None
    assert replaced.next_state.kind is NextStateKind.IDLE
    with pytest.raises(InvalidState) as idle_already:
        logged_in("lunch").set_next_state(NextStateKind.IDLE, "lunch", now=NOW, **BY_AGENT)
    assert idle_already.value.current_state == "IDLE"


def test_cancelling_a_next_state() -> None:
    session = working(logged_in(), tasks=1)
    pending = session.set_next_state(NextStateKind.LOGOUT, None, now=NOW, **BY_AGENT).session
    cancelled = pending.cancel_next_state(now=LATER, **BY_SUPERVISOR)
    event = only_event(cancelled)
    assert (event.next_state, event.actor, event.occurred_at) == (None, SUPERVISOR, LATER)
    assert cancelled.session.accepts_offers
    with pytest.raises(InvalidState):
        cancelled.session.cancel_next_state(now=LATER, **BY_AGENT)


# --- load ----------------------------------------------------------------------------------


def test_load_cannot_go_negative_or_reach_a_logged_out_agent() -> None:
    with pytest.raises(ValueError, match="below zero"):
        logged_in().adjust_load(channel=Channel.CHAT, tasks=-1, now=NOW, by=ROUTING)
    with pytest.raises(ValueError, match="below zero"):
        logged_in().adjust_load(Channel.CHAT, offers=-1, now=NOW, by=ROUTING)
    with pytest.raises(ValueError, match="nothing"):
        logged_in().adjust_load(Channel.CHAT, now=NOW, by=ROUTING)
    with pytest.raises(InvalidState) as refused:
        AgentSession.new("org-1", "a1", NOW).adjust_load(
            Channel.CHAT, offers=1, now=NOW, by=ROUTING
        )
    assert refused.value.current_state == "LOGGED_OUT"


def test_time_in_state_counts_from_the_last_change() -> None:
    session = logged_in()
    assert session.seconds_in_state(LATER) == 300
    assert session.seconds_in_state(NOW - timedelta(seconds=1)) == 0


# --- any sequence of requests keeps the invariants -----------------------------------------

Step = Callable[[AgentSession, datetime], Transition]
CODES = st.sampled_from([None, "lunch", "meeting"])
ACTORS = st.sampled_from([BY_AGENT, BY_SUPERVISOR])
CHANNELS = st.sampled_from([Channel.VOICE, Channel.CHAT])


def _log_in(team: str, code: str | None) -> Step:
    return lambda s, now: s.log_in(
        agent(), PROFILE, team_id=team, dial_number=None, idle_code_id=code, now=now, by=AGENT
    )


def _set_state(state: AgentState, code: str | None, who: dict[str, Any]) -> Step:
    return lambda s, now: s.set_state(state, code, now=now, **who)


def _set_next_state(kind: NextStateKind, code: str | None, who: dict[str, Any]) -> Step:
    return lambda s, now: s.set_next_state(kind, code, now=now, **who)


def _adjust(channel: Channel, tasks: int, offers: int) -> Step:
    return lambda s, now: s.adjust_load(
        channel=channel, tasks=tasks, offers=offers, now=now, by=ROUTING
    )


# Mostly requests that make sense (so that sequences go somewhere), some that never do.
SENSIBLE_STATES = st.sampled_from(
    [(AgentState.AVAILABLE, None), (AgentState.IDLE, "lunch"), (AgentState.IDLE, "meeting")]
)
SENSIBLE_NEXT = st.sampled_from(
    [(NextStateKind.LOGOUT, None), (NextStateKind.IDLE, "lunch"), (NextStateKind.IDLE, "meeting")]
)
STEPS: st.SearchStrategy[Step] = st.one_of(
    st.builds(_log_in, st.sampled_from(["t1", "t2"]), CODES),
    st.builds(_log_in, st.sampled_from(["t1", "t9"]), CODES),
    st.builds(lambda who: lambda s, now: s.log_out(now=now, **who), ACTORS),
    st.builds(lambda pair, who: _set_state(*pair, who), SENSIBLE_STATES, ACTORS),
    st.builds(lambda pair, who: _set_state(*pair, who), SENSIBLE_STATES, ACTORS),
    st.builds(_set_state, st.sampled_from(list(AgentState)), CODES, ACTORS),
    st.just(lambda s, now: s.went_rona(now=now, by=ROUTING)),
    st.builds(lambda pair, who: _set_next_state(*pair, who), SENSIBLE_NEXT, ACTORS),
    st.builds(_set_next_state, st.sampled_from(list(NextStateKind)), CODES, ACTORS),
    st.builds(lambda who: lambda s, now: s.cancel_next_state(now=now, **who), ACTORS),
    st.builds(_adjust, CHANNELS, st.integers(0, 2), st.integers(0, 1)),
    st.builds(_adjust, CHANNELS, st.integers(-1, 0), st.integers(-1, 0)),
    st.builds(_adjust, CHANNELS, st.integers(-1, 0), st.integers(-1, 0)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STEPS, max_size=40))
def test_any_sequence_of_requests_keeps_the_invariants(steps: list[Step]) -> None:
    session = AgentSession.new("org-1", "a1", NOW)
    for index, step in enumerate(steps):
        now = NOW + timedelta(seconds=index + 1)
        try:
            change = step(session, now)
        except (DomainError, ValueError):
            continue  # a refused request changes nothing: the session is immutable
        assert broken_invariants(change.session) == []
        assert change.session.version == session.version + 1
        for event in change.events:
            assert (event.version, event.occurred_at) == (change.session.version, now)
            assert event.streams() == (agent_stream("org-1", "a1"),)
        moved = (change.session.logged_in, change.session.state, change.session.idle_code_id) != (
            session.logged_in,
            session.state,
            session.idle_code_id,
        )
        assert (change.session.state_since == now) == moved
        assert (
            any(
                isinstance(e, AgentStateChanged | AgentLoggedIn | AgentLoggedOut)
                for e in change.events
            )
            == moved
        )
        session = change.session


@given(st.lists(STEPS, max_size=20))
def test_a_refused_request_leaves_the_session_as_it_was(steps: list[Step]) -> None:
    session = AgentSession.new("org-1", "a1", NOW)
    for step in steps:
        before = dataclasses.replace(session)
        try:
            session = step(session, LATER).session
        except (DomainError, ValueError):
            assert session == before
