"""The change-stream feed against a real ``mongod``: it reports itself unhealthy (so ``/readyz``
fails) while its change stream is down, and resumes where it stopped, so events committed
during the outage still reach live subscribers.

The outage is real: the server-side ``getMore`` of the feed's change stream is killed with
``killOp``, which PyMongo does not resume by itself (``Interrupted`` is not a resumable error),
so the feed's own recovery is what is tested. Subscribers read the feed's raw queue here, not
``follow``, so a lost event cannot be papered over by ``follow`` filling gaps from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from broadcaster import Broadcast
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from domain.streams import configuration_stream
from domain.usecases.runner import Runner
from persistence.event_feed import EventFeed
from tests.persistence.test_event_store import WAIT, write

NO_RETRY_DURING_TEST = 3600.0


async def kill_change_stream(client: AsyncMongoClient, database: AsyncDatabase) -> None:
    """Interrupt the feed's pending ``getMore`` on ``<database>.events`` (it is pending almost all
    the time: the server holds it open until a change arrives)."""
    match = {"ns": f"{database.name}.events", "command.getMore": {"$exists": True}}
    async with asyncio.timeout(WAIT):
        while True:
            cursor = await client.admin.aggregate(
                [{"$currentOp": {"allUsers": True}}, {"$match": match}]
            )
            operations = await cursor.to_list()
            if operations:
                await client.admin.command("killOp", op=operations[0]["opid"])
                return


async def received(queue: asyncio.Queue[Mapping[str, Any] | None], count: int) -> list[int]:
    seqs = []
    for _ in range(count):
        row = await asyncio.wait_for(queue.get(), WAIT)
        assert row is not None
        seqs.append(int(row["seq"]))
    return seqs


def never() -> None:
    raise AssertionError("the subscriber reads everything")


@pytest.fixture
async def patient_feed(database: AsyncDatabase, broadcast: Broadcast) -> AsyncIterator[EventFeed]:
    """A feed that, once interrupted, stays down for the whole test unless restarted."""
    feed = EventFeed(broadcast, retry_delay=NO_RETRY_DURING_TEST)
    await feed.start()
    try:
        yield feed
    finally:
        await feed.stop()


async def test_a_running_feed_is_healthy_and_a_stopped_one_is_not(feed: EventFeed) -> None:
    assert feed.healthy
    assert feed.last_error is None

    await feed.stop()

    assert not feed.healthy


@pytest.mark.parametrize("seen_before", [0, 2], ids=["quiet-feed", "after-some-events"])
async def test_a_killed_change_stream_is_unhealthy_and_resumes_without_losing_events(
    client: AsyncMongoClient,
    database: AsyncDatabase,
    patient_feed: EventFeed,
    runner: Runner,
    org_id: str,
    seen_before: int,
) -> None:
    stream = configuration_stream(org_id)
    async with patient_feed.subscribe(stream, max_pending=100, on_overflow=never) as live:
        await write(runner, org_id, range(1, seen_before + 1))
        assert await received(live, seen_before) == list(range(1, seen_before + 1))

        await kill_change_stream(client, database)
        await asyncio.wait_for(patient_feed.wait_until(healthy=False), WAIT)
        assert patient_feed.last_error is not None
        assert "interrupted" in patient_feed.last_error
        # Committed while nothing watches: the retry is an hour away.
        await write(runner, org_id, range(seen_before + 1, seen_before + 4))
        assert live.empty()
        assert not patient_feed.healthy

        await patient_feed.stop()
        await patient_feed.start()

        assert patient_feed.healthy
        assert await received(live, 3) == list(range(seen_before + 1, seen_before + 4))
        await write(runner, org_id, range(seen_before + 4, seen_before + 5))
        assert await received(live, 1) == [seen_before + 4]
        assert live.empty()


async def test_the_feed_recovers_by_itself_from_a_killed_change_stream(
    client: AsyncMongoClient,
    database: AsyncDatabase,
    broadcast: Broadcast,
    runner: Runner,
    org_id: str,
) -> None:
    stream = configuration_stream(org_id)
    feed = EventFeed(broadcast)  # the production retry delay
    await feed.start()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(feed.stop)
        live = await stack.enter_async_context(
            feed.subscribe(stream, max_pending=100, on_overflow=never)
        )
        await write(runner, org_id, range(1, 2))
        assert await received(live, 1) == [1]

        await kill_change_stream(client, database)
        await asyncio.wait_for(feed.wait_until(healthy=False), WAIT)
        # Whether these land before or after the feed reopens its stream, none may be lost.
        await write(runner, org_id, range(2, 5))
        await asyncio.wait_for(feed.wait_until(healthy=True), WAIT)

        assert await received(live, 3) == [2, 3, 4]
        assert feed.last_error is None


async def test_the_feed_survives_the_events_collection_being_dropped(
    database: AsyncDatabase, feed: EventFeed, runner: Runner, org_id: str
) -> None:
    stream = configuration_stream(org_id)
    async with feed.subscribe(stream, max_pending=100, on_overflow=never) as live:
        await write(runner, org_id, range(1, 2))
        assert await received(live, 1) == [1]

        # An operator restoring a dump with --drop: the change stream is invalidated, and the
        # feed must start a new one after the invalidation rather than retry a dead cursor.
        await database.drop_collection("events")
        await write(runner, org_id, range(2, 4))

        assert await received(live, 2) == [2, 3]
        await asyncio.wait_for(feed.wait_until(healthy=True), WAIT)
        assert live.empty()
