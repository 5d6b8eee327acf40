"""Inbound email and social conversations through the public API (SPEC §10: they "follow the chat
rules where they apply — reply, transfer, end, wrap-up"): a contact reported on an inbound entry
point of the channel, accepted by an agent, answered (an email with a subject) with the reply
streamed to that channel's connector, the customer writing back, a transfer to a queue of the same
channel, the end and a wrap-up with two reasons — and PCI screening of an email's subject, both
the one the customer wrote (on the contact) and the agent's reply."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.calls import SUBMIT_WRAP_UP, AnsweredCall, answered_call, set_policies, wrap_up_code
from tests.api.center import ACCEPT_OFFER, Center, Line, next_matching, subscription
from tests.api.chat_helpers import (
    END_CONVERSATION,
    SEND_MESSAGE,
    TRANSFER_CONVERSATION,
    conversation,
    customer_says,
    deliveries,
    next_delivery,
    notices,
    send,
)
from tests.api.server import Server
from tests.api.test_consult_conference import CONSULT_OFFERS, offer_made
from tests.api.test_pci import assert_nowhere, card_number, spaced

CHANNELS = ["EMAIL", "SOCIAL"]
ADDRESSES = {"EMAIL": "grace@example.com", "SOCIAL": "@grace.hopper"}


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def inbound_agent(center: Center, line: Line) -> tuple[str, str]:
    """A logged-in AVAILABLE agent of the line's team whose profile takes only its channel."""
    profile = await center.admin.make(
        "MultimediaProfile",
        name=f"profile-{uuid.uuid4().hex[:6]}",
        channels=[{"channel": line.channel, "maxConcurrent": 3}],
        voiceMode="BLENDED",
    )
    return await center.logged_in_agent(line.team_id, str(profile["id"]))


async def accepted(center: Center, line: Line, bearer: str, **fields: Any) -> AnsweredCall:
    """A contact of the line's channel reported by the connector and accepted by the agent."""
    customer = {"name": "Grace", "address": ADDRESSES[line.channel]}
    return await answered_call(center, line, bearer, customer=customer, **fields)


def reply(channel: str, text: str, subject: str = "Re: Bestellung 17") -> dict[str, Any]:
    """What an agent sends: an email carries a subject, a social message does not."""
    return {"text": text} | ({"subject": subject} if channel == "EMAIL" else {})


async def wrapped_up(center: Center, bearer: str, task_id: str, codes: list[str]) -> None:
    outcome = await center.call(bearer, SUBMIT_WRAP_UP, taskId=task_id, wrapUpCodeIds=codes)
    assert outcome["__typename"] == "SubmitWrapUpSuccess", outcome


@pytest.mark.parametrize("channel", CHANNELS)
async def test_the_agent_replies_the_connector_of_the_channel_gets_it_and_the_customer_answers(
    center: Center, channel: str
) -> None:
    line = await center.line(channel)
    agent_id, bearer = await inbound_agent(center, line)
    contact = await accepted(center, line, bearer, subject="Bestellung 17")
    async with deliveries(center, channel) as next_item:
        sent = await send(center, bearer, contact.task_id, **reply(channel, "Wir sehen nach."))
        delivered = await next_delivery(next_item)
    said = await customer_says(center, contact.task_id, text="Danke!")

    task = await center.task(contact.task_id)
    assert (task["channel"], task["subject"]) == (channel, "Bestellung 17")
    assert (delivered["to"], delivered["entryPointId"]) == (ADDRESSES[channel], line.entry_point_id)
    out = delivered["conversationMessage"]
    assert (out["id"], out["channel"], out["text"], out["agentId"]) == (
        sent["id"],
        channel,
        "Wir sehen nach.",
        agent_id,
    )
    assert out["subject"] == reply(channel, "").get("subject")
    assert (said["sender"], said["delivery"], said["agentId"]) == ("CUSTOMER", "NONE", None)
    messages = await conversation(center, bearer, contact.task_id)
    assert [(m["seq"], m["sender"], m["text"]) for m in messages] == [
        (1, "AGENT", "Wir sehen nach."),
        (2, "CUSTOMER", "Danke!"),
    ]


async def test_a_social_reply_takes_no_subject_or_html(center: Center) -> None:
    line = await center.line("SOCIAL")
    _, bearer = await inbound_agent(center, line)
    contact = await accepted(center, line, bearer)
    for field in ("subject", "html"):
        outcome = await center.call(
            bearer, SEND_MESSAGE, taskId=contact.task_id, text="hi", **{field: "x"}
        )
        assert (outcome["__typename"], outcome["field"], outcome["rule"]) == (
            "ValidationError",
            field,
            "email_only",
        )
    assert await conversation(center, bearer, contact.task_id) == []


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_transfer_to_a_queue_of_the_channel_then_the_end_and_a_wrap_up_with_two_reasons(
    center: Center, channel: str
) -> None:
    line, other = await center.line(channel), await center.line(channel)
    _, bearer = await inbound_agent(center, line)
    taker_id, taker = await inbound_agent(center, other)
    contact = await accepted(center, line, bearer)
    chat_queue = (await center.line("CHAT")).queue_id
    wrong = await center.call(
        bearer,
        TRANSFER_CONVERSATION,
        taskId=contact.task_id,
        destination={"kind": "QUEUE", "id": chat_queue},
    )
    assert (wrong["__typename"], wrong["rule"]) == ("ValidationError", "channel_queue")
    async with subscription(center.server, taker, CONSULT_OFFERS, after=0) as next_offer:
        moved = await center.call(
            bearer,
            TRANSFER_CONVERSATION,
            taskId=contact.task_id,
            destination={"kind": "QUEUE", "id": other.queue_id},
        )
        offer = await next_matching(next_offer, offer_made(contact.task_id))
    assert moved["__typename"] == "TransferConversationSuccess", moved
    assert (moved["task"]["queueId"], offer["offer"]["channel"]) == (other.queue_id, channel)
    taken = await center.call(taker, ACCEPT_OFFER, offerId=offer["offerId"])
    assert (taken["task"]["status"], taken["task"]["agentId"]) == ("CONNECTED", taker_id)
    await send(center, taker, contact.task_id, **reply(channel, "Ich übernehme."))
    await customer_says(center, contact.task_id, text="Gut.")

    ended = await center.call(taker, END_CONVERSATION, taskId=contact.task_id)
    assert (ended["__typename"], ended["task"]["status"]) == ("EndConversationSuccess", "WRAP_UP")
    codes = [await wrap_up_code(center, name) for name in ("Gelöst", "Rückfrage")]
    await wrapped_up(center, bearer, contact.task_id, codes[:1])
    await wrapped_up(center, taker, contact.task_id, codes)

    assert (await center.task(contact.task_id))["status"] == "CLOSED"
    for agent in (bearer, taker):
        assert (await center.session(agent))["activeTaskCount"] == 0
    messages = await conversation(center, center.supervisor, contact.task_id)
    assert notices(messages) == ["TRANSFERRED", "AGENT_LEFT"]
    assert [(m["sender"], m["agentId"]) for m in messages if m["sender"] != "SYSTEM"] == [
        ("AGENT", taker_id),
        ("CUSTOMER", None),
    ]


async def test_redact_masks_a_card_number_in_the_email_subjects_of_customer_and_agent(
    center: Center, mongodb_url: str
) -> None:
    await set_policies(center, pciPolicy="REDACT")
    card, other = card_number(), card_number()
    line = await center.line("EMAIL")
    _, bearer = await inbound_agent(center, line)
    contact = await accepted(center, line, bearer, subject=f"subject-marker Karte {spaced(card)}")
    async with deliveries(center, "EMAIL") as next_item:
        sent = await send(
            center, bearer, contact.task_id, **reply("EMAIL", "ok", f"Re: {spaced(other, '-')}")
        )
        delivered = await next_delivery(next_item)

    task = await center.task(contact.task_id)
    assert task["subject"] == "subject-marker Karte **** **** **** ****"
    assert (sent["subject"], sent["redacted"]) == ("Re: ****-****-****-****", True)
    assert delivered["conversationMessage"]["subject"] == sent["subject"]
    assert_nowhere(center, mongodb_url, card, "subject-marker")
    assert_nowhere(center, mongodb_url, other, "subject-marker")


async def test_drop_refuses_an_email_reply_with_a_card_in_its_subject_and_keeps_no_such_subject(
    center: Center, mongodb_url: str
) -> None:
    await set_policies(center, pciPolicy="DROP")
    card = card_number()
    line = await center.line("EMAIL")
    _, bearer = await inbound_agent(center, line)
    contact = await accepted(center, line, bearer, subject=f"Karte {card}")
    refused = await center.call(
        bearer, SEND_MESSAGE, taskId=contact.task_id, text="drop-marker", subject=f"Re: {card}"
    )
    assert (refused["__typename"], refused["code"]) == ("RejectedError", "PCI_VIOLATION")
    assert card not in refused["message"]
    # The contact itself is not refused — the customer is waiting — but its subject is not kept.
    assert (await center.task(contact.task_id))["subject"] is None
    await send(center, bearer, contact.task_id, text="drop-marker")
    assert_nowhere(center, mongodb_url, card, "drop-marker")
