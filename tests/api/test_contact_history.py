"""Contact history through the public API (SPEC §12): a customer's ended tasks, newest first,
paged, with the transcript of digital ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.center import ABANDON_CONTACT, ACCEPT_OFFER, Center
from tests.api.chat_helpers import REPORT_CUSTOMER_MESSAGE
from tests.api.client import GraphQLErrors
from tests.api.conversation_helpers import (
    CONTACT_HISTORY,
    Desk,
    agent,
    close,
    customer_email,
    customer_phone,
    desk,
    email,
    inbound_line,
    reply,
    sms,
)
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def setup(center: Center) -> Desk:
    return await desk(center)


async def history(center: Center, bearer: str, **arguments: object) -> dict:
    return await center.query(bearer, CONTACT_HISTORY, **arguments)


def ids(page: dict) -> list[str]:
    return [edge["node"]["taskId"] for edge in page["edges"]]


async def test_a_customers_closed_conversations_newest_first_with_their_transcripts(
    setup: Desk,
) -> None:
    center = setup.center
    agent_id, bearer = await agent(setup)
    phone = customer_phone()
    first = await sms(setup, bearer, phone, text="Your parcel arrives today", customerName="Ada")
    await reply(setup, "SMS", phone, "Thanks!")
    await close(setup, bearer, first["id"])
    second = await sms(setup, bearer, phone, text="Was everything fine?")
    await close(setup, bearer, second["id"])
    customer_id = first["customer"]["customerId"]
    still_open = await email(setup, bearer, customer_email(), "Survey", customerId=customer_id)

    page = await history(center, bearer, customerId=customer_id)

    assert ids(page) == [second["id"], first["id"]]
    assert still_open["id"] not in ids(page)
    older = page["edges"][1]["node"]
    assert (older["channel"], older["direction"], older["status"]) == ("SMS", "OUTBOUND", "CLOSED")
    assert (older["agentId"], older["entryPointId"]) == (agent_id, setup.sms_entry_point)
    assert older["wrapUpCodeIds"] == [setup.wrap_up_code]
    assert older["customer"] == {"name": "Ada", "customerId": customer_id, "address": phone}
    said = [(line["sender"], line["text"]) for line in older["transcript"]]
    assert said[:2] == [("AGENT", "Your parcel arrives today"), ("CUSTOMER", "Thanks!")]
    assert older["transcript"][0]["agentId"] == agent_id
    ended = [datetime.fromisoformat(e["node"]["endedAt"]) for e in page["edges"]]
    assert ended[0] >= ended[1]
    assert ended[1] <= datetime.now(UTC)


async def test_history_is_paged_and_found_by_address_too(setup: Desk) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    phone = customer_phone()
    tasks = []
    for text in ("one", "two", "three"):
        task = await sms(setup, bearer, phone, text=text)
        await close(setup, bearer, task["id"])
        tasks.append(task["id"])
    newest_first = list(reversed(tasks))

    page_one = await history(center, bearer, address=phone, channel="SMS", first=2)
    page_two = await history(
        center,
        bearer,
        address=phone,
        channel="SMS",
        first=2,
        after=page_one["pageInfo"]["endCursor"],
    )
    spaced = await history(center, bearer, address=f"{phone[:3]} {phone[3:]}", channel="SMS")
    other_channel = await history(center, center.supervisor, address=phone, channel="VOICE")

    assert (ids(page_one), page_one["pageInfo"]["hasNextPage"]) == (newest_first[:2], True)
    assert (ids(page_two), page_two["pageInfo"]["hasNextPage"]) == (newest_first[2:], False)
    assert ids(spaced) == newest_first
    assert ids(other_channel) == []


async def test_a_chat_shows_the_bot_transcript_then_the_messages_and_abandoned_tasks_count(
    setup: Desk,
) -> None:
    center = setup.center
    line = await inbound_line(center, "CHAT", setup.team_id)
    _, bearer = await agent(setup, chat=(1, 0))
    customer = {"name": "Grace", "customerId": "grace-7"}
    bot = [{"sender": "BOT", "text": "How can I help?", "sentAt": "2026-01-05T09:00:00+00:00"}]
    chat = await center.report(line, customer=customer, transcript=bot)
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=chat["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    said = await center.call(
        center.connector, REPORT_CUSTOMER_MESSAGE, taskId=chat["id"], text="My card expired"
    )
    assert said["__typename"].endswith("Success"), said
    waiting = await center.report(line, customer=customer)
    left = await center.call(center.connector, ABANDON_CONTACT, taskId=waiting["id"])
    assert left["__typename"] == "AbandonContactSuccess", left
    await close(setup, bearer, chat["id"], channel="CHAT")

    page = await history(center, bearer, customerId="grace-7")

    assert ids(page) == [chat["id"], waiting["id"]]
    closed, abandoned = (edge["node"] for edge in page["edges"])
    lines = [(line["sender"], line["text"]) for line in closed["transcript"]]
    assert lines[:2] == [("BOT", "How can I help?"), ("CUSTOMER", "My card expired")]
    assert (abandoned["status"], abandoned["agentId"], abandoned["transcript"]) == (
        "ABANDONED",
        None,
        [],
    )


async def test_the_query_needs_one_customer_key(setup: Desk) -> None:
    center = setup.center
    _, bearer = await agent(setup)

    with pytest.raises(GraphQLErrors) as neither:
        await history(center, bearer)
    with pytest.raises(GraphQLErrors) as no_channel:
        await history(center, bearer, address=customer_phone())
    with pytest.raises(GraphQLErrors) as bad_cursor:
        await history(center, bearer, customerId="x", after="not-a-cursor")

    assert neither.value.codes == ["VALIDATION_FAILED"]
    assert neither.value.errors[0]["extensions"]["field"] == "customerId"
    assert no_channel.value.errors[0]["extensions"]["field"] == "channel"
    assert bad_cursor.value.errors[0]["extensions"]["field"] == "after"
    with pytest.raises(GraphQLErrors) as connector:
        await history(center, center.connector, customerId="x")
    assert connector.value.codes == ["FORBIDDEN"]
