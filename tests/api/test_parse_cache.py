"""The server parses and validates each operation text once and reuses the result: what a request
gets must still depend on that request alone (its caller, variables, operation name, transport),
and the depth, alias and token limits must hold however often, and however concurrently, a text
is sent. Each text here is sent many times at once, so most requests meet it already checked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute
from tests.api.server import Server, new_org_id, start_server, token

TIMES = 40  # requests of one text at once
MAX_DEPTH, MAX_ALIASES, MAX_TOKENS = 2, 2, 40

POLICIES = "query { organization { id policies { version } } }"
UPDATE_POLICIES = """
mutation($input: UpdatePoliciesInput!) { updatePolicies(input: $input) { __typename } }"""
CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) { __typename ... on CreateTeamSuccess { team { id name } } }
}"""
TWO_OPERATIONS = """
query Me { me { subject } }
query Org { organization { id } }
subscription Events { agentEvents { __typename } }"""


@pytest.fixture(scope="module")
def limited_server(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"parse_cache_{uuid.uuid4().hex[:8]}",
        log_dir=Path(tmp_path_factory.mktemp("limited-server")),
        extra_env={
            "OMNIDESK_MAX_QUERY_DEPTH": str(MAX_DEPTH),
            "OMNIDESK_MAX_ALIASES": str(MAX_ALIASES),
            "OMNIDESK_MAX_TOKENS": str(MAX_TOKENS),
        },
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        yield client


async def post(
    http: httpx.AsyncClient, server: Server, bearer: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        server.http_url, json=body, headers={"Authorization": f"Bearer {bearer}"}
    )


async def outcome(server: Server, bearer: str, query: str, variables: dict[str, Any]) -> Any:
    """The data, or the error codes: a refusal is an answer here."""
    try:
        return await execute(server, bearer, query, variables)
    except GraphQLErrors as refused:
        return refused.codes


# --- what each request gets is its own --------------------------------------------------------------


async def test_one_text_answers_each_caller_by_their_own_roles(server: Server, org_id: str) -> None:
    # Given one mutation text that an admin may run and an agent may not
    admin, agent = token(org_id, Role.ADMIN), token(org_id, Role.AGENT)
    variables = {"input": {"presenceGraceSeconds": 120}}
    # When both send it, interleaved and all at once
    callers = [admin if n % 2 else agent for n in range(TIMES)]
    answers = await asyncio.gather(
        *(outcome(server, bearer, UPDATE_POLICIES, variables) for bearer in callers)
    )
    # Then each answer is the one its own caller's roles give
    assert answers[1::2] == [{"updatePolicies": {"__typename": "UpdatePoliciesSuccess"}}] * (
        TIMES // 2
    )
    assert answers[::2] == [["FORBIDDEN"]] * (TIMES // 2)


async def test_one_text_reads_each_callers_own_organization(server: Server) -> None:
    orgs = [new_org_id() for _ in range(TIMES)]
    answers = await asyncio.gather(
        *(execute(server, token(org, Role.ADMIN), POLICIES) for org in orgs)
    )
    assert [answer["organization"]["id"] for answer in answers] == orgs


async def test_each_request_runs_with_its_own_variables(server: Server, org_id: str) -> None:
    admin = token(org_id, Role.ADMIN)
    names = [f"Team {n:02d}" for n in range(TIMES)]
    answers = await asyncio.gather(
        *(execute(server, admin, CREATE_TEAM, {"input": {"name": name}}) for name in names)
    )
    assert [answer["createTeam"]["team"]["name"] for answer in answers] == names
    assert len({answer["createTeam"]["team"]["id"] for answer in answers}) == TIMES


async def test_the_operation_a_request_names_is_the_one_that_runs(
    server: Server, org_id: str, http: httpx.AsyncClient
) -> None:
    agent = token(org_id, Role.AGENT, subject="agent-7")
    names = ["Me" if n % 2 else "Org" for n in range(TIMES)]
    responses = await asyncio.gather(
        *(
            post(http, server, agent, {"query": TWO_OPERATIONS, "operationName": name})
            for name in names
        )
    )
    expected = {
        "Me": {"data": {"me": {"subject": "agent-7"}}},
        "Org": {"data": {"organization": {"id": org_id}}},
    }
    assert [response.json() for response in responses] == [expected[name] for name in names]


async def test_a_text_already_served_is_still_refused_as_a_subscription_over_http(
    server: Server, org_id: str, http: httpx.AsyncClient
) -> None:
    agent = token(org_id, Role.AGENT, subject="agent-8")
    served = await post(http, server, agent, {"query": TWO_OPERATIONS, "operationName": "Me"})
    refused = await asyncio.gather(
        *(
            post(http, server, agent, {"query": TWO_OPERATIONS, "operationName": "Events"})
            for _ in range(TIMES)
        )
    )
    assert served.json() == {"data": {"me": {"subject": "agent-8"}}}
    assert {(r.status_code, r.text) for r in refused} == {
        (400, "subscriptions are served over WebSocket (graphql-transport-ws) only")
    }


# --- the limits hold every time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("within", "served", "beyond", "refusal"),
    [
        pytest.param(
            "query Within { queues { nodes { id } } }",
            {"queues": {"nodes": []}},
            "query Deeper { queues { nodes { requiredSkills { name } } } }",
            f"'Deeper' exceeds maximum operation depth of {MAX_DEPTH}",
            id="depth",
        ),
        pytest.param(
            "{ a: __typename b: __typename }",
            {"a": "Query", "b": "Query"},
            "{ a: __typename b: __typename c: __typename }",
            f"3 aliases found. Allowed: {MAX_ALIASES}",
            id="aliases",
        ),
        pytest.param(
            "{" + " __typename" * (MAX_TOKENS - 2) + " }",
            {"__typename": "Query"},
            "{" + " __typename" * MAX_TOKENS + " }",
            f"Document contains more than {MAX_TOKENS} tokens",
            id="tokens",
        ),
    ],
)
async def test_a_limit_refuses_a_text_every_time_while_a_text_within_it_is_served(
    limited_server: Server,
    http: httpx.AsyncClient,
    within: str,
    served: dict[str, Any],
    beyond: str,
    refusal: str,
) -> None:
    admin = token(new_org_id(), Role.ADMIN)
    # Given each text sent once already (the one within the limit is then known to the server)
    first = [await post(http, limited_server, admin, {"query": text}) for text in (within, beyond)]
    # When both are sent again, interleaved and all at once
    texts = [within if n % 2 else beyond for n in range(TIMES)]
    again = await asyncio.gather(
        *(post(http, limited_server, admin, {"query": text}) for text in texts)
    )
    bodies = [response.json() for response in first + again]
    # Then the one within the limit is served every time and the other refused every time
    assert bodies[0] == {"data": served}
    assert bodies[3::2] == [{"data": served}] * (TIMES // 2)
    refusals = [bodies[1], *bodies[2::2]]
    assert [body["data"] for body in refusals] == [None] * (1 + TIMES // 2)
    assert [len(body["errors"]) for body in refusals] == [1] * (1 + TIMES // 2)
    assert [body for body in refusals if refusal not in body["errors"][0]["message"]] == []
