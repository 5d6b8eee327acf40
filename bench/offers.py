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
import gc
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pymongo import AsyncMongoClient  # noqa: E402

from api.garbage_collection import THRESHOLDS  # noqa: E402
from bench.foundation import (  # noqa: E402
    floor_transaction,
    floor_websocket,
    ratio,
    rss_kib,
)
from bench.offers_desks import COMPRESSION, MAX_CHAT, Api, Desk, close_desks  # noqa: E402
from bench.offers_idle import bench_idle  # noqa: E402
from bench.offers_latency import bench_offer_latency  # noqa: E402
from bench.offers_measure import QUIET, Probes, log, settle  # noqa: E402
from bench.offers_rona import bench_rona  # noqa: E402
from bench.offers_targets import targets  # noqa: E402
from bench.stack import running_stack  # noqa: E402
from persistence.embedded_mongod import EmbeddedMongo  # noqa: E402
from tests.api.server import Server  # noqa: E402

try:  # the server runs on uvloop (uvicorn[standard]); so does the load generator when it can
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

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


class Measurement:
    """One run's phases against one stack, each timed after the machine settled."""

    def __init__(
        self, server: Server, mongo: EmbeddedMongo, args: argparse.Namespace, report: dict[str, Any]
    ) -> None:
        assert mongo.process is not None
        self.server, self.mongo, self.args, self.report = server, mongo, args, report
        pids = {"server": server.process.pid, "mongod": mongo.process.pid}
        self.probes = Probes(pids, AsyncMongoClient(mongo.url))
        self.phases: dict[str, float] = {}
        self.memory: dict[str, Any] = {}
        self.api = Api(server)
        self.desks: list[Desk] = []

    async def phase(self, name: str, work: Awaitable[Any]) -> Any:
        log(f"{name} ...")
        self.phases[f"settle_before_{name}"] = await settle(self.probes.pids)
        started = time.perf_counter()
        result = await work
        self.phases[name] = round(time.perf_counter() - started, 2)
        return result

    def rss(self) -> dict[str, int | None]:
        return rss_kib(self.server.process.pid)

    async def floor(self) -> dict[str, Any]:
        iterations = self.args.iterations
        return {
            "mongo_transaction": await self.phase(
                "floor_transaction", floor_transaction(self.mongo.url, iterations)
            ),
            "websocket_round_trip": await self.phase(
                "floor_websocket", floor_websocket(iterations)
            ),
        }

    async def idle(self) -> None:
        work = bench_idle(self.server, self.api, self.args.idle_subscriptions)
        self.report["idle_subscriptions"] = await self.phase("idle_subscriptions", work)

    async def latency(self) -> None:
        args = self.args
        work = bench_offer_latency(
            self.server,
            self.api,
            self.probes,
            agents=args.agents,
            rate=args.rate,
            contacts=args.contacts,
            warmup=args.warmup,
        )
        self.report["offer_latency"], opened = await self.phase("offer_latency", work)
        self.memory["rss_with_latency_agents_connected_kib"] = self.rss()["vm_rss_kib"]
        await close_desks(opened)  # the RONA phase measures timers, with its own agents only

    async def rona(self) -> None:
        args = self.args
        work = bench_rona(
            self.server,
            self.api,
            self.probes,
            pending=args.pending,
            offer_timeout=args.rona_timeout,
        )
        self.report["rona"], opened = await self.phase("rona", work)
        self.desks += opened

    def memory_at_end(self) -> None:
        figures = self.rss()
        self.memory["rss_end_kib"] = figures["vm_rss_kib"]
        self.memory["peak_rss_kib"] = figures["vm_hwm_kib"]
        self.memory["websockets_open_at_end"] = len(self.desks)

    async def close(self) -> None:
        await close_desks(self.desks)
        await self.api.aclose()
        await self.probes.mongo.close()


async def measure(
    server: Server, mongo: EmbeddedMongo, args: argparse.Namespace, report: dict[str, Any]
) -> None:
    run = Measurement(server, mongo, args, report)
    floor = await run.floor()
    run.memory["rss_ready_kib"] = run.rss()["vm_rss_kib"]
    try:
        for name, step in (("idle", run.idle), ("latency", run.latency), ("rona", run.rona)):
            if name in args.phases:
                await step()
        run.memory_at_end()
    finally:
        await run.close()
    txn50 = float(floor["mongo_transaction"]["p50_ms"])
    ws50 = float(floor["websocket_round_trip"]["p50_ms"])
    offer50 = (report.get("offer_latency", {}).get("offer_latency") or {}).get("p50_ms")
    report["floor"] = floor
    report["ratios_to_floor"] = {
        "offer_latency_p50_over_txn_plus_ws_p50": (
            ratio(float(offer50), txn50 + ws50) if offer50 is not None else None
        )
    }
    report["server_memory"] = run.memory
    report["targets"] = targets(report, args)
    report["phase_seconds"] = run.phases


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()),
    )
    option = parser.add_argument
    option(
        "--workers",
        type=int,
        default=1,
        help="server processes (OMNIDESK_WORKERS); CPU counts them all, memory the first only",
    )
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
        help="WebSockets offer no permessage-deflate (browsers offer it, so the bench does)",
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
    QUIET[0] = args.json_only
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
            "server_workers": args.workers,
            **{name: getattr(args, name) for name in DEFAULTS},
        },
    }
    with running_stack(log, workers=args.workers) as (mongo, server):
        work = measure(server, mongo, args, report)
        gc.set_threshold(
            *THRESHOLDS
        )  # the server's (api/garbage_collection.py), for the same reason
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
