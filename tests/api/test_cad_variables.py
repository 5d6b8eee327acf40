"""CAD variables through the public API (issue #5, SPEC §7, seed 002): save and retrieve with
versions and authors, every validation boundary refusing the whole save, who may write, secure
values masked everywhere but an audited reveal, CAD changes on the task's timeline, and the
popover / consult variables after a save."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.cad_helpers import (
    CAD_EVENT_FIELDS,
    REVEAL_CAD,
    SAVE_CAD,
    SECRET,
    TASK_CAD,
    cad_definitions,
    cad_of,
    on_call,
    save,
    stored_documents,
    two_agents,
    update,
    values,
)
from tests.api.calls import (
    END_CALL,
    EVENT_FIELDS,
    EXIT_CONSULT,
    RESUME_CALL,
    SUBMIT_WRAP_UP,
    AnsweredCall,
    moved,
    task_events,
    wrap_up_code,
)
from tests.api.center import (
    ACCEPT_OFFER,
    OFFER_EVENTS,
    TASK_BY_ID,
    Center,
    next_matching,
    subscription,
)
from tests.api.client import GraphQLErrors, execute
from tests.api.server import Server
from tests.api.test_consult_conference import (
    ACCEPT,
    CONSULT_OFFERS,
    colleague,
    consult_started,
    offer_made,
)

SAVED_SECRET = "SSN-saved-by-agent-4f1c-sentinel"
SUCCESSES = ("SaveCadVariablesSuccess", "UpdateCadVariablesSuccess")
TIMELINE = f"""
query($id: ID!) {{ task(id: $id) {{ id history {{ {EVENT_FIELDS} {CAD_EVENT_FIELDS} }} }} }}"""
CAD_TASK_EVENTS = f"""
subscription($taskId: ID!, $after: Int) {{
  taskEvents(taskId: $taskId, after: $after) {{ {EVENT_FIELDS} {CAD_EVENT_FIELDS} }}
}}"""


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


def connector() -> dict[str, Any]:
    return {"kind": "INTEGRATION", "id": "connector-1", "name": None}


def agent(agent_id: str) -> dict[str, Any]:
    return {"kind": "AGENT", "id": agent_id, "name": f"Agent {agent_id[-4:]}"}


def saved_values(outcome: dict[str, Any]) -> list[tuple[str, str, int]]:
    assert outcome["__typename"] in SUCCESSES, outcome
    return [(e["name"], e["value"], e["version"]) for e in outcome["saved"]]


def violations(outcome: dict[str, Any]) -> list[tuple[str, str]]:
    assert (outcome["__typename"], outcome["code"]) == ("ValidationError", "VALIDATION_FAILED")
    return [(v["field"], v["rule"]) for v in outcome["violations"]]


# --- save and retrieve --------------------------------------------------------------------------


async def test_an_agent_saves_several_variables_at_once_and_retrieve_returns_the_last_saved(
    center: Center,
) -> None:
    await cad_definitions(center)
    reported = [{"name": "caseNumber", "value": "C-100"}, {"name": "account", "value": "ACME"}]
    call = await on_call(center, cad=reported)

    before = await cad_of(center, call.bearer, call.task_id)
    assert {name: (e["value"], e["version"], e["savedBy"]) for name, e in before.items()} == {
        "caseNumber": ("C-100", 1, connector()),
        "account": ("ACME", 1, connector()),
        "tier": ("standard", 1, connector()),  # the definition's default
    }
    assert [(e["label"], e["varType"], e["editable"]) for e in before.values()] == [
        ("Case number", "STRING", True),
        ("Account", "STRING", False),
        ("Tier", "STRING", True),
    ]

    outcome = await save(
        center,
        call.bearer,
        call.task_id,
        caseNumber=("C-101", 1),
        count=("-42", 0),
        vip=("false", 0),
        callAt=("2025-03-01T09:30:00+02:00", 0),
    )
    assert saved_values(outcome) == [
        ("caseNumber", "C-101", 2),
        ("count", "-42", 1),
        ("vip", "false", 1),
        ("callAt", "2025-03-01T09:30:00+02:00", 1),
    ]
    assert outcome["conflicts"] == []
    assert {e["savedBy"]["id"] for e in outcome["saved"]} == {call.agent_id}
    assert outcome["saved"][0]["savedBy"] == agent(call.agent_id)
    assert len({e["savedAt"] for e in outcome["saved"]}) == 1

    retrieved = await cad_of(center, center.supervisor, call.task_id)
    assert {name: (e["value"], e["version"]) for name, e in retrieved.items()} == {
        "caseNumber": ("C-101", 2),
        "account": ("ACME", 1),
        "tier": ("standard", 1),
        "count": ("-42", 1),
        "vip": ("false", 1),
        "callAt": ("2025-03-01T09:30:00+02:00", 1),
    }
    assert outcome["task"]["version"] == outcome["taskVersion"]
    assert outcome["task"]["cad"] == list(retrieved.values())

    again = await save(center, call.bearer, call.task_id, caseNumber=("C-102", 2))
    assert saved_values(again) == [("caseNumber", "C-102", 3)]
    assert again["taskVersion"] == outcome["taskVersion"] + 1


# --- validation ---------------------------------------------------------------------------------


async def test_every_validation_boundary_refuses_the_whole_save_and_changes_nothing(
    center: Center,
) -> None:
    await cad_definitions(center)
    call = await on_call(center)
    task_id = call.task_id

    assert saved_values(await save(center, call.bearer, task_id, caseNumber=("x" * 255, 0))) == [
        ("caseNumber", "x" * 255, 1)
    ]
    assert saved_values(await save(center, call.bearer, task_id, caseNumber=("y" * 256, 1))) == [
        ("caseNumber", "y" * 256, 2)
    ]
    before = await center.query(center.supervisor, TASK_CAD, id=task_id)

    valid = {"count": ("7", 0)}  # refused along with the broken one
    cases: list[tuple[dict[str, tuple[str, int]], list[tuple[str, str]], str]] = [
        ({"caseNumber": ("z" * 257, 2)}, [("values.1.value", "max_length:256")], "caseNumber"),
        ({"ssn": (SECRET * 12, 0)}, [("values.1.value", "max_length:256")], "ssn"),
        ({"count": ("4.2", 0)}, [("values.0.value", "integer")], "count"),
        ({"vip": ("TRUE", 0)}, [("values.1.value", "boolean")], "vip"),
        ({"callAt": ("2025-03-01T09:30:00", 0)}, [("values.1.value", "datetime")], "callAt"),
        ({"account": ("ACME", 0)}, [("values.1.name", "not_editable")], "account"),
        ({"nope": ("x", 0)}, [("values.1.name", "reference")], "nope"),
        ({"caseNumber": ("z", 3)}, [("values.1.expectedVersion", "range:0-2")], "caseNumber"),
    ]
    for broken, expected, name in cases:
        outcome = await save(center, call.bearer, task_id, **(valid | broken))
        assert violations(outcome) == expected, broken
        assert name in outcome["message"]
        assert SECRET not in json.dumps(outcome)
    repeated = [
        {"name": "vip", "value": "true", "expectedVersion": 0},
        {"name": "vip", "value": "false", "expectedVersion": 0},
    ]
    outcome = await center.call(call.bearer, SAVE_CAD, taskId=task_id, values=repeated)
    assert violations(outcome) == [("values", "unique_items")]

    assert await center.query(center.supervisor, TASK_CAD, id=task_id) == before


# --- who may write ------------------------------------------------------------------------------


async def test_agents_on_the_call_save_the_flow_updates_and_nobody_else_writes(
    center: Center,
) -> None:
    await cad_definitions(center)
    pair = await two_agents(center)
    _, outsider = await colleague(center)

    by_consulted = await save(center, pair.b, pair.task_id, caseNumber=("C-9", 0))
    assert saved_values(by_consulted) == [("caseNumber", "C-9", 1)]
    assert by_consulted["saved"][0]["savedBy"] == agent(pair.b_id)
    by_outsider = await save(center, outsider, pair.task_id, caseNumber=("C-10", 1))
    assert (by_outsider["__typename"], by_outsider["code"]) == ("NotFoundError", "NOT_FOUND")
    with pytest.raises(GraphQLErrors) as by_supervisor:
        await execute(
            center.server,
            center.supervisor,
            SAVE_CAD,
            {"input": {"taskId": pair.task_id, "values": values(caseNumber=("S", 1))}},
        )
    assert by_supervisor.value.codes == ["FORBIDDEN"]

    by_flow = await update(center, pair.task_id, account="ACME-7", caseNumber="C-11")
    assert saved_values(by_flow) == [("account", "ACME-7", 1), ("caseNumber", "C-11", 2)]
    assert by_flow["saved"][0]["savedBy"] == connector()
    unknown = await update(center, pair.task_id, nope="x")
    assert violations(unknown) == [("values.0.name", "reference")]

    exited = await moved(center, pair.b, EXIT_CONSULT, taskId=pair.task_id)
    late = await save(center, pair.b, pair.task_id, caseNumber=("C-12", 2))
    assert (late["__typename"], late["code"]) == ("InvalidStateError", "INVALID_STATE")
    assert late["currentState"] == exited["status"] == "HELD"
    # The customer still on hold, the primary agent edits (seed 002: "during a call").
    on_hold = await save(center, pair.a, pair.task_id, caseNumber=("C-12", 2))
    assert saved_values(on_hold) == [("caseNumber", "C-12", 3)]
    await moved(center, pair.a, RESUME_CALL, taskId=pair.task_id)
    await moved(center, pair.a, END_CALL, taskId=pair.task_id)
    code = await wrap_up_code(center)
    await moved(center, pair.a, SUBMIT_WRAP_UP, taskId=pair.task_id, wrapUpCodeIds=[code])
    closed = await update(center, pair.task_id, caseNumber="C-13")
    assert (closed["__typename"], closed["currentState"]) == ("InvalidStateError", "CLOSED")
    assert (await cad_of(center, center.supervisor, pair.task_id))["caseNumber"]["value"] == "C-12"


# --- secure values ------------------------------------------------------------------------------


async def test_secure_values_read_masked_everywhere_and_a_reveal_is_audited_without_the_value(
    center: Center, mongodb_url: str
) -> None:
    await cad_definitions(center, popover=True)
    pair = await two_agents(center, cad=[{"name": "ssn", "value": SECRET}])
    _, outsider = await colleague(center)

    saved = await center.call(
        pair.a,
        SAVE_CAD,
        taskId=pair.task_id,
        values=values(ssn=(SAVED_SECRET, 1)),
        idempotencyKey="save-ssn-1",
    )
    repeated = await center.call(
        pair.a,
        SAVE_CAD,
        taskId=pair.task_id,
        values=values(ssn=(SAVED_SECRET, 1)),
        idempotencyKey="save-ssn-1",
    )
    assert saved_values(saved) == [("ssn", "*****", 2)]
    assert repeated == saved
    lost = await save(center, pair.b, pair.task_id, ssn=("guess", 1))
    assert lost["__typename"] == "CadConflictError"
    assert [(c["value"], c["secure"]) for c in lost["conflicts"]] == [("*****", True)]
    too_long = await save(center, pair.a, pair.task_id, ssn=(SAVED_SECRET * 9, 2))
    assert violations(too_long) == [("values.0.value", "max_length:256")]

    revealed = await center.call(pair.b, REVEAL_CAD, taskId=pair.task_id, name="ssn")
    assert revealed == {"__typename": "RevealCadVariableSuccess", "name": "ssn"} | {
        "value": SAVED_SECRET,
        "version": 2,
    }
    for bearer, name in ((outsider, "ssn"), (pair.a, "nope")):
        refused = await center.call(bearer, REVEAL_CAD, taskId=pair.task_id, name=name)
        assert (refused["__typename"], refused["code"]) == ("NotFoundError", "NOT_FOUND")

    history = (await center.query(center.supervisor, TIMELINE, id=pair.task_id))["history"]
    audits = [e for e in history if e["__typename"] == "CadVariableRevealed"]
    assert [(e["name"], e["valueVersion"], e["cause"]) for e in audits] == [
        ("ssn", 2, {"kind": "AGENT", "id": pair.b_id})
    ]
    (change,) = [e for e in history if e["__typename"] == "CadVariablesSaved"]
    assert change["variables"] == [{"name": "ssn", "value": "*****", "secure": True, "version": 2}]

    views = {
        "tasks": [
            await center.query(bearer, TASK_BY_ID, id=pair.task_id)
            for bearer in (pair.a, pair.b, center.supervisor, center.connector, center.admin.token)
        ],
        "offers": [await _offers_seen(center, bearer) for bearer in (pair.a, pair.b)],
        "history": history,
        "results": [saved, lost, too_long],
        "cad": await cad_of(center, pair.a, pair.task_id),
    }
    assert views["cad"]["ssn"]["value"] == "*****"
    shown = json.dumps(views)
    assert leaked(shown) == []
    for collection in ("events", "idempotency", "offers"):
        text = await stored_documents(mongodb_url, center.server, collection)
        assert leaked(text) == [], collection
    # The task keeps the value (a reveal needs it): the sentinel did reach MongoDB.
    assert SAVED_SECRET in leaked(await stored_documents(mongodb_url, center.server, "tasks"))
    assert leaked(center.server.logs()) == []


def leaked(text: str) -> list[str]:
    return [secret for secret in (SECRET, SAVED_SECRET) if secret in text]


async def _offers_seen(center: Center, bearer: str) -> list[dict[str, Any]]:
    """Every offer event an agent was pushed, replayed from the start."""
    seen = []
    async with subscription(center.server, bearer, OFFER_EVENTS, after=0) as next_offer:
        while not seen or seen[-1]["__typename"] != "OfferEnded":
            seen.append(await next_offer())
    return seen


# --- the timeline -------------------------------------------------------------------------------


async def test_cad_changes_appear_live_in_task_events_with_who_made_them(center: Center) -> None:
    await cad_definitions(center)
    call = await on_call(center)

    async with subscription(
        center.server, center.supervisor, CAD_TASK_EVENTS, taskId=call.task_id, after=0
    ) as next_event:
        by_agent = await save(center, call.bearer, call.task_id, caseNumber=("C-1", 0))
        first = await next_matching(next_event, lambda e: e["__typename"] == "CadVariablesSaved")
        by_flow = await update(center, call.task_id, caseNumber="C-2", account="ACME")
        second = await next_event()

    assert (first["cause"], first["version"]) == (
        {"kind": "AGENT", "id": call.agent_id},
        by_agent["taskVersion"],
    )
    assert first["variables"] == [
        {"name": "caseNumber", "value": "C-1", "secure": False, "version": 1}
    ]
    assert (second["__typename"], second["cause"], second["version"]) == (
        "CadVariablesSaved",
        {"kind": "INTEGRATION", "id": "connector-1"},
        by_flow["taskVersion"],
    )
    assert [(v["name"], v["value"], v["version"]) for v in second["variables"]] == [
        ("caseNumber", "C-2", 2),
        ("account", "ACME", 1),
    ]
    async with task_events(center, call.bearer, call.task_id, after=first["seq"]) as resumed:
        assert (await resumed())["seq"] == second["seq"]


# --- popover and consult variables --------------------------------------------------------------


async def test_offers_show_the_configured_variables_in_order_and_a_consult_the_saved_ones(
    center: Center,
) -> None:
    await cad_definitions(center, popover=True)
    line = await center.line("VOICE", team_id=await center.admin.team("Billing"))
    primary_id, primary = await center.logged_in_agent(line.team_id, await center.profile())
    consultee_id, consultee = await colleague(center)
    reported = [{"name": "caseNumber", "value": "C-1"}, {"name": "ssn", "value": SECRET}]

    async with subscription(center.server, primary, OFFER_EVENTS, after=0) as next_offer:
        task = await center.report(line, cad=reported)
        made = await next_matching(next_offer, lambda e: e["__typename"] == "OfferMade")
    assert [(v["name"], v["label"], v["value"]) for v in made["offer"]["variables"]] == [
        ("tier", "Tier", "standard"),
        ("caseNumber", "Case number", "C-1"),
    ]
    accepted = await center.call(primary, ACCEPT_OFFER, offerId=made["offerId"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    outcome = await save(
        center, primary, task["id"], actionCode=("ESCALATE", 0), caseNumber=("C-2", 1)
    )
    assert saved_values(outcome) == [("actionCode", "ESCALATE", 1), ("caseNumber", "C-2", 2)]

    call = AnsweredCall(task, primary_id, primary, made["offerId"])
    async with subscription(center.server, consultee, CONSULT_OFFERS, after=0) as next_offer:
        asked = await consult_started(center, call, "AGENT", consultee_id)
        consult = await next_matching(next_offer, offer_made(asked["consult"]["requestTaskId"]))
    offer = consult["offer"]
    assert offer["kind"] == "CONSULT"
    assert offer["consultRequester"] == {
        "agentName": f"Agent {primary_id[-4:]}",
        "dialNumber": None,
        "teamName": "Billing",
    }
    assert [(v["name"], v["value"]) for v in offer["variables"]] == [
        ("actionCode", "ESCALATE"),
        ("tier", "standard"),
        ("caseNumber", "C-2"),
    ]
    assert SECRET not in json.dumps([made, consult])
    joined = await center.call(consultee, ACCEPT, offerId=consult["offerId"])
    assert joined["__typename"] == "AcceptOfferSuccess", joined
