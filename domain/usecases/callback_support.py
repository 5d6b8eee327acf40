"""What the callback use cases share: the window timer, the callback entry point, the entities the
rules look at, and how a new callback task is told."""

from __future__ import annotations

from datetime import datetime

from domain.callbacks.callback import ScheduledCallback
from domain.configuration.agents import Agent
from domain.configuration.base import ConfigKind
from domain.configuration.entry_points import EntryPoint
from domain.configuration.queues import Queue
from domain.errors import ErrorCode, Rejected
from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.tasks.events import QueuedBecause, TaskQueued
from domain.tasks.task import Task
from domain.timers import Timer, TimerKind
from domain.usecases.call_access import policies_of


def window_timer(callback: ScheduledCallback) -> Timer:
    """The timer that opens the window of this version of the callback: editing it makes a new
    version, so a timer of an older one finds the callback moved on and does nothing."""
    return Timer.at(
        callback.starts_at,
        org_id=callback.org_id,
        kind=TimerKind.CALLBACK_WINDOW,
        target_id=callback.callback_id,
        expected_version=callback.version,
    )


async def callback_entry_point(uow: UnitOfWork, org_id: str) -> EntryPoint:
    """The organization's (active) callback entry point, or ``NO_ENTRY_POINT``."""
    policies = await policies_of(uow, org_id)
    entry_point_id = policies.callback_entry_point_id
    entity = (
        None
        if entry_point_id is None
        else await uow.configuration.get(org_id, ConfigKind.ENTRY_POINT, entry_point_id)
    )
    if not isinstance(entity, EntryPoint) or not entity.active:
        raise Rejected(
            ErrorCode.NO_ENTRY_POINT,
            "callbacks need the organization's callback entry point: an admin sets "
            "callbackEntryPointId in the organization's policies",
        )
    return entity


async def active_agent(uow: UnitOfWork, org_id: str, agent_id: str) -> Agent | None:
    entity = await uow.configuration.get(org_id, ConfigKind.AGENT, agent_id)
    return entity if isinstance(entity, Agent) and entity.active else None


async def queue_entity(uow: UnitOfWork, org_id: str, queue_id: str | None) -> Queue | None:
    if queue_id is None:
        return None
    entity = await uow.configuration.get(org_id, ConfigKind.QUEUE, queue_id)
    return entity if isinstance(entity, Queue) else None


def queued(task: Task, actor: Actor, now: datetime, because: QueuedBecause) -> TaskQueued:
    """The task's timeline entry for a callback task entering (or re-entering) its queue."""
    return TaskQueued(
        org_id=task.org_id,
        occurred_at=now,
        actor=actor,
        task_id=task.task_id,
        queue_id=task.queue_id,
        channel=task.channel,
        status=task.status,
        version=task.version,
        because=because,
        queued_at=task.queued_at,
    )
