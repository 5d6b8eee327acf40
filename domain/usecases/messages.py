"""Recording messages (SPEC §10) inside the caller's unit of work (no commit here): validated,
PCI-screened before anything is stored or emitted, stored in order, told on the task's stream and
— when it goes to the customer — put on the deliveries outbox of its channel.

These do not check who may write on the task: their callers (the chat mutations, outbound
conversations, replies routed to a conversation) did."""

from __future__ import annotations

from datetime import datetime

from domain.channels import Channel
from domain.configuration.policies import OrganizationPolicies
from domain.identity import Actor, ActorKind
from domain.messaging import pci
from domain.messaging.drafts import validate_agent_draft, validate_customer_draft
from domain.messaging.events import DeliveryRequested, MessagePosted
from domain.messaging.message import DeliveryState, Message, MessageDraft, Notice, Sender
from domain.ports import UnitOfWork
from domain.tasks.task import Task


async def record_agent_message(
    uow: UnitOfWork,
    now: datetime,
    *,
    task: Task,
    agent_id: str,
    draft: MessageDraft,
    policies: OrganizationPolicies | None = None,
    response_id: str | None = None,
) -> Message:
    """Raises ``ValidationFailed`` (field and rule; email: inline image ≤ 15 KB, no ``cid:``) or,
    with policy ``DROP`` and a match, ``Rejected(PCI_VIOLATION)`` — nothing stored then."""
    validate_agent_draft(task.channel, draft)
    screened = await _screen(uow, task, draft, policies)
    message = await _store(
        uow,
        task,
        screened,
        now,
        sender=Sender.AGENT,
        agent_id=agent_id,
        delivery=DeliveryState.PENDING,
        response_id=response_id,
    )
    actor = Actor(ActorKind.AGENT, agent_id)
    _emit(uow, task, message, actor)
    return message


async def record_customer_message(
    uow: UnitOfWork,
    now: datetime,
    *,
    task: Task,
    draft: MessageDraft,
    policies: OrganizationPolicies | None = None,
) -> Message:
    """The same PCI rules as an agent's message; nothing to deliver."""
    validate_customer_draft(task.channel, draft)
    screened = await _screen(uow, task, draft, policies)
    message = await _store(
        uow, task, screened, now, sender=Sender.CUSTOMER, delivery=DeliveryState.NONE
    )
    _emit(uow, task, message, customer_actor(task))
    return message


async def record_notice(
    uow: UnitOfWork,
    now: datetime,
    *,
    task: Task,
    notice: Notice,
    actor: Actor,
    to_customer: bool,
    agent_id: str | None = None,
    text: str = "",
) -> Message:
    """A SYSTEM line ("agent joined", "customer left", ...). ``to_customer``: the customer's side
    shows it too, so it goes on the outbox like an agent's message — on a chat only: an SMS or
    an email saying "agent left" would be noise in the customer's inbox."""
    screened = pci.Screened(MessageDraft(text=text), redacted=False)
    live = to_customer and task.channel is Channel.CHAT
    delivery = DeliveryState.PENDING if live else DeliveryState.NONE
    message = await _store(
        uow,
        task,
        screened,
        now,
        sender=Sender.SYSTEM,
        agent_id=agent_id,
        delivery=delivery,
        notice=notice,
    )
    _emit(uow, task, message, actor)
    return message


def customer_actor(task: Task) -> Actor:
    return Actor(ActorKind.CUSTOMER, task.customer.customer_id or task.task_id)


async def _screen(
    uow: UnitOfWork, task: Task, draft: MessageDraft, policies: OrganizationPolicies | None
) -> pci.Screened:
    if policies is None:
        policies = await uow.policies.get(task.org_id) or OrganizationPolicies(org_id=task.org_id)
    return pci.screen(draft, policies.pci_policy, policies.pii_patterns)


async def _store(
    uow: UnitOfWork,
    task: Task,
    screened: pci.Screened,
    now: datetime,
    *,
    sender: Sender,
    delivery: DeliveryState,
    agent_id: str | None = None,
    response_id: str | None = None,
    notice: Notice | None = None,
) -> Message:
    seq = await uow.messages.next_seq(task.org_id, task.task_id)
    draft = screened.draft
    message = Message(
        message_id=f"{task.task_id}.m{seq}",
        org_id=task.org_id,
        task_id=task.task_id,
        channel=task.channel,
        sender=sender,
        agent_id=agent_id,
        text=draft.text,
        subject=draft.subject,
        html=draft.html,
        attachments=draft.attachments,
        sent_at=now,
        redacted=screened.redacted,
        delivery=delivery,
        seq=seq,
        response_id=response_id,
        notice=notice,
        withheld_attachments=screened.withheld_attachments,
    )
    await uow.messages.add(message)
    return message


def _emit(uow: UnitOfWork, task: Task, message: Message, actor: Actor) -> None:
    uow.emit(
        MessagePosted(org_id=task.org_id, occurred_at=message.sent_at, actor=actor, message=message)
    )
    if message.outgoing:
        uow.emit(
            DeliveryRequested(
                org_id=task.org_id,
                occurred_at=message.sent_at,
                actor=actor,
                message=message,
                to_address=task.customer.address or task.ani,
                entry_point_id=task.entry_point_id,
                customer_id=task.customer.customer_id,
            )
        )
