"""The other side of seed 001's drop rule (SPEC §3, §10): an inbound chat transferred to an agent
who declines is not dropped — it goes back to its queue and is routed on — while the
transferring agent still wraps up."""

from __future__ import annotations

import pytest

from tests.api.calls import SUBMIT_WRAP_UP, wrap_up_code
from tests.api.center import DECLINE_OFFER, Center, next_matching, subscription
from tests.api.chat_helpers import (
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


async def test_a_declined_inbound_chat_transfer_goes_back_to_the_queue(center: Center) -> None:
    line, chat = await one_chat(center)
    target_id, target = await chat_agent(center, line)
    async with subscription(center.server, target, CONSULT_OFFERS, after=0) as next_offer:
        moved = await center.call(
            chat.bearer,
            TRANSFER_CONVERSATION,
            taskId=chat.task_id,
            destination={"kind": "AGENT", "id": target_id},
        )
        offer = await next_matching(next_offer, offer_made(chat.task_id))
    assert moved["__typename"] == "TransferConversationSuccess", moved
    declined = await center.call(target, DECLINE_OFFER, offerId=offer["offerId"])
    assert declined["__typename"] == "DeclineOfferSuccess", declined
    task = await center.task(chat.task_id)
    # Back in its queue and routed on (here straight to the sender, who has room for a chat).
    assert task["status"] in ("QUEUED", "OFFERED"), task
    assert (task["queueId"], task["agentId"] != target_id) == (line.queue_id, True)
    assert notices(await conversation(center, center.supervisor, chat.task_id)) == ["TRANSFERRED"]
    wrapped = await center.call(
        chat.bearer, SUBMIT_WRAP_UP, taskId=chat.task_id, wrapUpCodeIds=[await wrap_up_code(center)]
    )
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    assert wrapped["task"]["status"] in ("QUEUED", "OFFERED")
