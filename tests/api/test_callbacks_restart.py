"""Exactly-once dispatch of scheduled callbacks across restarts and instances (SPEC §9, DESIGN
"Durable timers"): servers on one database, each with a test clock, stopped and started around
the windows' start."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from domain.identity import Role
from tests.api.callbacks import (
    CALLBACK_EVENTS,
    CALLBACK_TASK_BY_ID,
    callback_center,
    clock_server_env,
    long_token,
    move_clock,
    real_now,
    schedule,
    utc,
)
from tests.api.center import Center, NextItem, subscription
from tests.api.server import Server, new_org_id, start_server


async def started(mongodb_url: str, database: str, log_dir: Path, at: datetime) -> Server:
    return await asyncio.to_thread(
        start_server,
        mongodb_url=mongodb_url,
        database=database,
        log_dir=log_dir,
        extra_env=clock_server_env(at),
    )


async def changes_until(next_item: NextItem, marker: str) -> list[dict[str, Any]]:
    """Every callback event up to the SCHEDULED one of ``marker`` (scheduled last)."""
    seen: list[dict[str, Any]] = []
    for _ in range(500):
        item = await next_item()
        seen.append(item)
        if item.get("callbackId") == marker and item.get("change") == "SCHEDULED":
            return seen
    raise AssertionError("the marker never came")


async def test_callbacks_are_dispatched_exactly_once_across_a_restart_and_two_instances(
    mongodb_url: str, tmp_path: Path
) -> None:
    database = f"callbacks_restart_{uuid.uuid4().hex[:8]}"
    org_id = new_org_id()
    t0 = real_now()
    start = t0 + timedelta(minutes=31)
    late_start = start + timedelta(minutes=20)

    first = await started(mongodb_url, database, tmp_path, t0)
    try:
        setup = await callback_center(Center(first, org_id))
        bearer = setup.center.agent_token(
            await setup.center.agent(setup.line.team_id, await setup.center.profile())
        )
        on_time = [await schedule(setup, bearer, start) for _ in range(6)]
        late = await schedule(setup, bearer, late_start)
    finally:
        first.stop()

    # Two instances, a second before the windows open, both moving their clock at once.
    a, b = await asyncio.gather(
        *(started(mongodb_url, database, tmp_path, start - timedelta(seconds=1)) for _ in "ab")
    )
    try:
        await asyncio.gather(move_clock(a, org_id, advance=1), move_clock(b, org_id, advance=1))
    finally:
        a.stop()
        b.stop()

    # Restarted after the late window opened while no server ran: it fires now, once.
    after = late_start + timedelta(minutes=40)
    last = await started(mongodb_url, database, tmp_path, after)
    try:
        setup.center.server = last
        setup.center.admin.server = last
        await move_clock(last, org_id, advance=0)
        marker = await schedule(setup, bearer, after + timedelta(hours=1))
        supervisor = long_token(org_id, Role.SUPERVISOR, "supervisor-1")
        async with subscription(last, supervisor, CALLBACK_EVENTS, after=0) as next_event:
            events = await changes_until(next_event, marker["id"])
        tasks = [
            await setup.center.query(supervisor, CALLBACK_TASK_BY_ID, id=c["id"])
            for c in [*on_time, late]
        ]
    finally:
        last.stop()

    dispatched = [e for e in events if e["change"] == "DISPATCHED"]
    assert Counter(e["callbackId"] for e in dispatched) == {c["id"]: 1 for c in [*on_time, late]}
    assert {utc(e["occurredAt"]) for e in dispatched if e["callbackId"] != late["id"]} == {start}
    assert [utc(e["occurredAt"]) for e in dispatched if e["callbackId"] == late["id"]] == [after]
    assert [e["version"] for e in dispatched] == [2] * 7
    assert [(t["id"], t["kind"]) for t in tasks] == [
        (c["id"], "CALLBACK") for c in [*on_time, late]
    ]
