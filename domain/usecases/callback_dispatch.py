"""The window of a scheduled callback opens: its durable timer makes the callback task in the
queue (a personal one offered to its assignee first), with the callback's priority (the default
unless set), and routes it (SPEC §9).

Exactly once: the timer's removal, the callback turning ``DISPATCHED`` (conditional on the version
the timer was set for) and the new task (its id is the callback's) commit in one transaction, so
a repeated or late firing — another instance, a restart — finds the callback dispatched and does
nothing. At the organization's concurrent-call limit the callback is not lost: it stays
``PENDING``, says why, and the timer is set again a little later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.callbacks.callback import CallbackStatus, ScheduledCallback
from domain.callbacks.details import REASON_VARIABLE, CallbackType, TaskCallback
from domain.callbacks.events import CallbackDispatchDeferred, CallbackDispatched
from domain.channels import Channel
from domain.configuration.entry_points import EntryPoint
from domain.configuration.queues import DEFAULT_PRIORITY
from domain.errors import ErrorCode, Rejected
from domain.identity import Actor
from domain.ports import Clock, UnitOfWork
from domain.tasks.events import QueuedBecause
from domain.tasks.task import CadValue, Customer, Task, TaskKind
from domain.timers import Timer, TimerHandler, TimerKind
from domain.usecases.call_access import policies_of
from domain.usecases.callback_support import callback_entry_point, queue_entity, queued
from domain.usecases.routing import RouteQueue, Router

CALLBACK_TIMER = Actor.system("callback-window")
DEFAULT_RETRY = timedelta(seconds=30)


def callback_window_handler(retry: timedelta = DEFAULT_RETRY) -> TimerHandler:
    """The ``CALLBACK_WINDOW`` timer handler; ``retry``: how long a deferred dispatch waits."""

    async def on_callback_window(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
        callback = await uow.callbacks.get(timer.org_id, timer.target_id)
        if (
            callback is None
            or callback.status is not CallbackStatus.PENDING
            or callback.version != timer.expected_version
        ):
            return  # deleted, dispatched, or edited since (its new version has its own timer)
        now = clock.now()
        try:
            entry_point = await _ready_to_dispatch(uow, callback.org_id)
        except Rejected as refusal:
            await _defer(uow, callback, ErrorCode(refusal.code), now, now + retry)
            return
        await dispatch(uow, clock, callback, entry_point, now)

    return on_callback_window


async def dispatch(
    uow: UnitOfWork,
    clock: Clock,
    callback: ScheduledCallback,
    entry_point: EntryPoint,
    now: datetime,
) -> Task:
    task = await _callback_task(uow, callback, entry_point, now)
    await uow.callbacks.save(
        callback.dispatched(task.task_id, now), expected_version=callback.version
    )
    await uow.tasks.add(task)
    uow.emit(
        queued(task, CALLBACK_TIMER, now, QueuedBecause.CALLBACK),
        CallbackDispatched(
            org_id=task.org_id,
            occurred_at=now,
            actor=CALLBACK_TIMER,
            callback_id=callback.callback_id,
            callback_type=callback.callback_type,
            version=callback.version + 1,
            task_id=task.task_id,
            queue_id=task.queue_id,
        ),
    )
    if await Router(uow, clock, task.org_id).agent_for(task) is None:
        uow.defer(RouteQueue(task.org_id, task.queue_id))
    return task


async def _ready_to_dispatch(uow: UnitOfWork, org_id: str) -> EntryPoint:
    entry_point = await callback_entry_point(uow, org_id)
    limit = (await policies_of(uow, org_id)).concurrent_call_limit
    if limit is not None and await uow.tasks.active_calls(org_id) >= limit:
        raise Rejected(
            ErrorCode.CONCURRENT_CALL_LIMIT, f"the organization is at its limit of {limit} calls"
        )
    return entry_point


async def _defer(
    uow: UnitOfWork, callback: ScheduledCallback, because: ErrorCode, now: datetime, at: datetime
) -> None:
    deferred = callback.deferred(because, now)
    await uow.callbacks.save(deferred, expected_version=callback.version)
    # Same callback, next version: a timer of its own, due at the retry instant.
    await uow.timers.schedule(
        Timer.at(
            at,
            org_id=deferred.org_id,
            kind=TimerKind.CALLBACK_WINDOW,
            target_id=deferred.callback_id,
            expected_version=deferred.version,
        )
    )
    uow.emit(
        CallbackDispatchDeferred(
            org_id=deferred.org_id,
            occurred_at=now,
            actor=CALLBACK_TIMER,
            callback_id=deferred.callback_id,
            callback_type=deferred.callback_type,
            version=deferred.version,
            reason=because.value,
            retry_at=at,
        )
    )


async def _callback_task(
    uow: UnitOfWork, callback: ScheduledCallback, entry_point: EntryPoint, now: datetime
) -> Task:
    draft = callback.draft
    # A queue deactivated since scheduling still gets the task: it waits there, visible to
    # supervisors, rather than the customer's callback being dropped.
    queue = await queue_entity(uow, callback.org_id, draft.queue_id)
    # Kept as the connector's values are: version 1, by whoever made the callback happen.
    reason = (
        ()
        if draft.reason is None
        else (
            CadValue(
                name=REASON_VARIABLE,
                value=draft.reason,
                version=1,
                saved_by=CALLBACK_TIMER,
                saved_at=now,
            ),
        )
    )
    return Task(
        task_id=callback.callback_id,
        org_id=callback.org_id,
        channel=Channel.VOICE,
        kind=TaskKind.CALLBACK,
        entry_point_id=entry_point.id,
        queue_id=draft.queue_id,
        customer=Customer(
            name=draft.customer_name, customer_id=draft.customer_id, address=draft.customer_number
        ),
        dnis=entry_point.address,
        cad=reason,
        required_skills=()
        if queue is None
        else tuple((s.name, s.min_level) for s in queue.required_skills),
        queue_priority=DEFAULT_PRIORITY if queue is None else queue.priority,
        priority=draft.priority,
        created_at=now,
        queued_at=now,
        status_since=now,
        callback=TaskCallback(
            callback_type=callback.callback_type,
            number=draft.customer_number,
            reason=draft.reason,
            callback_id=callback.callback_id,
        ),
        preferred_agent_id=draft.assignee_id
        if callback.callback_type is CallbackType.PERSONAL
        else None,
    )
