"""Callbacks through the public API (issue #6): operation strings, a center with its callback entry
point, the test clock of a dedicated server, and small helpers. Shared by the callback tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from domain.identity import Role
from tests.api.center import OFFER, OUTCOME, TASK, Center, Line, NextItem
from tests.api.client import execute
from tests.api.server import Server, start_server, token
from tests.api.test_policies import update as update_policies

CALLBACK = """id type status customerNumber customerName customerId date windowStart windowEnd
    timeZone startsAt endsAt queueId reason priority assigneeId createdBy createdAt updatedAt
    originTaskId taskId dispatchedAt deferrals deferredBecause version"""
CALLBACK_TASK = f"""{TASK} kind preferredAgentId
    callback {{ type number reason callbackId answeredAt unanswered }}
    participants {{ id role agentId leftAt wrapUpDue }}"""
CALLBACK_OFFER = f"{OFFER} kind callbackType callbackNumber callbackReason"


def _callback_mutation(name: str) -> str:
    noun = name[0].upper() + name[1:]
    return f"""
mutation($input: {noun}Input!) {{
  {name}(input: $input) {{ {OUTCOME} ... on {noun}Success {{ callback {{ {CALLBACK} }} }} }}
}}"""


def _task_mutation(name: str, input_type: str | None = None) -> str:
    noun = name[0].upper() + name[1:]
    return f"""
mutation($input: {input_type or noun + "Input"}!) {{
  {name}(input: $input) {{ {OUTCOME} ... on {noun}Success {{ task {{ {CALLBACK_TASK} }} }} }}
}}"""


SCHEDULE_CALLBACK = _callback_mutation("scheduleCallback")
UPDATE_CALLBACK = _callback_mutation("updateCallback")
DELETE_CALLBACK = _callback_mutation("deleteCallback")
REQUEST_COURTESY_CALLBACK = _task_mutation("requestCourtesyCallback")
REQUEST_WEB_CALLBACK = _task_mutation("requestWebCallback")
REPORT_CALLBACK_ANSWERED = _task_mutation("reportCallbackAnswered", "CallbackTaskInput")
REPORT_CALLBACK_NOT_ANSWERED = _task_mutation("reportCallbackNotAnswered", "CallbackTaskInput")
CANCEL_CALLBACK = _task_mutation("cancelCallback", "CallbackTaskInput")

_CONNECTION = f"edges {{ cursor node {{ {CALLBACK} }} }} pageInfo {{ hasNextPage endCursor }}"
CUSTOMER_CALLBACKS = f"""
query($number: String, $customerId: String, $first: Int, $after: String) {{
  customerCallbacks(customerNumber: $number, customerId: $customerId, first: $first,
                    after: $after) {{ {_CONNECTION} }}
}}"""
MY_CALLBACKS = f"""
query($first: Int, $after: String) {{ myCallbacks(first: $first, after: $after) {{ {_CONNECTION} }} }}
"""
CALLBACK_EVENTS = """
subscription($after: Int) {
  callbackEvents(after: $after) {
    __typename
    ... on Event { seq occurredAt cause { kind id } }
    ... on CallbackEvent { change callbackId type version queueId startsAt assigneeId taskId
                           reason retryAt }
  }
}"""
CALLBACK_OFFER_EVENTS = f"""
subscription($after: Int) {{
  offers(after: $after) {{
    __typename
    ... on OfferMade {{ offerId taskId offer {{ {CALLBACK_OFFER} }} }}
    ... on OfferEnded {{ offerId taskId outcome }}
  }}
}}"""
CALLBACK_TASK_BY_ID = f"query($id: ID!) {{ task(id: $id) {{ {CALLBACK_TASK} }} }}"
CREATE_OUTBOUND_ENTRY_POINT = """
mutation($input: CreateEntryPointInput!) {
  createEntryPoint(input: $input) { __typename ... on CreateEntryPointSuccess { entryPoint { id } } }
}"""

SOFIA = ZoneInfo("Europe/Sofia")


@dataclass
class CallbackCenter:
    """A center whose organization has a callback entry point (outbound voice, feeding ``line``)."""

    center: Center
    line: Line
    entry_point_id: str
    dial_address: str


async def callback_center(center: Center, *, offer_timeout: int = 30) -> CallbackCenter:
    line = await center.line("VOICE", offer_timeout=offer_timeout)
    address = f"+1666{uuid.uuid4().int % 10**7:07d}"
    made = await execute(
        center.server,
        center.admin.token,
        CREATE_OUTBOUND_ENTRY_POINT,
        {
            "input": {
                "name": f"callbacks-{uuid.uuid4().hex[:6]}",
                "channel": "VOICE",
                "direction": "OUTBOUND",
                "address": address,
                "queueId": line.queue_id,
            }
        },
    )
    entry_point_id = made["createEntryPoint"]["entryPoint"]["id"]
    updated = await update_policies(
        center.server, center.org_id, callbackEntryPointId=entry_point_id
    )
    assert updated["__typename"] == "UpdatePoliciesSuccess", updated
    return CallbackCenter(center, line, entry_point_id, address)


def long_token(org_id: str, role: Role, subject: str) -> str:
    """For WebSockets on a server whose clock runs ahead of real time: its sockets close when the
    token expires by the server's clock."""
    return token(org_id, role, subject=subject, lifetime=timedelta(days=400))


async def move_clock(
    server: Server, org_id: str, *, advance: float | None = None, to: datetime | None = None
) -> datetime:
    """Move the test clock of ``server`` (it fires the timers then due); returns the new now."""
    body: dict[str, Any] = (
        {"set": to.isoformat()} if to is not None else {"advanceSeconds": advance}
    )
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        response = await client.post(
            f"{server.base_url}/test/clock",
            json=body,
            headers={"Authorization": f"Bearer {token(org_id, Role.ADMIN)}"},
        )
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


def window_fields(start: datetime, *, minutes: int = 60, zone: ZoneInfo = SOFIA) -> dict[str, str]:
    """The local date and window (in ``zone``) of a window starting at the instant ``start``."""
    wall = start.astimezone(zone)
    end = wall + timedelta(minutes=minutes)
    return {
        "date": wall.date().isoformat(),
        "windowStart": wall.strftime("%H:%M:%S"),
        "windowEnd": end.strftime("%H:%M:%S") if end.date() == wall.date() else "23:59:59",
        "timeZone": zone.key,
    }


def schedule_fields(setup: CallbackCenter, start: datetime, **changes: Any) -> dict[str, Any]:
    return {
        "customerNumber": "+359 88 1234567",
        "customerName": "Мария Иванова",
        "queueId": setup.line.queue_id,
        "reason": "Asked about her invoice",
        **window_fields(start),
        **changes,
    }


async def schedule(
    setup: CallbackCenter, bearer: str, start: datetime, **changes: Any
) -> dict[str, Any]:
    outcome = await setup.center.call(
        bearer, SCHEDULE_CALLBACK, **schedule_fields(setup, start, **changes)
    )
    assert outcome["__typename"] == "ScheduleCallbackSuccess", outcome
    return outcome["callback"]


async def next_change(next_item: NextItem, change: str, callback_id: str) -> dict[str, Any]:
    for _ in range(200):
        item = await next_item()
        if item.get("change") == change and item.get("callbackId") == callback_id:
            return item
    raise AssertionError(f"no {change} of {callback_id}")


async def offer_of(next_item: NextItem, task_id: str) -> dict[str, Any]:
    for _ in range(200):
        item = await next_item()
        if item["__typename"] == "OfferMade" and item["taskId"] == task_id:
            return dict(item["offer"])
    raise AssertionError(f"no offer of {task_id}")


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def clock_server_env(start: datetime) -> dict[str, str]:
    """A server whose clock tests move: frozen at ``start``; no presence sweep within a test
    (moving the clock by minutes would otherwise count every open desktop as gone)."""
    return {
        "OMNIDESK_TEST_CLOCK_START": start.isoformat(),
        "OMNIDESK_PRESENCE_HEARTBEAT_SECONDS": "600",
    }


def real_now() -> datetime:
    """Where a test clock starts: now, to the second (tokens are minted by real time)."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def clock_server(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the module's own, on the session's mongod, with a test clock."""
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"callbacks_{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path_factory.mktemp("callbacks"),
        extra_env=clock_server_env(real_now()),
    )
    try:
        yield running
    finally:
        running.stop()
