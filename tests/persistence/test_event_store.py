"""The event store and ``follow`` on a real replica set: per-stream sequence numbers handed out
inside concurrent transactions, replay then live without gaps or repeats, resync when the cursor
cannot be honoured, and the cut-off of a subscriber that does not read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from domain.configuration.base import ConfigKind
from domain.configuration.events import ConfigurationChange, ConfigurationChanged
from domain.events import ResyncRequired, StoredEvent
from domain.identity import Actor, ActorKind
from domain.ports import Clock, UnitOfWork
from domain.streams import StreamKey, agent_stream, configuration_stream
from domain.usecases.runner import Runner
from persistence.documents import EventDocument
from persistence.event_feed import EventFeed, SubscriberTooSlow, follow
from persistence.event_store import EventReader

ADMIN = Actor(ActorKind.ADMIN, "admin-1")
WAIT = 30.0  # generous upper bound for anything awaited; never a pause


@dataclass(frozen=True)
class Touch:
    """A use case that only emits a ``ConfigurationChanged``; ``marker`` tells events apart."""

    org_id: str
    marker: int
    entity_id: str = "team-1"
    kind: ConfigKind = ConfigKind.TEAM


async def touch(cmd: Touch, uow: UnitOfWork, clock: Clock) -> int:
    uow.emit(
        ConfigurationChanged(
            org_id=cmd.org_id,
            occurred_at=clock.now(),
            actor=ADMIN,
            kind=cmd.kind,
            entity_id=cmd.entity_id,
            change=ConfigurationChange.UPDATED,
            version=cmd.marker,
            changed_fields=("name",),
        )
    )
    return cmd.marker


async def write(runner: Runner, org_id: str, markers: range) -> None:
    """One transaction per marker, one after the other."""
    for marker in markers:
        await runner.run(touch, Touch(org_id, marker))


def marker(item: StoredEvent | ResyncRequired) -> int:
    assert isinstance(item, StoredEvent)
    assert isinstance(item.event, ConfigurationChanged)
    return item.event.version


def marker_seq(item: StoredEvent | ResyncRequired) -> int:
    assert isinstance(item, StoredEvent)
    return item.seq


async def rows(stream: StreamKey) -> list[dict]:
    collection = EventDocument.get_pymongo_collection()
    return await collection.find({"stream": stream}).sort("seq", 1).to_list()


class Overflows:
    def __init__(self) -> None:
        self.calls = 0
        self.happened = asyncio.Event()

    def __call__(self) -> None:
        self.calls += 1
        self.happened.set()


def following(
    feed: EventFeed,
    reader: EventReader,
    stream: StreamKey,
    after: int | None,
    *,
    max_pending: int = 1000,
) -> tuple[AsyncIterator[StoredEvent | ResyncRequired], Overflows]:
    overflows = Overflows()
    events = follow(
        stream, after, feed=feed, reader=reader, max_pending=max_pending, on_overflow=overflows
    )
    return events, overflows


async def next_item(
    events: AsyncIterator[StoredEvent | ResyncRequired],
) -> StoredEvent | ResyncRequired:
    return await asyncio.wait_for(anext(events), WAIT)


# A new stream's first writers race on creating its head; one round in ~40 hit that before
# the store retried it, so several rounds run.
@pytest.mark.parametrize("round_", range(10))
async def test_concurrent_commits_to_one_stream_get_seqs_1_to_50_without_gaps(
    round_: int, runner: Runner, reader: EventReader, org_id: str
) -> None:
    stream = configuration_stream(org_id)

    await asyncio.gather(*(runner.run(touch, Touch(org_id, n)) for n in range(1, 51)))

    stored = await rows(stream)
    assert [row["seq"] for row in stored] == list(range(1, 51))
    assert sorted(row["payload"]["version"] for row in stored) == list(range(1, 51))
    assert await reader.head(stream) == 50
    assert await reader.oldest_retained(stream) == 1
    assert [event.seq async for event in reader.read(stream, after=0)] == list(range(1, 51))
    assert [event.seq async for event in reader.read(stream, after=10, up_to=12)] == [11, 12]


async def test_an_event_of_two_streams_gets_a_row_and_a_seq_in_each(
    runner: Runner, reader: EventReader, org_id: str
) -> None:
    await write(runner, org_id, range(1, 3))
    await runner.run(touch, Touch(org_id, 3, entity_id="agent-7", kind=ConfigKind.AGENT))

    configuration = [event async for event in reader.read(configuration_stream(org_id), after=0)]
    agent = [event async for event in reader.read(agent_stream(org_id, "agent-7"), after=0)]

    assert [(event.seq, marker(event)) for event in configuration] == [(1, 1), (2, 2), (3, 3)]
    assert [(event.seq, marker(event)) for event in agent] == [(1, 3)]
    assert agent[0].event_id == configuration[2].event_id
    assert agent[0].event == configuration[2].event
    assert agent[0].event.actor == ADMIN
    assert await reader.head(agent_stream(org_id, "agent-7")) == 1
    assert await reader.head(agent_stream(org_id, "agent-8")) == 0


async def test_follow_replays_then_goes_live_while_writers_commit(
    runner: Runner, feed: EventFeed, reader: EventReader, org_id: str
) -> None:
    stream = configuration_stream(org_id)
    await write(runner, org_id, range(1, 21))
    # Four writers keep committing while the follower subscribes, replays and goes live.
    writers = asyncio.gather(
        *(write(runner, org_id, range(start, 81, 4)) for start in range(21, 25))
    )
    events, overflows = following(feed, reader, stream, after=5)

    seen = [await next_item(events)]
    while marker_seq(seen[-1]) < 80:
        seen.append(await next_item(events))
    await asyncio.wait_for(writers, WAIT)

    assert [marker_seq(item) for item in seen] == list(range(6, 81))
    assert [marker(item) for item in seen[:15]] == list(range(6, 21))
    assert sorted(marker(item) for item in seen) == list(range(6, 81))
    assert overflows.calls == 0
    await events.aclose()  # type: ignore[attr-defined]


async def test_follow_from_now_skips_history_and_delivers_what_comes_next(
    runner: Runner, feed: EventFeed, reader: EventReader, org_id: str
) -> None:
    await write(runner, org_id, range(1, 4))
    events, _ = following(feed, reader, configuration_stream(org_id), after=None)
    first = asyncio.ensure_future(next_item(events))  # subscribes before the next write commits

    await write(runner, org_id, range(4, 9))

    seen = [marker_seq(await first)]
    while seen[-1] < 8:
        seen.append(marker_seq(await next_item(events)))
    # "Now" is the head when the subscription read it: a write racing with that may fall either
    # side, but nothing before the call is replayed and nothing after the first is skipped.
    assert seen[0] >= 4
    assert seen == list(range(seen[0], 9))


async def test_a_cursor_at_the_oldest_retained_row_replays_without_resync(
    runner: Runner, feed: EventFeed, reader: EventReader, org_id: str
) -> None:
    stream = configuration_stream(org_id)
    await write(runner, org_id, range(1, 11))
    await EventDocument.get_pymongo_collection().delete_many({"stream": stream, "seq": {"$lte": 6}})

    events, _ = following(feed, reader, stream, after=6)

    assert [marker_seq(await next_item(events)) for _ in range(4)] == [7, 8, 9, 10]


@pytest.mark.parametrize("expired_up_to", [6, 10])
async def test_a_cursor_older_than_the_retained_rows_requires_a_resync_then_goes_live(
    runner: Runner, feed: EventFeed, reader: EventReader, org_id: str, expired_up_to: int
) -> None:
    stream = configuration_stream(org_id)
    await write(runner, org_id, range(1, 11))
    # What the TTL monitor would do (it runs only once a minute): rows up to seq N expire.
    await EventDocument.get_pymongo_collection().delete_many(
        {"stream": stream, "seq": {"$lte": expired_up_to}}
    )
    events, _ = following(feed, reader, stream, after=3)

    assert await next_item(events) == ResyncRequired(stream=stream, head_seq=10)
    await write(runner, org_id, range(11, 12))
    assert marker_seq(await next_item(events)) == 11


async def test_a_cursor_ahead_of_the_head_requires_a_resync(
    runner: Runner, feed: EventFeed, reader: EventReader, org_id: str
) -> None:
    stream = configuration_stream(org_id)
    await write(runner, org_id, range(1, 4))
    events, _ = following(feed, reader, stream, after=50)

    assert await next_item(events) == ResyncRequired(stream=stream, head_seq=3)
    await write(runner, org_id, range(4, 5))
    assert marker_seq(await next_item(events)) == 4


async def test_a_cursor_on_an_unknown_stream_requires_a_resync(
    feed: EventFeed, reader: EventReader, org_id: str
) -> None:
    stream = configuration_stream(org_id)
    events, _ = following(feed, reader, stream, after=2)

    assert await next_item(events) == ResyncRequired(stream=stream, head_seq=0)


async def test_a_subscriber_that_does_not_read_is_cut_off_once(
    runner: Runner, feed: EventFeed, reader: EventReader, org_id: str
) -> None:
    stream = configuration_stream(org_id)
    await write(runner, org_id, range(1, 2))
    slow, overflows = following(feed, reader, stream, after=0, max_pending=3)
    fast, _ = following(feed, reader, stream, after=1)
    assert marker_seq(await next_item(slow)) == 1  # subscribed; from now on it does not read
    fast_first = asyncio.ensure_future(next_item(fast))

    await write(runner, org_id, range(2, 12))
    await asyncio.wait_for(overflows.happened.wait(), WAIT)
    await write(runner, org_id, range(12, 17))
    # The fast subscriber saw everything, so the slow one's queue has been offered it all too.
    assert marker_seq(await fast_first) == 2
    assert [marker_seq(await next_item(fast)) for _ in range(14)] == list(range(3, 17))

    assert overflows.calls == 1
    with pytest.raises(SubscriberTooSlow):
        await next_item(slow)
    assert overflows.calls == 1
