"""The scheduler every server instance runs to fire durable timers.

Firing: claim due timers with a lease (so no two instances run one at once), then run their
handler through the ``Runner`` as an ordinary use case that also deletes them. The deletion commits
with the handler's changes or not at all, and a second firing of the same timer (a lease that
expired under a slow instance) finds it gone: in effect every timer fires once. A handler that
fails gives the lease back with a growing backoff.

Timers of one kind in one organization that are due together fire together, in one transaction,
and one organization has at most one such batch in flight per instance. Their handlers write the
organization's streams (every RONA appends to its RONA stream), so separate transactions would
only take turns through write conflicts; a burst of deadlines instead commits a few times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import PyMongoError

from domain.timers import FireTimer, FireTimers, TimerAlreadyFired, fire_timer, fire_timers
from domain.usecases.runner import Runner
from persistence.timer_leases import TimerLeases
from persistence.timers import Row, TimerHandlers, from_row, timer_collection

log = logging.getLogger(__name__)

_MIN_DELAY = 0.005  # seconds; a floor so that a clock disagreement can never make the loop spin
_UNHANDLED_CHECK_EVERY = timedelta(minutes=1)


class TimerScheduler:
    """Fires due timers. ``run_due`` is one deterministic pass (tests drive it with a fake clock);
    ``start`` runs in the background: at the next due instant, when a sooner timer is inserted (a
    change stream on ``timers``, so only committed ones, from any instance), at least every
    ``poll_interval`` seconds in case a notification was missed, and whenever a batch ends."""

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
        self._poll_interval = poll_interval
        self._concurrency = concurrency
        self.owner = owner or f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._leases = TimerLeases(
            self.owner, lease=lease, retry_backoff=retry_backoff, max_backoff=max_backoff
        )
        self._wake = asyncio.Event()
        self._watching = asyncio.Event()
        self._planned: datetime | None = None  # when the loop will wake; None: at once
        self._unhandled_checked_at: datetime | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._firing: dict[asyncio.Task[int], str] = {}  # batches in flight -> their organization

    async def run_due(self) -> int:
        """Fire every timer due now, ``concurrency`` organizations at a time; returns how many
        fired."""
        fired = 0
        busy: set[str] = set()
        batches: set[asyncio.Task[int]] = set()
        try:
            while True:
                while len(batches) < self._concurrency:
                    batch = await self._leases.claim_batch(
                        self._handlers.kinds, busy, self._clock.now()
                    )
                    if not batch:
                        break
                    org_id = batch[0]["org_id"]
                    busy.add(org_id)
                    task = asyncio.create_task(self._fire(batch))
                    task.add_done_callback(lambda _, org=org_id: busy.discard(org))
                    batches.add(task)
                if not batches:
                    break
                done, batches = await asyncio.wait(batches, return_when=asyncio.FIRST_COMPLETED)
                fired += sum(task.result() for task in done)
        finally:
            # Cancelled, or a batch failed: the others stop too (each hands its timers back).
            for task in batches:
                task.cancel()
            await asyncio.gather(*batches, return_exceptions=True)
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
        for task in [*self._tasks, *self._firing]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._firing, return_exceptions=True)
        self._tasks = []

    async def _loop(self) -> None:
        """Keep up to ``concurrency`` batches in flight while timers are due: a batch that ends
        makes room for the next at once, and with nothing due the loop sleeps until the next due
        instant."""
        while True:
            self._wake.clear()
            self._planned = None
            try:
                while len(self._firing) < self._concurrency:
                    batch = await self._leases.claim_batch(
                        self._handlers.kinds, set(self._firing.values()), self._clock.now()
                    )
                    if not batch:
                        break
                    self._start_firing(batch)
                await self._warn_unhandled()
                if len(self._firing) < self._concurrency:
                    delay = await self._delay_until_next(set(self._firing.values()))
                else:
                    delay = self._poll_interval  # the end of a batch wakes the loop
            except Exception:
                log.exception("timer scheduler pass failed; trying again")
                delay = self._poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(delay, _MIN_DELAY))

    def _start_firing(self, batch: Sequence[Row]) -> None:
        fire = asyncio.create_task(self._fire(batch))
        self._firing[fire] = batch[0]["org_id"]

        def ended(task: asyncio.Task[int]) -> None:
            self._firing.pop(task, None)
            self._wake.set()

        fire.add_done_callback(ended)

    async def _fire(self, batch: Sequence[Row]) -> int:
        timers = tuple(from_row(row) for row in batch)
        handler = self._handlers.get(timers[0].kind)
        assert handler is not None, "only registered kinds are claimed"
        if len(batch) == 1:
            return await self._fire_one(batch[0])
        try:
            return await self._runner.run(fire_timers, FireTimers(timers, handler))
        except asyncio.CancelledError:
            await self._leases.hand_back(batch, self._clock.now())
            raise
        except Exception:
            # One timer's handler failed and took the batch with it: fire each on its own, so
            # only that one backs off.
            log.warning("a batch of %d timers failed; firing them one by one", len(batch))
        fired = 0
        for index, row in enumerate(batch):
            try:
                fired += await self._fire_one(row)  # hands its own timer back if cancelled
            except asyncio.CancelledError:
                await self._leases.hand_back(batch[index + 1 :], self._clock.now())
                raise
        return fired

    async def _fire_one(self, row: Row) -> int:
        timer = from_row(row)
        handler = self._handlers.get(timer.kind)
        assert handler is not None, "only registered kinds are claimed"
        try:
            await self._runner.run(fire_timer, FireTimer(timer, handler))
        except TimerAlreadyFired:
            log.debug("timer %s fired elsewhere or was cancelled meanwhile", timer.id)
            return 0
        except asyncio.CancelledError:
            await self._leases.hand_back([row], self._clock.now())
            raise
        except Exception:
            log.exception(
                "timer %s failed (attempt %d); it will be retried", timer.id, 1 + row["attempts"]
            )
            await self._leases.release(row, failed=True, now=self._clock.now())
            return 0
        return 1

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
        kinds = await timer_collection().distinct("kind", query)
        if kinds:
            log.warning("due timers of kinds %s have no handler here; left for later", kinds)

    async def _delay_until_next(self, busy: set[str]) -> float:
        """Seconds until the next timer this instance handles can be claimed, at most the poll
        interval; remembers that instant so the watcher wakes the loop only for a sooner timer.
        Timers of organizations with a batch in flight wait for its end, which wakes the loop."""
        now = self._clock.now()
        latest = now + timedelta(seconds=self._poll_interval)
        query: dict[str, Any] = {"kind": {"$in": self._handlers.kinds}}
        if busy:
            query["org_id"] = {"$nin": sorted(busy)}
        row = await timer_collection().find_one(
            query,
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
                async with await timer_collection().watch(pipeline) as stream:
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
