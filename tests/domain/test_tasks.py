"""Tasks, offers and the routing choice as pure rules (SPEC §3, §4): the task state machine and its
refusals, how an offer ends (and why it may no longer be answered), masking, which agent can take
which task (state, capacity per channel, exclusive or blended voice, skills), which agent routing
prefers, and the order waiting tasks are served in."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.agents.session import AgentSession
from domain.agents.states import AgentState, NextStateKind, StateChangeReason
from domain.channels import Channel
from domain.configuration.agents import Agent, Skill
from domain.configuration.profiles import ChannelCapacity, MultimediaProfile, VoiceMode
from domain.configuration.queues import RoutingStrategy
from domain.errors import ErrorCode, InvalidState, Rejected
from domain.identity import Actor, ActorKind
from domain.tasks.offers import (
    Offer,
    OfferDetails,
    OfferOutcome,
    deadline_for,
    masked,
    offer_id_for,
)
from domain.tasks.routing import can_take, choose_agent, in_routing_order, next_task_for
from domain.tasks.task import CadValue, Customer, RoutingKey, Task, TaskStatus

ORG = "org-1"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ROUTING = Actor.system("routing")
CUSTOMER = Actor(ActorKind.CUSTOMER, "c1")
BLENDED = ((Channel.VOICE, 1), (Channel.CHAT, 3), (Channel.EMAIL, 2))


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def make_task(
    task_id: str = "t1",
    *,
    channel: Channel = Channel.CHAT,
    queue_priority: int = 5,
    priority: int = 5,
    queued_at: datetime = NOW,
    skills: tuple[tuple[str, int], ...] = (),
    **fields: Any,
) -> Task:
    return Task(
        task_id=task_id,
        org_id=ORG,
        channel=channel,
        entry_point_id="ep1",
        queue_id="q1",
        customer=Customer(name="Grace", address="+15551234567"),
        required_skills=skills,
        queue_priority=queue_priority,
        priority=priority,
        created_at=queued_at,
        queued_at=queued_at,
        status_since=queued_at,
        **fields,
    )


def agent_session(
    agent_id: str = "a1",
    *,
    ready_at: datetime = NOW,
    skills: tuple[tuple[str, int], ...] = (),
    channels: tuple[tuple[Channel, int], ...] = BLENDED,
    mode: VoiceMode = VoiceMode.BLENDED,
    idle: bool = False,
) -> AgentSession:
    """Logged in at ``ready_at`` (AVAILABLE unless ``idle``) to team t1."""
    agent = Agent(
        id=agent_id,
        org_id=ORG,
        name=f"Agent {agent_id}",
        created_at=NOW,
        updated_at=NOW,
        email=f"{agent_id}@example.com",
        team_ids=("t1",),
        profile_id="p1",
        skills=tuple(Skill(name, level) for name, level in skills),
    )
    profile = MultimediaProfile(
        id="p1",
        org_id=ORG,
        name="Profile",
        created_at=NOW,
        updated_at=NOW,
        channels=tuple(ChannelCapacity(channel, count) for channel, count in channels),
        voice_mode=mode,
    )
    return (
        AgentSession.new(ORG, agent_id, ready_at)
        .log_in(
            agent,
            profile,
            team_id="t1",
            dial_number=None,
            idle_code_id="lunch" if idle else None,
            now=ready_at,
            by=Actor(ActorKind.AGENT, agent_id),
        )
        .session
    )


def loaded(
    session: AgentSession, channel: Channel, *, tasks: int = 0, offers: int = 0, now: datetime = NOW
) -> AgentSession:
    return session.adjust_load(channel, tasks=tasks, offers=offers, now=now, by=ROUTING).session


DEADLINE = NOW + timedelta(seconds=30)


def make_offer(deadline: datetime = DEADLINE, **fields: Any) -> Offer:
    details = OfferDetails(
        customer_name="Grace",
        customer_id=None,
        customer_address="+15551234567",
        queue_id="q1",
        queue_name="Support",
        entry_point_id="ep1",
        entry_point_name="Support line",
        dnis=None,
        subject=None,
        queued_at=NOW,
    )
    return Offer(
        offer_id="t1.1",
        org_id=ORG,
        task_id="t1",
        agent_id="a1",
        channel=Channel.CHAT,
        offered_at=NOW,
        deadline=deadline,
        details=details,
        **fields,
    )


# --- the task state machine ------------------------------------------------------------------


def test_a_queued_task_is_offered_to_one_agent_and_counts_the_attempt() -> None:
    task = make_task()
    offered = task.offered("t1.1", "a1", at(3))
    assert (offered.status, offered.offer_id, offered.agent_id, offered.offer_count) == (
        TaskStatus.OFFERED,
        "t1.1",
        "a1",
        1,
    )
    assert (offered.status_since, offered.queued_at, offered.version) == (at(3), NOW, 2)
    assert task.status is TaskStatus.QUEUED  # the task itself never changes


def test_a_declined_or_missed_task_goes_back_keeping_its_age_and_the_agent_goes_last() -> None:
    offered = make_task().offered("t1.1", "a1", at(3))
    requeued = offered.requeued(at(8))
    assert (requeued.status, requeued.offer_id, requeued.agent_id) == (
        TaskStatus.QUEUED,
        None,
        None,
    )
    assert (requeued.queued_at, requeued.status_since, requeued.passed_by) == (NOW, at(8), ("a1",))
    assert requeued.routing_key == RoutingKey(queue_priority=5, priority=5, queued_at=NOW)
    # Passed by the same agent twice, named once; the attempts keep counting.
    twice = requeued.offered("t1.2", "a1", at(9)).requeued(at(14))
    assert (twice.passed_by, twice.offer_count, twice.version) == (("a1",), 2, 5)
    third = twice.offered("t1.3", "a2", at(15)).requeued(at(20))
    assert third.passed_by == ("a1", "a2")


def test_an_accepted_offer_connects_the_task() -> None:
    connected = make_task().offered("t1.1", "a1", at(3)).connected(at(4))
    assert (connected.status, connected.connected_at, connected.agent_id) == (
        TaskStatus.CONNECTED,
        at(4),
        "a1",
    )


@pytest.mark.parametrize("status", [TaskStatus.QUEUED, TaskStatus.OFFERED])
def test_the_customer_may_leave_until_an_agent_answers(status: TaskStatus) -> None:
    task = make_task()
    if status is TaskStatus.OFFERED:
        task = task.offered("t1.1", "a1", at(3))
    abandoned = task.abandoned(at(5))
    assert (abandoned.status, abandoned.ended_at, abandoned.offer_id) == (
        TaskStatus.ABANDONED,
        at(5),
        None,
    )


Move = Callable[[Task], Task]
MOVES: dict[str, tuple[Move, frozenset[TaskStatus]]] = {
    "offered": (lambda t: t.offered("o", "a1", at(1)), frozenset({TaskStatus.QUEUED})),
    "requeued": (lambda t: t.requeued(at(1)), frozenset({TaskStatus.OFFERED})),
    "connected": (lambda t: t.connected(at(1)), frozenset({TaskStatus.OFFERED})),
    "abandoned": (
        lambda t: t.abandoned(at(1)),
        frozenset({TaskStatus.QUEUED, TaskStatus.OFFERED}),
    ),
}


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (status, name)
        for status in (TaskStatus.QUEUED, TaskStatus.CONNECTED, TaskStatus.ABANDONED)
        for name, (_, allowed) in MOVES.items()
        if status not in allowed
    ],
)
def test_an_invalid_transition_is_an_error_naming_the_current_state(
    status: TaskStatus, move: str
) -> None:
    task = make_task(status=status, agent_id="a1" if status is TaskStatus.CONNECTED else None)
    with pytest.raises(InvalidState) as raised:
        MOVES[move][0](task)
    assert raised.value.current_state == status.value
    assert raised.value.code == ErrorCode.INVALID_STATE


@given(st.lists(st.sampled_from(sorted(MOVES)), max_size=12))
def test_every_move_either_follows_the_lifecycle_or_names_where_the_task_stands(
    moves: list[str],
) -> None:
    task = make_task()
    for name in moves:
        move, allowed = MOVES[name]
        if task.status in allowed:
            after = move(task)
            assert after.version == task.version + 1
            assert after.queued_at == task.queued_at  # a task never loses its age
            if after.status is TaskStatus.QUEUED:
                assert (after.agent_id, after.offer_id) == (None, None)
            elif after.status is not TaskStatus.ABANDONED:
                assert after.agent_id == "a1"
            task = after
        else:
            with pytest.raises(InvalidState) as raised:
                move(task)
            assert raised.value.current_state == task.status.value


def test_a_task_tells_how_long_it_waited_and_its_cad_values() -> None:
    task = make_task(cad=(CadValue("account", "42"), CadValue("pin", "1234", secure=True)))
    assert (task.waited_seconds(at(61.9)), task.waited_seconds(at(-5))) == (61, 0)
    assert (task.cad_value("account"), task.cad_value("pin"), task.cad_value("x")) == (
        "42",
        "1234",
        None,
    )


# --- offers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [OfferOutcome.ACCEPTED, OfferOutcome.DECLINED])
def test_an_open_offer_is_answered_by_the_agent(outcome: OfferOutcome) -> None:
    agent = Actor(ActorKind.AGENT, "a1")
    offer = make_offer()
    answered = offer.answered(outcome, now=at(29.999), by=agent)
    assert (answered.outcome, answered.ended_at, answered.ended_by) == (outcome, at(29.999), agent)
    assert (answered.pending, answered.status, answered.version) == (False, outcome.value, 2)
    assert (offer.pending, offer.status) == (True, "PENDING")


@pytest.mark.parametrize("late", [0, 0.001, 10])
def test_an_offer_answered_at_or_after_its_deadline_is_expired(late: float) -> None:
    offer = make_offer(deadline=at(30))
    with pytest.raises(Rejected) as raised:
        offer.answered(OfferOutcome.ACCEPTED, now=at(30 + late), by=Actor(ActorKind.AGENT, "a1"))
    assert raised.value.code == ErrorCode.OFFER_EXPIRED
    assert "deadline passed at 09:00:30Z" in raised.value.message
    assert offer.expired(at(30))
    assert not offer.expired(at(29.999))


@pytest.mark.parametrize(
    "outcome", [OfferOutcome.DECLINED, OfferOutcome.RONA, OfferOutcome.WITHDRAWN]
)
def test_an_offer_that_ended_can_no_longer_be_answered(outcome: OfferOutcome) -> None:
    ended = make_offer().ended(outcome, now=at(5), by=ROUTING)
    with pytest.raises(Rejected) as raised:
        ended.answered(OfferOutcome.ACCEPTED, now=at(6), by=Actor(ActorKind.AGENT, "a1"))
    assert raised.value.code == ErrorCode.OFFER_EXPIRED
    assert outcome.value.lower() in raised.value.message


def test_an_accepted_offer_answered_again_is_an_invalid_state_not_an_expiry() -> None:
    agent = Actor(ActorKind.AGENT, "a1")
    accepted = make_offer().answered(OfferOutcome.ACCEPTED, now=at(1), by=agent)
    with pytest.raises(InvalidState) as raised:
        accepted.answered(OfferOutcome.DECLINED, now=at(2), by=agent)
    assert raised.value.current_state == "ACCEPTED"


def test_the_system_ends_an_offer_once() -> None:
    rona = make_offer().ended(OfferOutcome.RONA, now=at(30), by=ROUTING)
    assert (rona.outcome, rona.ended_by, rona.version) == (OfferOutcome.RONA, ROUTING, 2)
    with pytest.raises(InvalidState) as raised:
        rona.ended(OfferOutcome.WITHDRAWN, now=at(31), by=CUSTOMER)
    assert raised.value.current_state == "RONA"


def test_offer_ids_and_deadlines_are_deterministic() -> None:
    assert (offer_id_for("t1", 1), offer_id_for("t1", 2)) == ("t1.1", "t1.2")
    assert deadline_for(NOW, 5) == at(5)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (None, None),
        ("+15551234567", "+*******4567"),
        ("+1 (555) 123-4567", "+* (***) ***-4567"),
        ("12345", "*2345"),
        ("1234", "1234"),  # four digits or fewer: nothing to hide behind
        ("", ""),
    ],
)
def test_masking_hides_every_digit_but_the_last_four_and_keeps_separators(
    number: str | None, shown: str | None
) -> None:
    assert masked(number) == shown


@given(st.text(alphabet="0123456789+-() x", max_size=30))
def test_masking_keeps_the_shape_and_exactly_the_last_four_digits(number: str) -> None:
    shown = masked(number)
    assert shown is not None
    assert len(shown) == len(number)
    digits = [i for i, character in enumerate(number) if character.isdigit()]
    hidden = set(digits[:-4]) if len(digits) > 4 else set()
    for i, (original, character) in enumerate(zip(number, shown, strict=True)):
        assert character == ("*" if i in hidden else original)


# --- who can take a task -----------------------------------------------------------------------


def test_only_an_available_agent_without_a_pending_next_state_can_take_work() -> None:
    task = make_task()
    available = agent_session()
    assert can_take(available, task)
    assert not can_take(agent_session(idle=True), task)
    rona = available.went_rona(now=at(1), by=ROUTING).session
    assert rona.state is AgentState.RONA
    assert not can_take(rona, task)
    working = loaded(available, Channel.CHAT, offers=1)
    leaving = working.set_next_state(
        NextStateKind.LOGOUT,
        None,
        now=at(1),
        by=Actor(ActorKind.AGENT, "a1"),
        reason=StateChangeReason.AGENT_REQUEST,
    ).session
    assert can_take(working, task)
    assert not can_take(leaving, task)
    logged_out = available.log_out(
        now=at(1), by=Actor(ActorKind.AGENT, "a1"), reason=StateChangeReason.AGENT_REQUEST
    ).session
    assert not can_take(logged_out, task)


def test_capacity_is_per_channel_and_counts_offers_and_tasks() -> None:
    session = agent_session(channels=((Channel.CHAT, 3), (Channel.EMAIL, 1)))
    chat, email, sms = (make_task(channel=c) for c in (Channel.CHAT, Channel.EMAIL, Channel.SMS))
    two_chats = loaded(loaded(session, Channel.CHAT, tasks=1), Channel.CHAT, offers=1)
    assert can_take(two_chats, chat)
    assert two_chats.free_capacity(Channel.CHAT) == 1
    full = loaded(two_chats, Channel.CHAT, offers=1)
    assert not can_take(full, chat)
    assert can_take(full, email)  # another channel's load does not count
    assert not can_take(session, sms)  # a channel the profile does not allow
    assert full.open_channels == (Channel.EMAIL,)


@pytest.mark.parametrize(
    ("mode", "holding", "offered", "takes"),
    [
        (VoiceMode.EXCLUSIVE, Channel.VOICE, Channel.CHAT, False),
        (VoiceMode.EXCLUSIVE, Channel.VOICE, Channel.EMAIL, False),
        (VoiceMode.EXCLUSIVE, Channel.CHAT, Channel.VOICE, False),
        (VoiceMode.EXCLUSIVE, Channel.EMAIL, Channel.VOICE, False),
        (VoiceMode.EXCLUSIVE, Channel.CHAT, Channel.EMAIL, True),
        (VoiceMode.BLENDED, Channel.VOICE, Channel.CHAT, True),
        (VoiceMode.BLENDED, Channel.CHAT, Channel.VOICE, True),
    ],
)
@pytest.mark.parametrize("as_offer", [True, False])
def test_exclusive_voice_keeps_calls_and_digital_work_apart_while_blended_mixes_them(
    mode: VoiceMode, holding: Channel, offered: Channel, takes: bool, as_offer: bool
) -> None:
    session = agent_session(mode=mode)
    busy = loaded(session, holding, offers=1) if as_offer else loaded(session, holding, tasks=1)
    assert can_take(session, make_task(channel=offered))
    assert can_take(busy, make_task(channel=offered)) is takes


@pytest.mark.parametrize(
    ("held", "required", "takes"),
    [
        ((("spanish", 5),), (("spanish", 5),), True),
        ((("spanish", 7),), (("spanish", 5),), True),
        ((("spanish", 4),), (("spanish", 5),), False),
        ((("french", 9),), (("spanish", 1),), False),
        ((("spanish", 5), ("billing", 2)), (("spanish", 5), ("billing", 3)), False),
        ((("spanish", 5), ("billing", 3)), (("spanish", 5), ("billing", 3)), True),
        ((), (), True),
    ],
)
def test_an_agent_needs_every_required_skill_at_its_level(
    held: tuple[tuple[str, int], ...], required: tuple[tuple[str, int], ...], takes: bool
) -> None:
    assert can_take(agent_session(skills=held), make_task(skills=required)) is takes


def test_skill_names_match_ignoring_case_as_the_configuration_does() -> None:
    """Skill names are unique ignoring case in the configuration (``Agent.skill_level`` too): a
    queue asking for "Spanish" reaches an agent who holds "spanish"."""
    session = agent_session(skills=(("spanish", 6),))
    assert can_take(session, make_task(skills=(("Spanish", 5),)))
    assert not can_take(session, make_task(skills=(("SPANISH", 7),)))


# --- which agent routing prefers ---------------------------------------------------------------


def test_the_agent_available_longest_gets_the_task() -> None:
    early, middle, late = (
        agent_session(agent_id, ready_at=at(s)) for agent_id, s in (("c", 1), ("a", 2), ("b", 3))
    )
    chosen = choose_agent(make_task(), RoutingStrategy.LONGEST_AVAILABLE, [late, early, middle])
    assert chosen is early


def test_an_agent_who_just_got_an_offer_goes_to_the_back() -> None:
    first, second = agent_session("a", ready_at=at(1)), agent_session("b", ready_at=at(2))
    served = loaded(first, Channel.CHAT, offers=1, now=at(10))
    assert served.ready_since == at(10)
    chosen = choose_agent(make_task(), RoutingStrategy.LONGEST_AVAILABLE, [served, second])
    assert chosen is second


def test_becoming_available_again_restarts_the_wait() -> None:
    agent = Actor(ActorKind.AGENT, "a")
    rejoined = (
        agent_session("a", ready_at=at(1))
        .set_state(
            AgentState.IDLE, "lunch", now=at(2), by=agent, reason=StateChangeReason.AGENT_REQUEST
        )
        .session.set_state(
            AgentState.AVAILABLE, None, now=at(9), by=agent, reason=StateChangeReason.AGENT_REQUEST
        )
        .session
    )
    other = agent_session("b", ready_at=at(5))
    assert choose_agent(make_task(), RoutingStrategy.LONGEST_AVAILABLE, [rejoined, other]) is other


def test_an_exact_tie_goes_to_the_lower_agent_id_whatever_the_order() -> None:
    one, two = agent_session("a2"), agent_session("a1")
    for candidates in ([one, two], [two, one]):
        assert choose_agent(make_task(), RoutingStrategy.LONGEST_AVAILABLE, candidates) is two


def test_agents_who_passed_on_the_task_are_asked_last() -> None:
    decliner, other = agent_session("a", ready_at=at(1)), agent_session("b", ready_at=at(2))
    task = make_task(passed_by=("a",))
    assert choose_agent(task, RoutingStrategy.LONGEST_AVAILABLE, [decliner, other]) is other
    # ... but asked all the same when nobody else can take it.
    assert choose_agent(task, RoutingStrategy.LONGEST_AVAILABLE, [decliner]) is decliner


def test_best_skilled_prefers_the_highest_sum_of_required_levels_then_the_longest_available() -> (
    None
):
    task = make_task(skills=(("spanish", 3), ("billing", 1)))
    novice = agent_session("a", ready_at=at(1), skills=(("spanish", 3), ("billing", 1)))
    expert = agent_session("b", ready_at=at(3), skills=(("spanish", 9), ("billing", 1)))
    also_expert = agent_session("c", ready_at=at(2), skills=(("spanish", 6), ("billing", 4)))
    # Skills the task does not ask for do not count.
    showy = agent_session("d", ready_at=at(0), skills=(("spanish", 3), ("billing", 1), ("x", 10)))
    candidates = [novice, expert, also_expert, showy]
    assert choose_agent(task, RoutingStrategy.BEST_SKILLED, candidates) is also_expert
    assert choose_agent(task, RoutingStrategy.LONGEST_AVAILABLE, candidates) is showy


def test_no_eligible_agent_means_no_choice() -> None:
    task = make_task(skills=(("spanish", 5),))
    candidates = [
        agent_session("a", skills=(("spanish", 4),)),
        agent_session("b", idle=True, skills=(("spanish", 9),)),
        loaded(agent_session("c", skills=(("spanish", 9),)), Channel.CHAT, offers=3),
    ]
    assert choose_agent(task, RoutingStrategy.BEST_SKILLED, candidates) is None
    assert choose_agent(task, RoutingStrategy.LONGEST_AVAILABLE, []) is None


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),  # when available
            st.integers(min_value=0, max_value=3),  # chat load
            st.booleans(),  # passed on the task
        ),
        max_size=6,
    )
)
def test_the_choice_is_the_best_ranked_eligible_agent(
    agents: list[tuple[int, int, bool]],
) -> None:
    sessions = [
        loaded(agent_session(f"a{i}", ready_at=at(s)), Channel.CHAT, offers=n, now=at(s))
        if n
        else agent_session(f"a{i}", ready_at=at(s))
        for i, (s, n, _) in enumerate(agents)
    ]
    task = make_task(passed_by=tuple(f"a{i}" for i, (_, _, p) in enumerate(agents) if p))
    chosen = choose_agent(task, RoutingStrategy.LONGEST_AVAILABLE, sessions)
    eligible = [s for s in sessions if can_take(s, task)]
    if not eligible:
        assert chosen is None
        return
    assert chosen in eligible

    def rank(s: AgentSession) -> tuple[bool, datetime, str]:
        assert s.ready_since is not None
        return (s.agent_id in task.passed_by, s.ready_since, s.agent_id)

    assert all(rank(chosen) <= rank(other) for other in eligible)


# --- which task an agent gets --------------------------------------------------------------------


def test_waiting_tasks_go_by_queue_priority_then_task_priority_then_age() -> None:
    tasks = [
        make_task("normal-old", queue_priority=5, priority=5, queued_at=at(0)),
        make_task("urgent-low", queue_priority=1, priority=9, queued_at=at(1)),
        make_task("urgent-new", queue_priority=1, priority=5, queued_at=at(3)),
        make_task("normal-top", queue_priority=5, priority=1, queued_at=at(4)),
        make_task("urgent-old", queue_priority=1, priority=5, queued_at=at(2)),
        make_task("urgent-top", queue_priority=1, priority=1, queued_at=at(5)),
    ]
    assert [t.task_id for t in in_routing_order(tasks)] == [
        "urgent-top",
        "urgent-old",
        "urgent-new",
        "urgent-low",
        "normal-top",
        "normal-old",
    ]
    assert next_task_for(agent_session(), tasks) is tasks[5]


def test_an_agent_gets_the_first_waiting_task_it_can_take() -> None:
    session = loaded(agent_session(skills=(("spanish", 2),)), Channel.CHAT, offers=3)  # chat full
    tasks = [
        make_task("chat", channel=Channel.CHAT, queued_at=at(0)),
        make_task("skilled-email", channel=Channel.EMAIL, queued_at=at(1), skills=(("x", 1),)),
        make_task("email", channel=Channel.EMAIL, queued_at=at(2)),
        make_task("call", channel=Channel.VOICE, queued_at=at(3)),
    ]
    chosen = next_task_for(session, tasks)
    assert chosen is not None
    assert chosen.task_id == "email"
    assert next_task_for(session, tasks[:2]) is None
    assert next_task_for(agent_session(idle=True), tasks) is None


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=3),
            st.integers(min_value=1, max_value=3),
            st.integers(min_value=0, max_value=5),
            st.sampled_from([Channel.CHAT, Channel.EMAIL, Channel.SMS]),
        ),
        max_size=8,
    )
)
def test_the_next_task_is_the_first_in_routing_order_among_those_the_agent_can_take(
    shapes: list[tuple[int, int, int, Channel]],
) -> None:
    session = agent_session()
    tasks = [
        make_task(f"t{i}", queue_priority=q, priority=p, queued_at=at(s), channel=c)
        for i, (q, p, s, c) in enumerate(shapes)
    ]
    chosen = next_task_for(session, tasks)
    takeable = [t for t in tasks if can_take(session, t)]
    if not takeable:
        assert chosen is None
        return
    assert chosen is not None
    assert can_take(session, chosen)

    def key(task: Task) -> tuple[Any, ...]:
        return (*dataclasses.astuple(task.routing_key), task.task_id)

    assert all(key(chosen) <= key(t) for t in takeable)
