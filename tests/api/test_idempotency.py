"""Idempotent mutations through the public API: a repeat with the same ``idempotencyKey`` returns
the first result and changes nothing, whatever the timing of the repeats."""

from __future__ import annotations

import asyncio

from domain.identity import Role
from tests.api.client import execute
from tests.api.server import Server, token

CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) {
    __typename
    ... on CreateTeamSuccess { team { id name teamType version createdAt } }
    ... on ValidationError { code field rule }
  }
}
"""

TEAMS = """
query { teams(first: 50) { nodes { id name } } }
"""


async def test_a_repeated_create_with_one_key_returns_the_first_team(
    server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    variables = {
        "input": {"name": "Billing", "teamType": "CAPACITY_BASED", "idempotencyKey": "k-1"}
    }

    first = await execute(server, admin, CREATE_TEAM, variables)
    again = await execute(server, admin, CREATE_TEAM, variables)

    assert first["createTeam"]["__typename"] == "CreateTeamSuccess"
    assert again == first
    listed = await execute(server, admin, TEAMS)
    assert listed["teams"]["nodes"] == [
        {"id": first["createTeam"]["team"]["id"], "name": "Billing"}
    ]


async def test_the_same_key_with_a_different_input_is_a_validation_error(
    server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    await execute(
        server, admin, CREATE_TEAM, {"input": {"name": "Billing", "idempotencyKey": "k-1"}}
    )

    reused = await execute(
        server, admin, CREATE_TEAM, {"input": {"name": "Sales", "idempotencyKey": "k-1"}}
    )

    assert reused["createTeam"] == {
        "__typename": "ValidationError",
        "code": "VALIDATION_FAILED",
        "field": "idempotencyKey",
        "rule": "reused",
    }
    listed = await execute(server, admin, TEAMS)
    assert [node["name"] for node in listed["teams"]["nodes"]] == ["Billing"]


async def test_ten_concurrent_identical_requests_with_one_key_create_one_team(
    server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    variables = {"input": {"name": "Billing", "idempotencyKey": "retry-storm"}}

    results = await asyncio.gather(
        *(execute(server, admin, CREATE_TEAM, variables) for _ in range(10))
    )

    assert [result["createTeam"]["__typename"] for result in results] == ["CreateTeamSuccess"] * 10
    assert all(result == results[0] for result in results)
    listed = await execute(server, admin, TEAMS)
    assert listed["teams"]["nodes"] == [
        {"id": results[0]["createTeam"]["team"]["id"], "name": "Billing"}
    ]


async def test_keys_belong_to_their_caller(server: Server, org_id: str) -> None:
    variables = {"input": {"name": "Billing", "idempotencyKey": "k-1"}}
    await execute(server, token(org_id, Role.ADMIN, subject="admin-a"), CREATE_TEAM, variables)

    other = await execute(
        server, token(org_id, Role.ADMIN, subject="admin-b"), CREATE_TEAM, variables
    )

    # Not the first admin's result: a fresh attempt, which the unique name then refuses.
    assert other["createTeam"] == {
        "__typename": "ValidationError",
        "code": "VALIDATION_FAILED",
        "field": "name",
        "rule": "unique",
    }
