"""Chat conference (SPEC §10, seed 004): the primary agent asks another agent into the chat —
``CONFERENCE_REQUESTED``, an offer made through the consult-request machinery (a ``CONSULT`` task
routing offers, with its deadline and RONA) — which becomes ``CONFERENCE`` when that agent
accepts, with an "agent joined" line both sides see. "End conference" ends it (primary) or one's
own part in it (the conference agent); before it is accepted it calls the request off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import ErrorCode, Forbidden, InvalidState, Rejected, ValidationFailed
from domain.identity import Actor, Principal
from domain.messaging import chat
from domain.messaging.message import Notice
from domain.ports import Clock, UnitOfWork
from domain.tasks.consults import DestinationKind
from domain.tasks.participants import ParticipantRole
from domain.tasks.task import Task
from domain.usecases import consults
from domain.usecases.call_access import save_call
from domain.usecases.chat import writer_access
from domain.usecases.destinations import FIELD, resolve
from domain.usecases.messages import record_notice


@dataclass(frozen=True)
class RequestChatConference:
    principal: Principal
    task_id: str
    agent_id: str


@dataclass(frozen=True)
class EndChatConference:
    principal: Principal
    task_id: str


async def request_chat_conference(
    cmd: RequestChatConference, uow: UnitOfWork, clock: Clock
) -> Task:
    task, agent_id = await writer_access(uow, cmd.principal, cmd.task_id)
    actor = cmd.principal.as_actor()
    _require_primary(task, agent_id)
    chat.require_conference_possible(task)
    resolved = await resolve(
        uow, task.org_id, DestinationKind.AGENT, cmd.agent_id, caller_id=agent_id
    )
    assert resolved.agent is not None
    if not resolved.agent.accepts_offers:
        raise InvalidState("the agent is not available", current_state=resolved.agent.status)
    if resolved.agent.free_capacity(task.channel) <= 0:
        raise Rejected(
            ErrorCode.CAPACITY_EXCEEDED, f"the agent has no room for another {task.channel}"
        )
    if task.present_agent(cmd.agent_id) is not None:
        raise ValidationFailed.single(FIELD, "not_present", "the agent is already in the chat")
    now = clock.now()
    request_id = f"{task.task_id}.c{task.version}"
    after = chat.request_conference(task, resolved.destination, now, request_task_id=request_id)
    saved = await save_call(uow, task, after, actor=actor, now=now)
    request = await consults._consult_request(uow, task, resolved, request_id, actor, now)
    await consults._route_request(uow, clock, request, resolved)
    return saved


async def accept_conference_request(
    uow: UnitOfWork, request: Task, agent_id: str, now: datetime, actor: Actor
) -> Task:
    """The requested agent accepted: they join the chat, and everyone reads "agent joined"."""
    assert request.parent_task_id is not None
    parent = await uow.tasks.get(request.org_id, request.parent_task_id)
    consult = parent.consult if parent else None
    if parent is None or consult is None or consult.request_task_id != request.task_id:
        raise InvalidState("the conference request was called off", current_state="CLOSED")
    session = await uow.agent_sessions.get(request.org_id, agent_id)
    await uow.tasks.save(request.answered_consult(now), expected_version=request.version)
    joined = chat.conference_joined(
        parent, now, agent_id=agent_id, name=session.agent_name if session else None
    )
    await record_notice(
        uow,
        now,
        task=parent,
        notice=Notice.AGENT_JOINED,
        actor=actor,
        to_customer=True,
        agent_id=agent_id,
    )
    return await save_call(uow, parent, joined, actor=actor, now=now)


async def end_chat_conference(cmd: EndChatConference, uow: UnitOfWork, clock: Clock) -> Task:
    task, agent_id = await writer_access(uow, cmd.principal, cmd.task_id)
    actor = cmd.principal.as_actor()
    now = clock.now()
    if chat.conference_state(task) is chat.ConferenceState.CONFERENCE_REQUESTED:
        _require_primary(task, agent_id)
        await consults.cancel_consult_request(uow, task, actor, now)
        return await save_call(
            uow, task, chat.conference_called_off(task, now), actor=actor, now=now
        )
    after, left = chat.conference_ended(task, agent_id, now)
    for leaving in left:
        await record_notice(
            uow,
            now,
            task=task,
            notice=Notice.AGENT_LEFT,
            actor=actor,
            to_customer=True,
            agent_id=leaving,
        )
    return await save_call(uow, task, after, actor=actor, now=now)


def _require_primary(task: Task, agent_id: str) -> None:
    party = task.present_agent(agent_id)
    if party is None or party.role is not ParticipantRole.PRIMARY_AGENT:
        raise Forbidden("only the primary agent starts or calls off a conference")
