"""A callback task once an agent accepted it: the system dials the customer (seed 002). Until the
customer answers the agent is on the call alone and may cancel it (then wrap-up); a customer who
does not answer sends the callback back to its queue, keeping its place in line."""

from __future__ import annotations

from datetime import datetime

from domain.callbacks.details import TaskCallback
from domain.errors import InvalidState
from domain.tasks.call import call_ended
from domain.tasks.participants import Participant, ParticipantRole
from domain.tasks.recording import Recording
from domain.tasks.status import TaskStatus
from domain.tasks.task import Task, TaskKind

DIALING = "DIALING"  # the state a refusal names while the customer has not answered yet


def dialing(task: Task) -> bool:
    """Accepted, the customer being dialled: nobody answered yet."""
    return (
        task.kind is TaskKind.CALLBACK
        and task.callback is not None
        and not task.callback.answered
        and task.status is TaskStatus.CONNECTED
        and task.customer_party is None
    )


def customer_answered(task: Task, now: datetime) -> Task:
    """The customer picked up: they join the call, which goes on as any voice call."""
    callback = _require_dialing(task)
    customer = Participant(
        participant_id=task.next_participant_id(),
        role=ParticipantRole.CUSTOMER,
        joined_at=now,
        address=callback.number,
        name=task.customer.name or task.customer.customer_id,
    )
    return task.changed(
        participants=(*task.participants, customer), callback=callback.answered_now(now)
    )


def customer_not_answered(task: Task, now: datetime) -> Task:
    """Back to the queue with its age (its place in line); the agent leaves without a wrap-up,
    their slot is free, and routing asks them last for this task."""
    callback = _require_dialing(task)
    assert task.agent_id is not None
    agent = task.agent_id
    participants = tuple(
        p.left(now) if p.present and p.role is ParticipantRole.PRIMARY_AGENT else p
        for p in task.participants
    )
    return task.changed(
        status=TaskStatus.QUEUED,
        status_since=now,
        participants=participants,
        callback=callback.not_answered(),
        agent_id=None,
        offer_id=None,
        connected_at=None,
        recording=Recording(),
        passed_by=task.passed_by if agent in task.passed_by else (*task.passed_by, agent),
    )


def cancelled(task: Task, now: datetime) -> Task:
    """The agent cancels before the customer answers: the call ends, the agent wraps up."""
    _require_dialing(task)
    return call_ended(task, now)


def _require_dialing(task: Task) -> TaskCallback:
    if task.kind is not TaskKind.CALLBACK or task.callback is None:
        raise InvalidState("the task is not a callback", current_state=task.status)
    if not dialing(task):
        state = "CUSTOMER_ANSWERED" if task.callback.answered else task.status.value
        raise InvalidState("the callback is not being dialled", current_state=state)
    return task.callback
