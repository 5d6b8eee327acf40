"""Connector deliveries through the public API (issue #7, SPEC §10, §13): what agents send is put
on a durable outbox and streamed to the channel's connector by ``deliveries(channel, after)`` —
in order, resumable from the last ``seq`` handled; the connector acknowledges or reports a
failure, which the agent sees on the message and in the task's timeline."""

from __future__ import annotations

import asyncio

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.api.center import Center, next_matching, subscription
from tests.api.chat_helpers import (
    ACKNOWLEDGE_DELIVERY,
    END_CONVERSATION,
    MESSAGE_EVENTS,
    REPORT_DELIVERY_FAILURE,
    conversation,
    customer_says,
    deliveries,
    next_delivery,
    one_chat,
    send,
)
from tests.api.client import GraphQLErrors
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def test_what_the_agent_sends_reaches_the_connector_in_order_with_where_to_send_it(
    center: Center,
) -> None:
    line, chat = await one_chat(center)
    texts = ["eins", "zwei", "drei"]
    for text in texts:
        await send(center, chat.bearer, chat.task_id, text=text)
    await customer_says(center, chat.task_id, text="not for the connector")
    async with deliveries(center) as next_item:
        got = [await next_delivery(next_item) for _ in texts]
    assert [d["conversationMessage"]["text"] for d in got] == texts
    assert [d["seq"] for d in got] == [1, 2, 3]
    assert {(d["to"], d["entryPointId"], d["cause"]["kind"]) for d in got} == {
        ("grace@example.com", line.entry_point_id, "AGENT")
    }


async def test_a_connector_resumes_after_the_last_delivery_it_handled(center: Center) -> None:
    _, chat = await one_chat(center)
    for n in range(2):
        await send(center, chat.bearer, chat.task_id, text=f"before {n}")
    async with deliveries(center) as next_item:
        handled = [await next_delivery(next_item) for _ in range(2)]
    for n in range(2):
        await send(center, chat.bearer, chat.task_id, text=f"while away {n}")
    async with deliveries(center, after=handled[-1]["seq"]) as next_item:
        missed = [await next_delivery(next_item) for _ in range(2)]
        await send(center, chat.bearer, chat.task_id, text="live")
        live = await next_delivery(next_item)
    assert [d["conversationMessage"]["text"] for d in missed] == ["while away 0", "while away 1"]
    assert [d["seq"] for d in [*missed, live]] == [3, 4, 5]
    assert live["conversationMessage"]["text"] == "live"


async def test_an_acknowledgement_and_a_failure_show_on_the_message_and_in_the_timeline(
    center: Center,
) -> None:
    _, chat = await one_chat(center)
    ok = await send(center, chat.bearer, chat.task_id, text="kommt an")
    lost = await send(center, chat.bearer, chat.task_id, text="geht verloren")
    async with subscription(
        center.server, chat.bearer, MESSAGE_EVENTS, taskId=chat.task_id, after=0
    ) as next_event:
        acked = await center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId=ok["id"])
        failed = await center.call(
            center.connector,
            REPORT_DELIVERY_FAILURE,
            messageId=lost["id"],
            error="customer closed the widget",
        )
        changes = [
            await next_matching(next_event, lambda e: e["__typename"] == "MessageDeliveryChanged")
            for _ in range(2)
        ]
    assert acked["conversationMessage"]["delivery"] == "DELIVERED"
    assert failed["conversationMessage"]["delivery"] == "FAILED"
    assert [(c["messageId"], c["delivery"], c["error"]) for c in changes] == [
        (ok["id"], "DELIVERED", None),
        (lost["id"], "FAILED", "customer closed the widget"),
    ]
    seen = await conversation(center, chat.bearer, chat.task_id)
    assert [(m["delivery"], m["deliveryError"]) for m in seen] == [
        ("DELIVERED", None),
        ("FAILED", "customer closed the widget"),
    ]


async def test_answers_follow_the_delivery_rules_and_repeat_harmlessly(center: Center) -> None:
    _, chat = await one_chat(center)
    sent = await send(center, chat.bearer, chat.task_id, text="hallo")
    said = await customer_says(center, chat.task_id, text="hi")
    retried = await center.call(
        center.connector, REPORT_DELIVERY_FAILURE, messageId=sent["id"], error="timeout"
    )
    assert retried["conversationMessage"]["delivery"] == "FAILED"
    first = await center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId=sent["id"])
    again = await center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId=sent["id"])
    assert first["conversationMessage"] == again["conversationMessage"]
    assert first["conversationMessage"]["delivery"] == "DELIVERED"
    too_late = await center.call(
        center.connector, REPORT_DELIVERY_FAILURE, messageId=sent["id"], error="late"
    )
    assert (too_late["code"], too_late["currentState"]) == ("INVALID_STATE", "DELIVERED")
    not_outgoing = await center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId=said["id"])
    assert (not_outgoing["code"], not_outgoing["currentState"]) == ("INVALID_STATE", "NONE")
    unknown = await center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId="nope")
    assert (unknown["__typename"], unknown["code"]) == ("NotFoundError", "NOT_FOUND")
    blank = await center.call(
        center.connector, REPORT_DELIVERY_FAILURE, messageId=sent["id"], error=" "
    )
    assert (blank["__typename"], blank["field"]) == ("ValidationError", "error")
    with pytest.raises(GraphQLErrors) as agent:
        await center.call(chat.bearer, ACKNOWLEDGE_DELIVERY, messageId=sent["id"])
    assert agent.value.codes == ["FORBIDDEN"]


async def test_acknowledgements_at_once_change_the_message_once(center: Center) -> None:
    _, chat = await one_chat(center)
    sent = [await send(center, chat.bearer, chat.task_id, text=f"m{n}") for n in range(3)]
    for message in sent:
        outcomes = await asyncio.gather(
            *(
                center.call(center.connector, ACKNOWLEDGE_DELIVERY, messageId=message["id"])
                for _ in range(4)
            )
        )
        assert {o["conversationMessage"]["delivery"] for o in outcomes} == {"DELIVERED"}
        assert len({o["conversationMessage"]["deliveryUpdatedAt"] for o in outcomes}) == 1
    async with subscription(
        center.server, chat.bearer, MESSAGE_EVENTS, taskId=chat.task_id, after=0
    ) as next_event:
        await center.call(chat.bearer, END_CONVERSATION, taskId=chat.task_id)
        seen = []
        while True:
            event = await next_event()
            if event["__typename"] == "CallEvent" and event["change"] == "CALL_ENDED":
                break
            seen.append(event["__typename"])
    assert seen.count("MessageDeliveryChanged") == 3


async def test_system_lines_the_customer_sees_are_delivered_too(center: Center) -> None:
    _, chat = await one_chat(center)
    await center.call(chat.bearer, END_CONVERSATION, taskId=chat.task_id)
    async with deliveries(center) as next_item:
        delivery = await next_delivery(next_item)
    line = delivery["conversationMessage"]
    assert (line["sender"], line["notice"], line["agentId"]) == (
        "SYSTEM",
        "AGENT_LEFT",
        chat.agent_id,
    )


async def test_the_deliveries_of_a_channel_are_for_connectors_only(center: Center) -> None:
    _, chat = await one_chat(center)
    async with subscription(
        center.server, chat.bearer, "subscription { deliveries(channel: CHAT) { __typename } }"
    ) as next_item:
        with pytest.raises(TransportQueryError) as refused:
            await next_item()
    errors = refused.value.errors or []
    assert [(error.get("extensions") or {}).get("code") for error in errors] == ["FORBIDDEN"]
