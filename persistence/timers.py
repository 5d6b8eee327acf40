"""Durable timers in MongoDB: the repository use cases schedule them through, and the registry
of what fires each kind (the scheduler that fires them is ``persistence.timer_scheduler``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from domain.ports import TransientConflict
from domain.timers import Timer, TimerAlreadyFired, TimerHandler, TimerKind
from persistence.documents import TimerDocument

Row = Mapping[str, Any]


def timer_collection() -> AsyncCollection[Any]:
    # Looked up at each use: Beanie binds the document class to the database it was last given.
    return TimerDocument.get_pymongo_collection()


def to_row(timer: Timer) -> dict[str, Any]:
    return {
        "org_id": timer.org_id,
        "kind": timer.kind.value,
        "target_id": timer.target_id,
        "due_at": timer.due_at,
        "expected_version": timer.expected_version,
        "payload": dict(timer.payload),
        "lease_until": timer.due_at,
        "owner": None,
        "attempts": 0,
    }


def from_row(row: Row) -> Timer:
    return Timer(
        id=row["_id"],
        org_id=row["org_id"],
        kind=TimerKind(row["kind"]),
        target_id=row["target_id"],
        due_at=row["due_at"],
        expected_version=row["expected_version"],
        payload=row["payload"],
    )


class MongoTimerRepository:
    """Timers written and removed inside the unit of work's transaction."""

    def __init__(self, session: AsyncClientSession) -> None:
        self._session = session

    async def schedule(self, timer: Timer) -> None:
        try:
            await timer_collection().update_one(
                {"_id": timer.id},
                {"$setOnInsert": to_row(timer)},
                upsert=True,
                session=self._session,
            )
        except DuplicateKeyError as error:
            # Another transaction inserted the same id first; the retry finds it and changes nothing.
            raise TransientConflict(str(error)) from error

    async def cancel(self, timer_id: str) -> None:
        await timer_collection().delete_one({"_id": timer_id}, session=self._session)

    async def complete(self, timer_id: str) -> None:
        removed = await timer_collection().delete_one({"_id": timer_id}, session=self._session)
        if removed.deleted_count == 0:
            raise TimerAlreadyFired(timer_id)


class TimerHandlers:
    """The registry of what fires each kind of timer. An instance only claims the kinds registered
    here, so a kind it does not know (yet) stays stored for an instance that does. Register every
    kind before the scheduler starts: its claims and its change stream filter on these kinds."""

    def __init__(self) -> None:
        self._handlers: dict[TimerKind, TimerHandler] = {}

    def register(self, kind: TimerKind, handler: TimerHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind} timers is already registered")
        self._handlers[kind] = handler

    def get(self, kind: TimerKind) -> TimerHandler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(kind.value for kind in self._handlers)
