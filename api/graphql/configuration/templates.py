"""Message templates for outbound SMS and email, with their parsed ``{{placeholder}}`` names."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from api.graphql.configuration.profiles import ChannelType  # noqa: F401 - registers the enum
from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.templates import MessageTemplate as MessageTemplateEntity


@strawberry.type(
    description="An SMS or email text with `{{name}}` placeholders filled in when sent."
)
class MessageTemplate(ConfigurationEntity):
    channel: Channel
    subject: str | None = strawberry.field(description="Email only.")
    body: str
    placeholders: list[str] = strawberry.field(
        description="The placeholder names used in subject and body, in order of first use."
    )

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "MessageTemplate":
        assert isinstance(entity, MessageTemplateEntity)
        return cls(
            **base_fields(entity),
            channel=entity.channel,
            subject=entity.subject,
            body=entity.body,
            placeholders=list(entity.placeholders),
        )


@strawberry.input
class CreateMessageTemplateInput:
    name: str
    channel: Channel
    body: str
    subject: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class UpdateMessageTemplateInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    channel: Channel | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    subject: str | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.MESSAGE_TEMPLATE,
    noun="MessageTemplate",
    plural="messageTemplates",
    node=MessageTemplate,
    create_input=CreateMessageTemplateInput,
    update_input=UpdateMessageTemplateInput,
)
