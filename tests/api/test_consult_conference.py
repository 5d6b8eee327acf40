"""Consult and conference through the public API (issue #4, SPEC §6, seed 002): consulting each
kind of destination, the hold rules of a consult, a consult declined, exited or called off, the
conference and its limit of eight parties, control passing when the primary agent leaves, the
POST_CALL rules once the customer hangs up, and a consult answered while it is being ended."""

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
    END_CONSULT,
    EXIT_CONFERENCE,
    EXIT_CONSULT,
    HOLD_CALL,
    MONITOR_CALL,
    MY_CALL_TASKS,
    PAUSE_RECORDING,
    REPORT_CUSTOMER_LEFT,
    RESUME_CALL,
    START_CONFERENCE,
    SUBMIT_WRAP_UP,
    TASK_EVENTS,
    TASK_FIELDS,
    AnsweredCall,
    answered_call,
    roles,
    voice_agent,
    wrap_up_code,
)
from tests.api.center import (
    DECLINE_OFFER,
    LOG_IN,
    OFFER,
    OUTCOME,
    Center,
    idle_code,
    next_matching,
    subscription,
)
from tests.api.server import Server
from tests.api.test_offers import POPOVER_DEFINITIONS, POPOVER_VALUES, named_line
from tests.api.test_offers import popover_variables as configure_popover_variables

CONSULT_OFFERS = f"""
subscription($after: Int) {{
  offers(after: $after) {{
    __typename
    ... on OfferMade {{
      offerId taskId
      offer {{ {OFFER} kind consultRequester {{ agentName dialNumber teamName }} }}
    }}
    ... on OfferEnded {{ offerId taskId outcome }}
  }}
}}"""
ACCEPT = f"""
mutation($input: AcceptOfferInput!) {{
  acceptOffer(input: $input) {{
    {OUTCOME} ... on AcceptOfferSuccess {{ offer {{ id outcome }} task {{ {TASK_FIELDS} }} }}
  }}
}}"""
TRANSFER = f"""
mutation($input: TransferCallInput!) {{
  transferCall(input: $input) {{ {OUTCOME} ... on TransferCallSuccess {{ task {{ id }} }} }}
}}"""


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


# --- helpers ------------------------------------------------------------------------------------


@dataclass
class Consulting:
    """A call whose primary agent has a connected consult with ``consultee``."""

    call: AnsweredCall
    consultee_id: str
    consultee: str


def failure(outcome: dict[str, Any]) -> tuple[str, str]:
    return outcome["__typename"], outcome.get("code", "")


def on_call(task: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The participants of ``role`` still on the call."""
    return [p for p in task["participants"] if p["role"] == role and p["leftAt"] is None]


def held(task: dict[str, Any]) -> dict[str, bool]:
    return {p["role"]: p["held"] for p in task["participants"] if p["leftAt"] is None}


def offer_made(request_id: str | None = None) -> Any:
    return lambda item: item["__typename"] == "OfferMade" and request_id in (None, item["taskId"])


async def colleague(center: Center) -> tuple[str, str]:
    """An AVAILABLE agent of a team no line feeds: only consults reach them."""
    team = await center.admin.team(f"team-{uuid.uuid4().hex[:6]}")
    return await center.logged_in_agent(team, await center.profile(voice=1))


async def dial_number(center: Center, number: str, name: str | None = None) -> str:
    made = await center.admin.make("DialNumber", name=name or f"dn-{number}", number=number)
    return str(made["id"])


async def consult(center: Center, call: AnsweredCall, kind: str, to: str) -> dict[str, Any]:
    destination = {"kind": kind, "id": to}
    return await center.call(
        call.bearer, CONSULT_CALL, taskId=call.task_id, destination=destination
    )


async def consult_started(center: Center, call: AnsweredCall, kind: str, to: str) -> Any:
    asked = await consult(center, call, kind, to)
    assert asked["__typename"] == "ConsultCallSuccess", asked
    return asked["task"]


async def move(center: Center, bearer: str, operation: str, task_id: str, **fields: Any) -> Any:
    """A call move that must succeed: the task it returns."""
    outcome = await center.call(bearer, operation, taskId=task_id, **fields)
    assert outcome["__typename"].endswith("Success"), outcome
    return outcome["task"]


async def consulted(
    center: Center, call: AnsweredCall, bearer: str, kind: str, to: str
) -> dict[str, Any]:
    """Consult ``kind``/``to``; the agent of ``bearer`` is offered the request and accepts it:
    the original task as acceptOffer returned it."""
    async with subscription(center.server, bearer, CONSULT_OFFERS, after=0) as next_offer:
        asked = await consult_started(center, call, kind, to)
        made = await next_matching(next_offer, offer_made(asked["consult"]["requestTaskId"]))
    accepted = await center.call(bearer, ACCEPT, offerId=made["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    return dict(accepted["task"])


async def consulting(center: Center) -> Consulting:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)
    await consulted(center, call, consultee, "AGENT", consultee_id)
    return Consulting(call, consultee_id, consultee)


async def conferenced(center: Center, call: AnsweredCall, bearer: str, agent_id: str) -> Any:
    await consulted(center, call, bearer, "AGENT", agent_id)
    return await move(center, call.bearer, START_CONFERENCE, call.task_id)


async def load(center: Center, bearer: str) -> tuple[int, int]:
    session = await center.session(bearer)
    return session["activeTaskCount"], session["pendingOfferCount"]


# --- consult each kind of destination -----------------------------------------------------------


async def test_a_consulted_agent_sees_who_asks_and_accepting_joins_them_to_the_original_call(
    center: Center,
) -> None:
    await configure_popover_variables(center)
    team = await center.admin.team("Billing")
    line = await center.line("VOICE", team_id=team)
    primary_id = await center.agent(team, await center.profile(voice=1))
    primary = center.agent_token(primary_id)
    logged_in = await center.call(primary, LOG_IN, teamId=team, dialNumber="+15550004242")
    assert logged_in["__typename"] == "LogInSuccess", logged_in
    consultee_id, consultee = await colleague(center)
    cad = [{"name": k, "value": v} for k, v in POPOVER_VALUES.items()]
    secret = [{"name": "ssn", "value": "078-05-1120"}, {"name": "notes", "value": "called twice"}]
    call = await answered_call(center, line, primary, cad=cad + secret)

    async with subscription(center.server, consultee, CONSULT_OFFERS, after=0) as next_offer:
        asked = await consult(center, call, "AGENT", consultee_id)
        made = await next_matching(next_offer, offer_made())
    accepted = await center.call(consultee, ACCEPT, offerId=made["offerId"])

    assert asked["__typename"] == "ConsultCallSuccess", asked
    request_id = asked["task"]["consult"]["requestTaskId"]
    assert (asked["task"]["status"], asked["task"]["consult"]["connectedAt"]) == ("HELD", None)
    assert asked["task"]["consult"]["destination"]["kind"] == "AGENT"
    offer = made["offer"]
    assert (made["taskId"], offer["kind"], offer["agentId"]) == (
        request_id,
        "CONSULT",
        consultee_id,
    )
    assert offer["consultRequester"] == {
        "agentName": f"Agent {primary_id[-4:]}",
        "dialNumber": "+15550004242",
        "teamName": "Billing",
    }
    in_order = sorted(POPOVER_DEFINITIONS, key=lambda d: d["displayOrder"])
    assert [v["name"] for v in offer["variables"]] == [d["name"] for d in in_order]
    assert "078-05-1120" not in str(made)
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    task = accepted["task"]
    assert (task["id"], task["status"], task["agentId"]) == (call.task_id, "HELD", primary_id)
    assert roles(task) == ["CUSTOMER", "PRIMARY_AGENT", "CONSULTED_AGENT"]
    (joined,) = on_call(task, "CONSULTED_AGENT")
    assert (joined["agentId"], task["consult"]["participantId"]) == (consultee_id, joined["id"])
    assert task["consult"]["connectedAt"] is not None
    assert held(task) == {"CUSTOMER": True, "PRIMARY_AGENT": False, "CONSULTED_AGENT": False}
    request = await center.query(center.supervisor, CALL_TASK, id=request_id)
    assert (request["kind"], request["parentTaskId"], request["status"]) == (
        "CONSULT",
        call.task_id,
        "CLOSED",
    )
    assert await load(center, consultee) == (1, 0)
    glance = await center.query(consultee, MY_CALL_TASKS)
    assert [(g["channel"], [t["id"] for t in g["tasks"]]) for g in glance] == [
        ("VOICE", [call.task_id])
    ]


@pytest.mark.parametrize("kind", ["QUEUE", "ENTRY_POINT", "ENTRY_POINT_NUMBER"])
async def test_a_consult_to_a_queue_an_entry_point_or_its_number_reaches_an_agent_of_the_queue(
    center: Center, kind: str
) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    address = f"+1555{uuid.uuid4().int % 10**7:07d}"
    experts = await named_line(
        center,
        "VOICE",
        queue_name="Experts",
        entry_point_name="Experts line",
        address=address,
        offerTimeoutSeconds=30,
    )
    expert_id, expert = await voice_agent(center, experts)
    call = await answered_call(center, line, primary)
    destination = {
        "QUEUE": ("QUEUE", experts.queue_id),
        "ENTRY_POINT": ("ENTRY_POINT", experts.entry_point_id),
        "ENTRY_POINT_NUMBER": ("DIAL_NUMBER", await dial_number(center, address)),
    }[kind]

    task = await consulted(center, call, expert, *destination)

    (joined,) = on_call(task, "CONSULTED_AGENT")
    assert (joined["agentId"], task["status"]) == (expert_id, "HELD")
    target = task["consult"]["destination"]
    assert (target["kind"], target["id"]) == destination
    request = await center.query(center.supervisor, CALL_TASK, id=task["consult"]["requestTaskId"])
    assert (request["queueId"], request["kind"]) == (experts.queue_id, "CONSULT")


async def test_a_consult_to_an_external_dial_number_joins_it_at_once(center: Center) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    call = await answered_call(center, line, primary)
    legal = await dial_number(center, "+442070000001", "Legal desk")

    asked = await consult(center, call, "DIAL_NUMBER", legal)

    assert asked["__typename"] == "ConsultCallSuccess", asked
    task = asked["task"]
    (party,) = on_call(task, "DIAL_NUMBER")
    assert (party["address"], party["name"], party["held"]) == (
        "+442070000001",
        "Legal desk",
        False,
    )
    assert (task["consult"]["participantId"], task["consult"]["requestTaskId"]) == (
        party["id"],
        None,
    )
    assert task["consult"]["connectedAt"] is not None
    assert (task["status"], held(task)["CUSTOMER"]) == ("HELD", True)


async def test_an_entry_point_or_its_number_served_by_a_capacity_based_team_cannot_be_consulted(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    call = await answered_call(center, line, primary)
    pool = await center.admin.make("Team", name="Back office", teamType="CAPACITY_BASED")
    address = f"+1555{uuid.uuid4().int % 10**7:07d}"
    pooled = await named_line(
        center,
        "VOICE",
        queue_name="Back office",
        entry_point_name="Back office line",
        address=address,
        team_id=pool["id"],
        offerTimeoutSeconds=30,
    )
    number = await dial_number(center, address)

    outcomes = [
        await consult(center, call, "ENTRY_POINT", pooled.entry_point_id),
        await consult(center, call, "DIAL_NUMBER", number),
    ]

    assert [failure(o) for o in outcomes] == [("RejectedError", "UNSUPPORTED_DESTINATION")] * 2
    task = await center.query(primary, CALL_TASK, id=call.task_id)
    assert (task["status"], task["consult"], held(task)["CUSTOMER"]) == ("CONNECTED", None, False)


async def test_a_consult_to_an_idle_agent_or_to_yourself_is_refused(center: Center) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    call = await answered_call(center, line, primary)
    team = await center.admin.team("Resting")
    resting_id = await center.agent(team, await center.profile(voice=1))
    code = await idle_code(center)
    rested = await center.call(center.agent_token(resting_id), LOG_IN, teamId=team, idleCodeId=code)
    assert rested["agentSession"]["state"] == "IDLE", rested

    idle = await consult(center, call, "AGENT", resting_id)
    myself = await consult(center, call, "AGENT", call.agent_id)

    assert (idle["__typename"], idle["code"], idle["currentState"]) == (
        "InvalidStateError",
        "INVALID_STATE",
        "IDLE",
    )
    assert (myself["__typename"], myself["field"], myself["rule"]) == (
        "ValidationError",
        "destination.id",
        "not_self",
    )
    task = await center.query(primary, CALL_TASK, id=call.task_id)
    assert (task["status"], task["consult"]) == ("CONNECTED", None)


# --- during a consult ---------------------------------------------------------------------------


async def test_during_a_consult_the_agent_talks_to_one_side_while_the_other_waits(
    center: Center,
) -> None:
    setup = await consulting(center)
    primary, task_id = setup.call.bearer, setup.call.task_id

    to_customer = await move(center, primary, RESUME_CALL, task_id, party="CUSTOMER")
    to_consult = await move(center, primary, RESUME_CALL, task_id, party="CONSULT")
    both = await move(center, primary, HOLD_CALL, task_id, party="CONSULT")
    paused = await center.call(primary, PAUSE_RECORDING, taskId=task_id)

    assert (to_customer["status"], held(to_customer)) == (
        "CONNECTED",
        {"CUSTOMER": False, "PRIMARY_AGENT": False, "CONSULTED_AGENT": True},
    )
    assert (to_consult["status"], held(to_consult)) == (
        "HELD",
        {"CUSTOMER": True, "PRIMARY_AGENT": False, "CONSULTED_AGENT": False},
    )
    assert (both["status"], held(both)) == (
        "HELD",
        {"CUSTOMER": True, "PRIMARY_AGENT": False, "CONSULTED_AGENT": True},
    )
    assert (paused["__typename"], paused["currentState"]) == ("InvalidStateError", "CONSULT")


async def test_a_declined_consult_ends_and_the_primary_resumes_the_held_customer(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)

    async with subscription(
        center.server, primary, TASK_EVENTS, taskId=call.task_id, after=0
    ) as next_event:
        async with subscription(center.server, consultee, CONSULT_OFFERS, after=0) as next_offer:
            await consult_started(center, call, "AGENT", consultee_id)
            made = await next_matching(next_offer, offer_made())
        declined = await center.call(consultee, DECLINE_OFFER, offerId=made["offerId"])
        ended = await next_matching(next_event, lambda e: e.get("change") == "CONSULT_ENDED")

    assert declined["__typename"] == "DeclineOfferSuccess", declined
    assert (ended["status"], ended["destination"]["id"]) == ("HELD", consultee_id)
    task = await center.query(primary, CALL_TASK, id=call.task_id)
    assert (task["status"], task["consult"], held(task)["CUSTOMER"]) == ("HELD", None, True)
    assert roles(task) == ["CUSTOMER", "PRIMARY_AGENT"]
    resumed = await move(center, primary, RESUME_CALL, call.task_id, party="CUSTOMER")
    finished = await move(center, primary, END_CALL, call.task_id)
    assert (resumed["status"], finished["status"]) == ("CONNECTED", "WRAP_UP")
    assert await load(center, consultee) == (0, 0)


async def test_a_consulted_agent_who_exits_leaves_the_call_and_is_free_for_new_work(
    center: Center,
) -> None:
    setup = await consulting(center)

    exited = await move(center, setup.consultee, EXIT_CONSULT, setup.call.task_id)

    (gone,) = [p for p in exited["participants"] if p["role"] == "CONSULTED_AGENT"]
    assert (gone["agentId"], gone["leftAt"] is not None) == (setup.consultee_id, True)
    assert (exited["status"], exited["consult"], roles(exited)) == (
        "HELD",
        None,
        ["CUSTOMER", "PRIMARY_AGENT"],
    )
    assert await load(center, setup.consultee) == (0, 0)
    again = await consulted(center, setup.call, setup.consultee, "AGENT", setup.consultee_id)
    assert [p["agentId"] for p in on_call(again, "CONSULTED_AGENT")] == [setup.consultee_id]


async def test_ending_a_consult_still_ringing_withdraws_its_offer(center: Center) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)

    async with subscription(center.server, consultee, CONSULT_OFFERS, after=0) as next_offer:
        await consult_started(center, call, "AGENT", consultee_id)
        made = await next_matching(next_offer, offer_made())
        ringing = await center.call(primary, START_CONFERENCE, taskId=call.task_id)
        ended = await move(center, primary, END_CONSULT, call.task_id)
        gone = await next_matching(next_offer, lambda i: i["__typename"] == "OfferEnded")

    assert (ended["status"], ended["consult"], roles(ended)) == (
        "HELD",
        None,
        ["CUSTOMER", "PRIMARY_AGENT"],
    )
    assert (ringing["__typename"], ringing["currentState"]) == ("InvalidStateError", "CONSULT")
    assert (gone["offerId"], gone["outcome"]) == (made["offerId"], "SYSTEM")
    late = await center.call(consultee, ACCEPT, offerId=made["offerId"])
    assert failure(late) == ("RejectedError", "OFFER_EXPIRED")
    assert await load(center, consultee) == (0, 0)


# --- conference ---------------------------------------------------------------------------------


async def test_a_conference_starts_from_a_connected_consult_and_is_no_place_for_a_transfer(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)
    too_soon = await center.call(primary, START_CONFERENCE, taskId=call.task_id)

    task = await conferenced(center, call, consultee, consultee_id)
    to_queue = await center.call(
        primary, TRANSFER, taskId=call.task_id, destination={"kind": "QUEUE", "id": line.queue_id}
    )
    warm = await center.call(primary, TRANSFER, taskId=call.task_id)
    left = await move(center, consultee, EXIT_CONFERENCE, call.task_id)

    assert (too_soon["__typename"], too_soon["currentState"]) == ("InvalidStateError", "CONNECTED")
    assert roles(task) == ["CUSTOMER", "PRIMARY_AGENT", "CONFERENCE_AGENT"]
    assert set(held(task).values()) == {False}
    assert (task["status"], task["consult"]) == ("CONNECTED", None)
    assert task["conferenceSince"] is not None
    assert [(o["__typename"], o["currentState"]) for o in (to_queue, warm)] == [
        ("InvalidStateError", "CONFERENCE")
    ] * 2
    assert (roles(left), left["conferenceSince"], left["status"]) == (
        ["CUSTOMER", "PRIMARY_AGENT"],
        None,
        "CONNECTED",
    )
    assert await load(center, consultee) == (0, 0)


async def test_a_call_of_eight_parties_takes_no_more_consults(center: Center) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    helper_id, helper = await colleague(center)
    late_id, _ = await colleague(center)
    call = await answered_call(center, line, primary)
    await conferenced(center, call, helper, helper_id)
    for i in range(5):  # dial numbers join at once: the cheapest parties to add
        number = await dial_number(center, f"+44207000010{i}")
        await consult_started(center, call, "DIAL_NUMBER", number)
        task = await move(center, primary, START_CONFERENCE, call.task_id)

    full = [
        await consult(center, call, "DIAL_NUMBER", await dial_number(center, "+442070000199")),
        await consult(center, call, "AGENT", late_id),
    ]

    assert roles(task).count("DIAL_NUMBER") == 5
    assert len(roles(task)) == 8
    assert [failure(o) for o in full] == [("RejectedError", "CONFERENCE_FULL")] * 2
    after = await center.query(primary, CALL_TASK, id=call.task_id)
    assert (len(roles(after)), after["consult"], after["status"]) == (8, None, "CONNECTED")


async def test_the_primary_leaving_a_conference_hands_control_to_the_agent_who_joined_first(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    primary_id, primary = await voice_agent(center, line)
    first_id, first = await colleague(center)
    second_id, second = await colleague(center)
    code = await wrap_up_code(center)
    call = await answered_call(center, line, primary)
    await conferenced(center, call, first, first_id)
    await conferenced(center, call, second, second_id)

    async with subscription(
        center.server, center.supervisor, TASK_EVENTS, taskId=call.task_id, after=0
    ) as next_event:
        left = await move(center, primary, EXIT_CONFERENCE, call.task_id)
        passed = await next_matching(next_event, lambda e: e.get("change") == "CONTROL_PASSED")

    assert (left["agentId"], passed["agentId"], passed["role"]) == (
        first_id,
        first_id,
        "PRIMARY_AGENT",
    )
    old = next(p for p in left["participants"] if p["agentId"] == primary_id)
    assert (old["leftAt"] is not None, old["wrapUpDue"]) == (True, True)
    assert [p["agentId"] for p in on_call(left, "PRIMARY_AGENT")] == [first_id]
    assert [p["agentId"] for p in on_call(left, "CONFERENCE_AGENT")] == [second_id]
    assert left["conferenceSince"] is not None
    assert await load(center, primary) == (1, 0)  # the slot is kept until the wrap-up
    ended = await move(center, first, END_CALL, call.task_id)
    assert (ended["status"], ended["callEndedAt"] is not None) == ("WRAP_UP", True)
    theirs = await move(center, first, SUBMIT_WRAP_UP, call.task_id, wrapUpCodeIds=[code])
    assert theirs["status"] == "WRAP_UP"  # the old primary still owes theirs
    mine = await move(center, primary, SUBMIT_WRAP_UP, call.task_id, wrapUpCodeIds=[code])
    assert mine["status"] == "CLOSED"
    assert [w["agentId"] for w in mine["wrapUps"]] == [first_id, primary_id]
    assert [await load(center, b) for b in (primary, first, second)] == [(0, 0)] * 3


# --- once the customer has left -----------------------------------------------------------------


@pytest.mark.parametrize("last_move", ["consulted agent exits", "primary ends"])
async def test_after_the_customer_leaves_a_consult_nobody_joins_and_the_call_ends_with_one_party(
    center: Center, last_move: str
) -> None:
    setup = await consulting(center)
    primary, task_id = setup.call.bearer, setup.call.task_id
    number = await dial_number(center, "+442070000301")

    gone = await move(center, center.connector, REPORT_CUSTOMER_LEFT, task_id)
    refused = [
        await consult(center, setup.call, "DIAL_NUMBER", number),
        await center.call(center.supervisor, MONITOR_CALL, taskId=task_id),
    ]
    if last_move == "consulted agent exits":
        ended = await move(center, setup.consultee, EXIT_CONSULT, task_id)
    else:
        ended = await move(center, primary, END_CALL, task_id)

    assert (gone["status"], roles(gone)) == ("POST_CALL", ["PRIMARY_AGENT", "CONSULTED_AGENT"])
    assert [(o["__typename"], o["currentState"]) for o in refused] == [
        ("InvalidStateError", "POST_CALL")
    ] * 2
    assert (ended["status"], roles(ended), ended["callEndedAt"] is not None) == (
        "WRAP_UP",
        [],
        True,
    )
    assert [p["agentId"] for p in ended["participants"] if p["wrapUpDue"]] == [setup.call.agent_id]
    assert (await load(center, setup.consultee), await load(center, primary)) == ((0, 0), (1, 0))


# --- at the same time ---------------------------------------------------------------------------


async def test_a_consult_accepted_while_the_primary_ends_it_leaves_a_consistent_call(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)

    joined = 0
    async with subscription(center.server, consultee, CONSULT_OFFERS, after=0) as next_offer:
        for _ in range(15):
            asked = await consult(center, call, "AGENT", consultee_id)
            assert asked["__typename"] == "ConsultCallSuccess", asked
            made = await next_matching(
                next_offer, offer_made(asked["task"]["consult"]["requestTaskId"])
            )
            accept, end = await asyncio.gather(
                center.call(consultee, ACCEPT, offerId=made["offerId"]),
                center.call(primary, END_CONSULT, taskId=call.task_id),
            )
            joined += await _settle_race(center, call, consultee_id, accept, end)
            task = await center.query(primary, CALL_TASK, id=call.task_id)
            assert (task["consult"], task["status"], roles(task)) == (
                None,
                "HELD",
                ["CUSTOMER", "PRIMARY_AGENT"],
            )
            assert await load(center, consultee) == (0, 0)

    history = await center.query(primary, CALL_TASK, id=call.task_id)
    consulted_entries = [p for p in history["participants"] if p["role"] == "CONSULTED_AGENT"]
    assert len(consulted_entries) == joined
    # After the last round too, the consulted agent has room for the next consult.
    again = await consulted(center, call, consultee, "AGENT", consultee_id)
    assert [p["agentId"] for p in on_call(again, "CONSULTED_AGENT")] == [consultee_id]


async def _settle_race(
    center: Center, call: AnsweredCall, consultee_id: str, accept: Any, end: Any
) -> int:
    """Check one accept/endConsult race; end a consult the accept won and the end missed.
    1 if the consulted agent joined the call."""
    if accept["__typename"] != "AcceptOfferSuccess":
        assert failure(accept) in {
            ("RejectedError", "OFFER_EXPIRED"),
            ("InvalidStateError", "INVALID_STATE"),
        }, accept
        assert end["__typename"] == "EndConsultSuccess", end
        return 0
    assert [p["agentId"] for p in on_call(accept["task"], "CONSULTED_AGENT")] == [consultee_id]
    if end["__typename"] != "EndConsultSuccess":
        assert failure(end) == ("InvalidStateError", "INVALID_STATE"), end
        await move(center, call.bearer, END_CONSULT, call.task_id)
    return 1


async def test_a_consult_asked_for_many_times_at_once_is_requested_once(center: Center) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)

    for _ in range(5):
        outcomes = await asyncio.gather(
            *(consult(center, call, "AGENT", consultee_id) for _ in range(5))
        )
        winners = [o for o in outcomes if o["__typename"] == "ConsultCallSuccess"]
        losers = [(o["__typename"], o.get("currentState")) for o in outcomes if o not in winners]
        assert len(winners) == 1, outcomes
        assert losers == [("InvalidStateError", "CONSULT")] * 4, outcomes
        assert await load(center, consultee) == (0, 1)
        await move(center, primary, END_CONSULT, call.task_id)
        assert await load(center, consultee) == (0, 0)


async def test_the_consulted_agent_exiting_while_the_primary_ends_the_consult_ends_it_once(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    _, primary = await voice_agent(center, line)
    consultee_id, consultee = await colleague(center)
    call = await answered_call(center, line, primary)

    for _ in range(10):
        await consulted(center, call, consultee, "AGENT", consultee_id)
        outcomes = await asyncio.gather(
            center.call(consultee, EXIT_CONSULT, taskId=call.task_id),
            center.call(primary, END_CONSULT, taskId=call.task_id),
        )
        names = sorted(o["__typename"] for o in outcomes)
        assert names in (
            ["EndConsultSuccess", "InvalidStateError"],
            ["ExitConsultSuccess", "InvalidStateError"],
        ), outcomes
        task = await center.query(primary, CALL_TASK, id=call.task_id)
        assert (task["consult"], task["status"], roles(task)) == (
            None,
            "HELD",
            ["CUSTOMER", "PRIMARY_AGENT"],
        )
        assert await load(center, consultee) == (0, 0)
