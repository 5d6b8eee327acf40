"""Presence in MongoDB: the repository the presence use cases write through (inside their
transaction), and the tracker each server instance runs for the desktop connections it holds.

The tracker registers an agent's WebSocket when it opens and unregisters it when it closes, each a
use case of its own. Every heartbeat it vouches for the connections it holds (one ``update_many`` on
``last_seen``), re-registers any that another instance swept meanwhile (this one lost the database
for a while), and sweeps the connections nobody vouched for within ``stale_after`` - three
heartbeats: those of an instance that crashed. Every instance sweeps; each agent's sweep is one
transaction on the agent's presence and the grace timer's id is deterministic, so several sweepers
change nothing more than one.

The in-memory registry is the truth about which sockets this instance holds; the database follows
it: a registration that failed is made by the next heartbeat, an unregistration that failed turns
stale and is swept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.agents.presence import AgentPresence
from domain.ports import TransientConflict
from domain.usecases.presence import (
    Connect,
    Disconnect,
    SweepStale,
    connect,
    disconnect,
    sweep_stale,
)
from domain.usecases.runner import Runner
from persistence.codec import decode, encode
from persistence.documents import PresenceDocument

log = logging.getLogger(__name__)

# A connection counts as gone once this many heartbeats passed without its instance vouching for it.
STALE_AFTER_HEARTBEATS = 3
_SWEEP_BATCH = 1000
_STOP_TIMEOUT = 5.0  # seconds to unregister what is still open at shutdown; the sweep does the rest


def _presence() -> AsyncCollection[Any]:
    # Looked up at each use: Beanie binds the document class to the database it was last given.
    return PresenceDocument.get_pymongo_collection()


def presence_key(org_id: str, agent_id: str) -> str:
    return f"{org_id}/{agent_id}"


class MongoPresenceRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session

    async def get(self, org_id: str, agent_id: str) -> AgentPresence | None:
        row = await _presence().find_one(
            {"_id": presence_key(org_id, agent_id)}, session=self._session
        )
        return None if row is None else decode(AgentPresence, row)

    async def save(self, presence: AgentPresence, *, expected_version: int) -> None:
        """Optimistic, like the agent sessions: a heartbeat that refreshed ``last_seen`` after this
        transaction read the document is a write conflict, so the use case re-runs on fresh data
        rather than writing back an old ``last_seen``."""
        key = presence_key(presence.org_id, presence.agent_id)
        fields = encode(presence)
        if expected_version == 0:
            try:
                await _presence().insert_one({"_id": key, **fields}, session=self._session)
            except DuplicateKeyError as error:
                raise TransientConflict(f"presence {key!r} created twice") from error
            return
        result = await _presence().update_one(
            {"_id": key, "version": expected_version}, {"$set": fields}, session=self._session
        )
        if result.matched_count == 0:
            raise TransientConflict(f"presence {key!r} changed meanwhile")


class PresenceTracker:
    def __init__(
        self,
        runner: Runner,
        *,
        heartbeat: timedelta = timedelta(seconds=10),
        instance: str | None = None,
    ) -> None:
        self._runner = runner
        self._clock = runner.clock
        self.heartbeat_interval = heartbeat
        self.stale_after = heartbeat * STALE_AFTER_HEARTBEATS
        self.instance = instance or f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._open: dict[str, tuple[str, str]] = {}  # connection id -> (organization, agent)
        self._task: asyncio.Task[None] | None = None

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def connected(self, org_id: str, agent_id: str) -> str:
        """Registers a desktop connection of an agent; returns its id for ``disconnected``."""
        connection_id = uuid.uuid4().hex
        self._open[connection_id] = (org_id, agent_id)
        try:
            await self._register(connection_id, org_id, agent_id)
        except Exception:
            log.exception("presence of agent %s not registered; the next heartbeat will", agent_id)
        return connection_id

    async def disconnected(self, connection_id: str) -> None:
        owner = self._open.pop(connection_id, None)
        if owner is None:
            return
        org_id, agent_id = owner
        command = Disconnect(org_id, agent_id, connection_id, self.stale_after)
        try:
            await self._runner.run(disconnect, command)
        except Exception:
            log.exception("presence of agent %s not unregistered; it will be swept", agent_id)

    async def heartbeat(self) -> None:
        """Vouch for every connection held here; register again any that was swept meanwhile."""
        held = list(self._open)
        if not held:
            return
        mine = {"$in": held}
        await _presence().update_many(
            {"connections.id": mine},
            {"$set": {"connections.$[mine].last_seen": self._clock.now()}},
            array_filters=[{"mine.id": mine}],
        )
        stored = set(await _presence().distinct("connections.id", {"connections.id": mine}))
        for connection_id in held:
            owner = self._open.get(connection_id)  # None: closed while this heartbeat ran
            if connection_id not in stored and owner is not None:
                log.warning("presence of agent %s had been swept; registering it again", owner[1])
                await self._register(connection_id, *owner)

    async def sweep(self) -> int:
        """Count as gone the connections nobody vouched for within ``stale_after``; returns how many
        agents had some."""
        cutoff = self._clock.now() - self.stale_after
        rows = (
            await _presence()
            .find({"connections.last_seen": {"$lt": cutoff}}, {"org_id": 1, "agent_id": 1})
            .limit(_SWEEP_BATCH)
            .to_list()
        )
        for row in rows:
            command = SweepStale(row["org_id"], row["agent_id"], self.stale_after)
            try:
                await self._runner.run(sweep_stale, command)
            except Exception:
                log.exception("sweeping the presence of agent %s failed", row["agent_id"])
        return len(rows)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="omnidesk-presence")

    async def stop(self) -> None:
        """Stops the heartbeat and unregisters what is still open (this instance is going away)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_STOP_TIMEOUT):
                for connection_id in list(self._open):
                    await self.disconnected(connection_id)

    async def _register(self, connection_id: str, org_id: str, agent_id: str) -> None:
        await self._runner.run(connect, Connect(org_id, agent_id, connection_id, self.instance))

    async def _loop(self) -> None:
        interval = self.heartbeat_interval.total_seconds()
        while True:
            try:
                await self.heartbeat()
                await self.sweep()
            except Exception:
                log.exception("presence heartbeat failed; trying again in %s s", interval)
            await asyncio.sleep(interval)
