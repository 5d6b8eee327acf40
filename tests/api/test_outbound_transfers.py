"""Transferring an outbound conversation, end to end (SPEC §10; seed 001 "Transferir conversación
saliente"): to a queue or an agent, one move at a time, never a conference, and dropped when the
target does not accept. The moves are messaging's (transferConversation); the conversations and
their agents are ours."""

from __future__ import annotations

import pytest

from tests.api.calls import SUBMIT_WRAP_UP
from tests.api.center import ACCEPT_OFFER, DECLINE_OFFER, Center
from tests.api.chat_helpers import REQUEST_CHAT_CONFERENCE, TRANSFER_CONVERSATION
from tests.api.conversation_helpers import (
    Desk,
    agent,
    customer_phone,
    desk,
    failure,
    reply,
    sms,
    start,
)
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def setup(center: Center) -> Desk:
    return await desk(center)


async def transfer(center: Center, bearer: str, task_id: str, kind: str, target: str) -> dict:
    return await center.call(
        bearer, TRANSFER_CONVERSATION, taskId=task_id, destination={"kind": kind, "id": target}
    )


async def test_no_conference_on_an_outbound_conversation(setup: Desk) -> None:
    """Seed 001: a conference cannot be started for outbound conversations."""
    center = setup.center
    _, bearer = await agent(setup)
    colleague, _ = await agent(setup)
    task = await sms(setup, bearer, customer_phone())

    outcome = await center.call(
        bearer, REQUEST_CHAT_CONFERENCE, taskId=task["id"], agentId=colleague
    )

    assert failure(outcome) == ("InvalidStateError", "INVALID_STATE")
    assert outcome["currentState"] == "OUTBOUND"


async def test_a_transferred_conversation_the_agent_declines_is_dropped(setup: Desk) -> None:
    """Seed 001: the application drops the request if the agent does not accept the transferred
    conversation; the transferring agent wraps up."""
    center = setup.center
    _, bearer = await agent(setup)
    colleague, colleague_bearer = await agent(setup)
    phone = customer_phone()
    task = await sms(setup, bearer, phone)

    moved = await transfer(center, bearer, task["id"], "AGENT", colleague)
    again = await transfer(center, bearer, task["id"], "AGENT", colleague)
    offers = await center.pending_offers(colleague_bearer)
    declined = await center.call(colleague_bearer, DECLINE_OFFER, offerId=offers[0]["id"])
    dropped = await center.task(task["id"])
    wrapped = await center.call(
        bearer, SUBMIT_WRAP_UP, taskId=task["id"], wrapUpCodeIds=[setup.wrap_up_code]
    )
    came_back = await reply(setup, "SMS", phone, "Hello?")

    assert moved["__typename"] == "TransferConversationSuccess", moved
    assert failure(again) == ("InvalidStateError", "INVALID_STATE")
    assert [o["taskId"] for o in offers] == [task["id"]]
    assert declined["__typename"] == "DeclineOfferSuccess", declined
    assert (dropped["status"], dropped["agentId"]) == ("CLOSED", None)
    assert await center.pending_offers(colleague_bearer) == []
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    # The pair is free again: the customer's next message is a new contact.
    assert (came_back["newContact"], came_back["task"]["id"] != task["id"]) == (True, True)


async def test_a_transferred_conversation_the_agent_accepts_stays_outbound_and_theirs(
    setup: Desk,
) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    colleague, colleague_bearer = await agent(setup)
    phone = customer_phone()
    task = await sms(setup, bearer, phone)

    moved = await transfer(center, bearer, task["id"], "AGENT", colleague)
    offers = await center.pending_offers(colleague_bearer)
    accepted = await center.call(colleague_bearer, ACCEPT_OFFER, offerId=offers[0]["id"])
    duplicate = await start(center, bearer, channel="SMS", to=phone, text="Me again")
    answered = await reply(setup, "SMS", phone, "Thanks")

    assert moved["__typename"] == "TransferConversationSuccess", moved
    held = accepted["task"]
    assert (held["status"], held["agentId"]) == ("CONNECTED", colleague)
    assert (await center.task(task["id"]))["status"] == "CONNECTED"
    assert failure(duplicate) == ("RejectedError", "ACTIVE_CONVERSATION_EXISTS")
    assert (answered["task"]["id"], answered["task"]["direction"]) == (task["id"], "OUTBOUND")
