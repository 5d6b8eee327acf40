"""Transfer and conference rules of outbound conversations (issue #7, SPEC §10, seed 001): no
conference; one transfer at a time; a transferred outbound conversation that its target declines
or does not answer (RONA) is dropped — closed, not requeued — and the agents see why."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.api.calls import SUBMIT_WRAP_UP
from tests.api.center import DECLINE_OFFER, Center, next_matching, subscription
from tests.api.chat_helpers import (
    REQUEST_CHAT_CONFERENCE,
    TRANSFER_CONVERSATION,
    conversation,
)
from tests.api.conversation_helpers import Desk, agent, customer_phone, desk, profile, sms
from tests.api.server import Server
from tests.api.test_consult_conference import CONSULT_OFFERS, offer_made


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def outbound_sms(center: Center) -> tuple[Desk, str, str, str]:
    """An outbound SMS conversation (desk, agent id, bearer, task id)."""
    setup = await desk(center)
    agent_id, bearer = await agent(setup)
    task = await sms(setup, bearer, customer_phone(), text="Ihr Termin ist morgen.")
    return setup, agent_id, bearer, str(task["id"])


async def transfer(center: Center, bearer: str, task_id: str, kind: str, to: str) -> dict[str, Any]:
    return await center.call(
        bearer, TRANSFER_CONVERSATION, taskId=task_id, destination={"kind": kind, "id": to}
    )


async def test_an_outbound_conversation_takes_no_conference(center: Center) -> None:
    setup, _, bearer, task_id = await outbound_sms(center)
    colleague_id, _ = await agent(setup)
    refused = await center.call(
        bearer, REQUEST_CHAT_CONFERENCE, taskId=task_id, agentId=colleague_id
    )
    assert (refused["__typename"], refused["code"]) == ("InvalidStateError", "INVALID_STATE")
    assert refused["currentState"] == "OUTBOUND"


async def test_a_declined_transfer_drops_the_outbound_conversation(center: Center) -> None:
    setup, _, bearer, task_id = await outbound_sms(center)
    target_id, target = await agent(setup)
    async with subscription(center.server, target, CONSULT_OFFERS, after=0) as next_offer:
        moved = await transfer(center, bearer, task_id, "AGENT", target_id)
        offer = await next_matching(next_offer, offer_made(task_id))
    assert moved["__typename"] == "TransferConversationSuccess", moved
    declined = await center.call(target, DECLINE_OFFER, offerId=offer["offerId"])
    assert declined["__typename"] == "DeclineOfferSuccess", declined
    task = await center.task(task_id)
    assert (task["status"], task["offerId"], task["agentId"]) == ("CLOSED", None, None)
    messages = await conversation(center, bearer, task_id)
    assert [(m["notice"], m["delivery"]) for m in messages if m["sender"] == "SYSTEM"] == [
        ("TRANSFERRED", "NONE"),  # an SMS customer is not texted system lines
        ("TRANSFER_NOT_ACCEPTED", "NONE"),
    ]
    assert (await center.session(target))["pendingOfferCount"] == 0
    wrapped = await center.call(
        bearer, SUBMIT_WRAP_UP, taskId=task_id, wrapUpCodeIds=[setup.wrap_up_code]
    )
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    assert (await center.session(bearer))["activeTaskCount"] == 0


async def test_a_transfer_nobody_answers_drops_the_outbound_conversation(center: Center) -> None:
    _, _, bearer, task_id = await outbound_sms(center)
    team = await center.admin.team(f"team-{uuid.uuid4().hex[:6]}")
    fast = await center.admin.make(
        "Queue",
        name=f"sms-fast-{uuid.uuid4().hex[:6]}",
        channel="SMS",
        teamIds=[team],
        offerTimeoutSeconds=5,  # the shortest allowed: this test waits for the RONA
    )
    _, absent = await center.logged_in_agent(team, await profile(center))
    async with subscription(center.server, absent, CONSULT_OFFERS, after=0) as next_offer:
        moved = await transfer(center, bearer, task_id, "QUEUE", fast["id"])
        assert moved["__typename"] == "TransferConversationSuccess", moved
        await next_matching(next_offer, offer_made(task_id))
        ended = await next_matching(next_offer, lambda e: e["__typename"] == "OfferEnded")
    assert ended["outcome"] == "RONA"
    task = await center.task(task_id)
    assert task["status"] == "CLOSED"
    messages = await conversation(center, bearer, task_id)
    assert [(m["notice"], m["delivery"]) for m in messages if m["sender"] == "SYSTEM"] == [
        ("TRANSFERRED", "NONE"),  # an SMS customer is not texted system lines
        ("TRANSFER_NOT_ACCEPTED", "NONE"),
    ]


async def test_an_outbound_conversation_is_transferred_once_at_a_time(center: Center) -> None:
    setup = await desk(center)
    for _ in range(3):
        _, bearer = await agent(setup)
        task_id = str((await sms(setup, bearer, customer_phone()))["id"])
        outcomes = await asyncio.gather(
            *(transfer(center, bearer, task_id, "QUEUE", setup.sms_queue) for _ in range(2))
        )
        kinds = sorted((o["__typename"], o.get("code", "")) for o in outcomes)
        assert kinds == [
            ("InvalidStateError", "INVALID_STATE"),
            ("TransferConversationSuccess", ""),
        ]
