"""Where a consult or transfer goes: an agent, a queue, an entry point or a dial number, checked
against the configuration. A dial number that is an inbound voice entry point's own number
(an "EP-DN") reaches that entry point's queue inside the contact center; any other is external."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from domain.agents.session import AgentSession
from domain.channels import Channel, Direction
from domain.configuration.base import ConfigKind
from domain.configuration.dial_numbers import DialNumber
from domain.configuration.entry_points import EntryPoint, normalize_phone
from domain.configuration.queues import Queue
from domain.configuration.teams import Team, TeamType
from domain.errors import ErrorCode, InvalidState, Rejected, ValidationFailed
from domain.ports import UnitOfWork
from domain.tasks.consults import Destination, DestinationKind

FIELD = "destination.id"
T = TypeVar("T")


@dataclass(frozen=True)
class Resolved:
    destination: Destination
    # Where a consult request or transferred call waits: the destination's queue (for an agent,
    # the call's own queue supplies the offer timeout).
    queue: Queue | None = None
    entry_point: EntryPoint | None = None
    agent: AgentSession | None = None

    @property
    def external(self) -> bool:
        return self.queue is None and self.agent is None


async def resolve(
    uow: UnitOfWork, org_id: str, kind: DestinationKind, entity_id: str, *, caller_id: str
) -> Resolved:
    if kind is DestinationKind.AGENT:
        return await _agent(uow, org_id, entity_id, caller_id)
    if kind is DestinationKind.QUEUE:
        queue = await _active(uow, org_id, ConfigKind.QUEUE, entity_id, Queue)
        if queue.channel is not Channel.VOICE or queue.direction is not Direction.INBOUND:
            raise ValidationFailed.single(FIELD, "voice_queue", "the queue must be inbound voice")
        return Resolved(Destination(kind=kind, id=queue.id, name=queue.name), queue=queue)
    if kind is DestinationKind.ENTRY_POINT:
        entry_point = await _active(uow, org_id, ConfigKind.ENTRY_POINT, entity_id, EntryPoint)
        return await _through_entry_point(uow, org_id, kind, entry_point, entry_point.id)
    number = await _active(uow, org_id, ConfigKind.DIAL_NUMBER, entity_id, DialNumber)
    dialled = await _entry_point_dialled(uow, org_id, number.number)
    if dialled is not None:
        return await _through_entry_point(uow, org_id, kind, dialled, number.id)
    destination = Destination(kind=kind, id=number.id, name=number.name, address=number.number)
    return Resolved(destination)


async def require_agent_based(uow: UnitOfWork, org_id: str, resolved: Resolved) -> None:
    """Consulting an EP/DN that routes to a capacity-based team is not supported (seed 002)."""
    if resolved.entry_point is None or resolved.queue is None:
        return
    for team_id in resolved.queue.team_ids:
        team = await uow.configuration.get(org_id, ConfigKind.TEAM, team_id)
        if isinstance(team, Team) and team.team_type is TeamType.CAPACITY_BASED:
            raise Rejected(
                ErrorCode.UNSUPPORTED_DESTINATION,
                "this destination routes to a capacity-based team, which cannot be consulted",
            )


def require_reachable(agent: AgentSession) -> None:
    """A consult or transfer to an agent rings them at once: they must be free for a call."""
    if not agent.accepts_offers:
        raise InvalidState("the agent is not available", current_state=agent.status)
    if agent.free_capacity(Channel.VOICE) <= 0:
        raise Rejected(ErrorCode.CAPACITY_EXCEEDED, "the agent has no room for another call")


async def _agent(uow: UnitOfWork, org_id: str, agent_id: str, caller_id: str) -> Resolved:
    if agent_id == caller_id:
        raise ValidationFailed.single(
            FIELD, "not_self", "you cannot consult or transfer to yourself"
        )
    session = await uow.agent_sessions.get(org_id, agent_id)
    if session is None or not session.logged_in:
        raise ValidationFailed.single(FIELD, "logged_in", "the agent must be logged in")
    destination = Destination(kind=DestinationKind.AGENT, id=agent_id, name=session.agent_name)
    return Resolved(destination, agent=session)


async def _through_entry_point(
    uow: UnitOfWork, org_id: str, kind: DestinationKind, entry_point: EntryPoint, entity_id: str
) -> Resolved:
    if (
        entry_point.channel is not Channel.VOICE
        or entry_point.direction is not Direction.INBOUND
        or entry_point.queue_id is None
    ):
        raise ValidationFailed.single(
            FIELD, "voice_entry_point", "the entry point must be inbound voice"
        )
    queue = await _active(uow, org_id, ConfigKind.QUEUE, entry_point.queue_id, Queue)
    destination = Destination(
        kind=kind, id=entity_id, name=entry_point.name, address=entry_point.address
    )
    return Resolved(destination, queue=queue, entry_point=entry_point)


async def _entry_point_dialled(uow: UnitOfWork, org_id: str, number: str) -> EntryPoint | None:
    dialled = normalize_phone(number)
    for entity in await uow.configuration.list_active(org_id, ConfigKind.ENTRY_POINT):
        if (
            isinstance(entity, EntryPoint)
            and entity.channel is Channel.VOICE
            and entity.direction is Direction.INBOUND
            and normalize_phone(entity.address) == dialled
        ):
            return entity
    return None


async def _active(
    uow: UnitOfWork, org_id: str, kind: ConfigKind, entity_id: str, cls: type[T]
) -> T:
    entity = await uow.configuration.get(org_id, kind, entity_id)
    if not isinstance(entity, cls) or not getattr(entity, "active", False):
        raise ValidationFailed.single(
            FIELD, "reference", f"no active {kind.value.lower().replace('_', ' ')} {entity_id!r}"
        )
    return entity
