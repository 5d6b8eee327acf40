"""Events of agent sessions. Each goes to the agent's own stream only: an organization-wide stream
would make every state change of every agent take turns on one stream head."""

from __future__ import annotations

from dataclasses import dataclass

from domain.agents.states import AgentState, NextStateKind, StateChangeReason
from domain.events import DomainEvent
from domain.streams import StreamKey, agent_stream


@dataclass(frozen=True, kw_only=True)
class AgentSessionEvent(DomainEvent):
    agent_id: str
    reason: StateChangeReason
    # The session's version after the change: a client holding a snapshot knows where it stands.
    version: int

    def streams(self) -> tuple[StreamKey, ...]:
        return (agent_stream(self.org_id, self.agent_id),)


@dataclass(frozen=True, kw_only=True)
class AgentLoggedIn(AgentSessionEvent):
    team_id: str
    dial_number: str | None
    state: AgentState
    idle_code_id: str | None


@dataclass(frozen=True, kw_only=True)
class AgentLoggedOut(AgentSessionEvent):
    team_id: str
    from_state: AgentState
    from_idle_code_id: str | None


@dataclass(frozen=True, kw_only=True)
class AgentStateChanged(AgentSessionEvent):
    from_state: AgentState
    to_state: AgentState
    from_idle_code_id: str | None
    idle_code_id: str | None


@dataclass(frozen=True, kw_only=True)
class AgentNextStateChanged(AgentSessionEvent):
    """A next state was asked for (or replaced); ``next_state`` None: the pending one was cancelled."""

    next_state: NextStateKind | None
    idle_code_id: str | None
