"""Presence on a real replica set (SPEC §2): server instances register their agents' WebSockets and
vouch for them with a heartbeat; the connections of an instance that stopped vouching (it crashed)
are swept by the others and count as gone since last seen; the grace timer then makes an AVAILABLE
agent IDLE with reason DISCONNECTED, unless the agent came back. An agent made AVAILABLE with no
desktop connected is unattended from that moment, alike. Time is a fake clock the tests
move; ``heartbeat``, ``sweep`` and ``run_due`` are single deterministic passes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from domain.agents.session import AgentSession
from domain.agents.states import AgentState, StateChangeReason
from domain.configuration.policies import OrganizationPolicies
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.streams import agent_stream
from domain.timers import TimerKind
from domain.usecases.agent_states import SetAgentState, set_agent_state
from domain.usecases.presence import presence_grace_expired
from domain.usecases.runner import Runner
from persistence.presence import PresenceTracker, presence_key
from persistence.timer_scheduler import TimerScheduler
from persistence.timers import TimerHandlers

HEARTBEAT = timedelta(seconds=10)
STALE_AFTER = 3 * HEARTBEAT
GRACE = timedelta(seconds=5)
AGENT = "agent-1"


class FakeClock:
    def __init__(self) -> None:
        # Close to real time, so the TTL on events never sees them as old.
        self._now = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@pytest.fixture
def clock() -> FakeClock:  # overrides the real clock of the persistence fixtures
    return FakeClock()


def tracker(runner: Runner, instance: str) -> PresenceTracker:
    return PresenceTracker(runner, heartbeat=HEARTBEAT, instance=instance)


def timers(runner: Runner) -> TimerScheduler:
    handlers = TimerHandlers()
    handlers.register(TimerKind.PRESENCE_GRACE, presence_grace_expired)
    return TimerScheduler(runner, handlers, poll_interval=3600)


@pytest.fixture
async def available(runner: Runner, clock: FakeClock, org_id: str) -> AgentSession:
    """An AVAILABLE agent of an organization whose presence grace is 5 s."""
    session = AgentSession(
        agent_id=AGENT,
        org_id=org_id,
        agent_name="Ada",
        logged_in=True,
        logged_in_at=clock.now(),
        team_id="team-1",
        state=AgentState.AVAILABLE,
        state_since=clock.now(),
        version=1,
    )

    async def store(cmd: AgentSession, uow: UnitOfWork, clock: Clock) -> None:
        policies = OrganizationPolicies(org_id=org_id, presence_grace_seconds=5, version=1)
        await uow.policies.save(policies, expected_version=0)
        await uow.agent_sessions.save(cmd, expected_version=0)

    await runner.run(store, session)
    return session


async def presence_of(database: AsyncDatabase, org_id: str) -> dict[str, Any]:
    row = await database["presence"].find_one({"_id": presence_key(org_id, AGENT)})
    assert row is not None
    return row


async def grace_timers(database: AsyncDatabase, org_id: str) -> list[dict[str, Any]]:
    query = {"kind": TimerKind.PRESENCE_GRACE.value, "target_id": presence_key(org_id, AGENT)}
    return await database["timers"].find(query).to_list()


async def session_of(database: AsyncDatabase, org_id: str) -> dict[str, Any]:
    row = await database["agent_sessions"].find_one({"org_id": org_id, "agent_id": AGENT})
    assert row is not None
    return row["data"]


async def state_changes(database: AsyncDatabase, org_id: str) -> list[dict[str, Any]]:
    query = {"stream": agent_stream(org_id, AGENT), "type": "AgentStateChanged"}
    return await database["events"].find(query).to_list()


async def test_a_dead_instances_connection_is_swept_and_the_agent_stops_receiving_offers(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    dead, alive = tracker(runner, "dead"), tracker(runner, "alive")
    await dead.connected(org_id, AGENT)
    last_seen = clock.now()

    clock.advance(STALE_AFTER)  # not yet stale: three heartbeats missed exactly
    assert await alive.sweep() == 0
    clock.advance(timedelta(seconds=1))
    assert await alive.sweep() == 1

    presence = await presence_of(database, org_id)
    assert (presence["connections"], presence["gone_at"], presence["absences"]) == (
        [],
        last_seen,
        1,
    )
    [timer] = await grace_timers(database, org_id)
    # The grace counts from when the dead instance last vouched for the connection: already over.
    assert (timer["due_at"], timer["expected_version"]) == (last_seen + GRACE, 1)

    assert await timers(runner).run_due() == 1

    session = await session_of(database, org_id)
    assert (session["state"], session["idle_code_id"], session["state_reason"]) == (
        "IDLE",
        None,
        "DISCONNECTED",
    )
    assert session["state_changed_by"] == {"kind": "SYSTEM", "id": "presence"}
    [event] = await state_changes(database, org_id)
    assert (event["payload"]["reason"], event["actor"]) == (
        "DISCONNECTED",
        {"kind": "SYSTEM", "id": "presence"},
    )


async def test_connections_their_instance_vouches_for_are_never_swept(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    alive, other = tracker(runner, "alive"), tracker(runner, "other")
    await alive.connected(org_id, AGENT)

    for _ in range(10):
        clock.advance(HEARTBEAT)
        await alive.heartbeat()
        assert await other.sweep() == 0

    presence = await presence_of(database, org_id)
    assert [c["last_seen"] for c in presence["connections"]] == [clock.now()]
    assert await grace_timers(database, org_id) == []


async def test_instances_sweeping_at_once_schedule_one_grace_timer(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    dead = tracker(runner, "dead")
    await dead.connected(org_id, AGENT)
    await dead.connected(org_id, AGENT)  # a second desktop on the same instance
    clock.advance(STALE_AFTER + timedelta(seconds=1))

    sweepers = [tracker(runner, f"sweeper-{n}") for n in range(4)]
    await asyncio.gather(*(sweeper.sweep() for sweeper in sweepers))

    presence = await presence_of(database, org_id)
    assert (presence["connections"], presence["absences"]) == ([], 1)
    assert len(await grace_timers(database, org_id)) == 1


async def test_an_instance_that_lost_the_database_registers_its_swept_connections_again(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    cut_off, other = tracker(runner, "cut-off"), tracker(runner, "other")
    await cut_off.connected(org_id, AGENT)
    clock.advance(STALE_AFTER + timedelta(seconds=1))
    assert await other.sweep() == 1

    await cut_off.heartbeat()  # back: the socket never closed, so the agent is there

    presence = await presence_of(database, org_id)
    assert [(c["instance"], c["last_seen"]) for c in presence["connections"]] == [
        ("cut-off", clock.now())
    ]
    assert presence["gone_at"] is None
    assert await timers(runner).run_due() == 1  # the grace timer of the sweep fires...
    assert (await session_of(database, org_id))["state"] == "AVAILABLE"  # ...and does nothing
    assert await state_changes(database, org_id) == []


async def test_coming_back_and_leaving_again_within_the_grace_restarts_it(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    desk = tracker(runner, "desk")
    first = await desk.connected(org_id, AGENT)
    await desk.disconnected(first)
    clock.advance(timedelta(seconds=2))
    second = await desk.connected(org_id, AGENT)
    clock.advance(timedelta(seconds=1))
    await desk.disconnected(second)
    left_again = clock.now()

    clock.advance(timedelta(seconds=2))  # the first absence's grace is over
    assert await timers(runner).run_due() == 1
    assert (await session_of(database, org_id))["state"] == "AVAILABLE"

    clock.advance(left_again + GRACE - clock.now())  # the second one's is
    assert await timers(runner).run_due() == 1
    assert (await session_of(database, org_id))["state"] == "IDLE"
    assert len(await state_changes(database, org_id)) == 1


async def test_the_grace_changes_nothing_for_an_agent_no_longer_available(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    desk = tracker(runner, "desk")
    await desk.disconnected(await desk.connected(org_id, AGENT))

    async def log_out(cmd: None, uow: UnitOfWork, clock: Clock) -> None:
        session = await uow.agent_sessions.get(org_id, AGENT)
        assert session is not None
        out = session.log_out(
            now=clock.now(),
            by=Actor(ActorKind.AGENT, AGENT),
            reason=StateChangeReason.AGENT_REQUEST,
        )
        await uow.agent_sessions.save(out.session, expected_version=session.version)

    await runner.run(log_out, None)
    clock.advance(GRACE)
    assert await timers(runner).run_due() == 1

    assert (await session_of(database, org_id))["logged_in"] is False
    assert await state_changes(database, org_id) == []


async def test_an_instance_shutting_down_lets_its_desktops_go(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    leaving = tracker(runner, "leaving")
    await leaving.start()
    await leaving.connected(org_id, AGENT)

    await leaving.stop()

    presence = await presence_of(database, org_id)
    assert (presence["connections"], presence["gone_at"]) == ([], clock.now())
    assert leaving.open_connections == 0
    assert len(await grace_timers(database, org_id)) == 1


async def test_becoming_available_without_a_desktop_starts_the_grace_then(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    agent = Principal(subject=AGENT, org_id=org_id, roles=frozenset({Role.AGENT}))
    await runner.run(rona, org_id)  # the agent, never connected, missed an offer...
    clock.advance(timedelta(minutes=10))
    asked_at = clock.now()
    await runner.run(set_agent_state, SetAgentState(agent, AgentState.AVAILABLE))  # ...over HTTP

    presence = await presence_of(database, org_id)
    assert (presence["connections"], presence["gone_at"], presence["absences"]) == (
        [],
        asked_at,
        1,
    )
    [timer] = await grace_timers(database, org_id)
    assert timer["due_at"] == asked_at + GRACE  # counted from the request, not from the log-in

    clock.advance(GRACE - timedelta(seconds=1))
    assert await timers(runner).run_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await timers(runner).run_due() == 1

    session = await session_of(database, org_id)
    assert (session["state"], session["state_reason"]) == ("IDLE", "DISCONNECTED")


async def test_a_desktop_connecting_after_an_http_log_in_ends_the_absence(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, available: Any
) -> None:
    agent = Principal(subject=AGENT, org_id=org_id, roles=frozenset({Role.AGENT}))
    await runner.run(rona, org_id)
    await runner.run(set_agent_state, SetAgentState(agent, AgentState.AVAILABLE))
    await tracker(runner, "desk").connected(org_id, AGENT)

    clock.advance(GRACE)
    assert await timers(runner).run_due() == 1  # fires, and does nothing

    assert (await session_of(database, org_id))["state"] == "AVAILABLE"
    assert (await presence_of(database, org_id))["gone_at"] is None


async def rona(org_id: str, uow: UnitOfWork, clock: Clock) -> None:
    """The agent missed an offer: RONA, out of offers until it asks to be AVAILABLE again."""
    session = await uow.agent_sessions.get(org_id, AGENT)
    assert session is not None
    change = session.went_rona(now=clock.now(), by=Actor.system("offer-deadline"))
    await uow.agent_sessions.save(change.session, expected_version=session.version)
