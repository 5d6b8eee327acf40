"""Chats through the public API (issue #7, SPEC §10, seed 004 "Chats verwalten"): one scenario per
procedure — accepting a chat shows the bot's transcript, replying (text, attachments), predefined
responses searched and edited before sending, transferring to a queue or an agent, a conference
requested, joined and ended, the customer leaving, ending with one or more wrap-up reasons — and
the reason codes each move answers with."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.api.calls import REPORT_CUSTOMER_LEFT, SUBMIT_WRAP_UP, wrap_up_code
from tests.api.center import ACCEPT_OFFER, DECLINE_OFFER, Center, next_matching, subscription
from tests.api.chat_helpers import (
    CONVERSATION,
    END_CHAT_CONFERENCE,
    END_CONVERSATION,
    MESSAGE_EVENTS,
    PREDEFINED_RESPONSES,
    REQUEST_CHAT_CONFERENCE,
    SEND_MESSAGE,
    TRANSFER_CONVERSATION,
    accepted_chat,
    attachment,
    chat_agent,
    conversation,
    customer_says,
    notices,
    one_chat,
    send,
)
from tests.api.client import GraphQLErrors
from tests.api.server import Server
from tests.api.test_consult_conference import CONSULT_OFFERS, offer_made

BOT_LINES = [
    {"sender": "BOT", "text": "Hallo! Wie kann ich helfen?", "sentAt": "2024-05-01T10:00:00Z"},
    {"sender": "CUSTOMER", "text": "Meine Bestellung fehlt.", "sentAt": "2024-05-01T10:00:05Z"},
]


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


CREATE_RESPONSE = """
mutation($input: CreateChatResponseInput!) {
  createChatResponse(input: $input) {
    __typename ... on CreateChatResponseSuccess { chatResponse { id name text } }
  }
}"""


async def response(center: Center, **fields: Any) -> dict[str, Any]:
    made = await center.call(center.admin.token, CREATE_RESPONSE, **fields)
    assert made["__typename"] == "CreateChatResponseSuccess", made
    return dict(made["chatResponse"])


def outcome_code(outcome: dict[str, Any]) -> tuple[str, str]:
    return outcome["__typename"], outcome.get("code", "")


# --- Auf einen Chat antworten -------------------------------------------------------------------


async def test_an_accepted_chat_shows_the_bot_transcript_and_the_conversation_in_order(
    center: Center,
) -> None:
    _, chat = await one_chat(center, transcript=BOT_LINES)
    async with subscription(
        center.server, chat.bearer, MESSAGE_EVENTS, taskId=chat.task_id, after=0
    ) as next_event:
        sent = await send(center, chat.bearer, chat.task_id, text="Guten Tag, ich sehe nach.")
        said = await customer_says(center, chat.task_id, text="Danke!")
        posted = [
            await next_matching(next_event, lambda e: e["__typename"] == "MessagePosted")
            for _ in range(2)
        ]
    task = await center.query(chat.bearer, CONVERSATION, id=chat.task_id, first=10)
    assert [(t["sender"], t["text"]) for t in task["transcript"]] == [
        ("BOT", "Hallo! Wie kann ich helfen?"),
        ("CUSTOMER", "Meine Bestellung fehlt."),
    ]
    messages = task["messages"]["nodes"]
    assert [(m["seq"], m["sender"], m["text"], m["delivery"]) for m in messages] == [
        (1, "AGENT", "Guten Tag, ich sehe nach.", "PENDING"),
        (2, "CUSTOMER", "Danke!", "NONE"),
    ]
    assert sent["agentId"] == chat.agent_id
    assert said["agentId"] is None
    assert [(e["conversationMessage"]["id"], e["cause"]["kind"]) for e in posted] == [
        (sent["id"], "AGENT"),
        (said["id"], "CUSTOMER"),
    ]


async def test_the_conversation_pages_by_seq(center: Center) -> None:
    _, chat = await one_chat(center)
    for n in range(5):
        await send(center, chat.bearer, chat.task_id, text=f"line {n}")
    first = await center.query(chat.bearer, CONVERSATION, id=chat.task_id, first=2)
    cursor = first["messages"]["pageInfo"]["endCursor"]
    rest = await center.query(chat.bearer, CONVERSATION, id=chat.task_id, first=10, after=cursor)
    assert [m["text"] for m in first["messages"]["nodes"]] == ["line 0", "line 1"]
    assert first["messages"]["pageInfo"]["hasNextPage"] is True
    assert [m["seq"] for m in rest["messages"]["nodes"]] == [3, 4, 5]
    assert rest["messages"]["pageInfo"]["hasNextPage"] is False


async def test_an_agent_sends_attachments_with_name_type_and_size(center: Center) -> None:
    _, chat = await one_chat(center)
    files = [attachment("rechnung.pdf", 5000), attachment("foto.png", 12, mediaType="image/png")]
    sent = await send(center, chat.bearer, chat.task_id, text="Anbei", attachments=files)
    assert [(a["name"], a["mediaType"], a["size"], a["url"]) for a in sent["attachments"]] == [
        (f["name"], f["mediaType"], f["size"], f["url"]) for f in files
    ]
    only_file = await send(center, chat.bearer, chat.task_id, attachments=[attachment()])
    assert only_file["text"] == ""
    assert len(only_file["attachments"]) == 1


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"attachments": [attachment()] * 11}, "attachments", "max_items:10"),
        (
            {"attachments": [attachment(size=26 * 1024 * 1024)]},
            "attachments.0.size",
            "range:1-26214400",
        ),
        ({"attachments": [attachment(mediaType="pdf")]}, "attachments.0.mediaType", "media_type"),
        ({"attachments": [attachment(url="ftp://x")]}, "attachments.0.url", "url"),
        ({"text": "  "}, "text", "required"),
        ({"html": "<p>hi</p>"}, "html", "email_only"),
    ],
)
async def test_a_message_breaking_a_rule_names_the_field_and_rule(
    center: Center, fields: dict[str, Any], field: str, rule: str
) -> None:
    _, chat = await one_chat(center)
    outcome = await center.call(
        chat.bearer, SEND_MESSAGE, taskId=chat.task_id, **({"text": "x"} | fields)
    )
    assert outcome_code(outcome) == ("ValidationError", "VALIDATION_FAILED")
    assert (outcome["field"], outcome["rule"]) == (field, rule)
    assert await conversation(center, chat.bearer, chat.task_id) == []


# --- Vordefinierte Chat-Antworten ----------------------------------------------------------------


async def test_predefined_responses_are_searched_then_edited_before_sending(center: Center) -> None:
    greeting = await response(
        center, name="Begrüßung", text="Guten Tag! Wie kann ich helfen?", tags=["start"]
    )
    await response(center, name="Retoure", text="Ihre Retoure ist unterwegs.")
    await response(center, name="Rückruf", text="Wir rufen zurück.", channels=["EMAIL"])
    _, chat = await one_chat(center)

    by_text = await center.query(chat.bearer, PREDEFINED_RESPONSES, search="kann ich")
    by_tag = await center.query(chat.bearer, PREDEFINED_RESPONSES, search="STA", channel="CHAT")
    email_only = await center.query(
        chat.bearer, PREDEFINED_RESPONSES, search="rück", channel="CHAT"
    )
    assert [r["name"] for r in by_text] == ["Begrüßung"]
    assert [r["name"] for r in by_tag] == ["Begrüßung"]
    assert email_only == []
    any_channel = await center.query(chat.bearer, PREDEFINED_RESPONSES, search="rück")
    assert [r["name"] for r in any_channel] == ["Rückruf"]

    edited = greeting["text"].replace("Guten Tag!", "Hallo Grace!")
    sent = await send(center, chat.bearer, chat.task_id, text=edited, responseId=greeting["id"])
    assert (sent["text"], sent["responseId"]) == (
        "Hallo Grace! Wie kann ich helfen?",
        greeting["id"],
    )


async def test_a_response_search_needs_three_characters_and_a_known_response(
    center: Center,
) -> None:
    _, chat = await one_chat(center)
    with pytest.raises(GraphQLErrors) as short:
        await center.query(chat.bearer, PREDEFINED_RESPONSES, search="ab")
    assert short.value.codes == ["VALIDATION_FAILED"]
    outcome = await center.call(
        chat.bearer, SEND_MESSAGE, taskId=chat.task_id, text="x", responseId="no-such-response"
    )
    assert outcome_code(outcome) == ("ValidationError", "VALIDATION_FAILED")
    assert (outcome["field"], outcome["rule"]) == ("responseId", "reference")


# --- Chat übergeben -------------------------------------------------------------------------------


async def test_a_chat_transferred_to_an_agent_is_offered_to_them_and_the_sender_wraps_up(
    center: Center,
) -> None:
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
    assert (moved["task"]["status"], moved["task"]["agentId"]) == ("OFFERED", target_id)
    accepted = await center.call(target, ACCEPT_OFFER, offerId=offer["offerId"])
    assert accepted["task"]["status"] == "CONNECTED"
    await send(center, target, chat.task_id, text="Ich übernehme.")
    messages = await conversation(center, target, chat.task_id)
    assert notices(messages) == ["TRANSFERRED"]
    assert [m["agentId"] for m in messages if m["sender"] == "AGENT"] == [target_id]
    code = await wrap_up_code(center)
    wrapped = await center.call(
        chat.bearer, SUBMIT_WRAP_UP, taskId=chat.task_id, wrapUpCodeIds=[code]
    )
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped


async def test_a_chat_transferred_to_a_queue_is_offered_to_an_agent_of_that_queue(
    center: Center,
) -> None:
    _, chat = await one_chat(center)
    other = await center.line("CHAT")
    taker_id, taker = await chat_agent(center, other)
    async with subscription(center.server, taker, CONSULT_OFFERS, after=0) as next_offer:
        moved = await center.call(
            chat.bearer,
            TRANSFER_CONVERSATION,
            taskId=chat.task_id,
            destination={"kind": "QUEUE", "id": other.queue_id},
        )
        offer = await next_matching(next_offer, offer_made(chat.task_id))
    assert moved["__typename"] == "TransferConversationSuccess", moved
    assert moved["task"]["queueId"] == other.queue_id
    assert offer["offer"]["queueId"] == other.queue_id
    accepted = await center.call(taker, ACCEPT_OFFER, offerId=offer["offerId"])
    assert (accepted["task"]["status"], accepted["task"]["agentId"]) == ("CONNECTED", taker_id)


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ({"kind": "DIAL_NUMBER", "id": "dn-1"}, ("RejectedError", "UNSUPPORTED_DESTINATION")),
        ({"kind": "QUEUE", "id": "no-such-queue"}, ("ValidationError", "VALIDATION_FAILED")),
    ],
)
async def test_a_chat_goes_only_to_a_queue_of_its_channel_or_an_agent(
    center: Center, destination: dict[str, str], expected: tuple[str, str]
) -> None:
    _, chat = await one_chat(center)
    outcome = await center.call(
        chat.bearer, TRANSFER_CONVERSATION, taskId=chat.task_id, destination=destination
    )
    assert outcome_code(outcome) == expected


async def test_a_chat_is_not_transferred_to_a_voice_queue(center: Center) -> None:
    _, chat = await one_chat(center)
    voice = await center.line("VOICE")
    outcome = await center.call(
        chat.bearer,
        TRANSFER_CONVERSATION,
        taskId=chat.task_id,
        destination={"kind": "QUEUE", "id": voice.queue_id},
    )
    assert outcome_code(outcome) == ("ValidationError", "VALIDATION_FAILED")
    assert outcome["rule"] == "channel_queue"


async def test_two_transfers_at_once_one_wins_the_other_is_told_where_the_chat_stands(
    center: Center,
) -> None:
    for _ in range(3):
        _, chat = await one_chat(center)
        queue = {"kind": "QUEUE", "id": (await center.line("CHAT")).queue_id}
        outcomes = await asyncio.gather(
            *(
                center.call(
                    chat.bearer, TRANSFER_CONVERSATION, taskId=chat.task_id, destination=queue
                )
                for _ in range(2)
            )
        )
        kinds = sorted(outcome_code(o) for o in outcomes)
        assert kinds == [
            ("InvalidStateError", "INVALID_STATE"),
            ("TransferConversationSuccess", ""),
        ]
        assert notices(await conversation(center, center.supervisor, chat.task_id)) == [
            "TRANSFERRED"
        ]


# --- Chat-Konferenz starten -------------------------------------------------------------------------


async def requested_conference(
    center: Center, chat: Any, colleague: str, colleague_id: str
) -> dict[str, Any]:
    """The primary agent asks ``colleague`` in; returns their offer (OfferMade)."""
    async with subscription(center.server, colleague, CONSULT_OFFERS, after=0) as next_offer:
        asked = await center.call(
            chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=colleague_id
        )
        assert asked["__typename"] == "RequestChatConferenceSuccess", asked
        assert asked["task"]["conferenceState"] == "CONFERENCE_REQUESTED"
        return await next_matching(next_offer, offer_made())


async def test_a_conference_goes_from_requested_to_joined_and_both_sides_read_agent_joined(
    center: Center,
) -> None:
    line, chat = await one_chat(center)
    colleague_id, colleague = await chat_agent(center, line)
    offer = await requested_conference(center, chat, colleague, colleague_id)
    assert offer["offer"]["consultRequester"]["agentName"] is not None
    joined = await center.call(colleague, ACCEPT_OFFER, offerId=offer["offerId"])
    assert joined["__typename"] == "AcceptOfferSuccess", joined
    task = await center.query(chat.bearer, CONVERSATION, id=chat.task_id)
    assert (task["status"], task["conferenceState"]) == ("CONNECTED", "CONFERENCE")
    await send(center, colleague, chat.task_id, text="Hallo, ich bin dazu gekommen.")
    messages = await conversation(center, colleague, chat.task_id)
    joined_line = next(m for m in messages if m["notice"] == "AGENT_JOINED")
    assert (joined_line["agentId"], joined_line["delivery"]) == (colleague_id, "PENDING")

    ended = await center.call(chat.bearer, END_CHAT_CONFERENCE, taskId=chat.task_id)
    assert ended["__typename"] == "EndChatConferenceSuccess", ended
    assert ended["task"]["conferenceState"] == "NONE"
    left = await center.call(colleague, SEND_MESSAGE, taskId=chat.task_id, text="noch da?")
    assert outcome_code(left) == ("InvalidStateError", "INVALID_STATE")
    assert notices(await conversation(center, chat.bearer, chat.task_id)) == [
        "AGENT_JOINED",
        "AGENT_LEFT",
    ]


async def test_the_conference_agent_ends_their_own_part_and_the_chat_goes_on(
    center: Center,
) -> None:
    line, chat = await one_chat(center)
    colleague_id, colleague = await chat_agent(center, line)
    offer = await requested_conference(center, chat, colleague, colleague_id)
    await center.call(colleague, ACCEPT_OFFER, offerId=offer["offerId"])
    not_primary = await center.call(
        colleague,
        TRANSFER_CONVERSATION,
        taskId=chat.task_id,
        destination={"kind": "AGENT", "id": chat.agent_id},
    )
    assert outcome_code(not_primary) == ("ForbiddenError", "FORBIDDEN")
    exited = await center.call(colleague, END_CHAT_CONFERENCE, taskId=chat.task_id)
    assert exited["__typename"] == "EndChatConferenceSuccess", exited
    assert exited["task"]["conferenceState"] == "NONE"
    await send(center, chat.bearer, chat.task_id, text="Weiter mit mir.")
    session = await center.session(colleague)
    assert session["activeTaskCount"] == 0


async def test_a_declined_conference_request_leaves_the_chat_as_it_was(center: Center) -> None:
    line, chat = await one_chat(center)
    colleague_id, colleague = await chat_agent(center, line)
    offer = await requested_conference(center, chat, colleague, colleague_id)
    again = await center.call(
        chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=colleague_id
    )
    assert outcome_code(again) == ("InvalidStateError", "INVALID_STATE")
    assert again["currentState"] == "CONFERENCE_REQUESTED"
    declined = await center.call(colleague, DECLINE_OFFER, offerId=offer["offerId"])
    assert declined["__typename"] == "DeclineOfferSuccess", declined
    task = await center.query(chat.bearer, CONVERSATION, id=chat.task_id)
    assert (task["status"], task["conferenceState"]) == ("CONNECTED", "NONE")
    assert notices(task["messages"]["nodes"]) == []


async def test_the_primary_calls_off_a_conference_request_still_ringing(center: Center) -> None:
    line, chat = await one_chat(center)
    colleague_id, colleague = await chat_agent(center, line)
    await requested_conference(center, chat, colleague, colleague_id)
    called_off = await center.call(chat.bearer, END_CHAT_CONFERENCE, taskId=chat.task_id)
    assert called_off["__typename"] == "EndChatConferenceSuccess", called_off
    assert called_off["task"]["conferenceState"] == "NONE"
    assert (await center.session(colleague))["pendingOfferCount"] == 0


async def test_a_conference_needs_an_agent_with_room_for_the_chat(center: Center) -> None:
    _, chat = await one_chat(center)
    elsewhere = await center.line("CHAT")
    busy_id, busy = await chat_agent(center, elsewhere, chat=1)
    await accepted_chat(center, elsewhere, busy)
    outcome = await center.call(
        chat.bearer, REQUEST_CHAT_CONFERENCE, taskId=chat.task_id, agentId=busy_id
    )
    assert outcome_code(outcome) == ("RejectedError", "CAPACITY_EXCEEDED")


# --- Chat beenden -------------------------------------------------------------------------------------


async def test_the_customer_leaving_is_told_in_the_chat_and_the_agent_wraps_up(
    center: Center,
) -> None:
    _, chat = await one_chat(center)
    left = await center.call(center.connector, REPORT_CUSTOMER_LEFT, taskId=chat.task_id)
    # With only the agent left, the chat is over: the agent wraps up (as a call would).
    assert left["task"]["status"] == "WRAP_UP"
    too_late = await center.call(chat.bearer, SEND_MESSAGE, taskId=chat.task_id, text="Hallo?")
    assert outcome_code(too_late) == ("InvalidStateError", "INVALID_STATE")
    assert too_late["currentState"] == "WRAP_UP"
    code = await wrap_up_code(center)
    wrapped = await center.call(
        chat.bearer, SUBMIT_WRAP_UP, taskId=chat.task_id, wrapUpCodeIds=[code]
    )
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    messages = await conversation(center, chat.bearer, chat.task_id)
    assert [(m["notice"], m["delivery"]) for m in messages] == [("CUSTOMER_LEFT", "NONE")]


async def test_the_agent_ends_the_chat_the_customer_reads_agent_left_and_the_agent_gives_reasons(
    center: Center,
) -> None:
    _, chat = await one_chat(center)
    ended = await center.call(chat.bearer, END_CONVERSATION, taskId=chat.task_id)
    assert ended["__typename"] == "EndConversationSuccess", ended
    assert ended["task"]["status"] == "WRAP_UP"
    messages = await conversation(center, chat.bearer, chat.task_id)
    assert [(m["notice"], m["delivery"]) for m in messages] == [("AGENT_LEFT", "PENDING")]
    none = await center.call(chat.bearer, SUBMIT_WRAP_UP, taskId=chat.task_id, wrapUpCodeIds=[])
    assert (none["__typename"], none["rule"]) == ("ValidationError", "min_items:1")
    codes = [await wrap_up_code(center, name) for name in ("Gelöst", "Upsell", "Rückfrage")]
    wrapped = await center.call(
        chat.bearer, SUBMIT_WRAP_UP, taskId=chat.task_id, wrapUpCodeIds=codes
    )
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    task = await center.task(chat.task_id)
    assert task["status"] == "CLOSED"
    assert (await center.session(chat.bearer))["activeTaskCount"] == 0


# --- who may write, and at once ----------------------------------------------------------------


async def test_an_agent_not_on_the_chat_is_told_it_does_not_exist(center: Center) -> None:
    line, chat = await one_chat(center)
    _, stranger = await chat_agent(center, line)
    outcome = await center.call(stranger, SEND_MESSAGE, taskId=chat.task_id, text="hi")
    assert outcome_code(outcome) == ("NotFoundError", "NOT_FOUND")
    with pytest.raises(GraphQLErrors) as wrong_role:
        await center.call(center.connector, SEND_MESSAGE, taskId=chat.task_id, text="hi")
    assert wrong_role.value.codes == ["FORBIDDEN"]
    assert await conversation(center, chat.bearer, chat.task_id) == []


async def test_messages_sent_at_once_each_get_their_own_place_in_order(center: Center) -> None:
    _, chat = await one_chat(center)
    for round_ in range(3):
        sent = await asyncio.gather(
            *(send(center, chat.bearer, chat.task_id, text=f"a{round_}.{n}") for n in range(4)),
            *(customer_says(center, chat.task_id, text=f"c{round_}.{n}") for n in range(4)),
        )
        assert len({m["seq"] for m in sent}) == 8
    messages = await conversation(center, chat.bearer, chat.task_id)
    assert [m["seq"] for m in messages] == list(range(1, 25))
