"""An agent's presence (SPEC §2) as a pure value: the desktop connections (WebSockets) the agent
has open and, while none is, since when the agent is unattended.

Each connection carries the instant its server instance last vouched for it (``last_seen``,
refreshed by a heartbeat); one not vouched for within ``stale_after`` belongs to an instance that
died or lost the database, and counts as gone since its ``last_seen``.

An *absence* is a stretch of time without any connection that the grace period is measured on. One
starts when the last connection goes, and when the agent becomes AVAILABLE with none open (an
HTTP-only client, or a desktop that never connected): the request that made the agent available is
the last sign of life, so the grace counts from there. Each absence is numbered (``absences``) and
has a grace timer of its own; a connection ends it, and a timer whose absence is no longer the
current one does nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.timers import Timer, TimerKind


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
    # When the current absence began; None while a connection is open (and before any absence).
    gone_at: datetime | None = None
    # How many absences began so far: numbers the grace timers.
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

    def unattended(self, now: datetime) -> AgentPresence:
        """The agent became AVAILABLE (``now``): without a connection, a new absence starts now -
        even if one was running, since the request itself shows the agent was there. With a
        connection open, nothing changes."""
        if self.connected:
            return self
        return self._next(gone_at=now, absences=self.absences + 1)

    def went_away_from(self, before: AgentPresence) -> bool:
        """Whether this change began an absence."""
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
