"""Deactivating an agent who is logged in, through the public API (SPEC §2, §3): the agent's pending
offers end SYSTEM and their tasks go to other agents at once, keeping their age; the agent is logged
out by the system (reason AGENT_DEACTIVATED) or, with a task still active, gets LOGOUT as a next
state nobody can withdraw and no new offers until its last task is wrapped up. Raced against
acceptOffer and against logging in."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from tests.api.calls import END_CALL, SUBMIT_WRAP_UP, moved, wrap_up_code
from tests.api.center import (
    ABANDON_CONTACT,
    ACCEPT_OFFER,
    OFFER_EVENTS,
    REQUEST_CONTACT,
    Center,
    Line,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.server import Server
from tests.api.test_agent_states import (
    AGENT_EVENTS,
    CANCEL_NEXT_STATE,
    LOG_IN,
    LOG_OUT,
    MY_SESSION,
    SET_NEXT_STATE,
)

ROUNDS = 3
PAIRS = 8  # agents per round, each raced by its own deactivation
DEACTIVATION = {"kind": "SYSTEM", "id": "agent-deactivation"}


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def chat_line(center: Center, chats: int = 1) -> tuple[Line, str]:
    """A chat line whose offers stay open a minute (no RONA interferes) and a profile of
    ``chats`` chats."""
    return await center.line("CHAT", offer_timeout=60), await center.profile(voice=0, chat=chats)


async def deactivate(center: Center, agent_id: str) -> dict[str, Any]:
    return await center.admin.run("Deactivate", "Agent", id=agent_id)


async def my_session(center: Center, bearer: str) -> dict[str, Any]:
    return await center.query(bearer, MY_SESSION)


def of_type(typename: str) -> Any:
    return lambda event: event["__typename"] == typename


async def test_a_deactivated_agents_pending_offer_goes_to_another_agent_and_it_is_logged_out(
    center: Center,
) -> None:
    line, profile = await chat_line(center)
    leaving_id = await center.agent(line.team_id, profile)
    staying_id = await center.agent(line.team_id, profile)
    leaving, staying = center.agent_token(leaving_id), center.agent_token(staying_id)
    server = center.server

    async with (
        subscription(server, leaving, OFFER_EVENTS, after=0) as leaving_offers,
        subscription(server, staying, OFFER_EVENTS, after=0) as staying_offers,
    ):
        assert (await center.call(leaving, LOG_IN, teamId=line.team_id))["__typename"] == (
            "LogInSuccess"
        )
        task = await center.report(line)
        made = await leaving_offers()
        assert (await center.call(staying, LOG_IN, teamId=line.team_id))["__typename"] == (
            "LogInSuccess"
        )
        deactivated = await deactivate(center, leaving_id)
        taken_back = await leaving_offers()
        handed_over = await staying_offers()
    watch = {"agentId": leaving_id, "after": 0}
    async with subscription(server, center.supervisor, AGENT_EVENTS, **watch) as events:
        logged_out = await next_matching(events, of_type("AgentLoggedOut"))
    session = await my_session(center, leaving)
    again = await center.call(leaving, LOG_IN, teamId=line.team_id)

    assert (deactivated["__typename"], deactivated["agent"]["active"]) == (
        "DeactivateAgentSuccess",
        False,
    )
    assert (task["status"], made["taskId"], made["offer"]["agentId"]) == (
        "OFFERED",
        task["id"],
        leaving_id,
    )
    assert (taken_back["__typename"], taken_back["offerId"], taken_back["outcome"]) == (
        "OfferEnded",
        made["offerId"],
        "SYSTEM",
    )
    assert taken_back["cause"] == DEACTIVATION
    assert (handed_over["__typename"], handed_over["taskId"]) == ("OfferMade", task["id"])
    offer = handed_over["offer"]
    assert (offer["agentId"], offer["queuedAt"]) == (staying_id, task["queuedAt"])
    assert (logged_out["fromState"], logged_out["reason"], logged_out["cause"]) == (
        "AVAILABLE",
        "AGENT_DEACTIVATED",
        DEACTIVATION,
    )
    assert (session["loggedIn"], session["stateReason"], session["stateChangedBy"]) == (
        False,
        "AGENT_DEACTIVATED",
        DEACTIVATION,
    )
    assert (again["__typename"], again["code"]) == ("ForbiddenError", "FORBIDDEN")


async def test_a_deactivated_agent_with_an_active_task_gets_no_new_offers_and_must_log_out(
    center: Center,
) -> None:
    line, profile = await chat_line(center, chats=2)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)
    first = await center.report(line)
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=first["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    lunch = await idle_code(center, "Lunch")

    deactivated = await deactivate(center, agent_id)
    session = await my_session(center, bearer)
    second = await center.report(line)  # the agent has room for one more chat
    one_more = await center.call(bearer, REQUEST_CONTACT)
    withdrawn = await center.call(bearer, CANCEL_NEXT_STATE)
    by_supervisor = await center.call(center.supervisor, CANCEL_NEXT_STATE, agentId=agent_id)
    replaced = await center.call(bearer, SET_NEXT_STATE, state="IDLE", idleCodeId=lunch)
    logged_out = await center.call(bearer, LOG_OUT)
    watch = {"agentId": agent_id, "after": 0}
    async with subscription(center.server, center.supervisor, AGENT_EVENTS, **watch) as events:
        next_state = await next_matching(events, of_type("AgentNextStateChanged"))

    assert deactivated["__typename"] == "DeactivateAgentSuccess"
    assert (session["loggedIn"], session["activeTaskCount"], session["nextState"]) == (
        True,
        1,
        {"state": "LOGOUT", "idleCodeId": None, "requestedBy": DEACTIVATION},
    )
    assert (next_state["nextState"], next_state["reason"], next_state["cause"]) == (
        "LOGOUT",
        "AGENT_DEACTIVATED",
        DEACTIVATION,
    )
    assert (second["status"], second["agentId"]) == ("QUEUED", None)
    assert (one_more["__typename"], one_more["code"]) == ("RejectedError", "CAPACITY_EXCEEDED")
    for refused in (withdrawn, by_supervisor, replaced, logged_out):
        assert (refused["__typename"], refused["currentState"]) == (
            "InvalidStateError",
            "AVAILABLE",
        )
    assert "system" in withdrawn["message"]
    assert "active" in logged_out["message"]
    assert (await my_session(center, bearer))["nextState"] == session["nextState"]

    # The chat ends and is wrapped up: the system's log-out applies with the last task.
    resolved = await wrap_up_code(center)
    await moved(center, bearer, END_CALL, taskId=first["id"])
    await moved(center, bearer, SUBMIT_WRAP_UP, taskId=first["id"], wrapUpCodeIds=[resolved])
    final = await my_session(center, bearer)
    assert (final["loggedIn"], final["activeTaskCount"], final["nextState"]) == (False, 0, None)
    assert (await center.task(second["id"]))["status"] == "QUEUED"  # nobody took it meanwhile


Call = Callable[[], Awaitable[dict[str, Any]]]


async def racing(
    deactivations: list[Call], others: list[Call]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pairs at once. The deactivations, all sent together, take turns (each appends to the
    organization's one configuration stream); each other request is sent as the deactivation ahead
    of its own returns, so it meets its own one in flight and which of them wins varies from pair
    to pair - no pause decides it."""
    sent = [asyncio.create_task(deactivation()) for deactivation in deactivations]

    async def when_due(index: int) -> dict[str, Any]:
        if index:
            await asyncio.wait([sent[index - 1]])
        return await others[index]()

    racers = await asyncio.gather(*(when_due(index) for index in range(len(others))))
    return list(await asyncio.gather(*sent)), list(racers)


async def agents_with_an_offer(center: Center, line: Line, profile: str) -> list[Agent]:
    agents = [await center.logged_in_agent(line.team_id, profile) for _ in range(PAIRS)]
    tasks = [await center.report(line) for _ in range(PAIRS)]
    offers = {task["agentId"]: task for task in tasks}
    assert set(offers) == {agent_id for agent_id, _ in agents}  # one offer each
    return [Agent(agent_id, bearer, offers[agent_id]) for agent_id, bearer in agents]


@dataclass
class Agent:
    id: str
    bearer: str
    task: dict[str, Any]


async def test_deactivation_racing_accept_offer_ends_the_offer_exactly_one_way(
    center: Center,
) -> None:
    line, profile = await chat_line(center)
    seen: Counter[str] = Counter()
    for _ in range(ROUNDS):
        agents = await agents_with_an_offer(center, line, profile)

        deactivated, accepted = await racing(
            [partial(deactivate, center, agent.id) for agent in agents],
            [
                partial(center.call, a.bearer, ACCEPT_OFFER, offerId=a.task["offerId"])
                for a in agents
            ],
        )

        assert {d["__typename"] for d in deactivated} == {"DeactivateAgentSuccess"}
        for agent, answer in zip(agents, accepted, strict=True):
            seen[await ended_one_way(center, agent, answer)] += 1
    assert sum(seen.values()) == ROUNDS * PAIRS
    assert set(seen) == {"ACCEPTED", "SYSTEM"}, seen  # both orders happened


async def ended_one_way(center: Center, agent: Agent, answer: dict[str, Any]) -> str:
    """Checks the offer's one outcome against the answer, the task and the session; returns it."""
    async with subscription(center.server, agent.bearer, OFFER_EVENTS, after=0) as offers:
        made, ended = await offers(), await offers()
    assert (made["__typename"], ended["__typename"], ended["offerId"]) == (
        "OfferMade",
        "OfferEnded",
        agent.task["offerId"],
    )
    task = await center.task(agent.task["id"])
    session = await my_session(center, agent.bearer)
    if answer["__typename"] == "AcceptOfferSuccess":
        assert ended["outcome"] == "ACCEPTED"
        assert (task["status"], task["agentId"]) == ("CONNECTED", agent.id)
        assert (session["loggedIn"], session["nextState"]["state"]) == (True, "LOGOUT")
    else:
        assert (answer["__typename"], answer["code"]) == ("RejectedError", "OFFER_EXPIRED")
        assert (ended["outcome"], ended["cause"]) == ("SYSTEM", DEACTIVATION)
        assert (task["status"], session["loggedIn"], session["stateReason"]) == (
            "QUEUED",
            False,
            "AGENT_DEACTIVATED",
        )
        gone = await center.call(center.connector, ABANDON_CONTACT, taskId=task["id"])
        assert gone["__typename"] == "AbandonContactSuccess"  # the next round starts empty
    return str(ended["outcome"])


async def test_deactivation_racing_log_in_never_leaves_the_agent_logged_in(
    center: Center,
) -> None:
    line, profile = await chat_line(center)
    seen: Counter[str] = Counter()
    for _ in range(ROUNDS):
        agent_ids = [await center.agent(line.team_id, profile) for _ in range(PAIRS)]
        bearers = [center.agent_token(agent_id) for agent_id in agent_ids]

        deactivated, logged_in = await racing(
            [partial(deactivate, center, agent_id) for agent_id in agent_ids],
            [partial(center.call, bearer, LOG_IN, teamId=line.team_id) for bearer in bearers],
        )

        assert {d["__typename"] for d in deactivated} == {"DeactivateAgentSuccess"}
        for bearer, outcome in zip(bearers, logged_in, strict=True):
            session = await my_session(center, bearer)
            if outcome["__typename"] == "LogInSuccess":
                assert (session["loggedIn"], session["stateReason"]) == (False, "AGENT_DEACTIVATED")
            else:
                assert (outcome["__typename"], outcome["code"]) == ("ForbiddenError", "FORBIDDEN")
                assert session is None  # never logged in
            seen[outcome["__typename"]] += 1
    assert set(seen) == {"LogInSuccess", "ForbiddenError"}, seen  # both orders happened
