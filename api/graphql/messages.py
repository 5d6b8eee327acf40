"""Messages of digital tasks as the desktops and connectors read them (SPEC §10): the message
type, a task's conversation paged by ``seq``, predefined responses searched by agents, and the
message events of a task's timeline. (Mutations: ``api.graphql.chat``; the connector's outbox:
``api.graphql.deliveries``.)"""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.configuration.profiles import ChannelType  # noqa: F401 - registers the enum
from api.graphql.configuration.responses import ChatResponse
from api.graphql.context import Info
from api.graphql.events import Event, event_fields
from api.graphql.permissions import IsAuthenticated
from api.graphql.relay import MAX_PAGE, Connection, connection
from domain.channels import Channel
from domain.configuration.responses import ChatResponse as ChatResponseEntity
from domain.errors import ValidationFailed
from domain.events import StoredEvent
from domain.messaging import events as message_events
from domain.messaging import message as domain
from domain.messaging.chat import ConferenceState
from domain.messaging.message import DeliveryState, Notice, Sender
from domain.tasks.task import Task as DomainTask

SenderType = strawberry.enum(Sender, name="MessageSender")
DeliveryStateType = strawberry.enum(DeliveryState, name="DeliveryState")
NoticeType = strawberry.enum(
    Notice, name="MessageNotice", description="What a SYSTEM line tells; clients word it."
)
ConferenceStateType = strawberry.enum(ConferenceState, name="ConferenceState")
MIN_RESPONSE_SEARCH = 3


@strawberry.type(description="A file sent with a message: its metadata; the content is at `url`.")
class Attachment:
    name: str
    media_type: str
    size: int = strawberry.field(description="Bytes.")
    url: str | None
    inline: bool = strawberry.field(description="Email: an inline image of the body.")


@strawberry.type(description="One line of a digital conversation, after PCI screening.")
class Message:
    id: strawberry.ID
    task_id: strawberry.ID
    seq: int = strawberry.field(description="Its place in the task's conversation (1, 2, ...).")
    channel: Channel
    sender: Sender
    agent_id: strawberry.ID | None = strawberry.field(
        description="The agent who wrote it, or whom a SYSTEM line is about."
    )
    text: str
    subject: str | None
    html: str | None
    attachments: list[Attachment]
    sent_at: datetime
    redacted: bool = strawberry.field(
        description="PCI screening masked part of it or withheld attachments."
    )
    withheld_attachments: int = strawberry.field(
        description="Attachments PCI screening kept from being sent."
    )
    delivery: DeliveryState = strawberry.field(
        description="Outgoing messages: PENDING until the connector acknowledges (DELIVERED) or "
        "reports a failure (FAILED, with `deliveryError`). NONE: nothing to deliver."
    )
    delivery_error: str | None
    delivery_updated_at: datetime | None
    response_id: strawberry.ID | None = strawberry.field(
        description="The predefined response the agent started from."
    )
    notice: Notice | None = strawberry.field(description="A SYSTEM line: what it tells.")

    @classmethod
    def from_domain(cls, message: domain.Message) -> Message:
        return cls(
            id=strawberry.ID(message.message_id),
            task_id=strawberry.ID(message.task_id),
            seq=message.seq,
            channel=message.channel,
            sender=message.sender,
            agent_id=None if message.agent_id is None else strawberry.ID(message.agent_id),
            text=message.text,
            subject=message.subject,
            html=message.html,
            attachments=[
                Attachment(
                    name=a.name, media_type=a.media_type, size=a.size, url=a.url, inline=a.inline
                )
                for a in message.attachments
            ],
            sent_at=message.sent_at,
            redacted=message.redacted,
            withheld_attachments=message.withheld_attachments,
            delivery=message.delivery,
            delivery_error=message.delivery_error,
            delivery_updated_at=message.delivery_updated_at,
            response_id=None if message.response_id is None else strawberry.ID(message.response_id),
            notice=message.notice,
        )


async def message_page(
    info: Info, task: DomainTask, first: int, after: str | None
) -> Connection[Message]:
    """A page of ``task``'s conversation in order; cursors are ``seq`` values."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed.single(
            "first", f"range:1-{MAX_PAGE}", f"first must be 1 to {MAX_PAGE}"
        )
    try:
        after_seq = 0 if after is None else int(after)
    except ValueError as error:
        raise ValidationFailed.single(
            "after", "cursor", "not a cursor this API returned"
        ) from error
    items, more = await info.context.services.messages.page(
        task.org_id, task.task_id, after_seq=after_seq, limit=first
    )
    return connection(
        [Message.from_domain(m) for m in items],
        [str(m.seq) for m in items],
        has_next_page=more,
        has_previous_page=after_seq > 0,
    )


@strawberry.type(description="A message was written on the task (by anyone, or the system).")
class MessagePosted(Event):
    conversation_message: Message


@strawberry.type(description="The connector acknowledged a message, or reported its failure.")
class MessageDeliveryChanged(Event):
    message_id: strawberry.ID
    message_seq: int
    delivery: DeliveryState
    error: str | None


def message_event(stored: StoredEvent) -> MessagePosted | MessageDeliveryChanged | None:
    """The task-timeline form of a message event (None for any other event)."""
    event = stored.event
    if isinstance(event, message_events.MessagePosted):
        return MessagePosted(
            **event_fields(stored), conversation_message=Message.from_domain(event.message)
        )
    if isinstance(event, message_events.MessageDeliveryChanged):
        return MessageDeliveryChanged(
            **event_fields(stored),
            message_id=strawberry.ID(event.message_id),
            message_seq=event.seq,
            delivery=event.delivery,
            error=event.error,
        )
    return None


@strawberry.type
class MessagesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The agent's search of predefined responses (seed 004): at least 3 "
        "characters, matched in the title, the text and the tags; only those offered on "
        "`channel` when given. Edit the text before sending as you like.",
    )
    async def predefined_responses(
        self, info: Info, search: str, channel: Channel | None = None, first: int = 20
    ) -> list[ChatResponse]:
        principal = info.context.require_principal()
        term = search.strip().casefold()
        if len(term) < MIN_RESPONSE_SEARCH or len(term) > 100:
            raise ValidationFailed.single(
                "search", f"length:{MIN_RESPONSE_SEARCH}-100", "search needs 3 to 100 characters"
            )
        found = await info.context.services.messages.responses(principal.org_id)
        matching = [
            r
            for r in found
            if isinstance(r, ChatResponseEntity)
            and (channel is None or r.offered_on(channel))
            and any(term in value.casefold() for value in (r.name, r.text, *r.tags))
        ]
        return [ChatResponse.from_entity(r) for r in matching[: max(1, min(first, MAX_PAGE))]]
