"""Messages in MongoDB: one document per message (a chat grows long; the task document stays
small), ordered within its task by ``seq`` under a unique index — two writers that took the same
``seq`` collide and one re-runs. The repository works inside a unit of work; ``MessageQueries``
is the API's read side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.configuration.base import ConfigEntity, ConfigKind
from domain.messaging.message import Message
from domain.ports import TransientConflict
from persistence.codec import decode, encode

MAX_RESPONSES = 1000


class MessageDocument(Document):
    id: str  # type: ignore[assignment]  # <org>/<message>
    org_id: str
    task_id: str
    message_id: str
    seq: int
    sender: str
    delivery: str
    sent_at: datetime
    data: dict[str, Any]

    class Settings:
        name = "messages"
        indexes = [
            IndexModel(
                [("org_id", ASCENDING), ("task_id", ASCENDING), ("seq", ASCENDING)],
                unique=True,
                name="task_seq",
            ),
        ]


def _messages() -> AsyncCollection[Any]:
    return MessageDocument.get_pymongo_collection()


def _key(org_id: str, message_id: str) -> str:
    return f"{org_id}/{message_id}"


def message_row(message: Message) -> dict[str, Any]:
    return {
        "_id": _key(message.org_id, message.message_id),
        "org_id": message.org_id,
        "task_id": message.task_id,
        "message_id": message.message_id,
        "seq": message.seq,
        "sender": message.sender.value,
        "delivery": message.delivery.value,
        "sent_at": message.sent_at,
        "data": encode(message),
    }


def to_message(row: Mapping[str, Any]) -> Message:
    return decode(Message, row["data"])


class MongoMessageRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session

    async def next_seq(self, org_id: str, task_id: str) -> int:
        last = await _messages().find_one(
            {"org_id": org_id, "task_id": task_id},
            sort=[("seq", -1)],
            projection={"seq": 1},
            session=self._session,
        )
        return 1 if last is None else int(last["seq"]) + 1

    async def add(self, message: Message) -> None:
        try:
            await _messages().insert_one(message_row(message), session=self._session)
        except DuplicateKeyError as error:
            raise TransientConflict(f"message {message.seq} of the task was taken") from error

    async def get(self, org_id: str, message_id: str) -> Message | None:
        row = await _messages().find_one({"_id": _key(org_id, message_id)}, session=self._session)
        return None if row is None else to_message(row)

    async def save(self, message: Message) -> None:
        row = message_row(message)
        await _messages().replace_one({"_id": row["_id"]}, row, session=self._session)

    async def for_task(self, org_id: str, task_id: str) -> Sequence[Message]:
        rows = (
            await _messages()
            .find({"org_id": org_id, "task_id": task_id}, session=self._session)
            .sort("seq", ASCENDING)
            .to_list()
        )
        return [to_message(row) for row in rows]

    async def for_tasks(
        self, org_id: str, task_ids: Sequence[str]
    ) -> Mapping[str, Sequence[Message]]:
        return await _grouped(org_id, task_ids, self._session)


async def _grouped(
    org_id: str, task_ids: Sequence[str], session: AsyncClientSession | None
) -> Mapping[str, Sequence[Message]]:
    grouped: dict[str, list[Message]] = {task_id: [] for task_id in task_ids}
    rows = (
        await _messages()
        .find({"org_id": org_id, "task_id": {"$in": list(task_ids)}}, session=session)
        .sort([("task_id", ASCENDING), ("seq", ASCENDING)])
        .to_list()
    )
    for row in rows:
        grouped[row["task_id"]].append(to_message(row))
    return grouped


class MessageQueries:
    """Read side, outside any transaction: a page of a task's messages, several tasks' at once."""

    async def page(
        self, org_id: str, task_id: str, *, after_seq: int, limit: int
    ) -> tuple[list[Message], bool]:
        """Up to ``limit`` messages with ``seq > after_seq``, and whether more follow."""
        rows = (
            await _messages()
            .find({"org_id": org_id, "task_id": task_id, "seq": {"$gt": after_seq}})
            .sort("seq", ASCENDING)
            .limit(limit + 1)
            .to_list()
        )
        return [to_message(row) for row in rows[:limit]], len(rows) > limit

    async def count(self, org_id: str, task_id: str) -> int:
        return await _messages().count_documents({"org_id": org_id, "task_id": task_id})

    async def for_tasks(
        self, org_id: str, task_ids: Sequence[str]
    ) -> Mapping[str, Sequence[Message]]:
        return await _grouped(org_id, task_ids, None)

    async def responses(self, org_id: str) -> list[ConfigEntity]:
        """The organization's active predefined responses by title (a few hundred at most: the
        desktop's search filters them in memory)."""
        # Imported here: ``persistence.documents`` imports this module while it loads.
        from persistence.configuration_repository import from_document
        from persistence.documents import ConfigurationDocument

        documents = (
            await ConfigurationDocument.find(
                {"org_id": org_id, "kind": ConfigKind.CHAT_RESPONSE.value, "active": True}
            )
            .sort([("name_key", 1), ("_id", 1)])
            .limit(MAX_RESPONSES)
            .to_list()
        )
        return [from_document(document) for document in documents]

    async def message(self, org_id: str, message_id: str) -> Message | None:
        row = await _messages().find_one({"_id": _key(org_id, message_id)})
        return None if row is None else to_message(row)
