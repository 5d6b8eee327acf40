"""Agent sessions in MongoDB: the repository use cases write through (inside their transaction) and
the read side the API lists from (outside any transaction)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from domain.agents.session import AgentSession
from domain.channels import Channel
from domain.ports import TransientConflict
from persistence.codec import decode, encode
from persistence.configuration_queries import decode_cursor
from persistence.documents import AgentSessionDocument


def session_key(org_id: str, agent_id: str) -> str:
    return f"{org_id}/{agent_id}"


def _same_name(name: str) -> dict[str, str]:
    """Skill names match ignoring case, as routing (``RoutingProfile.skill_level``) decides."""
    return {"$regex": f"^{re.escape(name)}$", "$options": "i"}


def session_fields(session: AgentSession) -> dict[str, Any]:
    """The stored fields of ``AgentSessionDocument`` but ``_id``, built directly: a session is
    written at every offer and answer, and a validated model per write cost more than the write."""
    return {
        "org_id": session.org_id,
        "agent_id": session.agent_id,
        "logged_in": session.logged_in,
        "state": None if session.state is None else session.state.value,
        "team_id": session.team_id,
        "state_since": session.state_since,
        "name_key": session.agent_name.strip().casefold(),
        "accepts_offers": session.accepts_offers,
        "active_task_count": session.active_task_count,
        "pending_offer_count": session.pending_offer_count,
        "load": {entry.channel.value: entry.tasks for entry in session.load if entry.tasks},
        "open_channels": [channel.value for channel in session.open_channels],
        "ready_since": session.ready_since,
        "version": session.version,
        "data": encode(session),
    }


def from_row(row: dict[str, Any]) -> AgentSession:
    return decode(AgentSession, row["data"])


class MongoAgentSessionRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session
        self._collection = AgentSessionDocument.get_pymongo_collection()
        # What this transaction last read or wrote of each session (see MongoTaskRepository).
        self._known: dict[str, AgentSession | None] = {}

    async def get(self, org_id: str, agent_id: str) -> AgentSession | None:
        key = session_key(org_id, agent_id)
        if key not in self._known:
            row = await self._collection.find_one({"_id": key}, session=self._session)
            self._known[key] = None if row is None else from_row(row)
        return self._known[key]

    async def save(self, session: AgentSession, *, expected_version: int) -> None:
        """Optimistic: only over the version the use case read. Inside a snapshot transaction a
        rival's commit surfaces as a write conflict (retried by the runner); the checks here catch
        what slips past it, and re-running the use case re-decides on what is now stored."""
        key = session_key(session.org_id, session.agent_id)
        fields = session_fields(session)
        if expected_version == 0:
            try:
                await self._collection.insert_one({"_id": key, **fields}, session=self._session)
            except DuplicateKeyError as error:
                raise TransientConflict(f"agent {session.agent_id!r} logged in twice") from error
        else:
            result = await self._collection.update_one(
                {"_id": key, "version": expected_version}, {"$set": fields}, session=self._session
            )
            if result.matched_count == 0:
                raise TransientConflict(
                    f"the session of agent {session.agent_id!r} changed meanwhile"
                )
        self._known[key] = session

    async def candidates(
        self,
        org_id: str,
        channel: Channel,
        team_ids: Sequence[str],
        skills: Sequence[tuple[str, int]],
        limit: int,
    ) -> Sequence[AgentSession]:
        query: dict[str, Any] = {
            "org_id": org_id,
            "open_channels": channel.value,
            "team_id": {"$in": list(team_ids)},
        }
        if skills:
            query["$and"] = [
                {
                    "data.routing.skills": {
                        "$elemMatch": {"name": _same_name(name), "level": {"$gte": level}}
                    }
                }
                for name, level in skills
            ]
        rows = (
            await self._collection.find(query, {"data": 1}, session=self._session)
            .sort([("ready_since", 1), ("_id", 1)])
            .limit(limit)
            .to_list()
        )
        return [from_row(row) for row in rows]


@dataclass(frozen=True)
class SessionPage:
    items: Sequence[AgentSession]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool


def _cursor(row: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([row["name_key"], row["_id"]]).encode()).decode()


class AgentSessionQueries:
    """Reads of the API: one session, who is logged in (by name, keyset-paginated), and how many
    agents of some teams are in each state."""

    async def states_by_team(
        self, org_id: str, team_ids: Sequence[str]
    ) -> dict[str, dict[str, int]]:
        """{team id: {state: agents}} for logged-in agents of these teams."""
        cursor = await AgentSessionDocument.get_pymongo_collection().aggregate(
            [
                {
                    "$match": {
                        "org_id": org_id,
                        "logged_in": True,
                        "team_id": {"$in": list(team_ids)},
                    }
                },
                {"$group": {"_id": {"team": "$team_id", "state": "$state"}, "agents": {"$sum": 1}}},
            ]
        )
        counts: dict[str, dict[str, int]] = {}
        async for row in cursor:
            counts.setdefault(row["_id"]["team"], {})[row["_id"]["state"]] = row["agents"]
        return counts

    async def get(self, org_id: str, agent_id: str) -> AgentSession | None:
        row = await AgentSessionDocument.get_pymongo_collection().find_one(
            {"_id": session_key(org_id, agent_id)}
        )
        return None if row is None else from_row(row)

    async def logged_in(
        self, org_id: str, *, team_id: str | None, first: int, after: str | None
    ) -> SessionPage:
        query: dict[str, Any] = {"org_id": org_id, "logged_in": True}
        if team_id is not None:
            query["team_id"] = team_id
        if after is not None:
            name_key, agent_id = decode_cursor(after)
            query["$or"] = [
                {"name_key": {"$gt": name_key}},
                {"name_key": name_key, "_id": {"$gt": agent_id}},
            ]
        rows = (
            await AgentSessionDocument.get_pymongo_collection()
            .find(query)
            .sort([("name_key", 1), ("_id", 1)])
            .limit(first + 1)
            .to_list()
        )
        shown = rows[:first]
        return SessionPage(
            items=[from_row(row) for row in shown],
            cursors=[_cursor(row) for row in shown],
            has_next_page=len(rows) > first,
            has_previous_page=after is not None,
        )
