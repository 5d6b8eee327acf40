"""Offer benchmark, talking to omnidesk: plain POSTs over a pool of connections, agent desktops
on raw graphql-transport-ws connections, and an organization with a chat line and agents."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench.offers_measure import log
from tests.api.center import LOG_IN, OFFER, Center
from tests.api.server import Server, new_org_id
from tests.api.test_configuration_a import mutation

MAX_CHAT = 20  # the largest maxConcurrent a profile allows for a digital channel
PRESENCE_GRACE = 3600  # closing the bench's sockets schedules grace timers; none fires in a run
POOL = 256  # HTTP connections at most (no request waits for one unless the server fell behind)
CONNECT_CONCURRENCY = 32  # WebSockets opened at once
SETUP_CONCURRENCY = 8  # log-ins at once
EVENT_TIMEOUT = 10.0  # seconds for one WebSocket handshake or acknowledgement
DRAIN_TIMEOUT = 60.0  # seconds, after the last contact, for the last offers and answers
HTTP_TIMEOUT = 30.0
# What desktops offer in the handshake: browsers offer permessage-deflate ("deflate"); --no-deflate
# makes them offer nothing. A one-item list, set once from the command line.
COMPRESSION: list[str | None] = ["deflate"]

# The desktop's offer subscription: the popover (OFFER) and when the server made each event.
OFFER_STREAM = f"""
subscription($after: Int) {{
  offers(after: $after) {{
    __typename
    ... on Event {{ seq occurredAt cause {{ kind id }} }}
    ... on OfferMade {{ offerId taskId channel deadline offer {{ {OFFER} }} }}
    ... on OfferEnded {{ offerId taskId channel outcome }}
    ... on ResyncRequired {{ headSeq }}
  }}
}}"""
CREATE_AGENT = mutation("Create", "Agent")
UPDATE_POLICIES = """
mutation($input: UpdatePoliciesInput!) { updatePolicies(input: $input) { __typename } }"""


class Api:
    """Plain POSTs of ``{"query", "variables"}`` over a pool of persistent connections; the bearer
    is given per request, so that one pool serves the connector and every agent."""

    def __init__(self, server: Server) -> None:
        self.url = server.http_url
        self.client = httpx.AsyncClient(
            timeout=HTTP_TIMEOUT,
            limits=httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL),
            trust_env=False,  # 127.0.0.1 only: never through a proxy from the environment
        )

    async def call(self, bearer: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The operation's single result field; GraphQL ``errors`` raise."""
        response = await self.client.post(
            self.url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return dict(next(iter(body["data"].values())))

    async def aclose(self) -> None:
        await self.client.aclose()


OnMessage = Callable[["Desk", dict[str, Any], float, float], None]


class Desk:
    """One agent desktop: a raw graphql-transport-ws connection authenticated in
    ``connection_init``, its subscriptions' items handed to ``on_message`` with the instant they
    arrived (``perf_counter`` and wall clock), read by one task per connection."""

    def __init__(self, name: str, connection: ClientConnection, on_message: OnMessage) -> None:
        self.name = name
        self.connection = connection
        self.on_message = on_message
        self.errors: list[Any] = []
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, server: Server, bearer: str, name: str, on_message: OnMessage) -> Desk:
        connection = await ws_connect(
            server.ws_url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            proxy=None,
            open_timeout=EVENT_TIMEOUT,
            max_queue=None,  # the reader drains at once; never push back on the server
            compression=COMPRESSION[0],
        )
        await connection.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}}
            )
        )
        ack = json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))
        if ack.get("type") != "connection_ack":
            await connection.close()
            raise RuntimeError(f"expected connection_ack, got {ack}")
        desk = cls(name, connection, on_message)
        desk.reader = asyncio.create_task(desk._read())
        return desk

    @property
    def compressed(self) -> bool:
        response = self.connection.response
        return response is not None and "permessage-deflate" in response.headers.get(
            "Sec-WebSocket-Extensions", ""
        )

    async def subscribe(self, query: str, variables: dict[str, Any]) -> None:
        await self.connection.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                arrived, arrived_wall = time.perf_counter(), time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.errors.append(payload["errors"])
                        continue
                    try:
                        self.on_message(self, payload["data"]["offers"], arrived, arrived_wall)
                    except Exception as error:  # a bench bug: count it, keep reading
                        self.errors.append(f"handling {payload}: {error!r}")
                elif kind == "ping":
                    await self.connection.send(json.dumps({"type": "pong"}))
                elif kind != "pong":
                    self.errors.append(message)
        except ConnectionClosed as closed:
            if closed.rcvd is not None and closed.rcvd.code != 1000:
                self.errors.append(f"closed by the server: {closed.rcvd.code} {closed.rcvd.reason}")

    async def close(self) -> None:
        await self.connection.close()
        if self.reader is not None:
            await self.reader


async def bounded(concurrency: int, jobs: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the jobs, ``concurrency`` at a time; their results in the jobs' order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def open_desks(
    server: Server, bearers: list[tuple[str, str]], on_message: OnMessage, after: int
) -> list[Desk]:
    """One desk per (name, bearer), each subscribed to its ``offers`` from ``after``."""

    async def open_one(name: str, bearer: str) -> Desk:
        desk = await Desk.open(server, bearer, name, on_message)
        await desk.subscribe(OFFER_STREAM, {"after": after})
        return desk

    return await bounded(
        CONNECT_CONCURRENCY,
        (lambda n=name, b=bearer: open_one(n, b) for name, bearer in bearers),
    )


async def close_desks(desks: list[Desk]) -> None:
    await bounded(CONNECT_CONCURRENCY, (desk.close for desk in desks))


@dataclass
class Staff:
    """A line (queue + entry point) and logged-in agents of its team, in a fresh organization."""

    center: Center
    line_entry_point: str
    team_id: str
    agents: list[tuple[str, str]]  # (agent id, bearer)


async def organization(server: Server, api: Api) -> Center:
    center = Center(server, new_org_id())
    outcome = await api.call(
        center.admin.token, UPDATE_POLICIES, {"input": {"presenceGraceSeconds": PRESENCE_GRACE}}
    )
    if outcome["__typename"] != "UpdatePoliciesSuccess":
        raise RuntimeError(f"updatePolicies: {outcome}")
    return center


async def staff(server: Server, api: Api, *, agents: int, chat: int, offer_timeout: int) -> Staff:
    """A chat line and ``agents`` agents with ``chat`` chat capacity, created through the API
    (configuration of one organization is written one change at a time)."""
    center = await organization(server, api)
    line = await center.line("CHAT", offer_timeout=offer_timeout)
    profile = await center.profile(voice=0, chat=chat)
    created: list[tuple[str, str]] = []
    for n in range(agents):
        # Center.agent's fields, over the bench's pool (gql parses and prints every request,
        # which costs the load generator more than plain JSON for a thousand agents).
        agent_id = f"agent-{uuid.uuid4().hex[:10]}"
        outcome = await api.call(
            center.admin.token,
            CREATE_AGENT,
            {
                "input": {
                    "id": agent_id,
                    "name": f"Agent {agent_id[-4:]}",
                    "email": f"{agent_id}@example.com",
                    "teamIds": [line.team_id],
                    "profileId": profile,
                }
            },
        )
        if outcome["__typename"] != "CreateAgentSuccess":
            raise RuntimeError(f"createAgent: {outcome}")
        created.append((agent_id, center.agent_token(agent_id)))
        if (n + 1) % 250 == 0:
            log(f"  {n + 1}/{agents} agents created")
    return Staff(center, line.entry_point_id, line.team_id, created)


async def log_in(api: Api, staff: Staff) -> None:
    async def one(bearer: str) -> None:
        outcome = await api.call(bearer, LOG_IN, {"input": {"teamId": staff.team_id}})
        if outcome["__typename"] != "LogInSuccess":
            raise RuntimeError(f"logIn: {outcome}")

    await bounded(SETUP_CONCURRENCY, (lambda b=bearer: one(b) for _, bearer in staff.agents))
