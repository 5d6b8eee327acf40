"""Conversations of (customer address, entry point) pairs, and the customer-centred reads of tasks
(contact history, contact sessions, an email subject's first use).

The pair's record is one document under a deterministic ``_id``: two transactions starting the
same conversation at once both write it — an insert against an insert collides on the ``_id``, a
take-over is conditional on the task it replaces — so exactly one commits, and the other re-runs
and finds the winner's conversation active.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import Document
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.channels import Channel, Direction
from domain.conversations.conversation import Conversation
from domain.ports import HistoryCursor, TransientConflict
from domain.tasks.status import ACTIVE_STATUSES, TaskStatus
from domain.tasks.task import Task, TaskKind
from persistence.codec import decode, encode
from persistence.task_documents import TaskDocument
from persistence.tasks import to_task

_ENDED = [TaskStatus.CLOSED.value, TaskStatus.ABANDONED.value]


class ConversationDocument(Document):
    id: str  # type: ignore[assignment]  # <org>/<conversation key>
    org_id: str
    task_id: str
    updated_at: datetime
    data: dict[str, Any]

    class Settings:
        name = "conversations"


def _conversations() -> AsyncCollection[Any]:
    return ConversationDocument.get_pymongo_collection()


def _tasks() -> AsyncCollection[Any]:
    return TaskDocument.get_pymongo_collection()


def _id(org_id: str, key: str) -> str:
    return f"{org_id}/{key}"


def _row(conversation: Conversation) -> dict[str, Any]:
    return {
        "_id": _id(conversation.org_id, conversation.key),
        "org_id": conversation.org_id,
        "task_id": conversation.task_id,
        "updated_at": conversation.updated_at,
        "data": encode(conversation),
    }


def history_filter(
    org_id: str, keys: Sequence[str], channel: Channel | None, after: HistoryCursor | None
) -> dict[str, Any]:
    query: dict[str, Any] = {
        "org_id": org_id,
        "customer_keys": {"$in": list(keys)},
        "status": {"$in": _ENDED},
        "ended_at": {"$ne": None},
        "data.kind": {"$ne": TaskKind.CONSULT.value},
    }
    if channel is not None:
        query["channel"] = channel.value
    if after is not None:
        row_id = f"{org_id}/{after.task_id}"
        query["$or"] = [
            {"ended_at": {"$lt": after.ended_at}},
            {"ended_at": after.ended_at, "_id": {"$lt": row_id}},
        ]
    return query


class MongoConversationRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session

    async def get(self, org_id: str, key: str) -> Conversation | None:
        row = await _conversations().find_one({"_id": _id(org_id, key)}, session=self._session)
        return None if row is None else decode(Conversation, row["data"])

    async def claim(self, conversation: Conversation, *, replacing: str | None) -> None:
        row = _row(conversation)
        if replacing is None:
            try:
                await _conversations().insert_one(row, session=self._session)
            except DuplicateKeyError as error:
                raise TransientConflict(
                    f"conversation {row['_id']} was started meanwhile"
                ) from error
            return
        result = await _conversations().replace_one(
            {"_id": row["_id"], "task_id": replacing}, row, session=self._session
        )
        if result.matched_count == 0:
            raise TransientConflict(f"conversation {row['_id']} was taken over meanwhile")

    async def outbound_count(self, org_id: str, agent_id: str, channel: Channel) -> int:
        return await _tasks().count_documents(
            {
                "org_id": org_id,
                "involved": agent_id,
                "channel": channel.value,
                "status": {"$in": [status.value for status in ACTIVE_STATUSES]},
                "data.direction": Direction.OUTBOUND.value,
            },
            session=self._session,
        )

    async def subject_used(self, org_id: str, keys: Sequence[str], subject_key: str) -> bool:
        if not keys:
            return False
        row = await _tasks().find_one(
            {
                "org_id": org_id,
                "customer_keys": {"$in": list(keys)},
                "channel": Channel.EMAIL.value,
                "subject_key": subject_key,
            },
            projection={"_id": 1},
            session=self._session,
        )
        return row is not None

    async def known_customer_id(self, org_id: str, keys: Sequence[str]) -> str | None:
        if not keys:
            return None
        row = await _tasks().find_one(
            {
                "org_id": org_id,
                "customer_keys": {"$in": list(keys)},
                "data.customer.customer_id": {"$ne": None},
            },
            sort=[("data.created_at", -1), ("_id", -1)],
            projection={"data.customer.customer_id": 1},
            session=self._session,
        )
        return None if row is None else str(row["data"]["customer"]["customer_id"])

    async def session_tasks(self, org_id: str, session_id: str) -> Sequence[Task]:
        rows = (
            await _tasks()
            .find({"org_id": org_id, "session_id": session_id}, session=self._session)
            .to_list()
        )
        return [to_task(row) for row in rows]

    async def history(
        self,
        org_id: str,
        keys: Sequence[str],
        channel: Channel | None,
        limit: int,
        after: HistoryCursor | None,
    ) -> Sequence[Task]:
        if not keys:
            return []
        rows = (
            await _tasks()
            .find(history_filter(org_id, keys, channel, after), session=self._session)
            .sort([("ended_at", -1), ("_id", -1)])
            .limit(limit)
            .to_list()
        )
        return [to_task(row) for row in rows]
