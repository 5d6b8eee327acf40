"""Tenancy: a token's ``org`` is the only organization it reaches. Ids, cursors, idempotency keys
and agent ids of another organization find nothing and change nothing, and another
organization's events never reach a subscriber."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from domain.configuration.base import ConfigKind
from domain.configuration.events import ConfigurationChange, ConfigurationChanged
from domain.identity import Actor, Role
from persistence.database import Retention, make_client, open_database
from persistence.unit_of_work import MongoUnitOfWork
from tests.api.client import execute, websocket
from tests.api.server import Server, new_org_id, token

CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) {
    __typename
    ... on CreateTeamSuccess { team { id name } }
  }
}
"""
TEAM = "query($id: ID!) { team(id: $id) { id name active version } }"
TEAMS = """
query($after: String, $search: String) {
  teams(first: 50, after: $after, search: $search, includeInactive: true) {
    edges { cursor node { name } }
  }
}
"""
UPDATE_TEAM = """
mutation($input: UpdateTeamInput!) {
  updateTeam(input: $input) { __typename ... on Error { code } }
}
"""
DEACTIVATE_TEAM = """
mutation($input: DeactivateTeamInput!) {
  deactivateTeam(input: $input) { __typename ... on Error { code } }
}
"""
POLICIES = """
query { organization { id policies { recordingEnabled presenceGraceSeconds version } } }
"""
UPDATE_POLICIES = """
mutation($input: UpdatePoliciesInput!) {
  updatePolicies(input: $input) { __typename }
}
"""
AGENT_EVENTS = """
subscription($agentId: ID, $after: Int) {
  agentEvents(agentId: $agentId, after: $after) {
    __typename
    ... on AgentConfigurationChanged { seq agentId version }
  }
}
"""


async def create_team(server: Server, admin: str, name: str, key: str | None = None) -> str:
    variables = {"input": {"name": name, "idempotencyKey": key}}
    created = await execute(server, admin, CREATE_TEAM, variables)
    assert created["createTeam"]["__typename"] == "CreateTeamSuccess"
    return str(created["createTeam"]["team"]["id"])


# --- configuration and policies ------------------------------------------------------------------


async def test_an_admin_cannot_read_or_change_another_organizations_team(server: Server) -> None:
    # Given a team of organization B, and an admin of organization A who knows its id
    admin_a, admin_b = token(new_org_id(), Role.ADMIN), token(new_org_id(), Role.ADMIN)
    theirs = await create_team(server, admin_b, "Secret ops")
    before = await execute(server, admin_b, TEAM, {"id": theirs})

    # When A reads it, renames it and deactivates it by that id
    read = await execute(server, admin_a, TEAM, {"id": theirs})
    renamed = await execute(
        server, admin_a, UPDATE_TEAM, {"input": {"id": theirs, "name": "Pwned"}}
    )
    deactivated = await execute(server, admin_a, DEACTIVATE_TEAM, {"input": {"id": theirs}})

    # Then A finds nothing, and B's team is as it was
    assert read == {"team": None}
    assert renamed == {"updateTeam": {"__typename": "NotFoundError", "code": "NOT_FOUND"}}
    assert deactivated == {"deactivateTeam": {"__typename": "NotFoundError", "code": "NOT_FOUND"}}
    assert await execute(server, admin_b, TEAM, {"id": theirs}) == before
    assert before["team"] == {"id": theirs, "name": "Secret ops", "active": True, "version": 1}


async def test_lists_searches_and_cursors_stay_inside_the_organization(server: Server) -> None:
    admin_a, admin_b = token(new_org_id(), Role.ADMIN), token(new_org_id(), Role.ADMIN)
    for name in ("Alpha", "Bravo"):
        await create_team(server, admin_a, name)
    for name in ("Alpaca", "Bison", "Zebra"):
        await create_team(server, admin_b, name)
    b_edges = (await execute(server, admin_b, TEAMS, {}))["teams"]["edges"]

    listed = await execute(server, admin_a, TEAMS, {})
    searched = await execute(server, admin_a, TEAMS, {"search": "zebra"})
    # B's cursor at "Alpaca" is a position in a sort order, not a key into B's data
    paged = await execute(server, admin_a, TEAMS, {"after": b_edges[0]["cursor"]})

    assert [edge["node"]["name"] for edge in listed["teams"]["edges"]] == ["Alpha", "Bravo"]
    assert searched["teams"]["edges"] == []
    assert [edge["node"]["name"] for edge in paged["teams"]["edges"]] == ["Alpha", "Bravo"]


async def test_one_admins_policy_change_leaves_other_organizations_alone(server: Server) -> None:
    org_a, org_b = new_org_id(), new_org_id()
    admin_a, admin_b = token(org_a, Role.ADMIN), token(org_b, Role.ADMIN)
    before_b = await execute(server, admin_b, POLICIES)

    changed = await execute(
        server, admin_a, UPDATE_POLICIES, {"input": {"presenceGraceSeconds": 7}}
    )

    assert changed["updatePolicies"]["__typename"] == "UpdatePoliciesSuccess"
    after_a = await execute(server, admin_a, POLICIES)
    assert after_a["organization"]["id"] == org_a
    assert after_a["organization"]["policies"]["presenceGraceSeconds"] == 7
    assert await execute(server, admin_b, POLICIES) == before_b
    assert before_b["organization"]["id"] == org_b


async def test_an_idempotency_key_never_replays_another_organizations_result(
    server: Server,
) -> None:
    # Given two organizations whose admins share a subject name and reuse one idempotency key
    org_a, org_b = new_org_id(), new_org_id()
    admin_a = token(org_a, Role.ADMIN, subject="admin")
    admin_b = token(org_b, Role.ADMIN, subject="admin")
    ours = await create_team(server, admin_a, "Ours", key="create-1")
    # When B sends its own request under that key
    theirs = await create_team(server, admin_b, "Theirs", key="create-1")
    # Then B gets its own team, not A's remembered result
    assert theirs != ours
    assert (await execute(server, admin_b, TEAM, {"id": theirs}))["team"]["name"] == "Theirs"
    assert (await execute(server, admin_b, TEAM, {"id": ours})) == {"team": None}


# --- events -------------------------------------------------------------------------------------

Emit = Callable[[str, str, int], Awaitable[None]]


@pytest.fixture
async def emit_agent_event(server: Server, mongodb_url: str) -> AsyncIterator[Emit]:
    """Commits a ``ConfigurationChanged`` of an agent into the server's database through the real
    unit of work, the path every use case takes: the server's change stream sees it like any
    other event. (This needs no agent configuration, so the test stays about tenancy.)"""
    client = make_client(mongodb_url)
    await open_database(client, server.env["OMNIDESK_DATABASE"], Retention())

    class _Clock:
        def now(self) -> datetime:
            return datetime.now(UTC)

    async def emit(org_id: str, agent_id: str, version: int) -> None:
        async with MongoUnitOfWork(client, _Clock()) as uow:
            uow.emit(
                ConfigurationChanged(
                    org_id=org_id,
                    occurred_at=datetime.now(UTC),
                    actor=Actor.system("tenancy-test"),
                    kind=ConfigKind.AGENT,
                    entity_id=agent_id,
                    change=ConfigurationChange.UPDATED,
                    version=version,
                    changed_fields=("name",),
                )
            )
            await uow.commit()

    try:
        yield emit
    finally:
        await client.close()


async def _next(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    async with asyncio.timeout(15):
        return (await anext(events))["agentEvents"]


def _changed(agent: str, seq: int, version: int) -> dict[str, Any]:
    return {
        "__typename": "AgentConfigurationChanged",
        "seq": seq,
        "agentId": agent,
        "version": version,
    }


async def test_agent_events_never_cross_organizations(
    server: Server, emit_agent_event: Emit
) -> None:
    # Given the same agent id in two organizations: B's stream ahead of A's, so a leaked event
    # of B could not pass for one A has already seen
    org_a, org_b = new_org_id(), new_org_id()
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    await emit_agent_event(org_b, agent, 100)
    await emit_agent_event(org_b, agent, 101)
    await emit_agent_event(org_a, agent, 1)
    async with (
        websocket(server, token(org_a, Role.ADMIN)) as session_a,
        websocket(server, token(org_b, Role.SUPERVISOR)) as session_b,
    ):
        variables = {"agentId": agent, "after": 0}
        events_a = session_a.subscribe(GraphQLRequest(AGENT_EVENTS, variable_values=variables))
        events_b = session_b.subscribe(GraphQLRequest(AGENT_EVENTS, variable_values=variables))
        # A's replay holds A's event only; having replayed, it is live (it subscribes live first)
        assert await _next(events_a) == _changed(agent, 1, 1)
        # When B's organization has another event of that agent id, and then A has one
        await emit_agent_event(org_b, agent, 102)
        await emit_agent_event(org_a, agent, 2)
        # Then A's next event is its own: B's, committed before it, never came
        assert await _next(events_a) == _changed(agent, 2, 2)
        # And B, following the same agent id, sees B's events only, in order
        assert [await _next(events_b) for _ in range(3)] == [
            _changed(agent, 1, 100),
            _changed(agent, 2, 101),
            _changed(agent, 3, 102),
        ]
        await events_a.aclose()
        await events_b.aclose()


async def test_an_agent_cannot_follow_another_agents_events(server: Server, org_id: str) -> None:
    async with websocket(server, token(org_id, Role.AGENT, subject="agent-1")) as session:
        request = GraphQLRequest(AGENT_EVENTS, variable_values={"agentId": "agent-2"})
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(request):
                pass
    errors = refused.value.errors or []
    assert [(error["message"], error["extensions"]["code"]) for error in errors] == [
        ("agents may follow only their own events", "FORBIDDEN")
    ]
