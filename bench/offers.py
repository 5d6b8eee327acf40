"""Offer benchmark: agents logged in and subscribed over WebSocket while a connector reports
contacts at a fixed rate; offer latency, RONA lateness with many pending offers and the server's
memory with idle subscriptions, next to a floor measured in the same run (bare PyMongo
transaction, bare WebSocket round trip), printed as one JSON document on stdout.

    .venv/bin/python bench/offers.py [--quick] [--agents N] [--rate R] [--contacts C]
        [--warmup W] [--pending M] [--rona-timeout S] [--idle-subscriptions S]
        [--phases idle,latency,rona] [--no-deflate] [--iterations N] [--json-only]

It starts its own embedded mongod (single-node replica set, temporary data directory) and one
server subprocess on 127.0.0.1, and stops both on the way out. Phases, each in an organization of
its own, after the floor: ``idle`` (server RSS with S idle authenticated subscriptions),
``latency`` (N agents accept every offer while contacts arrive open-loop at R per second; contact
reported -> OfferMade received), ``rona`` (M offers nobody answers; OfferEnded(RONA) received ->
the offer's deadline). See bench/README.md.

A benchmark, not a test: nothing here asserts a budget; the JSON says whether each target was met.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import resource
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402
from websockets.asyncio.client import ClientConnection  # noqa: E402
from websockets.asyncio.client import connect as ws_connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.typing import Subprotocol  # noqa: E402

from bench.foundation import (  # noqa: E402
    floor_transaction,
    floor_websocket,
    ratio,
    rss_kib,
    summary,
)
from bench.stack import running_stack  # noqa: E402
from domain.identity import Role  # noqa: E402
from persistence.embedded_mongod import EmbeddedMongo  # noqa: E402
from tests.api.center import ACCEPT_OFFER, LOG_IN, OFFER, REPORT_CONTACT, Center  # noqa: E402
from tests.api.server import Server, new_org_id, token  # noqa: E402
from tests.api.test_configuration_a import mutation  # noqa: E402

try:  # the server runs on uvloop (uvicorn[standard]); so does the load generator when it can
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

# The targets (2 cores): offer latency at 1,000 agents and 50 contacts/s; RONA lateness
# with 1,000 pending offers; server RSS with 2,000 idle authenticated subscriptions.
TARGETS = {
    "offer_latency_p50_ms": 10.0,
    "offer_latency_p99_ms": 40.0,
    "rona_lateness_p99_ms": 250.0,
    "idle_rss_mb": 300.0,
}
TARGET_LOAD = {"agents": 1000, "rate": 50.0, "pending": 1000, "idle_subscriptions": 2000}

DEFAULTS: dict[str, Any] = {
    "agents": 1000,
    "rate": 50.0,
    "contacts": 3000,
    "warmup": 100,
    "pending": 1000,
    "rona_timeout": 30,
    "idle_subscriptions": 2000,
    "iterations": 300,
}
QUICK: dict[str, Any] = {
    "agents": 100,
    "rate": 10.0,
    "contacts": 200,
    "warmup": 20,
    "pending": 100,
    "rona_timeout": 5,
    "idle_subscriptions": 200,
    "iterations": 100,
}

PHASES = ("idle", "latency", "rona")
MAX_CHAT = 20  # the largest maxConcurrent a profile allows for a digital channel
OFFER_TIMEOUT = 120  # the latency phase's queue: agents answer at once, so no offer ever expires
PRESENCE_GRACE = 3600  # closing the bench's sockets schedules grace timers; none fires in a run
POOL = 256  # HTTP connections at most (no request waits for one unless the server fell behind)
CONNECT_CONCURRENCY = 32  # WebSockets opened at once
SETUP_CONCURRENCY = 8  # log-ins at once
# One connector reports the RONA phase's contacts back to back: the phase measures the timers, not
# how the server takes concurrent reports (the latency phase does that).
RONA_INJECTORS = 1
EVENT_TIMEOUT = 10.0  # seconds for one WebSocket handshake or acknowledgement
# The latency phase stops injecting once more contacts than this are waiting for their offer and
# its acceptance (BACKLOG_SECONDS of arrivals, at least BACKLOG_FLOOR): the server has fallen behind.
BACKLOG_SECONDS = 5.0
BACKLOG_FLOOR = 50
DRAIN_TIMEOUT = 60.0  # seconds, after the last contact, for the last offers and answers
HTTP_TIMEOUT = 30.0
SETTLE_WINDOW = 0.5
SETTLE_BUSY = 0.1
SETTLE_TIMEOUT = 120.0
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


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# --- figures -------------------------------------------------------------------------------------


def summary_or_none(samples_s: list[float]) -> dict[str, float | int] | None:
    return summary(samples_s) if samples_s else None


def wall(iso: str) -> float:
    """A server timestamp (ISO 8601) as seconds since the epoch, like ``time.time()``."""
    return datetime.fromisoformat(iso).timestamp()


class CpuMeter:
    """CPU seconds used by the server, mongod and this process over a stretch of wall time."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.started = self._read()
        self.at = time.perf_counter()

    def _read(self) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                seconds[name] = (int(fields[11]) + int(fields[12])) / self.TICK
            except (OSError, ValueError, IndexError):
                seconds[name] = math.nan
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds["load_generator"] = usage.ru_utime + usage.ru_stime
        return seconds

    def result(self) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.at
        now = self._read()
        used = {name: now[name] - self.started[name] for name in now}
        return {
            "wall_seconds": round(elapsed, 2),
            "cpu_seconds": {name: round(value, 2) for name, value in used.items()},
            "cores_busy": {name: round(value / elapsed, 2) for name, value in used.items()},
        }


OPCOUNTERS = ("insert", "query", "update", "delete", "getmore", "command")


class TransactionMeter:
    """Transactions mongod committed and aborted over a stretch of time, and the operations it
    served (``serverStatus``): an aborted transaction is a collision some use case retried."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]]) -> None:
        self.client = client
        self.started: dict[str, int] = {}

    async def _read(self) -> dict[str, int]:
        status = await self.client.admin.command("serverStatus")
        transactions = status.get("transactions", {})
        counters = status.get("opcounters", {})
        return {
            "committed": int(transactions.get("totalCommitted", 0)),
            "aborted": int(transactions.get("totalAborted", 0)),
            "operations": sum(int(counters.get(name, 0)) for name in OPCOUNTERS),
        }

    async def start(self) -> TransactionMeter:
        self.started = await self._read()
        return self

    async def result(self) -> dict[str, Any]:
        now = await self._read()
        used = {name: now[name] - self.started[name] for name in now}
        return used | {"aborted_per_committed": ratio(used["aborted"], used["committed"])}


@dataclass
class Probes:
    """What a phase reads about the machine while it runs: CPU per process, mongod transactions."""

    pids: dict[str, int]
    mongo: AsyncMongoClient[dict[str, Any]]

    async def start(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        cpu = CpuMeter(self.pids)
        transactions = await TransactionMeter(self.mongo).start()

        async def result() -> dict[str, Any]:
            return cpu.result() | {"mongod_transactions": await transactions.result()}

        return result


async def settle(pids: dict[str, int]) -> float:
    """Wait (at most SETTLE_TIMEOUT s) until the server and mongod are quiet - below SETTLE_BUSY of
    a core each over SETTLE_WINDOW s - so that a phase does not inherit the previous one's
    backlog; returns the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE_TIMEOUT:
        meter = CpuMeter(pids)
        await asyncio.sleep(SETTLE_WINDOW)  # a measurement window, not a synchronisation
        busy = meter.result()["cores_busy"]
        if all(busy[name] < SETTLE_BUSY for name in pids):
            break
    return round(time.perf_counter() - started, 2)


# --- talking to omnidesk -------------------------------------------------------------------------


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
        # Center.agent's fields, over the pool's persistent connection (Center opens a client per
        # call, which costs the load generator more than the server for a thousand agents).
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


# --- offer latency -------------------------------------------------------------------------------


@dataclass
class Contact:
    scheduled: float  # perf_counter instant the open-loop schedule gave it
    sent: float = math.nan  # perf_counter just before the request
    sent_wall: float = math.nan
    answered: float = math.nan  # the reportContact answer arrived
    status: str | None = None  # the task's status in that answer (OFFERED at once, or QUEUED)
    offered: float = math.nan  # the OfferMade arrived on the agent's subscription
    offered_wall: float = math.nan
    occurred_wall: float = math.nan  # the OfferMade's occurredAt (server clock)
    accepted: float = math.nan  # acceptOffer answered (its latency: from ``offered``)
    accept_outcome: str | None = None


@dataclass
class LatencyRun:
    contacts: dict[str, Contact] = field(default_factory=dict)
    bearers: dict[str, str] = field(default_factory=dict)  # agent id -> bearer
    outcomes: dict[str, int] = field(default_factory=dict)  # OfferEnded outcomes seen
    unmatched: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    pending_jobs: set[asyncio.Task[None]] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0
    finished: int = 0

    def fail(self, what: str, error: BaseException | str) -> None:
        described = error if isinstance(error, str) else f"{type(error).__name__} {error}"
        key = f"{what}: {described}"[:200]
        self.failures[key] = self.failures.get(key, 0) + 1
        self.finish_one()

    def finish_one(self) -> None:
        self.finished += 1
        if self.finished >= self.expected:
            self.done.set()

    def spawn(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self.pending_jobs.add(task)
        task.add_done_callback(self.pending_jobs.discard)


async def bench_offer_latency(
    server: Server,
    api: Api,
    probes: Probes,
    *,
    agents: int,
    rate: float,
    contacts: int,
    warmup: int,
) -> tuple[dict[str, Any], list[Desk]]:
    """Open-loop: contact i is reported at start + i / rate whatever happened to the others. Each
    agent accepts every offer at once (so no offer expires and routing never stops); capacity is
    sized so that every agent can hold its share of the run's contacts."""
    total = warmup + contacts
    chat = min(MAX_CHAT, math.ceil(total / agents) + 1)
    log(f"offer latency: {agents} agents (chat capacity {chat}) ...")
    setup_started = time.perf_counter()
    crew = await staff(server, api, agents=agents, chat=chat, offer_timeout=OFFER_TIMEOUT)
    connector = crew.center.connector
    run = LatencyRun(bearers=dict(crew.agents), expected=total)

    async def accept(contact: Contact, offer_id: str, bearer: str) -> None:
        try:
            outcome = await api.call(bearer, ACCEPT_OFFER, {"input": {"offerId": offer_id}})
        except (RuntimeError, httpx.HTTPError) as error:
            run.fail("acceptOffer", error)
            return
        contact.accepted = time.perf_counter()
        contact.accept_outcome = outcome["__typename"]
        run.finish_one()

    def on_message(desk: Desk, item: dict[str, Any], arrived: float, arrived_wall: float) -> None:
        kind = item["__typename"]
        if kind == "OfferEnded":
            run.outcomes[item["outcome"]] = run.outcomes.get(item["outcome"], 0) + 1
            return
        if kind != "OfferMade":
            return
        contact = run.contacts.get((item["offer"] or {}).get("customerId") or "")
        if contact is None or not math.isnan(contact.offered):
            run.unmatched += 1  # not one of ours, or offered a second time
            return
        contact.offered, contact.offered_wall = arrived, arrived_wall
        contact.occurred_wall = wall(item["occurredAt"])
        run.spawn(accept(contact, item["offerId"], run.bearers[desk.name]))

    desks = await open_desks(server, crew.agents, on_message, after=0)
    await log_in(api, crew)
    setup_seconds = time.perf_counter() - setup_started
    log(f"  set up in {setup_seconds:.1f} s; {total} contacts at {rate}/s ...")

    async def report(contact_id: str, contact: Contact) -> None:
        contact.sent, contact.sent_wall = time.perf_counter(), time.time()
        try:
            outcome = await api.call(
                connector,
                REPORT_CONTACT,
                {
                    "input": {
                        "entryPointId": crew.line_entry_point,
                        "customer": {"name": "Bench Customer", "customerId": contact_id},
                    }
                },
            )
        except (RuntimeError, httpx.HTTPError) as error:
            run.fail("reportContact", error)
            return
        contact.answered = time.perf_counter()
        if outcome["__typename"] != "ReportContactSuccess":
            run.fail("reportContact", outcome["__typename"])
            return
        contact.status = outcome["task"]["status"]

    usage = await probes.start()
    started = time.perf_counter()
    backlog_limit = max(BACKLOG_FLOOR, int(rate * BACKLOG_SECONDS))
    overloaded_at: int | None = None
    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if i - run.finished > backlog_limit:
            # The server fell behind for good: stop, rather than queue ever more work behind it.
            overloaded_at = i
            run.expected = i
            if run.finished >= i:
                run.done.set()
            log(f"  {i - run.finished} contacts unanswered after {i} sent: stopping the injection")
            break
        contact_id = f"c{i:06d}"
        run.contacts[contact_id] = contact = Contact(scheduled=due)
        run.spawn(report(contact_id, contact))
    injected = time.perf_counter() - started
    try:
        await asyncio.wait_for(run.done.wait(), DRAIN_TIMEOUT)
    except TimeoutError:
        log("  not every contact was offered and accepted in time; counting what was")
    machine = await usage()
    for job in list(run.pending_jobs):
        job.cancel()
    await asyncio.gather(*run.pending_jobs, return_exceptions=True)

    measured = list(run.contacts.values())[warmup:]
    offered = [c for c in measured if not math.isnan(c.offered)]
    result = {
        "agents": agents,
        "chat_capacity_per_agent": chat,
        "rate_per_s": rate,
        "contacts_measured": contacts,
        "warmup_contacts": warmup,
        "offer_timeout_seconds": OFFER_TIMEOUT,
        "setup_seconds": round(setup_seconds, 1),
        "overloaded": overloaded_at is not None,
        "injection": {
            "sent": len(run.contacts),
            "stopped_at_contact": overloaded_at,
            "seconds": round(injected, 2),
            "achieved_rate_per_s": round(len(run.contacts) / injected, 1) if injected > 0 else None,
            "send_lag": summary_or_none(
                [c.sent - c.scheduled for c in measured if not math.isnan(c.sent)]
            ),
        },
        "offer_latency": summary_or_none([c.offered - c.sent for c in offered]),
        "offered": len(offered),
        "offered_in_the_report_transaction": sum(1 for c in measured if c.status == "OFFERED"),
        "queued_first": sum(1 for c in measured if c.status == "QUEUED"),
        "report_contact_latency": summary_or_none(
            [c.answered - c.sent for c in measured if not math.isnan(c.answered)]
        ),
        "accept_offer_latency": summary_or_none(
            [c.accepted - c.offered for c in offered if not math.isnan(c.accepted)]
        ),
        "accepted": sum(1 for c in measured if c.accept_outcome == "AcceptOfferSuccess"),
        "server_clock_split": {
            "sent_to_occurred_at": summary_or_none(
                [c.occurred_wall - c.sent_wall for c in offered]
            ),
            "occurred_at_to_received": summary_or_none(
                [c.offered_wall - c.occurred_wall for c in offered]
            ),
        },
        "offer_endings_seen": run.outcomes,
        "unmatched_offers": run.unmatched,
        "failures": run.failures,
        "subscription_errors": sum(len(d.errors) for d in desks),
        "websocket_compression": desks[0].compressed if desks else None,
        "machine_usage": machine,
    }
    return result, desks


# --- RONA lateness -------------------------------------------------------------------------------


@dataclass
class RonaRun:
    expected: int
    deadlines: dict[str, float] = field(default_factory=dict)  # offer id -> deadline (epoch s)
    ended: dict[str, tuple[float, float]] = field(default_factory=dict)  # -> (received, occurred)
    other_endings: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    peak_pending: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


async def bench_rona(
    server: Server, api: Api, probes: Probes, *, pending: int, offer_timeout: int
) -> tuple[dict[str, Any], list[Desk]]:
    """``pending`` contacts are reported as fast as ``RONA_INJECTORS`` connectors get answers, to
    agents whose chat capacity they fill exactly; nobody answers. Each offer's lateness is when its
    ``OfferEnded(RONA)`` reached the agent minus the offer's ``deadline``."""
    per_agent = min(MAX_CHAT, pending)
    agents = math.ceil(pending / per_agent)
    log(f"RONA: {pending} offers to {agents} agents (timeout {offer_timeout} s) ...")
    crew = await staff(server, api, agents=agents, chat=per_agent, offer_timeout=offer_timeout)
    run = RonaRun(expected=pending)

    def on_message(desk: Desk, item: dict[str, Any], arrived: float, arrived_wall: float) -> None:
        kind = item["__typename"]
        if kind == "OfferMade":
            run.deadlines[item["offerId"]] = wall(item["deadline"])
            run.pending += 1
            run.peak_pending = max(run.peak_pending, run.pending)
        elif kind == "OfferEnded":
            run.pending -= 1
            if item["outcome"] != "RONA":
                run.other_endings[item["outcome"]] = run.other_endings.get(item["outcome"], 0) + 1
                return
            run.ended[item["offerId"]] = (arrived_wall, wall(item["occurredAt"]))
            if len(run.ended) >= run.expected:
                run.done.set()

    desks = await open_desks(server, crew.agents, on_message, after=0)
    await log_in(api, crew)
    counter = itertools.count()
    failures: dict[str, int] = {}

    async def injector() -> None:
        while (n := next(counter)) < pending:
            try:
                outcome = await api.call(
                    crew.center.connector,
                    REPORT_CONTACT,
                    {
                        "input": {
                            "entryPointId": crew.line_entry_point,
                            "customer": {"name": "Bench Customer", "customerId": f"r{n:06d}"},
                        }
                    },
                )
                kind = outcome["__typename"]
            except (RuntimeError, httpx.HTTPError) as error:
                kind = f"{type(error).__name__} {error}"[:200]
            if kind != "ReportContactSuccess":
                failures[kind] = failures.get(kind, 0) + 1

    usage = await probes.start()
    started = time.perf_counter()
    await asyncio.gather(*(injector() for _ in range(RONA_INJECTORS)))
    creation = time.perf_counter() - started
    log(f"  {pending} contacts reported in {creation:.1f} s; waiting for the RONAs ...")
    try:
        await asyncio.wait_for(run.done.wait(), offer_timeout + DRAIN_TIMEOUT)
    except TimeoutError:
        log("  not every offer went RONA in time; counting what did")
    machine = await usage()

    delivered = [run.ended[o][0] - d for o, d in run.deadlines.items() if o in run.ended]
    fired = [run.ended[o][1] - d for o, d in run.deadlines.items() if o in run.ended]
    spread = sorted(run.deadlines.values())
    result = {
        "pending_offers": pending,
        "agents": agents,
        "chat_capacity_per_agent": per_agent,
        "offer_timeout_seconds": offer_timeout,
        "injectors": RONA_INJECTORS,
        "creation_seconds": round(creation, 2),
        "offers_made": len(run.deadlines),
        "peak_pending_seen": run.peak_pending,
        "deadlines_per_s": (
            round((len(spread) - 1) / (spread[-1] - spread[0]), 1)
            if len(spread) > 1 and spread[-1] > spread[0]
            else None
        ),
        "rona": len(run.ended),
        "other_endings": run.other_endings,
        "lateness_received": summary_or_none(delivered),
        "lateness_fired": summary_or_none(fired),
        "early": sum(1 for x in fired if x < 0),
        "failures": failures,
        "subscription_errors": sum(len(d.errors) for d in desks),
        "machine_usage": machine,
    }
    return result, desks


# --- idle subscriptions --------------------------------------------------------------------------


async def bench_idle(server: Server, api: Api, count: int) -> dict[str, Any]:
    """``count`` agent desktops (one connection and one ``offers`` subscription each, distinct
    agents of a fresh organization) that receive nothing. Each subscribes with ``after: 1`` on its
    empty stream, so the server answers at once with ``ResyncRequired`` and goes on live: that
    answer proves the subscription is in place before the memory is read."""
    log(f"idle: {count} authenticated subscriptions ...")
    center = await organization(server, api)
    live = asyncio.Event()
    confirmed: set[str] = set()

    def on_message(desk: Desk, item: dict[str, Any], arrived: float, arrived_wall: float) -> None:
        if item["__typename"] == "ResyncRequired":
            confirmed.add(desk.name)
            if len(confirmed) >= count:
                live.set()

    rss_before = rss_kib(server.process.pid)["vm_rss_kib"]
    started = time.perf_counter()
    bearers = [
        (f"idle-{n:05d}", token(center.org_id, Role.AGENT, subject=f"idle-{n:05d}"))
        for n in range(count)
    ]
    desks = await open_desks(server, bearers, on_message, after=1)
    try:
        await asyncio.wait_for(live.wait(), DRAIN_TIMEOUT)
    except TimeoutError:
        log(f"  only {len(confirmed)} of {count} subscriptions confirmed")
    opened = time.perf_counter() - started
    rss_with = rss_kib(server.process.pid)["vm_rss_kib"]
    errors = sum(len(d.errors) for d in desks)
    compressed = desks[0].compressed if desks else None
    await close_desks(desks)
    rss_closed = rss_kib(server.process.pid)["vm_rss_kib"]
    growth = rss_with - rss_before if rss_with is not None and rss_before is not None else None
    return {
        "subscriptions": count,
        "confirmed_live": len(confirmed),
        "open_seconds": round(opened, 2),
        "rss_before_kib": rss_before,
        "rss_with_subscriptions_kib": rss_with,
        "rss_with_subscriptions_mb": round(rss_with * 1024 / 1e6, 1) if rss_with else None,
        "rss_after_closing_kib": rss_closed,
        "growth_kib": growth,
        "kib_per_subscription": round(growth / count, 1) if growth is not None else None,
        "websocket_compression": compressed,
        "subscription_errors": errors,
    }


# --- the run -------------------------------------------------------------------------------------


def targets(report: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Each target with the measured figure and whether it was met; whether the run was sized at
    least as the target says (a smaller run's verdict is only indicative) and whether the phase
    completed (a latency phase that overloaded the server meets nothing). A phase left out gives
    None."""

    def verdict(
        name: str, measured: float | None, sized: bool, completed: bool = True
    ) -> dict[str, Any]:
        return {
            "target": TARGETS[name],
            "measured": measured,
            "met": completed and measured is not None and measured <= TARGETS[name],
            "run_at_target_size": sized,
            "phase_completed": completed,
        }

    verdicts: dict[str, Any] = dict.fromkeys(TARGETS)
    if "offer_latency" in report:
        phase = report["offer_latency"]
        latency = phase["offer_latency"] or {}
        sized = args.agents >= TARGET_LOAD["agents"] and args.rate >= TARGET_LOAD["rate"]
        completed = phase["offered"] == args.contacts and not phase["overloaded"]
        for name, key in (("offer_latency_p50_ms", "p50_ms"), ("offer_latency_p99_ms", "p99_ms")):
            verdicts[name] = verdict(name, latency.get(key), sized, completed)
    if "rona" in report:
        phase = report["rona"]
        verdicts["rona_lateness_p99_ms"] = verdict(
            "rona_lateness_p99_ms",
            (phase["lateness_received"] or {}).get("p99_ms"),
            phase["peak_pending_seen"] >= TARGET_LOAD["pending"],
            phase["rona"] == phase["offers_made"],
        )
    if "idle_subscriptions" in report:
        phase = report["idle_subscriptions"]
        verdicts["idle_rss_mb"] = verdict(
            "idle_rss_mb",
            phase["rss_with_subscriptions_mb"],
            phase["subscriptions"] >= TARGET_LOAD["idle_subscriptions"],
            phase["confirmed_live"] == phase["subscriptions"],
        )
    return verdicts


async def measure(
    server: Server, mongo: EmbeddedMongo, args: argparse.Namespace, report: dict[str, Any]
) -> None:
    assert mongo.process is not None
    probes = Probes(
        {"server": server.process.pid, "mongod": mongo.process.pid},
        AsyncMongoClient(mongo.url),
    )
    phases: dict[str, float] = {}

    async def phase(name: str, work: Awaitable[Any]) -> Any:
        log(f"{name} ...")
        phases[f"settle_before_{name}"] = await settle(probes.pids)
        started = time.perf_counter()
        result = await work
        phases[name] = round(time.perf_counter() - started, 2)
        return result

    floor = {
        "mongo_transaction": await phase(
            "floor_transaction", floor_transaction(mongo.url, args.iterations)
        ),
        "websocket_round_trip": await phase("floor_websocket", floor_websocket(args.iterations)),
    }
    memory: dict[str, Any] = {"rss_ready_kib": rss_kib(server.process.pid)["vm_rss_kib"]}
    api = Api(server)
    desks: list[Desk] = []
    try:
        if "idle" in args.phases:
            report["idle_subscriptions"] = await phase(
                "idle_subscriptions", bench_idle(server, api, args.idle_subscriptions)
            )
        if "latency" in args.phases:
            latency, opened = await phase(
                "offer_latency",
                bench_offer_latency(
                    server,
                    api,
                    probes,
                    agents=args.agents,
                    rate=args.rate,
                    contacts=args.contacts,
                    warmup=args.warmup,
                ),
            )
            report["offer_latency"] = latency
            memory["rss_with_latency_agents_connected_kib"] = rss_kib(server.process.pid)[
                "vm_rss_kib"
            ]
            # The RONA phase measures timers, with its own agents only.
            await close_desks(opened)
        if "rona" in args.phases:
            rona, opened = await phase(
                "rona",
                bench_rona(
                    server, api, probes, pending=args.pending, offer_timeout=args.rona_timeout
                ),
            )
            desks += opened
            report["rona"] = rona
        figures = rss_kib(server.process.pid)
        memory["rss_end_kib"] = figures["vm_rss_kib"]
        memory["peak_rss_kib"] = figures["vm_hwm_kib"]
        memory["websockets_open_at_end"] = len(desks)
    finally:
        await close_desks(desks)
        await api.aclose()
        await probes.mongo.close()

    txn50 = float(floor["mongo_transaction"]["p50_ms"])
    ws50 = float(floor["websocket_round_trip"]["p50_ms"])
    offer50 = (report.get("offer_latency", {}).get("offer_latency") or {}).get("p50_ms")
    report["floor"] = floor
    report["ratios_to_floor"] = {
        "offer_latency_p50_over_txn_plus_ws_p50": (
            ratio(float(offer50), txn50 + ws50) if offer50 is not None else None
        )
    }
    report["server_memory"] = memory
    report["targets"] = targets(report, args)
    report["phase_seconds"] = phases


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()),
    )
    option = parser.add_argument
    option("--agents", type=int, help=f"agents in the latency phase ({DEFAULTS['agents']})")
    option("--rate", type=float, help=f"contacts reported per second ({DEFAULTS['rate']})")
    option("--contacts", type=int, help=f"contacts measured ({DEFAULTS['contacts']})")
    option("--warmup", type=int, help=f"unrecorded contacts first ({DEFAULTS['warmup']})")
    option("--pending", type=int, help=f"offers left to go RONA ({DEFAULTS['pending']})")
    option(
        "--rona-timeout",
        type=int,
        help=f"the RONA queue's offerTimeoutSeconds, 5..600 ({DEFAULTS['rona_timeout']})",
    )
    option(
        "--idle-subscriptions",
        type=int,
        help=f"idle subscriptions ({DEFAULTS['idle_subscriptions']})",
    )
    option("--iterations", type=int, help=f"samples per floor series ({DEFAULTS['iterations']})")
    option(
        "--no-deflate",
        action="store_true",
        help="WebSockets offer no permessage-deflate (browsers offer it; the default does too)",
    )
    option(
        "--phases",
        default=",".join(PHASES),
        help=f"which phases to run, comma-separated (default {','.join(PHASES)})",
    )
    option("--json-only", action="store_true", help="no progress lines on stderr, only the JSON")
    args = parser.parse_args()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not args.phases or set(args.phases) - set(PHASES):
        parser.error(f"--phases: a comma-separated subset of {','.join(PHASES)}")
    preset = QUICK if args.quick else DEFAULTS
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("agents", "contacts", "pending", "idle_subscriptions", "iterations"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.rate <= 0:
        parser.error("--warmup must be at least 0 and --rate above 0")
    if not 5 <= args.rona_timeout <= 600:
        parser.error("--rona-timeout must be within 5..600 (the queue's limits)")
    if args.contacts + args.warmup > args.agents * (MAX_CHAT - 1):
        parser.error(f"at most {MAX_CHAT - 1} contacts per agent: raise --agents")
    return args


def raise_file_limit(needed: int) -> None:
    """Every WebSocket is a descriptor here and one in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


def main() -> int:
    args = arguments()
    if args.json_only:
        global log

        def log(message: str) -> None:
            return None

    COMPRESSION[0] = None if args.no_deflate else "deflate"
    raise_file_limit(args.agents + args.idle_subscriptions + args.pending)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "offers",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "event_loop": "uvloop" if uvloop is not None else "asyncio",
            "websockets": version("websockets"),
            "httpx": version("httpx"),
            "pymongo": version("pymongo"),
        },
        "parameters": {
            "preset": "quick" if args.quick else "default",
            "phases": args.phases,
            "websocket_deflate_offered": not args.no_deflate,
            **{name: getattr(args, name) for name in DEFAULTS},
        },
    }
    with running_stack(log) as (mongo, server):
        work = measure(server, mongo, args, report)
        if uvloop is not None:
            uvloop.run(work)
        else:
            asyncio.run(work)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
