"""The safety net under event-driven routing: every so often, route every queue that has waiting
tasks. Routing normally follows each change at once (a use case defers it); this catches what a
crash between a commit and its follow-up left behind, on whichever instance runs first."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from domain.tasks.task import TaskStatus
from domain.usecases.routing import RouteQueue, route_queue
from domain.usecases.runner import Runner
from persistence.task_documents import TaskDocument

log = logging.getLogger(__name__)


class RoutingSweep:
    def __init__(self, runner: Runner, *, interval: float = 5.0) -> None:
        self._runner = runner
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Route each (organization, queue) with a waiting task once; returns the offers made."""
        cursor = await TaskDocument.get_pymongo_collection().aggregate(
            [
                {"$match": {"status": TaskStatus.QUEUED.value}},
                {"$group": {"_id": {"org": "$org_id", "queue": "$queue_id"}}},
            ]
        )
        offered = 0
        async for row in cursor:
            command = RouteQueue(row["_id"]["org"], row["_id"]["queue"])
            offered += await self._runner.run(route_queue, command)
        return offered

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="omnidesk-routing-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                offered = await self.run_once()
            except Exception:
                log.exception("routing sweep failed; trying again in %s s", self._interval)
            else:
                if offered:
                    log.info("routing sweep made %d offer(s) a follow-up had missed", offered)
