"""The transport: graphql-transport-ws only, authenticated in ``connection_init``, closed when
its token lapses, capped in subscriptions and frame size, open only to allowed origins; over
HTTP, CORS with the same allow-list, and queries and mutations by POST only.

The raw ``websockets`` client is used where gql would hide the close code and reason."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from gql import GraphQLRequest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from domain.identity import Role
from tests.api.client import websocket
from tests.api.server import TEST_SECRET, Server, start_server, token

PROTOCOL = "graphql-transport-ws"
ALLOWED_ORIGIN = "https://desk.example.com"  # the harness's OMNIDESK_ALLOWED_ORIGINS
EVIL_ORIGIN = "https://evil.example"
MAX_FRAME = 64 * 1024

ME = "query { me { subject } }"
AGENT_EVENTS = "subscription { agentEvents { __typename } }"


@pytest.fixture(scope="module")
def strict_ws_server(
    mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Settings the shared server keeps at their defaults: a 1 s init timeout, 2 subscriptions."""
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"ws_{uuid.uuid4().hex[:8]}",
        log_dir=Path(tmp_path_factory.mktemp("ws-server")),
        extra_env={
            "OMNIDESK_WS_INIT_TIMEOUT_SECONDS": "1",
            "OMNIDESK_WS_MAX_SUBSCRIPTIONS": "2",
        },
    )
    try:
        yield running
    finally:
        running.stop()


@contextlib.asynccontextmanager
async def raw_socket(
    server: Server, *, origin: str | None = None, protocol: str = PROTOCOL
) -> AsyncIterator[ClientConnection]:
    async with connect(
        server.ws_url, subprotocols=[protocol], origin=origin, open_timeout=10
    ) as socket:
        yield socket


async def send(socket: ClientConnection, message: dict[str, Any]) -> None:
    await socket.send(json.dumps(message))


async def receive(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        return dict(json.loads(await socket.recv()))


async def initialised(socket: ClientConnection, bearer: str) -> None:
    await send(
        socket, {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}}
    )
    assert await receive(socket) == {"type": "connection_ack", "payload": None}


async def close_of(socket: ClientConnection, within: float = 15) -> tuple[int | None, str | None]:
    """The code and reason the server closed the socket with; ``within`` is a guard, not a delay."""
    async with asyncio.timeout(within):
        await socket.wait_closed()
    return socket.close_code, socket.close_reason


# --- connection_init ------------------------------------------------------------------------------


async def test_a_socket_that_never_initialises_is_closed_4408(strict_ws_server: Server) -> None:
    async with raw_socket(strict_ws_server) as socket:
        assert await close_of(socket) == (4408, "Connection initialisation timeout")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param({}, "connection_init payload needs 'authorization'", id="no-payload"),
        pytest.param({"authorization": ""}, "connection_init payload needs", id="empty"),
        pytest.param({"authorization": "Bearer junk"}, "malformed token", id="malformed"),
        pytest.param(
            {"authorization": "Basic dXNlcjpwYXNz"}, "Authorization must be 'Bearer", id="basic"
        ),
        pytest.param(
            {"authorization": "Bearer " + token("org-x", Role.AGENT, secret="x" * 48)},
            "token signature is invalid",
            id="wrong-signature",
        ),
        pytest.param(
            {"authorization": "Bearer " + token("org-x", Role.AGENT, lifetime=timedelta(-1))},
            "token expired",
            id="expired",
        ),
        pytest.param({"token": "junk"}, "malformed token", id="token-key"),
    ],
)
async def test_connection_init_without_a_valid_token_is_closed_4403_with_the_reason(
    server: Server, payload: dict[str, Any], reason: str
) -> None:
    async with raw_socket(server) as socket:
        await send(socket, {"type": "connection_init", "payload": payload})
        code, text = await close_of(socket)
    assert code == 4403
    assert text is not None
    assert reason in text


async def test_a_refusal_reason_too_long_for_a_close_frame_is_cut_not_crashed(
    server: Server,
) -> None:
    # Given a validly signed token whose unknown role is long and not ASCII: its message is
    # well over the 123 bytes a close frame carries once encoded
    claims = {"sub": "u", "org": "o", "roles": ["é" * 100], "exp": int(time.time()) + 60}
    bearer = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    async with raw_socket(server) as socket:
        await send(
            socket, {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}}
        )
        code, reason = await close_of(socket)
    # Then the client still gets 4403 and the start of the reason, within the frame's limit
    assert code == 4403
    assert reason is not None
    assert reason.startswith("unknown role in ['éé")
    assert len(reason.encode()) <= 123


async def test_a_subscribe_before_the_ack_is_closed_4401(server: Server) -> None:
    async with raw_socket(server) as socket:
        await send(socket, {"id": "1", "type": "subscribe", "payload": {"query": ME}})
        assert await close_of(socket) == (4401, "Unauthorized")


async def test_a_second_connection_init_is_closed_4429(server: Server, org_id: str) -> None:
    async with raw_socket(server) as socket:
        await initialised(socket, token(org_id, Role.AGENT))
        await send(socket, {"type": "connection_init", "payload": {}})
        assert await close_of(socket) == (4429, "Too many initialisation requests")


async def test_only_the_graphql_transport_ws_protocol_is_spoken(server: Server) -> None:
    async with raw_socket(server, protocol="graphql-ws") as socket:
        assert await close_of(socket) == (4406, "Subprotocol not acceptable")


async def test_an_initialised_socket_answers_as_its_token_says(server: Server, org_id: str) -> None:
    async with raw_socket(server) as socket:
        await initialised(socket, token(org_id, Role.AGENT, subject="agent-7"))
        await send(socket, {"id": "q", "type": "subscribe", "payload": {"query": ME}})
        assert await receive(socket) == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"me": {"subject": "agent-7"}}},
        }


# --- token expiry ---------------------------------------------------------------------------------


async def test_the_socket_closes_4403_when_its_token_expires(server: Server, org_id: str) -> None:
    # Given a connection whose token lives 2-3 s, following its agent's events
    short_lived = token(org_id, Role.AGENT, subject="agent-1", lifetime=timedelta(seconds=3))
    async with raw_socket(server) as socket:
        await initialised(socket, short_lived)
        await send(socket, {"id": "1", "type": "subscribe", "payload": {"query": AGENT_EVENTS}})
        # Then the server closes it when the token lapses (the client only waits for the close)
        assert await close_of(socket) == (4403, "token expired")


async def test_a_live_token_keeps_the_socket_open_across_operations(
    server: Server, org_id: str
) -> None:
    async with websocket(server, token(org_id, Role.ADMIN)) as session:
        for _ in range(3):
            result = await session.execute(GraphQLRequest(ME))
            assert result["me"]["subject"].startswith("user-")


# --- subscription cap -----------------------------------------------------------------------------


async def test_operations_beyond_the_cap_are_refused_until_one_ends(
    strict_ws_server: Server, org_id: str
) -> None:
    async with raw_socket(strict_ws_server) as socket:
        await initialised(socket, token(org_id, Role.AGENT, subject="agent-1"))
        # Given the two subscriptions the server allows per connection
        for operation_id in ("1", "2"):
            await send(
                socket,
                {"id": operation_id, "type": "subscribe", "payload": {"query": AGENT_EVENTS}},
            )
        # When a third operation arrives, it is refused on its own id; the socket stays open
        await send(socket, {"id": "3", "type": "subscribe", "payload": {"query": ME}})
        assert await receive(socket) == {
            "id": "3",
            "type": "error",
            "payload": [{"message": "Subscription limit reached"}],
        }
        # When one subscription completes, there is room again
        await send(socket, {"id": "1", "type": "complete"})
        await send(socket, {"id": "4", "type": "subscribe", "payload": {"query": ME}})
        assert await receive(socket) == {
            "id": "4",
            "type": "next",
            "payload": {"data": {"me": {"subject": "agent-1"}}},
        }


# --- frame size -----------------------------------------------------------------------------------


def _ping_of(total_bytes: int) -> str:
    frame = json.dumps({"type": "ping", "payload": {"pad": ""}})
    return json.dumps({"type": "ping", "payload": {"pad": "x" * (total_bytes - len(frame))}})


async def test_a_frame_over_64_kib_closes_the_socket_1009(server: Server, org_id: str) -> None:
    async with raw_socket(server) as socket:
        await initialised(socket, token(org_id, Role.AGENT))
        # A frame just under the limit is served...
        await socket.send(_ping_of(MAX_FRAME - 16))
        assert await receive(socket) == {"type": "pong"}
        # ...one byte over it is not
        await socket.send(_ping_of(MAX_FRAME + 1))
        code, _ = await close_of(socket)
    assert code == 1009


# --- Origin ---------------------------------------------------------------------------------------


async def test_a_websocket_from_a_foreign_origin_is_refused_at_the_handshake(
    server: Server,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with raw_socket(server, origin=EVIL_ORIGIN):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("origin", [ALLOWED_ORIGIN, None], ids=["allowed-origin", "no-origin"])
async def test_a_websocket_from_an_allowed_or_no_origin_is_served(
    server: Server, org_id: str, origin: str | None
) -> None:
    async with raw_socket(server, origin=origin) as socket:
        await initialised(socket, token(org_id, Role.AGENT))


async def test_cors_preflight_is_answered_for_allowed_origins_only(server: Server) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with httpx.AsyncClient(timeout=10) as client:
        allowed = await client.options(
            server.http_url, headers={"Origin": ALLOWED_ORIGIN, **preflight}
        )
        foreign = await client.options(
            server.http_url, headers={"Origin": EVIL_ORIGIN, **preflight}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers


async def test_a_foreign_page_cannot_read_graphql_answers(server: Server, org_id: str) -> None:
    headers = {"Authorization": f"Bearer {token(org_id, Role.AGENT)}"}
    async with httpx.AsyncClient(timeout=10) as client:
        allowed = await client.post(
            server.http_url, json={"query": ME}, headers={"Origin": ALLOWED_ORIGIN, **headers}
        )
        foreign = await client.post(
            server.http_url, json={"query": ME}, headers={"Origin": EVIL_ORIGIN, **headers}
        )
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    # A browser withholds an answer without the header (and would not have sent the
    # Authorization header at all: its preflight is refused, see above)
    assert "access-control-allow-origin" not in foreign.headers


# --- HTTP transport -------------------------------------------------------------------------------


async def test_subscriptions_are_refused_over_http(server: Server, org_id: str) -> None:
    headers = {"Authorization": f"Bearer {token(org_id, Role.AGENT)}"}
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(server.http_url, json={"query": AGENT_EVENTS}, headers=headers)
    assert response.status_code == 400
    assert response.text == "subscriptions are served over WebSocket (graphql-transport-ws) only"


async def test_queries_are_refused_over_get(server: Server, org_id: str) -> None:
    headers = {"Authorization": f"Bearer {token(org_id, Role.AGENT)}", "Accept": "application/json"}
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(server.http_url, params={"query": ME}, headers=headers)
    assert response.status_code == 400
    assert response.text == "queries are not allowed when using GET; use POST"
