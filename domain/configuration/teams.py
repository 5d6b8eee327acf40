from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.configuration.base import ConfigEntity, ConfigKind


class TeamType(StrEnum):
    """Agent-based teams route to named agents; capacity-based teams are external capacity
    (SPEC §6: consulting an EP/DN that routes to one is ``UNSUPPORTED_DESTINATION``)."""

    AGENT_BASED = "AGENT_BASED"
    CAPACITY_BASED = "CAPACITY_BASED"


@dataclass(frozen=True, kw_only=True)
class Team(ConfigEntity):
    kind = ConfigKind.TEAM

    team_type: TeamType = TeamType.AGENT_BASED
