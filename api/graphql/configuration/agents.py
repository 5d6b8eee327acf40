"""Agents: identity, teams, skills and multimedia profile."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from api.graphql.configuration.profiles import MultimediaProfile
from api.graphql.configuration.references import load_many, load_one
from api.graphql.configuration.teams import Team
from api.graphql.context import Info
from domain.configuration import agents as domain
from domain.configuration.base import ConfigEntity, ConfigKind


@strawberry.type(description="A skill an agent holds, at a level from 1 to 10.")
class Skill:
    name: str
    level: int


@strawberry.input
class SkillInput:
    name: str
    level: int

    def to_domain(self) -> domain.Skill:
        return domain.Skill(self.name, self.level)


@strawberry.type(description="A person who takes work; the id is the `sub` of the agent's token.")
class Agent(ConfigurationEntity):
    email: str
    team_ids: list[strawberry.ID]
    profile_id: strawberry.ID
    skills: list[Skill]
    extension: str | None = strawberry.field(
        description="The extension or dial number offered by default at log-in."
    )

    @strawberry.field(description="The teams the agent may log in to.")
    async def teams(self, info: Info) -> list[Team]:
        return [
            Team.from_entity(team) for team in await load_many(info, self.team_ids, ConfigKind.TEAM)
        ]

    @strawberry.field
    async def profile(self, info: Info) -> MultimediaProfile | None:
        profile = await load_one(info, self.profile_id, ConfigKind.MULTIMEDIA_PROFILE)
        return None if profile is None else MultimediaProfile.from_entity(profile)

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "Agent":
        assert isinstance(entity, domain.Agent)
        return cls(
            **base_fields(entity),
            email=entity.email,
            team_ids=[strawberry.ID(team_id) for team_id in entity.team_ids],
            profile_id=strawberry.ID(entity.profile_id),
            skills=[Skill(name=skill.name, level=skill.level) for skill in entity.skills],
            extension=entity.extension,
        )


async def current_agent(info: Info, agent_id: str) -> Agent | None:
    agent = await load_one(info, agent_id, ConfigKind.AGENT)
    return None if agent is None else Agent.from_entity(agent)


@strawberry.input
class CreateAgentInput:
    name: str
    email: str
    team_ids: list[strawberry.ID]
    profile_id: strawberry.ID
    skills: list[SkillInput] = strawberry.field(default_factory=list)
    extension: str | None = None
    id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Optional: the `sub` your identity provider puts in this agent's tokens. "
        "Left out, the server chooses one.",
    )
    idempotency_key: str | None = None


@strawberry.input
class UpdateAgentInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    team_ids: list[strawberry.ID] | None = strawberry.UNSET
    profile_id: strawberry.ID | None = strawberry.UNSET
    skills: list[SkillInput] | None = strawberry.UNSET
    extension: str | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.AGENT,
    noun="Agent",
    plural="agents",
    node=Agent,
    create_input=CreateAgentInput,
    update_input=UpdateAgentInput,
)
