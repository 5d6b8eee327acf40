"""Entry points: a channel address (number, email, handle), its direction and its queue."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from api.graphql.configuration.profiles import ChannelType, DirectionType  # noqa: F401 - enums
from api.graphql.configuration.queues import Queue
from api.graphql.configuration.references import load_one
from api.graphql.context import Info
from domain.channels import Channel, Direction
from domain.configuration import entry_points as domain
from domain.configuration.base import ConfigEntity, ConfigKind


@strawberry.type(
    description="Where customers reach the contact center (inbound) or agents send from "
    "(outbound); an outbound voice entry point serves callbacks."
)
class EntryPoint(ConfigurationEntity):
    channel: Channel
    direction: Direction
    address: str = strawberry.field(
        description="A phone number (VOICE, SMS), an email address (EMAIL), else a handle."
    )
    queue_id: strawberry.ID | None = strawberry.field(
        description="The queue its flow routes to; required when inbound."
    )

    @strawberry.field
    async def queue(self, info: Info) -> Queue | None:
        queue = await load_one(info, self.queue_id, ConfigKind.QUEUE)
        return None if queue is None else Queue.from_entity(queue)

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "EntryPoint":
        assert isinstance(entity, domain.EntryPoint)
        return cls(
            **base_fields(entity),
            channel=entity.channel,
            direction=entity.direction,
            address=entity.address,
            queue_id=None if entity.queue_id is None else strawberry.ID(entity.queue_id),
        )


@strawberry.input
class CreateEntryPointInput:
    name: str
    channel: Channel
    direction: Direction
    address: str
    queue_id: strawberry.ID | None = None
    idempotency_key: str | None = None


@strawberry.input
class UpdateEntryPointInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    channel: Channel | None = strawberry.UNSET
    direction: Direction | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    queue_id: strawberry.ID | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.ENTRY_POINT,
    noun="EntryPoint",
    plural="entryPoints",
    node=EntryPoint,
    create_input=CreateEntryPointInput,
    update_input=UpdateEntryPointInput,
)
