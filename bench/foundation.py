"""Foundation benchmark: mutation latency, throughput and event delivery of a real omnidesk server,
next to a floor measured in the same run (bare PyMongo transaction, bare WebSocket round trip,
bare HTTP round trip), printed as one JSON document on stdout.

    .venv/bin/python bench/foundation.py [--iterations N] [--json-only]

It starts its own embedded mongod (single-node replica set, temporary data directory) and one
server subprocess on 127.0.0.1, and stops both on the way out. See bench/README.md.

A benchmark, not a test: nothing here asserts a budget.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from pymongo import AsyncMongoClient, ReadPreference  # noqa: E402
from pymongo.read_concern import ReadConcern  # noqa: E402
from pymongo.write_concern import WriteConcern  # noqa: E402
from websockets.asyncio.client import connect as ws_connect  # noqa: E402
from websockets.asyncio.server import ServerConnection  # noqa: E402
from websockets.asyncio.server import serve as ws_serve  # noqa: E402
from websockets.typing import Subprotocol  # noqa: E402

from bench.stack import running_stack  # noqa: E402
from domain.identity import Role  # noqa: E402
from tests.api.operations import CREATE_AGENT, CREATE_PROFILE, CREATE_TEAM, UPDATE_AGENT  # noqa: E402
from tests.api.server import Server, new_org_id, token  # noqa: E402

DEFAULT_ITERATIONS = 300
WARMUP = 10  # unrecorded iterations before each measured series
CONCURRENT_CLIENTS = 8
THROUGHPUT_PER_CLIENT = 40  # 8 x 40 = 320 mutations for the throughput figure
EVENT_TIMEOUT = 10.0  # seconds to wait for one event before the run is declared broken
HTTP_TIMEOUT = 30.0

AGENT_EVENTS = """
subscription($agentId: ID) {
  agentEvents(agentId: $agentId) { __typename ... on AgentConfigurationChanged { seq } }
}
"""


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# --- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(samples_s: list[float]) -> dict[str, float | int]:
    ms = [s * 1000.0 for s in samples_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator > 0 else None


def rss_kib(pid: int) -> dict[str, int | None]:
    """VmRSS (now) and VmHWM (peak so far) of a process, in KiB, from /proc/<pid>/status."""
    figures: dict[str, int | None] = {"vm_rss_kib": None, "vm_hwm_kib": None}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[f"{key.lower()[:2]}_{key.lower()[2:]}_kib"] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return figures


async def timed_series(
    iterations: int, operation: Callable[[int], Awaitable[None]], warmup: int = WARMUP
) -> list[float]:
    """Run ``operation`` ``warmup`` times unrecorded, then ``iterations`` times, timing each."""
    for i in range(warmup):
        await operation(-1 - i)
    samples: list[float] = []
    for i in range(iterations):
        t0 = time.perf_counter()
        await operation(i)
        samples.append(time.perf_counter() - t0)
    return samples


# --- talking to omnidesk -------------------------------------------------------------------------


class GraphQL:
    """Plain POSTs of ``{"query", "variables"}`` over one persistent connection."""

    def __init__(self, server: Server, bearer: str) -> None:
        self.url = server.http_url
        self.client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=HTTP_TIMEOUT,
            trust_env=False,  # 127.0.0.1 only: never through a proxy from the environment
        )

    async def mutate(self, query: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(self.url, json={"query": query, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            described = "; ".join(
                f"{(error.get('extensions') or {}).get('code', 'no code')}: {error.get('message')}"
                for error in body["errors"]
            )
            raise RuntimeError(f"{field}: GraphQL error ({described})")
        result = body["data"][field]
        if not str(result.get("__typename", "")).endswith("Success"):
            raise RuntimeError(f"{field}: {result}")
        return dict(result)

    async def aclose(self) -> None:
        await self.client.aclose()


async def bench_mutations(server: Server, bearer: str, iterations: int) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    api = GraphQL(server, bearer)
    try:

        async def create_team(i: int) -> None:
            await api.mutate(CREATE_TEAM, "createTeam", {"input": {"name": f"bench-{run}-{i}"}})

        samples = await timed_series(iterations, create_team)
    finally:
        await api.aclose()
    return summary(samples)


async def bench_throughput(server: Server, bearers: list[str]) -> dict[str, Any]:
    """``CONCURRENT_CLIENTS`` clients, each with its own connection and bearer, each sending
    ``THROUGHPUT_PER_CLIENT`` createTeam mutations back to back. A failed mutation is counted (by
    its message), not raised: under contention the failures are part of the figure."""
    run = uuid.uuid4().hex[:8]
    clients = [GraphQL(server, bearers[k % len(bearers)]) for k in range(CONCURRENT_CLIENTS)]
    latencies: list[float] = []
    failures: dict[str, int] = {}
    try:
        # Warm each connection so the figure is not about TCP set-up (sequentially: no contention).
        for k, client in enumerate(clients):
            await client.mutate(CREATE_TEAM, "createTeam", {"input": {"name": f"tp-{run}-w{k}"}})

        async def worker(k: int, api: GraphQL) -> None:
            for i in range(THROUGHPUT_PER_CLIENT):
                t0 = time.perf_counter()
                try:
                    await api.mutate(
                        CREATE_TEAM, "createTeam", {"input": {"name": f"tp-{run}-{k}-{i}"}}
                    )
                except (RuntimeError, httpx.HTTPError) as error:
                    key = str(error)[:200]
                    failures[key] = failures.get(key, 0) + 1
                    continue
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(k, c) for k, c in enumerate(clients)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    total = CONCURRENT_CLIENTS * THROUGHPUT_PER_CLIENT
    return {
        "clients": CONCURRENT_CLIENTS,
        "organizations": len(set(bearers)),
        "mutations_sent": total,
        "succeeded": len(latencies),
        "failed": total - len(latencies),
        "failures": failures,
        "elapsed_s": round(elapsed, 3),
        "succeeded_per_s": round(len(latencies) / elapsed, 1),
        "latency_of_successes": summary(latencies) if latencies else None,
    }


class Subscription:
    """A raw graphql-transport-ws connection with one ``agentEvents`` subscription."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.last_seq = 0

    @classmethod
    async def open(cls, server: Server, bearer: str, agent_id: str) -> Subscription:
        connection = await ws_connect(
            server.ws_url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            proxy=None,
            open_timeout=10,
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
        await connection.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": AGENT_EVENTS, "variables": {"agentId": agent_id}},
                }
            )
        )
        return cls(connection)

    async def next_change(self, within: float) -> int:
        """The ``seq`` of the next AgentConfigurationChanged after the last one seen."""
        deadline = time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no event")
            message = json.loads(await asyncio.wait_for(self.connection.recv(), remaining))
            kind = message.get("type")
            if kind == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            if kind != "next":
                raise RuntimeError(f"unexpected message {message}")
            payload = message["payload"]
            if payload.get("errors"):
                raise RuntimeError(f"subscription errors {payload['errors']}")
            event = payload["data"]["agentEvents"]
            if event["__typename"] != "AgentConfigurationChanged":
                raise RuntimeError(f"unexpected event {event}")
            seq = int(event["seq"])
            if seq > self.last_seq:
                self.last_seq = seq
                return seq

    async def close(self) -> None:
        await self.connection.close()


async def bench_events(server: Server, bearer: str, iterations: int) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    api = GraphQL(server, bearer)
    subscription: Subscription | None = None
    try:
        team = await api.mutate(CREATE_TEAM, "createTeam", {"input": {"name": f"ev-{run}"}})
        profile = await api.mutate(
            CREATE_PROFILE,
            "createMultimediaProfile",
            {
                "input": {
                    "name": f"ev-{run}",
                    "channels": [{"channel": "CHAT", "maxConcurrent": 3}],
                }
            },
        )
        agent = await api.mutate(
            CREATE_AGENT,
            "createAgent",
            {
                "input": {
                    "name": "Bench Agent",
                    "email": f"bench-{run}@example.com",
                    "teamIds": [team["team"]["id"]],
                    "profileId": profile["multimediaProfile"]["id"],
                }
            },
        )
        agent_id = agent["agent"]["id"]
        subscription = await Subscription.open(server, bearer, agent_id)
        names = ("Bench Agent A", "Bench Agent B")
        sent = [0]  # updates sent so far: each one flips the name, so each one is a real change

        async def update(i: int) -> None:
            name = names[sent[0] % 2]
            sent[0] += 1
            await api.mutate(UPDATE_AGENT, "updateAgent", {"input": {"id": agent_id, "name": name}})

        # The subscription has no acknowledgement: change the agent until an event arrives, so the
        # measured series starts with the subscription known to be live (bounded attempts).
        for attempt in range(20):
            await update(attempt)
            try:
                await subscription.next_change(1.0 if attempt < 19 else EVENT_TIMEOUT)
                break
            except TimeoutError:
                continue
        else:
            raise RuntimeError("the subscription never delivered")
        # Let any event still in flight for an earlier attempt arrive, then forget it.
        while True:
            try:
                await subscription.next_change(0.3)
            except TimeoutError:
                break

        sub = subscription

        async def change_and_receive(i: int) -> None:
            mutation = asyncio.create_task(update(i))
            try:
                await sub.next_change(EVENT_TIMEOUT)  # the event may land before the HTTP answer
            finally:
                await mutation  # the mutation must have succeeded for the sample to count

        samples = await timed_series(iterations, change_and_receive)
    finally:
        if subscription is not None:
            await subscription.close()
        await api.aclose()
    return summary(samples)


# --- the floor -----------------------------------------------------------------------------------


async def floor_transaction(mongodb_url: str, iterations: int) -> dict[str, Any]:
    """Insert one document and increment one counter in a transaction, with the read/write concern
    omnidesk's unit of work uses (snapshot, majority)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    database = client[f"bench_floor_{uuid.uuid4().hex[:8]}"]
    try:
        await database.create_collection("events")
        await database.create_collection("counters")
        await database.counters.insert_one({"_id": "seq", "value": 0})

        async def transaction(i: int) -> None:
            async with client.start_session() as session:
                await session.start_transaction(
                    read_concern=ReadConcern("snapshot"),
                    write_concern=WriteConcern("majority"),
                    read_preference=ReadPreference.PRIMARY,
                )
                await database.events.insert_one({"i": i, "at": datetime.now(UTC)}, session=session)
                await database.counters.update_one(
                    {"_id": "seq"}, {"$inc": {"value": 1}}, session=session
                )
                await session.commit_transaction()

        samples = await timed_series(iterations, transaction)
        await client.drop_database(database.name)
    finally:
        await client.close()
    return summary(samples)


async def floor_websocket(iterations: int) -> dict[str, Any]:
    """send -> recv of a small JSON message through an in-process echo server on 127.0.0.1."""

    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async with ws_serve(echo, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with ws_connect(f"ws://127.0.0.1:{port}", proxy=None) as connection:

            async def round_trip(i: int) -> None:
                await connection.send(json.dumps({"type": "next", "id": "1", "seq": i}))
                json.loads(await asyncio.wait_for(connection.recv(), EVENT_TIMEOUT))

            samples = await timed_series(iterations, round_trip)
    return summary(samples)


async def floor_http(server: Server, iterations: int) -> dict[str, Any]:
    """GET /healthz of the same server over one persistent connection."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, trust_env=False) as client:
        url = f"{server.base_url}/healthz"

        async def get(i: int) -> None:
            (await client.get(url)).raise_for_status()

        samples = await timed_series(iterations, get)
    return summary(samples)


# --- the run -------------------------------------------------------------------------------------


async def measure(
    server: Server, mongodb_url: str, iterations: int, report: dict[str, Any]
) -> None:
    bearer = token(new_org_id(), Role.ADMIN)
    phases: dict[str, float] = {}

    async def phase(name: str, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        log(f"{name} ...")
        started = time.perf_counter()
        result = await work
        phases[name] = round(time.perf_counter() - started, 2)
        return result

    floor = {
        "mongo_transaction": await phase(
            "floor_transaction", floor_transaction(mongodb_url, iterations)
        ),
        "websocket_round_trip": await phase("floor_websocket", floor_websocket(iterations)),
        "http_round_trip": await phase("floor_http", floor_http(server, iterations)),
    }
    mutation = await phase("mutation_latency", bench_mutations(server, bearer, iterations))
    throughput = {
        "one_org_per_client": await phase(
            "throughput_one_org_per_client",
            bench_throughput(
                server, [token(new_org_id(), Role.ADMIN) for _ in range(CONCURRENT_CLIENTS)]
            ),
        ),
        "all_clients_one_org": await phase(
            "throughput_all_clients_one_org", bench_throughput(server, [bearer])
        ),
    }
    events = await phase("event_delivery", bench_events(server, bearer, iterations))

    txn50 = float(floor["mongo_transaction"]["p50_ms"])
    ws50 = float(floor["websocket_round_trip"]["p50_ms"])
    http50 = float(floor["http_round_trip"]["p50_ms"])
    report["mutation_latency"] = mutation
    report["mutation_throughput"] = throughput
    report["event_delivery_latency"] = events
    report["floor"] = floor
    report["ratios_to_floor"] = {
        "mutation_p50_over_txn_plus_http_p50": ratio(float(mutation["p50_ms"]), txn50 + http50),
        "event_p50_over_txn_plus_ws_p50": ratio(float(events["p50_ms"]), txn50 + ws50),
    }
    report["phase_seconds"] = phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        help=f"samples per latency series (default {DEFAULT_ITERATIONS})",
    )
    parser.add_argument(
        "--json-only", action="store_true", help="no progress lines on stderr, only the JSON"
    )
    args = parser.parse_args()
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    if args.json_only:
        global log

        def log(message: str) -> None:
            return None

    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "foundation",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "websockets": version("websockets"),
            "httpx": version("httpx"),
            "pymongo": version("pymongo"),
        },
        "iterations": args.iterations,
        "warmup_per_series": WARMUP,
    }
    with running_stack(log) as (mongo, server):
        rss_before = rss_kib(server.process.pid)
        asyncio.run(measure(server, mongo.url, args.iterations, report))
        rss_after = rss_kib(server.process.pid)
        report["server_memory"] = {
            "pid_measured": "the uvicorn server subprocess",
            "rss_before_kib": rss_before["vm_rss_kib"],
            "rss_after_kib": rss_after["vm_rss_kib"],
            "rss_growth_kib": (
                rss_after["vm_rss_kib"] - rss_before["vm_rss_kib"]
                if rss_after["vm_rss_kib"] is not None and rss_before["vm_rss_kib"] is not None
                else None
            ),
            "peak_rss_kib": rss_after["vm_hwm_kib"],
        }
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
