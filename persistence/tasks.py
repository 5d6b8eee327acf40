"""Tasks and offers in MongoDB: repositories bound to a unit of work's transaction, and the read
side the API queries outside any transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.channels import Channel
from domain.conversations.addresses import customer_keys
from domain.conversations.outbound import subject_key
from domain.ports import TransientConflict
from domain.tasks.offers import Offer
from domain.tasks.task import CALL_STATUSES, Task, TaskStatus
from persistence.codec import decode, encode
from persistence.task_documents import OfferDocument, TaskDocument

_ROUTING_ORDER = [("queue_priority", 1), ("priority", 1), ("queued_at", 1), ("_id", 1)]


def _key(org_id: str, entity_id: str) -> str:
    return f"{org_id}/{entity_id}"


def _tasks() -> AsyncCollection[Any]:
    return TaskDocument.get_pymongo_collection()


def _offers() -> AsyncCollection[Any]:
    return OfferDocument.get_pymongo_collection()


def task_row(task: Task) -> dict[str, Any]:
    return {
        "_id": _key(task.org_id, task.task_id),
        "org_id": task.org_id,
        "task_id": task.task_id,
        "status": task.status.value,
        "channel": task.channel.value,
        "queue_id": task.queue_id,
        "queue_priority": task.queue_priority,
        "priority": task.priority,
        "queued_at": task.queued_at,
        "agent_id": task.agent_id,
        "involved": list(task.involved_agent_ids),
        # A customer's history and an email subject's first use (domain.conversations), and the
        # contact session (SPEC §11) find tasks by these.
        "customer_keys": customer_keys(task),
        "ended_at": task.ended_at,
        "session_id": task.session,
        "subject_key": subject_key(task.subject) if task.subject else None,
        "version": task.version,
        "data": encode(task),
    }


def offer_row(offer: Offer) -> dict[str, Any]:
    return {
        "_id": _key(offer.org_id, offer.offer_id),
        "org_id": offer.org_id,
        "offer_id": offer.offer_id,
        "agent_id": offer.agent_id,
        "task_id": offer.task_id,
        "pending": offer.pending,
        "offered_at": offer.offered_at,
        "version": offer.version,
        "data": encode(offer),
    }


def to_task(row: dict[str, Any]) -> Task:
    return decode(Task, row["data"])


def to_offer(row: dict[str, Any]) -> Offer:
    return decode(Offer, row["data"])


async def _insert(
    collection: AsyncCollection[Any], row: dict[str, Any], session: AsyncClientSession
) -> None:
    try:
        await collection.insert_one(row, session=session)
    except DuplicateKeyError as error:
        raise TransientConflict(f"{row['_id']} was stored meanwhile") from error


async def _replace(
    collection: AsyncCollection[Any],
    row: dict[str, Any],
    expected_version: int,
    session: AsyncClientSession,
) -> None:
    result = await collection.replace_one(
        {"_id": row["_id"], "version": expected_version}, row, session=session
    )
    if result.matched_count == 0:
        raise TransientConflict(f"{row['_id']} changed meanwhile")


class MongoTaskRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session
        # What this transaction last read or wrote of each task: its snapshot cannot change
        # under it (a rival's commit makes the write conflict and the whole use case re-run),
        # so reading a task again after storing it needs no round trip.
        self._known: dict[str, Task | None] = {}

    async def get(self, org_id: str, task_id: str) -> Task | None:
        key = _key(org_id, task_id)
        if key not in self._known:
            row = await _tasks().find_one({"_id": key}, session=self._session)
            self._known[key] = None if row is None else to_task(row)
        return self._known[key]

    async def add(self, task: Task) -> None:
        row = task_row(task)
        await _insert(_tasks(), row, self._session)
        self._known[row["_id"]] = task

    async def save(self, task: Task, *, expected_version: int) -> None:
        row = task_row(task)
        await _replace(_tasks(), row, expected_version, self._session)
        self._known[row["_id"]] = task

    async def active_calls(self, org_id: str) -> int:
        return await _tasks().count_documents(
            {
                "org_id": org_id,
                "status": {"$in": [status.value for status in CALL_STATUSES]},
                "channel": Channel.VOICE.value,
            },
            session=self._session,
        )

    async def waiting(
        self, org_id: str, queue_ids: Sequence[str], channels: Sequence[Channel], limit: int
    ) -> Sequence[Task]:
        if not queue_ids or not channels:
            return []
        rows = (
            await _tasks()
            .find(
                {
                    "org_id": org_id,
                    "status": TaskStatus.QUEUED.value,
                    "queue_id": {"$in": list(queue_ids)},
                    "channel": {"$in": [channel.value for channel in channels]},
                },
                session=self._session,
            )
            .sort(_ROUTING_ORDER)
            .limit(limit)
            .to_list()
        )
        return [to_task(row) for row in rows]


class MongoOfferRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session

    async def get(self, org_id: str, offer_id: str) -> Offer | None:
        row = await _offers().find_one({"_id": _key(org_id, offer_id)}, session=self._session)
        return None if row is None else to_offer(row)

    async def add(self, offer: Offer) -> None:
        await _insert(_offers(), offer_row(offer), self._session)

    async def save(self, offer: Offer, *, expected_version: int) -> None:
        await _replace(_offers(), offer_row(offer), expected_version, self._session)

    async def pending_for(self, org_id: str, agent_id: str) -> Sequence[Offer]:
        rows = (
            await _offers()
            .find({"org_id": org_id, "agent_id": agent_id, "pending": True}, session=self._session)
            .sort([("offered_at", 1), ("_id", 1)])
            .to_list()
        )
        return [to_offer(row) for row in rows]


@dataclass(frozen=True)
class OfferPage:
    items: Sequence[Offer]
    total: int
    offset: int


@dataclass(frozen=True)
class QueueFigures:
    queue_id: str
    waiting: int
    oldest_queued_at: Any  # datetime | None


class TaskQueries:
    """The read side: a task, an agent's tasks and offers, figures per queue."""

    async def task(self, org_id: str, task_id: str) -> Task | None:
        row = await _tasks().find_one({"_id": _key(org_id, task_id)})
        return None if row is None else to_task(row)

    async def offer(self, org_id: str, offer_id: str) -> Offer | None:
        row = await _offers().find_one({"_id": _key(org_id, offer_id)})
        return None if row is None else to_offer(row)

    async def active_tasks(self, org_id: str, agent_id: str) -> list[Task]:
        rows = (
            await _tasks()
            .find({"org_id": org_id, "involved": agent_id})
            .sort([("data.connected_at", 1), ("_id", 1)])
            .to_list()
        )
        return [to_task(row) for row in rows]

    async def pending_offers(
        self, org_id: str, agent_id: str, *, offset: int, limit: int
    ) -> OfferPage:
        query = {"org_id": org_id, "agent_id": agent_id, "pending": True}
        total = await _offers().count_documents(query)
        rows = (
            await _offers()
            .find(query)
            .sort([("offered_at", 1), ("_id", 1)])
            .skip(offset)
            .limit(limit)
            .to_list()
        )
        return OfferPage([to_offer(row) for row in rows], total, offset)

    async def queue_figures(
        self, org_id: str, queue_ids: Sequence[str] | None = None
    ) -> dict[str, QueueFigures]:
        match: dict[str, Any] = {"org_id": org_id, "status": TaskStatus.QUEUED.value}
        if queue_ids is not None:
            match["queue_id"] = {"$in": list(queue_ids)}
        cursor = await _tasks().aggregate(
            [
                {"$match": match},
                {
                    "$group": {
                        "_id": "$queue_id",
                        "waiting": {"$sum": 1},
                        "oldest": {"$min": "$queued_at"},
                    }
                },
            ]
        )
        figures = {}
        async for row in cursor:
            figures[row["_id"]] = QueueFigures(row["_id"], row["waiting"], row["oldest"])
        return figures
