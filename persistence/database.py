"""Connecting to MongoDB: the client, the replica-set check, Beanie and the indexes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from persistence.documents import (
    DOCUMENT_MODELS,
    AgentSessionDocument,
    EventDocument,
    IdempotencyDocument,
)


class DatabaseNotUsable(RuntimeError):
    """MongoDB cannot serve omnidesk as configured; the message says how to fix it."""


@dataclass(frozen=True)
class Retention:
    events: timedelta = timedelta(days=7)
    idempotency: timedelta = timedelta(hours=24)


def make_client(url: str) -> AsyncMongoClient:
    return AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=10_000, uuidRepresentation="standard"
    )


async def ensure_replica_set(client: AsyncMongoClient) -> None:
    """Transactions and change streams need a replica set; refuse a standalone server clearly."""
    try:
        hello = await client.admin.command("hello")
    except PyMongoError as error:
        raise DatabaseNotUsable(
            f"MongoDB is not reachable: {error.__class__.__name__}: {error}"
        ) from error
    if not hello.get("setName"):
        raise DatabaseNotUsable(
            "MongoDB at OMNIDESK_MONGODB_URL is a standalone server, but omnidesk needs a replica set "
            "(it uses transactions and change streams). Start mongod with --replSet rs0 and run "
            "rs.initiate() once (a single-node replica set is enough), or unset OMNIDESK_MONGODB_URL "
            "to use the embedded database."
        )


async def open_database(client: AsyncMongoClient, name: str, retention: Retention) -> AsyncDatabase:
    await ensure_replica_set(client)
    database = client[name]
    await init_beanie(database=database, document_models=DOCUMENT_MODELS)
    await _ensure_ttl(database, EventDocument.Settings.name, "recorded_at", retention.events)
    await _ensure_ttl(
        database, IdempotencyDocument.Settings.name, "created_at", retention.idempotency
    )
    await _drop_retired_indexes(database)
    return database


# Indexes an earlier version created that a newer one replaced (Beanie only adds indexes):
# each would otherwise be maintained on every write for nothing.
_RETIRED_INDEXES = {AgentSessionDocument.Settings.name: ("routing",)}  # now routing_order


async def _drop_retired_indexes(database: AsyncDatabase) -> None:
    for collection, names in _RETIRED_INDEXES.items():
        existing = await database[collection].index_information()
        for name in names:
            if name in existing:
                await database[collection].drop_index(name)


async def _ensure_ttl(database: AsyncDatabase, collection: str, field: str, ttl: timedelta) -> None:
    name = f"{field}_ttl"
    seconds = int(ttl.total_seconds())
    try:
        await database[collection].create_index(field, name=name, expireAfterSeconds=seconds)
    except OperationFailure:
        # The index exists with another retention: change it in place.
        await database.command(
            {"collMod": collection, "index": {"name": name, "expireAfterSeconds": seconds}}
        )
