"""Queues: channel, direction, routing, required skills, serving teams, timeout, priority."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from api.graphql.configuration.profiles import ChannelType, DirectionType  # noqa: F401 - enums
from api.graphql.configuration.references import load_many
from api.graphql.configuration.teams import Team
from api.graphql.context import Info
from domain.channels import Channel, Direction
from domain.configuration import queues as domain
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.queues import RoutingStrategy

RoutingStrategyType = strawberry.enum(
    RoutingStrategy,
    name="RoutingStrategy",
    description="How routing picks among eligible agents. LONGEST_AVAILABLE (default): the one "
    "available the longest. BEST_SKILLED: the highest sum of levels in the required skills, then "
    "the one available the longest.",
)


@strawberry.type(description="Agents need this skill at `minLevel` or above to be offered tasks.")
class SkillRequirement:
    name: str
    min_level: int


@strawberry.input
class SkillRequirementInput:
    name: str
    min_level: int = 1

    def to_domain(self) -> domain.SkillRequirement:
        return domain.SkillRequirement(self.name, self.min_level)


@strawberry.type(description="Where tasks wait for an agent of the serving teams (SPEC §1, §3).")
class Queue(ConfigurationEntity):
    channel: Channel
    direction: Direction
    routing_strategy: RoutingStrategy
    required_skills: list[SkillRequirement]
    team_ids: list[strawberry.ID]
    offer_timeout_seconds: int = strawberry.field(
        description="How long an agent has to accept an offer before RONA (5 to 600)."
    )
    priority: int = strawberry.field(description="1 is served first, 10 last.")

    @strawberry.field(description="The teams whose agents serve the queue.")
    async def teams(self, info: Info) -> list[Team]:
        teams = await load_many(info, self.team_ids, ConfigKind.TEAM)
        return [Team.from_entity(team) for team in teams]

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "Queue":
        assert isinstance(entity, domain.Queue)
        return cls(
            **base_fields(entity),
            channel=entity.channel,
            direction=entity.direction,
            routing_strategy=entity.routing_strategy,
            required_skills=[
                SkillRequirement(name=skill.name, min_level=skill.min_level)
                for skill in entity.required_skills
            ],
            team_ids=[strawberry.ID(team_id) for team_id in entity.team_ids],
            offer_timeout_seconds=entity.offer_timeout_seconds,
            priority=entity.priority,
        )


@strawberry.input
class CreateQueueInput:
    name: str
    channel: Channel
    team_ids: list[strawberry.ID]
    direction: Direction = Direction.INBOUND
    routing_strategy: RoutingStrategy = RoutingStrategy.LONGEST_AVAILABLE
    required_skills: list[SkillRequirementInput] = strawberry.field(default_factory=list)
    offer_timeout_seconds: int = domain.DEFAULT_OFFER_TIMEOUT_SECONDS
    priority: int = domain.DEFAULT_PRIORITY
    idempotency_key: str | None = None


@strawberry.input
class UpdateQueueInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    channel: Channel | None = strawberry.UNSET
    team_ids: list[strawberry.ID] | None = strawberry.UNSET
    direction: Direction | None = strawberry.UNSET
    routing_strategy: RoutingStrategy | None = strawberry.UNSET
    required_skills: list[SkillRequirementInput] | None = strawberry.UNSET
    offer_timeout_seconds: int | None = strawberry.UNSET
    priority: int | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.QUEUE,
    noun="Queue",
    plural="queues",
    node=Queue,
    create_input=CreateQueueInput,
    update_input=UpdateQueueInput,
)
