"""Scheduling, listing, editing and deleting callbacks through a real server whose clock the tests
move (SPEC §9, seed 002): every rule at its boundary, each error naming field and rule; edits and
deletes until the window starts and refused from then on; concurrent edits and deletes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from domain.identity import Role
from tests.api.callbacks import (
    CALLBACK_EVENTS,
    CALLBACK_OFFER_EVENTS,
    CUSTOMER_CALLBACKS,
    DELETE_CALLBACK,
    MY_CALLBACKS,
    SCHEDULE_CALLBACK,
    UPDATE_CALLBACK,
    CallbackCenter,
    callback_center,
    clock_server,  # noqa: F401 - the module's server
    long_token,
    move_clock,
    next_change,
    offer_of,
    schedule,
    schedule_fields,
    utc,
    window_fields,
)
from tests.api.center import ACCEPT_OFFER, LOG_IN, Center, subscription
from tests.api.client import execute
from tests.api.server import Server, new_org_id, token

DEACTIVATE_QUEUE = "mutation($id: ID!) { deactivateQueue(input: {id: $id}) { __typename } }"


async def center_with_agent(server: Server) -> tuple[CallbackCenter, str, str]:
    center = Center(server, new_org_id())
    setup = await callback_center(center)
    agent_id = await center.agent(setup.line.team_id, await center.profile(voice=1))
    return setup, agent_id, center.agent_token(agent_id)


def rules_of(outcome: dict[str, Any]) -> set[tuple[str, str]]:
    if outcome["__typename"] == "ScheduleCallbackSuccess":
        return set()
    assert outcome["__typename"] == "ValidationError", outcome
    assert (outcome["field"], outcome["rule"]) == (
        outcome["violations"][0]["field"],
        outcome["violations"][0]["rule"],
    )
    return {(v["field"], v["rule"]) for v in outcome["violations"]}


async def test_every_rule_is_checked_at_its_boundary(clock_server: Server) -> None:  # noqa: F811
    setup, _, bearer = await center_with_agent(clock_server)
    center = setup.center
    now = await move_clock(clock_server, center.org_id, advance=0)
    chat = await center.line("CHAT", team_id=setup.line.team_id)
    elsewhere = await center.line("VOICE")
    retired = await center.admin.make(
        "Queue", name="retired", channel="VOICE", teamIds=[setup.line.team_id]
    )
    gone = await execute(clock_server, center.admin.token, DEACTIVATE_QUEUE, {"id": retired["id"]})
    assert gone["deactivateQueue"]["__typename"] == "DeactivateQueueSuccess", gone
    start = now + timedelta(hours=2)
    cases: list[tuple[dict[str, Any], set[tuple[str, str]]]] = [
        ({"customerNumber": "123456"}, {("customerNumber", "length:7-15")}),
        ({"customerNumber": "1234567"}, set()),
        ({"customerNumber": "+1 555-010.0,12"}, set()),
        ({"customerNumber": "+1 555-010.0,123"}, {("customerNumber", "length:7-15")}),
        ({"customerNumber": "555 0100 ext 1"}, {("customerNumber", "phone")}),
        ({"customerName": "Ли"}, {("customerName", "length:3-250")}),
        ({"customerName": "Лиа"}, set()),
        ({"customerName": "ж" * 250}, set()),
        ({"customerName": "ж" * 251}, {("customerName", "length:3-250")}),
        (window_fields(now + timedelta(minutes=29, seconds=59)), {("windowStart", "min_lead:30m")}),
        (window_fields(now + timedelta(minutes=30)), set()),
        (window_fields(now + timedelta(days=31), minutes=5), set()),
        (
            window_fields(now + timedelta(days=31, seconds=1), minutes=5),
            {("windowStart", "max_lead:31d")},
        ),
        (
            {**window_fields(start), "windowEnd": window_fields(start)["windowStart"]},
            {("windowEnd", "empty_window")},
        ),
        ({"timeZone": "Europe/Atlantis"}, {("timeZone", "time_zone")}),
        ({"queueId": retired["id"]}, {("queueId", "inactive")}),
        ({"queueId": chat.queue_id}, {("queueId", "not_telephony")}),
        ({"queueId": elsewhere.queue_id}, {("queueId", "no_access")}),
        ({"reason": "ж" * 250}, set()),
        ({"reason": "ж" * 251}, {("reason", "max_length:250")}),
    ]

    outcomes = await asyncio.gather(
        *(
            center.call(bearer, SCHEDULE_CALLBACK, **schedule_fields(setup, start, **changes))
            for changes, _ in cases
        )
    )

    assert [rules_of(outcome) for outcome in outcomes] == [expected for _, expected in cases]


async def test_every_broken_rule_is_named_at_once_and_the_entry_point_is_required(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, _, bearer = await center_with_agent(clock_server)
    bare = Center(clock_server, new_org_id())
    line = await bare.line("VOICE")
    lone = bare.agent_token(await bare.agent(line.team_id, await bare.profile(voice=1)))
    now = await move_clock(clock_server, bare.org_id, advance=0)

    nothing = await setup.center.call(bearer, SCHEDULE_CALLBACK)
    without_entry_point = await bare.call(
        lone, SCHEDULE_CALLBACK, **schedule_fields(setup, now + timedelta(hours=1))
    )

    assert rules_of(nothing) == {
        ("customerNumber", "required"),
        ("customerName", "required"),
        ("date", "required"),
        ("windowStart", "required"),
        ("windowEnd", "required"),
        ("timeZone", "required"),
        ("queueId", "required"),
    }
    assert (without_entry_point["__typename"], without_entry_point["code"]) == (
        "RejectedError",
        "NO_ENTRY_POINT",
    )


async def test_a_callback_is_stored_with_its_window_in_the_customers_zone_and_in_utc(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, agent_id, bearer = await center_with_agent(clock_server)
    now = await move_clock(clock_server, setup.center.org_id, advance=0)
    start = (now + timedelta(days=2)).replace(second=0)

    made = await schedule(setup, bearer, start, customerId="cust-7", priority=2)

    assert (made["type"], made["status"], made["version"]) == ("SCHEDULED", "PENDING", 1)
    assert utc(made["startsAt"]) == start
    assert utc(made["endsAt"]) == start + timedelta(hours=1)
    assert (made["timeZone"], made["date"]) == ("Europe/Sofia", window_fields(start)["date"])
    assert (made["createdBy"], made["priority"], made["assigneeId"]) == (agent_id, 2, None)
    assert made["customerName"] == "Мария Иванова"
    assert made["reason"] == "Asked about her invoice"


async def test_edits_and_deletes_work_until_the_window_starts_and_are_refused_from_then_on(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, _, bearer = await center_with_agent(clock_server)
    center = setup.center
    now = await move_clock(clock_server, center.org_id, advance=0)
    start = now + timedelta(minutes=40)
    kept = await schedule(setup, bearer, start)
    dropped = await schedule(setup, bearer, start)
    supervisor = long_token(center.org_id, Role.SUPERVISOR, "supervisor-1")

    async with subscription(clock_server, supervisor, CALLBACK_EVENTS, after=0) as next_event:
        await move_clock(clock_server, center.org_id, to=start - timedelta(seconds=1))
        edited = await center.call(
            bearer, UPDATE_CALLBACK, callbackId=kept["id"], reason="", customerName="Мария"
        )
        deleted = await center.call(bearer, DELETE_CALLBACK, callbackId=dropped["id"])
        assert (await next_change(next_event, "UPDATED", kept["id"]))["version"] == 2
        assert (await next_change(next_event, "DELETED", dropped["id"]))["version"] == 2
        await move_clock(clock_server, center.org_id, advance=1)
        edit_late = await center.call(bearer, UPDATE_CALLBACK, callbackId=kept["id"], reason="x")
        delete_late = await center.call(bearer, DELETE_CALLBACK, callbackId=kept["id"])

    assert edited["__typename"] == "UpdateCallbackSuccess", edited
    assert (edited["callback"]["reason"], edited["callback"]["customerName"]) == (None, "Мария")
    assert edited["callback"]["version"] == 2
    assert deleted["__typename"] == "DeleteCallbackSuccess", deleted
    for late in (edit_late, delete_late):
        assert (late["__typename"], late["code"]) == ("RejectedError", "CALLBACK_WINDOW_STARTED")
    listed = await center.query(bearer, CUSTOMER_CALLBACKS, number="+35988 123 4567")
    assert [edge["node"]["id"] for edge in listed["edges"]] == [kept["id"]]


async def test_an_edit_is_validated_again_from_the_moment_it_is_made(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, _, bearer = await center_with_agent(clock_server)
    now = await move_clock(clock_server, setup.center.org_id, advance=0)
    made = await schedule(setup, bearer, now + timedelta(hours=3))

    too_soon = await setup.center.call(
        bearer,
        UPDATE_CALLBACK,
        callbackId=made["id"],
        customerNumber="12",
        **window_fields(now + timedelta(minutes=10)),
    )
    moved = await setup.center.call(
        bearer, UPDATE_CALLBACK, callbackId=made["id"], **window_fields(now + timedelta(hours=5))
    )

    assert too_soon["__typename"] == "ValidationError"
    assert {(v["field"], v["rule"]) for v in too_soon["violations"]} == {
        ("customerNumber", "length:7-15"),
        ("windowStart", "min_lead:30m"),
    }
    assert moved["__typename"] == "UpdateCallbackSuccess"
    assert utc(moved["callback"]["startsAt"]) == now + timedelta(hours=5)


async def test_of_simultaneous_edits_of_one_version_one_wins_and_of_deletes_one_deletes(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, _, bearer = await center_with_agent(clock_server)
    center = setup.center
    other = center.agent_token(await center.agent(setup.line.team_id, await center.profile()))
    now = await move_clock(clock_server, center.org_id, advance=0)
    made = await schedule(setup, bearer, now + timedelta(hours=1))

    for round_ in range(3):
        edits = await asyncio.gather(
            *(
                center.call(
                    (bearer, other)[n % 2],
                    UPDATE_CALLBACK,
                    callbackId=made["id"],
                    expectedVersion=1 + round_,
                    reason=f"edit {n}",
                )
                for n in range(8)
            )
        )
        kinds = sorted(edit["__typename"] for edit in edits)
        assert kinds == ["ConflictError"] * 7 + ["UpdateCallbackSuccess"], edits
        assert {e["code"] for e in edits if e["__typename"] == "ConflictError"} == {"CONFLICT"}
    deletes = await asyncio.gather(
        *(
            center.call((bearer, other)[n % 2], DELETE_CALLBACK, callbackId=made["id"])
            for n in range(8)
        )
    )

    assert (
        sorted(d["__typename"] for d in deletes)
        == ["DeleteCallbackSuccess"] + ["NotFoundError"] * 7
    )
    listed = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359881234567")
    assert listed["edges"] == []


async def test_a_customers_callbacks_and_my_personal_ones_are_paged_in_window_order(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, agent_id, bearer = await center_with_agent(clock_server)
    center = setup.center
    teammate = await center.agent(setup.line.team_id, await center.profile())
    outsider = await center.agent(setup.line.team_id, await center.profile())
    now = await move_clock(clock_server, center.org_id, advance=0)
    starts = [now + timedelta(hours=h) for h in (5, 2, 4, 3)]
    made = [await schedule(setup, bearer, at, customerId="c-42") for at in starts[:2]]
    made.append(await schedule(setup, bearer, starts[2], personal=True, assigneeId=teammate))
    made.append(await schedule(setup, bearer, starts[3], personal=True))
    await schedule(setup, bearer, now + timedelta(hours=1), customerNumber="+1 555 999 0000")

    first = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359-88-1234567", first=3)
    rest = await center.query(
        bearer,
        CUSTOMER_CALLBACKS,
        number="+359881234567",
        first=3,
        after=first["pageInfo"]["endCursor"],
    )
    by_id = await center.query(bearer, CUSTOMER_CALLBACKS, customerId="c-42")
    mine = await center.query(bearer, MY_CALLBACKS)
    theirs = await center.query(center.agent_token(teammate), MY_CALLBACKS)
    not_theirs = await center.call(
        center.agent_token(outsider), DELETE_CALLBACK, callbackId=made[2]["id"]
    )

    in_order = [made[i]["id"] for i in (1, 3, 2, 0)]
    assert [e["node"]["id"] for e in first["edges"]] == in_order[:3]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in rest["edges"]] == in_order[3:]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["id"] for e in by_id["edges"]] == [made[1]["id"], made[0]["id"]]
    assert [e["node"]["id"] for e in mine["edges"]] == [made[3]["id"]]
    assert mine["edges"][0]["node"]["assigneeId"] == agent_id
    assert [(e["node"]["id"], e["node"]["type"]) for e in theirs["edges"]] == [
        (made[2]["id"], "PERSONAL")
    ]
    assert (not_theirs["__typename"], not_theirs["code"]) == ("ForbiddenError", "FORBIDDEN")


async def test_a_callback_scheduled_during_a_call_remembers_it_and_a_retry_makes_no_second(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, agent_id, bearer = await center_with_agent(clock_server)
    center = setup.center
    logged_in = await center.call(bearer, LOG_IN, teamId=setup.line.team_id)
    assert logged_in["__typename"] == "LogInSuccess", logged_in
    ws = long_token(center.org_id, Role.AGENT, agent_id)
    async with subscription(clock_server, ws, CALLBACK_OFFER_EVENTS, after=0) as offers:
        call = await center.report(setup.line)
        offer = await offer_of(offers, call["id"])
    assert (await center.call(bearer, ACCEPT_OFFER, offerId=offer["id"]))[
        "__typename"
    ] == "AcceptOfferSuccess"
    now = await move_clock(clock_server, center.org_id, advance=0)
    fields = schedule_fields(setup, now + timedelta(hours=1), taskId=call["id"])

    twice = await asyncio.gather(
        *(
            center.call(bearer, SCHEDULE_CALLBACK, **fields, idempotencyKey="form-1")
            for _ in range(4)
        )
    )
    someone_elses = await center.call(
        center.agent_token(await center.agent(setup.line.team_id, await center.profile())),
        SCHEDULE_CALLBACK,
        **fields,
    )

    assert {t["__typename"] for t in twice} == {"ScheduleCallbackSuccess"}
    assert len({t["callback"]["id"] for t in twice}) == 1
    assert twice[0]["callback"]["originTaskId"] == call["id"]
    listed = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359881234567")
    assert len(listed["edges"]) == 1
    assert rules_of(someone_elses) == {("taskId", "reference")}


async def test_the_test_clock_is_there_only_when_configured_and_only_for_admins(
    server: Server,
    clock_server: Server,  # noqa: F811
) -> None:
    org_id = new_org_id()
    admin = {"Authorization": f"Bearer {token(org_id, Role.ADMIN)}"}
    agent = {"Authorization": f"Bearer {token(org_id, Role.AGENT)}"}
    body = {"advanceSeconds": 0}
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        absent = await client.post(f"{server.base_url}/test/clock", json=body, headers=admin)
        anonymous = await client.post(f"{clock_server.base_url}/test/clock", json=body)
        as_agent = await client.post(
            f"{clock_server.base_url}/test/clock", json=body, headers=agent
        )
        backwards = await client.post(
            f"{clock_server.base_url}/test/clock", json={"advanceSeconds": -1}, headers=admin
        )

    assert [r.status_code for r in (absent, anonymous, as_agent, backwards)] == [404, 401, 403, 400]
