"""Transferring a digital conversation (SPEC §10, seeds 001/004) to a queue of its channel or to
an agent: the transferring agent leaves to wrap up, the customer is told, and the conversation is
offered anew. An outbound conversation is transferred one move at a time, and when its target
declines or misses it, it is dropped — closed, not requeued (seed 001) — with a line the agents see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.channels import Direction
from domain.configuration.base import ConfigKind
from domain.configuration.queues import Queue
from domain.configuration.responses import MESSAGING_CHANNELS
from domain.errors import ErrorCode, InvalidState, Rejected, ValidationFailed
from domain.identity import Actor, Principal
from domain.messaging import chat
from domain.messaging.message import Notice
from domain.ports import Clock, UnitOfWork
from domain.tasks import call
from domain.tasks.consults import Destination, DestinationKind
from domain.tasks.events import QueuedBecause, TaskQueued
from domain.tasks.participants import CallAction
from domain.tasks.task import Task, TaskKind
from domain.usecases.call_access import agent_access, save_call
from domain.usecases.destinations import FIELD, resolve
from domain.usecases.messages import record_notice
from domain.usecases.routing import RouteQueue, Router


@dataclass(frozen=True)
class TransferConversation:
    principal: Principal
    task_id: str
    kind: DestinationKind
    destination_id: str


async def transfer_conversation(cmd: TransferConversation, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.TRANSFER)
    task = access.task
    chat.require_transferable(task)
    router = Router(uow, clock, task.org_id)
    destination, queue, agent = await _destination(uow, router, task, cmd)
    now = clock.now()
    after = call.transferred_to_queue(
        task,
        now,
        queue_id=queue.id,
        queue_priority=queue.priority,
        required_skills=tuple((s.name, s.min_level) for s in queue.required_skills)
        if agent is None
        else task.required_skills,
    )
    if task.customer_party is not None:
        await record_notice(
            uow, now, task=task, notice=Notice.TRANSFERRED, actor=access.actor, to_customer=True
        )
    saved = await save_call(
        uow, task, after, actor=access.actor, now=now, transferred_to=destination
    )
    _queued(uow, saved, access.actor, now)
    await _route(uow, router, saved, queue, agent)
    stored = await uow.tasks.get(task.org_id, task.task_id)
    assert stored is not None
    return stored


async def _route(
    uow: UnitOfWork, router: Router, task: Task, queue: Queue, agent_id: str | None
) -> None:
    """Offer the transferred conversation to the agent named, or to the queue's next agent."""
    if agent_id is not None:
        session = await uow.agent_sessions.get(task.org_id, agent_id)
        assert session is not None
        await router.reserve(task, session, queue)
    elif await router.agent_for(task) is None:
        uow.defer(RouteQueue(task.org_id, queue.id))


async def outbound_transfer_missed(
    uow: UnitOfWork, task: Task, now: datetime, actor: Actor
) -> bool:
    """Called when an offer of ``task`` ends unanswered. A transferred outbound conversation is
    dropped instead of going back to its queue; True when it was."""
    if (
        task.direction is not Direction.OUTBOUND
        or task.kind is not TaskKind.NORMAL
        or task.channel not in MESSAGING_CHANNELS
    ):
        return False
    await record_notice(
        uow, now, task=task, notice=Notice.TRANSFER_NOT_ACCEPTED, actor=actor, to_customer=False
    )
    await save_call(uow, task, chat.dropped(task, now), actor=actor, now=now)
    return True


async def _destination(
    uow: UnitOfWork, router: Router, task: Task, cmd: TransferConversation
) -> tuple[Destination, Queue, str | None]:
    """Where the conversation goes: a queue of its own channel, or an agent with room for it
    (offered from the conversation's current queue)."""
    if cmd.kind is DestinationKind.QUEUE:
        entity = await uow.configuration.get(task.org_id, ConfigKind.QUEUE, cmd.destination_id)
        if not isinstance(entity, Queue) or not entity.active:
            raise ValidationFailed.single(
                FIELD, "reference", f"no active queue {cmd.destination_id!r}"
            )
        if entity.channel is not task.channel or entity.direction is not Direction.INBOUND:
            raise ValidationFailed.single(
                FIELD, "channel_queue", f"the queue must be an inbound {task.channel} queue"
            )
        destination = Destination(kind=cmd.kind, id=entity.id, name=entity.name)
        return destination, entity, None
    if cmd.kind is not DestinationKind.AGENT:
        raise Rejected(
            ErrorCode.UNSUPPORTED_DESTINATION, "a conversation goes to a queue or an agent"
        )
    resolved = await resolve(
        uow, task.org_id, cmd.kind, cmd.destination_id, caller_id=cmd.principal.subject
    )
    agent = resolved.agent
    assert agent is not None
    if not agent.accepts_offers:
        raise InvalidState("the agent is not available", current_state=agent.status)
    if agent.free_capacity(task.channel) <= 0:
        raise Rejected(
            ErrorCode.CAPACITY_EXCEEDED, f"the agent has no room for another {task.channel}"
        )
    queue = await router.configuration.queue(task.queue_id)
    if queue is None:
        raise Rejected(
            ErrorCode.UNSUPPORTED_DESTINATION,
            "the conversation's queue is deactivated: transfer to a queue instead",
        )
    return resolved.destination, queue, agent.agent_id


def _queued(uow: UnitOfWork, task: Task, actor: Actor, now: datetime) -> None:
    uow.emit(
        TaskQueued(
            org_id=task.org_id,
            occurred_at=now,
            actor=actor,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=task.status,
            version=task.version,
            because=QueuedBecause.TRANSFERRED,
            queued_at=task.queued_at,
        )
    )
