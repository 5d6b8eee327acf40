"""What every call-control use case does around the move itself: find the task and the caller's
place on it, check the permission matrix, and store the move with its timeline — freeing the
capacity of agents whose part is over and arming the wrap-up timeouts of those who now owe one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.configuration.policies import OrganizationPolicies
from domain.errors import Forbidden, InvalidState, NotFound
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import UnitOfWork
from domain.tasks.consults import Destination
from domain.tasks.participants import CallAction, Participant, require_permitted
from domain.tasks.task import Task
from domain.tasks.timeline import call_events
from domain.timers import Timer, TimerKind, timer_id
from domain.usecases.routing import RouteAgent
from domain.usecases.session_events import session_completed


@dataclass(frozen=True)
class CallAccess:
    task: Task
    party: Participant
    actor: Actor


async def task_of(uow: UnitOfWork, org_id: str, task_id: str) -> Task:
    task = await uow.tasks.get(org_id, task_id)
    if task is None:
        raise NotFound("TASK", task_id)
    return task


async def agent_access(
    uow: UnitOfWork, principal: Principal, task_id: str, action: CallAction
) -> CallAccess:
    """The calling agent's live place on the task, allowed ``action`` by its role. An agent not
    on the task is told it does not exist: other agents' calls are none of their business."""
    if not principal.has(Role.AGENT):
        raise Forbidden("only agents control calls")
    task = await task_of(uow, principal.org_id, task_id)
    party = (
        task.wrap_up_owed_by(principal.subject)
        if action is CallAction.WRAP_UP
        else task.present_agent(principal.subject)
    )
    if party is None:
        if principal.subject in task.involved_agent_ids or _was_on(task, principal.subject):
            if action is CallAction.WRAP_UP:
                raise Forbidden(f"you are no longer on this call: you may not {_verb(action)}")
            # Their part is over (transferred, ended, exited): a move that came too late, as when
            # two moves race, is refused with where the call now stands.
            raise InvalidState("you are no longer on this call", current_state=task.status)
        raise NotFound("TASK", task_id)
    require_permitted(party.role, action)
    return CallAccess(task, party, Actor(ActorKind.AGENT, principal.subject))


async def policies_of(uow: UnitOfWork, org_id: str) -> OrganizationPolicies:
    return await uow.policies.get(org_id) or OrganizationPolicies(org_id=org_id)


async def save_call(
    uow: UnitOfWork,
    before: Task,
    after: Task,
    *,
    actor: Actor,
    now: datetime,
    transferred_to: Destination | None = None,
) -> Task:
    """Store the move, tell its timeline, settle the agents' capacity and wrap-up timers."""
    await uow.tasks.save(after, expected_version=before.version)
    deadline = await _arm_wrap_up_timeouts(uow, before, after, now)
    uow.emit(
        *call_events(
            before,
            after,
            actor=actor,
            now=now,
            transferred_to=transferred_to,
            wrap_up_deadline=deadline,
        )
    )
    for party in _parts_over(before, after):
        assert party.agent_id is not None
        await free_slot(uow, after, party.agent_id, now, actor)
    completed = await session_completed(uow, before, after, now=now, actor=actor)
    if completed is not None:
        uow.emit(completed)
    return after


async def free_slot(uow: UnitOfWork, task: Task, agent_id: str, now: datetime, by: Actor) -> None:
    """The agent's part in ``task`` is over: one task of its channel less, and routing may offer
    the freed slot (or apply a pending next state, when this was the last task)."""
    session = await uow.agent_sessions.get(task.org_id, agent_id)
    if session is None or session.tasks_on(task.channel) == 0:
        return
    change = session.adjust_load(task.channel, tasks=-1, now=now, by=by)
    await uow.agent_sessions.save(change.session, expected_version=session.version)
    uow.emit(*change.events)
    uow.defer(RouteAgent(task.org_id, agent_id))


def wrap_up_timer_id(party: Participant) -> str:
    return timer_id(TimerKind.WRAP_UP_TIMEOUT, party.participant_id, None)


def _parts_over(before: Task, after: Task) -> list[Participant]:
    """Agent entries that held a slot before (on the call or owing a wrap-up) and hold none now."""
    live = {
        p.participant_id
        for p in before.participants
        if p.agent_id and p.is_agent and (p.present or p.wrap_up_due)
    }
    return [
        p
        for p in after.participants
        if p.participant_id in live and not p.present and not p.wrap_up_due
    ]


async def _arm_wrap_up_timeouts(
    uow: UnitOfWork, before: Task, after: Task, now: datetime
) -> datetime | None:
    owed = {p.participant_id for p in before.participants if p.wrap_up_due}
    starting = [p for p in after.participants if p.wrap_up_due and p.participant_id not in owed]
    finished = [
        p for p in before.participants if p.wrap_up_due and not _still_owes(after, p.participant_id)
    ]
    for party in finished:
        await uow.timers.cancel(wrap_up_timer_id(party))
    if not starting:
        return None
    policies = await policies_of(uow, after.org_id)
    if policies.wrap_up_timeout_seconds is None:
        return None
    deadline = now + timedelta(seconds=policies.wrap_up_timeout_seconds)
    for party in starting:
        await uow.timers.schedule(
            Timer.at(
                deadline,
                org_id=after.org_id,
                kind=TimerKind.WRAP_UP_TIMEOUT,
                target_id=party.participant_id,
                expected_version=None,
                payload={"task_id": after.task_id, "agent_id": party.agent_id or ""},
            )
        )
    return deadline


def _still_owes(task: Task, participant_id: str) -> bool:
    party = task.participant(participant_id)
    return party is not None and party.wrap_up_due


def _was_on(task: Task, agent_id: str) -> bool:
    return any(p.agent_id == agent_id for p in task.participants)


def _verb(action: CallAction) -> str:
    return action.value.lower().replace("_", " ")
