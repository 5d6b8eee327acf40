"""Scheduled and personal callbacks in MongoDB: the repository use cases write through (inside
their transaction) and the read side that lists a customer's callbacks and an agent's own."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.callbacks.callback import ScheduledCallback
from domain.callbacks.details import CallbackType
from domain.configuration.entry_points import normalize_phone
from domain.errors import ValidationFailed
from domain.ports import TransientConflict
from persistence.codec import decode, encode


class CallbackDocument(Document):
    """One callback (``_id`` is ``<org>/<callback>``); ``data`` is the encoded domain object, the
    other fields copies that the listings filter and sort on."""

    id: str  # type: ignore[assignment]
    org_id: str
    callback_id: str
    callback_type: str
    status: str
    # The customer's number without separators: '+1 555-0100' and '+15550100' are one customer.
    number_key: str
    customer_id: str | None
    assignee_id: str | None
    starts_at: datetime
    version: int
    data: dict[str, Any]

    class Settings:
        name = "callbacks"
        indexes = [
            IndexModel(
                [("org_id", ASCENDING), ("number_key", ASCENDING), ("starts_at", ASCENDING)],
                name="by_number",
            ),
            IndexModel(
                [("org_id", ASCENDING), ("customer_id", ASCENDING), ("starts_at", ASCENDING)],
                name="by_customer_id",
            ),
            IndexModel(
                [("org_id", ASCENDING), ("assignee_id", ASCENDING), ("starts_at", ASCENDING)],
                name="by_assignee",
            ),
        ]


def _callbacks() -> AsyncCollection[Any]:
    return CallbackDocument.get_pymongo_collection()


def _key(org_id: str, callback_id: str) -> str:
    return f"{org_id}/{callback_id}"


def callback_row(callback: ScheduledCallback) -> dict[str, Any]:
    draft = callback.draft
    return {
        "_id": _key(callback.org_id, callback.callback_id),
        "org_id": callback.org_id,
        "callback_id": callback.callback_id,
        "callback_type": callback.callback_type.value,
        "status": callback.status.value,
        "number_key": normalize_phone(draft.customer_number),
        "customer_id": draft.customer_id,
        "assignee_id": draft.assignee_id,
        "starts_at": callback.starts_at,
        "version": callback.version,
        "data": encode(callback),
    }


def to_callback(row: dict[str, Any]) -> ScheduledCallback:
    return decode(ScheduledCallback, row["data"])


class MongoCallbackRepository:
    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session

    async def get(self, org_id: str, callback_id: str) -> ScheduledCallback | None:
        row = await _callbacks().find_one({"_id": _key(org_id, callback_id)}, session=self._session)
        return None if row is None else to_callback(row)

    async def add(self, callback: ScheduledCallback) -> None:
        try:
            await _callbacks().insert_one(callback_row(callback), session=self._session)
        except DuplicateKeyError as error:
            raise TransientConflict(
                f"callback {callback.callback_id!r} stored meanwhile"
            ) from error

    async def save(self, callback: ScheduledCallback, *, expected_version: int) -> None:
        row = callback_row(callback)
        result = await _callbacks().replace_one(
            {"_id": row["_id"], "version": expected_version}, row, session=self._session
        )
        if result.matched_count == 0:
            raise TransientConflict(f"callback {callback.callback_id!r} changed meanwhile")

    async def delete(self, callback: ScheduledCallback) -> None:
        result = await _callbacks().delete_one(
            {"_id": _key(callback.org_id, callback.callback_id), "version": callback.version},
            session=self._session,
        )
        if result.deleted_count == 0:
            raise TransientConflict(f"callback {callback.callback_id!r} changed meanwhile")


# --- the read side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackPage:
    items: Sequence[ScheduledCallback]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool


def _cursor(row: dict[str, Any]) -> str:
    position = [row["starts_at"].isoformat(), row["_id"]]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _after(cursor: str) -> dict[str, Any]:
    try:
        starts_at, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(starts_at)
        if not isinstance(row_id, str):
            raise TypeError(row_id)
    except (ValueError, TypeError) as error:
        raise ValidationFailed.single(
            "after", "cursor", "after is not a cursor of this list"
        ) from error
    return {"$or": [{"starts_at": {"$gt": at}}, {"starts_at": at, "_id": {"$gt": row_id}}]}


def _visible_to(agent_id: str) -> dict[str, Any]:
    """Another agent's personal callback is theirs alone (they alone may manage it)."""
    return {
        "$or": [
            {"callback_type": {"$ne": CallbackType.PERSONAL.value}},
            {"assignee_id": agent_id},
            {"data.created_by": agent_id},
        ]
    }


class CallbackQueries:
    """Callbacks in window order (earliest first), keyset-paginated."""

    async def for_customer(
        self,
        org_id: str,
        *,
        number: str | None,
        customer_id: str | None,
        first: int,
        after: str | None,
        viewer_id: str | None = None,
    ) -> CallbackPage:
        """``viewer_id``: an agent, who sees a personal callback only when they scheduled it or
        it is assigned to them (None: a supervisor, who sees them all)."""
        by: list[dict[str, Any]] = []
        if number is not None:
            by.append({"number_key": normalize_phone(number)})
        if customer_id is not None:
            by.append({"customer_id": customer_id})
        query: dict[str, Any] = {"org_id": org_id, "$or": by}
        if viewer_id is not None:
            query = {"$and": [query, _visible_to(viewer_id)]}
        return await self._page(query, first, after)

    async def for_assignee(
        self, org_id: str, agent_id: str, *, first: int, after: str | None
    ) -> CallbackPage:
        return await self._page({"org_id": org_id, "assignee_id": agent_id}, first, after)

    async def _page(self, query: dict[str, Any], first: int, after: str | None) -> CallbackPage:
        if after is not None:
            query = {"$and": [query, _after(after)]}
        rows = (
            await _callbacks()
            .find(query)
            .sort([("starts_at", ASCENDING), ("_id", ASCENDING)])
            .limit(first + 1)
            .to_list()
        )
        shown = rows[:first]
        return CallbackPage(
            items=[to_callback(row) for row in shown],
            cursors=[_cursor(row) for row in shown],
            has_next_page=len(rows) > first,
            has_previous_page=after is not None,
        )
