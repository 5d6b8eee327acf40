"""Teams through the public API: create, list, update, deactivate, with typed errors."""

from __future__ import annotations

import asyncio

import pytest

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute
from tests.api.server import Server, token

CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) {
    __typename
    ... on CreateTeamSuccess { team { id name teamType active version } }
    ... on ValidationError { code field rule violations { field rule } }
  }
}
"""

UPDATE_TEAM = """
mutation($input: UpdateTeamInput!) {
  updateTeam(input: $input) {
    __typename
    ... on UpdateTeamSuccess { team { id name teamType version } }
    ... on Error { code message }
    ... on ValidationError { field rule }
    ... on ConflictError { currentVersion }
  }
}
"""

DEACTIVATE_TEAM = """
mutation($input: DeactivateTeamInput!) {
  deactivateTeam(input: $input) {
    __typename
    ... on DeactivateTeamSuccess { team { id active version } }
    ... on InvalidStateError { code currentState }
  }
}
"""

TEAMS = """
query($first: Int, $after: String, $includeInactive: Boolean) {
  teams(first: $first, after: $after, includeInactive: $includeInactive) {
    nodes { name active }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_admin_creates_lists_updates_and_deactivates_a_team(
    server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    created = await execute(
        server, admin, CREATE_TEAM, {"input": {"name": "Billing", "teamType": "CAPACITY_BASED"}}
    )
    team = created["createTeam"]["team"]
    assert created["createTeam"]["__typename"] == "CreateTeamSuccess"
    assert (team["name"], team["teamType"], team["active"], team["version"]) == (
        "Billing",
        "CAPACITY_BASED",
        True,
        1,
    )

    renamed = await execute(
        server,
        admin,
        UPDATE_TEAM,
        {"input": {"id": team["id"], "name": "Billing EU", "expectedVersion": 1}},
    )
    assert renamed["updateTeam"]["team"] == {
        "id": team["id"],
        "name": "Billing EU",
        "teamType": "CAPACITY_BASED",
        "version": 2,
    }

    stale = await execute(
        server,
        admin,
        UPDATE_TEAM,
        {"input": {"id": team["id"], "name": "Other", "expectedVersion": 1}},
    )
    assert stale["updateTeam"]["__typename"] == "ConflictError"
    assert stale["updateTeam"]["currentVersion"] == 2

    gone = await execute(server, admin, DEACTIVATE_TEAM, {"input": {"id": team["id"]}})
    assert gone["deactivateTeam"]["team"]["active"] is False
    again = await execute(server, admin, DEACTIVATE_TEAM, {"input": {"id": team["id"]}})
    assert again["deactivateTeam"] == {
        "__typename": "InvalidStateError",
        "code": "INVALID_STATE",
        "currentState": "INACTIVE",
    }

    active = await execute(server, admin, TEAMS, {})
    everything = await execute(server, admin, TEAMS, {"includeInactive": True})
    assert active["teams"]["nodes"] == []
    assert everything["teams"]["nodes"] == [{"name": "Billing EU", "active": False}]


async def test_team_names_are_unique_per_organization_ignoring_case(
    server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    await execute(server, admin, CREATE_TEAM, {"input": {"name": "Sales"}})
    duplicate = await execute(server, admin, CREATE_TEAM, {"input": {"name": " sales "}})
    assert duplicate["createTeam"] == {
        "__typename": "ValidationError",
        "code": "VALIDATION_FAILED",
        "field": "name",
        "rule": "unique",
        "violations": [{"field": "name", "rule": "unique"}],
    }


@pytest.mark.parametrize(
    ("name", "rule"), [("", "required"), ("   ", "required"), ("x" * 101, "max_length:100")]
)
async def test_team_name_rules(server: Server, org_id: str, name: str, rule: str) -> None:
    result = await execute(
        server, token(org_id, Role.ADMIN), CREATE_TEAM, {"input": {"name": name}}
    )
    assert (
        result["createTeam"]["__typename"],
        result["createTeam"]["field"],
        result["createTeam"]["rule"],
    ) == (
        "ValidationError",
        "name",
        rule,
    )


async def test_an_agent_may_read_but_not_create_teams(server: Server, org_id: str) -> None:
    agent = token(org_id, Role.AGENT)
    with pytest.raises(GraphQLErrors) as refused:
        await execute(server, agent, CREATE_TEAM, {"input": {"name": "Sneaky"}})
    assert refused.value.codes == ["FORBIDDEN"]
    listed = await execute(server, agent, TEAMS, {})
    assert listed["teams"]["nodes"] == []


async def test_teams_page_by_cursor(server: Server, org_id: str) -> None:
    admin = token(org_id, Role.ADMIN)
    for name in ["Delta", "alpha", "Charlie", "bravo", "Echo"]:
        await execute(server, admin, CREATE_TEAM, {"input": {"name": name}})
    seen: list[str] = []
    after = None
    while True:
        page = (await execute(server, admin, TEAMS, {"first": 2, "after": after}))["teams"]
        seen += [node["name"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["alpha", "bravo", "Charlie", "Delta", "Echo"]


async def test_a_bad_page_size_is_a_coded_validation_error(server: Server, org_id: str) -> None:
    with pytest.raises(GraphQLErrors) as refused:
        await execute(server, token(org_id, Role.AGENT), TEAMS, {"first": 0})
    assert refused.value.codes == ["VALIDATION_FAILED"]
    assert refused.value.errors[0]["extensions"]["field"] == "first"
    assert refused.value.errors[0]["extensions"]["rule"] == "range:1-100"


@pytest.mark.parametrize(
    ("variables", "field", "rule"),
    [
        ({"after": "not-a-cursor"}, "after", "cursor"),
        ({"after": "WyJhIl0="}, "after", "cursor"),
        ({"search": "x" * 101}, "search", "max_length:100"),
    ],
)
async def test_bad_paging_and_search_arguments_are_coded_validation_errors(
    server: Server, org_id: str, variables: dict[str, str], field: str, rule: str
) -> None:
    query = "query($after: String, $search: String) { teams(after: $after, search: $search) { nodes { id } } }"
    with pytest.raises(GraphQLErrors) as refused:
        await execute(server, token(org_id, Role.AGENT), query, variables)
    assert refused.value.codes == ["VALIDATION_FAILED"]
    assert (
        refused.value.errors[0]["extensions"]["field"],
        refused.value.errors[0]["extensions"]["rule"],
    ) == (field, rule)


async def test_many_admins_changing_one_organization_at_once_all_succeed(
    server: Server, org_id: str
) -> None:
    """Every change of an organization appends to its configuration stream, so concurrent
    admins collide there; each collision is retried, and nobody sees a failure."""
    admin = token(org_id, Role.ADMIN)
    results = await asyncio.gather(
        *(execute(server, admin, CREATE_TEAM, {"input": {"name": f"Team {n}"}}) for n in range(24))
    )
    assert {result["createTeam"]["__typename"] for result in results} == {"CreateTeamSuccess"}
    listed = await execute(server, admin, TEAMS, {"first": 100})
    assert len(listed["teams"]["nodes"]) == 24
