"""Transfers (SPEC §6, seed 002): to the consulted party (warm), to a queue or an entry point, or
blind to an agent or a dial number. The transferring agent leaves the call and wraps up."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ErrorCode, Rejected
from domain.identity import Principal
from domain.ports import Clock, UnitOfWork
from domain.tasks import call
from domain.tasks.consults import DestinationKind
from domain.tasks.events import QueuedBecause, TaskQueued
from domain.tasks.participants import CallAction
from domain.tasks.task import Task
from domain.usecases.call_access import agent_access, save_call
from domain.usecases.destinations import require_reachable, resolve
from domain.usecases.routing import RouteQueue, Router


@dataclass(frozen=True)
class TransferCall:
    principal: Principal
    task_id: str
    # None: to the party of the connected consult (a warm transfer).
    kind: DestinationKind | None = None
    destination_id: str | None = None


async def transfer_call(cmd: TransferCall, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.TRANSFER)
    task = access.task
    now = clock.now()
    if cmd.kind is None or cmd.destination_id is None:
        consult = task.consult
        after = call.transfer_to_consulted(task, now)
        destination = consult.destination if consult else None
        return await save_call(
            uow, task, after, actor=access.actor, now=now, transferred_to=destination
        )
    resolved = await resolve(
        uow, task.org_id, cmd.kind, cmd.destination_id, caller_id=cmd.principal.subject
    )
    if resolved.external:
        after = call.transferred_out(task, resolved.destination, now)
        return await save_call(
            uow, task, after, actor=access.actor, now=now, transferred_to=resolved.destination
        )
    router = Router(uow, clock, task.org_id)
    queue = resolved.queue or await router.configuration.queue(task.queue_id)
    if queue is None:
        raise Rejected(ErrorCode.UNSUPPORTED_DESTINATION, "the call's queue is deactivated")
    if resolved.agent is not None:
        require_reachable(resolved.agent)
    after = call.transferred_to_queue(
        task,
        now,
        queue_id=queue.id,
        queue_priority=queue.priority,
        required_skills=tuple((s.name, s.min_level) for s in queue.required_skills)
        if resolved.queue
        else task.required_skills,
        entry_point_id=resolved.entry_point.id if resolved.entry_point else None,
    )
    saved = await save_call(
        uow, task, after, actor=access.actor, now=now, transferred_to=resolved.destination
    )
    uow.emit(
        TaskQueued(
            org_id=saved.org_id,
            occurred_at=now,
            actor=access.actor,
            task_id=saved.task_id,
            queue_id=saved.queue_id,
            channel=saved.channel,
            status=saved.status,
            version=saved.version,
            because=QueuedBecause.TRANSFERRED,
            queued_at=saved.queued_at,
        )
    )
    if resolved.agent is not None:
        await router.reserve(saved, resolved.agent, queue)
    elif await router.agent_for(saved) is None:
        uow.defer(RouteQueue(task.org_id, queue.id))
    stored = await uow.tasks.get(task.org_id, task.task_id)
    assert stored is not None
    return stored
