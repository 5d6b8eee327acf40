"""Routing under heavy concurrency on a real replica set, driven through the use cases themselves
(DESIGN "Routing"): hundreds of contacts, agents going AVAILABLE and IDLE, answers and abandons,
all at once. After each storm the stored data must hold every routing invariant — no task offered
to two agents, no agent over capacity, the load copies routing filters on equal to the offers and
tasks behind them, one deadline timer per open offer — and no match may be left unmade: the
routing sweep is never run, so a free slot next to a waiting task means a lost wake-up.

RONA goes through ``TimerScheduler.run_due`` with a fake clock moved past the deadlines, two
schedulers racing while agents come and go."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from domain.agents.session import AgentSession
from domain.agents.states import AgentState
from domain.channels import Channel, Direction
from domain.configuration.base import ConfigKind
from domain.configuration.profiles import ChannelCapacity
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock
from domain.streams import rona_stream
from domain.tasks.offers import Offer, OfferOutcome
from domain.tasks.task import Customer, Task, TaskStatus
from domain.timers import TimerKind, timer_id
from domain.usecases.agent_states import LogIn, SetAgentState, log_in, set_agent_state
from domain.usecases.configuration import CreateConfiguration, create_configuration
from domain.usecases.contacts import (
    AbandonContact,
    ReportContact,
    abandon_contact,
    report_contact,
)
from domain.usecases.offers import (
    AcceptOffer,
    DeclineOffer,
    accept_offer,
    decline_offer,
    on_offer_deadline,
)
from domain.usecases.routing import RouteAgent, RouteQueue, route_agent, route_queue
from domain.usecases.runner import Runner
from persistence.agent_sessions import from_row as to_session
from persistence.tasks import to_offer, to_task
from persistence.timer_scheduler import TimerScheduler
from persistence.timers import TimerHandlers
from persistence.unit_of_work import MongoUnitOfWork

ADMIN = Actor(ActorKind.ADMIN, "admin-1")
CHANNELS = (Channel.CHAT, Channel.EMAIL)
OFFER_TIMEOUT = 5  # seconds, the shortest a queue allows
# With the real clock no deadline may pass during a storm on a slow machine: the longest allowed.
NO_RONA = 600


def with_routing(runner: Runner) -> Runner:
    """The follow-ups the server registers: what a use case defers runs after its commit."""
    runner.on_deferred(RouteQueue, route_queue)
    runner.on_deferred(RouteAgent, route_agent)
    return runner


@pytest.fixture
def runner(uow_factory: Callable[[], MongoUnitOfWork], clock: Clock) -> Runner:
    return with_routing(Runner(uow_factory, clock))


class FakeClock:
    def __init__(self) -> None:
        # Close to real time, so the TTL on events never sees them as old.
        self._now = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@dataclass
class Center:
    """One organization: a team serving a chat and an email queue, agents of one profile."""

    runner: Runner
    org_id: str
    chat_capacity: int
    email_capacity: int
    offer_timeout: int = NO_RONA
    team_id: str = ""
    idle_code_id: str = ""
    entry_points: dict[Channel, str] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    connector: Principal = field(init=False)

    def __post_init__(self) -> None:
        self.connector = Principal("connector-1", self.org_id, frozenset({Role.INTEGRATION}))

    async def make(self, kind: ConfigKind, **fields: Any) -> str:
        command = CreateConfiguration(actor=ADMIN, org_id=self.org_id, kind=kind, fields=fields)
        return (await self.runner.run(create_configuration, command)).id

    async def build(self, agents: int) -> None:
        self.team_id = await self.make(ConfigKind.TEAM, name="Support")
        self.idle_code_id = await self.make(ConfigKind.IDLE_CODE, name="Lunch")
        profile = await self.make(
            ConfigKind.MULTIMEDIA_PROFILE,
            name="Digital",
            channels=(
                ChannelCapacity(Channel.CHAT, self.chat_capacity),
                ChannelCapacity(Channel.EMAIL, self.email_capacity),
            ),
        )
        for channel, address in ((Channel.CHAT, "chat-support"), (Channel.EMAIL, "s@example.com")):
            queue = await self.make(
                ConfigKind.QUEUE,
                name=channel.value,
                channel=channel,
                team_ids=(self.team_id,),
                offer_timeout_seconds=self.offer_timeout,
            )
            self.entry_points[channel] = await self.make(
                ConfigKind.ENTRY_POINT,
                name=f"{channel.value} in",
                channel=channel,
                direction=Direction.INBOUND,
                address=address,
                queue_id=queue,
            )
        for n in range(agents):
            self.agents.append(
                await self.make(
                    ConfigKind.AGENT,
                    name=f"Agent {n:03}",
                    email=f"agent{n}@example.com",
                    team_ids=(self.team_id,),
                    profile_id=profile,
                )
            )

    def agent(self, agent_id: str) -> Principal:
        return Principal(agent_id, self.org_id, frozenset({Role.AGENT}))

    async def log_in_idle(self, agent_id: str) -> None:
        command = LogIn(self.agent(agent_id), self.team_id, idle_code_id=self.idle_code_id)
        await self.runner.run(log_in, command)

    async def available(self, agent_id: str) -> AgentSession:
        command = SetAgentState(self.agent(agent_id), AgentState.AVAILABLE)
        return await self.runner.run(set_agent_state, command)

    async def idle(self, agent_id: str) -> AgentSession:
        command = SetAgentState(self.agent(agent_id), AgentState.IDLE, self.idle_code_id)
        return await self.runner.run(set_agent_state, command)

    async def toggle(self, agent_id: str) -> None:
        """AVAILABLE, IDLE, AVAILABLE again: each change as soon as the previous one returned."""
        await self.available(agent_id)
        await self.idle(agent_id)
        await self.available(agent_id)

    async def report(self, channel: Channel, n: int) -> Task:
        command = ReportContact(
            self.connector, self.entry_points[channel], customer=Customer(name=f"Customer {n}")
        )
        return await self.runner.run(report_contact, command)

    async def accept(self, offer: Offer) -> None:
        await self.runner.run(accept_offer, AcceptOffer(self.agent(offer.agent_id), offer.offer_id))

    async def decline(self, offer: Offer) -> None:
        await self.runner.run(
            decline_offer, DeclineOffer(self.agent(offer.agent_id), offer.offer_id)
        )

    async def abandon(self, task_id: str) -> None:
        await self.runner.run(abandon_contact, AbandonContact(self.connector, task_id))


@dataclass
class Stored:
    """Everything routing wrote for one organization, read back outside any transaction."""

    tasks: dict[str, Task]
    offers: list[Offer]
    sessions: dict[str, AgentSession]
    session_rows: dict[str, dict[str, Any]]
    timer_ids: list[str]
    offer_events: Counter[tuple[str, str]]  # (event type, offer id) -> events

    @property
    def pending(self) -> list[Offer]:
        return [offer for offer in self.offers if offer.pending]

    def tasks_in(self, status: TaskStatus, channel: Channel | None = None) -> list[Task]:
        return [
            task
            for task in self.tasks.values()
            if task.status is status and channel in (None, task.channel)
        ]


async def stored(database: AsyncDatabase, org_id: str) -> Stored:
    async def rows(name: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return await database[name].find({"org_id": org_id, **(query or {})}).to_list()

    sessions = {row["agent_id"]: row for row in await rows("agent_sessions")}
    events = await rows("events", {"type": {"$in": ["OfferMade", "OfferEnded"]}})
    return Stored(
        tasks={row["task_id"]: to_task(row) for row in await rows("tasks")},
        offers=[to_offer(row) for row in await rows("offers")],
        sessions={agent_id: to_session(row) for agent_id, row in sessions.items()},
        session_rows=sessions,
        # Offer deadlines only: agents logged in without a desktop have presence grace timers too.
        timer_ids=sorted(
            row["_id"] for row in await rows("timers", {"kind": TimerKind.OFFER_DEADLINE.value})
        ),
        offer_events=Counter((row["type"], row["payload"]["offer_id"]) for row in events),
    )


def assert_routing_invariants(state: Stored) -> None:
    """What must hold of stored data whatever raced: one offer per task at most, the agents' load
    equal to their offers and tasks and within capacity, and no waiting task next to a free slot
    (without any sweep: every match a change made possible was made by its follow-up)."""
    pending_per_task = Counter(offer.task_id for offer in state.pending)
    assert [task for task, n in pending_per_task.items() if n > 1] == []
    for task in state.tasks.values():
        holders = [(o.offer_id, o.agent_id) for o in state.pending if o.task_id == task.task_id]
        if task.status is TaskStatus.OFFERED:
            assert holders == [(task.offer_id, task.agent_id)], task
        else:
            assert holders == [], task
    for agent_id, session in state.sessions.items():
        for channel in CHANNELS:
            offers = sum(1 for o in state.pending if (o.agent_id, o.channel) == (agent_id, channel))
            connected = sum(
                1 for t in state.tasks_in(TaskStatus.CONNECTED, channel) if t.agent_id == agent_id
            )
            assert (session.offers_on(channel), session.tasks_on(channel)) == (offers, connected)
            assert offers + connected <= session.routing.capacity(channel), session
        row = state.session_rows[agent_id]  # the copies the candidates query filters on
        assert row["open_channels"] == [channel.value for channel in session.open_channels]
        assert row["pending_offer_count"] == session.pending_offer_count
    # One deadline timer per open offer, none left for an ended one.
    assert state.timer_ids == sorted(
        timer_id(TimerKind.OFFER_DEADLINE, o.offer_id, o.version) for o in state.pending
    )
    # Every offer was made once; an ended one ended once, an open one not at all.
    for offer in state.offers:
        made, ended = (
            state.offer_events[(kind, offer.offer_id)] for kind in ("OfferMade", "OfferEnded")
        )
        assert (made, ended) == (1, 0 if offer.pending else 1), offer
    # No lost wake-up: an AVAILABLE agent with room on a channel leaves nothing of it waiting.
    waiting = {task.channel for task in state.tasks_in(TaskStatus.QUEUED)}
    idle_room = [
        (agent_id, channel)
        for agent_id, session in state.sessions.items()
        for channel in session.open_channels
        if channel in waiting
    ]
    assert idle_room == []


async def gather_all(*calls: Awaitable[object]) -> list[object]:
    """Run everything at once; any failure fails the test (after every call has finished)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    assert failures == []
    return results


# The storm's size: more chats than chat slots (a queue that must stay full), fewer emails than
# email slots (a queue that must drain). Every report races for the same longest-available agent,
# so transaction conflicts grow with the square of what arrives at once: kept to what runs in
# seconds on two cores.
AGENTS = 12
CAPACITY = 2  # per agent, for chat and for email
CHATS, EMAILS = 30, 16
ABANDONED, LATE_EMAILS = 3, 4


async def test_a_storm_of_contacts_answers_and_state_changes_keeps_every_routing_invariant(
    runner: Runner, database: AsyncDatabase, org_id: str
) -> None:
    # Given agents logged in IDLE, each able to take 2 chats and 2 emails
    center = Center(runner, org_id, chat_capacity=CAPACITY, email_capacity=CAPACITY)
    await center.build(agents=AGENTS)
    await gather_all(*(center.log_in_idle(agent) for agent in center.agents))
    slots = AGENTS * CAPACITY

    # When chats (more than the chat slots) and emails (fewer than the email slots) arrive while
    # every agent goes AVAILABLE - half of them toggling through IDLE meanwhile
    await gather_all(
        *(center.report(Channel.CHAT, n) for n in range(CHATS)),
        *(center.report(Channel.EMAIL, n) for n in range(EMAILS)),
        *(center.toggle(agent) for agent in center.agents[: AGENTS // 2]),
        *(center.available(agent) for agent in center.agents[AGENTS // 2 :]),
    )

    # Then every chat slot holds an offer and the other chats wait; every email is offered
    first = await stored(database, org_id)
    assert_routing_invariants(first)
    assert len(first.tasks_in(TaskStatus.OFFERED, Channel.CHAT)) == slots
    assert len(first.tasks_in(TaskStatus.QUEUED, Channel.CHAT)) == CHATS - slots
    assert len(first.tasks_in(TaskStatus.OFFERED, Channel.EMAIL)) == EMAILS
    assert {s.state for s in first.sessions.values()} == {AgentState.AVAILABLE}

    # When every agent accepts its earliest offer and declines the others, while waiting chats are
    # abandoned and more emails arrive - all at once
    earliest: dict[str, Offer] = {}
    for offer in sorted(first.pending, key=lambda o: (o.offered_at, o.offer_id)):
        earliest.setdefault(offer.agent_id, offer)
    accepted = set(earliest.values())
    queued = first.tasks_in(TaskStatus.QUEUED, Channel.CHAT)
    abandoned = {task.task_id for task in queued[:ABANDONED]}
    await gather_all(
        *(center.accept(offer) for offer in accepted),
        *(center.decline(offer) for offer in first.pending if offer not in accepted),
        *(center.abandon(task_id) for task_id in abandoned),
        *(center.report(Channel.EMAIL, n) for n in range(EMAILS, EMAILS + LATE_EMAILS)),
    )

    # Then the invariants still hold: the chats left still fill every chat slot, every email is
    # with an agent, and the accepted tasks are connected to the agents who accepted them
    second = await stored(database, org_id)
    assert_routing_invariants(second)
    assert {t.task_id for t in second.tasks_in(TaskStatus.ABANDONED)} == abandoned
    held = second.tasks_in(TaskStatus.OFFERED, Channel.CHAT)
    held += second.tasks_in(TaskStatus.CONNECTED, Channel.CHAT)
    waiting = second.tasks_in(TaskStatus.QUEUED, Channel.CHAT)
    assert (len(held), len(waiting)) == (slots, CHATS - ABANDONED - slots)
    assert second.tasks_in(TaskStatus.QUEUED, Channel.EMAIL) == []
    connected = {(t.task_id, t.agent_id) for t in second.tasks_in(TaskStatus.CONNECTED)}
    assert connected == {(offer.task_id, offer.agent_id) for offer in accepted}
    outcomes = Counter(offer.outcome for offer in second.offers)
    assert outcomes[OfferOutcome.ACCEPTED] == AGENTS
    assert outcomes[OfferOutcome.DECLINED] == len(first.pending) - AGENTS


async def test_deadlines_fired_by_two_racing_schedulers_make_one_rona_per_offer(
    client: AsyncMongoClient, database: AsyncDatabase, org_id: str
) -> None:
    # Given 10 agents holding 2 chat offers each (deadline 5 s), 10 chats waiting, and 5 more
    # agents logged in IDLE; time is a fake clock
    clock = FakeClock()
    runner = with_routing(Runner(lambda: MongoUnitOfWork(client, clock), clock))
    center = Center(runner, org_id, chat_capacity=2, email_capacity=1, offer_timeout=OFFER_TIMEOUT)
    await center.build(agents=15)
    first_shift, second_shift = center.agents[:10], center.agents[10:]
    await gather_all(*(center.log_in_idle(agent) for agent in center.agents))
    await gather_all(*(center.available(agent) for agent in first_shift))
    await gather_all(*(center.report(Channel.CHAT, n) for n in range(30)))
    before = await stored(database, org_id)
    assert_routing_invariants(before)
    missed = {offer.offer_id for offer in before.pending}
    assert len(missed) == 20

    # When the deadline passes and two schedulers fire the timers while the second shift goes
    # AVAILABLE and 5 more chats arrive
    clock.advance(timedelta(seconds=OFFER_TIMEOUT))
    handlers = TimerHandlers()
    handlers.register(TimerKind.OFFER_DEADLINE, on_offer_deadline)
    schedulers = [TimerScheduler(runner, handlers), TimerScheduler(runner, handlers)]
    fired = await gather_all(
        *(scheduler.run_due() for scheduler in schedulers),
        *(center.available(agent) for agent in second_shift),
        *(center.report(Channel.CHAT, n) for n in range(30, 35)),
    )

    # Then each missed offer went RONA exactly once, with one RONA event for supervisors
    assert fired[0] + fired[1] == 20  # type: ignore[operator]
    after = await stored(database, org_id)
    assert_routing_invariants(after)
    assert {o.offer_id for o in after.offers if o.outcome is OfferOutcome.RONA} == missed
    ronas = await database["events"].find({"org_id": org_id, "type": "RonaOccurred"}).to_list()
    assert sorted(row["payload"]["offer_id"] for row in ronas) == sorted(missed)
    # The first shift is in RONA with nothing offered; the second took what it could hold
    assert {after.sessions[a].state for a in first_shift} == {AgentState.RONA}
    assert {after.sessions[a].pending_offer_count for a in first_shift} == {0}
    assert {after.sessions[a].pending_offer_count for a in second_shift} == {2}
    assert len(after.tasks_in(TaskStatus.QUEUED)) == 35 - 10
    # A second pass finds nothing due: the new offers' deadlines are 5 s away
    assert await schedulers[0].run_due() == 0


async def test_a_transaction_left_open_by_a_dead_instance_does_not_hold_back_other_ronas(
    client: AsyncMongoClient, database: AsyncDatabase, org_id: str
) -> None:
    # Given two agents each holding a chat offer, and an instance that died while it handled
    # another RONA of the organization: its transaction had taken the next position of the
    # organization's RONA stream and was never committed nor aborted
    clock = FakeClock()
    runner = with_routing(Runner(lambda: MongoUnitOfWork(client, clock), clock))
    center = Center(runner, org_id, chat_capacity=1, email_capacity=1, offer_timeout=OFFER_TIMEOUT)
    await center.build(agents=2)
    await gather_all(*(center.log_in_idle(agent) for agent in center.agents))
    await gather_all(*(center.available(agent) for agent in center.agents))
    await gather_all(*(center.report(Channel.CHAT, n) for n in range(2)))
    dead = client.start_session()
    await dead.start_transaction()
    await database["stream_heads"].update_one(
        {"_id": rona_stream(org_id)}, {"$inc": {"seq": 1}}, upsert=True, session=dead
    )
    try:
        # When the deadlines pass and a live instance's scheduler fires them
        clock.advance(timedelta(seconds=OFFER_TIMEOUT))
        handlers = TimerHandlers()
        handlers.register(TimerKind.OFFER_DEADLINE, on_offer_deadline)
        fired = await TimerScheduler(runner, handlers).run_due()
    finally:
        await dead.abort_transaction()
        await dead.end_session()

    # Then both offers went RONA (the dead instance's transaction must not stall the others')
    assert fired == 2
    state = await stored(database, org_id)
    assert {o.outcome for o in state.offers} == {OfferOutcome.RONA}
