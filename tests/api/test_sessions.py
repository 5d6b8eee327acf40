"""Omnichannel sessions through the public API (SPEC §8, §11; seed 003): several contacts at once
in the glance view, elevation per the table (allowed and refused pairs), "new" instead of
elevating, and a session that completes only when every interaction is wrapped up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.calls import SUBMIT_WRAP_UP, history, participant, wrap_up_code
from tests.api.center import ACCEPT_OFFER, OUTCOME, Center, Line
from tests.api.conversation_helpers import (
    CONVERSATION_TASK,
    MESSAGE,
    Desk,
    agent,
    close,
    customer_email,
    customer_phone,
    desk,
    email,
    end,
    entry_point,
    failure,
    inbound_line,
    profile,
    sms,
    violation,
)
from tests.api.server import Server

ELEVATE = f"""
mutation($input: NewInteractionInput!) {{
  elevateContact(input: $input) {{
    {OUTCOME}
    ... on ElevateContactSuccess {{
      source {{ {CONVERSATION_TASK} }} task {{ {CONVERSATION_TASK} }} firstMessage {{ {MESSAGE} }}
    }}
  }}
}}"""
NEW_CONTACT = f"""
mutation($input: NewInteractionInput!) {{
  startNewContact(input: $input) {{
    {OUTCOME}
    ... on StartNewContactSuccess {{ held {{ {CONVERSATION_TASK} }} task {{ {CONVERSATION_TASK} }} }}
  }}
}}"""
RESUME_CONTACT = f"""
mutation($input: ResumeContactInput!) {{
  resumeContact(input: $input) {{
    {OUTCOME} ... on ResumeContactSuccess {{ task {{ {CONVERSATION_TASK} }} }}
  }}
}}"""
MY_WORKLOAD = """{ myWorkload { activeTaskCount channels {
    channel maxConcurrent maxOutbound activeCount outboundCount pendingOffers tasks { id } } } }"""
CONTACT_SESSION = """query($id: ID!) { contactSession(id: $id) {
    id status completedAt
    interactions { channel status disposition awaitingDisposition task { id sessionId } } } }"""
INBOUND = ("VOICE", "CHAT", "EMAIL", "SMS", "SOCIAL", "WORK_ITEM", "VOICEMAIL")


@dataclass
class Omni:
    """An agent of a team that serves every channel, with room on each."""

    desk: Desk
    lines: dict[str, Line]
    agent_id: str
    bearer: str

    @property
    def center(self) -> Center:
        return self.desk.center


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def omni(center: Center) -> Omni:
    setup = await desk(center)
    await entry_point(center, "VOICE", "OUTBOUND", "+15550001000")
    lines = {ch: await inbound_line(center, ch, setup.team_id) for ch in INBOUND}
    agent_id, bearer = await agent(
        setup,
        voice=(1, 0),
        chat=(3, 0),
        email=(5, 5),
        sms=(5, 5),
        social=(1, 0),
        work_item=(1, 0),
        voicemail=(1, 0),
    )
    return Omni(setup, lines, agent_id, bearer)


async def handling(omni: Omni, channel: str, **report: Any) -> dict[str, Any]:
    """An inbound contact of ``channel``, offered to the agent at once and accepted."""
    reported = await omni.center.report(omni.lines[channel], **report)
    assert reported["status"] == "OFFERED", reported
    accepted = await omni.center.call(omni.bearer, ACCEPT_OFFER, offerId=reported["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    return dict(accepted["task"])


async def elevate(omni: Omni, task_id: str, channel: str, **parts: Any) -> dict[str, Any]:
    return await omni.center.call(omni.bearer, ELEVATE, taskId=task_id, channel=channel, **parts)


def email_part(subject: str = "Your case") -> dict[str, Any]:
    return {"to": customer_email(), "subject": subject, "text": "As promised, the details."}


def sms_part(omni: Omni) -> dict[str, Any]:
    return {"number": customer_phone(), "queueId": omni.desk.sms_queue, "text": "Hi again"}


def voice_part(omni: Omni) -> dict[str, Any]:
    return {"number": "+4930555123", "queueId": omni.lines["VOICE"].queue_id}


async def session_of(omni: Omni, session_id: str, bearer: str | None = None) -> Any:
    return await omni.center.query(bearer or omni.bearer, CONTACT_SESSION, id=session_id)


async def test_several_contacts_at_once_are_grouped_by_channel_against_the_profile(
    omni: Omni,
) -> None:
    """Seed 003, the glance view: every active contact by channel."""
    chat = await handling(omni, "CHAT")
    texted = await sms(omni.desk, omni.bearer, customer_phone())
    mailed = await email(omni.desk, omni.bearer, customer_email(), "Welcome")

    workload = await omni.center.query(omni.bearer, MY_WORKLOAD)

    assert workload["activeTaskCount"] == 3
    by_channel = {
        c["channel"]: (
            c["activeCount"],
            c["maxConcurrent"],
            c["outboundCount"],
            c["maxOutbound"],
            [t["id"] for t in c["tasks"]],
        )
        for c in workload["channels"]
    }
    assert by_channel["CHAT"] == (1, 3, 0, 0, [chat["id"]])
    assert by_channel["SMS"] == (1, 5, 1, 5, [texted["id"]])
    assert by_channel["EMAIL"] == (1, 5, 1, 5, [mailed["id"]])
    assert by_channel["VOICE"] == (0, 1, 0, 0, [])
    assert len(workload["channels"]) == 7


async def test_a_chat_elevated_to_email_sms_and_voice_stays_one_session_of_one_customer(
    omni: Omni,
) -> None:
    """Seed 003: elevation creates a new interaction in the same session, with the inputs each
    channel needs (email: To/Subject/Body; voice: number and outbound skill; SMS: number and SMS
    skill)."""
    chat = await handling(omni, "CHAT", customer={"name": "Grace", "customerId": "grace-1"})

    to_email = await elevate(omni, chat["id"], "EMAIL", email=email_part())
    to_sms = await elevate(omni, chat["id"], "SMS", sms=sms_part(omni))
    to_voice = await elevate(omni, chat["id"], "VOICE", voice=voice_part(omni))
    second_call = await elevate(omni, chat["id"], "VOICE", voice=voice_part(omni))

    made = [to_email, to_sms, to_voice]
    assert [m["__typename"] for m in made] == ["ElevateContactSuccess"] * 3, made
    tasks = [m["task"] for m in made]
    assert [t["channel"] for t in tasks] == ["EMAIL", "SMS", "VOICE"]
    assert {(t["sessionId"], t["direction"], t["status"]) for t in tasks} == {
        (chat["id"], "OUTBOUND", "CONNECTED")
    }
    assert {t["customer"]["customerId"] for t in tasks} == {"grace-1"}
    assert participant(tasks[2], "CUSTOMER")["address"] == "+4930555123"
    assert to_email["firstMessage"]["text"] == "As promised, the details."
    assert to_email["source"]["status"] == "CONNECTED"
    assert failure(second_call) == ("RejectedError", "CAPACITY_EXCEEDED")
    session = await session_of(omni, chat["id"])
    assert (session["id"], session["status"], session["completedAt"]) == (
        chat["id"],
        "ACTIVE",
        None,
    )
    assert [i["channel"] for i in session["interactions"]] == ["CHAT", "EMAIL", "SMS", "VOICE"]


async def test_elevation_follows_the_table_from_every_channel(omni: Omni) -> None:
    """Allowed pairs from each channel succeed; a pair outside the table, from each channel, is
    ELEVATION_NOT_ALLOWED (the full 7x7 matrix is tests/domain/test_elevation.py)."""
    outcomes: dict[tuple[str, str], str] = {}

    async def attempt(task_id: str, source: str, target: str, **parts: Any) -> None:
        outcome = await elevate(omni, task_id, target, **parts)
        outcomes[(source, target)] = outcome.get("code") or outcome["__typename"]

    call = await handling(omni, "VOICE")
    await attempt(call["id"], "VOICE", "EMAIL", email=email_part())
    await attempt(call["id"], "VOICE", "VOICE", voice=voice_part(omni))
    await close(omni.desk, omni.bearer, call["id"], channel="VOICE")
    texted = await handling(omni, "SMS", customer={"name": "Ada", "address": customer_phone()})
    await attempt(texted["id"], "SMS", "VOICE", voice=voice_part(omni))
    await attempt(texted["id"], "SMS", "SMS", sms=sms_part(omni))
    mailed = await handling(omni, "EMAIL", customer={"name": "Ada", "address": customer_email()})
    await attempt(mailed["id"], "EMAIL", "SMS", sms=sms_part(omni))
    await attempt(mailed["id"], "EMAIL", "EMAIL", email=email_part())
    await attempt(mailed["id"], "EMAIL", "CHAT")
    chat = await handling(omni, "CHAT")
    await attempt(chat["id"], "CHAT", "CHAT")
    item = await handling(omni, "WORK_ITEM")
    await attempt(item["id"], "WORK_ITEM", "EMAIL", email=email_part())
    await attempt(item["id"], "WORK_ITEM", "WORK_ITEM")
    voicemail = await handling(omni, "VOICEMAIL")
    await attempt(voicemail["id"], "VOICEMAIL", "SMS", sms=sms_part(omni))
    await attempt(voicemail["id"], "VOICEMAIL", "CHAT")
    social = await handling(omni, "SOCIAL")
    await attempt(social["id"], "SOCIAL", "EMAIL", email=email_part())
    await attempt(social["id"], "SOCIAL", "SMS", sms=sms_part(omni))

    allowed = {
        ("VOICE", "EMAIL"),
        ("SMS", "VOICE"),
        ("EMAIL", "SMS"),
        ("WORK_ITEM", "EMAIL"),
        ("VOICEMAIL", "SMS"),
    }
    assert {pair for pair, code in outcomes.items() if code == "ElevateContactSuccess"} == allowed
    refused = {pair for pair, code in outcomes.items() if code == "ELEVATION_NOT_ALLOWED"}
    assert refused == set(outcomes) - allowed
    assert len(refused) == 9


async def test_each_channel_needs_its_own_inputs(omni: Omni) -> None:
    chat = await handling(omni, "CHAT")
    task_id = chat["id"]

    no_email = await elevate(omni, task_id, "EMAIL")
    both = await elevate(omni, task_id, "EMAIL", email=email_part(), sms=sms_part(omni))
    no_body = await elevate(omni, task_id, "EMAIL", email={"to": customer_email(), "subject": "S"})
    bad_to = await elevate(omni, task_id, "EMAIL", email=email_part() | {"to": "nobody"})
    local = await elevate(omni, task_id, "SMS", sms=sms_part(omni) | {"number": "0301234567"})
    wrong_skill = await elevate(
        omni, task_id, "VOICE", voice={"number": "+4930555123", "queueId": omni.desk.sms_queue}
    )
    others = await omni.desk.center.logged_in_agent(
        omni.desk.team_id, await profile(omni.center, chat=(1, 0))
    )
    not_yours = await omni.center.call(
        others[1], ELEVATE, taskId=task_id, channel="EMAIL", email=email_part()
    )

    assert violation(no_email) == ("email", "required")
    assert violation(both) == ("sms", "only_with_channel")
    assert violation(no_body) == ("email.text", "required")
    assert violation(bad_to) == ("email.to", "email")
    assert violation(local) == ("sms.number", "country_code")
    assert violation(wrong_skill) == ("voice.queueId", "reference")
    assert failure(not_yours) == ("NotFoundError", "NOT_FOUND")


async def test_the_session_completes_only_when_every_interaction_is_wrapped_up(
    omni: Omni,
) -> None:
    """Seed 003: each interaction takes its own disposition; the session is not complete until
    all of them have ended with theirs."""
    other_code = await wrap_up_code(omni.center, "Follow-up sent")
    chat = await handling(omni, "CHAT")
    elevated = await elevate(omni, chat["id"], "EMAIL", email=email_part())
    mail_id = elevated["task"]["id"]

    await close(omni.desk, omni.bearer, chat["id"], channel="CHAT")
    after_chat = await session_of(omni, chat["id"])
    await end(omni.desk, omni.bearer, mail_id, "EMAIL")
    after_end = await session_of(omni, chat["id"])
    wrapped = await omni.center.call(
        omni.bearer,
        SUBMIT_WRAP_UP,
        taskId=mail_id,
        wrapUpCodeIds=[omni.desk.wrap_up_code, other_code],
    )
    complete = await session_of(omni, chat["id"])
    stranger = await omni.desk.center.logged_in_agent(omni.desk.team_id, await profile(omni.center))

    assert after_chat["status"] == "ACTIVE"
    assert [(i["status"], i["disposition"]) for i in after_chat["interactions"]] == [
        ("CLOSED", [omni.desk.wrap_up_code]),
        ("CONNECTED", []),
    ]
    assert after_end["status"] == "ACTIVE"
    assert [(i["status"], i["awaitingDisposition"]) for i in after_end["interactions"]] == [
        ("CLOSED", False),
        ("WRAP_UP", True),
    ]
    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    assert complete["status"] == "COMPLETE"
    assert complete["completedAt"] is not None
    assert complete["interactions"][1]["disposition"] == [omni.desk.wrap_up_code, other_code]
    assert await session_of(omni, chat["id"], stranger[1]) is None
    assert (await session_of(omni, chat["id"], omni.center.supervisor))["status"] == "COMPLETE"
    for task_id in (chat["id"], mail_id):
        told = [
            e
            for e in await history(omni.center, task_id)
            if e["__typename"] == "ContactSessionCompleted"
        ]
        assert len(told) == 1, told
        assert told[0]["cause"] == {"kind": "AGENT", "id": omni.agent_id}


async def test_new_instead_of_elevating_holds_the_current_interaction(omni: Omni) -> None:
    """Seed 003: "New" puts the interaction in hand on hold and starts an unrelated contact."""
    chat = await handling(omni, "CHAT", customer={"name": "Grace", "customerId": "grace-2"})

    made = await omni.center.call(
        omni.bearer, NEW_CONTACT, taskId=chat["id"], channel="SMS", sms=sms_part(omni)
    )
    again = await omni.center.call(
        omni.bearer, NEW_CONTACT, taskId=chat["id"], channel="SMS", sms=sms_part(omni)
    )
    resumed = await omni.center.call(omni.bearer, RESUME_CONTACT, taskId=chat["id"])

    assert made["__typename"] == "StartNewContactSuccess", made
    assert (made["held"]["id"], made["held"]["held"]) == (chat["id"], True)
    new = made["task"]
    assert new["sessionId"] == new["id"] != chat["id"]
    assert new["customer"]["customerId"] != "grace-2"
    assert failure(again) == ("InvalidStateError", "INVALID_STATE")
    assert resumed["__typename"] == "ResumeContactSuccess", resumed
    assert (resumed["task"]["held"], resumed["task"]["status"]) == (False, "CONNECTED")


async def test_new_from_a_call_holds_the_customer(omni: Omni) -> None:
    call = await handling(omni, "VOICE")

    made = await omni.center.call(
        omni.bearer,
        NEW_CONTACT,
        taskId=call["id"],
        channel="EMAIL",
        email=email_part(f"Case {uuid.uuid4().hex[:6]}"),
    )
    resumed = await omni.center.call(omni.bearer, RESUME_CONTACT, taskId=call["id"])

    assert made["__typename"] == "StartNewContactSuccess", made
    assert made["held"]["status"] == "HELD"
    assert participant(made["held"], "CUSTOMER")["held"] is True
    assert made["task"]["channel"] == "EMAIL"
    assert resumed["task"]["status"] == "CONNECTED"
