"""Presence (SPEC §2): an agent whose desktop connections have all been gone longer than the
organization's grace period stops receiving offers; reconnecting within the grace changes nothing.

Each agent has one ``AgentPresence``: its open desktop connections (WebSockets), each with the
instant its server instance last vouched for it (``last_seen``, refreshed by a heartbeat), and,
while none is open, since when (``gone_at``). A connection not vouched for within ``stale_after``
belongs to an instance that died or lost the database: it counts as gone since its ``last_seen``.

Every time the agent's last connection goes, ``absences`` counts one more and a ``PRESENCE_GRACE``
timer numbered with it fires at ``gone_at`` + grace. It makes an ``AVAILABLE`` agent ``IDLE``
(reason ``DISCONNECTED``, made by the system) only if that absence is still the current one: any
reconnection in between makes it do nothing (a later absence has a timer of its own). The timer's
id comes from (agent, absence number), so sweepers on several instances schedule it once; and every
change, the firing included, writes the agent's one presence record, so concurrent changes take
turns instead of each deciding on a snapshot the other one is changing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from domain.agents.states import AgentState
from domain.configuration.policies import OrganizationPolicies
from domain.identity import Actor
from domain.timers import Timer, TimerKind

if TYPE_CHECKING:
    from domain.ports import Clock, UnitOfWork

PRESENCE = Actor.system("presence")


@dataclass(frozen=True)
class Connection:
    id: str
    instance: str  # the server instance holding it (for operators; liveness is ``last_seen``)
    last_seen: datetime


@dataclass(frozen=True, kw_only=True)
class AgentPresence:
    org_id: str
    agent_id: str
    connections: tuple[Connection, ...] = ()
    # When the last connection went; None while one is open (and before the first one).
    gone_at: datetime | None = None
    # How many times every connection has gone: numbers the grace timers.
    absences: int = 0
    version: int = 0

    @classmethod
    def new(cls, org_id: str, agent_id: str) -> AgentPresence:
        return cls(org_id=org_id, agent_id=agent_id)

    @property
    def key(self) -> str:
        """Agent ids are unique per organization only."""
        return f"{self.org_id}/{self.agent_id}"

    @property
    def connected(self) -> bool:
        return bool(self.connections)

    def connect(self, connection: Connection) -> AgentPresence:
        """A connection opened (or, known already, is vouched for again)."""
        others = tuple(c for c in self.connections if c.id != connection.id)
        return self._next(connections=(*others, connection), gone_at=None)

    def disconnect(
        self, connection_id: str, *, now: datetime, stale_before: datetime
    ) -> AgentPresence:
        """A connection closed (now); stale ones go with it."""
        departed = {
            c.id: now if c.id == connection_id else c.last_seen
            for c in self.connections
            if c.id == connection_id or c.last_seen < stale_before
        }
        return self._without(departed)

    def sweep(self, *, stale_before: datetime) -> AgentPresence:
        """Connections nobody vouched for since ``stale_before`` went when last seen."""
        return self._without(
            {c.id: c.last_seen for c in self.connections if c.last_seen < stale_before}
        )

    def went_away_from(self, before: AgentPresence) -> bool:
        """Whether this change took the agent's last connection away."""
        return self.absences > before.absences

    def acted_on(self) -> AgentPresence:
        """Unchanged but one version on: written by the firing timer so that a reconnection
        racing it takes turns with it."""
        return self._next()

    def grace_timer(self, grace: timedelta) -> Timer:
        if self.gone_at is None:
            raise ValueError("only an absence has a grace period")
        return Timer.at(
            self.gone_at + grace,
            org_id=self.org_id,
            kind=TimerKind.PRESENCE_GRACE,
            target_id=self.key,
            expected_version=self.absences,
            payload={"agentId": self.agent_id},
        )

    def _without(self, departed: Mapping[str, datetime]) -> AgentPresence:
        if not departed:
            return self
        kept = tuple(c for c in self.connections if c.id not in departed)
        if kept:
            return self._next(connections=kept)
        return self._next(
            connections=(), gone_at=max(departed.values()), absences=self.absences + 1
        )

    def _next(self, **changes: Any) -> AgentPresence:
        return dataclasses.replace(self, **changes, version=self.version + 1)


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connect:
    org_id: str
    agent_id: str
    connection_id: str
    instance: str


@dataclass(frozen=True)
class Disconnect:
    org_id: str
    agent_id: str
    connection_id: str
    stale_after: timedelta


@dataclass(frozen=True)
class SweepStale:
    org_id: str
    agent_id: str
    stale_after: timedelta


async def connect(cmd: Connect, uow: UnitOfWork, clock: Clock) -> AgentPresence:
    before = await _presence(uow, cmd.org_id, cmd.agent_id)
    after = before.connect(Connection(cmd.connection_id, cmd.instance, clock.now()))
    await _store(uow, before, after)
    return after


async def disconnect(cmd: Disconnect, uow: UnitOfWork, clock: Clock) -> AgentPresence:
    before = await _presence(uow, cmd.org_id, cmd.agent_id)
    now = clock.now()
    after = before.disconnect(cmd.connection_id, now=now, stale_before=now - cmd.stale_after)
    await _store(uow, before, after)
    return after


async def sweep_stale(cmd: SweepStale, uow: UnitOfWork, clock: Clock) -> AgentPresence:
    before = await _presence(uow, cmd.org_id, cmd.agent_id)
    after = before.sweep(stale_before=clock.now() - cmd.stale_after)
    await _store(uow, before, after)
    return after


async def presence_grace_expired(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
    """The ``PRESENCE_GRACE`` timer handler: still gone since that absence began, and
    ``AVAILABLE``? Then no more offers. Anything else - back (perhaps gone again since, with a timer
    of its own), logged out, already IDLE or in RONA - leaves everything as it is."""
    agent_id = timer.payload["agentId"]
    presence = await uow.presence.get(timer.org_id, agent_id)
    if presence is None or presence.connected or presence.absences != timer.expected_version:
        return
    session = await uow.agent_sessions.get(timer.org_id, agent_id)
    if session is None or not session.logged_in or session.state is not AgentState.AVAILABLE:
        return
    change = session.went_disconnected(now=clock.now(), by=PRESENCE)
    await uow.presence.save(presence.acted_on(), expected_version=presence.version)
    await uow.agent_sessions.save(change.session, expected_version=session.version)
    uow.emit(*change.events)


async def _presence(uow: UnitOfWork, org_id: str, agent_id: str) -> AgentPresence:
    return await uow.presence.get(org_id, agent_id) or AgentPresence.new(org_id, agent_id)


async def _store(uow: UnitOfWork, before: AgentPresence, after: AgentPresence) -> None:
    if after is before:
        return
    await uow.presence.save(after, expected_version=before.version)
    if after.went_away_from(before):
        policies = await uow.policies.get(after.org_id) or OrganizationPolicies(org_id=after.org_id)
        await uow.timers.schedule(
            after.grace_timer(timedelta(seconds=policies.presence_grace_seconds))
        )
