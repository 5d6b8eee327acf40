"""Offer benchmark, the latency phase: agents accept every offer while a connector reports
contacts open-loop at a fixed rate; contact reported -> OfferMade received."""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.offers_desks import DRAIN_TIMEOUT, MAX_CHAT, Api, Desk, log_in, open_desks, staff
from bench.offers_measure import Probes, log, summary_or_none, wall
from tests.api.center import ACCEPT_OFFER, REPORT_CONTACT
from tests.api.server import Server

OFFER_TIMEOUT = 120  # the latency phase's queue: agents answer at once, so no offer ever expires
# The latency phase stops injecting once more contacts than this are waiting for their offer and
# its acceptance (BACKLOG_SECONDS of arrivals, at least BACKLOG_FLOOR): the server has fallen behind.
BACKLOG_SECONDS = 5.0
BACKLOG_FLOOR = 50


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
    """One run's contacts and what happened to each: the connector reports them, the desks'
    ``on_message`` sees their offers and accepts each at once."""

    api: Api
    connector: str  # the connector's bearer
    entry_point: str
    bearers: dict[str, str]  # agent id -> bearer
    expected: int
    contacts: dict[str, Contact] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)  # OfferEnded outcomes seen
    unmatched: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    pending_jobs: set[asyncio.Task[None]] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished: int = 0
    overloaded_at: int | None = None

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

    async def report(self, contact_id: str, contact: Contact) -> None:
        contact.sent, contact.sent_wall = time.perf_counter(), time.time()
        customer = {"name": "Bench Customer", "customerId": contact_id}
        try:
            outcome = await self.api.call(
                self.connector,
                REPORT_CONTACT,
                {"input": {"entryPointId": self.entry_point, "customer": customer}},
            )
        except (RuntimeError, httpx.HTTPError) as error:
            self.fail("reportContact", error)
            return
        contact.answered = time.perf_counter()
        if outcome["__typename"] != "ReportContactSuccess":
            self.fail("reportContact", outcome["__typename"])
            return
        contact.status = outcome["task"]["status"]

    def on_message(self, desk: Desk, item: dict[str, Any], arrived: float, at_wall: float) -> None:
        kind = item["__typename"]
        if kind == "OfferEnded":
            self.outcomes[item["outcome"]] = self.outcomes.get(item["outcome"], 0) + 1
            return
        if kind != "OfferMade":
            return
        contact = self.contacts.get((item["offer"] or {}).get("customerId") or "")
        if contact is None or not math.isnan(contact.offered):
            self.unmatched += 1  # not one of ours, or offered a second time
            return
        contact.offered, contact.offered_wall = arrived, at_wall
        contact.occurred_wall = wall(item["occurredAt"])
        self.spawn(self.accept(contact, item["offerId"], self.bearers[desk.name]))

    async def accept(self, contact: Contact, offer_id: str, bearer: str) -> None:
        try:
            outcome = await self.api.call(bearer, ACCEPT_OFFER, {"input": {"offerId": offer_id}})
        except (RuntimeError, httpx.HTTPError) as error:
            self.fail("acceptOffer", error)
            return
        contact.accepted = time.perf_counter()
        contact.accept_outcome = outcome["__typename"]
        self.finish_one()

    async def inject(self, total: int, rate: float) -> float:
        """Open-loop: contact i is reported at start + i / rate whatever happened to the others;
        returns how long injecting took."""
        started = time.perf_counter()
        backlog_limit = max(BACKLOG_FLOOR, int(rate * BACKLOG_SECONDS))
        for i in range(total):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i - self.finished > backlog_limit:
                # The server fell behind for good: stop, rather than queue ever more work.
                self.overloaded_at = self.expected = i
                if self.finished >= i:
                    self.done.set()
                log(f"  {i - self.finished} contacts unanswered after {i} sent: stopping")
                break
            contact_id = f"c{i:06d}"
            self.contacts[contact_id] = contact = Contact(scheduled=due)
            self.spawn(self.report(contact_id, contact))
        return time.perf_counter() - started

    async def drain(self) -> None:
        try:
            await asyncio.wait_for(self.done.wait(), DRAIN_TIMEOUT)
        except TimeoutError:
            log("  not every contact was offered and accepted in time; counting what was")

    async def cancel_leftovers(self) -> None:
        for job in list(self.pending_jobs):
            job.cancel()
        await asyncio.gather(*self.pending_jobs, return_exceptions=True)


def _figures(run: LatencyRun, warmup: int, injected: float) -> dict[str, Any]:
    measured = list(run.contacts.values())[warmup:]
    offered = [c for c in measured if not math.isnan(c.offered)]
    sent = len(run.contacts)
    return {
        "overloaded": run.overloaded_at is not None,
        "injection": {
            "sent": sent,
            "stopped_at_contact": run.overloaded_at,
            "seconds": round(injected, 2),
            "achieved_rate_per_s": round(sent / injected, 1) if injected > 0 else None,
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
    }


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
    """Each agent accepts every offer at once (so no offer expires and routing never stops);
    capacity is sized so that every agent can hold its share of the run's contacts."""
    total = warmup + contacts
    chat = min(MAX_CHAT, math.ceil(total / agents) + 1)
    log(f"offer latency: {agents} agents (chat capacity {chat}) ...")
    setup_started = time.perf_counter()
    crew = await staff(server, api, agents=agents, chat=chat, offer_timeout=OFFER_TIMEOUT)
    run = LatencyRun(
        api, crew.center.connector, crew.line_entry_point, dict(crew.agents), expected=total
    )
    desks = await open_desks(server, crew.agents, run.on_message, after=0)
    await log_in(api, crew)
    # The load generator holds a thousand desktops too: its own full collections would stall
    # the receipt of offers and be counted as the server's latency.
    gc.collect()
    gc.freeze()
    setup_seconds = time.perf_counter() - setup_started
    log(f"  set up in {setup_seconds:.1f} s; {total} contacts at {rate}/s ...")
    usage = await probes.start()
    injected = await run.inject(total, rate)
    await run.drain()
    machine = await usage()
    await run.cancel_leftovers()
    result = {
        "agents": agents,
        "chat_capacity_per_agent": chat,
        "rate_per_s": rate,
        "contacts_measured": contacts,
        "warmup_contacts": warmup,
        "offer_timeout_seconds": OFFER_TIMEOUT,
        "setup_seconds": round(setup_seconds, 1),
        **_figures(run, warmup, injected),
        "subscription_errors": sum(len(d.errors) for d in desks),
        "websocket_compression": desks[0].compressed if desks else None,
        "machine_usage": machine,
    }
    return result, desks
