"""Talking to the server as a client would: gql over HTTP and over graphql-transport-ws."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.api.server import Server


class GraphQLErrors(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def codes(self) -> list[str | None]:
        return [(error.get("extensions") or {}).get("code") for error in self.errors]


async def execute(
    server: Server, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one operation over HTTP; GraphQL ``errors`` raise ``GraphQLErrors``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = HTTPXAsyncTransport(url=server.http_url, headers=headers, timeout=30)
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        try:
            return await session.execute(GraphQLRequest(query, variable_values=variables))
        except TransportQueryError as error:
            raise GraphQLErrors(list(error.errors or [])) from error


@contextlib.asynccontextmanager
async def websocket(
    server: Server, token: str | None, *, headers: dict[str, str] | None = None
) -> AsyncIterator[Any]:
    """An acknowledged graphql-transport-ws session authenticated in ``connection_init``."""
    payload = {"authorization": f"Bearer {token}"} if token else {}
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload=payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        headers=headers,
        ack_timeout=10,
        keep_alive_timeout=None,
    )
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session
