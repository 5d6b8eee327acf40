"""Presence through the public API (SPEC §2): an agent's desktop WebSockets are tracked; when all of
an AVAILABLE agent's connections have been gone longer than the organization's grace period, the
system makes the agent IDLE with reason DISCONNECTED; coming back within the grace changes nothing,
and neither does closing one of several desktops. Also when the instance holding the desktop dies.
An agent who becomes AVAILABLE with no desktop connected (an HTTP-only client) is unattended from
then on, and times out alike. Offers pending when the grace runs out end SYSTEM and their tasks go
to another agent at once, without waiting for the RONA.

The grace is the minimum, 5 s: these tests wait for real timers to fire. What the server stores
(the grace timer, the agent's connections) is read straight from MongoDB to know when it has acted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gql import GraphQLRequest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from domain.identity import Role
from tests.api.center import AGENT_EVENTS as AGENT_STATE_EVENTS
from tests.api.center import OFFER_EVENTS, SET_STATE, Center, Line, next_matching, subscription
from tests.api.client import execute, websocket
from tests.api.server import Server, new_org_id, start_server, token
from tests.api.test_agent_states import AGENT_EVENTS, LOG_IN, MY_SESSION, Desk
from tests.api.test_policies import update

WAIT = 30.0  # upper bound for anything awaited: the grace (5 s) and then some; never a pause
POLL = 0.05
GRACE_SECONDS = 5

T = TypeVar("T")


@pytest.fixture
async def database(server: Server, mongodb_url: str) -> AsyncIterator[AsyncDatabase]:
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        yield client[server.env["OMNIDESK_DATABASE"]]
    finally:
        await client.close()


async def desk_with_grace(server: Server, org_id: str) -> Desk:
    desk = await Desk(server, org_id).setup()
    updated = await update(server, org_id, presenceGraceSeconds=GRACE_SECONDS)
    assert updated["__typename"] == "UpdatePoliciesSuccess", updated
    return desk


@pytest.fixture
async def desk(server: Server, org_id: str) -> Desk:
    return await desk_with_grace(server, org_id)


@contextlib.asynccontextmanager
async def desktop(desk: Desk, server: Server | None = None) -> AsyncIterator[tuple[str, str]]:
    """A new agent whose desktop connects (to ``server``, by default the desk's), then logs in:
    (agent id, bearer) while the desktop is open. Closing it starts an absence."""
    agent_id = await desk.agent()
    bearer = desk.agent_token(agent_id)
    async with websocket(server or desk.server, bearer):
        await desk.ok(bearer, LOG_IN, teamId=desk.teams["Sales"])
        yield agent_id, bearer


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Polls ``probe`` until it returns something, for at most ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = await probe()
        if found is not None and found is not False:
            return found
        await asyncio.sleep(POLL)
    raise AssertionError(f"{what} did not happen within {WAIT} s")


def grace_timer(db: AsyncDatabase, org_id: str, agent_id: str) -> Callable[[], Awaitable[Any]]:
    query = {"kind": "PRESENCE_GRACE", "target_id": f"{org_id}/{agent_id}"}
    return lambda: db["timers"].find_one(query)


async def connections(db: AsyncDatabase, org_id: str, agent_id: str) -> int:
    row = await db["presence"].find_one({"_id": f"{org_id}/{agent_id}"})
    return 0 if row is None else len(row["connections"])


async def my_session(server: Server, bearer: str) -> dict[str, Any]:
    return (await execute(server, bearer, MY_SESSION))["myAgentSession"]


@contextlib.asynccontextmanager
async def agent_events(
    server: Server, bearer: str, agent_id: str, after: int
) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any]]]]:
    """The agent's session events after ``after`` (configuration events skipped)."""
    async with websocket(server, bearer) as session:
        variables = {"agentId": agent_id, "after": after}
        events = session.subscribe(GraphQLRequest(AGENT_EVENTS, variable_values=variables))

        async def next_event() -> dict[str, Any]:
            while True:
                event = (await asyncio.wait_for(anext(events), WAIT))["agentEvents"]
                if event["__typename"] != "AgentConfigurationChanged":
                    return event

        try:
            yield next_event
        finally:
            await events.aclose()


async def test_reconnecting_within_the_grace_period_changes_nothing(
    desk: Desk, database: AsyncDatabase
) -> None:
    async with desktop(desk) as (agent_id, bearer):
        pass  # the desktop connects, the agent logs in, then the connection drops
    pending = grace_timer(database, desk.org_id, agent_id)
    await until(pending, "the grace timer being set")

    async with websocket(desk.server, bearer):  # back within the grace period
        assert await pending() is not None, "the grace period must still be running"
        await until(lambda: _gone(pending), "the grace timer firing")
        session = await my_session(desk.server, bearer)

    assert (session["state"], session["stateReason"], session["version"]) == (
        "AVAILABLE",
        "LOGIN",
        1,
    )


async def _gone(probe: Callable[[], Awaitable[Any]]) -> bool:
    return await probe() is None


async def test_an_agent_gone_longer_than_the_grace_period_is_made_idle_by_the_system(
    desk: Desk,
) -> None:
    agent_id = await desk.agent()
    bearer = desk.agent_token(agent_id)
    async with agent_events(desk.server, desk.supervisor, agent_id, after=0) as next_event:
        async with websocket(desk.server, bearer):
            await desk.ok(bearer, LOG_IN, teamId=desk.teams["Sales"])
            logged_in = await next_event()
        # The agent's only desktop went and stays away.
        changed = await next_event()

    assert (logged_in["__typename"], logged_in["reason"]) == ("AgentLoggedIn", "LOGIN")
    assert changed["__typename"] == "AgentStateChanged"
    assert (changed["fromState"], changed["toState"], changed["idleCodeId"]) == (
        "AVAILABLE",
        "IDLE",
        None,
    )
    assert (changed["reason"], changed["cause"]) == (
        "DISCONNECTED",
        {"kind": "SYSTEM", "id": "presence"},
    )
    session = await my_session(desk.server, bearer)
    assert (session["state"], session["idleCodeId"], session["stateReason"]) == (
        "IDLE",
        None,
        "DISCONNECTED",
    )
    assert session["stateChangedBy"] == {"kind": "SYSTEM", "id": "presence"}
    # The agent's desktop, reconnecting, catches up on what it missed.
    async with agent_events(desk.server, bearer, agent_id, after=logged_in["seq"]) as missed:
        assert await missed() == changed


async def test_one_of_two_desktops_closing_changes_nothing(
    desk: Desk, database: AsyncDatabase
) -> None:
    async with desktop(desk) as (agent_id, bearer):
        pending = grace_timer(database, desk.org_id, agent_id)
        async with websocket(desk.server, bearer):
            assert await connections(database, desk.org_id, agent_id) == 2
        await until(
            lambda: _equal(connections(database, desk.org_id, agent_id), 1),
            "the server noticing the closed desktop",
        )
        assert await pending() is None  # one desktop is still there: no grace period runs
        session = await my_session(desk.server, bearer)
        assert (session["state"], session["version"]) == ("AVAILABLE", 1)
    await until(pending, "the grace timer being set once the last desktop closed")


async def _equal(value: Awaitable[T], expected: T) -> bool:
    return await value == expected


# --- agents without a desktop, and offers pending when the grace runs out -------------------------


async def chat_center(server: Server, org_id: str) -> tuple[Center, Line, str]:
    """An organization with the short grace, a chat line whose offers outlast it by far (60 s), and
    a one-chat profile."""
    center = Center(server, org_id)
    updated = await update(server, org_id, presenceGraceSeconds=GRACE_SECONDS)
    assert updated["__typename"] == "UpdatePoliciesSuccess", updated
    line = await center.line("CHAT", offer_timeout=60)
    return center, line, await center.profile(voice=0, chat=1)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def is_disconnection(event: dict[str, Any]) -> bool:
    return event["__typename"] == "AgentStateChanged" and event["reason"] == "DISCONNECTED"


async def test_an_agent_who_never_connects_a_desktop_stops_receiving_offers_after_the_grace(
    server: Server, org_id: str
) -> None:
    center, line, profile = await chat_center(server, org_id)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)  # over HTTP only
    watch = {"agentId": agent_id, "after": 0}

    async with subscription(server, center.supervisor, AGENT_STATE_EVENTS, **watch) as next_event:
        first = await next_matching(next_event, is_disconnection)
        waiting = await center.report(line)
        back = await center.call(bearer, SET_STATE, state="AVAILABLE")  # still no desktop
        offered = await center.task(waiting["id"])
        second = await next_matching(next_event, is_disconnection)
    # Opening a desktop now, after the fact, replays what happened to the offer.
    async with subscription(server, bearer, OFFER_EVENTS, after=0) as next_offer:
        made, ended = await next_offer(), await next_offer()
    requeued = await center.task(waiting["id"])

    for change in (first, second):
        assert (change["fromState"], change["toState"], change["reason"]) == (
            "AVAILABLE",
            "IDLE",
            "DISCONNECTED",
        )
        assert change["cause"] == {"kind": "SYSTEM", "id": "presence"}
    assert (waiting["status"], back["__typename"]) == ("QUEUED", "SetAgentStateSuccess")
    # Available again by request: offered the waiting chat, and unattended from then on.
    assert (offered["status"], offered["agentId"]) == ("OFFERED", agent_id)
    assert (made["__typename"], made["taskId"]) == ("OfferMade", waiting["id"])
    assert (ended["__typename"], ended["offerId"], ended["outcome"]) == (
        "OfferEnded",
        made["offerId"],
        "SYSTEM",
    )
    assert ended["cause"] == {"kind": "SYSTEM", "id": "presence"}
    assert (requeued["status"], requeued["agentId"], requeued["queuedAt"]) == (
        "QUEUED",
        None,
        waiting["queuedAt"],
    )


async def test_a_gone_agents_pending_offer_goes_to_another_agent_before_its_deadline(
    server: Server, org_id: str
) -> None:
    center, line, profile = await chat_center(server, org_id)
    gone_id, gone = await center.logged_in_agent(line.team_id, profile)  # no desktop
    task = await center.report(line)
    other_id = await center.agent(line.team_id, profile)
    other = center.agent_token(other_id)

    async with subscription(server, other, OFFER_EVENTS, after=0) as next_offer:
        logged_in = await center.call(other, LOG_IN, teamId=line.team_id)
        handed_over = await next_offer()  # once the grace of the gone agent ran out
    async with subscription(server, gone, OFFER_EVENTS, after=0) as gone_offers:
        first, taken_back = await gone_offers(), await gone_offers()
    session = await center.session(gone)

    assert (task["status"], task["agentId"], logged_in["__typename"]) == (
        "OFFERED",
        gone_id,
        "LogInSuccess",
    )
    assert (first["__typename"], first["taskId"]) == ("OfferMade", task["id"])
    assert (taken_back["offerId"], taken_back["outcome"]) == (first["offerId"], "SYSTEM")
    assert (handed_over["__typename"], handed_over["taskId"]) == ("OfferMade", task["id"])
    assert handed_over["offer"]["agentId"] == other_id
    # Not left to the RONA: handed over while the first offer still had most of its minute.
    assert moment(handed_over["offer"]["offeredAt"]) < moment(first["deadline"])
    assert handed_over["offer"]["queuedAt"] == task["queuedAt"]  # the task kept its age
    assert (session["state"], session["stateReason"], session["pendingOfferCount"]) == (
        "IDLE",
        "DISCONNECTED",
        0,
    )


# --- several instances ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_heartbeat(
    mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], Server]]:
    """Servers on one database of their own, heartbeat 0.2 s: a dead one's connections are stale
    (and swept by the others) within a second. Returns a function that starts one more."""
    database, started = f"presence_{uuid.uuid4().hex[:8]}", []
    log_dir: Path = tmp_path_factory.mktemp("presence")

    def start() -> Server:
        env = {"OMNIDESK_PRESENCE_HEARTBEAT_SECONDS": "0.2"}
        started.append(
            start_server(mongodb_url=mongodb_url, database=database, log_dir=log_dir, extra_env=env)
        )
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()


async def test_the_desktops_of_an_instance_that_crashed_count_as_gone(
    fast_heartbeat: Callable[[], Server],
) -> None:
    survivor, doomed = fast_heartbeat(), fast_heartbeat()
    org_id = new_org_id()
    desk = await desk_with_grace(survivor, org_id)
    agent_id = await desk.agent()
    bearer = desk.agent_token(agent_id)
    supervisor = token(org_id, Role.SUPERVISOR)

    async with agent_events(survivor, supervisor, agent_id, after=0) as next_event:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(websocket(doomed, bearer))
            await desk.ok(bearer, LOG_IN, teamId=desk.teams["Sales"])
            assert (await next_event())["__typename"] == "AgentLoggedIn"
            doomed.stop(signal.SIGKILL)  # no close reaches anybody: the socket just dies
        changed = await next_event()

    assert (changed["toState"], changed["reason"], changed["cause"]["kind"]) == (
        "IDLE",
        "DISCONNECTED",
        "SYSTEM",
    )
