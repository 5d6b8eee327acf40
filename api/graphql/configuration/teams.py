"""Teams: agent-based or capacity-based."""

import strawberry

from api.graphql.configuration.common import ConfigurationEntity, base_fields
from api.graphql.configuration.crud import Resource
from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.teams import Team as TeamEntity
from domain.configuration.teams import TeamType

TeamTypeType = strawberry.enum(TeamType, name="TeamType")


@strawberry.type
class Team(ConfigurationEntity):
    team_type: TeamType

    @classmethod
    def from_entity(cls, entity: ConfigEntity) -> "Team":
        assert isinstance(entity, TeamEntity)
        return cls(**base_fields(entity), team_type=entity.team_type)


@strawberry.input
class CreateTeamInput:
    name: str
    team_type: TeamType = TeamType.AGENT_BASED
    idempotency_key: str | None = None


@strawberry.input
class UpdateTeamInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    team_type: TeamType | None = strawberry.UNSET
    idempotency_key: str | None = None


RESOURCE = Resource(
    kind=ConfigKind.TEAM,
    noun="Team",
    plural="teams",
    node=Team,
    create_input=CreateTeamInput,
    update_input=UpdateTeamInput,
)
