"""Digital conversations through the public API (issue #7 part 1): operation strings for the chat,
message and delivery mutations, the conversation and delivery subscriptions, and helpers that
bring a chat to a given point. Shared by the chat, PCI and delivery tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pymongo import MongoClient

from tests.api.calls import TASK_FIELDS, AnsweredCall, answered_call
from tests.api.center import OUTCOME, Center, Line, NextItem, next_matching, subscription
from tests.api.server import Server

MESSAGE = """id taskId seq channel sender agentId text subject html sentAt redacted
    withheldAttachments delivery deliveryError deliveryUpdatedAt responseId notice
    attachments { name mediaType size url inline }"""


def _mutation(name: str, input_type: str, payload: str) -> str:
    noun = name[0].upper() + name[1:]
    fields = MESSAGE if payload == "conversationMessage" else TASK_FIELDS + " conferenceState"
    return f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ {OUTCOME} ... on {noun}Success {{ {payload} {{ {fields} }} }} }}
}}"""


SEND_MESSAGE = _mutation("sendMessage", "SendMessageInput", "conversationMessage")
REPORT_CUSTOMER_MESSAGE = _mutation(
    "reportCustomerMessage", "ReportCustomerMessageInput", "conversationMessage"
)
ACKNOWLEDGE_DELIVERY = _mutation("acknowledgeDelivery", "MessageInput", "conversationMessage")
REPORT_DELIVERY_FAILURE = _mutation(
    "reportDeliveryFailure", "ReportDeliveryFailureInput", "conversationMessage"
)
END_CONVERSATION = _mutation("endConversation", "TaskInput", "task")
TRANSFER_CONVERSATION = _mutation("transferConversation", "TransferConversationInput", "task")
REQUEST_CHAT_CONFERENCE = _mutation("requestChatConference", "RequestChatConferenceInput", "task")
END_CHAT_CONFERENCE = _mutation("endChatConference", "TaskInput", "task")

CONVERSATION = f"""
query($id: ID!, $first: Int, $after: String) {{
  task(id: $id) {{
    id status conferenceState transcript {{ sender text sentAt }}
    messages(first: $first, after: $after) {{
      nodes {{ {MESSAGE} }} pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}"""
PREDEFINED_RESPONSES = """
query($search: String!, $channel: Channel) {
  predefinedResponses(search: $search, channel: $channel) { id name text tags channels }
}"""
DELIVERIES = f"""
subscription($channel: Channel!, $after: Int) {{
  deliveries(channel: $channel, after: $after) {{
    __typename
    ... on Event {{ seq cause {{ kind id }} }}
    ... on Delivery {{ to entryPointId customerId conversationMessage {{ {MESSAGE} }} }}
    ... on ResyncRequired {{ headSeq }}
  }}
}}"""
MESSAGE_EVENTS = f"""
subscription($taskId: ID!, $after: Int) {{
  taskEvents(taskId: $taskId, after: $after) {{
    __typename
    ... on Event {{ seq cause {{ kind id }} }}
    ... on MessagePosted {{ conversationMessage {{ {MESSAGE} }} }}
    ... on MessageDeliveryChanged {{ messageId messageSeq delivery error }}
    ... on CallEvent {{ change status }}
  }}
}}"""


async def chat_agent(center: Center, line: Line, chat: int = 3) -> tuple[str, str]:
    """A logged-in AVAILABLE agent of the line's team who takes chats (id, bearer)."""
    return await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=chat))


async def accepted_chat(
    center: Center, line: Line, bearer: str, **report_fields: Any
) -> AnsweredCall:
    """A chat reported on ``line`` and accepted by the agent (who must be free for it)."""
    fields = {"customer": {"name": "Grace", "address": "grace@example.com"}} | report_fields
    return await answered_call(center, line, bearer, **fields)


async def one_chat(center: Center, **report_fields: Any) -> tuple[Line, AnsweredCall]:
    line = await center.line("CHAT")
    _, bearer = await chat_agent(center, line)
    return line, await accepted_chat(center, line, bearer, **report_fields)


async def send(center: Center, bearer: str, task_id: str, **fields: Any) -> dict[str, Any]:
    """The message ``sendMessage`` stored; fails unless it succeeded."""
    outcome = await center.call(bearer, SEND_MESSAGE, taskId=task_id, **fields)
    assert outcome["__typename"] == "SendMessageSuccess", outcome
    return dict(outcome["conversationMessage"])


async def customer_says(center: Center, task_id: str, **fields: Any) -> dict[str, Any]:
    outcome = await center.call(center.connector, REPORT_CUSTOMER_MESSAGE, taskId=task_id, **fields)
    assert outcome["__typename"] == "ReportCustomerMessageSuccess", outcome
    return dict(outcome["conversationMessage"])


async def conversation(center: Center, bearer: str, task_id: str) -> list[dict[str, Any]]:
    """Every message of the task as ``bearer`` reads it, in order."""
    task = await center.query(bearer, CONVERSATION, id=task_id, first=100)
    assert task is not None, task_id
    return list(task["messages"]["nodes"])


def notices(messages: list[dict[str, Any]]) -> list[str]:
    return [m["notice"] for m in messages if m["sender"] == "SYSTEM"]


def deliveries(center: Center, channel: str = "CHAT", after: int | None = 0) -> Any:
    return subscription(center.server, center.connector, DELIVERIES, channel=channel, after=after)


async def next_delivery(next_item: NextItem) -> dict[str, Any]:
    return await next_matching(next_item, lambda item: item["__typename"] == "Delivery")


def attachment(name: str = "invoice.pdf", size: int = 2048, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "mediaType": "application/pdf",
        "size": size,
        "url": f"https://files.example.com/{uuid.uuid4().hex}",
    } | fields


def stored_everywhere(server: Server, mongodb_url: str, needles: list[str]) -> list[str]:
    """Which ``needles`` occur anywhere in the server's database — every document of every
    collection, searched as its JSON text."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url)
    try:
        database = client[server.env["OMNIDESK_DATABASE"]]
        found = set()
        for name in database.list_collection_names():
            for document in database[name].find():
                text = json.dumps(document, default=str)
                found.update(needle for needle in needles if needle in text)
        return sorted(found)
    finally:
        client.close()
