"""Talking to the server as a client would: gql over HTTP and over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
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


@dataclass(frozen=True)
class _HeldSession:
    ready: asyncio.Future[AsyncClientSession]
    holder: asyncio.Task[None]  # the loop keeps only weak references to its tasks


# One HTTP session per (event loop, server URL): building an httpx client costs ~15 ms of CPU
# (its TLS context), and a kept-alive connection spares the server an accept per request.
_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _HeldSession]] = (
    weakref.WeakKeyDictionary()
)
# Connections are not capped, so that "many at once" stays as many as the test sends. Idle ones
# are dropped well before uvicorn's 5 s keep-alive, so a request never races the server closing
# its connection.
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=32, keepalive_expiry=2.0)


async def _hold_session(url: str, ready: asyncio.Future[AsyncClientSession]) -> None:
    """Open the session and keep it until the loop shuts down: ``asyncio.run`` and
    pytest-asyncio cancel the tasks left when they close a loop, which closes it cleanly."""
    transport = HTTPXAsyncTransport(url=url, timeout=30, limits=_LIMITS, trust_env=False)
    try:
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            ready.set_result(session)
            await asyncio.Future()  # never done: cancelled at the loop's shutdown
    except BaseException as error:
        if not ready.done():
            ready.set_exception(error)
        raise


def _session(url: str) -> asyncio.Future[AsyncClientSession]:
    """Created and registered without an await, so concurrent first calls share one."""
    loop = asyncio.get_running_loop()
    sessions = _SESSIONS.setdefault(loop, {})
    if url not in sessions:
        ready: asyncio.Future[AsyncClientSession] = loop.create_future()
        holder = loop.create_task(_hold_session(url, ready), name=f"gql session {url}")
        sessions[url] = _HeldSession(ready, holder)
    return sessions[url].ready


@lru_cache(maxsize=512)
def _request(query: str) -> GraphQLRequest:
    """Parsed once per text (gql parses every request it is given)."""
    return GraphQLRequest(query)


async def execute(
    server: Server, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one operation over HTTP; GraphQL ``errors`` raise ``GraphQLErrors``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    session = await _session(server.http_url)
    request = GraphQLRequest(_request(query), variable_values=variables)
    try:
        return await session.execute(request, extra_args={"headers": headers})
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
