"""A consult request that found no taker: kept apart so that ending an offer (``offer_endings``)
can fail the consult without depending on the consult use cases."""

from __future__ import annotations

from datetime import datetime

from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.tasks import call
from domain.tasks.consults import DestinationKind
from domain.tasks.task import Task
from domain.usecases.call_access import save_call


async def consult_request_missed(
    uow: UnitOfWork, request: Task, now: datetime, actor: Actor
) -> bool:
    """A consult to a named agent that was declined or missed fails (the call goes back to the
    held customer); one to a queue or entry point waits for the next agent. True if it failed."""
    destination = request.consult_destination
    if destination is None or destination.kind is not DestinationKind.AGENT:
        return False
    await uow.tasks.save(request.called_off(now), expected_version=request.version)
    assert request.parent_task_id is not None
    parent = await uow.tasks.get(request.org_id, request.parent_task_id)
    consult = parent.consult if parent else None
    if parent is not None and consult is not None and consult.request_task_id == request.task_id:
        await save_call(uow, parent, call.consult_failed(parent, now), actor=actor, now=now)
    return True
