"""Wrap-up (SPEC §8): the agent who handled a part of the call gives its reason(s); that frees the
agent's capacity and, once the call is over and nobody owes one, closes the task. With a wrap-up
timeout configured, the organization's default reason is applied when it expires."""

from __future__ import annotations

from dataclasses import dataclass

from domain.configuration.base import ConfigKind
from domain.configuration.codes import WrapUpCode
from domain.errors import ValidationFailed, Violation
from domain.identity import Actor, Principal
from domain.ports import Clock, UnitOfWork
from domain.tasks import call
from domain.tasks.participants import CallAction
from domain.tasks.task import Task
from domain.tasks.wrap_up import WrapUp, check_reason_count
from domain.timers import Timer
from domain.usecases.call_access import agent_access, policies_of, save_call

WRAP_UP_TIMER = Actor.system("wrap-up-timeout")


@dataclass(frozen=True)
class SubmitWrapUp:
    principal: Principal
    task_id: str
    code_ids: tuple[str, ...]


async def submit_wrap_up(cmd: SubmitWrapUp, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.WRAP_UP)
    task = access.task
    check_reason_count(task.channel, cmd.code_ids)
    await _require_codes(uow, task.org_id, cmd.code_ids)
    now = clock.now()
    record = WrapUp(
        agent_id=cmd.principal.subject, code_ids=cmd.code_ids, submitted_at=now, by=access.actor
    )
    after = call.wrapped_up(task, cmd.principal.subject, now, record)
    return await save_call(uow, task, after, actor=access.actor, now=now)


async def on_wrap_up_timeout(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
    """The agent did not wrap up in time: the default reason is applied for them."""
    task = await uow.tasks.get(timer.org_id, timer.payload.get("task_id", ""))
    party = task.participant(timer.target_id) if task else None
    if task is None or party is None or not party.wrap_up_due or party.agent_id is None:
        return
    policies = await policies_of(uow, timer.org_id)
    if policies.default_wrap_up_code_id is None:
        return
    now = clock.now()
    record = WrapUp(
        agent_id=party.agent_id,
        code_ids=(policies.default_wrap_up_code_id,),
        submitted_at=now,
        by=WRAP_UP_TIMER,
    )
    after = call.wrapped_up(task, party.agent_id, now, record)
    await save_call(uow, task, after, actor=WRAP_UP_TIMER, now=now)


async def _require_codes(uow: UnitOfWork, org_id: str, code_ids: tuple[str, ...]) -> None:
    violations = []
    for index, code_id in enumerate(code_ids):
        code = await uow.configuration.get(org_id, ConfigKind.WRAP_UP_CODE, code_id)
        if not isinstance(code, WrapUpCode) or not code.active:
            violations.append(
                Violation(
                    f"wrapUpCodeIds.{index}", "reference", f"no active wrap-up code {code_id!r}"
                )
            )
    if violations:
        raise ValidationFailed(violations)
