"""``agentEvents``: what happens to one agent (configuration now; states and RONA as they land)."""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from api.graphql.configuration.agents import Agent, current_agent
from api.graphql.configuration.common import ConfigKindType  # noqa: F401 - registers the enum
from api.graphql.context import Info
from api.graphql.events import Event, ResyncRequired, event_fields, stream_events
from api.graphql.permissions import AccessDenied, IsAuthenticated
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


AgentEvent = Annotated[AgentConfigurationChanged | ResyncRequired, strawberry.union("AgentEvent")]


def _to_graphql(stored: StoredEvent) -> AgentConfigurationChanged | None:
    event = stored.event
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
