"""Tasks an agent starts rather than answers — outbound conversations, elevations, "new"
contacts: built as if just offered to the agent, and taken at once (SPEC §4: "outbound tasks
start directly CONNECTED")."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from domain.agents.session import AgentSession
from domain.channels import Channel, Direction
from domain.configuration.queues import DEFAULT_PRIORITY
from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.tasks.events import TaskConnected
from domain.tasks.status import TaskStatus
from domain.tasks.task import Customer, Task
from domain.usecases.call_access import policies_of


def new_outbound_task(
    *,
    task_id: str,
    org_id: str,
    channel: Channel,
    entry_point_id: str,
    queue_id: str,
    customer: Customer,
    now: datetime,
    subject: str | None = None,
    session_id: str | None = None,
    ani: str | None = None,
    dnis: str | None = None,
) -> Task:
    """An agent-initiated task as if just offered to its agent; ``take_new_task`` accepts it."""
    return Task(
        task_id=task_id,
        org_id=org_id,
        channel=channel,
        direction=Direction.OUTBOUND,
        entry_point_id=entry_point_id,
        queue_id=queue_id,
        customer=customer,
        subject=subject,
        ani=ani,
        dnis=dnis,
        # Never waits in a queue: it starts as the agent's offer, accepted in the same breath.
        status=TaskStatus.OFFERED,
        queue_priority=DEFAULT_PRIORITY,
        priority=DEFAULT_PRIORITY,
        created_at=now,
        queued_at=now,
        status_since=now,
        session_id=session_id,
    )


async def take_new_task(
    uow: UnitOfWork, session: AgentSession, offered: Task, now: datetime, by: Actor
) -> Task:
    """The agent takes the task at once: ``CONNECTED`` with customer and primary agent on it
    (a call records as the policy says), one task more on the agent's load."""
    policies = await policies_of(uow, session.org_id)
    pending = dataclasses.replace(offered, agent_id=session.agent_id)
    task = pending.connected(
        now, agent_name=session.agent_name, recording=policies.recording_enabled
    )
    await uow.tasks.add(task)
    change = session.adjust_load(task.channel, tasks=1, now=now, by=by)
    await uow.agent_sessions.save(change.session, expected_version=session.version)
    uow.emit(
        *change.events,
        TaskConnected(
            org_id=task.org_id,
            occurred_at=now,
            actor=by,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=task.status,
            version=task.version,
            agent_id=session.agent_id,
        ),
    )
    return task
