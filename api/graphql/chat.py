"""Conversation mutations (SPEC §10, seed 004): agents send messages, end, transfer and
conference digital tasks; connectors report the customer's messages and answer for deliveries.
Each takes one input and returns its own result union — the message or the task, or a typed
error (a message dropped under PCI policy DROP is a ``RejectedError`` with ``PCI_VIOLATION``)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Union

import strawberry
from strawberry.types.field import StrawberryField

from api.graphql.calls import DestinationInput, TaskInput
from api.graphql.context import Info
from api.graphql.errors import (
    TASK_ERRORS,
    to_error,
)
from api.graphql.idempotency import KEY_HELP, idempotency_key
from api.graphql.messages import Message
from api.graphql.permissions import IsAgent, IsIntegration
from api.graphql.tasks import Task
from domain.errors import DomainError, ErrorCode, Rejected
from domain.identity import Principal
from domain.messaging.message import Attachment, MessageDraft
from domain.messaging.pci import DROPPED_MESSAGE
from domain.usecases import chat, chat_conference, chat_transfers, deliveries

# Not ``message``: every ``Error`` of the result union has a ``message: String!``.
MESSAGE = "conversation_message"


@strawberry.input(description="A file sent with a message; its host serves the content at `url`.")
class AttachmentInput:
    name: str
    media_type: str
    size: int = strawberry.field(description="Bytes: at most 25 MB (an inline image 15 KB).")
    url: str
    inline: bool = False


@strawberry.input
class SendMessageInput:
    task_id: strawberry.ID
    text: str = ""
    subject: str | None = strawberry.field(default=None, description="Email only.")
    html: str | None = strawberry.field(
        default=None, description="Email only: inline images as data: URIs (≤ 15 KB); no cid:."
    )
    attachments: list[AttachmentInput] = strawberry.field(default_factory=list)
    response_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The predefined response the text started from (edited or not), for reports.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class ReportCustomerMessageInput:
    task_id: strawberry.ID
    text: str = ""
    attachments: list[AttachmentInput] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class MessageInput:
    message_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class ReportDeliveryFailureInput:
    message_id: strawberry.ID
    error: str = strawberry.field(description="Why; shown to the agent on the message.")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class TransferConversationInput:
    task_id: strawberry.ID
    destination: DestinationInput = strawberry.field(
        description="A QUEUE of the conversation's channel, or an AGENT."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class RequestChatConferenceInput:
    task_id: strawberry.ID
    agent_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


def _draft(data: Any, *, html: bool) -> MessageDraft:
    return MessageDraft(
        text=data.text,
        subject=data.subject if html else None,
        html=data.html if html else None,
        attachments=tuple(
            Attachment(
                name=a.name, media_type=a.media_type, size=a.size, url=a.url, inline=a.inline
            )
            for a in data.attachments
        ),
    )


def _task_id(principal: Principal, data: Any) -> dict[str, Any]:
    return {"principal": principal, "task_id": str(data.task_id)}


@dataclass(frozen=True)
class _Mutation:
    name: str
    input_type: type
    handler: Callable[..., Any]
    command: Callable[[Principal, Any], Any]
    permission: type
    payload: str  # "task" or "conversationMessage": what the success type carries
    description: str


_MUTATIONS = (
    _Mutation(
        "sendMessage",
        SendMessageInput,
        chat.send_message,
        lambda p, d: chat.SendMessage(
            **_task_id(p, d),
            draft=_draft(d, html=True),
            response_id=None if d.response_id is None else str(d.response_id),
        ),
        IsAgent,
        MESSAGE,
        "Send a message to the customer (PCI-screened; REDACT masks, DROP refuses with "
        "PCI_VIOLATION); it is delivered through the channel's connector.",
    ),
    _Mutation(
        "reportCustomerMessage",
        ReportCustomerMessageInput,
        chat.report_customer_message,
        lambda p, d: chat.ReportCustomerMessage(**_task_id(p, d), draft=_draft(d, html=False)),
        IsIntegration,
        MESSAGE,
        "The customer wrote (connector). PCI-screened like an agent's message; under DROP it is "
        "refused with PCI_VIOLATION and the agents see a MESSAGE_DROPPED line.",
    ),
    _Mutation(
        "acknowledgeDelivery",
        MessageInput,
        deliveries.acknowledge_delivery,
        lambda p, d: deliveries.AcknowledgeDelivery(p, str(d.message_id)),
        IsIntegration,
        MESSAGE,
        "The connector delivered the message (repeating it changes nothing).",
    ),
    _Mutation(
        "reportDeliveryFailure",
        ReportDeliveryFailureInput,
        deliveries.report_delivery_failure,
        lambda p, d: deliveries.ReportDeliveryFailure(p, str(d.message_id), d.error),
        IsIntegration,
        MESSAGE,
        "The connector could not deliver the message; the agent sees the error on it.",
    ),
    _Mutation(
        "endConversation",
        TaskInput,
        chat.end_conversation,
        lambda p, d: chat.EndConversation(**_task_id(p, d)),
        IsAgent,
        "task",
        "End the conversation: the customer sees 'agent left', you wrap up (one or more reasons).",
    ),
    _Mutation(
        "transferConversation",
        TransferConversationInput,
        chat_transfers.transfer_conversation,
        lambda p, d: chat_transfers.TransferConversation(
            **_task_id(p, d), kind=d.destination.kind, destination_id=str(d.destination.id)
        ),
        IsAgent,
        "task",
        "Transfer to a queue of the channel or to an agent; you wrap up. A transferred outbound "
        "conversation its target does not accept is dropped.",
    ),
    _Mutation(
        "requestChatConference",
        RequestChatConferenceInput,
        chat_conference.request_chat_conference,
        lambda p, d: chat_conference.RequestChatConference(
            **_task_id(p, d), agent_id=str(d.agent_id)
        ),
        IsAgent,
        "task",
        "Ask another agent into the chat (CONFERENCE_REQUESTED until they accept the offer; "
        "then CONFERENCE). Not on outbound conversations.",
    ),
    _Mutation(
        "endChatConference",
        TaskInput,
        chat_conference.end_chat_conference,
        lambda p, d: chat_conference.EndChatConference(**_task_id(p, d)),
        IsAgent,
        "task",
        "The primary agent ends the conference (or calls off its request); a conference agent "
        "leaves it.",
    ),
)


def _payload(mutation: _Mutation, result: Any) -> dict[str, Any]:
    if isinstance(result, chat.CustomerMessageDropped):
        raise Rejected(ErrorCode.PCI_VIOLATION, DROPPED_MESSAGE)
    if mutation.payload == MESSAGE:
        return {MESSAGE: Message.from_domain(result)}
    return {"task": Task.from_domain(result)}


def _field(mutation: _Mutation) -> StrawberryField:
    noun = mutation.name[0].upper() + mutation.name[1:]
    carried = Message if mutation.payload == MESSAGE else Task
    success = strawberry.type(
        type(f"{noun}Success", (), {"__annotations__": {mutation.payload: carried}}),
        description="The message or task after the change.",
    )
    result = Annotated[Union[(success, *TASK_ERRORS)], strawberry.union(f"{noun}Result")]
    input_type = mutation.input_type

    async def resolve(info: Info, input: input_type) -> result:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        try:
            key = idempotency_key(principal, mutation.name, input.idempotency_key)  # type: ignore[attr-defined]
            command = mutation.command(principal, input)
            done = await info.context.services.runner.run(
                mutation.handler, command, idempotency_key=key
            )
            return success(**_payload(mutation, done))
        except DomainError as error:
            return to_error(error)

    return strawberry.mutation(
        resolver=resolve, permission_classes=[mutation.permission], description=mutation.description
    )


ChatMutation = strawberry.type(
    type("ChatMutation", (), {mutation.name: _field(mutation) for mutation in _MUTATIONS})
)
