"""Courtesy and web callbacks through the real server (SPEC §6, §9; seed 002): a waiting caller
keeps their place as a callback; the popover says Callback with number, DNIS, queue and waited
time; after accepting, the customer answers (an ordinary call), does not answer (back to the queue
with its age, the agent freed) or the agent cancels first (wrap-up)."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.callbacks import (
    CALLBACK_EVENTS,
    CALLBACK_OFFER_EVENTS,
    CALLBACK_TASK_BY_ID,
    CANCEL_CALLBACK,
    REPORT_CALLBACK_ANSWERED,
    REPORT_CALLBACK_NOT_ANSWERED,
    REQUEST_COURTESY_CALLBACK,
    REQUEST_WEB_CALLBACK,
    CallbackCenter,
    callback_center,
    next_change,
    offer_of,
)
from tests.api.calls import END_CALL, SUBMIT_WRAP_UP, TASK_HISTORY, create_wrap_up_code
from tests.api.center import ACCEPT_OFFER, Center, NextItem, subscription
from tests.api.client import GraphQLErrors
from tests.api.server import Server


async def accepted_callback(setup: CallbackCenter, bearer: str, task_id: str) -> dict[str, object]:
    center = setup.center
    async with subscription(center.server, bearer, CALLBACK_OFFER_EVENTS, after=0) as next_offer:
        offer = await offer_of(next_offer, task_id)
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=offer["id"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    return offer


async def web_callback(setup: CallbackCenter, **fields: object) -> dict[str, object]:
    outcome = await setup.center.call(
        setup.center.connector,
        REQUEST_WEB_CALLBACK,
        **({"customerName": "Grace Hopper", "customerNumber": "+1 555 010 9999"} | fields),
    )
    assert outcome["__typename"] == "RequestWebCallbackSuccess", outcome
    return outcome["task"]


async def test_a_courtesy_callback_keeps_its_place_and_is_offered_as_a_callback(
    server: Server, org_id: str
) -> None:
    center = Center(server, org_id)
    setup = await callback_center(center)
    profile = await center.profile(voice=1)
    first = await center.report(setup.line, ani="+15550001001")
    second = await center.report(setup.line, ani="+15550001002", dnis="+15550009000")

    made = await center.call(
        center.connector, REQUEST_COURTESY_CALLBACK, taskId=second["id"], number="+1 555 000 2002"
    )
    assert made["__typename"] == "RequestCourtesyCallbackSuccess", made
    task = made["task"]
    assert (task["kind"], task["status"], task["queuedAt"]) == (
        "CALLBACK",
        "QUEUED",
        second["queuedAt"],
    )
    assert task["callback"]["type"] == "COURTESY"
    assert task["callback"]["number"] == "+1 555 000 2002"

    # The plain call that waited longer is still served first; the callback right after it.
    agent_id, bearer = await center.logged_in_agent(setup.line.team_id, profile)
    async with subscription(server, bearer, CALLBACK_OFFER_EVENTS, after=0) as next_offer:
        first_offer = await offer_of(next_offer, first["id"])
        assert first_offer["kind"] == "NORMAL"
        assert (await center.call(bearer, ACCEPT_OFFER, offerId=first_offer["id"]))[
            "__typename"
        ] == "AcceptOfferSuccess"
        ended = await center.call(bearer, END_CALL, taskId=first["id"])
        assert ended["__typename"] == "EndCallSuccess", ended
        await _wrap_up(center, bearer, first["id"])
        offer = await offer_of(next_offer, second["id"])

    assert offer["kind"] == "CALLBACK"
    assert offer["callbackType"] == "COURTESY"
    assert offer["callbackNumber"] == "+1 555 000 2002"
    assert offer["queueId"] == setup.line.queue_id
    assert offer["dnis"] == "+15550009000"  # the number the customer had dialled
    assert offer["queuedAt"] == second["queuedAt"]
    assert offer["waitedSeconds"] >= 0
    assert offer["agentId"] == agent_id


async def test_a_courtesy_callback_is_only_for_a_call_still_waiting(
    server: Server, org_id: str
) -> None:
    center = Center(server, org_id)
    setup = await callback_center(center)
    task = await center.report(setup.line)
    await center.call(center.connector, REQUEST_COURTESY_CALLBACK, taskId=task["id"])

    again = await center.call(center.connector, REQUEST_COURTESY_CALLBACK, taskId=task["id"])
    bad_number = await center.report(setup.line)
    short = await center.call(
        center.connector, REQUEST_COURTESY_CALLBACK, taskId=bad_number["id"], number="12345"
    )
    with pytest.raises(GraphQLErrors) as as_agent:
        await center.call(
            center.agent_token("someone"), REQUEST_COURTESY_CALLBACK, taskId=task["id"]
        )

    assert (again["__typename"], again["currentState"]) == ("InvalidStateError", "CALLBACK")
    assert (short["__typename"], short["field"], short["rule"]) == (
        "ValidationError",
        "number",
        "length:7-15",
    )
    assert as_agent.value.codes == ["FORBIDDEN"]


async def test_a_web_callback_is_queued_in_the_callback_entry_points_queue_with_its_reason(
    server: Server, org_id: str
) -> None:
    center = Center(server, org_id)
    setup = await callback_center(center)

    async with subscription(server, center.supervisor, CALLBACK_EVENTS, after=0) as events:
        task = await web_callback(setup, reason="Billing question")
        requested = await next_change(events, "REQUESTED", task["id"])
    history = await center.query(center.supervisor, TASK_HISTORY, id=task["id"])

    assert (task["kind"], task["status"], task["channel"]) == ("CALLBACK", "QUEUED", "VOICE")
    assert task["queueId"] == setup.line.queue_id
    assert task["entryPointId"] == setup.entry_point_id
    assert task["dnis"] == setup.dial_address
    assert task["customer"] == {
        "name": "Grace Hopper",
        "customerId": None,
        "address": "+1 555 010 9999",
    }
    assert task["callback"]["type"] == "WEB"
    assert task["cad"] == [{"name": "callbackReason", "value": "Billing question"}]
    assert (requested["type"], requested["taskId"]) == ("WEB", task["id"])
    assert requested["cause"] == {"kind": "INTEGRATION", "id": "connector-1"}
    assert [(h.get("lifecycle"), h.get("because")) for h in history["history"]] == [
        ("QUEUED", "CALLBACK")
    ]


async def test_a_web_callback_names_every_broken_rule_and_needs_the_callback_entry_point(
    server: Server, org_id: str
) -> None:
    center = Center(server, org_id)
    line = await center.line("VOICE")
    missing = await center.call(
        center.connector, REQUEST_WEB_CALLBACK, customerName="Ada", customerNumber="+15550100"
    )
    setup = await callback_center(center)
    chat = await center.line("CHAT")

    broken = await center.call(
        center.connector,
        REQUEST_WEB_CALLBACK,
        customerName="Al",
        customerNumber="555-01",
        reason="x" * 251,
        queueId=chat.queue_id,
    )

    assert (missing["__typename"], missing["code"]) == ("RejectedError", "NO_ENTRY_POINT")
    assert broken["__typename"] == "ValidationError"
    assert {(v["field"], v["rule"]) for v in broken["violations"]} == {
        ("customerName", "length:3-250"),
        ("customerNumber", "length:7-15"),
        ("reason", "max_length:250"),
        ("queueId", "not_telephony"),
    }
    assert len(broken["violations"]) == 4
    assert line.queue_id != setup.line.queue_id


async def test_an_answered_callback_becomes_an_ordinary_call(server: Server, org_id: str) -> None:
    center = Center(server, org_id)
    setup = await callback_center(center)
    profile = await center.profile(voice=1)
    _, bearer = await center.logged_in_agent(setup.line.team_id, profile)
    task = await web_callback(setup)
    await accepted_callback(setup, bearer, task["id"])

    dialling = await center.query(bearer, CALLBACK_TASK_BY_ID, id=task["id"])
    answered = await center.call(center.connector, REPORT_CALLBACK_ANSWERED, taskId=task["id"])
    cancel_late = await center.call(bearer, CANCEL_CALLBACK, taskId=task["id"])
    ended = await center.call(bearer, END_CALL, taskId=task["id"])

    assert dialling["status"] == "CONNECTED"
    assert [p["role"] for p in dialling["participants"]] == ["PRIMARY_AGENT"]
    assert answered["__typename"] == "ReportCallbackAnsweredSuccess", answered
    assert [p["role"] for p in answered["task"]["participants"]] == ["PRIMARY_AGENT", "CUSTOMER"]
    assert answered["task"]["callback"]["answeredAt"] is not None
    assert (cancel_late["__typename"], cancel_late["currentState"]) == (
        "InvalidStateError",
        "CUSTOMER_ANSWERED",
    )
    assert ended["__typename"] == "EndCallSuccess"
    assert ended["task"]["status"] == "WRAP_UP"


async def test_an_unanswered_callback_returns_to_its_queue_keeping_its_age_and_frees_the_agent(
    server: Server, org_id: str
) -> None:
    center = Center(server, org_id)
    setup = await callback_center(center)
    profile = await center.profile(voice=1)
    task = await web_callback(setup)
    agent_id, bearer = await center.logged_in_agent(setup.line.team_id, profile)
    await accepted_callback(setup, bearer, task["id"])
    busy = await center.session(bearer)

    outcome = await center.call(center.connector, REPORT_CALLBACK_NOT_ANSWERED, taskId=task["id"])
    again = await center.call(center.connector, REPORT_CALLBACK_NOT_ANSWERED, taskId=task["id"])

    assert busy["activeTaskCount"] == 1
    assert outcome["__typename"] == "ReportCallbackNotAnsweredSuccess", outcome
    requeued = outcome["task"]
    assert (requeued["status"], requeued["queuedAt"]) == ("QUEUED", task["queuedAt"])
    assert requeued["callback"]["unanswered"] == 1
    assert requeued["agentId"] is None
    assert [(p["role"], p["wrapUpDue"]) for p in requeued["participants"]] == [
        ("PRIMARY_AGENT", False)
    ]
    assert again["__typename"] == "InvalidStateError"
    # The agent's slot is free: the same callback comes round again (no one else is there).
    async with subscription(server, bearer, CALLBACK_OFFER_EVENTS, after=0) as next_offer:
        offer = await _second_offer(next_offer, task["id"])
    assert offer["agentId"] == agent_id
    assert offer["queuedAt"] == task["queuedAt"]


async def test_a_web_callback_cancelled_before_the_customer_answers_goes_to_wrap_up(
    server: Server, org_id: str
) -> None:
    center = Center(server, org_id)
    setup = await callback_center(center)
    profile = await center.profile(voice=1)
    _, bearer = await center.logged_in_agent(setup.line.team_id, profile)
    task = await web_callback(setup)
    await accepted_callback(setup, bearer, task["id"])
    _, stranger = await center.logged_in_agent(setup.line.team_id, profile)

    by_stranger = await center.call(stranger, CANCEL_CALLBACK, taskId=task["id"])
    cancels = await asyncio.gather(
        *(center.call(bearer, CANCEL_CALLBACK, taskId=task["id"]) for _ in range(5))
    )
    answered_late = await center.call(center.connector, REPORT_CALLBACK_ANSWERED, taskId=task["id"])

    assert by_stranger["__typename"] == "NotFoundError"
    assert (
        sorted(c["__typename"] for c in cancels)
        == ["CancelCallbackSuccess"] + ["InvalidStateError"] * 4
    )
    done = next(c for c in cancels if c["__typename"] == "CancelCallbackSuccess")["task"]
    assert done["status"] == "WRAP_UP"
    assert [(p["role"], p["wrapUpDue"]) for p in done["participants"]] == [("PRIMARY_AGENT", True)]
    assert answered_late["__typename"] == "InvalidStateError"
    assert (await center.session(bearer))["activeTaskCount"] == 1  # until the wrap-up


async def _second_offer(next_offer: NextItem, task_id: str) -> dict[str, object]:
    await offer_of(next_offer, task_id)
    return await offer_of(next_offer, task_id)


async def _wrap_up(center: Center, bearer: str, task_id: str) -> None:
    code = await create_wrap_up_code(center.server, center.org_id)
    done = await center.call(bearer, SUBMIT_WRAP_UP, taskId=task_id, wrapUpCodeIds=[code])
    assert done["__typename"] == "SubmitWrapUpSuccess", done
