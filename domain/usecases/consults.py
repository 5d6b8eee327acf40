"""Consult and conference (SPEC §6, seed 002): the primary agent consults an agent, a queue, an
entry point or a dial number; the consulted agent may exit; the primary ends the consult or turns
it into a conference, which any agent may exit (the primary handing control over)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.configuration.base import ConfigKind
from domain.configuration.teams import Team
from domain.errors import ErrorCode, InvalidState, Rejected
from domain.identity import Actor, Principal
from domain.ports import Clock, UnitOfWork
from domain.tasks import call
from domain.tasks.consults import ConsultRequester, DestinationKind
from domain.tasks.events import QueuedBecause, TaskQueued
from domain.tasks.offers import OfferOutcome
from domain.tasks.participants import CallAction
from domain.tasks.task import Task, TaskKind, TaskStatus
from domain.usecases.call_access import agent_access, save_call
from domain.usecases.contacts import withdraw_offer
from domain.usecases.destinations import (
    Resolved,
    require_agent_based,
    require_reachable,
    resolve,
)
from domain.usecases.routing import RouteQueue, Router


@dataclass(frozen=True)
class ConsultCall:
    principal: Principal
    task_id: str
    kind: DestinationKind
    destination_id: str


@dataclass(frozen=True)
class EndConsult:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class ExitConsult:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class StartConference:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class ExitConference:
    principal: Principal
    task_id: str


async def consult_call(cmd: ConsultCall, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.CONSULT)
    task = access.task
    call.require_consult_possible(task)
    org_id = cmd.principal.org_id
    resolved = await resolve(
        uow, org_id, cmd.kind, cmd.destination_id, caller_id=cmd.principal.subject
    )
    await require_agent_based(uow, org_id, resolved)
    if resolved.agent is not None:
        require_reachable(resolved.agent)
    now = clock.now()
    request_id = None if resolved.external else f"{task.task_id}.c{task.version}"
    after = call.request_consult(task, resolved.destination, now, request_task_id=request_id)
    saved = await save_call(uow, task, after, actor=access.actor, now=now)
    if request_id is not None:
        request = await _consult_request(uow, task, resolved, request_id, access.actor, now)
        await _route_request(uow, clock, request, resolved)
    return saved


async def end_consult(cmd: EndConsult, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.END_CONSULT)
    return await _consult_over(uow, access.task, access.actor, clock.now())


async def exit_consult(cmd: ExitConsult, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.EXIT_CONSULT)
    consult = access.task.consult
    if consult is None or consult.participant_id != access.party.participant_id:
        raise InvalidState("you are not in a consult on this call", current_state="CONFERENCE")
    return await _consult_over(uow, access.task, access.actor, clock.now())


async def start_conference(cmd: StartConference, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.CONFERENCE)
    now = clock.now()
    after = call.start_conference(access.task, now)
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def exit_conference(cmd: ExitConference, uow: UnitOfWork, clock: Clock) -> Task:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.EXIT_CONFERENCE)
    now = clock.now()
    after = call.exit_conference(access.task, cmd.principal.subject, now)
    return await save_call(uow, access.task, after, actor=access.actor, now=now)


async def accept_consult_request(
    uow: UnitOfWork, request: Task, agent_id: str, now: datetime, actor: Actor
) -> Task:
    """The consulted agent answered: they join the call (their answered offer's slot is now their
    part in it) and the request is done."""
    assert request.parent_task_id is not None
    parent = await uow.tasks.get(request.org_id, request.parent_task_id)
    consult = parent.consult if parent else None
    if parent is None or consult is None or consult.request_task_id != request.task_id:
        raise InvalidState("the consult was called off", current_state="CLOSED")
    session = await uow.agent_sessions.get(request.org_id, agent_id)
    name = session.agent_name if session else None
    await uow.tasks.save(request.answered_consult(now), expected_version=request.version)
    joined = call.consult_answered(parent, now, agent_id=agent_id, name=name)
    return await save_call(uow, parent, joined, actor=actor, now=now)


async def cancel_consult_request(
    uow: UnitOfWork, parent: Task, actor: Actor, now: datetime
) -> None:
    """Call off ``parent``'s pending consult request (its offer, if ringing, is withdrawn)."""
    consult = parent.consult
    if consult is None or consult.request_task_id is None or consult.connected:
        return
    request = await uow.tasks.get(parent.org_id, consult.request_task_id)
    if request is None or request.status not in (TaskStatus.QUEUED, TaskStatus.OFFERED):
        return
    await uow.tasks.save(request.called_off(now), expected_version=request.version)
    if request.offer_id is not None:
        await withdraw_offer(uow, request.offer_id, parent.org_id, OfferOutcome.SYSTEM, now, actor)


async def _consult_over(uow: UnitOfWork, task: Task, actor: Actor, now: datetime) -> Task:
    after = call.end_consult(task, now)
    await cancel_consult_request(uow, task, actor, now)
    return await save_call(uow, task, after, actor=actor, now=now)


async def _consult_request(
    uow: UnitOfWork, parent: Task, resolved: Resolved, request_id: str, actor: Actor, now: datetime
) -> Task:
    queue = resolved.queue
    requester = await _requester(uow, parent.org_id, actor.id)
    request = Task(
        task_id=request_id,
        org_id=parent.org_id,
        # A chat conference request (domain.usecases.chat_conference) is offered on its chat.
        channel=parent.channel,
        kind=TaskKind.CONSULT,
        entry_point_id=resolved.entry_point.id if resolved.entry_point else parent.entry_point_id,
        queue_id=queue.id if queue else parent.queue_id,
        customer=parent.customer,
        ani=parent.ani,
        dnis=parent.dnis,
        cad=parent.cad,
        required_skills=tuple((s.name, s.min_level) for s in queue.required_skills)
        if queue
        else (),
        queue_priority=queue.priority if queue else parent.queue_priority,
        priority=parent.priority,
        created_at=now,
        queued_at=now,
        status_since=now,
        parent_task_id=parent.task_id,
        requester=requester,
        consult_destination=resolved.destination,
    )
    await uow.tasks.add(request)
    uow.emit(
        TaskQueued(
            org_id=request.org_id,
            occurred_at=now,
            actor=actor,
            task_id=request.task_id,
            queue_id=request.queue_id,
            channel=request.channel,
            status=request.status,
            version=request.version,
            because=QueuedBecause.NEW,
            queued_at=now,
        )
    )
    return request


async def _route_request(uow: UnitOfWork, clock: Clock, request: Task, resolved: Resolved) -> None:
    router = Router(uow, clock, request.org_id)
    if resolved.agent is not None:
        queue = await router.configuration.queue(request.queue_id)
        if queue is None:
            raise Rejected(
                ErrorCode.UNSUPPORTED_DESTINATION,
                "the call's queue is deactivated: consult the agent through a queue instead",
            )
        await router.reserve(request, resolved.agent, queue)
        return
    if await router.agent_for(request) is None:
        uow.defer(RouteQueue(request.org_id, request.queue_id))


async def _requester(uow: UnitOfWork, org_id: str, agent_id: str) -> ConsultRequester:
    session = await uow.agent_sessions.get(org_id, agent_id)
    team_name = None
    if session is not None and session.team_id is not None:
        team = await uow.configuration.get(org_id, ConfigKind.TEAM, session.team_id)
        team_name = team.name if isinstance(team, Team) else None
    return ConsultRequester(
        agent_id=agent_id,
        agent_name=session.agent_name if session else agent_id,
        dial_number=session.dial_number if session else None,
        team_name=team_name,
    )
