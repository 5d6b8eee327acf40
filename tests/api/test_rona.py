"""RONA through the public API (SPEC §2, §3): an offer left unanswered past its deadline goes back to
the front of its queue and to another agent, the agent goes to RONA and gets nothing until they
pick a state, the agent and supervisors hear of it with the system as the cause; a log-out asked
as the next state applies as the offer goes RONA; and an accept racing the deadline ends the offer
exactly one way. Offer timeouts are the minimum (5 s), and scenarios run side by side."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.center import (
    ACCEPT_OFFER,
    AGENT_EVENTS,
    LOG_IN,
    RONA_EVENTS,
    SET_NEXT_STATE,
    SET_STATE,
    Center,
    NextItem,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.server import Server, new_org_id

TIMEOUT = 5  # the shortest offer timeout a queue may have
OFFERS = """
subscription($after: Int) {
  offers(after: $after) {
    __typename
    ... on Event { seq occurredAt cause { kind id } }
    ... on OfferMade { offerId taskId deadline offer { agentId queuedAt } }
    ... on OfferEnded { offerId taskId outcome }
  }
}"""


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def ok(center: Center, bearer: str, operation: str, **fields: Any) -> dict[str, Any]:
    outcome = await center.call(bearer, operation, **fields)
    assert outcome["__typename"].endswith("Success"), outcome
    return outcome


async def session_event(next_event: NextItem) -> dict[str, Any]:
    """The next event of an agent's session (configuration changes skipped)."""
    return await next_matching(next_event, lambda e: e["__typename"] != "AgentConfigurationChanged")


async def unanswered_offer_goes_rona_and_to_the_next_agent(center: Center) -> None:
    line = await center.line("CHAT", offer_timeout=TIMEOUT)
    profile = await center.profile(voice=0, chat=1)
    ada, ada_bearer = await center.logged_in_agent(line.team_id, profile)  # available longest
    bob, bob_bearer = await center.logged_in_agent(line.team_id, profile)
    server = center.server

    async with (
        subscription(server, ada_bearer, OFFERS, after=0) as ada_offers,
        subscription(server, ada_bearer, AGENT_EVENTS, after=0) as ada_events,
        subscription(server, bob_bearer, OFFERS, after=0) as bob_offers,
        subscription(
            server, center.supervisor, RONA_EVENTS, after=0, queueId=line.queue_id
        ) as rona_events,
    ):
        task = await center.report(line)
        made = await ada_offers()
        assert (made["__typename"], made["taskId"], task["agentId"]) == (
            "OfferMade",
            task["id"],
            ada,
        )

        # Ada does not answer. At the deadline the offer ends RONA, by the system.
        ended = await ada_offers()
        assert (ended["__typename"], ended["offerId"], ended["outcome"]) == (
            "OfferEnded",
            made["offerId"],
            "RONA",
        )
        assert ended["cause"]["kind"] == "SYSTEM"
        assert instant(ended["occurredAt"]) >= instant(made["deadline"])
        logged_in = await session_event(ada_events)
        went = await session_event(ada_events)
        assert logged_in["__typename"] == "AgentLoggedIn"
        assert (went["__typename"], went["fromState"], went["toState"], went["reason"]) == (
            "AgentStateChanged",
            "AVAILABLE",
            "RONA",
            "RONA",
        )
        assert went["cause"]["kind"] == "SYSTEM"
        rona = await rona_events()
        assert rona["__typename"] == "RonaEvent"
        assert (rona["offerId"], rona["taskId"], rona["agentId"], rona["channel"]) == (
            made["offerId"],
            task["id"],
            ada,
            "CHAT",
        )
        assert (rona["queueId"], rona["teamId"], rona["cause"]["kind"]) == (
            line.queue_id,
            line.team_id,
            "SYSTEM",
        )

        # The task goes to Bob, keeping its age.
        again = await bob_offers()
        assert (again["__typename"], again["taskId"], again["offer"]["agentId"]) == (
            "OfferMade",
            task["id"],
            bob,
        )
        assert again["offerId"] != made["offerId"]
        assert instant(again["offer"]["queuedAt"]) == instant(task["queuedAt"])
        await ok(center, bob_bearer, ACCEPT_OFFER, offerId=again["offerId"])

        # Ada, in RONA, gets nothing though she has room: the next contact waits.
        second = await center.report(line)
        assert second["status"] == "QUEUED"
        session = await center.session(ada_bearer)
        assert (session["state"], session["pendingOfferCount"]) == ("RONA", 0)

        # Back to AVAILABLE, she gets the waiting contact: her very next offer event.
        await ok(center, ada_bearer, SET_STATE, state="AVAILABLE")
        following = await ada_offers()
        assert (following["__typename"], following["taskId"], following["seq"]) == (
            "OfferMade",
            second["id"],
            ended["seq"] + 1,
        )
        await ok(center, ada_bearer, ACCEPT_OFFER, offerId=following["offerId"])


async def log_out_asked_as_next_state_applies_as_the_offer_goes_rona(center: Center) -> None:
    line = await center.line("CHAT", offer_timeout=TIMEOUT)
    profile = await center.profile(voice=0, chat=2)
    code = await idle_code(center)
    _, bearer = await center.logged_in_agent(line.team_id, profile)

    async with (
        subscription(center.server, bearer, OFFERS, after=0) as next_offer,
        subscription(center.server, bearer, AGENT_EVENTS, after=0) as next_event,
    ):
        first = await center.report(line)
        made = await next_offer()
        assert (made["__typename"], made["taskId"]) == ("OfferMade", first["id"])
        await ok(center, bearer, SET_NEXT_STATE, state="LOGOUT")
        second = await center.report(line)
        assert second["status"] == "QUEUED"  # room for it, but a log-out is pending

        ended = await next_offer()
        assert (ended["__typename"], ended["offerId"], ended["outcome"]) == (
            "OfferEnded",
            made["offerId"],
            "RONA",
        )
        history = [await session_event(next_event) for _ in range(3)]
        assert [(e["__typename"], e["reason"]) for e in history] == [
            ("AgentLoggedIn", "LOGIN"),
            ("AgentNextStateChanged", "AGENT_REQUEST"),
            ("AgentLoggedOut", "NEXT_STATE_APPLIED"),
        ]
        assert (history[1]["nextState"], history[2]["fromState"]) == ("LOGOUT", "AVAILABLE")
        session = await center.session(bearer)
        assert (session["loggedIn"], session["pendingOfferCount"]) == (False, 0)
        assert [(await center.task(t["id"]))["status"] for t in (first, second)] == [
            "QUEUED",
            "QUEUED",
        ]

        # No RONA state change followed the log-out: logging in again (IDLE) is the next event.
        await ok(center, bearer, LOG_IN, teamId=line.team_id, idleCodeId=code)
        relogged = await session_event(next_event)
        assert (relogged["__typename"], relogged["seq"]) == (
            "AgentLoggedIn",
            history[-1]["seq"] + 1,
        )


async def test_an_unanswered_offer_goes_rona_to_the_next_agent_and_applies_a_pending_log_out(
    server: Server,
) -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(
            unanswered_offer_goes_rona_and_to_the_next_agent(Center(server, new_org_id()))
        )
        group.create_task(
            log_out_asked_as_next_state_applies_as_the_offer_goes_rona(Center(server, new_org_id()))
        )


# --- accept racing the deadline ------------------------------------------------------------------

# Seconds from each offer's deadline at which its accept is sent: clearly before, clearly after,
# and densely around the moment the request reaches the server as the deadline passes.
OFFSETS = (-0.3, -0.08, -0.06, -0.05, -0.04, -0.03, -0.02, -0.01, 0.0, 0.1)


async def accept_at(center: Center, bearer: str, made: dict[str, Any], offset: float) -> Any:
    """Send the accept at the offer's deadline (by the server's clock, which is this machine's)
    shifted by ``offset``: aiming the request is the point of the test, not a wait for an effect."""
    delay = (instant(made["deadline"]) - datetime.now(UTC)).total_seconds() + offset
    await asyncio.sleep(max(0.0, delay))
    return await center.call(bearer, ACCEPT_OFFER, offerId=made["offerId"])


async def test_an_accept_racing_the_deadline_ends_the_offer_exactly_one_way(
    center: Center,
) -> None:
    """Either the accept wins (the task is the agent's, no RONA) or the deadline does
    (OFFER_EXPIRED, one RONA, the task waits again) — never both, never neither."""
    line = await center.line("CHAT", offer_timeout=TIMEOUT)
    # The last word: an offer of another team expiring 2 s after the raced ones; once its RONA
    # event is in, no RONA of a raced offer can still come.
    last_word = await center.line("CHAT", offer_timeout=TIMEOUT + 2)
    racer, bearer = await center.logged_in_agent(
        line.team_id, await center.profile(voice=0, chat=len(OFFSETS))
    )
    await center.logged_in_agent(last_word.team_id, await center.profile(voice=0, chat=1))

    async with (
        subscription(center.server, bearer, OFFERS, after=0) as next_offer,
        subscription(center.server, center.supervisor, RONA_EVENTS, after=0) as rona_events,
    ):
        tasks = [await center.report(line) for _ in OFFSETS]
        sentinel = await center.report(last_word)
        assert [t["agentId"] for t in tasks] == [racer] * len(OFFSETS)
        assert sentinel["status"] == "OFFERED"
        made = [await next_offer() for _ in OFFSETS]
        assert [(m["__typename"], m["taskId"]) for m in made] == [
            ("OfferMade", t["id"]) for t in tasks
        ]

        results = await asyncio.gather(
            *(accept_at(center, bearer, m, offset) for m, offset in zip(made, OFFSETS, strict=True))
        )
        ended = [await next_offer() for _ in OFFSETS]
        outcomes = {e["offerId"]: e["outcome"] for e in ended if e["__typename"] == "OfferEnded"}
        expired = {offer_id for offer_id, outcome in outcomes.items() if outcome == "RONA"}
        ronas: list[str] = []
        while sentinel["offerId"] not in ronas or not expired <= set(ronas):
            ronas.append((await rona_events())["offerId"])

    assert len(outcomes) == len(OFFSETS)
    for offer, result in zip(made, results, strict=True):
        offer_id = offer["offerId"]
        task = await center.task(offer["taskId"])
        if result["__typename"] == "AcceptOfferSuccess":
            assert (outcomes[offer_id], ronas.count(offer_id)) == ("ACCEPTED", 0)
            assert (task["status"], task["agentId"]) == ("CONNECTED", racer)
        else:
            assert (result["__typename"], result["code"]) == ("RejectedError", "OFFER_EXPIRED")
            assert (outcomes[offer_id], ronas.count(offer_id)) == ("RONA", 1)
            assert (task["status"], task["agentId"]) == ("QUEUED", None)
