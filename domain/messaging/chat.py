"""Digital conversation moves (SPEC §10, seed 004) as pure functions on a task, next to the voice
moves of ``domain.tasks.call`` which they reuse where chat and voice agree (end → wrap-up,
transfer to a queue, the customer leaving, wrap-up).

A chat conference is not a voice consult: nobody is held. It is requested (an offer to the other
agent, made through the consult-request machinery, so it gets capacity checks, a deadline and
RONA) — ``CONFERENCE_REQUESTED`` — and becomes ``CONFERENCE`` when that agent accepts. Outbound
conversations take no conference (seed 001).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.channels import Direction
from domain.configuration.responses import MESSAGING_CHANNELS
from domain.errors import ErrorCode, InvalidState, Rejected
from domain.tasks import call
from domain.tasks.consults import Consult, Destination
from domain.tasks.participants import (
    CONFERENCE_LIMIT,
    Participant,
    ParticipantRole,
    counts_toward_conference,
)
from domain.tasks.status import TaskStatus
from domain.tasks.task import Task

# Where a customer may still write: waiting, ringing, or with an agent.
_CUSTOMER_CAN_WRITE = frozenset(
    {TaskStatus.QUEUED, TaskStatus.OFFERED, TaskStatus.CONNECTED, TaskStatus.HELD}
)


class ConferenceState(StrEnum):
    NONE = "NONE"
    CONFERENCE_REQUESTED = "CONFERENCE_REQUESTED"
    CONFERENCE = "CONFERENCE"


def conference_state(task: Task) -> ConferenceState:
    if task.consult is not None and not task.consult.connected:
        return ConferenceState.CONFERENCE_REQUESTED
    if task.conference_since is not None:
        return ConferenceState.CONFERENCE
    return ConferenceState.NONE


def require_messaging(task: Task) -> None:
    if task.channel not in MESSAGING_CHANNELS:
        raise InvalidState(
            f"a {task.channel} task has no conversation", current_state=task.status.value
        )


def require_agent_can_write(task: Task) -> None:
    """An agent writes to a customer who is there: not after they left, not after the end."""
    require_messaging(task)
    if task.status not in (TaskStatus.CONNECTED, TaskStatus.HELD):
        why = "the customer has left" if task.status is TaskStatus.POST_CALL else "it is over"
        raise InvalidState(f"no message can be sent: {why}", current_state=task.status.value)


def require_customer_can_write(task: Task) -> None:
    require_messaging(task)
    if task.status not in _CUSTOMER_CAN_WRITE or (
        task.status is not TaskStatus.QUEUED
        and task.status is not TaskStatus.OFFERED
        and task.customer_party is None
    ):
        raise InvalidState("the conversation is over", current_state=task.status.value)


# --- conference ----------------------------------------------------------------------------------


def request_conference(
    task: Task, destination: Destination, now: datetime, *, request_task_id: str
) -> Task:
    require_conference_possible(task)
    return task.changed(
        consult=Consult(destination=destination, requested_at=now, request_task_id=request_task_id)
    )


def require_conference_possible(task: Task) -> None:
    require_messaging(task)
    if task.direction is Direction.OUTBOUND:
        raise InvalidState(
            "an outbound conversation takes no conference", current_state=Direction.OUTBOUND.value
        )
    if task.status is not TaskStatus.CONNECTED:
        raise InvalidState("a conference needs a connected chat", current_state=task.status.value)
    if task.consult is not None:
        raise InvalidState(
            "a conference request is already pending",
            current_state=ConferenceState.CONFERENCE_REQUESTED.value,
        )
    if sum(counts_toward_conference(p) for p in task.participants) >= CONFERENCE_LIMIT:
        raise Rejected(
            ErrorCode.CONFERENCE_FULL, f"a conference has at most {CONFERENCE_LIMIT} participants"
        )


def conference_joined(task: Task, now: datetime, *, agent_id: str, name: str | None) -> Task:
    """The requested agent accepted: they join as a conference agent."""
    if task.consult is None or task.consult.connected:
        raise InvalidState("no conference request is pending", current_state=task.status.value)
    if task.status is not TaskStatus.CONNECTED:
        raise InvalidState("the chat is no longer connected", current_state=task.status.value)
    party = Participant(
        participant_id=task.next_participant_id(),
        role=ParticipantRole.CONFERENCE_AGENT,
        joined_at=now,
        agent_id=agent_id,
        name=name,
    )
    return task.changed(
        participants=(*task.participants, party),
        consult=None,
        durations=task.durations.with_consult(now - task.consult.requested_at),
        conference_since=task.conference_since or now,
    )


def conference_called_off(task: Task, now: datetime) -> Task:
    """The primary agent withdraws a conference request still ringing."""
    if task.consult is None or task.consult.connected:
        raise InvalidState("no conference request is pending", current_state=task.status.value)
    return call.consult_failed(task, now)


def conference_ended(task: Task, agent_id: str, now: datetime) -> tuple[Task, tuple[str, ...]]:
    """ "End conference": the primary agent ends it (every conference agent leaves); a conference
    agent ends their own part. Returns the task and the agents who left."""
    leaving = task.present_agent(agent_id)
    if task.conference_since is None or leaving is None:
        raise InvalidState("no conference is in progress", current_state=task.status.value)
    if leaving.role is ParticipantRole.CONFERENCE_AGENT:
        return call.exit_conference(task, agent_id, now), (agent_id,)
    others = [p for p in task.present if p.role is ParticipantRole.CONFERENCE_AGENT]
    by_id = {p.participant_id: p.left(now) for p in others}
    participants = tuple(by_id.get(p.participant_id, p) for p in task.participants)
    ended = task.changed(participants=participants, conference_since=None)
    return ended, tuple(p.agent_id for p in others if p.agent_id)


# --- transfer of outbound conversations ----------------------------------------------------------


def require_transferable(task: Task) -> None:
    """One move at a time: not while a conference is requested or going on."""
    require_messaging(task)
    state = conference_state(task)
    if state is not ConferenceState.NONE:
        raise InvalidState("end the conference before transferring", current_state=state.value)


def dropped(task: Task, now: datetime) -> Task:
    """A transferred outbound conversation its target did not accept: closed, not requeued
    (seed 001). The customer's side leaves with it; the transferring agent still wraps up."""
    if task.status not in (TaskStatus.QUEUED, TaskStatus.OFFERED):
        raise InvalidState("only a waiting conversation is dropped", current_state=task.status)
    participants = tuple(
        p.left(now, wrap_up_due=p.wrap_up_due) if p.present else p for p in task.participants
    )
    return task.changed(
        status=TaskStatus.CLOSED,
        status_since=now,
        ended_at=now,
        call_ended_at=task.call_ended_at or now,
        offer_id=None,
        agent_id=None,
        participants=participants,
    )
