"""Opening the database brings an older one's indexes up to date: Beanie only adds indexes, so an
index a newer version replaced is dropped here, or every write would keep maintaining it."""

from __future__ import annotations

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from persistence.database import Retention, open_database


async def test_the_routing_index_an_earlier_version_made_is_dropped_and_its_successor_kept(
    client: AsyncMongoClient, database: AsyncDatabase
) -> None:
    sessions = database["agent_sessions"]
    await sessions.create_index(
        [("org_id", ASCENDING), ("open_channels", ASCENDING), ("team_id", ASCENDING)],
        name="routing",
    )

    await open_database(client, database.name, Retention())

    indexes = await sessions.index_information()
    assert "routing" not in indexes
    assert "routing_order" in indexes
