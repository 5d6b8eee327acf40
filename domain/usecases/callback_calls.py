"""Callbacks connectors ask for and report on (integration role), and the agent cancelling one
(SPEC §6, §9; seed 002):

- courtesy: a waiting voice customer chooses to be called back; the task becomes a callback and
  keeps its place in line;
- web: a form or a bot asks for a callback with a name and a number; a new callback task waits in
  the callback entry point's queue (or the queue given);
- once an agent accepted a callback the system dials the customer, and the connector reports
  whether they answered (then it is an ordinary call) or not (back to the queue, keeping its age);
- before the customer answers, the agent may cancel the callback (then wrap-up).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.callbacks import dialing
from domain.callbacks.details import REASON_VARIABLE, CallbackType, TaskCallback
from domain.callbacks.events import CallbackRequested
from domain.callbacks.rules import check_web_callback
from domain.callbacks.text import normalized_text, phone_rules
from domain.channels import Channel
from domain.configuration.entry_points import EntryPoint
from domain.configuration.queues import DEFAULT_PRIORITY, Queue
from domain.errors import Forbidden, InvalidState, ValidationFailed
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.tasks.events import QueuedBecause
from domain.tasks.participants import CallAction
from domain.tasks.task import CadValue, Customer, Task, TaskKind, TaskStatus
from domain.usecases.call_access import agent_access, save_call, task_of
from domain.usecases.callback_support import callback_entry_point, queue_entity, queued
from domain.usecases.routing import RouteQueue, Router
from domain.validation import Rules


@dataclass(frozen=True)
class RequestCourtesyCallback:
    principal: Principal
    task_id: str
    # The number to call back; the caller's (ani) when not given.
    number: str | None = None


@dataclass(frozen=True)
class RequestWebCallback:
    principal: Principal
    customer_name: str | None
    customer_number: str | None
    queue_id: str | None = None
    reason: str | None = None
    customer_id: str | None = None
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class CallbackTask:
    """``report_callback_answered``, ``report_callback_not_answered``, ``cancel_callback``."""

    principal: Principal
    task_id: str


def _require_integration(principal: Principal) -> Actor:
    if not principal.has(Role.INTEGRATION):
        raise Forbidden("only a connector (integration role) requests and reports callbacks")
    return Actor(ActorKind.INTEGRATION, principal.subject)


async def request_courtesy_callback(
    cmd: RequestCourtesyCallback, uow: UnitOfWork, clock: Clock
) -> Task:
    actor = _require_integration(cmd.principal)
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    if task.channel is not Channel.VOICE:
        raise ValidationFailed.single("taskId", "voice_only", "only a waiting call can be one")
    if task.kind is not TaskKind.NORMAL:
        raise InvalidState(
            "the task is already a callback, or not a customer's call",
            current_state=task.kind.value,
        )
    if task.status is not TaskStatus.QUEUED:
        raise InvalidState("only a call still waiting in its queue", current_state=task.status)
    number = cmd.number or task.ani or task.customer.address
    rules = Rules()
    phone_rules(rules, "number", number)
    rules.check()
    assert number is not None
    now = clock.now()
    # Same task, same queued_at: the callback keeps the customer's place in line.
    callback = task.changed(
        kind=TaskKind.CALLBACK,
        callback=TaskCallback(callback_type=CallbackType.COURTESY, number=number),
    )
    await uow.tasks.save(callback, expected_version=task.version)
    uow.emit(_requested(callback, actor, now))
    return callback


async def request_web_callback(cmd: RequestWebCallback, uow: UnitOfWork, clock: Clock) -> Task:
    actor = _require_integration(cmd.principal)
    org_id = cmd.principal.org_id
    entry_point = await callback_entry_point(uow, org_id)
    queue_id = cmd.queue_id or entry_point.queue_id
    queue = await queue_entity(uow, org_id, queue_id)
    violations = check_web_callback(
        customer_number=cmd.customer_number,
        customer_name=cmd.customer_name,
        reason=cmd.reason,
        queue_id=queue_id,
        queue=queue,
    )
    if violations:
        raise ValidationFailed(violations)
    assert queue is not None
    now = clock.now()
    task = _web_task(cmd, entry_point, queue, now)
    await uow.tasks.add(task)
    uow.emit(queued(task, actor, now, QueuedBecause.CALLBACK), _requested(task, actor, now))
    if await Router(uow, clock, org_id).agent_for(task) is None:
        uow.defer(RouteQueue(org_id, queue.id))
        return task
    stored = await uow.tasks.get(org_id, task.task_id)
    assert stored is not None
    return stored


async def report_callback_answered(cmd: CallbackTask, uow: UnitOfWork, clock: Clock) -> Task:
    """The dialled customer answered: they join, and the call goes on as any voice call."""
    _require_integration(cmd.principal)
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    now = clock.now()
    after = dialing.customer_answered(task, now)
    return await save_call(uow, task, after, actor=_customer(task), now=now)


async def report_callback_not_answered(cmd: CallbackTask, uow: UnitOfWork, clock: Clock) -> Task:
    """The customer did not answer: the callback goes back to its queue with its age, the agent's
    slot is freed (no wrap-up: there was no conversation)."""
    _require_integration(cmd.principal)
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    now = clock.now()
    after = dialing.customer_not_answered(task, now)
    customer = _customer(task)
    saved = await save_call(uow, task, after, actor=customer, now=now)
    uow.emit(queued(saved, customer, now, QueuedBecause.CALLBACK_NOT_ANSWERED))
    uow.defer(RouteQueue(saved.org_id, saved.queue_id))
    return saved


async def cancel_callback(cmd: CallbackTask, uow: UnitOfWork, clock: Clock) -> Task:
    """The agent cancels the callback before the customer answers; they go to wrap-up."""
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.END)
    now = clock.now()
    after = dialing.cancelled(access.task, now)
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


def _customer(task: Task) -> Actor:
    return Actor(ActorKind.CUSTOMER, task.customer.customer_id or task.task_id)


def _requested(task: Task, actor: Actor, now: datetime) -> CallbackRequested:
    assert task.callback is not None
    return CallbackRequested(
        org_id=task.org_id,
        occurred_at=now,
        actor=actor,
        callback_id=task.task_id,
        callback_type=task.callback.callback_type,
        version=task.version,
        task_id=task.task_id,
        queue_id=task.queue_id,
    )


def _web_task(
    cmd: RequestWebCallback, entry_point: EntryPoint, queue: Queue, now: datetime
) -> Task:
    assert cmd.customer_number is not None
    assert cmd.customer_name is not None
    reason = normalized_text(cmd.reason) if cmd.reason else None
    return Task(
        task_id=cmd.task_id,
        org_id=cmd.principal.org_id,
        channel=Channel.VOICE,
        kind=TaskKind.CALLBACK,
        entry_point_id=entry_point.id,
        queue_id=queue.id,
        customer=Customer(
            name=normalized_text(cmd.customer_name),
            customer_id=cmd.customer_id,
            address=cmd.customer_number,
        ),
        dnis=entry_point.address,
        cad=()
        if not reason
        else (
            CadValue(
                name=REASON_VARIABLE,
                value=reason,
                version=1,
                saved_by=Actor(ActorKind.INTEGRATION, cmd.principal.subject),
                saved_at=now,
            ),
        ),
        required_skills=tuple((s.name, s.min_level) for s in queue.required_skills),
        queue_priority=queue.priority,
        priority=DEFAULT_PRIORITY,
        created_at=now,
        queued_at=now,
        status_since=now,
        callback=TaskCallback(
            callback_type=CallbackType.WEB, number=cmd.customer_number, reason=reason or None
        ),
    )
