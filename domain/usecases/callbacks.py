"""Scheduled and personal callbacks (SPEC §9, seed 002): an agent schedules one — during any task
but a campaign contact, or without one — edits or deletes it until its window starts; a durable
timer at the window's start makes the callback task (``domain.usecases.callback_dispatch``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from domain.callbacks.callback import CallbackDraft, CallbackWindow, ScheduledCallback
from domain.callbacks.details import CallbackType
from domain.callbacks.events import CallbackDeleted, CallbackScheduled, CallbackUpdated
from domain.callbacks.rules import CallbackFacts, CallbackInput, check_callback
from domain.callbacks.text import normalized_text
from domain.configuration.queues import DEFAULT_PRIORITY
from domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    Violation,
)
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.tasks.task import TaskKind
from domain.usecases.callback_support import (
    active_agent,
    callback_entry_point,
    queue_entity,
    window_timer,
)


@dataclass(frozen=True)
class ScheduleCallback:
    principal: Principal
    entered: CallbackInput
    # Personal: assigned to ``entered.assignee_id`` (the scheduling agent when not given).
    personal: bool = False
    customer_id: str | None = None
    # Given by the API so that a retried request (same idempotency key) names the same callback.
    callback_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class UpdateCallback:
    """``changes``: the fields to change, None for those kept (an empty reason clears it)."""

    principal: Principal
    callback_id: str
    changes: CallbackInput
    expected_version: int | None = None


@dataclass(frozen=True)
class DeleteCallback:
    principal: Principal
    callback_id: str
    expected_version: int | None = None


async def schedule_callback(
    cmd: ScheduleCallback, uow: UnitOfWork, clock: Clock
) -> ScheduledCallback:
    actor = _agent(cmd.principal)
    org_id = cmd.principal.org_id
    await callback_entry_point(uow, org_id)
    entered = cmd.entered
    if cmd.personal and entered.assignee_id is None:
        entered = replace(entered, assignee_id=cmd.principal.subject)
    now = clock.now()
    extra = [] if cmd.personal or entered.assignee_id is None else [_not_personal()]
    draft = await _checked(uow, cmd.principal, entered, cmd.customer_id, now, extra)
    callback = ScheduledCallback(
        callback_id=cmd.callback_id,
        org_id=org_id,
        callback_type=CallbackType.PERSONAL if cmd.personal else CallbackType.SCHEDULED,
        draft=draft,
        created_by=cmd.principal.subject,
        created_at=now,
        origin_task_id=entered.task_id,
    )
    await uow.callbacks.add(callback)
    await uow.timers.schedule(window_timer(callback))
    uow.emit(_told(CallbackScheduled, callback, actor, now))
    return callback


async def update_callback(cmd: UpdateCallback, uow: UnitOfWork, clock: Clock) -> ScheduledCallback:
    actor = _agent(cmd.principal)
    callback = await _own(uow, cmd.principal, cmd.callback_id, cmd.expected_version)
    now = clock.now()
    callback.require_editable(now)
    entered = _merged(callback, cmd.changes)
    personal = callback.callback_type is CallbackType.PERSONAL
    extra = [] if personal or cmd.changes.assignee_id is None else [_not_personal()]
    draft = await _checked(
        uow, cmd.principal, entered, callback.draft.customer_id, now, extra, callback.draft.window
    )
    edited = callback.edited(draft, now)
    await uow.callbacks.save(edited, expected_version=callback.version)
    await uow.timers.cancel(window_timer(callback).id)
    await uow.timers.schedule(window_timer(edited))
    uow.emit(_told(CallbackUpdated, edited, actor, now))
    return edited


async def delete_callback(cmd: DeleteCallback, uow: UnitOfWork, clock: Clock) -> ScheduledCallback:
    actor = _agent(cmd.principal)
    callback = await _own(uow, cmd.principal, cmd.callback_id, cmd.expected_version)
    now = clock.now()
    callback.require_editable(now)
    await uow.callbacks.delete(callback)
    await uow.timers.cancel(window_timer(callback).id)
    uow.emit(
        CallbackDeleted(
            org_id=callback.org_id,
            occurred_at=now,
            actor=actor,
            callback_id=callback.callback_id,
            callback_type=callback.callback_type,
            version=callback.version + 1,
        )
    )
    return callback


# --- helpers ------------------------------------------------------------------------------------

T = TypeVar("T")


def _keep(new: T | None, old: T) -> T:
    return old if new is None else new


def _agent(principal: Principal) -> Actor:
    if not principal.has(Role.AGENT):
        raise Forbidden("only agents schedule and manage callbacks")
    return Actor(ActorKind.AGENT, principal.subject)


def _told(
    event: type[CallbackScheduled | CallbackUpdated],
    callback: ScheduledCallback,
    actor: Actor,
    now: datetime,
) -> CallbackScheduled | CallbackUpdated:
    return event(
        org_id=callback.org_id,
        occurred_at=now,
        actor=actor,
        callback_id=callback.callback_id,
        callback_type=callback.callback_type,
        version=callback.version,
        queue_id=callback.draft.queue_id,
        starts_at=callback.starts_at,
        assignee_id=callback.draft.assignee_id,
    )


def _not_personal() -> Violation:
    return Violation("assigneeId", "personal_only", "only a personal callback has an assignee")


async def _checked(
    uow: UnitOfWork,
    principal: Principal,
    entered: CallbackInput,
    customer_id: str | None,
    now: datetime,
    extra: list[Violation],
    kept: CallbackWindow | None = None,
) -> CallbackDraft:
    """The validated draft. ``kept``: the window an edited callback has, which the lead rules do
    not apply to again unless the edit moves it."""
    facts = await _facts(uow, principal, entered)
    checked = check_callback(entered, facts, now, new_window=kept is None)
    if kept is not None and checked.window is not None and not _same_window(checked.window, kept):
        checked = check_callback(entered, facts, now)
    violations = [*checked.violations, *extra]
    if violations:
        raise ValidationFailed(violations)
    assert checked.window is not None
    assert entered.queue_id is not None
    assert entered.customer_number is not None
    assert entered.customer_name is not None
    reason = normalized_text(entered.reason) if entered.reason else None
    return CallbackDraft(
        customer_number=entered.customer_number,
        customer_name=normalized_text(entered.customer_name),
        customer_id=customer_id,
        window=checked.window,
        queue_id=entered.queue_id,
        reason=reason or None,
        assignee_id=entered.assignee_id,
        priority=DEFAULT_PRIORITY if entered.priority is None else entered.priority,
    )


async def _facts(uow: UnitOfWork, principal: Principal, entered: CallbackInput) -> CallbackFacts:
    org_id = principal.org_id
    assignee_id = entered.assignee_id
    return CallbackFacts(
        queue=await queue_entity(uow, org_id, entered.queue_id),
        scheduler=await active_agent(uow, org_id, principal.subject),
        assignee=None if assignee_id is None else await active_agent(uow, org_id, assignee_id),
        task_kind=await _task_kind(uow, principal, entered.task_id),
    )


async def _task_kind(uow: UnitOfWork, principal: Principal, task_id: str | None) -> TaskKind | None:
    """The kind of the task the agent schedules from; None when they are not on such a task."""
    if task_id is None:
        return None
    task = await uow.tasks.get(principal.org_id, task_id)
    if task is None:
        return None
    on_it = task.agent_id == principal.subject or any(
        p.agent_id == principal.subject for p in task.participants
    )
    return task.kind if on_it else None


async def _own(
    uow: UnitOfWork, principal: Principal, callback_id: str, expected_version: int | None
) -> ScheduledCallback:
    """The callback, if this agent may manage it: any agent a scheduled one, the scheduling agent
    and the assignee a personal one."""
    callback = await uow.callbacks.get(principal.org_id, callback_id)
    if callback is None:
        raise NotFound("CALLBACK", callback_id)
    if callback.callback_type is CallbackType.PERSONAL and principal.subject not in (
        callback.created_by,
        callback.draft.assignee_id,
    ):
        raise Forbidden("a personal callback is managed by its scheduler and its assignee only")
    if expected_version is not None and expected_version != callback.version:
        raise Conflict(
            "the callback was changed meanwhile; re-read it", current_version=callback.version
        )
    return callback


def _same_window(one: CallbackWindow, other: CallbackWindow) -> bool:
    return (one.starts_at, one.ends_at, one.time_zone) == (
        other.starts_at,
        other.ends_at,
        other.time_zone,
    )


def _merged(callback: ScheduledCallback, changes: CallbackInput) -> CallbackInput:
    draft = callback.draft
    window = draft.window

    return CallbackInput(
        customer_number=_keep(changes.customer_number, draft.customer_number),
        customer_name=_keep(changes.customer_name, draft.customer_name),
        date=_keep(changes.date, window.date),
        window_start=_keep(changes.window_start, window.start),
        window_end=_keep(changes.window_end, window.end),
        time_zone=_keep(changes.time_zone, window.time_zone),
        queue_id=_keep(changes.queue_id, draft.queue_id),
        reason=_keep(changes.reason, draft.reason),
        priority=_keep(changes.priority, draft.priority),
        assignee_id=_keep(changes.assignee_id, draft.assignee_id),
    )
