"""Call control of a voice task through the public API (issue #4, seed 002): answer, hold and
resume, end and wrap-up (incl. its timeout), recording, the customer hanging up and supervisor
monitoring. Who may do what, the timeline and the races are in ``test_call_integrity.py``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api.calls import (
    END_CALL,
    HOLD_CALL,
    MONITOR_CALL,
    PAUSE_RECORDING,
    REPORT_CUSTOMER_LEFT,
    RESUME_CALL,
    RESUME_RECORDING,
    STOP_MONITORING,
    SUBMIT_WRAP_UP,
    answered_call,
    call_task,
    change_of,
    event_of,
    moved,
    one_call,
    participant,
    refusal,
    roles,
    set_policies,
    task_events,
    voice_agent,
    wrap_up_code,
)
from tests.api.center import (
    AGENT_EVENTS,
    OFFER_EVENTS,
    SET_NEXT_STATE,
    Center,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.client import GraphQLErrors
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


# --- answer, hold, resume -----------------------------------------------------------------------


@pytest.mark.parametrize(("recording_enabled", "recording"), [(True, "RECORDING"), (False, "OFF")])
async def test_answering_joins_customer_and_primary_agent_and_records_under_the_policy(
    center: Center, recording_enabled: bool, recording: str
) -> None:
    await set_policies(center, recordingEnabled=recording_enabled)
    line = await center.line("VOICE")
    agent_id, bearer = await voice_agent(center, line)

    call = await answered_call(center, line, bearer, ani="+15552223333")

    task = call.task
    assert (task["status"], task["agentId"], roles(task)) == (
        "CONNECTED",
        agent_id,
        ["CUSTOMER", "PRIMARY_AGENT"],
    )
    assert participant(task, "CUSTOMER")["address"] == "+15552223333"
    assert participant(task, "PRIMARY_AGENT")["agentId"] == agent_id
    assert [p["held"] for p in task["participants"]] == [False, False]
    assert task["recording"] == {
        "state": recording,
        "pauseCount": 0,
        "pausedAt": None,
        "resumesAt": None,
    }


async def test_hold_then_resume_and_a_held_call_cannot_be_ended(center: Center) -> None:
    call = await one_call(center)

    held = await moved(center, call.bearer, HOLD_CALL, taskId=call.task_id)
    again = await center.call(call.bearer, HOLD_CALL, taskId=call.task_id)
    ending = await center.call(call.bearer, END_CALL, taskId=call.task_id)
    unchanged = await call_task(center, call.task_id)
    resumed = await moved(center, call.bearer, RESUME_CALL, taskId=call.task_id, party="CUSTOMER")

    assert (held["status"], participant(held, "CUSTOMER")["held"]) == ("HELD", True)
    assert (refusal(again), again["currentState"]) == (
        ("InvalidStateError", "INVALID_STATE"),
        "HELD",
    )
    assert refusal(ending) == ("RejectedError", "CALL_ON_HOLD")
    assert (unchanged["status"], unchanged["version"]) == ("HELD", held["version"])
    assert (resumed["status"], participant(resumed, "CUSTOMER")["held"]) == ("CONNECTED", False)
    assert resumed["version"] > held["version"]


# --- end and wrap-up ----------------------------------------------------------------------------


async def test_ending_asks_for_exactly_one_known_reason_then_closes_and_routes_the_next_call(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    agent_id, bearer = await voice_agent(center, line)
    call = await answered_call(center, line, bearer)
    resolved, billing = await wrap_up_code(center, "Resolved"), await wrap_up_code(center, "Bill")

    ended = await moved(center, bearer, END_CALL, taskId=call.task_id)
    waiting = await center.report(line)
    none = await center.call(bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=[])
    two = await center.call(
        bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=[resolved, billing]
    )
    unknown = await center.call(bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=["x"])
    closed = await moved(
        center, bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=[resolved]
    )
    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        offered = await next_matching(next_offer, lambda e: e.get("taskId") == waiting["id"])

    primary = participant(ended, "PRIMARY_AGENT")
    assert (ended["status"], primary["wrapUpDue"], roles(ended)) == ("WRAP_UP", True, [])
    assert (ended["recording"]["state"], ended["callEndedAt"] is not None) == ("STOPPED", True)
    assert waiting["status"] == "QUEUED"  # the agent's voice slot is taken until the wrap-up
    for refused in (none, two):
        assert (refused["__typename"], refused["field"], refused["rule"]) == (
            "ValidationError",
            "wrapUpCodeIds",
            "exactly:1",
        )
    assert (unknown["__typename"], unknown["rule"]) == ("ValidationError", "reference")
    assert (closed["status"], participant(closed, "PRIMARY_AGENT")["wrapUpDue"]) == (
        "CLOSED",
        False,
    )
    assert [(w["agentId"], w["wrapUpCodeIds"], w["cause"]) for w in closed["wrapUps"]] == [
        (agent_id, [resolved], {"kind": "AGENT", "id": agent_id})
    ]
    spent = closed["durations"]
    assert spent["talkSeconds"] >= 0
    assert spent["handleSeconds"] == pytest.approx(
        spent["talkSeconds"] + spent["holdSeconds"] + spent["wrapUpSeconds"], abs=0.002
    )
    assert (offered["taskId"], offered["offer"]["agentId"]) == (waiting["id"], agent_id)


async def test_a_pending_idle_state_applies_when_the_call_is_wrapped_up(center: Center) -> None:
    call = await one_call(center)
    lunch, resolved = await idle_code(center, "Lunch"), await wrap_up_code(center)

    pending = await center.call(call.bearer, SET_NEXT_STATE, state="IDLE", idleCodeId=lunch)
    await moved(center, call.bearer, END_CALL, taskId=call.task_id)
    async with subscription(center.server, call.bearer, AGENT_EVENTS, after=0) as next_event:
        await moved(
            center, call.bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=[resolved]
        )
        applied = await next_matching(next_event, lambda e: e["__typename"] == "AgentStateChanged")

    assert (pending["__typename"], pending["agentSession"]["state"]) == (
        "SetNextStateSuccess",
        "AVAILABLE",
    )
    assert (applied["toState"], applied["reason"]) == ("IDLE", "NEXT_STATE_APPLIED")
    session = await center.session(call.bearer)
    assert (session["state"], session["stateReason"], session["activeTaskCount"]) == (
        "IDLE",
        "NEXT_STATE_APPLIED",
        0,
    )


async def test_an_unanswered_wrap_up_times_out_to_the_default_reason(center: Center) -> None:
    default = await wrap_up_code(center, "Timed out")
    await set_policies(center, wrapUpTimeoutSeconds=5, defaultWrapUpCodeId=default)
    call = await one_call(center)

    async with task_events(center, center.supervisor, call.task_id) as next_event:
        await moved(center, call.bearer, END_CALL, taskId=call.task_id)
        started = await event_of(next_event, "WRAP_UP_STARTED")
        submitted = await event_of(next_event, "WRAP_UP_SUBMITTED")
        closed = await next_event()

    assert (started["agentId"], started["deadline"] is not None) == (call.agent_id, True)
    assert (submitted["cause"]["kind"], submitted["wrapUpCodeIds"]) == ("SYSTEM", [default])
    assert (change_of(closed), closed["status"]) == ("CLOSED", "CLOSED")
    task = await call_task(center, call.task_id)
    assert [(w["agentId"], w["wrapUpCodeIds"], w["cause"]["kind"]) for w in task["wrapUps"]] == [
        (call.agent_id, [default], "SYSTEM")
    ]


# --- recording ----------------------------------------------------------------------------------


async def test_a_paused_recording_resumes_by_hand_or_by_itself(center: Center) -> None:
    await set_policies(center, recordingPauseSeconds=5)
    call = await one_call(center)

    paused = await moved(center, call.bearer, PAUSE_RECORDING, taskId=call.task_id)
    resumed = await moved(center, call.bearer, RESUME_RECORDING, taskId=call.task_id)
    async with task_events(center, call.bearer, call.task_id) as next_event:
        again = await moved(center, call.bearer, PAUSE_RECORDING, taskId=call.task_id)
        by_hand = await event_of(next_event, "RECORDING_RESUMED")
        by_itself = await event_of(next_event, "RECORDING_RESUMED")

    assert (paused["recording"]["state"], paused["recording"]["pauseCount"]) == ("PAUSED", 1)
    pause = datetime.fromisoformat(paused["recording"]["resumesAt"]) - datetime.fromisoformat(
        paused["recording"]["pausedAt"]
    )
    assert pause == timedelta(seconds=5)
    assert (resumed["recording"]["state"], resumed["recording"]["resumesAt"]) == ("RECORDING", None)
    assert (again["recording"]["state"], again["recording"]["pauseCount"]) == ("PAUSED", 2)
    assert (by_hand["cause"]["kind"], by_itself["cause"]["kind"]) == ("AGENT", "SYSTEM")
    assert (await call_task(center, call.task_id))["recording"]["state"] == "RECORDING"


# --- the customer hangs up ----------------------------------------------------------------------


async def test_the_customer_hanging_up_on_the_primary_alone_ends_the_call(center: Center) -> None:
    call = await one_call(center)
    queued = await center.report(await center.line("VOICE"))  # nobody to take it

    left = await moved(center, center.connector, REPORT_CUSTOMER_LEFT, taskId=call.task_id)
    too_early = await center.call(center.connector, REPORT_CUSTOMER_LEFT, taskId=queued["id"])
    with pytest.raises(GraphQLErrors) as by_agent:
        await center.call(call.bearer, REPORT_CUSTOMER_LEFT, taskId=call.task_id)

    assert (left["status"], participant(left, "PRIMARY_AGENT")["wrapUpDue"]) == ("WRAP_UP", True)
    assert participant(left, "CUSTOMER")["leftAt"] is not None
    assert (refusal(too_early), too_early["currentState"]) == (
        ("InvalidStateError", "INVALID_STATE"),
        "QUEUED",
    )
    assert by_agent.value.codes == ["FORBIDDEN"]


# --- supervisor ---------------------------------------------------------------------------------


async def test_a_supervisor_monitors_silently_without_control(center: Center) -> None:
    call = await one_call(center)

    watching = await moved(center, center.supervisor, MONITOR_CALL, taskId=call.task_id)
    twice = await center.call(center.supervisor, MONITOR_CALL, taskId=call.task_id)
    refused = []
    for operation in (HOLD_CALL, END_CALL, PAUSE_RECORDING):
        with pytest.raises(GraphQLErrors) as error:
            await center.call(center.supervisor, operation, taskId=call.task_id)
        refused.append(error.value.codes)
    with pytest.raises(GraphQLErrors) as by_agent:
        await center.call(call.bearer, MONITOR_CALL, taskId=call.task_id)
    stopped = await moved(center, center.supervisor, STOP_MONITORING, taskId=call.task_id)

    supervisor = participant(watching, "SUPERVISOR")
    assert (supervisor["agentId"], watching["status"]) == ("supervisor-1", "CONNECTED")
    assert (refusal(twice), twice["currentState"]) == (
        ("InvalidStateError", "INVALID_STATE"),
        "MONITORING",
    )
    assert refused == [["FORBIDDEN"]] * 3
    assert by_agent.value.codes == ["FORBIDDEN"]
    assert participant(stopped, "SUPERVISOR")["leftAt"] is not None
    assert (roles(stopped), stopped["status"]) == (["CUSTOMER", "PRIMARY_AGENT"], "CONNECTED")
