"""A chat conference against the other moves of seed 004 (issue #7, SPEC §10): the primary agent
cannot transfer while a conference is requested or going on; ending the chat or the customer
leaving during a conference lets every agent go; and the moves that race — the colleague accepting
while the primary ends the chat, two conference requests at once — settle on exactly one outcome,
with nobody's capacity left taken."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.api.calls import REPORT_CUSTOMER_LEFT
from tests.api.center import ACCEPT_OFFER, Center, next_matching, subscription
from tests.api.chat_helpers import (
    CONVERSATION,
    END_CONVERSATION,
    REQUEST_CHAT_CONFERENCE,
    SEND_MESSAGE,
    TRANSFER_CONVERSATION,
    chat_agent,
    conversation,
    notices,
    one_chat,
)
from tests.api.server import Server
from tests.api.test_consult_conference import CONSULT_OFFERS, offer_made


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


def code_of(outcome: dict[str, Any]) -> tuple[str, str]:
    return outcome["__typename"], outcome.get("code", "")


async def ask_in(center: Center, chat: Any, colleague: str, colleague_id: str) -> dict[str, Any]:
    """The primary asks ``colleague`` into the chat; returns the colleague's offer."""
    async with subscription(center.server, colleague, CONSULT_OFFERS, after=0) as next_offer:
        asked = await center.call(
            chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=colleague_id
        )
        assert asked["__typename"] == "RequestChatConferenceSuccess", asked
        return await next_matching(next_offer, offer_made())


async def in_conference(center: Center) -> tuple[Any, str, str]:
    """A chat in CONFERENCE: (the chat, the colleague's id, the colleague's bearer)."""
    line, chat = await one_chat(center)
    colleague_id, colleague = await chat_agent(center, line)
    offer = await ask_in(center, chat, colleague, colleague_id)
    joined = await center.call(colleague, ACCEPT_OFFER, offerId=offer["offerId"])
    assert joined["__typename"] == "AcceptOfferSuccess", joined
    return chat, colleague_id, colleague


async def transfer_to_queue(center: Center, chat: Any) -> dict[str, Any]:
    queue = (await center.task(chat.task_id))["queueId"]
    return await center.call(
        chat.bearer,
        TRANSFER_CONVERSATION,
        taskId=chat.task_id,
        destination={"kind": "QUEUE", "id": queue},
    )


async def test_no_transfer_while_a_conference_is_requested_or_going_on(center: Center) -> None:
    line, chat = await one_chat(center)
    colleague_id, colleague = await chat_agent(center, line)
    await ask_in(center, chat, colleague, colleague_id)
    requested = await transfer_to_queue(center, chat)
    assert code_of(requested) == ("InvalidStateError", "INVALID_STATE")
    assert requested["currentState"] == "CONFERENCE_REQUESTED"

    chat, _, _ = await in_conference(center)
    going_on = await transfer_to_queue(center, chat)
    assert code_of(going_on) == ("InvalidStateError", "INVALID_STATE")
    assert going_on["currentState"] == "CONFERENCE"
    task = await center.query(chat.bearer, CONVERSATION, id=chat.task_id)
    assert (task["status"], task["conferenceState"]) == ("CONNECTED", "CONFERENCE")


async def test_the_primary_ending_the_chat_ends_the_conference_for_everyone(
    center: Center,
) -> None:
    chat, _, colleague = await in_conference(center)
    ended = await center.call(chat.bearer, END_CONVERSATION, taskId=chat.task_id)
    assert ended["__typename"] == "EndConversationSuccess", ended
    assert (ended["task"]["status"], ended["task"]["conferenceState"]) == ("WRAP_UP", "NONE")
    late = await center.call(colleague, SEND_MESSAGE, taskId=chat.task_id, text="noch da?")
    assert code_of(late) == ("InvalidStateError", "INVALID_STATE")
    # The colleague owes no wrap-up (the dialog is the primary's) and has the slot back.
    assert (await center.session(colleague))["activeTaskCount"] == 0
    assert (await center.session(chat.bearer))["activeTaskCount"] == 1
    assert notices(await conversation(center, chat.bearer, chat.task_id)) == [
        "AGENT_JOINED",
        "AGENT_LEFT",
    ]


async def test_the_customer_leaving_a_conference_leaves_the_agents_to_end_it(
    center: Center,
) -> None:
    chat, _, colleague = await in_conference(center)
    left = await center.call(center.connector, REPORT_CUSTOMER_LEFT, taskId=chat.task_id)
    assert left["task"]["status"] == "POST_CALL", left
    for bearer in (chat.bearer, colleague):
        nobody = await center.call(bearer, SEND_MESSAGE, taskId=chat.task_id, text="Hallo?")
        assert (code_of(nobody), nobody["currentState"]) == (
            ("InvalidStateError", "INVALID_STATE"),
            "POST_CALL",
        )
    ended = await center.call(chat.bearer, END_CONVERSATION, taskId=chat.task_id)
    assert ended["__typename"] == "EndConversationSuccess", ended
    assert ended["task"]["status"] == "WRAP_UP"
    assert (await center.session(colleague))["activeTaskCount"] == 0
    # Nobody is there to read "agent left": only the customer's leaving is told.
    assert notices(await conversation(center, chat.bearer, chat.task_id)) == [
        "AGENT_JOINED",
        "CUSTOMER_LEFT",
    ]


async def test_accepting_while_the_primary_ends_the_chat_settles_one_way(center: Center) -> None:
    for _ in range(4):
        line, chat = await one_chat(center)
        colleague_id, colleague = await chat_agent(center, line)
        offer = await ask_in(center, chat, colleague, colleague_id)
        accepted, ended = await asyncio.gather(
            center.call(colleague, ACCEPT_OFFER, offerId=offer["offerId"]),
            center.call(chat.bearer, END_CONVERSATION, taskId=chat.task_id),
        )
        assert ended["__typename"] == "EndConversationSuccess", ended
        # Too late, the request was withdrawn with the chat: the offer is no longer open.
        assert code_of(accepted) in (
            ("AcceptOfferSuccess", ""),
            ("RejectedError", "OFFER_EXPIRED"),
            ("InvalidStateError", "INVALID_STATE"),
        ), accepted
        task = await center.query(chat.bearer, CONVERSATION, id=chat.task_id)
        assert (task["status"], task["conferenceState"]) == ("WRAP_UP", "NONE")
        joined = accepted["__typename"] == "AcceptOfferSuccess"
        assert notices(task["messages"]["nodes"]) == ["AGENT_JOINED"] * joined + ["AGENT_LEFT"]
        colleague_now = await center.session(colleague)
        assert (colleague_now["activeTaskCount"], colleague_now["pendingOfferCount"]) == (0, 0)


async def test_two_conference_requests_at_once_ask_exactly_one_agent(center: Center) -> None:
    for _ in range(3):
        line, chat = await one_chat(center)
        colleagues = [await chat_agent(center, line) for _ in range(2)]
        outcomes = await asyncio.gather(
            *(
                center.call(
                    chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=agent_id
                )
                for agent_id, _ in colleagues
            )
        )
        assert sorted(code_of(o) for o in outcomes) == [
            ("InvalidStateError", "INVALID_STATE"),
            ("RequestChatConferenceSuccess", ""),
        ]
        pending = [(await center.session(bearer))["pendingOfferCount"] for _, bearer in colleagues]
        assert sorted(pending) == [0, 1]
