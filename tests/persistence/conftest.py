"""Persistence fixtures: a fresh database per test on the session's real ``mongod``.

Beanie binds the document classes to one database per ``init_beanie``, so every test
initialises it again for its own database (tests run one at a time in the session loop).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from broadcaster import Broadcast
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from domain.usecases.runner import Runner
from persistence.database import Retention, make_client, open_database
from persistence.event_feed import EventFeed
from persistence.event_store import EventReader
from persistence.unit_of_work import MongoUnitOfWork


class UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def clock() -> UtcClock:
    return UtcClock()


@pytest.fixture
async def client(mongodb_url: str) -> AsyncIterator[AsyncMongoClient]:
    mongo = make_client(mongodb_url)
    try:
        yield mongo
    finally:
        await mongo.close()


@pytest.fixture
async def database(client: AsyncMongoClient) -> AsyncIterator[AsyncDatabase]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield await open_database(client, name, Retention())
    finally:
        await client.drop_database(name)


@pytest.fixture
def uow_factory(
    database: AsyncDatabase, client: AsyncMongoClient, clock: UtcClock
) -> Callable[[], MongoUnitOfWork]:
    return lambda: MongoUnitOfWork(client, clock)


@pytest.fixture
def runner(uow_factory: Callable[[], MongoUnitOfWork], clock: UtcClock) -> Runner:
    return Runner(uow_factory, clock)


@pytest.fixture
def reader(database: AsyncDatabase) -> EventReader:
    return EventReader()


@pytest.fixture
async def broadcast() -> AsyncIterator[Broadcast]:
    async with Broadcast("memory://") as running:
        yield running


@pytest.fixture
async def feed(database: AsyncDatabase, broadcast: Broadcast) -> AsyncIterator[EventFeed]:
    """The change-stream feed on this test's ``events``, watching before the test starts."""
    running = EventFeed(broadcast, retry_delay=0.05)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def org_id() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"
