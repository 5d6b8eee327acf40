"""``agentEvents``: what happens to one agent: its configuration, log-ins and log-outs, state and
next-state changes (RONA included, once routing makes them)."""

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry

from api.graphql.agent_states import idle_code_of
from api.graphql.configuration.agents import Agent, current_agent
from api.graphql.configuration.codes import IdleCode
from api.graphql.configuration.common import ConfigKindType  # noqa: F401 - registers the enum
from api.graphql.context import Info
from api.graphql.events import Event, ResyncRequired, event_fields, stream_events
from api.graphql.permissions import AccessDenied, IsAuthenticated
from domain.agents import events as session_events
from domain.agents.states import AgentState, NextStateKind, StateChangeReason
from domain.configuration.events import ConfigurationChange, ConfigurationChanged
from domain.events import StoredEvent
from domain.identity import Role
from domain.streams import agent_stream

ConfigurationChangeType = strawberry.enum(ConfigurationChange, name="ConfigurationChange")


@strawberry.type(description="An admin changed the agent's configuration.")
class AgentConfigurationChanged(Event):
    agent_id: strawberry.ID
    change: ConfigurationChange
    changed_fields: list[str]
    version: int

    @strawberry.field(description="The agent as it is now (it may have changed again since).")
    async def agent(self, info: Info) -> Agent | None:
        return await current_agent(info, str(self.agent_id))


@strawberry.type(description="The agent logged in (reason LOGIN).")
class AgentLoggedIn(Event):
    agent_id: strawberry.ID
    team_id: strawberry.ID
    dial_number: str | None
    state: AgentState
    idle_code_id: strawberry.ID | None
    reason: StateChangeReason
    version: int


@strawberry.type(description="The agent logged out; `reason` and `cause` say why and who.")
class AgentLoggedOut(Event):
    agent_id: strawberry.ID
    team_id: strawberry.ID
    from_state: AgentState
    from_idle_code_id: strawberry.ID | None
    reason: StateChangeReason
    version: int


@strawberry.type(
    description="The agent's state changed: `reason` says why (agent, supervisor, RONA, next "
    "state applied, ...) and `cause` who or what made the change."
)
class AgentStateChanged(Event):
    agent_id: strawberry.ID
    from_state: AgentState
    to_state: AgentState
    from_idle_code_id: strawberry.ID | None
    idle_code_id: strawberry.ID | None
    reason: StateChangeReason
    version: int

    @strawberry.field
    async def idle_code(self, info: Info) -> IdleCode | None:
        return await idle_code_of(info, self.idle_code_id)


@strawberry.type(
    description="A next state was asked for, or (`nextState` null) withdrawn or found already "
    "in place when the work ended."
)
class AgentNextStateChanged(Event):
    agent_id: strawberry.ID
    next_state: NextStateKind | None
    idle_code_id: strawberry.ID | None
    reason: StateChangeReason
    version: int


AgentEvent = Annotated[
    AgentConfigurationChanged
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentStateChanged
    | AgentNextStateChanged
    | ResyncRequired,
    strawberry.union("AgentEvent"),
]


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


def _session_event(stored: StoredEvent, event: session_events.AgentSessionEvent) -> Event | None:
    common: dict[str, Any] = {
        **event_fields(stored),
        "agent_id": strawberry.ID(event.agent_id),
        "reason": event.reason,
        "version": event.version,
    }
    if isinstance(event, session_events.AgentLoggedIn):
        return AgentLoggedIn(
            **common,
            team_id=strawberry.ID(event.team_id),
            dial_number=event.dial_number,
            state=event.state,
            idle_code_id=_id(event.idle_code_id),
        )
    if isinstance(event, session_events.AgentLoggedOut):
        return AgentLoggedOut(
            **common,
            team_id=strawberry.ID(event.team_id),
            from_state=event.from_state,
            from_idle_code_id=_id(event.from_idle_code_id),
        )
    if isinstance(event, session_events.AgentStateChanged):
        return AgentStateChanged(
            **common,
            from_state=event.from_state,
            to_state=event.to_state,
            from_idle_code_id=_id(event.from_idle_code_id),
            idle_code_id=_id(event.idle_code_id),
        )
    if isinstance(event, session_events.AgentNextStateChanged):
        return AgentNextStateChanged(
            **common, next_state=event.next_state, idle_code_id=_id(event.idle_code_id)
        )
    return None


def _to_graphql(stored: StoredEvent) -> Event | None:
    event = stored.event
    if isinstance(event, session_events.AgentSessionEvent):
        return _session_event(stored, event)
    if isinstance(event, ConfigurationChanged):
        return AgentConfigurationChanged(
            **event_fields(stored),
            agent_id=strawberry.ID(event.entity_id),
            change=event.change,
            changed_fields=list(event.changed_fields),
            version=event.version,
        )
    return None


@strawberry.type
class AgentEventsSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Events of one agent: your own, or (supervisors, admins) any agent of your "
        "organization. Pass `after` (the last `seq` you saw) to resume.",
    )
    async def agent_events(
        self, info: Info, agent_id: strawberry.ID | None = None, after: int | None = None
    ) -> AsyncGenerator[AgentEvent, None]:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        target = str(agent_id) if agent_id is not None else principal.subject
        if target != principal.subject and not principal.has_any(Role.SUPERVISOR, Role.ADMIN):
            raise AccessDenied("agents may follow only their own events", "FORBIDDEN")
        async for item in stream_events(
            info, agent_stream(principal.org_id, target), after, _to_graphql
        ):
            yield item
