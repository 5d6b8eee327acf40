"""Multimedia profiles: per channel, how many tasks an agent takes at once."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from domain.channels import Channel, Direction
from domain.configuration import profiles as domain
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.profiles import VoiceMode

# Channel and Direction are shared by queues, entry points and tasks; registering an enum twice
# is harmless, so each module that needs one may say so.
ChannelType = strawberry.enum(Channel, name="Channel")
DirectionType = strawberry.enum(Direction, name="Direction")
VoiceModeType = strawberry.enum(
    VoiceMode,
    name="VoiceMode",
    description="EXCLUSIVE: no digital work while on a call. BLENDED: digital work alongside it.",
)


@strawberry.type(description="How many tasks of one channel an agent may hold at once.")
class ChannelCapacity:
    channel: Channel
    max_concurrent: int
    max_outbound: int = strawberry.field(
        description="Agent-initiated outbound tasks at once; they count towards `maxConcurrent`."
    )


@strawberry.input
class ChannelCapacityInput:
    channel: Channel
    max_concurrent: int
    max_outbound: int = 0

    def to_domain(self) -> domain.ChannelCapacity:
        return domain.ChannelCapacity(self.channel, self.max_concurrent, self.max_outbound)


@strawberry.type(description="Per channel, how much work an agent takes at once (SPEC §1).")
class MultimediaProfile(ConfigurationEntity):
    channels: list[ChannelCapacity]
    voice_mode: VoiceMode

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "MultimediaProfile":
        assert isinstance(entity, domain.MultimediaProfile)
        return cls(
            **base_fields(entity),
            channels=[
                ChannelCapacity(
                    channel=c.channel, max_concurrent=c.max_concurrent, max_outbound=c.max_outbound
                )
                for c in entity.channels
            ],
            voice_mode=entity.voice_mode,
        )


@strawberry.input
class CreateMultimediaProfileInput:
    name: str
    channels: list[ChannelCapacityInput]
    voice_mode: VoiceMode = VoiceMode.BLENDED
    idempotency_key: str | None = None


@strawberry.input
class UpdateMultimediaProfileInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    channels: list[ChannelCapacityInput] | None = strawberry.UNSET
    voice_mode: VoiceMode | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.MULTIMEDIA_PROFILE,
    noun="MultimediaProfile",
    plural="multimediaProfiles",
    node=MultimediaProfile,
    create_input=CreateMultimediaProfileInput,
    update_input=UpdateMultimediaProfileInput,
)
