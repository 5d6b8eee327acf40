"""Routing through the public API (SPEC §2, §3): who gets a contact (available longest, skills,
best skilled), which waiting contact goes first (queue priority, task priority, age), capacity per
channel and exclusive voice, states that receive nothing, log-out and next state against pending
offers, queue statistics — and many contacts routed at once without over-capacity or double
offers."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

from tests.api.center import (
    ABANDON_CONTACT,
    AGENT_EVENTS,
    DECLINE_OFFER,
    LOG_IN,
    LOG_OUT,
    OFFER_EVENTS,
    QUEUE_STATS,
    QUEUE_STATS_QUERY,
    SET_NEXT_STATE,
    SET_STATE,
    Center,
    NextItem,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def logged_in_idle(center: Center, team_id: str, profile: str, code: str) -> tuple[str, str]:
    agent_id = await center.agent(team_id, profile)
    bearer = center.agent_token(agent_id)
    outcome = await center.call(bearer, LOG_IN, teamId=team_id, idleCodeId=code)
    assert (outcome["__typename"], outcome["agentSession"]["state"]) == ("LogInSuccess", "IDLE")
    return agent_id, bearer


async def ok(center: Center, bearer: str, operation: str, **fields: Any) -> dict[str, Any]:
    outcome = await center.call(bearer, operation, **fields)
    assert outcome["__typename"].endswith("Success"), outcome
    return outcome


async def abandon(center: Center, task_id: str) -> None:
    await ok(center, center.connector, ABANDON_CONTACT, taskId=task_id)


async def session_events(next_event: NextItem) -> dict[str, Any]:
    """The next event of an agent's session (configuration changes skipped)."""
    return await next_matching(next_event, lambda e: e["__typename"] != "AgentConfigurationChanged")


# --- who gets a contact ----------------------------------------------------------------------


async def test_contacts_go_to_the_agent_available_longest_and_a_served_agent_goes_to_the_back(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=3)
    code = await idle_code(center)
    # Ada logs in first but IDLE: what counts is since when an agent is AVAILABLE.
    ada, ada_bearer = await logged_in_idle(center, line.team_id, profile, code)
    bob, _ = await center.logged_in_agent(line.team_id, profile)
    cyd, _ = await center.logged_in_agent(line.team_id, profile)
    await ok(center, ada_bearer, SET_STATE, state="AVAILABLE")

    tasks = [await center.report(line) for _ in range(7)]

    assert [task["status"] for task in tasks] == ["OFFERED"] * 7
    assert [task["agentId"] for task in tasks] == [bob, cyd, ada, bob, cyd, ada, bob]


async def test_a_queue_requiring_a_skill_level_reaches_only_agents_holding_it(
    center: Center,
) -> None:
    line = await center.line("CHAT", requiredSkills=[{"name": "spanish", "minLevel": 5}])
    profile = await center.profile(voice=0, chat=1)
    _, novice_bearer = await center.logged_in_agent(
        line.team_id, profile, skills=[{"name": "spanish", "level": 3}]
    )
    _, unskilled_bearer = await center.logged_in_agent(
        line.team_id, profile, skills=[{"name": "french", "level": 9}]
    )
    expert, _ = await center.logged_in_agent(  # skill names match ignoring case
        line.team_id, profile, skills=[{"name": "Spanish", "level": 7}]
    )

    first = await center.report(line)
    second = await center.report(line)

    assert (first["status"], first["agentId"]) == ("OFFERED", expert)
    assert (second["status"], second["agentId"]) == ("QUEUED", None)
    assert await center.pending_offers(novice_bearer) == []
    assert await center.pending_offers(unskilled_bearer) == []


async def test_best_skilled_routing_prefers_the_highest_level_over_the_longest_available(
    center: Center,
) -> None:
    line = await center.line(
        "CHAT",
        routingStrategy="BEST_SKILLED",
        requiredSkills=[{"name": "billing", "minLevel": 2}],
    )
    profile = await center.profile(voice=0, chat=1)
    levels = (2, 9, 4)  # logged in in this order: the level-2 agent is available longest
    agents = [
        (
            await center.logged_in_agent(
                line.team_id, profile, skills=[{"name": "billing", "level": level}]
            )
        )[0]
        for level in levels
    ]
    by_level = dict(zip(levels, agents, strict=True))

    tasks = [await center.report(line) for _ in range(3)]

    assert [task["agentId"] for task in tasks] == [by_level[9], by_level[4], by_level[2]]


# --- which contact goes first ----------------------------------------------------------------


async def test_an_idle_agent_gets_nothing_and_on_becoming_available_gets_waiting_work_in_order(
    center: Center,
) -> None:
    """Queue priority (1 first), then task priority, then age. The agent takes one chat at a time;
    each customer leaves once offered, which frees the agent for the next contact."""
    team = await center.admin.team("Both queues")
    urgent = await center.line("CHAT", team_id=team, priority=1)
    normal = await center.line("CHAT", team_id=team, priority=5)
    profile = await center.profile(voice=0, chat=1)
    _, bearer = await logged_in_idle(center, team, profile, await idle_code(center))

    normal_5_old = await center.report(normal, priority=5)
    urgent_5_old = await center.report(urgent, priority=5)
    normal_1 = await center.report(normal, priority=1)
    urgent_9 = await center.report(urgent, priority=9)
    urgent_5_new = await center.report(urgent, priority=5)
    normal_5_new = await center.report(normal, priority=5)
    urgent_1 = await center.report(urgent, priority=1)
    expected = [
        urgent_1,
        urgent_5_old,
        urgent_5_new,
        urgent_9,
        normal_1,
        normal_5_old,
        normal_5_new,
    ]
    assert {task["status"] for task in expected} == {"QUEUED"}
    assert await center.pending_offers(bearer) == []

    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        await ok(center, bearer, SET_STATE, state="AVAILABLE")
        # Routing followed the state change before the mutation answered: no sweep involved.
        assert (await center.session(bearer))["pendingOfferCount"] == 1
        offered: list[str] = []
        for _ in expected:
            made = await next_offer()
            assert made["__typename"] == "OfferMade", made
            offered.append(made["taskId"])
            await abandon(center, made["taskId"])
            ended = await next_offer()
            assert (ended["__typename"], ended["taskId"], ended["outcome"]) == (
                "OfferEnded",
                made["taskId"],
                "WITHDRAWN",
            )
            assert ended["cause"]["kind"] == "CUSTOMER"

    assert offered == [task["id"] for task in expected]


# --- capacity and voice modes -----------------------------------------------------------------


async def test_each_channel_is_offered_up_to_its_profile_capacity_and_blended_voice_mixes(
    center: Center,
) -> None:
    team = await center.admin.team("Blended")
    chat = await center.line("CHAT", team_id=team)
    email = await center.line("EMAIL", team_id=team)
    voice = await center.line("VOICE", team_id=team)
    profile = await center.profile(voice=1, chat=2, email=1, mode="BLENDED")
    agent_id, bearer = await center.logged_in_agent(team, profile)

    chats = [await center.report(chat) for _ in range(3)]
    emails = [await center.report(email) for _ in range(2)]
    calls = [await center.report(voice) for _ in range(2)]

    assert [t["status"] for t in chats] == ["OFFERED", "OFFERED", "QUEUED"]
    assert [t["status"] for t in emails] == ["OFFERED", "QUEUED"]
    assert [t["status"] for t in calls] == ["OFFERED", "QUEUED"]
    assert {t["agentId"] for t in chats + emails + calls} == {agent_id, None}
    session = await center.session(bearer)
    assert (session["pendingOfferCount"], session["activeTaskCount"]) == (4, 0)
    pending = await center.pending_offers(bearer)
    assert collections.Counter(offer["channel"] for offer in pending) == {
        "CHAT": 2,
        "EMAIL": 1,
        "VOICE": 1,
    }


async def test_exclusive_voice_keeps_calls_and_digital_work_apart(center: Center) -> None:
    team = await center.admin.team("Exclusive")
    voice = await center.line("VOICE", team_id=team)
    chat = await center.line("CHAT", team_id=team)
    profile = await center.profile(voice=1, chat=3, mode="EXCLUSIVE")
    agent_id, _ = await center.logged_in_agent(team, profile)

    # Offered a call: no chat meanwhile, although chat capacity is free.
    call = await center.report(voice)
    waiting_chat = await center.report(chat)
    assert (call["status"], call["agentId"]) == ("OFFERED", agent_id)
    assert waiting_chat["status"] == "QUEUED"

    # The caller hangs up: the chat comes at once; now no call meanwhile.
    await abandon(center, call["id"])
    chat_task = await center.task(waiting_chat["id"])
    assert (chat_task["status"], chat_task["agentId"]) == ("OFFERED", agent_id)
    second_call = await center.report(voice)
    assert second_call["status"] == "QUEUED"
    more_chat = await center.report(chat)
    assert (more_chat["status"], more_chat["agentId"]) == ("OFFERED", agent_id)

    # Digital work gone: the call is offered.
    await abandon(center, waiting_chat["id"])
    still_waiting = await center.task(second_call["id"])
    assert still_waiting["status"] == "QUEUED"
    await abandon(center, more_chat["id"])
    offered_call = await center.task(second_call["id"])
    assert (offered_call["status"], offered_call["agentId"]) == ("OFFERED", agent_id)


# --- log-out and next state against pending offers --------------------------------------------


async def test_log_out_is_refused_while_an_offer_is_pending_and_allowed_once_it_ended(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=1)
    code = await idle_code(center)
    _, bearer = await center.logged_in_agent(line.team_id, profile)
    task = await center.report(line)
    [offer] = await center.pending_offers(bearer)

    refused = await center.call(bearer, LOG_OUT)
    assert (refused["__typename"], refused["code"], refused["currentState"]) == (
        "InvalidStateError",
        "INVALID_STATE",
        "AVAILABLE",
    )
    assert "offer is pending" in refused["message"]

    # IDLE changes nothing: the offer is still there to answer.
    await ok(center, bearer, SET_STATE, state="IDLE", idleCodeId=code)
    refused_idle = await center.call(bearer, LOG_OUT)
    assert (refused_idle["__typename"], refused_idle["currentState"]) == (
        "InvalidStateError",
        "IDLE",
    )

    await ok(center, bearer, DECLINE_OFFER, offerId=offer["id"])
    assert (await center.task(task["id"]))["status"] == "QUEUED"  # not offered to an IDLE agent
    logged_out = await ok(center, bearer, LOG_OUT)
    assert (logged_out["agentSession"]["loggedIn"], logged_out["agentSession"]["state"]) == (
        False,
        None,
    )


@pytest.mark.parametrize("ending", ["DECLINED", "WITHDRAWN"])
async def test_log_out_asked_as_next_state_applies_as_the_pending_offer_ends(
    center: Center, ending: str
) -> None:
    """No new offers while the log-out is pending (though capacity is free); when the offer ends —
    declined by the agent or withdrawn as the customer leaves — the log-out applies in the same
    change. (The RONA case is in ``test_rona.py``.)"""
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=2)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)

    async with (
        subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer,
        subscription(center.server, bearer, AGENT_EVENTS, after=0) as next_event,
    ):
        first = await center.report(line)
        made = await next_offer()
        assert (made["__typename"], made["taskId"]) == ("OfferMade", first["id"])
        await ok(center, bearer, SET_NEXT_STATE, state="LOGOUT")
        second = await center.report(line)
        assert second["status"] == "QUEUED"

        if ending == "DECLINED":
            await ok(center, bearer, DECLINE_OFFER, offerId=made["offerId"])
        else:
            await abandon(center, first["id"])
        ended = await next_offer()
        assert (ended["__typename"], ended["offerId"], ended["outcome"]) == (
            "OfferEnded",
            made["offerId"],
            ending,
        )
        history = [await session_events(next_event) for _ in range(3)]
        assert [(e["__typename"], e["reason"]) for e in history] == [
            ("AgentLoggedIn", "LOGIN"),
            ("AgentNextStateChanged", "AGENT_REQUEST"),
            ("AgentLoggedOut", "NEXT_STATE_APPLIED"),
        ]
        assert history[1]["nextState"] == "LOGOUT"
        session = await center.session(bearer)
        assert (session["loggedIn"], session["pendingOfferCount"]) == (False, 0)
        assert (await center.task(second["id"]))["status"] == "QUEUED"

        # Nothing reached the agent in between: logging in again, the very next offer event is
        # the waiting work.
        await ok(center, bearer, LOG_IN, teamId=line.team_id)
        relogged = await session_events(next_event)
        assert (relogged["__typename"], relogged["seq"]) == (
            "AgentLoggedIn",
            history[-1]["seq"] + 1,
        )
        again = await next_offer()
        waiting_first = first["id"] if ending == "DECLINED" else second["id"]
        assert (again["__typename"], again["taskId"], again["seq"]) == (
            "OfferMade",
            waiting_first,
            ended["seq"] + 1,
        )
    assert agent_id == made["offer"]["agentId"]


# --- queue statistics ---------------------------------------------------------------------------


def figures(stats: dict[str, Any]) -> tuple[int, dict[str, int]]:
    [queue] = stats["queues"]
    return queue["waiting"], {count["state"]: count["agents"] for count in queue["agents"]}


async def test_queue_stats_push_the_current_snapshot_first_then_each_change(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=1)
    code = await idle_code(center)
    _, ada = await logged_in_idle(center, line.team_id, profile, code)
    first_task = await center.report(line)

    async with subscription(
        center.server, center.supervisor, QUEUE_STATS, queueIds=[line.queue_id]
    ) as next_stats:
        seen = [await next_stats()]
        assert figures(seen[0]) == (1, {"AVAILABLE": 0, "IDLE": 1, "RONA": 0})
        oldest = seen[0]["queues"][0]["oldestQueuedAt"]
        assert datetime.fromisoformat(oldest) == datetime.fromisoformat(first_task["queuedAt"])

        async def pushed(expected: tuple[int, dict[str, int]]) -> None:
            seen.append(await next_matching(next_stats, lambda s: figures(s) == expected))

        await center.report(line)
        await pushed((2, {"AVAILABLE": 0, "IDLE": 1, "RONA": 0}))
        await logged_in_idle(center, line.team_id, profile, code)
        await pushed((2, {"AVAILABLE": 0, "IDLE": 2, "RONA": 0}))
        await ok(center, ada, SET_STATE, state="AVAILABLE")  # and takes the oldest chat
        await pushed((1, {"AVAILABLE": 1, "IDLE": 1, "RONA": 0}))

    # Only changes are pushed: no two consecutive snapshots show the same figures.
    shown = [figures(stats) for stats in seen]
    assert all(a != b for a, b in itertools.pairwise(shown))
    queried = await center.query(center.supervisor, QUEUE_STATS_QUERY, queueIds=[line.queue_id])
    assert figures(queried) == (1, {"AVAILABLE": 1, "IDLE": 1, "RONA": 0})


# --- many contacts at once ------------------------------------------------------------------------

AGENTS = 20
CONTACTS = 300
# Bounded: reports racing for the same longest-available agent retry their whole transaction.
REPORTING_AT_ONCE = 20
# Lean operations: this test is about who gets what, not about the payloads.
REPORT_LEAN = """
mutation($input: ReportContactInput!) {
  reportContact(input: $input) {
    __typename ... on Error { code message } ... on ReportContactSuccess { task { id status } }
  }
}"""
ACCEPT_LEAN = """
mutation($input: AcceptOfferInput!) {
  acceptOffer(input: $input) {
    __typename ... on Error { code message } ... on AcceptOfferSuccess { task { id status } }
  }
}"""
OFFER_STREAM = """
subscription($after: Int) {
  offers(after: $after) {
    __typename
    ... on OfferMade { offerId taskId }
    ... on OfferEnded { offerId taskId outcome }
  }
}"""
MY_TASK_IDS = "{ myTasks { channel tasks { id status agentId } } }"

Call = Callable[..., Awaitable[dict[str, Any]]]


@dataclass
class Desk:
    """One agent's view of its offers stream, checked at every event."""

    agent_id: str
    bearer: str
    capacity: int
    pending: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)


@dataclass
class Ledger:
    """Across all agents: which tasks have an open offer, and every offer made per task."""

    open_offer: dict[str, str] = field(default_factory=dict)
    offers_per_task: collections.Counter[str] = field(default_factory=collections.Counter)
    violations: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def http_session(server: Server, bearer: str) -> AsyncIterator[Call]:
    """One HTTP client for many calls (a client per call costs more than the call itself)."""
    transport = HTTPXAsyncTransport(
        url=server.http_url, headers={"Authorization": f"Bearer {bearer}"}, timeout=30
    )
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:

        async def call(operation: str, **fields: Any) -> dict[str, Any]:
            request = GraphQLRequest(operation, variable_values={"input": fields})
            result = await session.execute(request)
            return next(iter(result.values()))

        yield call


async def work_offers(center: Center, desk: Desk, ledger: Ledger) -> None:
    """Accept every offer as it arrives until the agent's capacity is used."""
    async with (
        subscription(center.server, desk.bearer, OFFER_STREAM, after=0) as next_offer,
        http_session(center.server, desk.bearer) as call,
    ):
        while len(desk.accepted) < desk.capacity:
            event = await next_offer()
            task_id = event["taskId"]
            if event["__typename"] == "OfferMade":
                if len(desk.pending) + len(desk.accepted) >= desk.capacity:
                    ledger.violations.append(f"{desk.agent_id} over capacity {desk.capacity}")
                if task_id in ledger.open_offer:
                    ledger.violations.append(f"{task_id} offered to two agents at once")
                ledger.open_offer[task_id] = desk.agent_id
                ledger.offers_per_task[task_id] += 1
                desk.pending.add(event["offerId"])
                accepted = await call(ACCEPT_LEAN, offerId=event["offerId"])
                assert accepted["__typename"] == "AcceptOfferSuccess", accepted
            else:
                assert (event["__typename"], event["outcome"]) == ("OfferEnded", "ACCEPTED")
                desk.pending.remove(event["offerId"])
                ledger.open_offer.pop(task_id, None)
                desk.accepted.add(task_id)


async def test_many_contacts_reported_at_once_never_overload_an_agent_nor_double_offer_a_task(
    center: Center,
) -> None:
    line = await center.line("CHAT", offer_timeout=600)
    capacities = [1 + i for i in range(AGENTS)]  # 1 to 20 chats: 210 in all, 90 contacts wait
    profiles = {c: await center.profile(voice=0, chat=c) for c in capacities}
    logged = await asyncio.gather(
        *(center.logged_in_agent(line.team_id, profiles[c]) for c in capacities)
    )
    desks = [
        Desk(agent_id, bearer, c) for (agent_id, bearer), c in zip(logged, capacities, strict=True)
    ]
    ledger = Ledger()
    gate = asyncio.Semaphore(REPORTING_AT_ONCE)
    reported: list[str] = []

    async def report(connector: Call, index: int) -> None:
        contact = {"entryPointId": line.entry_point_id, "customer": {"name": f"Customer {index}"}}
        async with gate:
            outcome = await connector(REPORT_LEAN, **contact)
        assert outcome["__typename"] == "ReportContactSuccess", outcome
        reported.append(outcome["task"]["id"])

    async with (
        http_session(center.server, center.connector) as connector,
        asyncio.TaskGroup() as group,
    ):
        for desk in desks:
            group.create_task(work_offers(center, desk, ledger))
        for index in range(CONTACTS):
            group.create_task(report(connector, index))

    assert ledger.violations == []
    total = sum(capacities)
    assert (len(ledger.offers_per_task), max(ledger.offers_per_task.values())) == (total, 1)
    assert ledger.open_offer == {}
    for desk in desks:
        session = await center.session(desk.bearer)
        assert (session["activeTaskCount"], session["pendingOfferCount"]) == (desk.capacity, 0)
        [chats] = await center.query(desk.bearer, MY_TASK_IDS)
        assert {(t["id"], t["status"], t["agentId"]) for t in chats["tasks"]} == {
            (task_id, "CONNECTED", desk.agent_id) for task_id in desk.accepted
        }

    accepted = {task_id for desk in desks for task_id in desk.accepted}
    never_offered = [task_id for task_id in reported if task_id not in accepted]
    assert len(never_offered) == CONTACTS - total
    for task_id in never_offered:
        assert (await center.task(task_id))["status"] == "QUEUED"
    stats = await center.query(center.supervisor, QUEUE_STATS_QUERY, queueIds=[line.queue_id])
    assert figures(stats) == (CONTACTS - total, {"AVAILABLE": AGENTS, "IDLE": 0, "RONA": 0})
