"""Dispatch of scheduled callbacks through a real server whose clock the tests move (SPEC §9): the
callback task appears at the window's start in the customer's zone, not a second before; a personal
callback is offered to its assignee first; at the concurrent-call limit the callback waits and is
tried again, not lost."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.identity import Role
from tests.api.callbacks import (
    CALLBACK_EVENTS,
    CALLBACK_OFFER_EVENTS,
    CALLBACK_TASK_BY_ID,
    CUSTOMER_CALLBACKS,
    DELETE_CALLBACK,
    MY_CALLBACKS,
    UPDATE_CALLBACK,
    CallbackCenter,
    callback_center,
    clock_server,  # noqa: F401 - the module's server
    long_token,
    move_clock,
    next_change,
    offer_of,
    schedule,
    utc,
    window_fields,
)
from tests.api.calls import END_CALL
from tests.api.center import ACCEPT_OFFER, DECLINE_OFFER, LOG_IN, Center, subscription
from tests.api.server import Server, new_org_id
from tests.api.test_policies import update as update_policies

KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+05:45: a wrong offset cannot land on the right minute


async def new_center(server: Server) -> tuple[CallbackCenter, str, str]:
    center = Center(server, new_org_id())
    setup = await callback_center(center)
    agent_id = await center.agent(setup.line.team_id, await center.profile(voice=1))
    return setup, agent_id, center.agent_token(agent_id)


async def log_in(center: Center, team_id: str, agent_id: str) -> str:
    """Log in now (after the clock moved: an agent who waited minutes with no desktop open would
    be taken for disconnected); returns a token its WebSockets outlive the clock with."""
    outcome = await center.call(center.agent_token(agent_id), LOG_IN, teamId=team_id)
    assert outcome["__typename"] == "LogInSuccess", outcome
    return long_token(center.org_id, Role.AGENT, agent_id)


async def test_the_callback_task_appears_at_the_windows_start_in_the_customers_zone(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, _, bearer = await new_center(clock_server)
    center = setup.center
    now = await move_clock(clock_server, center.org_id, advance=0)
    start = (now + timedelta(minutes=45)).replace(second=0)
    window = window_fields(start, zone=KATHMANDU)
    made = await schedule(setup, bearer, start, **window)
    urgent = await schedule(setup, bearer, start, **window, priority=1)
    supervisor = long_token(center.org_id, Role.SUPERVISOR, "supervisor-1")

    async with subscription(clock_server, supervisor, CALLBACK_EVENTS, after=0) as next_event:
        await move_clock(clock_server, center.org_id, to=start - timedelta(seconds=1))
        before = await center.task(made["id"])
        listed = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359881234567")
        await move_clock(clock_server, center.org_id, advance=1)
        dispatched = await next_change(next_event, "DISPATCHED", made["id"])
        await next_change(next_event, "DISPATCHED", urgent["id"])
    task = await center.query(supervisor, CALLBACK_TASK_BY_ID, id=dispatched["taskId"])
    urgent_task = await center.query(supervisor, CALLBACK_TASK_BY_ID, id=urgent["id"])
    late_edit = await center.call(bearer, UPDATE_CALLBACK, callbackId=made["id"], reason="x")

    assert utc(made["startsAt"]) == start
    assert before is None
    assert {e["node"]["status"] for e in listed["edges"]} == {"PENDING"}
    assert utc(dispatched["occurredAt"]) == start
    assert dispatched["cause"] == {"kind": "SYSTEM", "id": "callback-window"}
    assert (task["kind"], task["channel"], task["status"]) == ("CALLBACK", "VOICE", "QUEUED")
    assert utc(task["createdAt"]) == start
    assert (task["queueId"], task["entryPointId"]) == (setup.line.queue_id, setup.entry_point_id)
    assert task["callback"]["type"] == "SCHEDULED"
    assert task["callback"]["callbackId"] == made["id"]
    assert task["cad"] == [{"name": "callbackReason", "value": "Asked about her invoice"}]
    assert (task["priority"], urgent_task["priority"]) == (5, 1)
    assert (late_edit["__typename"], late_edit["code"]) == (
        "RejectedError",
        "CALLBACK_WINDOW_STARTED",
    )
    after = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359881234567")
    assert {(e["node"]["status"], e["node"]["taskId"]) for e in after["edges"]} == {
        ("DISPATCHED", made["id"]),
        ("DISPATCHED", urgent["id"]),
    }


async def test_a_personal_callback_is_offered_to_its_assignee_first_then_to_the_queue(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, creator, creator_bearer = await new_center(clock_server)
    center = setup.center
    teammate = await center.agent(setup.line.team_id, await center.profile(voice=1))
    now = await move_clock(clock_server, center.org_id, advance=0)
    start = now + timedelta(minutes=31)
    made = await schedule(setup, creator_bearer, start, personal=True, assigneeId=teammate)
    await move_clock(clock_server, center.org_id, to=start - timedelta(seconds=1))
    # The creator has been available longer: plain routing would pick them.
    creator_ws = await log_in(center, setup.line.team_id, creator)
    await move_clock(clock_server, center.org_id, advance=0.5)
    teammate_ws = await log_in(center, setup.line.team_id, teammate)

    async with (
        subscription(clock_server, teammate_ws, CALLBACK_OFFER_EVENTS, after=0) as teammates,
        subscription(clock_server, creator_ws, CALLBACK_OFFER_EVENTS, after=0) as creators,
    ):
        await move_clock(clock_server, center.org_id, advance=0.5)
        first = await offer_of(teammates, made["id"])
        declined = await center.call(
            center.agent_token(teammate), DECLINE_OFFER, offerId=first["id"]
        )
        second = await offer_of(creators, made["id"])
    listed = await center.query(center.agent_token(teammate), MY_CALLBACKS)

    assert (first["agentId"], first["kind"], first["callbackType"]) == (
        teammate,
        "CALLBACK",
        "PERSONAL",
    )
    assert first["callbackNumber"] == "+359 88 1234567"
    assert (first["dnis"], first["queueId"]) == (setup.dial_address, setup.line.queue_id)
    assert first["callbackReason"] == "Asked about her invoice"
    assert declined["__typename"] == "DeclineOfferSuccess"
    assert second["agentId"] == creator
    assert [e["node"]["id"] for e in listed["edges"]] == [made["id"]]
    task = await center.task(made["id"])
    assert task["status"] == "OFFERED"


async def test_at_the_concurrent_call_limit_the_callback_waits_and_is_tried_again(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, agent_id, bearer = await new_center(clock_server)
    center = setup.center
    limited = await update_policies(clock_server, center.org_id, concurrentCallLimit=1)
    assert limited["__typename"] == "UpdatePoliciesSuccess", limited
    ws = await log_in(center, setup.line.team_id, agent_id)
    async with subscription(clock_server, ws, CALLBACK_OFFER_EVENTS, after=0) as offers:
        call = await center.report(setup.line)
        offer = await offer_of(offers, call["id"])
    accepted = await center.call(bearer, ACCEPT_OFFER, offerId=offer["id"])
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    now = await move_clock(clock_server, center.org_id, advance=0)
    start = now + timedelta(minutes=30)
    made = await schedule(setup, bearer, start)
    supervisor = long_token(center.org_id, Role.SUPERVISOR, "supervisor-1")

    async with subscription(clock_server, supervisor, CALLBACK_EVENTS, after=0) as next_event:
        await move_clock(clock_server, center.org_id, to=start)
        deferred = await next_change(next_event, "DISPATCH_DEFERRED", made["id"])
        waiting = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359881234567")
        edit = await center.call(bearer, UPDATE_CALLBACK, callbackId=made["id"], reason="x")
        ended = await center.call(bearer, END_CALL, taskId=call["id"])
        await move_clock(clock_server, center.org_id, advance=29)
        still = await center.task(made["id"])
        await move_clock(clock_server, center.org_id, advance=1)
        dispatched = await next_change(next_event, "DISPATCHED", made["id"])

    assert (deferred["reason"], utc(deferred["occurredAt"])) == ("CONCURRENT_CALL_LIMIT", start)
    assert utc(deferred["retryAt"]) == start + timedelta(seconds=30)
    node = waiting["edges"][0]["node"]
    assert (node["status"], node["deferrals"], node["deferredBecause"]) == (
        "PENDING",
        1,
        "CONCURRENT_CALL_LIMIT",
    )
    assert (edit["__typename"], edit["code"]) == ("RejectedError", "CALLBACK_WINDOW_STARTED")
    assert ended["__typename"] == "EndCallSuccess"
    assert still is None
    assert utc(dispatched["occurredAt"]) == start + timedelta(seconds=30)
    assert (await center.task(made["id"]))["status"] in ("QUEUED", "OFFERED")


async def test_a_personal_callback_is_seen_by_its_people_only_and_goes_where_it_is_reassigned(
    clock_server: Server,  # noqa: F811
) -> None:
    setup, creator, creator_bearer = await new_center(clock_server)
    center = setup.center
    profile = await center.profile(voice=1)
    first, second = [await center.agent(setup.line.team_id, profile) for _ in range(2)]
    stranger = await center.agent(await center.admin.team(f"Other {uuid.uuid4().hex[:6]}"), profile)
    now = await move_clock(clock_server, center.org_id, advance=0)
    start = now + timedelta(hours=2)
    made = await schedule(setup, creator_bearer, start, personal=True, assigneeId=first)
    plain = await schedule(setup, creator_bearer, start)
    supervisor = long_token(center.org_id, Role.SUPERVISOR, "supervisor-1")

    async def listed(bearer: str) -> list[str]:
        page = await center.query(bearer, CUSTOMER_CALLBACKS, number="+359881234567")
        return [edge["node"]["id"] for edge in page["edges"]]

    both = sorted([made["id"], plain["id"]])
    assert sorted(await listed(creator_bearer)) == both
    assert sorted(await listed(center.agent_token(first))) == both
    assert sorted(await listed(supervisor)) == both
    assert await listed(center.agent_token(second)) == [plain["id"]]

    async with subscription(clock_server, supervisor, CALLBACK_EVENTS, after=0) as next_event:
        moved = await center.call(
            creator_bearer, UPDATE_CALLBACK, callbackId=made["id"], assigneeId=second
        )
        updated = await next_change(next_event, "UPDATED", made["id"])
        outside = await center.call(
            creator_bearer, UPDATE_CALLBACK, callbackId=made["id"], assigneeId=stranger
        )
        not_personal = await center.call(
            creator_bearer, UPDATE_CALLBACK, callbackId=plain["id"], assigneeId=second
        )
        by_former = await center.call(
            center.agent_token(first), DELETE_CALLBACK, callbackId=made["id"]
        )
        await move_clock(clock_server, center.org_id, to=start)
        dispatched = await next_change(next_event, "DISPATCHED", made["id"])

    assert moved["__typename"] == "UpdateCallbackSuccess", moved
    assert (moved["callback"]["assigneeId"], moved["callback"]["version"]) == (second, 2)
    assert (updated["assigneeId"], updated["cause"]) == (second, {"kind": "AGENT", "id": creator})
    assert (outside["__typename"], outside["field"], outside["rule"]) == (
        "ValidationError",
        "assigneeId",
        "not_teammate",
    )
    assert (not_personal["field"], not_personal["rule"]) == ("assigneeId", "personal_only")
    assert (by_former["__typename"], by_former["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert await listed(center.agent_token(first)) == [plain["id"]]
    mine = await center.query(center.agent_token(second), MY_CALLBACKS)
    assert [edge["node"]["id"] for edge in mine["edges"]] == [made["id"]]
    assert (await center.query(center.agent_token(first), MY_CALLBACKS))["edges"] == []
    task = await center.query(supervisor, CALLBACK_TASK_BY_ID, id=dispatched["taskId"])
    assert (task["preferredAgentId"], task["callback"]["type"]) == (second, "PERSONAL")
