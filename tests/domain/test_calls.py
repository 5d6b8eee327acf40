"""The call as a pure state machine (domain/tasks/call.py): each rule of SPEC §5/§6 and seed 002,
and invariants that hold after any sequence of moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.channels import Channel
from domain.errors import DomainError, ErrorCode, InvalidState, Rejected
from domain.identity import Actor, ActorKind
from domain.tasks import call
from domain.tasks.call import CallParty
from domain.tasks.consults import Destination, DestinationKind
from domain.tasks.events import CallChange
from domain.tasks.participants import (
    ALLOWED,
    CONFERENCE_LIMIT,
    CallAction,
    ParticipantRole,
    permitted,
)
from domain.tasks.recording import RecordingState
from domain.tasks.status import TaskStatus
from domain.tasks.task import Customer, Task
from domain.tasks.timeline import call_events
from domain.tasks.wrap_up import WrapUp

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AGENT = Destination(kind=DestinationKind.AGENT, id="bob", name="Bob")
DN = Destination(kind=DestinationKind.DIAL_NUMBER, id="dn1", name="Expert", address="+15550100")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered(recording: bool = True) -> Task:
    task = Task(
        task_id="t1",
        org_id="org",
        channel=Channel.VOICE,
        entry_point_id="ep",
        queue_id="q",
        customer=Customer(name="Ann"),
        ani="+15550199",
        queue_priority=5,
        priority=5,
        created_at=T0,
        queued_at=T0,
        status_since=T0,
    )
    return task.offered("t1.1", "alice", at(1)).connected(
        at(3), agent_name="Alice", recording=recording
    )


def consulting_agent(task: Task, now: datetime) -> Task:
    requested = call.request_consult(task, AGENT, now, request_task_id="t1.c1")
    return call.consult_answered(requested, now, agent_id="bob", name="Bob")


def roles(task: Task) -> list[ParticipantRole]:
    return [p.role for p in task.present]


def test_answering_puts_customer_and_primary_on_the_call_and_starts_recording() -> None:
    task = answered()
    assert task.status is TaskStatus.CONNECTED
    assert roles(task) == [ParticipantRole.CUSTOMER, ParticipantRole.PRIMARY_AGENT]
    assert task.recording.state is RecordingState.RECORDING
    assert answered(recording=False).recording.state is RecordingState.OFF
    assert task.durations.ring == 2.0


def test_a_held_call_cannot_be_ended() -> None:
    held = call.hold(answered(), CallParty.CUSTOMER, at(10))
    assert held.status is TaskStatus.HELD
    with pytest.raises(Rejected) as refused:
        call.end_call(held, at(11))
    assert refused.value.code == ErrorCode.CALL_ON_HOLD
    with pytest.raises(InvalidState):
        call.hold(held, CallParty.CUSTOMER, at(11))
    resumed = call.resume(held, CallParty.CUSTOMER, at(20))
    ended = call.end_call(resumed, at(30))
    assert ended.status is TaskStatus.WRAP_UP
    assert ended.durations.hold == 10.0
    assert ended.durations.talk == 7.0 + 10.0


def test_consulting_holds_the_customer_and_resuming_one_side_holds_the_other() -> None:
    task = consulting_agent(answered(), at(10))
    assert task.status is TaskStatus.HELD
    consulted = task.present_agent("bob")
    assert consulted is not None
    assert consulted.role is ParticipantRole.CONSULTED_AGENT
    back = call.resume(task, CallParty.CUSTOMER, at(12))
    assert back.status is TaskStatus.CONNECTED
    assert back.present_agent("bob").held
    again = call.resume(back, CallParty.CONSULT, at(14))
    assert again.status is TaskStatus.HELD
    assert not again.present_agent("bob").held
    both = call.hold(again, CallParty.CONSULT, at(15))
    assert both.status is TaskStatus.HELD
    assert both.present_agent("bob").held


def test_a_dial_number_consult_joins_at_once_and_a_second_consult_is_refused() -> None:
    task = call.request_consult(answered(), DN, at(10))
    assert task.consult is not None
    assert task.consult.connected
    assert ParticipantRole.DIAL_NUMBER in roles(task)
    with pytest.raises(InvalidState):
        call.request_consult(task, AGENT, at(11), request_task_id="t1.c2")


def test_conference_is_limited_to_eight_parties() -> None:
    task = answered()
    for n in range(CONFERENCE_LIMIT - 2):
        task = call.request_consult(task, DN, at(10 + n))
        task = call.start_conference(task, at(10 + n))
    assert len(task.present) == CONFERENCE_LIMIT
    with pytest.raises(Rejected) as full:
        call.request_consult(task, DN, at(30))
    assert full.value.code == ErrorCode.CONFERENCE_FULL


def test_the_primary_leaving_a_conference_hands_control_to_the_longest_present_agent() -> None:
    task = call.start_conference(consulting_agent(answered(), at(10)), at(12))
    carol = Destination(kind=DestinationKind.AGENT, id="carol")
    task = call.request_consult(task, carol, at(13), request_task_id="t1.c2")
    task = call.start_conference(call.consult_answered(task, at(14), agent_id="carol"), at(15))
    handed = call.exit_conference(task, "alice", at(20))
    assert handed.agent_id == "bob"
    assert handed.present_agent("bob").role is ParticipantRole.PRIMARY_AGENT  # type: ignore[union-attr]
    assert handed.wrap_up_owed_by("alice") is not None
    events = call_events(task, handed, actor=Actor(ActorKind.AGENT, "alice"), now=at(20))
    assert [e.change for e in events][:2] == [
        CallChange.PARTICIPANT_LEFT,
        CallChange.CONTROL_PASSED,
    ]


def test_customer_leaving_with_agents_remaining_is_post_call_until_one_is_left() -> None:
    task = consulting_agent(answered(), at(10))
    post = call.customer_left(task, at(20))
    assert post.status is TaskStatus.POST_CALL
    with pytest.raises(InvalidState) as refused:
        call.request_consult(post, DN, at(21))
    assert refused.value.current_state == TaskStatus.POST_CALL
    with pytest.raises(InvalidState):
        call.monitoring_started(post, "sup", None, at(21))
    over = call.end_consult(post, at(25))
    assert over.status is TaskStatus.WRAP_UP
    assert not over.present


def test_customer_and_primary_both_gone_ends_the_call() -> None:
    task = call.start_conference(consulting_agent(answered(), at(10)), at(12))
    post = call.customer_left(task, at(20))
    assert post.status is TaskStatus.POST_CALL
    ended = call.end_call(post, at(22))
    assert ended.status is TaskStatus.WRAP_UP


def test_wrap_up_closes_the_task_when_nobody_owes_one() -> None:
    ended = call.end_call(answered(), at(30))
    record = WrapUp(agent_id="alice", code_ids=("w1",), submitted_at=at(40), by=Actor.system("x"))
    closed = call.wrapped_up(ended, "alice", at(40), record)
    assert closed.status is TaskStatus.CLOSED
    assert closed.durations.wrap_up == 10.0
    with pytest.raises(InvalidState):
        call.wrapped_up(closed, "alice", at(41), record)


def test_recording_cannot_be_paused_during_a_consult_or_conference() -> None:
    consulting = consulting_agent(answered(), at(10))
    with pytest.raises(InvalidState) as refused:
        call.recording_paused(consulting, at(11), 60)
    assert refused.value.current_state == "CONSULT"
    paused = call.recording_paused(answered(), at(11), 60)
    assert paused.recording.resumes_at == at(71)
    assert call.recording_resumed(paused, at(12)).recording.state is RecordingState.RECORDING


def test_only_the_primary_agent_controls_the_call() -> None:
    for action, allowed in ALLOWED.items():
        assert permitted(ParticipantRole.DIAL_NUMBER, action) is False
        assert (action is CallAction.STOP_MONITORING) is permitted(
            ParticipantRole.SUPERVISOR, action
        )
        if ParticipantRole.CONSULTED_AGENT in allowed:
            assert action in (CallAction.EXIT_CONSULT, CallAction.EDIT_CAD)


_MOVES = st.lists(
    st.sampled_from(
        [
            "hold",
            "resume",
            "hold_consult",
            "resume_consult",
            "consult_agent",
            "consult_dn",
            "answer_consult",
            "end_consult",
            "conference",
            "exit_conference",
            "customer_left",
            "end",
            "transfer",
        ]
    ),
    max_size=25,
)


def _apply(task: Task, move: str, now: datetime) -> Task:
    agent = f"a{task.version}"
    steps = {
        "hold": lambda: call.hold(task, CallParty.CUSTOMER, now),
        "resume": lambda: call.resume(task, CallParty.CUSTOMER, now),
        "hold_consult": lambda: call.hold(task, CallParty.CONSULT, now),
        "resume_consult": lambda: call.resume(task, CallParty.CONSULT, now),
        "consult_agent": lambda: call.request_consult(
            task, AGENT, now, request_task_id=f"r{task.version}"
        ),
        "consult_dn": lambda: call.request_consult(task, DN, now),
        "answer_consult": lambda: call.consult_answered(task, now, agent_id=agent),
        "end_consult": lambda: call.end_consult(task, now),
        "conference": lambda: call.start_conference(task, now),
        "exit_conference": lambda: call.exit_conference(task, task.agent_id or "", now),
        "customer_left": lambda: call.customer_left(task, now),
        "end": lambda: call.end_call(task, now),
        "transfer": lambda: call.transfer_to_consulted(task, now),
    }
    return steps[move]()


@settings(max_examples=300, deadline=None)
@given(_MOVES)
def test_any_sequence_of_moves_keeps_the_call_consistent(moves: list[str]) -> None:
    task = answered()
    for index, move in enumerate(moves):
        try:
            task = _apply(task, move, at(10 + index))
        except DomainError:
            continue
        present = task.present
        primaries = [p for p in present if p.role is ParticipantRole.PRIMARY_AGENT]
        assert len(primaries) <= 1
        assert sum(p.role is not ParticipantRole.SUPERVISOR for p in present) <= CONFERENCE_LIMIT
        customer = task.customer_party
        if task.status in (TaskStatus.WRAP_UP, TaskStatus.CLOSED):
            assert not present
            assert task.call_ended_at is not None
        elif customer is None:
            assert task.status is TaskStatus.POST_CALL
        else:
            assert (task.status is TaskStatus.HELD) is customer.held
        assert all(not p.present for p in task.participants if p.wrap_up_due)
        if primaries:
            assert task.agent_id == primaries[0].agent_id
