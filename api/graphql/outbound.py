"""Outbound SMS and email conversations (SPEC §10; seeds 000, 001): an agent starts one, a
connector reports the customer's replies."""

from typing import Annotated, Any, Union

import strawberry

from api.graphql.chat import AttachmentInput
from api.graphql.context import Info
from api.graphql.errors import (
    TASK_ERRORS,
    to_error,
)
from api.graphql.idempotency import KEY_HELP
from api.graphql.messages import Message
from api.graphql.mutations import id_for_retry, run_use_case
from api.graphql.permissions import IsAgent, IsIntegration
from api.graphql.tasks import Task
from domain.channels import Channel
from domain.errors import DomainError, ErrorCode, Rejected
from domain.identity import Principal
from domain.messaging.message import Attachment
from domain.messaging.pci import DROPPED_MESSAGE
from domain.usecases import outbound, replies


@strawberry.input(description="A value for one `{{placeholder}}` of a message template.")
class PlaceholderInput:
    name: str
    value: str


@strawberry.input(
    description="Typed text, or a template filled with placeholder values; email needs a subject "
    "(from the template or given) not used before with this customer."
)
class OutboundMessageInput:
    subject: str | None = None
    text: str | None = None
    html: str | None = strawberry.field(
        default=None, description="Email: the HTML body (inline images ≤ 15 KB, no `cid:`)."
    )
    template_id: strawberry.ID | None = None
    placeholders: list[PlaceholderInput] = strawberry.field(default_factory=list)

    def to_domain(self) -> outbound.OutboundMessage:
        return outbound.OutboundMessage(
            subject=self.subject,
            text=self.text,
            html=self.html,
            template_id=None if self.template_id is None else str(self.template_id),
            placeholders=tuple((p.name, p.value) for p in self.placeholders),
        )


@strawberry.input
class StartOutboundConversationInput:
    channel: Channel = strawberry.field(description="SMS or EMAIL.")
    to: str = strawberry.field(
        description="SMS: a phone number with its country code (+...). Email: an email address."
    )
    entry_point_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The active outbound entry point to send from; default: the first by name.",
    )
    customer_name: str | None = None
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Default: the id this customer's earlier conversations had, else a new one.",
    )
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    template_id: strawberry.ID | None = None
    placeholders: list[PlaceholderInput] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)

    def message(self) -> outbound.OutboundMessage:
        return OutboundMessageInput(
            subject=self.subject,
            text=self.text,
            html=self.html,
            template_id=self.template_id,
            placeholders=self.placeholders,
        ).to_domain()


@strawberry.input(description="What the customer sent to an entry point's address.")
class ReportCustomerReplyInput:
    channel: Channel = strawberry.field(description="SMS or EMAIL.")
    entry_point_address: str = strawberry.field(
        description="The number or email address the customer wrote to."
    )
    from_: str = strawberry.field(name="from", description="The customer's number or address.")
    text: str = ""
    subject: str | None = None
    attachments: list[AttachmentInput] = strawberry.field(default_factory=list)
    customer_name: str | None = strawberry.field(
        default=None, description="For a new contact, when no earlier conversation named them."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.type(
    description="The conversation's task, CONNECTED and yours, and the message sent with it "
    "(null when no text was given)."
)
class StartOutboundConversationSuccess:
    task: Task
    first_message: Message | None


@strawberry.type(
    description="The task the reply landed in: the pair's active conversation, or (`newContact`) "
    "a new inbound contact of the same customer."
)
class ReportCustomerReplySuccess:
    task: Task
    reply: Message
    new_contact: bool


StartOutboundConversationResult = Annotated[
    Union[(StartOutboundConversationSuccess, *TASK_ERRORS)],
    strawberry.union("StartOutboundConversationResult"),
]
ReportCustomerReplyResult = Annotated[
    Union[(ReportCustomerReplySuccess, *TASK_ERRORS)],
    strawberry.union("ReportCustomerReplyResult"),
]


def _start(principal: Principal, data: StartOutboundConversationInput) -> Any:
    request = outbound.ConversationRequest(
        channel=data.channel,
        to=data.to,
        entry_point_id=None if data.entry_point_id is None else str(data.entry_point_id),
        customer_name=data.customer_name,
        customer_id=None if data.customer_id is None else str(data.customer_id),
        message=data.message(),
        task_id=id_for_retry(principal, "startOutboundConversation", data.idempotency_key),
    )
    return outbound.StartOutboundConversation(principal, request)


def _reply(principal: Principal, data: ReportCustomerReplyInput) -> replies.ReportCustomerReply:
    return replies.ReportCustomerReply(
        principal=principal,
        channel=data.channel,
        entry_point_address=data.entry_point_address,
        from_address=data.from_,
        text=data.text,
        subject=data.subject,
        attachments=tuple(
            Attachment(
                name=a.name, media_type=a.media_type, size=a.size, url=a.url, inline=a.inline
            )
            for a in data.attachments
        ),
        customer_name=data.customer_name,
        task_id=id_for_retry(principal, "reportCustomerReply", data.idempotency_key),
    )


@strawberry.type
class OutboundMutation:
    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Start an outbound SMS or email conversation (AVAILABLE or RONA): created "
        "CONNECTED and already yours. Refused with NO_ENTRY_POINT, OUTBOUND_LIMIT_REACHED, "
        "CAPACITY_EXCEEDED or ACTIVE_CONVERSATION_EXISTS; a reused email subject is a "
        "ValidationError (rule `unique_per_customer`).",
    )
    async def start_outbound_conversation(
        self, info: Info, input: StartOutboundConversationInput
    ) -> StartOutboundConversationResult:
        try:
            command = _start(info.context.require_principal(), input)
            opened = await run_use_case(
                info,
                "startOutboundConversation",
                outbound.start_outbound_conversation,
                command,
                input.idempotency_key,
            )
        except DomainError as error:
            return to_error(error)
        message = opened.message
        return StartOutboundConversationSuccess(
            task=Task.from_domain(opened.task),
            first_message=None if message is None else Message.from_domain(message),
        )

    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="A customer's SMS or email reply: it joins the active conversation of its "
        "pair, or starts a new inbound contact linked to the same customer. Under PCI policy DROP "
        "a reply holding protected data is refused with PCI_VIOLATION and the agents see a "
        "MESSAGE_DROPPED line instead (the conversation or new contact is kept).",
    )
    async def report_customer_reply(
        self, info: Info, input: ReportCustomerReplyInput
    ) -> ReportCustomerReplyResult:
        try:
            command = _reply(info.context.require_principal(), input)
            recorded = await run_use_case(
                info,
                "reportCustomerReply",
                replies.report_customer_reply,
                command,
                input.idempotency_key,
            )
        except DomainError as error:
            return to_error(error)
        if recorded.dropped:
            # As for a chat: the connector is told, the agents see a MESSAGE_DROPPED line.
            return to_error(Rejected(ErrorCode.PCI_VIOLATION, DROPPED_MESSAGE))
        return ReportCustomerReplySuccess(
            task=Task.from_domain(recorded.task),
            reply=Message.from_domain(recorded.message),
            new_contact=recorded.new_contact,
        )
