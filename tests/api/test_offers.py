"""Offers through the public API (SPEC §3): the popover's payload, accept, decline, accept all,
+1 contact, paging of pending offers, idempotent answers, and the typed outcome of every offer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.center import (
    ABANDON_CONTACT,
    ACCEPT_ALL_OFFERS,
    ACCEPT_OFFER,
    DECLINE_OFFER,
    LOG_IN,
    MY_TASKS,
    OFFER_EVENTS,
    OFFERS,
    QUEUE_STATS_QUERY,
    REQUEST_CONTACT,
    TASK_BY_ID,
    Center,
    Line,
    subscription,
)
from tests.api.client import GraphQLErrors
from tests.api.server import Server, new_org_id, start_server
from tests.api.test_configuration_b import Admin as CodesAdmin
from tests.api.test_policies import update as update_policies


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


# --- helpers ------------------------------------------------------------------------------------


async def named_line(
    center: Center,
    channel: str,
    *,
    queue_name: str,
    entry_point_name: str,
    address: str,
    team_id: str | None = None,
    **queue_fields: Any,
) -> Line:
    team_id = team_id or await center.admin.team(f"team-{uuid.uuid4().hex[:6]}")
    queue = await center.admin.make(
        "Queue", name=queue_name, channel=channel, teamIds=[team_id], **queue_fields
    )
    entry_point = await center.admin.make(
        "EntryPoint",
        name=entry_point_name,
        channel=channel,
        direction="INBOUND",
        address=address,
        queueId=queue["id"],
    )
    return Line(queue["id"], entry_point["id"], team_id, channel)


def without_wait(value: Any) -> Any:
    """``waitedSeconds`` is computed when read: two reads of one thing may differ there only."""
    if isinstance(value, dict):
        return {k: without_wait(v) for k, v in value.items() if k != "waitedSeconds"}
    if isinstance(value, list):
        return [without_wait(item) for item in value]
    return value


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def failure(outcome: dict[str, Any]) -> tuple[str, str]:
    return outcome["__typename"], outcome.get("code", "")


async def waiting_by_queue(center: Center) -> dict[str, int]:
    stats = await center.query(center.supervisor, QUEUE_STATS_QUERY, queueIds=None)
    return {queue["queueId"]: queue["waiting"] for queue in stats["queues"]}


async def chats_offered(center: Center, line: Line, count: int) -> list[dict[str, Any]]:
    """``count`` chats reported one after the other, each offered at once."""
    tasks = [await center.report(line, customer={"name": f"Customer {i}"}) for i in range(count)]
    assert {task["status"] for task in tasks} == {"OFFERED"}, tasks
    return tasks


async def test_a_reported_call_is_offered_to_the_free_agent_and_accepting_connects_it(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    profile = await center.profile(voice=1)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)

    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        task = await center.report(line, ani="+15551234567", dnis="+15557654321")
        made = await next_offer()

    assert task["status"] == "OFFERED"
    assert made["__typename"] == "OfferMade"
    offer = made["offer"]
    assert (offer["taskId"], offer["agentId"], offer["channel"]) == (task["id"], agent_id, "VOICE")
    assert (offer["customerAddress"], offer["dnis"], offer["queueId"]) == (
        "+15551234567",
        "+15557654321",
        line.queue_id,
    )
    assert made["cause"]["kind"] == "SYSTEM"

    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=offer["id"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    assert (accepted["offer"]["outcome"], accepted["task"]["status"]) == ("ACCEPTED", "CONNECTED")
    glance = await center.query(bearer, MY_TASKS)
    assert [(group["channel"], [t["id"] for t in group["tasks"]]) for group in glance] == [
        ("VOICE", [task["id"]])
    ]


# --- the popover --------------------------------------------------------------------------------

# Six popover variables created out of display order, a hidden one and a secure one.
POPOVER_DEFINITIONS = [
    {"name": "plan", "label": "Plan", "displayOrder": 40},
    {"name": "account", "label": "Account", "displayOrder": 10},
    {"name": "balance", "label": "Balance", "displayOrder": 30, "varType": "INTEGER"},
    {"name": "vip", "label": "VIP", "displayOrder": 20, "varType": "BOOLEAN"},
    {"name": "region", "label": "Region", "displayOrder": 60},
    {"name": "language", "label": "Language", "displayOrder": 50},
]
POPOVER_VALUES = {
    "plan": "Gold",
    "account": "ACME-001",
    "balance": "1250",
    "vip": "true",
    "region": "EMEA",
    "language": "fr",
}


async def popover_variables(center: Center) -> None:
    admin = CodesAdmin(center.server, center.org_id)
    for definition in POPOVER_DEFINITIONS:
        await admin.create("CadVariable", showInPopover=True, **definition)
    await admin.create("CadVariable", name="notes", label="Notes", displayOrder=0)
    await admin.create("CadVariable", name="ssn", label="SSN", secure=True)


async def test_the_popover_shows_queue_entry_point_dnis_wait_deadline_and_configured_variables(
    center: Center,
) -> None:
    await popover_variables(center)
    team = await center.admin.team("Billing")
    voice = await named_line(
        center,
        "VOICE",
        queue_name="Billing calls",
        entry_point_name="Billing hotline",
        address="+15550100200",
        team_id=team,
        offerTimeoutSeconds=45,
    )
    chat = await named_line(
        center,
        "CHAT",
        queue_name="Billing chats",
        entry_point_name="Billing web chat",
        address="billing-chat",
        team_id=team,
        offerTimeoutSeconds=20,
    )
    _, bearer = await center.logged_in_agent(team, await center.profile(voice=1, chat=1))
    everything = [{"name": k, "value": v} for k, v in POPOVER_VALUES.items()]
    hidden = [{"name": "notes", "value": "called twice"}, {"name": "ssn", "value": "078-05-1120"}]
    partial = [e for e in everything if e["name"] not in ("vip", "region")]

    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        call = await center.report(
            voice, ani="+15551234567", dnis="+18005550100", cad=hidden + everything
        )
        call_made = await next_offer()
        chat_task = await center.report(
            chat, customer={"name": "Grace", "address": "grace@example.com"}, cad=partial
        )
        chat_made = await next_offer()

    offer = call_made["offer"]
    assert (offer["queueId"], offer["queueName"]) == (voice.queue_id, "Billing calls")
    assert (offer["entryPointId"], offer["entryPointName"]) == (
        voice.entry_point_id,
        "Billing hotline",
    )
    assert (offer["dnis"], offer["customerAddress"], offer["customerName"]) == (
        "+18005550100",
        "+15551234567",
        None,
    )
    assert moment(offer["deadline"]) - moment(offer["offeredAt"]) == timedelta(seconds=45)
    assert call_made["deadline"] == offer["deadline"]
    assert offer["queuedAt"] == call["queuedAt"]
    assert moment(offer["queuedAt"]) <= moment(offer["offeredAt"])
    assert offer["waitedSeconds"] >= 0
    in_display_order = sorted(POPOVER_DEFINITIONS, key=lambda d: d["displayOrder"])
    assert offer["variables"] == [
        {"name": d["name"], "label": d["label"], "value": POPOVER_VALUES[d["name"]]}
        for d in in_display_order
    ]
    assert len(offer["variables"]) == 6

    second = chat_made["offer"]
    assert (second["taskId"], second["queueName"], second["entryPointName"]) == (
        chat_task["id"],
        "Billing chats",
        "Billing web chat",
    )
    assert (second["customerName"], second["customerAddress"], second["dnis"]) == (
        "Grace",
        "grace@example.com",
        None,
    )
    assert moment(second["deadline"]) - moment(second["offeredAt"]) == timedelta(seconds=20)
    assert [v["name"] for v in second["variables"]] == ["account", "balance", "plan", "language"]
    listed = await center.pending_offers(bearer)
    assert without_wait(listed) == without_wait([offer, second])


async def test_the_callers_number_is_masked_to_its_last_four_digits_when_the_policy_says_so(
    center: Center,
) -> None:
    changed = await update_policies(center.server, center.org_id, maskCallerNumber=True)
    assert changed["__typename"] == "UpdatePoliciesSuccess", changed
    line = await center.line("VOICE")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=1))

    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        task = await center.report(line, ani="+15551234567", dnis="+18005550100")
        made = await next_offer()

    assert made["offer"]["customerAddress"] == "+*******4567"
    assert made["offer"]["dnis"] == "+18005550100"
    listed = await center.pending_offers(bearer)
    assert [offer["customerAddress"] for offer in listed] == ["+*******4567"]
    assert made["offer"]["taskId"] == task["id"]


async def test_under_sensitive_data_protection_the_agent_reading_the_task_sees_the_masked_number(
    center: Center,
) -> None:
    # SPEC §1: "show only the last 4 digits of the caller number" — a protection the popover alone
    # cannot give when the same desktop reads the task, and the number, right after.
    changed = await update_policies(center.server, center.org_id, maskCallerNumber=True)
    assert changed["__typename"] == "UpdatePoliciesSuccess", changed
    line = await center.line("VOICE")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=1))
    task = await center.report(line, ani="+15551234567")

    offered = await center.query(bearer, TASK_BY_ID, id=task["id"])
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"])
    glance = await center.query(bearer, MY_TASKS)

    assert offered["ani"] == "+*******4567"
    assert accepted["task"]["ani"] == "+*******4567"
    assert [t["ani"] for group in glance for t in group["tasks"]] == ["+*******4567"]
    # The connector and the supervisor work with the real number.
    assert (await center.task(task["id"]))["ani"] == "+15551234567"


# --- the list of pending offers -----------------------------------------------------------------


async def test_pending_offers_are_listed_earliest_first_a_page_at_a_time(center: Center) -> None:
    line = await center.line("CHAT")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=6))
    tasks = await chats_offered(center, line, 6)
    task_ids = [task["id"] for task in tasks]

    pages = [await center.query(bearer, OFFERS, offset=offset, first=4) for offset in (0, 4, 6)]
    default = await center.query(
        bearer, "{ offers { totalCount offset hasNextPage items { id } } }"
    )

    assert [(p["totalCount"], p["offset"], p["hasNextPage"], len(p["items"])) for p in pages] == [
        (6, 0, True, 4),
        (6, 4, False, 2),
        (6, 6, False, 0),
    ]
    listed = [item for page in pages for item in page["items"]]
    assert [item["taskId"] for item in listed] == task_ids
    offered_at = [moment(item["offeredAt"]) for item in listed]
    assert offered_at == sorted(offered_at)
    assert {item["outcome"] for item in listed} == {None}
    assert (default["totalCount"], default["hasNextPage"], len(default["items"])) == (6, True, 5)
    assert [item["id"] for item in default["items"]] == [item["id"] for item in listed[:5]]


@pytest.mark.parametrize(
    ("offset", "first", "field", "rule"),
    [
        (0, 0, "first", "range:1-50"),
        (0, 51, "first", "range:1-50"),
        (-1, 5, "offset", "min:0"),
    ],
)
async def test_a_page_of_offers_out_of_bounds_is_refused(
    center: Center, offset: int, first: int, field: str, rule: str
) -> None:
    team = await center.admin.team()
    _, bearer = await center.logged_in_agent(team, await center.profile(voice=1))

    with pytest.raises(GraphQLErrors) as refused:
        await center.query(bearer, OFFERS, offset=offset, first=first)

    assert refused.value.codes == ["VALIDATION_FAILED"]
    extensions = refused.value.errors[0]["extensions"]
    assert (extensions["field"], extensions["rule"]) == (field, rule)


# --- accept -------------------------------------------------------------------------------------


async def test_an_accepted_offer_cannot_be_accepted_again_but_its_idempotent_repeat_succeeds(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    agent_id, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=1))
    task = await center.report(line)

    first = await center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"], idempotencyKey="a-1")
    repeat = await center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"], idempotencyKey="a-1")
    again = await center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"])

    assert first["__typename"] == "AcceptOfferSuccess", first
    offer = first["offer"]
    assert (offer["outcome"], offer["endedBy"], offer["agentId"]) == (
        "ACCEPTED",
        {"kind": "AGENT", "id": agent_id},
        agent_id,
    )
    assert (first["task"]["status"], first["task"]["agentId"]) == ("CONNECTED", agent_id)
    assert without_wait(repeat) == without_wait(first)
    assert (again["__typename"], again["code"], again["currentState"]) == (
        "InvalidStateError",
        "INVALID_STATE",
        "ACCEPTED",
    )
    session = await center.session(bearer)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (1, 0)


async def test_an_offer_of_another_agent_is_not_found_and_stays_theirs(center: Center) -> None:
    line = await center.line("VOICE")
    profile = await center.profile(voice=1)
    owner_id, owner = await center.logged_in_agent(line.team_id, profile)
    task = await center.report(line)
    _, other = await center.logged_in_agent(line.team_id, profile)

    stolen = await center.call(other, ACCEPT_OFFER, offerId=task["offerId"])
    declined = await center.call(other, DECLINE_OFFER, offerId=task["offerId"])
    unknown = await center.call(other, ACCEPT_OFFER, offerId="no-such-offer")

    assert [failure(o) for o in (stolen, declined, unknown)] == [("NotFoundError", "NOT_FOUND")] * 3
    assert task["agentId"] == owner_id
    mine = await center.call(owner, ACCEPT_OFFER, offerId=task["offerId"])
    assert mine["__typename"] == "AcceptOfferSuccess", mine
    assert (await center.session(other))["activeTaskCount"] == 0


async def test_a_declined_or_withdrawn_offer_can_no_longer_be_accepted(center: Center) -> None:
    line = await center.line("CHAT")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=2))
    kept, gone = await chats_offered(center, line, 2)

    declined = await center.call(bearer, DECLINE_OFFER, offerId=kept["offerId"])
    abandoned = await center.call(center.connector, ABANDON_CONTACT, taskId=gone["id"])
    after_decline = await center.call(bearer, ACCEPT_OFFER, offerId=kept["offerId"])
    after_abandon = await center.call(bearer, ACCEPT_OFFER, offerId=gone["offerId"])

    assert declined["__typename"] == "DeclineOfferSuccess", declined
    assert abandoned["__typename"] == "AbandonContactSuccess", abandoned
    assert failure(after_decline) == ("RejectedError", "OFFER_EXPIRED")
    assert failure(after_abandon) == ("RejectedError", "OFFER_EXPIRED")
    # The only agent is asked again (last, but nobody else can): a new offer for the same task.
    again = await center.pending_offers(bearer)
    assert [(o["taskId"], o["id"]) for o in again] == [(kept["id"], f"{kept['id']}.2")]


async def test_ten_concurrent_accepts_of_one_offer_connect_it_once(center: Center) -> None:
    line = await center.line("CHAT")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=3))
    tasks = await chats_offered(center, line, 3)

    for task in tasks:
        outcomes = await asyncio.gather(
            *(center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"]) for _ in range(10))
        )
        winners = [o for o in outcomes if o["__typename"] == "AcceptOfferSuccess"]
        losers = [(o["__typename"], o.get("currentState")) for o in outcomes if o not in winners]
        assert len(winners) == 1, outcomes
        assert losers == [("InvalidStateError", "ACCEPTED")] * 9

    session = await center.session(bearer)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (3, 0)
    glance = await center.query(bearer, MY_TASKS)
    assert sorted(t["id"] for group in glance for t in group["tasks"]) == sorted(
        t["id"] for t in tasks
    )


async def test_only_agents_answer_offers(center: Center) -> None:
    line = await center.line("VOICE")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=1))
    task = await center.report(line)

    refused = []
    for operation, fields in (
        (ACCEPT_OFFER, {"offerId": task["offerId"]}),
        (DECLINE_OFFER, {"offerId": task["offerId"]}),
        (ACCEPT_ALL_OFFERS, {}),
        (REQUEST_CONTACT, {}),
    ):
        for caller in (center.connector, center.supervisor, center.admin.token):
            with pytest.raises(GraphQLErrors) as error:
                await center.call(caller, operation, **fields)
            refused.append(error.value.codes)

    assert refused == [["FORBIDDEN"]] * 12
    assert [o["id"] for o in await center.pending_offers(bearer)] == [task["offerId"]]


# --- decline ------------------------------------------------------------------------------------


async def test_a_declined_task_keeps_its_age_and_goes_to_the_next_agent_the_decliner_last(
    center: Center,
) -> None:
    # Best skilled first: without the decline, the expert would be asked again.
    line = await center.line(
        "VOICE",
        routingStrategy="BEST_SKILLED",
        requiredSkills=[{"name": "billing", "minLevel": 1}],
    )
    profile = await center.profile(voice=1)
    expert_id, expert = await center.logged_in_agent(
        line.team_id, profile, skills=[{"name": "billing", "level": 9}]
    )
    novice_id, novice = await center.logged_in_agent(
        line.team_id, profile, skills=[{"name": "billing", "level": 2}]
    )

    async with (
        subscription(center.server, expert, OFFER_EVENTS, after=0) as expert_offers,
        subscription(center.server, novice, OFFER_EVENTS, after=0) as novice_offers,
    ):
        task = await center.report(line)
        first = await expert_offers()
        declined = await center.call(expert, DECLINE_OFFER, offerId=first["offerId"])
        ended = await expert_offers()
        second = await novice_offers()

    assert (task["agentId"], first["taskId"]) == (expert_id, task["id"])
    assert declined["__typename"] == "DeclineOfferSuccess", declined
    assert (declined["offer"]["outcome"], declined["offer"]["endedBy"]) == (
        "DECLINED",
        {"kind": "AGENT", "id": expert_id},
    )
    assert (ended["__typename"], ended["offerId"], ended["outcome"], ended["cause"]) == (
        "OfferEnded",
        first["offerId"],
        "DECLINED",
        {"kind": "AGENT", "id": expert_id},
    )
    assert (second["__typename"], second["taskId"], second["offer"]["agentId"]) == (
        "OfferMade",
        task["id"],
        novice_id,
    )
    assert second["offer"]["queuedAt"] == task["queuedAt"]
    now = await center.task(task["id"])
    assert (now["status"], now["agentId"], now["offerCount"], now["queuedAt"]) == (
        "OFFERED",
        novice_id,
        2,
        task["queuedAt"],
    )
    session = await center.session(expert)
    assert (session["state"], session["pendingOfferCount"], session["activeTaskCount"]) == (
        "AVAILABLE",
        0,
        0,
    )
    assert await center.pending_offers(expert) == []


async def test_an_accept_racing_a_decline_of_one_offer_leaves_exactly_one_answer(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=6))
    tasks = await chats_offered(center, line, 6)

    pairs = await asyncio.gather(
        *(
            asyncio.gather(
                center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"]),
                center.call(bearer, DECLINE_OFFER, offerId=task["offerId"]),
            )
            for task in tasks
        )
    )

    accepted = 0
    for accept, decline in pairs:
        if accept["__typename"] == "AcceptOfferSuccess":
            accepted += 1
            assert (decline["__typename"], decline["currentState"]) == (
                "InvalidStateError",
                "ACCEPTED",
            )
        else:
            assert failure(accept) == ("RejectedError", "OFFER_EXPIRED")
            assert decline["__typename"] == "DeclineOfferSuccess", decline
    # A declined chat comes back to its only agent as a new offer.
    session = await center.session(bearer)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (accepted, 6 - accepted)
    statuses = [(await center.task(task["id"]))["status"] for task in tasks]
    assert sorted(statuses) == sorted(["CONNECTED"] * accepted + ["OFFERED"] * (6 - accepted))


# --- accept all ---------------------------------------------------------------------------------


async def test_accept_all_accepts_every_pending_offer_earliest_first(center: Center) -> None:
    line = await center.line("CHAT")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=4))
    tasks = await chats_offered(center, line, 3)

    outcome = await center.call(bearer, ACCEPT_ALL_OFFERS)
    nothing_left = await center.call(bearer, ACCEPT_ALL_OFFERS)

    assert outcome["__typename"] == "AcceptAllOffersSuccess", outcome
    assert outcome["accepted"] == [
        {
            "offer": {"id": task["offerId"], "outcome": "ACCEPTED"},
            "task": {"id": task["id"], "status": "CONNECTED"},
        }
        for task in tasks
    ]
    assert outcome["refused"] == []
    assert (nothing_left["accepted"], nothing_left["refused"]) == ([], [])
    assert await center.pending_offers(bearer) == []
    session = await center.session(bearer)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (3, 0)


async def test_concurrent_accept_alls_accept_each_offer_once(center: Center) -> None:
    line = await center.line("CHAT")
    _, bearer = await center.logged_in_agent(line.team_id, await center.profile(voice=0, chat=6))
    tasks = await chats_offered(center, line, 6)

    outcomes = await asyncio.gather(*(center.call(bearer, ACCEPT_ALL_OFFERS) for _ in range(5)))

    assert {o["__typename"] for o in outcomes} == {"AcceptAllOffersSuccess"}, outcomes
    accepted = [item["task"]["id"] for o in outcomes for item in o["accepted"]]
    assert sorted(accepted) == sorted(task["id"] for task in tasks)
    session = await center.session(bearer)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (6, 0)


# --- +1 contact ---------------------------------------------------------------------------------

CREATE_IDLE_CODE = """
mutation($input: CreateIdleCodeInput!) {
  createIdleCode(input: $input) { __typename ... on CreateIdleCodeSuccess { idleCode { id } } }
}"""


async def test_a_contact_is_refused_to_an_agent_without_room_and_not_found_when_none_waits(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    profile = await center.profile(voice=1, chat=1)
    idle = await center.query(center.admin.token, CREATE_IDLE_CODE, input={"name": "Lunch"})
    resting_id = await center.agent(line.team_id, profile)
    resting = center.agent_token(resting_id)
    logged_out = center.agent_token(await center.agent(line.team_id, profile))
    _, busy = await center.logged_in_agent(line.team_id, await center.profile(voice=1))
    logged_in = await center.call(
        resting, LOG_IN, teamId=line.team_id, idleCodeId=idle["idleCode"]["id"]
    )
    assert logged_in["agentSession"]["state"] == "IDLE", logged_in
    _, free = await center.logged_in_agent(line.team_id, profile)
    task = await center.report(line)  # offered to the agent available longest: busy

    outcomes = {
        name: await center.call(bearer, REQUEST_CONTACT)
        for name, bearer in (
            ("busy", busy),
            ("idle", resting),
            ("logged out", logged_out),
            ("free", free),
        )
    }

    assert task["offerId"] is not None
    assert {name: failure(o) for name, o in outcomes.items()} == {
        "busy": ("RejectedError", "CAPACITY_EXCEEDED"),
        "idle": ("RejectedError", "CAPACITY_EXCEEDED"),
        "logged out": ("InvalidStateError", "INVALID_STATE"),
        "free": ("NotFoundError", "NOT_FOUND"),
    }
    assert outcomes["logged out"]["currentState"] == "LOGGED_OUT"
    assert (await center.session(free))["pendingOfferCount"] == 0
    assert (await center.session(busy))["pendingOfferCount"] == 1


@pytest.fixture(scope="module")
def sweepless_server(
    mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server whose routing sweep (the safety net that routes what no follow-up did) does not run
    during the test: what waits stays waiting until somebody asks for it."""
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"plus_one_{uuid.uuid4().hex[:8]}",
        log_dir=Path(tmp_path_factory.mktemp("plus_one")),
        extra_env={"OMNIDESK_ROUTING_SWEEP_SECONDS": "3600"},
    )
    try:
        yield running
    finally:
        running.stop()


async def test_plus_one_offers_the_oldest_waiting_task_of_a_channel_with_room(
    sweepless_server: Server,
) -> None:
    # Work waits in queues nobody logged in serves; then the queues are given to the agent's team.
    # Routing follows contacts and agents, not configuration changes (the sweep catches those
    # later): an agent asking for +1 gets such work at once.
    center = Center(sweepless_server, new_org_id())
    nobody = await center.admin.team("Night shift")
    email = await center.line("EMAIL", team_id=nobody)
    chat = await center.line("CHAT", team_id=nobody)
    voice = await center.line("VOICE", team_id=nobody)
    team = await center.admin.team("Day shift")
    agent_id, bearer = await center.logged_in_agent(team, await center.profile(voice=1, chat=2))
    oldest = await center.report(email, customer={"name": "Ada", "address": "ada@example.com"})
    older = await center.report(chat)
    newer = await center.report(voice)
    for line in (email, chat, voice):
        given = await center.admin.run("Update", "Queue", id=line.queue_id, teamIds=[nobody, team])
        assert given["__typename"] == "UpdateQueueSuccess", given
    assert await waiting_by_queue(center) == {
        email.queue_id: 1,
        chat.queue_id: 1,
        voice.queue_id: 1,
    }

    first = await center.call(bearer, REQUEST_CONTACT, idempotencyKey="plus-1")
    repeated = await center.call(bearer, REQUEST_CONTACT, idempotencyKey="plus-1")
    second = await center.call(bearer, REQUEST_CONTACT)
    third = await center.call(bearer, REQUEST_CONTACT)

    assert first["__typename"] == "RequestContactSuccess", first
    offer = first["offer"]
    assert (offer["taskId"], offer["agentId"], offer["channel"], offer["queueId"]) == (
        older["id"],
        agent_id,
        "CHAT",
        chat.queue_id,
    )
    assert offer["queuedAt"] == older["queuedAt"]
    assert without_wait(repeated) == without_wait(first)
    assert second["__typename"] == "RequestContactSuccess", second
    assert (second["offer"]["taskId"], second["offer"]["channel"]) == (newer["id"], "VOICE")
    assert failure(third) == ("NotFoundError", "NOT_FOUND")
    assert [o["taskId"] for o in await center.pending_offers(bearer)] == [older["id"], newer["id"]]
    assert await waiting_by_queue(center) == {
        email.queue_id: 1,
        chat.queue_id: 0,
        voice.queue_id: 0,
    }
    assert (await center.task(oldest["id"]))["status"] == "QUEUED"


async def test_concurrent_plus_one_requests_never_exceed_the_agents_capacity(
    sweepless_server: Server,
) -> None:
    center = Center(sweepless_server, new_org_id())
    nobody = await center.admin.team("Night shift")
    chat = await center.line("CHAT", team_id=nobody)
    team = await center.admin.team("Day shift")
    _, bearer = await center.logged_in_agent(team, await center.profile(voice=0, chat=2))
    tasks = [await center.report(chat, customer={"name": f"Customer {i}"}) for i in range(3)]
    given = await center.admin.run("Update", "Queue", id=chat.queue_id, teamIds=[nobody, team])
    assert given["__typename"] == "UpdateQueueSuccess", given

    outcomes = await asyncio.gather(*(center.call(bearer, REQUEST_CONTACT) for _ in range(8)))

    offered = sorted(o["offer"]["taskId"] for o in outcomes if "offer" in o)
    assert offered == sorted(task["id"] for task in tasks[:2])
    assert (
        sorted(failure(o) for o in outcomes if "offer" not in o)
        == [("RejectedError", "CAPACITY_EXCEEDED")] * 6
    )
    assert (await center.session(bearer))["pendingOfferCount"] == 2
    assert await waiting_by_queue(center) == {chat.queue_id: 1}
