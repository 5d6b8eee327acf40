"""Runs one use case in one transaction, with retries on collisions and idempotent repeats."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from domain.ports import Clock, IdempotencyKey, TransientConflict, UnitOfWork, UnitOfWorkFactory

Command = TypeVar("Command")
Result = TypeVar("Result")

Handler = Callable[[Command, UnitOfWork, Clock], Awaitable[Result]]

log = logging.getLogger(__name__)

# Writers to one stream (say, every admin of an organization) take turns through transaction
# conflicts; give a busy moment room rather than a fixed, small number of attempts.
RETRY_BUDGET_ATTEMPTS = 200
MAX_BACKOFF_SECONDS = 0.05


class MillisecondClock:
    """Time as storage keeps it: BSON datetimes hold milliseconds. A use case that saw finer time
    would return objects that differ from what a later read, or an idempotent repeat, gives back."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        now = self._clock.now()
        return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


class Runner:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock: Clock = MillisecondClock(clock)
        self._followups: dict[type, Handler[Any, Any]] = {}

    def on_deferred(self, command_type: type[Command], handler: Handler[Command, Any]) -> None:
        """What runs, after the commit, for a command a use case deferred (``uow.defer``)."""
        self._followups[command_type] = handler

    @property
    def clock(self) -> Clock:
        return self._clock

    async def run(
        self,
        handler: Handler[Command, Result],
        command: Command,
        *,
        idempotency_key: IdempotencyKey | None = None,
    ) -> Result:
        """Run ``handler`` in a fresh transaction; a ``TransientConflict`` re-runs it from the start
        (it re-reads everything, so the retry decides on current data)."""
        for attempt in range(RETRY_BUDGET_ATTEMPTS):
            try:
                unit = self._uow_factory()
                unit.attempt = attempt
                async with unit as uow:
                    if idempotency_key is not None:
                        prior = await uow.idempotency.recall(idempotency_key, command)
                        if prior is not None:
                            return prior  # type: ignore[return-value]
                    result = await handler(command, uow, self._clock)
                    if idempotency_key is not None:
                        await uow.idempotency.remember(idempotency_key, command, result)
                    await uow.commit()
                    deferred = uow.deferred
            except TransientConflict:
                if attempt == RETRY_BUDGET_ATTEMPTS - 1:
                    raise
                # Full jitter spreads the colliding writers apart instead of re-colliding them.
                backoff = min(MAX_BACKOFF_SECONDS, 0.001 * 2 ** min(attempt, 10))
                await asyncio.sleep(random.uniform(0, backoff))
            else:
                await self._run_deferred(deferred)
                return result
        raise AssertionError("unreachable")

    async def _run_deferred(self, commands: Sequence[object]) -> None:
        """The caller's change is committed whatever happens here: a failing follow-up is logged
        (the routing sweep catches up on anything it left undone), never raised."""
        for command in commands:
            handler = self._followups.get(type(command))
            if handler is None:
                log.warning(
                    "no follow-up registered for %s; left to the sweep", type(command).__name__
                )
                continue
            try:
                await self.run(handler, command)
            except Exception:
                log.exception("follow-up %s failed; the routing sweep will retry", command)
