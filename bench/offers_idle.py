"""Offer benchmark, the idle phase: server memory with many idle authenticated subscriptions."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.foundation import rss_kib
from bench.offers_desks import DRAIN_TIMEOUT, Api, Desk, close_desks, open_desks, organization
from bench.offers_measure import log
from domain.identity import Role
from tests.api.server import Server, token


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
