"""The conference limit on a chat through the public API (SPEC §5: "a conference has at most 8
participants including the customer and the primary agent"; §10 chat conference): with six
colleagues joined, a seventh request is refused with ``CONFERENCE_FULL`` and offers nothing;
once one of them leaves, there is room again."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.calls import CALL_TASK, roles
from tests.api.center import ACCEPT_OFFER, Center
from tests.api.chat_helpers import (
    END_CHAT_CONFERENCE,
    REQUEST_CHAT_CONFERENCE,
    chat_agent,
    one_chat,
)
from tests.api.server import Server
from tests.api.test_chat import requested_conference

JOINED = 6  # with the customer and the primary agent: the 8 of CONFERENCE_LIMIT


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def test_a_chat_of_eight_takes_no_ninth_until_someone_leaves(center: Center) -> None:
    line, chat = await one_chat(center)
    colleagues = await asyncio.gather(*(chat_agent(center, line) for _ in range(JOINED + 1)))
    *joining, (late_id, late) = colleagues
    for colleague_id, colleague in joining:
        offer = await requested_conference(center, chat, colleague, colleague_id)
        joined = await center.call(colleague, ACCEPT_OFFER, offerId=offer["offerId"])
        assert joined["__typename"] == "AcceptOfferSuccess", joined

    full = await center.call(
        chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=late_id
    )
    assert (full["__typename"], full["code"]) == ("RejectedError", "CONFERENCE_FULL")
    task = await center.query(chat.bearer, CALL_TASK, id=chat.task_id)
    assert roles(task) == ["CUSTOMER", "PRIMARY_AGENT"] + ["CONFERENCE_AGENT"] * JOINED
    assert (task["status"], task["consult"]) == ("CONNECTED", None)
    assert (await center.session(late))["pendingOfferCount"] == 0

    left = await center.call(joining[0][1], END_CHAT_CONFERENCE, taskId=chat.task_id)
    assert left["__typename"] == "EndChatConferenceSuccess", left
    room = await center.call(
        chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=late_id
    )
    assert room["__typename"] == "RequestChatConferenceSuccess", room
    assert room["task"]["conferenceState"] == "CONFERENCE_REQUESTED"
