"""A connector's answers that race or carry content (issue #7 item 4, SPEC §10): an
acknowledgement and a failure report for the same message at once always end DELIVERED (a
delivered message cannot fail any more), and a failure whose error echoes the message's card
number is stored and shown masked — the clear number is nowhere in the database or the log."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.center import Center
from tests.api.chat_helpers import (
    ACKNOWLEDGE_DELIVERY,
    REPORT_DELIVERY_FAILURE,
    conversation,
    one_chat,
    send,
)
from tests.api.server import Server
from tests.api.test_pci import assert_nowhere, card_number, spaced


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def test_an_acknowledgement_and_a_failure_at_once_end_delivered(center: Center) -> None:
    _, chat = await one_chat(center)
    for round_ in range(5):
        sent = await send(center, chat.bearer, chat.task_id, text=f"m{round_}")
        acked, failed = await asyncio.gather(
            center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId=sent["id"]),
            center.call(
                center.connector, REPORT_DELIVERY_FAILURE, messageId=sent["id"], error="timeout"
            ),
        )
        assert acked["conversationMessage"]["delivery"] == "DELIVERED", acked
        # The failure either came first (and the acknowledgement overtook it) or came too late.
        if failed["__typename"] == "ReportDeliveryFailureSuccess":
            assert failed["conversationMessage"]["delivery"] == "FAILED"
        else:
            assert (failed["code"], failed["currentState"]) == ("INVALID_STATE", "DELIVERED")
    messages = await conversation(center, chat.bearer, chat.task_id)
    assert [(m["delivery"], m["deliveryError"]) for m in messages] == [("DELIVERED", None)] * 5


async def test_a_failure_echoing_a_card_number_is_kept_masked(
    center: Center, mongodb_url: str
) -> None:
    card = card_number()
    _, chat = await one_chat(center)
    sent = await send(center, chat.bearer, chat.task_id, text="failure-marker")
    failed = await center.call(
        center.connector,
        REPORT_DELIVERY_FAILURE,
        messageId=sent["id"],
        error=f"rejected by carrier: {spaced(card)}",
    )
    assert failed["__typename"] == "ReportDeliveryFailureSuccess", failed
    masked = "rejected by carrier: **** **** **** ****"
    assert failed["conversationMessage"]["deliveryError"] == masked
    seen = await conversation(center, chat.bearer, chat.task_id)
    assert [m["deliveryError"] for m in seen] == [masked]
    assert_nowhere(center, mongodb_url, card, "failure-marker")
