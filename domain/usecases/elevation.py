"""Omnichannel sessions (SPEC §11; seed 003): elevating a contact to another channel within its
session, and "new" — putting the current interaction on hold for an unrelated contact.

Both create the new interaction the same way: email and SMS as outbound conversations
(``outbound.open_conversation``: every rule of SPEC §10 applies), voice as an outbound call the
agent holds at once. The call is deliberately minimal — ``CONNECTED`` for the agent the moment it
is asked for; a real dialler would add the ringing phase, the telephony connector's answered /
no-answer / busy reports, the organization's concurrent-call limit and the outbound caller id.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.agents.session import AgentSession
from domain.channels import Channel
from domain.configuration.base import ConfigKind
from domain.configuration.queues import Queue
from domain.conversations.outbound import check_capacity, check_may_start
from domain.errors import InvalidState, ValidationFailed, Violation
from domain.identity import Actor, Principal
from domain.messaging.message import Message
from domain.ports import Clock, UnitOfWork
from domain.sessions.elevation import check_elevation
from domain.tasks import call
from domain.tasks.call import CallParty
from domain.tasks.events import CallChange, CallEvent
from domain.tasks.participants import CallAction
from domain.tasks.status import CALL_STATUSES
from domain.tasks.task import Customer, Task
from domain.usecases.agent_tasks import new_outbound_task, take_new_task
from domain.usecases.call_access import agent_access, save_call
from domain.usecases.outbound import (
    ConversationRequest,
    OutboundMessage,
    agent_actor,
    open_conversation,
    sending_entry_point,
)
from domain.validation import Rules


@dataclass(frozen=True)
class EmailTarget:
    to: str
    subject: str
    text: str | None = None
    html: str | None = None
    entry_point_id: str | None = None


@dataclass(frozen=True)
class CallTarget:
    number: str
    # The outbound skill: the voice queue the call is made for.
    queue_id: str


@dataclass(frozen=True)
class SmsTarget:
    number: str
    # The SMS skill: the SMS queue the conversation belongs to.
    queue_id: str
    text: str | None = None
    entry_point_id: str | None = None


@dataclass(frozen=True)
class NewInteraction:
    """The channel and what that channel needs (only its own part may be given)."""

    channel: Channel
    email: EmailTarget | None = None
    voice: CallTarget | None = None
    sms: SmsTarget | None = None
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class ElevateContact:
    principal: Principal
    task_id: str
    target: NewInteraction


@dataclass(frozen=True)
class StartNewContact:
    principal: Principal
    task_id: str
    target: NewInteraction


@dataclass(frozen=True)
class ResumeContact:
    principal: Principal
    task_id: str


@dataclass(frozen=True)
class Created:
    """``source``: the interaction elevated, or put on hold for the new contact."""

    source: Task
    task: Task
    message: Message | None = None


async def elevate_contact(cmd: ElevateContact, uow: UnitOfWork, clock: Clock) -> Created:
    """The new interaction joins the source's session and keeps its customer."""
    source, session, by = await _handling(uow, cmd.principal, cmd.task_id)
    check_elevation(source.channel, cmd.target.channel)
    task, message = await _create(
        uow, clock.now(), session, cmd.target, source.session, source.customer, by
    )
    return Created(source, task, message)


async def start_new_contact(cmd: StartNewContact, uow: UnitOfWork, clock: Clock) -> Created:
    """MAX "new": the current interaction goes on hold; the new contact is a session of its own
    (any channel the agent may start, no elevation rule)."""
    source, session, by = await _handling(uow, cmd.principal, cmd.task_id)
    now = clock.now()
    task, message = await _create(uow, now, session, cmd.target, None, Customer(), by)
    held = await _set_aside(uow, source, now, by, hold=True)
    return Created(held, task, message)


async def resume_contact(cmd: ResumeContact, uow: UnitOfWork, clock: Clock) -> Task:
    """Back to an interaction put aside: a digital one's held flag clears, a call resumes."""
    source, _, by = await _handling(uow, cmd.principal, cmd.task_id)
    return await _set_aside(uow, source, clock.now(), by, hold=False)


async def _handling(
    uow: UnitOfWork, principal: Principal, task_id: str
) -> tuple[Task, AgentSession, Actor]:
    """The interaction the calling agent handles as primary, in progress. Elevating, holding for
    a new contact and resuming are the primary agent's, like holding a call (the same matrix
    entry decides who may)."""
    by = agent_actor(principal)
    access = await agent_access(uow, principal, task_id, CallAction.HOLD)
    if access.task.status not in CALL_STATUSES:
        raise InvalidState("the interaction is not in progress", current_state=access.task.status)
    session = check_may_start(
        await uow.agent_sessions.get(principal.org_id, principal.subject), any_state=True
    )
    return access.task, session, by


async def _create(
    uow: UnitOfWork,
    now: datetime,
    session: AgentSession,
    target: NewInteraction,
    session_id: str | None,
    customer: Customer,
    by: Actor,
) -> tuple[Task, Message | None]:
    _check_parts(target)
    if target.voice is not None:
        return await _open_call(uow, now, session, target, session_id, customer, by), None
    request = _conversation_request(target, session_id, customer)
    prefix = "email" if target.email is not None else "sms"
    try:
        opened = await open_conversation(uow, now, session, request, by)
    except ValidationFailed as error:
        raise _renamed(error, prefix) from error
    return opened.task, opened.message


def _check_parts(target: NewInteraction) -> None:
    parts = {Channel.EMAIL: target.email, Channel.VOICE: target.voice, Channel.SMS: target.sms}
    rules = Rules()
    if target.channel not in parts:
        rules.fail("channel", "new_interaction", "a contact is raised to EMAIL, VOICE or SMS")
    for channel, part in parts.items():
        name = channel.value.lower()
        if channel is target.channel and part is None:
            rules.fail(name, "required", f"{channel.value} needs its `{name}` input")
        elif channel is not target.channel and part is not None:
            rules.fail(name, "only_with_channel", f"`{name}` goes only with channel {channel}")
    if target.email is not None and not (target.email.text or target.email.html):
        rules.fail("email.text", "required", "an email needs a body (text or html)")
    rules.check()


def _conversation_request(
    target: NewInteraction, session_id: str | None, customer: Customer
) -> ConversationRequest:
    if target.email is not None:
        email = target.email
        base = ConversationRequest(
            Channel.EMAIL,
            email.to,
            email.entry_point_id,
            message=OutboundMessage(subject=email.subject, text=email.text, html=email.html),
        )
    else:
        assert target.sms is not None
        sms = target.sms
        base = ConversationRequest(
            Channel.SMS,
            sms.number,
            sms.entry_point_id,
            message=OutboundMessage(text=sms.text),
            queue_id=sms.queue_id,
        )
    return dataclasses.replace(
        base,
        customer_name=customer.name,
        customer_id=customer.customer_id,
        session_id=session_id,
        task_id=target.task_id,
    )


_FIELDS = {"sms": {"to": "number"}, "email": {}}


def _renamed(error: ValidationFailed, prefix: str) -> ValidationFailed:
    """The conversation's fields as the elevation input names them (``to`` → ``sms.number``)."""
    names = _FIELDS[prefix]
    return ValidationFailed(
        [
            Violation(f"{prefix}.{names.get(v.field, v.field)}", v.rule, v.message)
            for v in error.violations
        ]
    )


async def _open_call(
    uow: UnitOfWork,
    now: datetime,
    session: AgentSession,
    target: NewInteraction,
    session_id: str | None,
    customer: Customer,
    by: Actor,
) -> Task:
    voice = target.voice
    assert voice is not None
    rules = Rules()
    rules.phone("voice.number", voice.number.strip())
    rules.check()
    queue = await uow.configuration.get(session.org_id, ConfigKind.QUEUE, voice.queue_id)
    if not isinstance(queue, Queue) or not queue.active or queue.channel is not Channel.VOICE:
        raise ValidationFailed.single(
            "voice.queueId", "reference", "voice.queueId must name an active voice queue"
        )
    entry_point = await sending_entry_point(uow, session.org_id, Channel.VOICE, None)
    check_capacity(session, Channel.VOICE)
    dialled = new_outbound_task(
        task_id=target.task_id,
        org_id=session.org_id,
        channel=Channel.VOICE,
        entry_point_id=entry_point.id,
        queue_id=queue.id,
        customer=dataclasses.replace(customer, address=voice.number.strip()),
        ani=entry_point.address,
        dnis=voice.number.strip(),
        session_id=session_id,
        now=now,
    )
    return await take_new_task(uow, session, dialled, now, by)


async def _set_aside(uow: UnitOfWork, task: Task, now: datetime, by: Actor, *, hold: bool) -> Task:
    if task.channel is Channel.VOICE:
        move = call.hold if hold else call.resume
        return await save_call(uow, task, move(task, CallParty.CUSTOMER, now), actor=by, now=now)
    if task.held == hold:
        state = "HELD" if task.held else task.status.value
        raise InvalidState(
            "the interaction is already " + ("on hold" if hold else "in hand"), current_state=state
        )
    after = task.changed(held=hold)
    await uow.tasks.save(after, expected_version=task.version)
    customer = task.customer_party
    uow.emit(
        CallEvent(
            org_id=task.org_id,
            occurred_at=now,
            actor=by,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=after.status,
            version=after.version,
            change=CallChange.HELD if hold else CallChange.RESUMED,
            participant_id=None if customer is None else customer.participant_id,
            role=None if customer is None else customer.role,
        )
    )
    return after
