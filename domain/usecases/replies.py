"""A customer's SMS or email reply, as the connector reports it (SPEC §10; seeds 000/001: "all
later customer replies are linked to this existing customer id").

The reply lands in the active conversation of its pair (the customer's address, the entry point
address it was sent to). With none active — the conversation was closed — it becomes a new inbound
contact at the inbound entry point of that address, linked to the same customer id, so the
customer's history holds the closed conversation and the new one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.channels import Channel, Direction
from domain.configuration.base import ConfigKind
from domain.configuration.entry_points import EntryPoint, normalize_address
from domain.conversations.addresses import (
    CONVERSATION_CHANNELS,
    address_key,
    check_customer_address,
    conversation_key,
)
from domain.conversations.conversation import Conversation, is_active
from domain.errors import Forbidden, ValidationFailed
from domain.identity import Principal, Role
from domain.messaging.message import Attachment, Message, MessageDraft
from domain.ports import Clock, UnitOfWork
from domain.tasks.task import Customer, Task
from domain.usecases.chat import customer_message_or_drop
from domain.usecases.contacts import ReportContact, report_contact


@dataclass(frozen=True)
class ReportCustomerReply:
    principal: Principal
    channel: Channel
    entry_point_address: str
    from_address: str
    text: str
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    customer_name: str | None = None
    # The task a new contact gets, should the reply start one (derived from the idempotency key).
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class ReplyRecorded:
    task: Task
    message: Message
    # True: no conversation of the pair was active, the reply started a new inbound contact.
    new_contact: bool
    # True: PCI policy DROP refused the reply; ``message`` is the MESSAGE_DROPPED line the agents
    # see instead (the conversation, or the new contact, is kept: the customer is waiting).
    dropped: bool = False


async def report_customer_reply(
    cmd: ReportCustomerReply, uow: UnitOfWork, clock: Clock
) -> ReplyRecorded:
    if not cmd.principal.has(Role.INTEGRATION):
        raise Forbidden("only a connector (integration role) reports customer replies")
    _validate(cmd)
    org_id, now = cmd.principal.org_id, clock.now()
    key = conversation_key(cmd.channel, cmd.entry_point_address, cmd.from_address)
    conversation = await uow.conversations.get(org_id, key)
    current = None if conversation is None else await uow.tasks.get(org_id, conversation.task_id)
    draft = MessageDraft(text=cmd.text, subject=cmd.subject, attachments=cmd.attachments)
    if current is not None and is_active(current):
        message, dropped = await customer_message_or_drop(uow, now, task=current, draft=draft)
        return ReplyRecorded(current, message, new_contact=False, dropped=dropped)
    task = await _new_contact(cmd, uow, clock, conversation)
    await _claim(uow, cmd, key, conversation, task, now)
    message, dropped = await customer_message_or_drop(uow, now, task=task, draft=draft)
    return ReplyRecorded(task, message, new_contact=True, dropped=dropped)


def _validate(cmd: ReportCustomerReply) -> None:
    if cmd.channel not in CONVERSATION_CHANNELS:
        raise ValidationFailed.single(
            "channel", "conversation_channel", "customer replies come by SMS or EMAIL"
        )
    if not cmd.entry_point_address.strip():
        raise ValidationFailed.single(
            "entryPointAddress", "required", "the address the reply was sent to is required"
        )
    check_customer_address("from", cmd.channel, cmd.from_address)


async def _new_contact(
    cmd: ReportCustomerReply, uow: UnitOfWork, clock: Clock, conversation: Conversation | None
) -> Task:
    """A new inbound contact at the inbound entry point of the address, for the same customer."""
    org_id = cmd.principal.org_id
    address = normalize_address(cmd.channel, cmd.entry_point_address)
    entry_point = await uow.configuration.find_unique(
        org_id, ConfigKind.ENTRY_POINT, "address", f"{cmd.channel}:{Direction.INBOUND}:{address}"
    )
    if not isinstance(entry_point, EntryPoint) or not entry_point.active:
        raise ValidationFailed.single(
            "entryPointAddress",
            "inbound_entry_point",
            "no conversation is active and no active inbound entry point has this address "
            "to take the reply as a new contact",
        )
    customer_id = (
        (conversation.customer_id if conversation else None)
        or await uow.conversations.known_customer_id(
            org_id, [address_key(cmd.channel, cmd.from_address)]
        )
        or f"customer-{uuid.uuid4().hex[:16]}"
    )
    customer = Customer(
        name=cmd.customer_name or (conversation.customer_name if conversation else None),
        customer_id=customer_id,
        address=cmd.from_address.strip(),
    )
    contact = ReportContact(
        principal=cmd.principal,
        entry_point_id=entry_point.id,
        customer=customer,
        subject=cmd.subject,
        task_id=cmd.task_id,
    )
    return await report_contact(contact, uow, clock)


async def _claim(
    uow: UnitOfWork,
    cmd: ReportCustomerReply,
    key: str,
    conversation: Conversation | None,
    task: Task,
    now: datetime,
) -> None:
    if conversation is not None:
        await uow.conversations.claim(
            conversation.carried_by(task, now), replacing=conversation.task_id
        )
        return
    assert task.customer.customer_id is not None
    fresh = Conversation(
        org_id=task.org_id,
        key=key,
        channel=cmd.channel,
        entry_point_address=cmd.entry_point_address.strip(),
        customer_address=cmd.from_address.strip(),
        task_id=task.task_id,
        customer_id=task.customer.customer_id,
        customer_name=task.customer.name,
        updated_at=now,
    )
    await uow.conversations.claim(fresh, replacing=None)
