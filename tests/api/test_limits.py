"""Limits and what the schema shows: depth, alias and token limits refuse an operation before
anything runs; introspection, GraphiQL and field suggestions only in development; unexpected
errors masked outside debug.

``strict_server`` runs in production with tight limits, so operations short enough to read can
cross them; the shared ``server`` shows the development defaults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from api.graphql.schema import build_schema
from api.settings import Settings
from domain.identity import Role
from tests.api.client import websocket
from tests.api.server import Server, start_server, token

MAX_DEPTH, MAX_ALIASES, MAX_TOKENS = 1, 2, 60


@pytest.fixture(scope="module")
def strict_server(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"limits_{uuid.uuid4().hex[:8]}",
        log_dir=Path(tmp_path_factory.mktemp("strict-server")),
        extra_env={
            "OMNIDESK_ENVIRONMENT": "production",
            "OMNIDESK_MAX_QUERY_DEPTH": str(MAX_DEPTH),
            "OMNIDESK_MAX_ALIASES": str(MAX_ALIASES),
            "OMNIDESK_MAX_TOKENS": str(MAX_TOKENS),
        },
    )
    try:
        yield running
    finally:
        running.stop()


async def graphql(server: Server, bearer: str | None, query: str) -> dict[str, Any]:
    """The JSON body of one POST; these answers are GraphQL errors, never HTTP ones."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(server.http_url, json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


def create_team(name: str, selection: str = "__typename", alias: str = "") -> str:
    field = f"{alias}: createTeam" if alias else "createTeam"
    return f'{field}(input: {{name: "{name}"}}) {{ {selection} }}'


async def created_now(server: Server, bearer: str, name: str) -> bool:
    """Creates team ``name``: true if it is new, false if it existed (names are unique), which is
    how a test tells that a refused operation created nothing."""
    body = await graphql(server, bearer, f"mutation {{ {create_team(name)} }}")
    return {"CreateTeamSuccess": True, "ValidationError": False}[
        body["data"]["createTeam"]["__typename"]
    ]


# --- depth, aliases, tokens ----------------------------------------------------------------------


async def test_an_operation_deeper_than_the_limit_is_refused_and_nothing_runs(
    strict_server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    # createTeam > team > id: depth 2 (the top-level field is depth 0)
    deep = f"mutation Deep {{ {create_team('Deep', '... on CreateTeamSuccess { team { id } }')} }}"
    body = await graphql(strict_server, admin, deep)
    assert body["data"] is None
    assert messages(body) == [f"'Deep' exceeds maximum operation depth of {MAX_DEPTH}"]
    assert await created_now(strict_server, admin, "Deep")


async def test_too_many_aliases_are_refused_and_nothing_runs(
    strict_server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    aliased = " ".join(create_team(f"Alias{n}", alias=f"a{n}") for n in range(MAX_ALIASES + 1))
    body = await graphql(strict_server, admin, f"mutation {{ {aliased} }}")
    assert body["data"] is None
    assert messages(body) == [f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"]
    assert await created_now(strict_server, admin, "Alias0")


async def test_too_many_tokens_are_refused_and_nothing_runs(
    strict_server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    padded = create_team("Tokens", " ".join(["__typename"] * MAX_TOKENS))
    body = await graphql(strict_server, admin, f"mutation {{ {padded} }}")
    assert body["data"] is None
    assert len(messages(body)) == 1
    assert f"Document contains more than {MAX_TOKENS} tokens" in messages(body)[0]
    assert await created_now(strict_server, admin, "Tokens")


async def test_the_limits_hold_over_websocket_too(strict_server: Server, org_id: str) -> None:
    async with websocket(strict_server, token(org_id, Role.ADMIN)) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(
                GraphQLRequest("query Deep { organization { policies { version } } }")
            )
    assert [error["message"] for error in refused.value.errors or []] == [
        f"'Deep' exceeds maximum operation depth of {MAX_DEPTH}"
    ]


async def test_the_default_limits_are_on(server: Server) -> None:
    aliases = await graphql(
        server, None, "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }"
    )
    tokens = await graphql(server, None, "{ " + " __typename" * 2001 + " }")
    assert messages(aliases) == ["31 aliases found. Allowed: 30"]
    assert len(messages(tokens)) == 1
    assert "Document contains more than 2000 tokens" in messages(tokens)[0]


# --- what the schema shows -----------------------------------------------------------------------


async def test_introspection_is_on_in_development(server: Server) -> None:
    body = await graphql(server, None, "{ __schema { queryType { name } } }")
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("{ __schema { queryType { name } } }", ["__schema", "queryType"]),
        ('{ __type(name: "Query") { name } }', ["__type"]),
    ],
    ids=["schema", "type"],
)
async def test_introspection_is_off_in_production(
    strict_server: Server, query: str, fields: list[str]
) -> None:
    body = await graphql(strict_server, None, query)
    assert body["data"] is None
    assert messages(body) == [
        "GraphQL introspection has been disabled, but the requested query contained the field "
        f"'{field}'."
        for field in fields
    ]


async def test_typename_still_answers_in_production(strict_server: Server) -> None:
    assert await graphql(strict_server, None, "{ __typename }") == {"data": {"__typename": "Query"}}


async def test_graphiql_is_served_in_development_only(
    server: Server, strict_server: Server
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        development = await client.get(server.http_url, headers={"Accept": "text/html"})
        production = await client.get(strict_server.http_url, headers={"Accept": "text/html"})
    assert development.status_code == 200
    assert "graphiql" in development.text.lower()
    assert production.status_code == 404
    assert "graphiql" not in production.text.lower()


async def test_field_suggestions_do_not_spell_out_the_schema_in_production(
    server: Server, strict_server: Server, org_id: str
) -> None:
    query = "{ tems }"
    development = await graphql(server, token(org_id, Role.ADMIN), query)
    production = await graphql(strict_server, token(org_id, Role.ADMIN), query)
    assert "Did you mean" in messages(development)[0]
    assert messages(production) == ["Cannot query field 'tems' on type 'Query'."]


# --- masking -------------------------------------------------------------------------------------

# No API operation is meant to fail unexpectedly, so the masking itself is proven in-process on the
# real schema: executed without its context, a resolver fails the way a bug would.


@pytest.mark.parametrize(("debug", "masked"), [(False, True), (True, False)])
async def test_unexpected_errors_are_masked_outside_debug(debug: bool, masked: bool) -> None:
    schema = build_schema(Settings(debug=debug, jwt_secret="s" * 40))
    result = await schema.execute("{ me { subject } }", context_value=None)
    assert result.errors is not None
    assert len(result.errors) == 1
    message = result.errors[0].message
    if masked:
        assert message == "Unexpected error."
    else:
        assert "has no attribute 'principal'" in message


async def test_expected_errors_are_not_masked(strict_server: Server) -> None:
    body = await graphql(strict_server, None, "{ me { subject } }")
    assert body["errors"][0]["message"] == "authentication required"
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize(
    ("arguments", "internals"),
    [
        pytest.param('after: "zzz"', ["binascii", "padding", "base64"], id="garbage-cursor"),
        pytest.param(
            f'search: "{"a" * 40_000}"', ["regular expression", "pymongo"], id="huge-search"
        ),
    ],
)
async def test_internal_failures_never_reach_the_client(
    server: Server, org_id: str, arguments: str, internals: list[str]
) -> None:
    body = await graphql(
        server, token(org_id, Role.ADMIN), f"{{ teams({arguments}) {{ nodes {{ id }} }} }}"
    )
    assert len(body["errors"]) == 1
    text = str(body).lower()
    assert "traceback" not in text
    for detail in internals:
        assert detail not in text


async def test_concurrent_operations_do_not_unmask_each_others_errors(
    server: Server, org_id: str
) -> None:
    # Given an operation that fails inside a resolver (a garbage cursor, which today surfaces as
    # an unexpected error) and what it answers when it runs alone
    admin = token(org_id, Role.ADMIN)
    failing = '{ organization { policies { version } } teams(after: "zzz") { nodes { id } } }'
    passing = "{ organization { policies { version } } }"
    alone = await graphql(server, admin, failing)
    # When many run at once, interleaved with operations that succeed
    bodies = await asyncio.gather(
        *[graphql(server, admin, failing if n % 2 else passing) for n in range(60)]
    )
    # Then each answers exactly as it does alone: masking follows its own operation
    assert [body for body in bodies[1::2] if body != alone] == []
    assert [
        body
        for body in bodies[::2]
        if body != {"data": {"organization": {"policies": {"version": 0}}}}
    ] == []
