"""Predefined chat responses: a title (``name``), the text, and what the desktop filters on."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from api.graphql.configuration.profiles import ChannelType  # noqa: F401 - registers the enum
from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.responses import ChatResponse as ChatResponseEntity


@strawberry.type(
    description="Text an agent searches, edits and sends (SPEC §10); `name` is its title."
)
class ChatResponse(ConfigurationEntity):
    text: str
    channels: list[Channel] = strawberry.field(
        description="Messaging channels it is offered on; empty means all of them."
    )
    tags: list[str]

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "ChatResponse":
        assert isinstance(entity, ChatResponseEntity)
        return cls(
            **base_fields(entity),
            text=entity.text,
            channels=list(entity.channels),
            tags=list(entity.tags),
        )


@strawberry.input
class CreateChatResponseInput:
    name: str
    text: str
    channels: list[Channel] = strawberry.field(default_factory=list)
    tags: list[str] = strawberry.field(default_factory=list)
    idempotency_key: str | None = None


@strawberry.input
class UpdateChatResponseInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    text: str | None = strawberry.UNSET
    channels: list[Channel] | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.CHAT_RESPONSE,
    noun="ChatResponse",
    plural="chatResponses",
    node=ChatResponse,
    create_input=CreateChatResponseInput,
    update_input=UpdateChatResponseInput,
)
