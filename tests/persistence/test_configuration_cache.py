"""The configuration cache (persistence/configuration_cache.py) against every way configuration is
removed or changed outside the configuration use cases: reloading the demo organization deletes
its configuration directly, and must move the head the cache is keyed by."""

from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from domain.configuration.base import ConfigKind
from domain.ports import Clock
from domain.usecases.runner import Runner
from persistence.configuration_cache import ConfigurationCache
from persistence.seed import DEMO_ORG_ID, _delete_demo, seed_demo
from persistence.unit_of_work import MongoUnitOfWork


async def demo_queues(client: AsyncMongoClient, clock: Clock, cache: ConfigurationCache) -> int:
    async with MongoUnitOfWork(client, clock, cache) as uow:
        return len(await uow.configuration.list_active(DEMO_ORG_ID, ConfigKind.QUEUE))


async def test_deleting_the_demo_organization_is_seen_through_the_cache(
    client: AsyncMongoClient, clock: Clock, database: AsyncDatabase
) -> None:
    cache = ConfigurationCache()
    assert await seed_demo(Runner(lambda: MongoUnitOfWork(client, clock, cache), clock))
    seeded = await demo_queues(client, clock, cache)
    assert seeded > 0
    assert await demo_queues(client, clock, cache) == seeded  # now served from the cache

    await _delete_demo()

    assert await demo_queues(client, clock, cache) == 0
