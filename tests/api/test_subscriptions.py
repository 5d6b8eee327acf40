"""``agentEvents`` through the public API: live events, resuming after a disconnect with ``after``
(every event once, in order), ``ResyncRequired`` for a cursor older than what is retained, who
may follow whom, and who caused what."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from domain.identity import Role
from domain.streams import agent_stream
from persistence.database import make_client
from tests.api.client import execute, websocket
from tests.api.operations import CREATE_AGENT, CREATE_PROFILE, CREATE_TEAM, UPDATE_AGENT
from tests.api.server import Server, token
from tests.persistence.test_event_feed import kill_change_stream

WAIT = 30.0

AGENT_EVENTS = """
subscription($agentId: ID, $after: Int) {
  agentEvents(agentId: $agentId, after: $after) {
    __typename
    ... on AgentConfigurationChanged {
      seq eventId occurredAt cause { kind id } agentId change changedFields version
    }
    ... on ResyncRequired { headSeq message }
  }
}
"""

NextEvent = Callable[[], Awaitable[dict[str, Any]]]


class Admin:
    """An admin of the test's organization who sets up agents and changes them."""

    def __init__(self, server: Server, org_id: str) -> None:
        self.server = server
        self.subject = "admin-7"
        self.bearer = token(org_id, Role.ADMIN, subject=self.subject)
        self.team_id = ""
        self.profile_id = ""

    async def mutate(self, query: str, field: str, fields: dict[str, Any]) -> dict[str, Any]:
        result = (await execute(self.server, self.bearer, query, {"input": fields}))[field]
        assert result["__typename"].endswith("Success"), result
        return result

    async def create_agent(self, name: str) -> str:
        if not self.team_id:
            team = await self.mutate(CREATE_TEAM, "createTeam", {"name": "Support"})
            self.team_id = team["team"]["id"]
            profile = await self.mutate(
                CREATE_PROFILE,
                "createMultimediaProfile",
                {"name": "Chat", "channels": [{"channel": "CHAT", "maxConcurrent": 3}]},
            )
            self.profile_id = profile["multimediaProfile"]["id"]
        agent = await self.mutate(
            CREATE_AGENT,
            "createAgent",
            {
                "name": name,
                "email": f"{name.lower()}@example.com",
                "teamIds": [self.team_id],
                "profileId": self.profile_id,
            },
        )
        return str(agent["agent"]["id"])

    async def change_agent(self, agent_id: str, **changes: Any) -> int:
        updated = await self.mutate(UPDATE_AGENT, "updateAgent", {"id": agent_id, **changes})
        return int(updated["agent"]["version"])


@pytest.fixture
def admin(server: Server, org_id: str) -> Admin:
    return Admin(server, org_id)


@contextlib.asynccontextmanager
async def agent_events(
    server: Server, bearer: str, agent_id: str | None, after: int | None
) -> AsyncIterator[NextEvent]:
    """A WebSocket with one ``agentEvents`` subscription; leaving the block disconnects."""
    async with websocket(server, bearer) as session:
        request = GraphQLRequest(
            AGENT_EVENTS, variable_values={"agentId": agent_id, "after": after}
        )
        events = session.subscribe(request)

        async def next_event() -> dict[str, Any]:
            result = await asyncio.wait_for(anext(events), WAIT)
            return result["agentEvents"]

        try:
            yield next_event
        finally:
            await events.aclose()


def summary(event: dict[str, Any]) -> tuple[Any, ...]:
    return (
        event["__typename"],
        event["seq"],
        event["change"],
        event["version"],
        event["changedFields"],
    )


async def test_a_supervisor_follows_an_agent_live_and_resumes_after_a_disconnect(
    server: Server, org_id: str, admin: Admin
) -> None:
    agent_id = await admin.create_agent("Ada")
    supervisor = token(org_id, Role.SUPERVISOR)

    async with agent_events(server, supervisor, agent_id, after=0) as next_event:
        # The creation is replayed: from here on the subscription is live.
        assert summary(await next_event())[:4] == ("AgentConfigurationChanged", 1, "CREATED", 1)
        await admin.change_agent(agent_id, name="Ada L.")
        live = await next_event()
        assert summary(live) == ("AgentConfigurationChanged", 2, "UPDATED", 2, ["name"])
        last_seen = live["seq"]

    # While nobody listens: exactly three changes.
    await admin.change_agent(agent_id, extension="1001")
    await admin.change_agent(agent_id, skills=[{"name": "billing", "level": 5}])
    await admin.change_agent(agent_id, name="Ada Lovelace", extension="1002")

    async with agent_events(server, supervisor, agent_id, after=last_seen) as next_event:
        replayed = [summary(await next_event()) for _ in range(3)]
        assert replayed == [
            ("AgentConfigurationChanged", 3, "UPDATED", 3, ["extension"]),
            ("AgentConfigurationChanged", 4, "UPDATED", 4, ["skills"]),
            ("AgentConfigurationChanged", 5, "UPDATED", 5, ["name", "extension"]),
        ]
        await admin.change_agent(agent_id, name="Countess")
        # The next one is the fourth change: nothing repeated, nothing extra.
        assert summary(await next_event()) == (
            "AgentConfigurationChanged",
            6,
            "UPDATED",
            6,
            ["name"],
        )


async def test_an_event_names_the_admin_who_caused_it(
    server: Server, org_id: str, admin: Admin
) -> None:
    agent_id = await admin.create_agent("Grace")

    async with agent_events(
        server, token(org_id, Role.SUPERVISOR), agent_id, after=0
    ) as next_event:
        created = await next_event()

    assert created["cause"] == {"kind": "ADMIN", "id": admin.subject}
    assert created["agentId"] == agent_id
    assert created["eventId"]
    assert created["occurredAt"].endswith(("Z", "+00:00"))


async def test_a_cursor_older_than_the_retained_events_gets_resync_required_first(
    server: Server, mongodb_url: str, org_id: str, admin: Admin
) -> None:
    agent_id = await admin.create_agent("Linus")
    for name in ("L1", "L2", "L3", "L4"):
        await admin.change_agent(agent_id, name=name)
    # What the TTL index does after the retention period (its monitor runs once a minute).
    client = make_client(mongodb_url)
    try:
        events = client[server.env["OMNIDESK_DATABASE"]]["events"]
        stream = agent_stream(org_id, agent_id)
        removed = await events.delete_many({"stream": stream, "seq": {"$lte": 3}})
        assert removed.deleted_count == 3
    finally:
        await client.close()

    async with agent_events(
        server, token(org_id, Role.SUPERVISOR), agent_id, after=1
    ) as next_event:
        resync = await next_event()
        assert (resync["__typename"], resync["headSeq"]) == ("ResyncRequired", 5)
        await admin.change_agent(agent_id, name="L5")
        assert summary(await next_event()) == (
            "AgentConfigurationChanged",
            6,
            "UPDATED",
            6,
            ["name"],
        )


async def test_an_agent_follows_its_own_events(server: Server, org_id: str, admin: Admin) -> None:
    agent_id = await admin.create_agent("Alan")
    own = token(org_id, Role.AGENT, subject=agent_id)

    async with agent_events(server, own, None, after=0) as implicit:
        assert (await implicit())["agentId"] == agent_id
    async with agent_events(server, own, agent_id, after=0) as explicit:
        assert (await explicit())["agentId"] == agent_id


async def test_an_agent_may_not_follow_another_agent(
    server: Server, org_id: str, admin: Admin
) -> None:
    agent_id = await admin.create_agent("Alan")
    other_id = await admin.create_agent("Barbara")

    async with agent_events(
        server, token(org_id, Role.AGENT, subject=agent_id), other_id, after=0
    ) as next_event:
        with pytest.raises(TransportQueryError) as refused:
            await next_event()

    errors = refused.value.errors or []
    assert [(error.get("extensions") or {}).get("code") for error in errors] == ["FORBIDDEN"]


async def test_a_subscription_misses_nothing_when_the_servers_change_stream_is_interrupted(
    server: Server, mongodb_url: str, org_id: str, admin: Admin
) -> None:
    agent_id = await admin.create_agent("Edsger")
    client = make_client(mongodb_url)
    try:
        async with agent_events(
            server, token(org_id, Role.SUPERVISOR), agent_id, after=0
        ) as next_event:
            assert (await next_event())["seq"] == 1

            await kill_change_stream(client, client[server.env["OMNIDESK_DATABASE"]])
            for name in ("E1", "E2", "E3"):
                await admin.change_agent(agent_id, name=name)

            # Three changes and then silence: a gap cannot be filled from a later event here.
            assert [(await next_event())["seq"] for _ in range(3)] == [2, 3, 4]
    finally:
        await client.close()
