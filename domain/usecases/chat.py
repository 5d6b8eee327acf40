"""A conversation on a digital task (SPEC §10, seed 004): the agent sends messages (text, a
predefined response edited or not, attachments), the connector reports the customer's, the agent
ends the chat (the customer sees "agent left", the agent wraps up) — and the customer leaving is
told as a system line (``report_customer_left`` calls ``customer_left_notice``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.configuration.base import ConfigKind
from domain.configuration.responses import MESSAGING_CHANNELS, ChatResponse
from domain.errors import ErrorCode, Forbidden, InvalidState, NotFound, Rejected, ValidationFailed
from domain.identity import Principal, Role
from domain.messaging import chat
from domain.messaging.message import Message, MessageDraft, Notice
from domain.ports import Clock, UnitOfWork
from domain.tasks import call
from domain.tasks.participants import CallAction
from domain.tasks.task import Task
from domain.usecases.call_access import agent_access, policies_of, save_call, task_of
from domain.usecases.consults import cancel_consult_request
from domain.usecases.messages import (
    customer_actor,
    record_agent_message,
    record_customer_message,
    record_notice,
)


@dataclass(frozen=True)
class SendMessage:
    principal: Principal
    task_id: str
    draft: MessageDraft
    # The predefined response the agent started from; the text is what they finally sent.
    response_id: str | None = None


@dataclass(frozen=True)
class ReportCustomerMessage:
    principal: Principal
    task_id: str
    draft: MessageDraft


@dataclass(frozen=True)
class EndConversation:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class CustomerMessageDropped:
    """PCI policy ``DROP`` refused the customer's message; ``notice`` is the line the agents see
    instead (it says a message was dropped, never what it held)."""

    notice: Message


async def send_message(cmd: SendMessage, uow: UnitOfWork, clock: Clock) -> Message:
    task, agent_id = await writer_access(uow, cmd.principal, cmd.task_id)
    chat.require_agent_can_write(task)
    if cmd.response_id is not None:
        await _require_response(uow, task, cmd.response_id)
    return await record_agent_message(
        uow,
        clock.now(),
        task=task,
        agent_id=agent_id,
        draft=cmd.draft,
        response_id=cmd.response_id,
    )


async def report_customer_message(
    cmd: ReportCustomerMessage, uow: UnitOfWork, clock: Clock
) -> Message | CustomerMessageDropped:
    if not cmd.principal.has(Role.INTEGRATION):
        raise Forbidden("only a connector (integration role) reports the customer's messages")
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    chat.require_customer_can_write(task)
    message, dropped = await customer_message_or_drop(uow, clock.now(), task=task, draft=cmd.draft)
    return CustomerMessageDropped(message) if dropped else message


async def customer_message_or_drop(
    uow: UnitOfWork, now: datetime, *, task: Task, draft: MessageDraft
) -> tuple[Message, bool]:
    """The customer's message stored — or, PCI policy ``DROP`` refused it, the MESSAGE_DROPPED
    line the agents see instead (True). Shared by chats and SMS/email replies."""
    policies = await policies_of(uow, task.org_id)
    try:
        message = await record_customer_message(uow, now, task=task, draft=draft, policies=policies)
        return message, False
    except Rejected as error:
        if error.code is not ErrorCode.PCI_VIOLATION:
            raise
    # Screening raised before anything was stored: the agents learn that a message was dropped.
    notice = await record_notice(
        uow,
        now,
        task=task,
        notice=Notice.MESSAGE_DROPPED,
        actor=customer_actor(task),
        to_customer=False,
    )
    return notice, True


async def end_conversation(cmd: EndConversation, uow: UnitOfWork, clock: Clock) -> Task:
    """The primary agent ends the chat: everyone leaves, the customer sees "agent left", the
    agent owes a wrap-up with one or more reasons."""
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.END)
    task = access.task
    chat.require_messaging(task)
    now = clock.now()
    after = call.end_call(task, now)
    if task.consult is not None:
        await cancel_consult_request(uow, task, access.actor, now)
    if task.customer_party is not None:
        await record_notice(
            uow,
            now,
            task=task,
            notice=Notice.AGENT_LEFT,
            actor=access.actor,
            to_customer=True,
            agent_id=cmd.principal.subject,
        )
    return await save_call(uow, task, after, actor=access.actor, now=now)


async def customer_left_notice(uow: UnitOfWork, task: Task, now: datetime) -> None:
    """The system line of a customer leaving a conversation (called by ``report_customer_left``;
    a call has no conversation to write it in)."""
    if task.channel in MESSAGING_CHANNELS:
        await record_notice(
            uow,
            now,
            task=task,
            notice=Notice.CUSTOMER_LEFT,
            actor=customer_actor(task),
            to_customer=False,
        )


async def writer_access(uow: UnitOfWork, principal: Principal, task_id: str) -> tuple[Task, str]:
    """The task and the calling agent, who must be on it now (primary or conference agent). An
    agent never on it is told it does not exist; one whose part is over, where it stands."""
    if not principal.has(Role.AGENT):
        raise Forbidden("only agents send messages")
    task = await task_of(uow, principal.org_id, task_id)
    if task.present_agent(principal.subject) is None:
        if any(p.agent_id == principal.subject for p in task.participants):
            raise InvalidState("you are no longer on this conversation", current_state=task.status)
        raise NotFound("TASK", task_id)
    return task, principal.subject


async def _require_response(uow: UnitOfWork, task: Task, response_id: str) -> None:
    response = await uow.configuration.get(task.org_id, ConfigKind.CHAT_RESPONSE, response_id)
    if not isinstance(response, ChatResponse) or not response.active:
        raise ValidationFailed.single(
            "responseId", "reference", f"no active predefined response {response_id!r}"
        )
    if not response.offered_on(task.channel):
        raise ValidationFailed.single(
            "responseId", "channel", f"the response is not offered on {task.channel}"
        )
