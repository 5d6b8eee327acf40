"""The ``events`` collection: appended inside the writing transaction, read back for replay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError

from domain.events import DomainEvent, StoredEvent, event_type
from domain.ports import TransientConflict
from domain.streams import StreamKey
from persistence.codec import decode, encode
from persistence.documents import EventDocument, StreamHeadDocument

REPLAY_BATCH = 500
DUPLICATE_KEY = 11000


async def append(
    session: AsyncClientSession, events: list[DomainEvent], recorded_at: datetime
) -> None:
    """Give each event the next ``seq`` of each of its streams and store one row per stream.

    The stream head is incremented in the same transaction, so two writers to one stream
    collide and one retries: per-stream order is commit order, with no gaps.
    """
    heads = StreamHeadDocument.get_pymongo_collection()
    encoded = [(event, uuid.uuid4().hex, encode(event)) for event in events]
    placed = [(*entry, stream) for entry in encoded for stream in entry[0].streams()]
    per_stream: dict[str, int] = {}
    for *_, stream in placed:
        per_stream[stream] = per_stream.get(stream, 0) + 1
    # One increment per stream however many of its events one transaction appends (a task's
    # status and participant steps, an offer and its agent's load): one round trip each.
    next_seq: dict[str, int] = {}
    for stream, count in per_stream.items():
        head = await heads.find_one_and_update(
            {"_id": stream},
            {"$inc": {"seq": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        next_seq[stream] = int(head["seq"]) - count + 1
    rows = []
    for event, event_id, payload, stream in placed:
        seq = next_seq[stream]
        next_seq[stream] = seq + 1
        rows.append(
            {
                "event_id": event_id,
                "stream": stream,
                "seq": seq,
                "org_id": event.org_id,
                "type": event.type_name,
                "occurred_at": event.occurred_at,
                "recorded_at": recorded_at,
                "actor": {"kind": event.actor.kind.value, "id": event.actor.id},
                "payload": payload,
            }
        )
    if not rows:
        return
    try:
        await EventDocument.get_pymongo_collection().insert_many(rows, session=session)
    except BulkWriteError as error:
        # Two transactions that both created a new stream's head can each be handed seq 1;
        # the (stream, seq) unique index stops the second, which retries and reads the head.
        if all(failure.get("code") == DUPLICATE_KEY for failure in error.details["writeErrors"]):
            raise TransientConflict("another transaction took this stream position") from error
        raise


def from_row(row: Mapping[str, Any]) -> StoredEvent:
    cls = event_type(row["type"])
    payload = dict(row["payload"])
    # The row's top-level copies are authoritative (they are what queries filter on); both are
    # still in encoded form here, since ``decode`` rebuilds the nested dataclasses itself.
    payload["actor"] = {"kind": row["actor"]["kind"], "id": row["actor"]["id"]}
    payload["occurred_at"] = row["occurred_at"]
    event = decode(cls, payload)
    return StoredEvent(
        event_id=row["event_id"], stream=StreamKey(row["stream"]), seq=row["seq"], event=event
    )


class EventReader:
    """Reads streams outside any transaction, for replay and retention checks."""

    async def head(self, stream: StreamKey) -> int:
        document = await StreamHeadDocument.get_pymongo_collection().find_one({"_id": stream})
        return 0 if document is None else int(document["seq"])

    async def oldest_retained(self, stream: StreamKey) -> int | None:
        row = await EventDocument.get_pymongo_collection().find_one(
            {"stream": stream}, sort=[("seq", 1)], projection={"seq": 1}
        )
        return None if row is None else int(row["seq"])

    async def read(
        self, stream: StreamKey, *, after: int, up_to: int | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Events of ``stream`` with ``after < seq (<= up_to)``, in order, in batches."""
        collection = EventDocument.get_pymongo_collection()
        cursor_seq = after
        while True:
            query: dict[str, Any] = {"$gt": cursor_seq}
            if up_to is not None:
                query["$lte"] = up_to
            rows = (
                await collection.find({"stream": stream, "seq": query})
                .sort("seq", 1)
                .limit(REPLAY_BATCH)
                .to_list()
            )
            for row in rows:
                yield from_row(row)
                cursor_seq = int(row["seq"])
            if len(rows) < REPLAY_BATCH:
                return
