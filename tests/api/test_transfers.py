"""Transfers through the public API (SPEC §6, seed 002 "transferring a call"): to a queue, to an
entry point, blind to an agent or a dial number, warm to the consulted agent; the transferring
agent's wrap-up and voice slot; every refusal; and transfers racing each other."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.calls import (
    CALL_TASK,
    CONSULT_CALL,
    END_CALL,
    HOLD_CALL,
    MONITOR_CALL,
    MY_CALL_TASKS,
    REPORT_CUSTOMER_LEFT,
    SUBMIT_WRAP_UP,
    TASK_EVENTS,
    TASK_HISTORY,
    TRANSFER_CALL,
    AnsweredCall,
    answered_call,
    participant,
    roles,
    voice_agent,
    wrap_up_code,
)
from tests.api.center import (
    ABANDON_CONTACT,
    ACCEPT_OFFER,
    DECLINE_OFFER,
    LOG_IN,
    OFFER_EVENTS,
    Center,
    Line,
    NextItem,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.server import Server
from tests.api.test_offers import named_line

ROUNDS = 15


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@dataclass
class Desk:
    """Alice has answered a call on her home line; Bob serves another line (another team)."""

    home: Line
    target: Line
    alice_id: str
    alice: str
    bob_id: str
    bob: str
    call: AnsweredCall

    @property
    def task_id(self) -> str:
        return self.call.task_id


async def desk(center: Center) -> Desk:
    home = await center.line("VOICE")
    target = await center.line("VOICE")
    alice_id, alice = await voice_agent(center, home)
    bob_id, bob = await voice_agent(center, target)
    call = await answered_call(center, home, alice)
    return Desk(home, target, alice_id, alice, bob_id, bob, call)


async def transfer(
    center: Center, bearer: str, task_id: str, kind: str | None = None, to: str | None = None
) -> dict[str, Any]:
    """``transferCall``; without ``kind`` a warm transfer to the connected consult's party."""
    fields: dict[str, Any] = {"taskId": task_id}
    if kind is not None:
        fields["destination"] = {"kind": kind, "id": to}
    return await center.call(bearer, TRANSFER_CALL, **fields)


async def offer_for(next_offer: NextItem, task_id: str) -> dict[str, Any]:
    return await next_matching(
        next_offer, lambda i: i["__typename"] == "OfferMade" and i["taskId"] == task_id
    )


async def history(center: Center, task_id: str) -> list[dict[str, Any]]:
    task = await center.query(center.supervisor, TASK_HISTORY, id=task_id)
    return list(task["history"])


def changes_from(events: list[dict[str, Any]], first: str) -> list[tuple[str, str | None]]:
    """(change, agent) of each entry from the first ``first`` change on, lifecycle or call."""
    told = [(e.get("change") or e["lifecycle"], e["agentId"]) for e in events]
    start = next(i for i, (change, _) in enumerate(told) if change == first)
    return told[start:]


def transferred(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("change") == "TRANSFERRED"]


def refusal(outcome: dict[str, Any]) -> tuple[str, str, str | None]:
    return outcome["__typename"], outcome.get("code", ""), outcome.get("currentState")


def parties(task: dict[str, Any]) -> list[tuple[str, str | None, bool, bool]]:
    """(role, agent, still on the call, owes a wrap-up) of every participant, in joining order."""
    return [
        (p["role"], p["agentId"], p["leftAt"] is None, p["wrapUpDue"]) for p in task["participants"]
    ]


# --- to a queue ---------------------------------------------------------------------------------


async def test_a_call_transferred_to_a_queue_is_offered_there_and_its_agent_takes_control(
    center: Center,
) -> None:
    d = await desk(center)

    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        moved = await transfer(center, d.alice, d.task_id, "QUEUE", d.target.queue_id)
        offered = await offer_for(bob_offers, d.task_id)

    assert moved["__typename"] == "TransferCallSuccess", moved
    task = moved["task"]
    assert (task["status"], task["queueId"], task["agentId"], task["offerId"]) == (
        "OFFERED",
        d.target.queue_id,
        d.bob_id,
        offered["offerId"],
    )
    assert parties(task) == [
        ("CUSTOMER", None, True, False),
        ("PRIMARY_AGENT", d.alice_id, False, True),
    ]
    assert offered["offer"]["queueId"] == d.target.queue_id
    accepted = await center.call(d.bob, ACCEPT_OFFER, offerId=offered["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    taken = await center.query(d.bob, CALL_TASK, id=d.task_id)
    assert (taken["status"], taken["agentId"], taken["queueId"]) == (
        "CONNECTED",
        d.bob_id,
        d.target.queue_id,
    )
    assert parties(taken) == [
        ("CUSTOMER", None, True, False),
        ("PRIMARY_AGENT", d.alice_id, False, True),
        ("PRIMARY_AGENT", d.bob_id, True, False),
    ]
    # The timeline: Alice leaves, the call is transferred (queued anew, because TRANSFERRED), she
    # wraps up; then Bob.
    events = await history(center, d.task_id)
    requeued = [e["because"] for e in events if e.get("lifecycle") == "QUEUED"]
    assert requeued == ["NEW", "TRANSFERRED"]
    assert changes_from(events, "TRANSFERRED") == [
        ("TRANSFERRED", None),
        ("WRAP_UP_STARTED", d.alice_id),
        ("QUEUED", None),
        ("OFFERED", d.bob_id),
        ("CONNECTED", d.bob_id),
        ("PARTICIPANT_JOINED", d.bob_id),
    ]
    (told,) = transferred(events)
    assert told["destination"] == {
        "kind": "QUEUE",
        "id": d.target.queue_id,
        "name": offered["offer"]["queueName"],
        "address": None,
    }
    assert (told["status"], told["cause"]) == ("QUEUED", {"kind": "AGENT", "id": d.alice_id})


async def test_task_events_tell_the_transfer_to_the_agent_who_made_it(center: Center) -> None:
    d = await desk(center)
    moved = await transfer(center, d.alice, d.task_id, "QUEUE", d.target.queue_id)
    assert moved["__typename"] == "TransferCallSuccess", moved

    async with subscription(
        center.server, d.alice, TASK_EVENTS, taskId=d.task_id, after=0
    ) as next_event:
        told = [await next_event()]
        while told[-1].get("change") != "WRAP_UP_STARTED":
            told.append(await next_event())

    left, transfer_told, wrap_up = told[-3:]
    assert (left["change"], left["role"], left["agentId"], left["status"]) == (
        "PARTICIPANT_LEFT",
        "PRIMARY_AGENT",
        d.alice_id,
        "QUEUED",
    )
    assert (transfer_told["change"], transfer_told["destination"]["kind"]) == (
        "TRANSFERRED",
        "QUEUE",
    )
    assert transfer_told["destination"]["id"] == d.target.queue_id
    assert (wrap_up["change"], wrap_up["agentId"], wrap_up["role"]) == (
        "WRAP_UP_STARTED",
        d.alice_id,
        "PRIMARY_AGENT",
    )
    assert left["version"] == transfer_told["version"] == wrap_up["version"]
    assert left["seq"] < transfer_told["seq"] < wrap_up["seq"]


async def test_the_transferring_agent_keeps_the_voice_slot_and_the_task_until_wrap_up(
    center: Center,
) -> None:
    d = await desk(center)
    code = await wrap_up_code(center)
    moved = await transfer(center, d.alice, d.task_id, "QUEUE", d.target.queue_id)
    assert moved["__typename"] == "TransferCallSuccess", moved

    # Alice is the only agent of her line: a new call waits while she owes the wrap-up.
    waiting = await center.report(d.home)
    session = await center.session(d.alice)
    glance = await center.query(d.alice, MY_CALL_TASKS)

    assert (waiting["status"], waiting["offerId"]) == ("QUEUED", None)
    assert (session["state"], session["activeTaskCount"], session["pendingOfferCount"]) == (
        "AVAILABLE",
        1,
        0,
    )
    assert [(g["channel"], [t["id"] for t in g["tasks"]]) for g in glance] == [
        ("VOICE", [d.task_id])
    ]
    assert participant(glance[0]["tasks"][0], "PRIMARY_AGENT", d.alice_id)["wrapUpDue"] is True

    async with subscription(center.server, d.alice, OFFER_EVENTS, after=0) as alice_offers:
        wrapped = await center.call(d.alice, SUBMIT_WRAP_UP, taskId=d.task_id, wrapUpCodeIds=[code])
        offered = await offer_for(alice_offers, waiting["id"])

    assert wrapped["__typename"] == "SubmitWrapUpSuccess", wrapped
    task = wrapped["task"]
    assert (task["status"], task["agentId"]) == ("OFFERED", d.bob_id)
    assert [(w["agentId"], w["wrapUpCodeIds"]) for w in task["wrapUps"]] == [(d.alice_id, [code])]
    assert participant(task, "PRIMARY_AGENT", d.alice_id)["wrapUpDue"] is False
    assert offered["offer"]["agentId"] == d.alice_id
    assert await center.query(d.alice, MY_CALL_TASKS) == []
    assert (await center.session(d.alice))["pendingOfferCount"] == 1


# --- to an entry point --------------------------------------------------------------------------


async def test_a_call_transferred_to_an_entry_point_goes_to_its_queue_with_the_customer_alone(
    center: Center,
) -> None:
    d = await desk(center)
    held = await center.call(d.alice, HOLD_CALL, taskId=d.task_id)
    watched = await center.call(center.supervisor, MONITOR_CALL, taskId=d.task_id)
    assert (held["__typename"], watched["__typename"]) == ("HoldCallSuccess", "MonitorCallSuccess")

    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        moved = await transfer(center, d.alice, d.task_id, "ENTRY_POINT", d.target.entry_point_id)
        offered = await offer_for(bob_offers, d.task_id)

    assert moved["__typename"] == "TransferCallSuccess", moved
    task = moved["task"]
    assert (task["queueId"], task["entryPointId"], task["agentId"]) == (
        d.target.queue_id,
        d.target.entry_point_id,
        d.bob_id,
    )
    # Agent and supervisor leave; the customer waits in the queue, no longer on hold.
    assert [(p["role"], p["leftAt"] is None, p["held"]) for p in task["participants"]] == [
        ("CUSTOMER", True, False),
        ("PRIMARY_AGENT", False, False),
        ("SUPERVISOR", False, False),
    ]
    assert (offered["offer"]["entryPointId"], offered["offer"]["queueId"]) == (
        d.target.entry_point_id,
        d.target.queue_id,
    )
    (told,) = transferred(await history(center, d.task_id))
    assert (told["destination"]["kind"], told["destination"]["id"]) == (
        "ENTRY_POINT",
        d.target.entry_point_id,
    )
    assert told["destination"]["name"] == offered["offer"]["entryPointName"]


# --- blind to an agent --------------------------------------------------------------------------


async def test_a_blind_transfer_rings_the_agent_at_once_and_answering_gives_them_the_call(
    center: Center,
) -> None:
    d = await desk(center)

    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        moved = await transfer(center, d.alice, d.task_id, "AGENT", d.bob_id)
        offered = await offer_for(bob_offers, d.task_id)

    assert moved["__typename"] == "TransferCallSuccess", moved
    # Bob does not serve the call's queue: it was offered to him directly, from there.
    assert (moved["task"]["status"], moved["task"]["agentId"], moved["task"]["queueId"]) == (
        "OFFERED",
        d.bob_id,
        d.home.queue_id,
    )
    accepted = await center.call(d.bob, ACCEPT_OFFER, offerId=offered["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    assert (accepted["task"]["status"], accepted["task"]["agentId"]) == ("CONNECTED", d.bob_id)
    taken = await center.query(d.bob, CALL_TASK, id=d.task_id)
    assert roles(taken) == ["CUSTOMER", "PRIMARY_AGENT"]
    assert participant(taken, "PRIMARY_AGENT", d.bob_id)["leftAt"] is None
    (told,) = transferred(await history(center, d.task_id))
    assert (told["destination"]["kind"], told["destination"]["id"]) == ("AGENT", d.bob_id)
    assert told["destination"]["name"]


async def test_a_blind_transfer_the_agent_declines_goes_back_to_its_queue_and_another_agent(
    center: Center,
) -> None:
    d = await desk(center)
    carol_id, carol = await voice_agent(center, d.home)  # free after Alice took the call

    async with (
        subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers,
        subscription(center.server, carol, OFFER_EVENTS, after=0) as carol_offers,
    ):
        moved = await transfer(center, d.alice, d.task_id, "AGENT", d.bob_id)
        to_bob = await offer_for(bob_offers, d.task_id)
        declined = await center.call(d.bob, DECLINE_OFFER, offerId=to_bob["offerId"])
        to_carol = await offer_for(carol_offers, d.task_id)

    assert moved["__typename"] == "TransferCallSuccess", moved
    assert declined["__typename"] == "DeclineOfferSuccess", declined
    assert (to_carol["offer"]["agentId"], to_carol["offer"]["queueId"]) == (
        carol_id,
        d.home.queue_id,
    )
    task = await center.task(d.task_id)
    assert (task["status"], task["agentId"], task["queueId"]) == (
        "OFFERED",
        carol_id,
        d.home.queue_id,
    )
    assert await center.pending_offers(d.bob) == []


async def test_a_blind_transfer_to_an_agent_who_cannot_take_it_is_refused_and_changes_nothing(
    center: Center,
) -> None:
    d = await desk(center)
    idle_id = await center.agent(d.target.team_id, await center.profile(voice=1))
    logged_in = await center.call(
        center.agent_token(idle_id),
        LOG_IN,
        teamId=d.target.team_id,
        idleCodeId=await idle_code(center),
    )
    assert logged_in["agentSession"]["state"] == "IDLE", logged_in
    await answered_call(center, d.target, d.bob)  # Bob is on a call: no room for another

    logged_out_id = await center.agent(d.target.team_id, await center.profile(voice=1))

    to_idle = await transfer(center, d.alice, d.task_id, "AGENT", idle_id)
    to_busy = await transfer(center, d.alice, d.task_id, "AGENT", d.bob_id)
    to_absent = await transfer(center, d.alice, d.task_id, "AGENT", logged_out_id)
    to_self = await transfer(center, d.alice, d.task_id, "AGENT", d.alice_id)

    assert refusal(to_idle) == ("InvalidStateError", "INVALID_STATE", "IDLE")
    assert refusal(to_busy) == ("RejectedError", "CAPACITY_EXCEEDED", None)
    assert [(o["__typename"], o["field"], o["rule"]) for o in (to_absent, to_self)] == [
        ("ValidationError", "destination.id", "logged_in"),
        ("ValidationError", "destination.id", "not_self"),
    ]
    task = await center.query(d.alice, CALL_TASK, id=d.task_id)
    assert (task["status"], task["agentId"], task["version"]) == (
        "CONNECTED",
        d.alice_id,
        d.call.task["version"],
    )
    assert transferred(await history(center, d.task_id)) == []
    assert await center.pending_offers(center.agent_token(idle_id)) == []


# --- to a dial number ---------------------------------------------------------------------------


async def test_a_blind_transfer_to_an_external_number_ends_the_call_for_us(center: Center) -> None:
    d = await desk(center)
    number = await center.admin.make("DialNumber", name="Legal", number="+44 2079460000")

    fields = {"destination": {"kind": "DIAL_NUMBER", "id": number["id"]}, "idempotencyKey": "t-1"}
    moved = await center.call(d.alice, TRANSFER_CALL, taskId=d.task_id, **fields)
    repeated = await center.call(d.alice, TRANSFER_CALL, taskId=d.task_id, **fields)

    assert moved["__typename"] == "TransferCallSuccess", moved
    assert repeated == moved  # the first result, nothing done twice
    task = moved["task"]
    assert (task["status"], task["agentId"]) == ("WRAP_UP", d.alice_id)
    assert task["callEndedAt"] is not None
    assert parties(task) == [
        ("CUSTOMER", None, False, False),
        ("PRIMARY_AGENT", d.alice_id, False, True),
        ("DIAL_NUMBER", None, False, False),
    ]
    dialled = participant(task, "DIAL_NUMBER")
    assert (dialled["name"], dialled["address"]) == ("Legal", number["number"])
    events = await history(center, d.task_id)
    (told,) = transferred(events)
    assert told["destination"] == {
        "kind": "DIAL_NUMBER",
        "id": number["id"],
        "name": "Legal",
        "address": number["number"],
    }
    call_changes = [e.get("change") for e in events]
    assert call_changes.count("CALL_ENDED") == 1
    assert [e["agentId"] for e in events if e.get("change") == "WRAP_UP_STARTED"] == [d.alice_id]


async def test_a_transfer_to_the_number_of_an_inbound_entry_point_goes_to_its_queue(
    center: Center,
) -> None:
    d = await desk(center)
    address = f"+1555{uuid.uuid4().int % 10**7:07d}"
    hotline = await named_line(
        center,
        "VOICE",
        queue_name="Escalations",
        entry_point_name="Escalation line",
        address=address,
        team_id=d.target.team_id,
    )
    spaced = f"{address[:2]} {address[2:5]} {address[5:8]} {address[8:]}"
    number = await center.admin.make("DialNumber", name="Escalations", number=spaced)

    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        moved = await transfer(center, d.alice, d.task_id, "DIAL_NUMBER", number["id"])
        offered = await offer_for(bob_offers, d.task_id)

    assert moved["__typename"] == "TransferCallSuccess", moved
    task = moved["task"]
    assert (task["status"], task["queueId"], task["entryPointId"], task["agentId"]) == (
        "OFFERED",
        hotline.queue_id,
        hotline.entry_point_id,
        d.bob_id,
    )
    assert task["callEndedAt"] is None
    assert "DIAL_NUMBER" not in [p["role"] for p in task["participants"]]
    assert offered["offer"]["queueName"] == "Escalations"
    (told,) = transferred(await history(center, d.task_id))
    assert told["destination"] == {
        "kind": "DIAL_NUMBER",
        "id": number["id"],
        "name": "Escalation line",
        "address": address,
    }


# --- warm, to the consulted agent ---------------------------------------------------------------


async def consult_bob(center: Center, d: Desk, next_offer: NextItem) -> dict[str, Any]:
    """Alice consults Bob; returns Bob's offer of the consult request (not yet answered)."""
    consulting = await center.call(
        d.alice, CONSULT_CALL, taskId=d.task_id, destination={"kind": "AGENT", "id": d.bob_id}
    )
    assert consulting["__typename"] == "ConsultCallSuccess", consulting
    return await offer_for(next_offer, consulting["task"]["consult"]["requestTaskId"])


async def test_a_warm_transfer_hands_the_call_to_the_consulted_agent(center: Center) -> None:
    d = await desk(center)
    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        request = await consult_bob(center, d, bob_offers)
    accepted = await center.call(d.bob, ACCEPT_OFFER, offerId=request["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    assert accepted["task"]["status"] == "HELD"  # the customer waits while they talk

    moved = await transfer(center, d.alice, d.task_id)

    assert moved["__typename"] == "TransferCallSuccess", moved
    task = moved["task"]
    assert (task["status"], task["agentId"], task["consult"]) == ("CONNECTED", d.bob_id, None)
    assert [(p["role"], p["agentId"], p["held"]) for p in task["participants"]] == [
        ("CUSTOMER", None, False),
        ("PRIMARY_AGENT", d.alice_id, False),
        ("PRIMARY_AGENT", d.bob_id, False),
    ]
    assert participant(task, "PRIMARY_AGENT", d.alice_id)["wrapUpDue"] is True
    assert participant(task, "PRIMARY_AGENT", d.bob_id)["leftAt"] is None
    events = await history(center, d.task_id)
    assert changes_from(events, "CONSULT_CONNECTED") == [
        ("CONSULT_CONNECTED", None),
        ("RESUMED", None),
        ("PARTICIPANT_LEFT", d.alice_id),
        ("CONTROL_PASSED", d.bob_id),
        ("TRANSFERRED", None),
        ("CONSULT_ENDED", None),
        ("WRAP_UP_STARTED", d.alice_id),
    ]
    (told,) = transferred(events)
    assert (told["destination"]["kind"], told["destination"]["id"]) == ("AGENT", d.bob_id)
    # Bob now controls the call; Alice may no longer.
    assert (await center.call(d.bob, END_CALL, taskId=d.task_id))["__typename"] == "EndCallSuccess"


async def test_a_warm_transfer_needs_a_connected_consult_and_a_consult_blocks_other_transfers(
    center: Center,
) -> None:
    d = await desk(center)
    without_consult = await transfer(center, d.alice, d.task_id)
    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        await consult_bob(center, d, bob_offers)
    ringing = await transfer(center, d.alice, d.task_id)
    elsewhere = await transfer(center, d.alice, d.task_id, "QUEUE", d.target.queue_id)

    assert refusal(without_consult) == ("InvalidStateError", "INVALID_STATE", "CONNECTED")
    assert refusal(ringing) == ("InvalidStateError", "INVALID_STATE", "CONSULT")
    assert refusal(elsewhere) == ("InvalidStateError", "INVALID_STATE", "CONSULT")
    task = await center.query(d.alice, CALL_TASK, id=d.task_id)
    assert (task["status"], task["agentId"], task["queueId"]) == (
        "HELD",
        d.alice_id,
        d.home.queue_id,
    )
    assert task["consult"]["connectedAt"] is None
    assert transferred(await history(center, d.task_id)) == []


# --- refusals -----------------------------------------------------------------------------------


async def test_no_transfer_once_the_customer_has_left_or_the_call_is_back_in_a_queue(
    center: Center,
) -> None:
    d = await desk(center)
    async with subscription(center.server, d.bob, OFFER_EVENTS, after=0) as bob_offers:
        request = await consult_bob(center, d, bob_offers)
    assert (await center.call(d.bob, ACCEPT_OFFER, offerId=request["offerId"]))["task"]
    left = await center.call(center.connector, REPORT_CUSTOMER_LEFT, taskId=d.task_id)
    assert (left["__typename"], left["task"]["status"]) == (
        "ReportCustomerLeftSuccess",
        "POST_CALL",
    )

    post_call = [
        await transfer(center, d.alice, d.task_id, "QUEUE", d.target.queue_id),
        await transfer(center, d.alice, d.task_id),
    ]

    assert [refusal(o) for o in post_call] == [
        ("InvalidStateError", "INVALID_STATE", "POST_CALL")
    ] * 2
    # A call back in a queue (nobody serves this one) is no longer the transferring agent's.
    other = await desk(center)
    nobody = await center.line("VOICE")
    moved = await transfer(center, other.alice, other.task_id, "QUEUE", nobody.queue_id)
    assert moved["task"]["status"] == "QUEUED", moved
    again = await transfer(center, other.alice, other.task_id, "QUEUE", other.target.queue_id)
    assert refusal(again) == ("InvalidStateError", "INVALID_STATE", "QUEUED")
    assert len(transferred(await history(center, other.task_id))) == 1


async def test_a_transfer_to_an_unknown_or_inactive_destination_is_a_validation_error(
    center: Center,
) -> None:
    d = await desk(center)
    retired = await center.line("VOICE")
    for noun, entity in (("EntryPoint", retired.entry_point_id), ("Queue", retired.queue_id)):
        off = await center.admin.run("Deactivate", noun, id=entity)
        assert off["__typename"] == f"Deactivate{noun}Success", off

    outcomes = [
        await transfer(center, d.alice, d.task_id, kind, to)
        for kind, to in (
            ("QUEUE", retired.queue_id),
            ("ENTRY_POINT", retired.entry_point_id),
            ("QUEUE", "no-such-queue"),
            ("ENTRY_POINT", "no-such-entry-point"),
            ("DIAL_NUMBER", "no-such-number"),
        )
    ]

    assert [(o["__typename"], o["field"], o["rule"]) for o in outcomes] == [
        ("ValidationError", "destination.id", "reference")
    ] * 5
    task = await center.query(d.alice, CALL_TASK, id=d.task_id)
    assert (task["status"], task["version"]) == ("CONNECTED", d.call.task["version"])


# --- at once ------------------------------------------------------------------------------------


@dataclass
class Receivers:
    """Two queues, each served by one agent of its own team."""

    lines: tuple[Line, Line]
    agents: tuple[str, str]
    bearers: tuple[str, str]


async def receivers(center: Center) -> Receivers:
    lines = (await center.line("VOICE"), await center.line("VOICE"))
    first = await voice_agent(center, lines[0])
    second = await voice_agent(center, lines[1])
    return Receivers(lines, (first[0], second[0]), (first[1], second[1]))


async def pending_for(center: Center, bearers: tuple[str, ...], task_id: str) -> list[str]:
    offers = [o for b in bearers for o in await center.pending_offers(b)]
    return [o["agentId"] for o in offers if o["taskId"] == task_id]


async def finish(center: Center, call: AnsweredCall, code: str, *, queued: bool) -> None:
    """The customer hangs up in the queue (freeing the receiver); Alice wraps up."""
    if queued:
        gone = await center.call(center.connector, ABANDON_CONTACT, taskId=call.task_id)
        assert gone["__typename"] == "AbandonContactSuccess", gone
    done = await center.call(call.bearer, SUBMIT_WRAP_UP, taskId=call.task_id, wrapUpCodeIds=[code])
    assert done["__typename"] == "SubmitWrapUpSuccess", done


async def test_two_simultaneous_transfers_of_one_call_move_it_once(center: Center) -> None:
    home = await center.line("VOICE")
    _, alice = await voice_agent(center, home)
    sides = await receivers(center)
    code = await wrap_up_code(center)

    for _ in range(ROUNDS):
        call = await answered_call(center, home, alice)
        outcomes = await asyncio.gather(
            *(transfer(center, alice, call.task_id, "QUEUE", line.queue_id) for line in sides.lines)
        )
        won = [i for i, o in enumerate(outcomes) if o["__typename"] == "TransferCallSuccess"]
        assert len(won) == 1, outcomes
        (winner,) = won
        assert refusal(outcomes[1 - winner]) == ("InvalidStateError", "INVALID_STATE", "OFFERED")
        task = await center.task(call.task_id)
        assert (task["status"], task["queueId"], task["agentId"]) == (
            "OFFERED",
            sides.lines[winner].queue_id,
            sides.agents[winner],
        )
        assert await pending_for(center, sides.bearers, call.task_id) == [sides.agents[winner]]
        events = await history(center, call.task_id)
        assert len(transferred(events)) == 1
        assert [c for c, _ in changes_from(events, "TRANSFERRED")].count("OFFERED") == 1
        await finish(center, call, code, queued=True)
    assert (await center.session(alice))["activeTaskCount"] == 0


async def test_a_transfer_racing_the_end_of_the_call_leaves_one_consistent_outcome(
    center: Center,
) -> None:
    home = await center.line("VOICE")
    _, alice = await voice_agent(center, home)
    sides = await receivers(center)
    code = await wrap_up_code(center)

    for _ in range(ROUNDS):
        call = await answered_call(center, home, alice)
        moved, ended = await asyncio.gather(
            transfer(center, alice, call.task_id, "QUEUE", sides.lines[0].queue_id),
            center.call(alice, END_CALL, taskId=call.task_id),
        )
        task = await center.task(call.task_id)
        told = transferred(await history(center, call.task_id))
        if ended["__typename"] == "EndCallSuccess":
            assert refusal(moved) == ("InvalidStateError", "INVALID_STATE", "WRAP_UP")
            assert (task["status"], len(told)) == ("WRAP_UP", 0)
            assert await pending_for(center, sides.bearers, call.task_id) == []
        else:
            assert moved["__typename"] == "TransferCallSuccess", (moved, ended)
            assert refusal(ended) == ("InvalidStateError", "INVALID_STATE", "OFFERED")
            assert (task["status"], len(told)) == ("OFFERED", 1)
            assert await pending_for(center, sides.bearers, call.task_id) == [sides.agents[0]]
        await finish(center, call, code, queued=task["status"] == "OFFERED")


async def test_two_agents_blind_transferring_to_one_free_agent_at_once_ring_them_once(
    center: Center,
) -> None:
    lines = (await center.line("VOICE"), await center.line("VOICE"))
    senders = [await voice_agent(center, line) for line in lines]
    target = await center.line("VOICE")
    bob_id, bob = await voice_agent(center, target)
    code = await wrap_up_code(center)

    for _ in range(ROUNDS // 2):
        calls = [
            await answered_call(center, line, s[1]) for line, s in zip(lines, senders, strict=True)
        ]
        outcomes = await asyncio.gather(
            *(transfer(center, c.bearer, c.task_id, "AGENT", bob_id) for c in calls)
        )
        won = [i for i, o in enumerate(outcomes) if o["__typename"] == "TransferCallSuccess"]
        assert len(won) == 1, outcomes
        (winner,) = won
        assert refusal(outcomes[1 - winner]) == ("RejectedError", "CAPACITY_EXCEEDED", None)
        kept = await center.task(calls[1 - winner].task_id)
        assert (kept["status"], kept["agentId"]) == ("CONNECTED", senders[1 - winner][0])
        assert [o["taskId"] for o in await center.pending_offers(bob)] == [calls[winner].task_id]
        await finish(center, calls[winner], code, queued=True)
        ended = await center.call(calls[1 - winner].bearer, END_CALL, taskId=kept["id"])
        assert ended["__typename"] == "EndCallSuccess", ended
        await finish(center, calls[1 - winner], code, queued=False)
    session = await center.session(bob)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (0, 0)
