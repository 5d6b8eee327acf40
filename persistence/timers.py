"""Durable timers in MongoDB: the repository use cases schedule them through, and the scheduler
every server instance runs to fire them.

Firing a timer: claim it with one atomic ``find_one_and_update`` (a lease, so no two instances run
it at once), then run its handler through the ``Runner`` as an ordinary use case that also deletes
the timer. The deletion commits with the handler's changes or not at all, and a second firing of
the same timer (a lease that expired under a slow instance) finds it gone and rolls back: in effect
every timer fires once. A handler that fails gives the lease back with a growing backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from domain.ports import TransientConflict
from domain.timers import FireTimer, Timer, TimerAlreadyFired, TimerHandler, TimerKind, fire_timer
from domain.usecases.runner import Runner
from persistence.documents import TimerDocument

log = logging.getLogger(__name__)

Row = Mapping[str, Any]

_MIN_DELAY = 0.005  # seconds; a floor so that a clock disagreement can never make the loop spin
_UNHANDLED_CHECK_EVERY = timedelta(minutes=1)


def _timers() -> AsyncCollection[Any]:
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
            await _timers().update_one(
                {"_id": timer.id},
                {"$setOnInsert": to_row(timer)},
                upsert=True,
                session=self._session,
            )
        except DuplicateKeyError as error:
            # Another transaction inserted the same id first; the retry finds it and changes nothing.
            raise TransientConflict(str(error)) from error

    async def cancel(self, timer_id: str) -> None:
        await _timers().delete_one({"_id": timer_id}, session=self._session)

    async def complete(self, timer_id: str) -> None:
        removed = await _timers().delete_one({"_id": timer_id}, session=self._session)
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


class TimerScheduler:
    """Fires due timers. ``run_due`` is one deterministic pass (tests drive it with a fake clock);
    ``start`` runs passes in the background: at the next due instant, when a sooner timer is
    inserted (a change stream on ``timers``, so only committed ones, from any instance), and at
    least every ``poll_interval`` seconds in case a notification was missed."""

    def __init__(
        self,
        runner: Runner,
        handlers: TimerHandlers,
        *,
        lease: timedelta = timedelta(seconds=10),
        retry_backoff: timedelta = timedelta(seconds=1),
        max_backoff: timedelta = timedelta(minutes=5),
        poll_interval: float = 1.0,
        concurrency: int = 8,
        owner: str | None = None,
    ) -> None:
        self._runner = runner
        self._clock = runner.clock
        self._handlers = handlers
        self._lease = lease
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._poll_interval = poll_interval
        self._concurrency = concurrency
        self.owner = owner or f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._watching = asyncio.Event()
        self._planned: datetime | None = None  # when the loop will wake; None: at once
        self._unhandled_checked_at: datetime | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def run_due(self) -> int:
        """Fire every timer due now, ``concurrency`` at a time; returns how many fired."""
        fired = 0
        first = await self._claim()
        if first is not None:
            async with asyncio.TaskGroup() as group:
                workers = [group.create_task(self._drain(first))]
                workers += [
                    group.create_task(self._drain(None)) for _ in range(self._concurrency - 1)
                ]
            fired = sum(worker.result() for worker in workers)
        await self._warn_unhandled()
        return fired

    def wake(self) -> None:
        """Run a pass now (the test clock moved: timers may have come due)."""
        self._wake.set()

    async def start(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - bounded startup
        self._tasks = [asyncio.create_task(self._loop(), name="omnidesk-timer-scheduler")]
        if not self._handlers.kinds:
            return  # nothing to fire, nothing to watch
        self._tasks.append(asyncio.create_task(self._watch(), name="omnidesk-timer-watch"))
        try:
            await asyncio.wait_for(self._watching.wait(), timeout)
        except TimeoutError:
            log.warning("timer change stream not open after %s s; polling only for now", timeout)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _drain(self, row: Row | None) -> int:
        fired = 0
        while row is not None:
            fired += await self._fire(row)
            row = await self._claim()
        return fired

    async def _claim(self) -> Row | None:
        now = self._clock.now()
        row: Row | None = await _timers().find_one_and_update(
            {
                "kind": {"$in": self._handlers.kinds},
                "due_at": {"$lte": now},
                "lease_until": {"$lte": now},
            },
            {"$set": {"lease_until": now + self._lease, "owner": self.owner}},
            sort=[("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return row

    async def _fire(self, row: Row) -> int:
        timer = from_row(row)
        handler = self._handlers.get(timer.kind)
        assert handler is not None, "only registered kinds are claimed"
        try:
            await self._runner.run(fire_timer, FireTimer(timer, handler))
        except TimerAlreadyFired:
            log.debug("timer %s fired elsewhere or was cancelled meanwhile", timer.id)
            return 0
        except asyncio.CancelledError:
            # Shutting down: hand the timer to another instance now rather than at lease expiry.
            with contextlib.suppress(PyMongoError):
                await self._release(row, failed=False)
            raise
        except Exception:
            log.exception(
                "timer %s failed (attempt %d); it will be retried", timer.id, 1 + row["attempts"]
            )
            await self._release(row, failed=True)
            return 0
        return 1

    async def _release(self, row: Row, *, failed: bool) -> None:
        attempts = row["attempts"] + 1 if failed else row["attempts"]
        backoff = min(self._retry_backoff * 2 ** min(attempts - 1, 30), self._max_backoff)
        retry_at = self._clock.now() + (backoff if failed else timedelta(0))
        await _timers().update_one(
            # Only our own claim: if the lease ran out and another instance took it, leave it be.
            {"_id": row["_id"], "owner": self.owner, "lease_until": row["lease_until"]},
            {"$set": {"lease_until": retry_at, "owner": None, "attempts": attempts}},
        )

    async def _warn_unhandled(self) -> None:
        """Due timers of kinds this instance has no handler for stay stored for an instance that has
        one; say so, at most once a minute."""
        now = self._clock.now()
        if self._unhandled_checked_at is not None and (
            now - self._unhandled_checked_at < _UNHANDLED_CHECK_EVERY
        ):
            return
        self._unhandled_checked_at = now
        query = {"kind": {"$nin": self._handlers.kinds}, "due_at": {"$lte": now}}
        kinds = await _timers().distinct("kind", query)
        if kinds:
            log.warning("due timers of kinds %s have no handler here; left for later", kinds)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            self._planned = None
            try:
                await self.run_due()
                delay = await self._delay_until_next()
            except Exception:
                log.exception("timer scheduler pass failed; trying again")
                delay = self._poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(delay, _MIN_DELAY))

    async def _delay_until_next(self) -> float:
        """Seconds until the next timer this instance handles can be claimed, at most the poll
        interval; remembers that instant so the watcher wakes the loop only for a sooner timer."""
        now = self._clock.now()
        latest = now + timedelta(seconds=self._poll_interval)
        row = await _timers().find_one(
            {"kind": {"$in": self._handlers.kinds}},
            {"lease_until": 1},
            sort=[("lease_until", ASCENDING)],
        )
        self._planned = latest if row is None else min(row["lease_until"], latest)
        return (self._planned - now).total_seconds()

    async def _watch(self) -> None:
        pipeline = [
            {
                "$match": {
                    "operationType": "insert",
                    "fullDocument.kind": {"$in": self._handlers.kinds},
                }
            }
        ]
        while True:
            try:
                async with await _timers().watch(pipeline) as stream:
                    self._watching.set()
                    async for change in stream:
                        due = change["fullDocument"]["lease_until"]
                        if self._planned is None or due < self._planned:
                            self._wake.set()
            except PyMongoError as error:
                log.warning("timer change stream interrupted, reopening: %s", error)
            self._watching.clear()
            self._wake.set()  # an insert may have been missed meanwhile
            await asyncio.sleep(self._poll_interval)
