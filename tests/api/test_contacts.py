"""Contacts reported by connectors through the public API (SPEC §3, §4, §7, §10): what a task holds
on every channel, every refused report (naming field and rule, leaving nothing behind), who may
report, idempotent and concurrent repeats, and the customer who leaves before an agent answers."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.api.center import (
    ABANDON_CONTACT,
    ACCEPT_OFFER,
    OFFER_EVENTS,
    QUEUE_STATS_QUERY,
    REPORT_CONTACT,
    TASK_BY_ID,
    Center,
    Line,
    subscription,
)
from tests.api.client import GraphQLErrors, execute
from tests.api.server import Server
from tests.api.test_configuration_b import Admin as CodesAdmin


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


# --- helpers ------------------------------------------------------------------------------------


async def line_at(
    center: Center, channel: str, address: str, *, team_id: str | None = None
) -> Line:
    """A queue and its inbound entry point at ``address`` (``Center.line`` names SMS and work-item
    entry points with free text, which SMS, addressed by phone number, refuses)."""
    team_id = team_id or await center.admin.team(f"team-{uuid.uuid4().hex[:6]}")
    queue = await center.admin.make(
        "Queue",
        name=f"{channel.lower()}-{uuid.uuid4().hex[:6]}",
        channel=channel,
        teamIds=[team_id],
    )
    entry_point = await center.admin.make(
        "EntryPoint",
        name=f"ep-{uuid.uuid4().hex[:6]}",
        channel=channel,
        direction="INBOUND",
        address=address,
        queueId=queue["id"],
    )
    return Line(queue["id"], entry_point["id"], team_id, channel)


async def every_channel_profile(center: Center) -> str:
    channels = ["VOICE", "CHAT", "EMAIL", "SMS", "WORK_ITEM"]
    made = await center.admin.make(
        "MultimediaProfile",
        name=f"all-{uuid.uuid4().hex[:6]}",
        channels=[{"channel": c, "maxConcurrent": 1 if c == "VOICE" else 3} for c in channels],
        voiceMode="BLENDED",
    )
    return str(made["id"])


async def waiting_by_queue(center: Center) -> dict[str, int]:
    stats = await center.query(center.supervisor, QUEUE_STATS_QUERY, queueIds=None)
    return {queue["queueId"]: queue["waiting"] for queue in stats["queues"]}


async def report_outcome(center: Center, **fields: Any) -> dict[str, Any]:
    return await center.call(center.connector, REPORT_CONTACT, **fields)


def refusal(outcome: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    return (
        outcome["__typename"],
        outcome.get("code", ""),
        [(v["field"], v["rule"]) for v in outcome.get("violations", [])],
    )


def parsed(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


TRANSCRIPT = [
    {"sender": "bot", "text": "Hi! What can I do for you?", "sentAt": "2024-05-01T09:30:00Z"},
    {"sender": "customer", "text": "My invoice is wrong.", "sentAt": "2024-05-01T09:30:12.250Z"},
    {"sender": "bot", "text": "Let me find an agent.", "sentAt": "2024-05-01T09:30:15Z"},
]


# --- every channel ------------------------------------------------------------------------------


async def test_a_call_is_reported_with_its_numbers_and_waits_in_its_queue(center: Center) -> None:
    line = await center.line("VOICE")

    task = await center.report(line, ani="+1 555-010-0199", dnis="+15557654321", priority=2)

    assert {key: task[key] for key in ("channel", "status", "queueId", "entryPointId")} == {
        "channel": "VOICE",
        "status": "QUEUED",
        "queueId": line.queue_id,
        "entryPointId": line.entry_point_id,
    }
    assert (task["ani"], task["dnis"], task["priority"]) == ("+1 555-010-0199", "+15557654321", 2)
    assert task["customer"] == {"name": None, "customerId": None, "address": None}
    assert (task["agentId"], task["offerId"], task["offerCount"], task["version"]) == (
        None,
        None,
        0,
        1,
    )
    assert task["queuedAt"] == task["createdAt"] == task["statusSince"]
    assert (task["cad"], task["transcript"], task["subject"]) == ([], [], None)
    stored = await center.task(task["id"])
    assert {k: v for k, v in stored.items() if k != "waitedSeconds"} == {
        k: v for k, v in task.items() if k != "waitedSeconds"
    }
    assert await waiting_by_queue(center) == {line.queue_id: 1}


async def test_a_chat_arrives_with_its_customer_and_bot_transcript_which_the_agent_reads(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=2)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)
    customer = {"name": "Grace Hopper", "customerId": "cust-42", "address": "grace.h"}

    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        task = await center.report(line, customer=customer, transcript=TRANSCRIPT)
        made = await next_offer()

    assert (task["channel"], task["status"], task["agentId"]) == ("CHAT", "OFFERED", agent_id)
    assert task["customer"] == customer
    offer = made["offer"]
    assert (offer["customerName"], offer["customerId"], offer["customerAddress"]) == (
        "Grace Hopper",
        "cust-42",
        "grace.h",
    )
    assert (offer["queueId"], offer["channel"], offer["queuedAt"]) == (
        line.queue_id,
        "CHAT",
        task["queuedAt"],
    )
    assert offer["waitedSeconds"] >= 0

    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=offer["id"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    as_agent = await center.query(bearer, TASK_BY_ID, id=task["id"])
    for view in (accepted["task"], as_agent):
        assert [(line["sender"], line["text"]) for line in view["transcript"]] == [
            (line["sender"], line["text"]) for line in TRANSCRIPT
        ]
        assert [parsed(line["sentAt"]) for line in view["transcript"]] == [
            parsed(line["sentAt"].replace("Z", "+00:00")) for line in TRANSCRIPT
        ]
    assert as_agent["status"] == "CONNECTED"


async def test_an_email_keeps_the_customer_address_and_subject(center: Center) -> None:
    line = await center.line("EMAIL")

    task = await center.report(
        line,
        customer={"name": "Ada Lovelace", "address": "ada@example.com"},
        subject="Invoice 2024-117 is wrong",
    )

    assert (task["channel"], task["status"], task["subject"]) == (
        "EMAIL",
        "QUEUED",
        "Invoice 2024-117 is wrong",
    )
    assert task["customer"] == {
        "name": "Ada Lovelace",
        "customerId": None,
        "address": "ada@example.com",
    }
    assert (task["ani"], task["dnis"]) == (None, None)
    assert (await center.task(task["id"]))["customer"] == task["customer"]


async def test_an_sms_comes_from_a_phone_number_to_an_entry_point_with_a_number(
    center: Center,
) -> None:
    line = await line_at(center, "SMS", "+1 555 010 0123")

    task = await center.report(line, customer={"customerId": "c-7", "address": "+44 7700 900123"})

    assert (task["channel"], task["status"], task["queueId"]) == ("SMS", "QUEUED", line.queue_id)
    assert task["customer"] == {"name": None, "customerId": "c-7", "address": "+44 7700 900123"}
    assert await waiting_by_queue(center) == {line.queue_id: 1}


async def test_a_work_item_needs_no_customer_and_carries_its_subject(center: Center) -> None:
    line = await line_at(center, "WORK_ITEM", "claims-intake")

    outcome = await report_outcome(
        center, entryPointId=line.entry_point_id, subject="Claim 8812: photos to review"
    )

    assert outcome["__typename"] == "ReportContactSuccess", outcome
    task = outcome["task"]
    assert (task["channel"], task["status"], task["subject"]) == (
        "WORK_ITEM",
        "QUEUED",
        "Claim 8812: photos to review",
    )
    assert task["customer"] == {"name": None, "customerId": None, "address": None}


# --- CAD values ---------------------------------------------------------------------------------


async def cad_variables(server: Server, org_id: str) -> None:
    """account (STRING), balance (INTEGER), vip (BOOLEAN), since (DATETIME), ssn (secure), and
    retired (deactivated)."""
    admin = CodesAdmin(server, org_id)
    await admin.create("CadVariable", name="account", label="Account")
    await admin.create("CadVariable", name="balance", label="Balance", varType="INTEGER")
    await admin.create("CadVariable", name="vip", label="VIP", varType="BOOLEAN")
    await admin.create("CadVariable", name="since", label="Customer since", varType="DATETIME")
    await admin.create("CadVariable", name="ssn", label="SSN", secure=True)
    retired = await admin.create("CadVariable", name="retired", label="Retired")
    off = await admin.run("Deactivate", "CadVariable", id=retired["id"])
    assert off["__typename"] == "DeactivateCadVariableSuccess", off


SECRET_SSN = "078-05-1120"
CAD_VALUES = [
    {"name": "account", "value": "ACME-001"},
    {"name": "ssn", "value": SECRET_SSN},
    {"name": "balance", "value": "-1250"},
    {"name": "vip", "value": "true"},
    {"name": "since", "value": "2019-03-01T08:00:00+01:00"},
]


async def test_initial_cad_values_are_stored_on_the_task_and_secure_ones_read_masked(
    center: Center,
) -> None:
    await cad_variables(center.server, center.org_id)
    line = await center.line("VOICE")
    profile = await center.profile(voice=1)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)

    reported = await center.report(line, cad=CAD_VALUES)
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=reported["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted

    # Secure values read `*****` (issue #5: the desktop shows the field, masked).
    shown = [e | {"value": "*****"} if e["name"] == "ssn" else e for e in CAD_VALUES]
    views = {
        "report": reported,
        "accept": accepted["task"],
        "supervisor": await center.task(reported["id"]),
        "connector": await center.query(center.connector, TASK_BY_ID, id=reported["id"]),
        "agent": await center.query(bearer, TASK_BY_ID, id=reported["id"]),
        "admin": await center.query(center.admin.token, TASK_BY_ID, id=reported["id"]),
    }
    assert {name: view["cad"] for name, view in views.items()} == dict.fromkeys(views, shown)
    assert SECRET_SSN not in json.dumps(views)
    assert views["agent"]["agentId"] == agent_id


# --- refused reports ----------------------------------------------------------------------------


async def test_every_refused_report_names_its_fields_and_rules_and_leaves_nothing_behind(
    center: Center,
) -> None:
    await cad_variables(center.server, center.org_id)
    team = await center.admin.team("Everything")
    voice = await center.line("VOICE", team_id=team)
    chat = await center.line("CHAT", team_id=team)
    email = await center.line("EMAIL", team_id=team)
    sms = await line_at(center, "SMS", "+15550100777", team_id=team)
    work = await line_at(center, "WORK_ITEM", "back-office", team_id=team)
    outbound = await center.admin.make(
        "EntryPoint", name="Dial out", channel="VOICE", direction="OUTBOUND", address="+15550100888"
    )
    closed = await center.line("VOICE", team_id=team)
    off = await center.admin.run("Deactivate", "EntryPoint", id=closed.entry_point_id)
    assert off["__typename"] == "DeactivateEntryPointSuccess", off
    agent_id, bearer = await center.logged_in_agent(team, await every_channel_profile(center))

    ani = {"ani": "+15550001111"}
    grace = {"customer": {"name": "Grace"}}
    cases: dict[str, tuple[Line | str, dict[str, Any], list[tuple[str, str]]]] = {
        "unknown entry point": ("no-such-entry-point", ani, [("entryPointId", "reference")]),
        "deactivated entry point": (closed, ani, [("entryPointId", "reference")]),
        "outbound entry point": (outbound["id"], ani, [("entryPointId", "reference")]),
        "voice without ani": (voice, {}, [("ani", "required")]),
        "ani not a number": (voice, {"ani": "+1555CALLNOW"}, [("ani", "phone")]),
        "ani too short": (voice, {"ani": "555-01"}, [("ani", "length:7-15")]),
        "dnis not a number": (voice, {**ani, "dnis": "sales line"}, [("dnis", "phone")]),
        "ani on a chat": (chat, {**grace, **ani}, [("ani", "voice_only")]),
        "chat without customer": (chat, {}, [("customer", "required")]),
        "chat with address only": (
            chat,
            {"customer": {"address": "anon-17"}},
            [("customer", "required")],
        ),
        "email without customer name or id": (
            email,
            {"customer": {"address": "ada@example.com"}},
            [("customer", "required")],
        ),
        "email with a bad address": (
            email,
            {"customer": {"name": "Ada", "address": "ada at example"}},
            [("customer.address", "email")],
        ),
        "sms with a bad number": (
            sms,
            {"customer": {"customerId": "c-1", "address": "call me maybe"}},
            [("customer.address", "phone")],
        ),
        "work item with ani": (work, ani, [("ani", "voice_only")]),
        "transcript on a call": (
            voice,
            {**ani, "transcript": TRANSCRIPT[:1]},
            [("transcript", "chat_only")],
        ),
        "transcript on an email": (
            email,
            {**grace, "transcript": TRANSCRIPT[:1]},
            [("transcript", "chat_only")],
        ),
        "unknown CAD variable": (
            voice,
            {**ani, "cad": [{"name": "account", "value": "A"}, {"name": "nope", "value": "x"}]},
            [("cad[1].name", "reference")],
        ),
        "deactivated CAD variable": (
            voice,
            {**ani, "cad": [{"name": "retired", "value": "x"}]},
            [("cad[0].name", "reference")],
        ),
        "CAD values of the wrong type": (
            voice,
            {
                **ani,
                "cad": [
                    {"name": "balance", "value": "12.50"},
                    {"name": "vip", "value": "yes"},
                    {"name": "since", "value": "2019-03-01 08:00"},
                    {"name": "account", "value": "x" * 257},
                ],
            },
            [
                ("cad[0].value", "integer"),
                ("cad[1].value", "boolean"),
                ("cad[2].value", "datetime"),
                ("cad[3].value", "max_length:256"),
            ],
        ),
        "CAD variable twice": (
            voice,
            {**ani, "cad": [{"name": "vip", "value": "true"}, {"name": "VIP", "value": "false"}]},
            [("cad", "unique_items"), ("cad[1].name", "reference")],
        ),
        "priority 0": (voice, {**ani, "priority": 0}, [("priority", "range:1-10")]),
        "priority 11": (chat, {**grace, "priority": 11}, [("priority", "range:1-10")]),
        "several rules at once": (
            voice,
            {"dnis": "12", "priority": -1},
            [("ani", "required"), ("dnis", "length:7-15"), ("priority", "range:1-10")],
        ),
    }
    outcomes = {}
    for name, (target, fields, _) in cases.items():
        entry_point = target.entry_point_id if isinstance(target, Line) else target
        outcome = await report_outcome(center, entryPointId=entry_point, **fields)
        outcomes[name] = refusal(outcome)
        assert outcome.get("field") == outcome["violations"][0]["field"], outcome

    assert outcomes == {
        name: ("ValidationError", "VALIDATION_FAILED", expected)
        for name, (_, _, expected) in cases.items()
    }
    # The agent could take any of them: a task made by a refused report would have been offered.
    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        task = await center.report(chat)
        first = await next_offer()
    assert (first["__typename"], first["seq"], first["taskId"]) == ("OfferMade", 1, task["id"])
    assert (await center.session(bearer))["pendingOfferCount"] == 1
    assert set((await waiting_by_queue(center)).values()) == {0}
    assert agent_id == first["offer"]["agentId"]


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
async def test_only_a_connector_reports_and_abandons_contacts(center: Center, role: str) -> None:
    line = await center.line("VOICE")
    bearer = {
        "agent": center.agent_token("agent-1"),
        "supervisor": center.supervisor,
        "admin": center.admin.token,
    }[role]

    with pytest.raises(GraphQLErrors) as reported:
        await center.call(bearer, REPORT_CONTACT, entryPointId=line.entry_point_id, ani="+15550001")
    task = await center.report(line)
    with pytest.raises(GraphQLErrors) as abandoned:
        await center.call(bearer, ABANDON_CONTACT, taskId=task["id"])

    assert (reported.value.codes, abandoned.value.codes) == (["FORBIDDEN"], ["FORBIDDEN"])
    assert await waiting_by_queue(center) == {line.queue_id: 1}
    assert (await center.task(task["id"]))["status"] == "QUEUED"


# --- idempotent and concurrent reports ----------------------------------------------------------


async def test_a_report_repeated_with_its_idempotency_key_names_the_same_task(
    center: Center,
) -> None:
    line = await center.line("EMAIL")
    fields = {"customer": {"name": "Ada", "address": "ada@example.com"}, "subject": "Refund"}

    first = await center.report(line, idempotencyKey="mail-1", **fields)
    again = await center.report(line, idempotencyKey="mail-1", **fields)
    other = await center.report(line, idempotencyKey="mail-2", **fields)

    assert {k: v for k, v in again.items() if k != "waitedSeconds"} == {
        k: v for k, v in first.items() if k != "waitedSeconds"
    }
    assert other["id"] != first["id"]
    assert await waiting_by_queue(center) == {line.queue_id: 2}
    changed = await report_outcome(
        center, entryPointId=line.entry_point_id, idempotencyKey="mail-1", subject="Other"
    )
    assert (changed["__typename"], changed["field"], changed["rule"]) == (
        "ValidationError",
        "idempotencyKey",
        "reused",
    )
    assert await waiting_by_queue(center) == {line.queue_id: 2}


async def test_ten_concurrent_repeats_of_a_report_make_one_task_and_one_offer(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=6)
    _, bearer = await center.logged_in_agent(line.team_id, profile)
    rounds = 4

    task_ids = []
    for attempt in range(rounds):
        key = f"chat-{attempt}"
        outcomes = await asyncio.gather(
            *(
                report_outcome(
                    center,
                    entryPointId=line.entry_point_id,
                    customer={"name": f"Customer {attempt}"},
                    idempotencyKey=key,
                )
                for _ in range(10)
            )
        )
        assert {o["__typename"] for o in outcomes} == {"ReportContactSuccess"}, outcomes
        assert len({o["task"]["id"] for o in outcomes}) == 1
        assert len({o["task"]["status"] for o in outcomes}) == 1
        task_ids.append(outcomes[0]["task"]["id"])

    assert len(set(task_ids)) == rounds
    offers = await center.pending_offers(bearer)
    assert sorted(offer["taskId"] for offer in offers) == sorted(task_ids)
    assert (await center.session(bearer))["pendingOfferCount"] == rounds
    assert await waiting_by_queue(center) == {line.queue_id: 0}


# --- the customer leaves ------------------------------------------------------------------------


async def test_a_waiting_contact_abandoned_by_its_customer_ends_abandoned(center: Center) -> None:
    line = await center.line("VOICE")
    task = await center.report(line)

    outcome = await center.call(center.connector, ABANDON_CONTACT, taskId=task["id"])

    assert outcome["__typename"] == "AbandonContactSuccess", outcome
    abandoned = outcome["task"]
    assert (abandoned["status"], abandoned["offerId"], abandoned["version"]) == (
        "ABANDONED",
        None,
        2,
    )
    assert abandoned["queuedAt"] == task["queuedAt"]
    assert (await center.task(task["id"]))["status"] == "ABANDONED"
    assert await waiting_by_queue(center) == {line.queue_id: 0}
    twice = await center.call(center.connector, ABANDON_CONTACT, taskId=task["id"])
    assert (twice["__typename"], twice["code"], twice["currentState"]) == (
        "InvalidStateError",
        "INVALID_STATE",
        "ABANDONED",
    )


async def test_abandoning_an_offered_contact_withdraws_the_offer_from_the_agent(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=2)
    agent_id, bearer = await center.logged_in_agent(line.team_id, profile)

    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        task = await center.report(line, customer={"name": "Grace", "customerId": "cust-9"})
        made = await next_offer()
        assert (await center.session(bearer))["pendingOfferCount"] == 1
        outcome = await center.call(
            center.connector, ABANDON_CONTACT, taskId=task["id"], idempotencyKey="gone-1"
        )
        ended = await next_offer()

    assert outcome["__typename"] == "AbandonContactSuccess", outcome
    assert (outcome["task"]["status"], outcome["task"]["offerId"]) == ("ABANDONED", None)
    assert (made["__typename"], made["taskId"]) == ("OfferMade", task["id"])
    assert (ended["__typename"], ended["offerId"], ended["outcome"]) == (
        "OfferEnded",
        made["offerId"],
        "WITHDRAWN",
    )
    assert ended["cause"] == {"kind": "CUSTOMER", "id": "cust-9"}
    session = await center.session(bearer)
    assert (session["pendingOfferCount"], session["activeTaskCount"], session["state"]) == (
        0,
        0,
        "AVAILABLE",
    )
    assert await center.pending_offers(bearer) == []
    repeated = await center.call(
        center.connector, ABANDON_CONTACT, taskId=task["id"], idempotencyKey="gone-1"
    )
    assert repeated == outcome
    late = await center.call(bearer, ACCEPT_OFFER, offerId=made["offerId"])
    assert (late["__typename"], late["code"]) == ("RejectedError", "OFFER_EXPIRED")
    assert agent_id == made["offer"]["agentId"]


async def test_a_connected_contact_cannot_be_abandoned_and_an_unknown_one_is_not_found(
    center: Center,
) -> None:
    line = await center.line("VOICE")
    profile = await center.profile(voice=1)
    _, bearer = await center.logged_in_agent(line.team_id, profile)
    task = await center.report(line)
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted

    connected = await center.call(center.connector, ABANDON_CONTACT, taskId=task["id"])
    unknown = await center.call(center.connector, ABANDON_CONTACT, taskId="no-such-task")

    assert (connected["__typename"], connected["code"], connected["currentState"]) == (
        "InvalidStateError",
        "INVALID_STATE",
        "CONNECTED",
    )
    assert (unknown["__typename"], unknown["code"]) == ("NotFoundError", "NOT_FOUND")
    assert (await center.task(task["id"]))["status"] == "CONNECTED"
    assert (await center.session(bearer))["activeTaskCount"] == 1


async def test_an_abandon_racing_an_accept_leaves_exactly_one_of_them_standing(
    center: Center,
) -> None:
    line = await center.line("CHAT")
    profile = await center.profile(voice=0, chat=6)
    _, bearer = await center.logged_in_agent(line.team_id, profile)
    tasks = [await center.report(line, customer={"name": f"Customer {i}"}) for i in range(6)]
    assert {task["status"] for task in tasks} == {"OFFERED"}

    pairs = await asyncio.gather(
        *(
            asyncio.gather(
                center.call(bearer, ACCEPT_OFFER, offerId=task["offerId"]),
                center.call(center.connector, ABANDON_CONTACT, taskId=task["id"]),
            )
            for task in tasks
        )
    )

    connected = 0
    for task, (accept, abandon) in zip(tasks, pairs, strict=True):
        stored = await center.task(task["id"])
        if accept["__typename"] == "AcceptOfferSuccess":
            connected += 1
            assert (abandon["__typename"], abandon["currentState"]) == (
                "InvalidStateError",
                "CONNECTED",
            )
            assert stored["status"] == "CONNECTED"
        else:
            assert (accept["__typename"], accept["code"]) == ("RejectedError", "OFFER_EXPIRED")
            assert abandon["__typename"] == "AbandonContactSuccess", abandon
            assert stored["status"] == "ABANDONED"
    session = await center.session(bearer)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (connected, 0)


async def test_an_abandon_by_another_organization_does_not_find_the_task(
    center: Center, server: Server
) -> None:
    line = await center.line("VOICE")
    task = await center.report(line)
    stranger = Center(server, f"org-{uuid.uuid4().hex[:12]}")

    outcome = await stranger.call(stranger.connector, ABANDON_CONTACT, taskId=task["id"])
    read = await execute(server, stranger.supervisor, TASK_BY_ID, {"id": task["id"]})

    assert (outcome["__typename"], outcome["code"]) == ("NotFoundError", "NOT_FOUND")
    assert read == {"task": None}
    assert (await center.task(task["id"]))["status"] == "QUEUED"
