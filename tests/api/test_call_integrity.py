"""Voice call control through the public API (issue #4): who may make which move (agents not on
the call, wrong token roles, a consulted agent), the task's timeline as streamed and as stored,
idempotent moves, and moves racing each other on one call, many times."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.api.calls import (
    CALL_TASK,
    CONSULT_CALL,
    END_CALL,
    HOLD_CALL,
    PAUSE_RECORDING,
    REPORT_CUSTOMER_LEFT,
    RESUME_CALL,
    RESUME_RECORDING,
    START_CONFERENCE,
    SUBMIT_WRAP_UP,
    TRANSFER_CALL,
    AnsweredCall,
    answered_call,
    call_task,
    change_of,
    history,
    moved,
    one_call,
    participant,
    refusal,
    task_events,
    voice_agent,
    wrap_up_code,
)
from tests.api.center import (
    ACCEPT_OFFER,
    OFFER_EVENTS,
    Center,
    next_matching,
    subscription,
)
from tests.api.client import GraphQLErrors
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


# --- who may do what ----------------------------------------------------------------------------

AGENT_MOVES: list[tuple[str, dict[str, Any]]] = [
    (HOLD_CALL, {}),
    (RESUME_CALL, {}),
    (END_CALL, {}),
    (PAUSE_RECORDING, {}),
    (RESUME_RECORDING, {}),
    (CONSULT_CALL, {"destination": {"kind": "DIAL_NUMBER", "id": "nowhere"}}),
    (TRANSFER_CALL, {}),
    (START_CONFERENCE, {}),
    (SUBMIT_WRAP_UP, {"wrapUpCodeIds": ["any"]}),
]


async def test_agents_not_on_the_call_are_told_it_does_not_exist_and_tokens_need_the_agent_role(
    center: Center,
) -> None:
    call = await one_call(center)
    _, outsider = await voice_agent(center, await center.line("VOICE"))

    unknown = [
        refusal(await center.call(outsider, operation, taskId=call.task_id, **fields))
        for operation, fields in AGENT_MOVES
    ]
    wrong_role = []
    for bearer in (center.connector, center.supervisor):
        for operation, fields in AGENT_MOVES:
            with pytest.raises(GraphQLErrors) as error:
                await center.call(bearer, operation, taskId=call.task_id, **fields)
            wrong_role.append(error.value.codes)

    assert unknown == [("NotFoundError", "NOT_FOUND")] * len(AGENT_MOVES)
    assert wrong_role == [["FORBIDDEN"]] * 2 * len(AGENT_MOVES)
    assert await center.query(outsider, CALL_TASK, id=call.task_id) is None
    async with task_events(center, outsider, call.task_id) as next_event:
        with pytest.raises(TransportQueryError) as not_followed:
            await next_event()
    assert [(e.get("extensions") or {}).get("code") for e in not_followed.value.errors or []] == [
        "NOT_FOUND"
    ]
    assert (await call_task(center, call.task_id))["version"] == call.task["version"]


async def test_a_consulted_agent_may_not_hold_end_transfer_conference_or_wrap_up(
    center: Center,
) -> None:
    call = await one_call(center)
    consulted_id, consulted = await voice_agent(center, await center.line("VOICE"))
    code = await wrap_up_code(center)

    consulting = await moved(
        center,
        call.bearer,
        CONSULT_CALL,
        taskId=call.task_id,
        destination={"kind": "AGENT", "id": consulted_id},
    )
    async with subscription(center.server, consulted, OFFER_EVENTS, after=0) as next_offer:
        made = await next_matching(next_offer, lambda e: e["__typename"] == "OfferMade")
    accepted = await center.call(consulted, ACCEPT_OFFER, offerId=made["offerId"])
    joined = await center.query(consulted, CALL_TASK, id=call.task_id)
    refused = [
        refusal(await center.call(consulted, operation, taskId=call.task_id, **fields))
        for operation, fields in (
            (HOLD_CALL, {}),
            (END_CALL, {}),
            (TRANSFER_CALL, {}),
            (START_CONFERENCE, {}),
            (SUBMIT_WRAP_UP, {"wrapUpCodeIds": [code]}),
        )
    ]

    assert (consulting["status"], participant(consulting, "CUSTOMER")["held"]) == ("HELD", True)
    assert made["offer"]["taskId"] == consulting["consult"]["requestTaskId"]
    assert (accepted["__typename"], accepted["task"]["id"]) == ("AcceptOfferSuccess", call.task_id)
    assert participant(joined, "CONSULTED_AGENT")["agentId"] == consulted_id
    assert refused == [("ForbiddenError", "FORBIDDEN")] * 5
    after = await call_task(center, call.task_id)
    assert (after["status"], after["version"]) == ("HELD", joined["version"])


# --- the timeline -------------------------------------------------------------------------------

CALL_TIMELINE = [
    "QUEUED",
    "OFFERED",
    "CONNECTED",
    "PARTICIPANT_JOINED",
    "PARTICIPANT_JOINED",
    "RECORDING_STARTED",
    "HELD",
    "RESUMED",
    "PARTICIPANT_LEFT",
    "PARTICIPANT_LEFT",
    "RECORDING_STOPPED",
    "CALL_ENDED",
    "WRAP_UP_STARTED",
    "WRAP_UP_SUBMITTED",
    "CLOSED",
]


async def test_the_timeline_of_a_call_is_streamed_in_order_and_kept_as_its_history(
    center: Center,
) -> None:
    call = await one_call(center)
    code = await wrap_up_code(center)
    for operation, fields in (
        (HOLD_CALL, {}),
        (RESUME_CALL, {}),
        (END_CALL, {}),
        (SUBMIT_WRAP_UP, {"wrapUpCodeIds": [code]}),
    ):
        await moved(center, call.bearer, operation, taskId=call.task_id, **fields)

    async with task_events(center, call.bearer, call.task_id) as next_event:
        streamed = [await next_event() for _ in CALL_TIMELINE]
    stored = await history(center, call.task_id)

    assert [change_of(event) for event in streamed] == CALL_TIMELINE
    seqs = [event["seq"] for event in streamed]
    assert seqs == sorted(seqs)
    assert stored == streamed
    joined = [e for e in streamed if change_of(e) == "PARTICIPANT_JOINED"]
    assert [e["role"] for e in joined] == ["CUSTOMER", "PRIMARY_AGENT"]
    held = next(e for e in streamed if change_of(e) == "HELD")
    assert (held["role"], held["status"], held["cause"]) == (
        "CUSTOMER",
        "HELD",
        {"kind": "AGENT", "id": call.agent_id},
    )
    assert streamed[-1]["status"] == "CLOSED"


async def test_repeating_a_move_with_its_idempotency_key_does_it_once(center: Center) -> None:
    call = await one_call(center)
    key, other = str(uuid.uuid4()), str(uuid.uuid4())

    first = await center.call(call.bearer, HOLD_CALL, taskId=call.task_id, idempotencyKey=key)
    repeat = await center.call(call.bearer, HOLD_CALL, taskId=call.task_id, idempotencyKey=key)
    resumes = await asyncio.gather(
        *(
            center.call(call.bearer, RESUME_CALL, taskId=call.task_id, idempotencyKey=other)
            for _ in range(2)
        )
    )

    assert [o["__typename"] for o in (first, repeat)] == ["HoldCallSuccess"] * 2
    assert repeat == first
    assert [o["__typename"] for o in resumes] == ["ResumeCallSuccess"] * 2
    assert resumes[0] == resumes[1]
    changes = [change_of(e) for e in await history(center, call.task_id)]
    assert (changes.count("HELD"), changes.count("RESUMED")) == (1, 1)


# --- races --------------------------------------------------------------------------------------

LANES, ROUNDS = 4, 5


async def lanes(center: Center, rounds: Any) -> None:
    """``LANES`` agents, each on a line of their own, playing ``ROUNDS`` rounds at the same time."""
    code = await wrap_up_code(center)

    async def lane() -> None:
        line = await center.line("VOICE")
        _, bearer = await voice_agent(center, line)
        for _ in range(ROUNDS):
            await rounds(await answered_call(center, line, bearer), code)

    await asyncio.gather(*(lane() for _ in range(LANES)))


async def wrapped_up(center: Center, call: AnsweredCall, code: str) -> None:
    """The agent owes one wrap-up; after it the task is closed and the agent's voice slot free."""
    ended = await call_task(center, call.task_id)
    assert [p["role"] for p in ended["participants"] if p["wrapUpDue"]] == ["PRIMARY_AGENT"]
    closed = await moved(
        center, call.bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=[code]
    )
    assert closed["status"] == "CLOSED"
    changes = [change_of(e) for e in await history(center, call.task_id)]
    assert (changes.count("CALL_ENDED"), changes.count("WRAP_UP_STARTED")) == (1, 1)
    assert (await center.session(call.bearer))["activeTaskCount"] == 0


async def test_the_agent_ending_as_the_customer_hangs_up_ends_the_call_once(
    center: Center,
) -> None:
    async def race(call: AnsweredCall, code: str) -> None:
        ending, leaving = await asyncio.gather(
            center.call(call.bearer, END_CALL, taskId=call.task_id),
            center.call(center.connector, REPORT_CUSTOMER_LEFT, taskId=call.task_id),
        )
        outcomes = {refusal(ending), refusal(leaving)}
        assert outcomes in (
            {("EndCallSuccess", ""), ("InvalidStateError", "INVALID_STATE")},
            {("InvalidStateError", "INVALID_STATE"), ("ReportCustomerLeftSuccess", "")},
        ), (ending, leaving)
        loser = ending if ending["__typename"] == "InvalidStateError" else leaving
        assert loser["currentState"] == "WRAP_UP"
        await wrapped_up(center, call, code)

    await lanes(center, race)


async def test_holding_as_the_call_is_ended_never_does_both(center: Center) -> None:
    async def race(call: AnsweredCall, code: str) -> None:
        holding, ending = await asyncio.gather(
            center.call(call.bearer, HOLD_CALL, taskId=call.task_id),
            center.call(call.bearer, END_CALL, taskId=call.task_id),
        )
        outcome = (refusal(holding), refusal(ending))
        assert outcome in (
            (("HoldCallSuccess", ""), ("RejectedError", "CALL_ON_HOLD")),
            (("InvalidStateError", "INVALID_STATE"), ("EndCallSuccess", "")),
        ), outcome
        if holding["__typename"] == "HoldCallSuccess":
            await moved(center, call.bearer, RESUME_CALL, taskId=call.task_id)
            await moved(center, call.bearer, END_CALL, taskId=call.task_id)
        await wrapped_up(center, call, code)

    await lanes(center, race)
