"""A contact center set up for conversations (issue #7 part 2), driven through the public API:
outbound SMS and email entry points, inbound entry points of the same addresses (where replies
to a closed conversation arrive), profiles with outbound limits, and the operations of outbound
conversations, replies, elevation, sessions and contact history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.api.calls import END_CALL, SUBMIT_WRAP_UP, TASK_FIELDS, wrap_up_code
from tests.api.center import OUTCOME, Center, Line

CONVERSATION_TASK = f"""{TASK_FIELDS} direction subject sessionId held
    customer {{ name customerId address }}"""

MESSAGE = "id taskId seq sender agentId text subject html delivery"
START_OUTBOUND = f"""
mutation($input: StartOutboundConversationInput!) {{
  startOutboundConversation(input: $input) {{
    {OUTCOME}
    ... on StartOutboundConversationSuccess {{ firstMessage {{ {MESSAGE} }} task {{ {CONVERSATION_TASK} }} }}
  }}
}}"""
REPORT_REPLY = f"""
mutation($input: ReportCustomerReplyInput!) {{
  reportCustomerReply(input: $input) {{
    {OUTCOME}
    ... on ReportCustomerReplySuccess {{ reply {{ {MESSAGE} }} newContact task {{ {CONVERSATION_TASK} }} }}
  }}
}}"""
HISTORY_ENTRY = """taskId channel direction status createdAt connectedAt endedAt agentId queueId
    entryPointId subject sessionId wrapUpCodeIds customer { name customerId address }
    transcript { sender text subject sentAt agentId }"""
CONTACT_HISTORY = f"""
query($customerId: ID, $address: String, $channel: Channel, $first: Int, $after: String) {{
  contactHistory(customerId: $customerId, address: $address, channel: $channel, first: $first,
                 after: $after) {{
    edges {{ cursor node {{ {HISTORY_ENTRY} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


@dataclass
class Desk:
    """The organization's conversation set-up: who sends from where, where replies land."""

    center: Center
    team_id: str
    sms_entry_point: str
    sms_address: str
    email_entry_point: str
    email_address: str
    sms_queue: str
    email_queue: str
    wrap_up_code: str


def _phone() -> str:
    return f"+1555{uuid.uuid4().int % 10**7:07d}"


def customer_phone() -> str:
    return f"+4930{uuid.uuid4().int % 10**8:08d}"


def customer_email() -> str:
    return f"customer-{uuid.uuid4().hex[:8]}@example.org"


async def desk(center: Center, *, outbound: bool = True) -> Desk:
    """Queues and inbound entry points for SMS and email on one team; with ``outbound`` also an
    outbound entry point of the same address for each."""
    admin = center.admin
    team_id = await admin.team(f"team-{uuid.uuid4().hex[:6]}")
    sms_address, email_address = _phone(), f"care-{uuid.uuid4().hex[:6]}@example.com"
    queues = {}
    for channel, address in (("SMS", sms_address), ("EMAIL", email_address)):
        queue = await admin.make(
            "Queue",
            name=f"{channel.lower()}-{uuid.uuid4().hex[:6]}",
            channel=channel,
            teamIds=[team_id],
            offerTimeoutSeconds=30,
        )
        queues[channel] = queue["id"]
        await entry_point(center, channel, "INBOUND", address, queueId=queue["id"])
    sms_ep = email_ep = ""
    if outbound:
        sms_ep = await entry_point(center, "SMS", "OUTBOUND", sms_address)
        email_ep = await entry_point(center, "EMAIL", "OUTBOUND", email_address)
    return Desk(
        center,
        team_id,
        sms_ep,
        sms_address,
        email_ep,
        email_address,
        queues["SMS"],
        queues["EMAIL"],
        await wrap_up_code(center),
    )


async def inbound_line(center: Center, channel: str, team_id: str, offer_timeout: int = 30) -> Line:
    """A queue of ``channel`` served by the team, and an inbound entry point feeding it."""
    queue = await center.admin.make(
        "Queue",
        name=f"{channel.lower()}-{uuid.uuid4().hex[:6]}",
        channel=channel,
        teamIds=[team_id],
        offerTimeoutSeconds=offer_timeout,
    )
    address = {"VOICE": _phone(), "SMS": _phone(), "EMAIL": customer_email()}.get(
        channel, f"{channel.lower()}-{uuid.uuid4().hex[:6]}"
    )
    made = await entry_point(center, channel, "INBOUND", address, queueId=queue["id"])
    return Line(queue["id"], made, team_id, channel)


async def entry_point(
    center: Center, channel: str, direction: str, address: str, **fields: Any
) -> str:
    made = await center.admin.make(
        "EntryPoint",
        name=f"{channel.lower()}-{direction.lower()}-{uuid.uuid4().hex[:6]}",
        channel=channel,
        direction=direction,
        address=address,
        **fields,
    )
    return str(made["id"])


async def profile(
    center: Center,
    *,
    sms: tuple[int, int] = (3, 2),
    email: tuple[int, int] = (3, 2),
    voice: tuple[int, int] = (1, 0),
    chat: tuple[int, int] = (0, 0),
    mode: str = "BLENDED",
    **others: tuple[int, int],
) -> str:
    """(maxConcurrent, maxOutbound) per channel (``others``: e.g. ``work_item=(1, 0)``); a
    channel at (0, 0) is left out."""
    limits = {"SMS": sms, "EMAIL": email, "VOICE": voice, "CHAT": chat}
    limits |= {name.upper(): value for name, value in others.items()}
    channels = [
        {"channel": channel, "maxConcurrent": concurrent, "maxOutbound": outbound}
        for channel, (concurrent, outbound) in limits.items()
        if concurrent
    ]
    made = await center.admin.make(
        "MultimediaProfile",
        name=f"profile-{uuid.uuid4().hex[:6]}",
        channels=channels,
        voiceMode=mode,
    )
    return str(made["id"])


async def agent(desk: Desk, **limits: Any) -> tuple[str, str]:
    """A logged-in AVAILABLE agent of the desk's team (id, bearer)."""
    return await desk.center.logged_in_agent(desk.team_id, await profile(desk.center, **limits))


async def start(center: Center, bearer: str, **fields: Any) -> dict[str, Any]:
    return await center.call(bearer, START_OUTBOUND, **fields)


async def started(center: Center, bearer: str, **fields: Any) -> dict[str, Any]:
    """The task of a conversation that must start."""
    outcome = await start(center, bearer, **fields)
    assert outcome["__typename"] == "StartOutboundConversationSuccess", outcome
    return dict(outcome["task"])


async def sms(desk: Desk, bearer: str, to: str, text: str = "Hello", **fields: Any) -> dict:
    return await started(desk.center, bearer, channel="SMS", to=to, text=text, **fields)


async def email(
    desk: Desk, bearer: str, to: str, subject: str, text: str = "Hello", **fields: Any
) -> dict:
    return await started(
        desk.center, bearer, channel="EMAIL", to=to, subject=subject, text=text, **fields
    )


async def reply(desk: Desk, channel: str, customer: str, text: str, **fields: Any) -> dict:
    address = desk.sms_address if channel == "SMS" else desk.email_address
    return await desk.center.call(
        desk.center.connector,
        REPORT_REPLY,
        channel=channel,
        entryPointAddress=address,
        **{"from": customer},
        text=text,
        **fields,
    )


END_CONVERSATION = f"""
mutation($input: TaskInput!) {{
  endConversation(input: $input) {{ {OUTCOME} ... on EndConversationSuccess {{ task {{ id }} }} }}
}}"""


async def end(desk: Desk, bearer: str, task_id: str, channel: str) -> None:
    """A call ends with endCall, a digital interaction with endConversation."""
    if channel == "VOICE":
        ended = await desk.center.call(bearer, END_CALL, taskId=task_id)
    else:
        ended = await desk.center.call(bearer, END_CONVERSATION, taskId=task_id)
    assert ended["__typename"].endswith("Success"), ended


async def close(
    desk: Desk, bearer: str, task_id: str, *codes: str, channel: str = "SMS"
) -> dict[str, Any]:
    """End the interaction and wrap it up (the desk's code unless ``codes``): CLOSED."""
    await end(desk, bearer, task_id, channel)
    wrapped = await desk.center.call(
        bearer, SUBMIT_WRAP_UP, taskId=task_id, wrapUpCodeIds=list(codes or [desk.wrap_up_code])
    )
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    assert wrapped["task"]["status"] == "CLOSED", wrapped
    return dict(wrapped["task"])


def failure(outcome: dict[str, Any]) -> tuple[str, str]:
    """A result's type and error code."""
    return outcome["__typename"], outcome.get("code", "")


def violation(outcome: dict[str, Any]) -> tuple[str, str]:
    assert outcome["__typename"] == "ValidationError", outcome
    return outcome["field"], outcome["rule"]
