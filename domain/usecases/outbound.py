"""Agent-initiated outbound SMS and email conversations (SPEC §10; seeds 000, 001).

``start_outbound_conversation`` is the "New outbound conversation" button; ``open_conversation``
is its core, shared with elevation to email or SMS and with "new contact" (``elevation``): the
task is created ``CONNECTED``, already accepted by the agent (customer and primary agent on it),
the agent's load on the channel taken, the pair's conversation claimed, and the first message —
typed or from a template — handed to messaging (PCI, delivery) in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.agents.session import AgentSession
from domain.channels import Channel
from domain.configuration.base import ConfigKind
from domain.configuration.entry_points import EntryPoint
from domain.configuration.queues import Queue
from domain.configuration.templates import MessageTemplate
from domain.conversations import outbound as rules
from domain.conversations.addresses import (
    address_key,
    check_customer_address,
    conversation_key,
    customer_id_key,
)
from domain.conversations.conversation import Conversation, is_active
from domain.conversations.rendering import render_template
from domain.errors import Forbidden, ValidationFailed
from domain.identity import Actor, ActorKind, Principal, Role
from domain.messaging.message import Message, MessageDraft
from domain.messaging.pci import screen
from domain.ports import Clock, UnitOfWork
from domain.tasks.task import Customer, Task
from domain.usecases.agent_tasks import new_outbound_task, take_new_task
from domain.usecases.call_access import policies_of
from domain.usecases.messages import record_agent_message


@dataclass(frozen=True)
class OutboundMessage:
    """Typed text, or a template (``template_id``) filled with ``placeholders`` (name, value)."""

    subject: str | None = None
    text: str | None = None
    html: str | None = None
    template_id: str | None = None
    placeholders: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConversationRequest:
    channel: Channel
    to: str
    entry_point_id: str | None = None
    customer_name: str | None = None
    customer_id: str | None = None
    message: OutboundMessage = field(default_factory=OutboundMessage)
    # Elevation to SMS names the queue (the "SMS skill") the conversation belongs to.
    queue_id: str | None = None
    session_id: str | None = None
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class StartOutboundConversation:
    principal: Principal
    request: ConversationRequest


@dataclass(frozen=True)
class Opened:
    """The new interaction and the first message sent on it (None: nothing typed yet)."""

    task: Task
    message: Message | None = None


def agent_actor(principal: Principal) -> Actor:
    if not principal.has(Role.AGENT):
        raise Forbidden("only agents start outbound conversations")
    return Actor(ActorKind.AGENT, principal.subject)


async def start_outbound_conversation(
    cmd: StartOutboundConversation, uow: UnitOfWork, clock: Clock
) -> Opened:
    actor = agent_actor(cmd.principal)
    session = await uow.agent_sessions.get(cmd.principal.org_id, cmd.principal.subject)
    return await open_conversation(
        uow, clock.now(), rules.check_may_start(session), cmd.request, actor
    )


async def open_conversation(
    uow: UnitOfWork, now: datetime, session: AgentSession, request: ConversationRequest, by: Actor
) -> Opened:
    channel, org_id = request.channel, session.org_id
    check_customer_address("to", channel, request.to)
    draft = await _draft(uow, org_id, channel, request.message)
    policies = await policies_of(uow, org_id)
    # The subject is stored on the task and compared with earlier ones: screened like the message
    # it heads (DROP refuses here, before anything is written).
    subject = screen(draft, policies.pci_policy, policies.pii_patterns).draft.subject
    entry_point = await sending_entry_point(uow, org_id, channel, request.entry_point_id)
    outbound_now = await uow.conversations.outbound_count(org_id, session.agent_id, channel)
    rules.check_room(session, channel, outbound_now)
    queue_id = await _queue_id(uow, session, channel, request.queue_id, entry_point)
    key = conversation_key(channel, entry_point.address, request.to)
    conversation = await _free_pair(uow, org_id, key)
    customer = await _customer(uow, org_id, request, conversation)
    if subject is not None:
        await _check_subject_new(uow, org_id, customer, subject)
    fresh = new_outbound_task(
        task_id=request.task_id,
        org_id=org_id,
        channel=channel,
        entry_point_id=entry_point.id,
        queue_id=queue_id,
        customer=customer,
        subject=subject,
        session_id=request.session_id,
        now=now,
    )
    task = await take_new_task(uow, session, fresh, now, by)
    await _claim(uow, conversation, key, entry_point, task, now)
    message = None
    if draft.text or draft.html:
        message = await record_agent_message(
            uow, now, task=task, agent_id=session.agent_id, draft=draft, policies=policies
        )
    return Opened(task, message)


async def sending_entry_point(
    uow: UnitOfWork, org_id: str, channel: Channel, entry_point_id: str | None
) -> EntryPoint:
    entry_points = await uow.configuration.list_active(org_id, ConfigKind.ENTRY_POINT)
    return rules.sending_entry_point(
        [ep for ep in entry_points if isinstance(ep, EntryPoint)], channel, entry_point_id
    )


async def _free_pair(uow: UnitOfWork, org_id: str, key: str) -> Conversation | None:
    """The pair's conversation record, refused (``ACTIVE_CONVERSATION_EXISTS``) while its task
    is active."""
    conversation = await uow.conversations.get(org_id, key)
    current = None if conversation is None else await uow.tasks.get(org_id, conversation.task_id)
    rules.check_pair_free(current.task_id if current and is_active(current) else None)
    return conversation


async def _customer(
    uow: UnitOfWork, org_id: str, request: ConversationRequest, conversation: Conversation | None
) -> Customer:
    """Who the customer is: the id given, else the one this pair's last conversation had, else the
    one the address was last seen with — so replies and history join up — else a new one."""
    keys = [address_key(request.channel, request.to)]
    customer_id = (
        request.customer_id
        or (conversation.customer_id if conversation else None)
        or await uow.conversations.known_customer_id(org_id, keys)
        or f"customer-{uuid.uuid4().hex[:16]}"
    )
    return Customer(
        name=request.customer_name or (conversation.customer_name if conversation else None),
        customer_id=customer_id,
        address=request.to.strip(),
    )


async def _check_subject_new(
    uow: UnitOfWork, org_id: str, customer: Customer, subject: str
) -> None:
    assert customer.customer_id is not None
    assert customer.address is not None
    keys = [address_key(Channel.EMAIL, customer.address), customer_id_key(customer.customer_id)]
    used = await uow.conversations.subject_used(org_id, keys, rules.subject_key(subject))
    rules.check_subject_new(subject, used)


async def _draft(
    uow: UnitOfWork, org_id: str, channel: Channel, message: OutboundMessage
) -> MessageDraft:
    subject, text = message.subject, message.text
    if message.template_id is not None:
        if text is not None:
            raise ValidationFailed.single(
                "text", "exclusive:templateId", "give a text or a template, not both"
            )
        template = await uow.configuration.get(
            org_id, ConfigKind.MESSAGE_TEMPLATE, message.template_id
        )
        if not isinstance(template, MessageTemplate) or not template.active:
            raise ValidationFailed.single(
                "templateId", "reference", "templateId must name an active message template"
            )
        if template.channel is not channel:
            raise ValidationFailed.single(
                "templateId", "same_channel", f"the template is for {template.channel.value}"
            )
        rendered = render_template(template, dict(message.placeholders))
        subject, text = subject or rendered.subject, rendered.body
    rules.check_content(channel, subject, text, message.html)
    return MessageDraft(text=text or "", subject=subject, html=message.html)


async def _queue_id(
    uow: UnitOfWork,
    session: AgentSession,
    channel: Channel,
    queue_id: str | None,
    entry_point: EntryPoint,
) -> str:
    """The queue named (elevation's skill), else the entry point's, else the first (by name) the
    agent's team serves on the channel: the task never waits in it, but reports group by it and a
    transfer to an agent is offered from it. None of those: empty."""
    if queue_id is None:
        return entry_point.queue_id or await _team_queue(uow, session, channel)
    queue = await uow.configuration.get(session.org_id, ConfigKind.QUEUE, queue_id)
    if not isinstance(queue, Queue) or not queue.active or queue.channel is not channel:
        raise ValidationFailed.single(
            "queueId", "reference", f"queueId must name an active {channel.value} queue"
        )
    return queue.id


async def _team_queue(uow: UnitOfWork, session: AgentSession, channel: Channel) -> str:
    queues = await uow.configuration.list_active(session.org_id, ConfigKind.QUEUE)
    served = sorted(
        (
            q
            for q in queues
            if isinstance(q, Queue) and q.channel is channel and session.team_id in q.team_ids
        ),
        key=lambda q: (q.name.casefold(), q.id),
    )
    return served[0].id if served else ""


async def _claim(
    uow: UnitOfWork,
    conversation: Conversation | None,
    key: str,
    entry_point: EntryPoint,
    task: Task,
    now: datetime,
) -> None:
    assert task.customer.customer_id is not None
    assert task.customer.address is not None
    if conversation is not None:
        await uow.conversations.claim(
            conversation.carried_by(task, now), replacing=conversation.task_id
        )
        return
    fresh = Conversation(
        org_id=task.org_id,
        key=key,
        channel=task.channel,
        entry_point_address=entry_point.address,
        customer_address=task.customer.address,
        task_id=task.task_id,
        customer_id=task.customer.customer_id,
        customer_name=task.customer.name,
        updated_at=now,
    )
    await uow.conversations.claim(fresh, replacing=None)
