"""One change stream per server instance on ``events``, published into the in-process broadcaster
under each event's stream key; ``follow`` turns it into a gapless, resumable subscription."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from broadcaster import Broadcast
from pymongo.errors import PyMongoError

from domain.events import ResyncRequired, StoredEvent
from domain.streams import StreamKey, activity_channel
from persistence.documents import EventDocument
from persistence.event_store import EventReader, from_row

log = logging.getLogger(__name__)


class SubscriberTooSlow(RuntimeError):
    pass


# Resume tokens the server refuses: too old for the oplog (286), or not resumable (260).
_UNRESUMABLE_CODES = frozenset({260, 286})


class EventFeed:
    def __init__(self, broadcast: Broadcast, *, retry_delay: float = 0.5) -> None:
        self._broadcast = broadcast
        self._retry_delay = retry_delay
        self._task: asyncio.Task[None] | None = None
        self._watching = asyncio.Event()
        self._health_changed = asyncio.Event()  # replaced by a fresh one at every change
        # Where the next change stream starts: after the last change published, or after the
        # last (possibly empty) batch the server confirmed, so a quiet feed resumes too.
        self._resume_token: Mapping[str, Any] | None = None
        self.last_error: str | None = None

    @property
    def healthy(self) -> bool:
        return self._task is not None and not self._task.done() and self._watching.is_set()

    async def start(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - startup must fail, not hang
        self._watching.clear()
        self._task = asyncio.create_task(self._run(), name="omnidesk-event-feed")
        self._task.add_done_callback(self._ended)
        await asyncio.wait_for(self._watching.wait(), timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set_watching(False)

    async def wait_until(self, *, healthy: bool) -> None:
        """Return once ``healthy`` has the given value (bound it with ``asyncio.timeout``)."""
        while self.healthy is not healthy:
            await self._health_changed.wait()

    async def _run(self) -> None:
        collection = EventDocument.get_pymongo_collection()
        pipeline = [{"$match": {"operationType": "insert"}}]
        while True:
            stream = None
            try:
                # ``start_after`` rather than ``resume_after``: it also accepts the token of an
                # invalidation (the collection was dropped or renamed), after which a stream ends.
                watch = collection.watch(pipeline, start_after=self._resume_token)
                async with await watch as stream:
                    self._resume_token = stream.resume_token or self._resume_token
                    self.last_error = None
                    self._set_watching(True)
                    async for change in stream:
                        row = change["fullDocument"]
                        await self._broadcast.publish(row["stream"], row)
                        await self._broadcast.publish(activity_channel(row["org_id"]), row)
                        self._resume_token = stream.resume_token
                self.last_error = "change stream invalidated (events collection dropped or renamed)"
            except PyMongoError as error:
                if stream is not None and stream.resume_token is not None:
                    self._resume_token = stream.resume_token
                self.last_error = f"{error.__class__.__name__}: {error}"
                if getattr(error, "code", None) in _UNRESUMABLE_CODES:
                    # Cannot resume: start from now; subscribers fill the gap from the store by seq.
                    self._resume_token = None
            self._set_watching(False)
            log.warning("event feed interrupted, resuming: %s", self.last_error)
            await asyncio.sleep(self._retry_delay)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task is not self._task:
            return
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            self.last_error = f"stopped by {error.__class__.__name__}: {error}"
            log.error("event feed stopped", exc_info=error)
        self._set_watching(False)

    def _set_watching(self, watching: bool) -> None:
        if watching:
            self._watching.set()
        else:
            self._watching.clear()
        changed, self._health_changed = self._health_changed, asyncio.Event()
        changed.set()

    @contextlib.asynccontextmanager
    async def subscribe(
        self, stream: StreamKey, *, max_pending: int, on_overflow: Callable[[], None]
    ) -> AsyncIterator[asyncio.Queue[Mapping[str, Any] | None]]:
        """A bounded queue of raw rows of ``stream``. A consumer that lets it fill up is cut off:
        ``on_overflow`` runs once, and further rows are dropped (the consumer is told why)."""
        queue: asyncio.Queue[Mapping[str, Any] | None] = asyncio.Queue(maxsize=max_pending)
        overflowed = False

        async with self._broadcast.subscribe(stream) as subscriber:

            async def pump() -> None:
                nonlocal overflowed
                async for message in subscriber:  # type: ignore[union-attr]
                    if overflowed:
                        continue
                    try:
                        queue.put_nowait(message.message)
                    except asyncio.QueueFull:
                        overflowed = True
                        while not queue.empty():
                            queue.get_nowait()
                        queue.put_nowait(None)  # tells the consumer why it stops, if it ever reads
                        on_overflow()

            task = asyncio.create_task(pump())
            try:
                yield queue
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def follow(
    stream: StreamKey,
    after: int | None,
    *,
    feed: EventFeed,
    reader: EventReader,
    max_pending: int,
    on_overflow: Callable[[], None],
) -> AsyncIterator[StoredEvent | ResyncRequired]:
    """Every event of ``stream`` after ``after`` (or from now, if None), in order, exactly once:
    subscribe live first, replay the store, then continue live, dropping what was replayed and
    filling any gap from the store."""
    async with feed.subscribe(stream, max_pending=max_pending, on_overflow=on_overflow) as live:
        head = await reader.head(stream)
        if after is None:
            last = head
        else:
            last = after
            oldest = await reader.oldest_retained(stream)
            lost = after > head or (after < head and (oldest is None or oldest > after + 1))
            if lost:
                yield ResyncRequired(stream=stream, head_seq=head)
                last = head
        async for event in reader.read(stream, after=last):
            yield event
            last = event.seq
        while True:
            row = await live.get()
            if row is None:
                raise SubscriberTooSlow(f"more than {max_pending} events were waiting to be read")
            seq = int(row["seq"])
            if seq <= last:
                continue
            if seq > last + 1:
                async for missed in reader.read(stream, after=last, up_to=seq - 1):
                    yield missed
                    last = missed.seq
            yield from_row(row)
            last = seq
