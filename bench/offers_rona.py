"""Offer benchmark, the RONA phase: offers nobody answers; OfferEnded(RONA) received -> the
offer's deadline."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.offers_desks import (
    DRAIN_TIMEOUT,
    MAX_CHAT,
    Api,
    Desk,
    Staff,
    log_in,
    open_desks,
    staff,
)
from bench.offers_measure import Probes, log, summary_or_none, wall
from tests.api.center import REPORT_CONTACT
from tests.api.server import Server

# One connector reports the RONA phase's contacts back to back: the phase measures the timers, not
# how the server takes concurrent reports (the latency phase does that).
RONA_INJECTORS = 1


@dataclass
class RonaRun:
    """One run's offers: their deadlines as made, and when each ended RONA (as received, and as
    the server stamped it)."""

    expected: int
    deadlines: dict[str, float] = field(default_factory=dict)  # offer id -> deadline (epoch s)
    ended: dict[str, tuple[float, float]] = field(default_factory=dict)  # -> (received, occurred)
    other_endings: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    peak_pending: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_message(self, desk: Desk, item: dict[str, Any], arrived: float, at_wall: float) -> None:
        kind = item["__typename"]
        if kind == "OfferMade":
            self.deadlines[item["offerId"]] = wall(item["deadline"])
            self.pending += 1
            self.peak_pending = max(self.peak_pending, self.pending)
        elif kind == "OfferEnded":
            self.pending -= 1
            outcome = item["outcome"]
            if outcome != "RONA":
                self.other_endings[outcome] = self.other_endings.get(outcome, 0) + 1
                return
            self.ended[item["offerId"]] = (at_wall, wall(item["occurredAt"]))
            if len(self.ended) >= self.expected:
                self.done.set()

    async def inject(self, api: Api, crew: Staff) -> float:
        """Reports ``expected`` contacts, each connector one after the other; returns how long
        that took."""
        counter = itertools.count()

        async def injector() -> None:
            while (n := next(counter)) < self.expected:
                customer = {"name": "Bench Customer", "customerId": f"r{n:06d}"}
                variables = {"input": {"entryPointId": crew.line_entry_point, "customer": customer}}
                try:
                    outcome = await api.call(crew.center.connector, REPORT_CONTACT, variables)
                    kind = outcome["__typename"]
                except (RuntimeError, httpx.HTTPError) as error:
                    kind = f"{type(error).__name__} {error}"[:200]
                if kind != "ReportContactSuccess":
                    self.failures[kind] = self.failures.get(kind, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(injector() for _ in range(RONA_INJECTORS)))
        return time.perf_counter() - started

    def figures(self) -> dict[str, Any]:
        ended, deadlines = self.ended, self.deadlines
        delivered = [ended[o][0] - d for o, d in deadlines.items() if o in ended]
        fired = [ended[o][1] - d for o, d in deadlines.items() if o in ended]
        spread = sorted(deadlines.values())
        return {
            "offers_made": len(deadlines),
            "peak_pending_seen": self.peak_pending,
            "deadlines_per_s": (
                round((len(spread) - 1) / (spread[-1] - spread[0]), 1)
                if len(spread) > 1 and spread[-1] > spread[0]
                else None
            ),
            "rona": len(ended),
            "other_endings": self.other_endings,
            "lateness_received": summary_or_none(delivered),
            "lateness_fired": summary_or_none(fired),
            "early": sum(1 for x in fired if x < 0),
            "failures": self.failures,
        }


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
    desks = await open_desks(server, crew.agents, run.on_message, after=0)
    await log_in(api, crew)
    usage = await probes.start()
    creation = await run.inject(api, crew)
    log(f"  {pending} contacts reported in {creation:.1f} s; waiting for the RONAs ...")
    try:
        await asyncio.wait_for(run.done.wait(), offer_timeout + DRAIN_TIMEOUT)
    except TimeoutError:
        log("  not every offer went RONA in time; counting what did")
    machine = await usage()
    result = {
        "pending_offers": pending,
        "agents": agents,
        "chat_capacity_per_agent": per_agent,
        "offer_timeout_seconds": offer_timeout,
        "injectors": RONA_INJECTORS,
        "creation_seconds": round(creation, 2),
        **run.figures(),
        "subscription_errors": sum(len(d.errors) for d in desks),
        "machine_usage": machine,
    }
    return result, desks
