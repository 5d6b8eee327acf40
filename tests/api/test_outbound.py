"""Outbound SMS and email conversations through the public API (SPEC §10; seeds 000, 001): the
procedure of starting one, and every refusal with its reason code."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.calls import participant
from tests.api.center import (
    ACCEPT_OFFER,
    AGENT_EVENTS,
    MY_SESSION,
    MY_TASKS,
    SET_STATE,
    Center,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.conversation_helpers import (
    Desk,
    agent,
    customer_email,
    customer_phone,
    desk,
    email,
    entry_point,
    failure,
    inbound_line,
    reply,
    sms,
    start,
    violation,
)
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def setup(center: Center) -> Desk:
    return await desk(center)


async def test_an_agent_starts_an_sms_conversation_connected_and_already_accepted(
    setup: Desk,
) -> None:
    """Seed 000 steps 3-6: channel, To, From (entry point), New SMS: the task is created and
    accepted at once, the first message sent with it."""
    center = setup.center
    agent_id, bearer = await agent(setup)
    to = customer_phone()

    outcome = await start(
        center,
        bearer,
        channel="SMS",
        to=to,
        entryPointId=setup.sms_entry_point,
        text="Hi!",
        customerName="Ada",
    )

    assert outcome["__typename"] == "StartOutboundConversationSuccess", outcome
    task = outcome["task"]
    assert (task["channel"], task["direction"], task["status"]) == ("SMS", "OUTBOUND", "CONNECTED")
    assert (task["agentId"], task["entryPointId"]) == (agent_id, setup.sms_entry_point)
    assert [p["role"] for p in task["participants"]] == ["CUSTOMER", "PRIMARY_AGENT"]
    assert participant(task, "CUSTOMER")["address"] == to
    assert task["customer"]["name"] == "Ada"
    assert task["customer"]["customerId"]
    message = outcome["firstMessage"]
    assert (message["taskId"], message["sender"], message["agentId"], message["text"]) == (
        task["id"],
        "AGENT",
        agent_id,
        "Hi!",
    )
    assert message["delivery"] == "PENDING"
    assert task["sessionId"] == task["id"]
    glance = await center.query(bearer, MY_TASKS)
    assert [(g["channel"], [t["id"] for t in g["tasks"]]) for g in glance] == [
        ("SMS", [task["id"]])
    ]
    session = await center.session(bearer)
    assert (session["state"], session["activeTaskCount"]) == ("AVAILABLE", 1)


async def test_an_email_conversation_carries_its_subject_and_needs_one(setup: Desk) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    to = customer_email()

    missing = await start(center, bearer, channel="EMAIL", to=to, text="Hello")
    task = await email(setup, bearer, to, "Your order 1234")

    assert violation(missing) == ("subject", "required")
    assert (task["channel"], task["subject"], task["status"]) == (
        "EMAIL",
        "Your order 1234",
        "CONNECTED",
    )


async def test_without_an_active_outbound_entry_point_the_start_is_refused(
    center: Center,
) -> None:
    """Seed 000 step 5: with no entry point configured no outbound conversation can start."""
    only_inbound = await desk(center, outbound=False)
    _, bearer = await agent(only_inbound)

    outcome = await start(center, bearer, channel="SMS", to=customer_phone(), text="Hi")
    unknown = await start(
        center, bearer, channel="SMS", to=customer_phone(), entryPointId="nope", text="Hi"
    )

    assert failure(outcome) == ("RejectedError", "NO_ENTRY_POINT")
    assert violation(unknown) == ("entryPointId", "reference")


async def test_the_profile_outbound_limit_refuses_one_more(setup: Desk) -> None:
    """Seed 000 step 3: at the profile's maximum of outbound tasks, no more start; a profile
    without outbound on the channel allows none."""
    center = setup.center
    _, bearer = await agent(setup, sms=(3, 1), email=(2, 0))

    await sms(setup, bearer, customer_phone())
    second = await start(center, bearer, channel="SMS", to=customer_phone(), text="Hi")
    no_email = await start(
        center, bearer, channel="EMAIL", to=customer_email(), subject="S", text="Hi"
    )

    assert failure(second) == ("RejectedError", "OUTBOUND_LIMIT_REACHED")
    assert failure(no_email) == ("RejectedError", "OUTBOUND_LIMIT_REACHED")
    assert (await center.session(bearer))["activeTaskCount"] == 1


async def test_one_active_conversation_per_customer_address_and_entry_point(
    setup: Desk,
) -> None:
    """Seed 001 step 3: only a unique combination of the customer's number and the entry point;
    the number counts however it is written, whoever the agent."""
    center = setup.center
    _, first = await agent(setup)
    _, second = await agent(setup)
    to = customer_phone()
    spaced = f"{to[:3]} {to[3:7]}-{to[7:]}"
    other_entry_point = await entry_point(center, "SMS", "OUTBOUND", "+15550009999")

    await sms(setup, first, to, entryPointId=setup.sms_entry_point)
    again = await start(
        center, second, channel="SMS", to=spaced, entryPointId=setup.sms_entry_point, text="Hi"
    )
    elsewhere = await sms(setup, second, spaced, entryPointId=other_entry_point)

    assert failure(again) == ("RejectedError", "ACTIVE_CONVERSATION_EXISTS")
    assert elsewhere["entryPointId"] == other_entry_point


async def test_two_agents_starting_the_same_conversation_at_once_exactly_one_wins(
    setup: Desk,
) -> None:
    center = setup.center
    agents = [await agent(setup, sms=(10, 10)) for _ in range(2)]
    for _ in range(5):
        to = customer_phone()
        outcomes = await asyncio.gather(
            *(start(center, bearer, channel="SMS", to=to, text="Hi") for _, bearer in agents)
        )
        kinds = sorted(failure(o) for o in outcomes)
        assert kinds == [
            ("RejectedError", "ACTIVE_CONVERSATION_EXISTS"),
            ("StartOutboundConversationSuccess", ""),
        ], outcomes
    loads = [(await center.session(bearer))["activeTaskCount"] for _, bearer in agents]
    assert sum(loads) == 5


async def test_one_agent_starting_past_the_outbound_limit_at_once_gets_exactly_the_limit(
    setup: Desk,
) -> None:
    center = setup.center
    _, bearer = await agent(setup, sms=(5, 2))

    outcomes = await asyncio.gather(
        *(start(center, bearer, channel="SMS", to=customer_phone(), text="Hi") for _ in range(6))
    )

    assert (
        sorted(failure(o) for o in outcomes)
        == [("RejectedError", "OUTBOUND_LIMIT_REACHED")] * 4
        + [("StartOutboundConversationSuccess", "")] * 2
    )
    assert (await center.session(bearer))["activeTaskCount"] == 2


async def test_the_to_field_is_a_number_with_country_code_or_an_email_address(
    setup: Desk,
) -> None:
    """Seed 001 step 4."""
    center = setup.center
    _, bearer = await agent(setup)

    no_country = await start(center, bearer, channel="SMS", to="030 1234567", text="Hi")
    letters = await start(center, bearer, channel="SMS", to="+49 30 CALL ME", text="Hi")
    not_email = await start(
        center, bearer, channel="EMAIL", to="ada.example.org", subject="S", text="Hi"
    )
    chat = await start(center, bearer, channel="CHAT", to="ada", text="Hi")

    assert violation(no_country) == ("to", "country_code")
    assert violation(letters) == ("to", "phone")
    assert violation(not_email) == ("to", "email")
    assert violation(chat) == ("to", "conversation_channel")


async def test_an_idle_agent_cannot_start_one_an_agent_on_a_call_can(setup: Desk) -> None:
    """Seed 000: from AVAILABLE or RONA, whether on a voice call, digital work or idle without
    tasks (an exclusive-voice profile does not stop it)."""
    center = setup.center
    _, bearer = await agent(setup, mode="EXCLUSIVE")
    code = await idle_code(center)
    changed = await center.call(bearer, SET_STATE, state="IDLE", idleCodeId=code)
    assert changed["__typename"] == "SetAgentStateSuccess", changed

    idle = await start(center, bearer, channel="SMS", to=customer_phone(), text="Hi")

    assert failure(idle) == ("InvalidStateError", "INVALID_STATE")
    assert idle["currentState"] == "IDLE"
    back = await center.call(bearer, SET_STATE, state="AVAILABLE")
    assert back["__typename"] == "SetAgentStateSuccess", back
    first = await sms(setup, bearer, customer_phone())
    second = await email(setup, bearer, customer_email(), "Follow-up")
    assert {first["status"], second["status"]} == {"CONNECTED"}
    assert (await center.query(bearer, MY_SESSION))["activeTaskCount"] == 2


async def test_a_full_channel_refuses_with_capacity_exceeded(setup: Desk) -> None:
    """Outbound tasks count against the channel's capacity as well as its outbound limit."""
    center = setup.center
    _, bearer = await agent(setup, sms=(2, 2))
    inbound = await reply(setup, "SMS", customer_phone(), "Hello, anyone?")
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=inbound["task"]["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    await sms(setup, bearer, customer_phone())

    outcome = await start(center, bearer, channel="SMS", to=customer_phone(), text="Hi")

    assert failure(outcome) == ("RejectedError", "CAPACITY_EXCEEDED")
    assert (await center.session(bearer))["activeTaskCount"] == 2


async def test_a_repeated_start_with_the_same_key_returns_the_first_conversation(
    setup: Desk,
) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    to = customer_phone()
    fields = {"channel": "SMS", "to": to, "text": "Hi", "idempotencyKey": "start-1"}

    first, repeat = [await start(center, bearer, **fields) for _ in range(2)]
    changed = await start(center, bearer, **(fields | {"text": "Other"}))

    assert first["__typename"] == "StartOutboundConversationSuccess", first
    assert repeat == first
    assert violation(changed) == ("idempotencyKey", "reused")
    assert (await center.session(bearer))["activeTaskCount"] == 1


async def test_an_agent_in_rona_can_start_one(setup: Desk) -> None:
    """Seed 000: "in the Available or RONA state"."""
    center = setup.center
    line = await inbound_line(center, "CHAT", setup.team_id, offer_timeout=5)
    agent_id, bearer = await agent(setup, chat=(1, 0))
    async with subscription(
        center.server, center.supervisor, AGENT_EVENTS, agentId=agent_id, after=0
    ) as next_event:
        missed = await center.report(line)
        assert missed["status"] == "OFFERED", missed
        await next_matching(next_event, lambda e: e.get("toState") == "RONA")

    task = await sms(setup, bearer, customer_phone())

    assert (await center.session(bearer))["state"] == "RONA"
    assert (task["status"], task["agentId"]) == ("CONNECTED", agent_id)
