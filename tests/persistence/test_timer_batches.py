"""Timers of one kind and organization that are due together fire together, in one transaction
(persistence/timer_scheduler.py): a burst of deadlines commits a few times instead of each firing
taking its turn on the organization's streams. Each timer still fires exactly once, a failing
one backs off alone, and organizations are fired side by side."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from domain.ports import Clock, UnitOfWork
from domain.timers import Timer
from domain.usecases.runner import Runner
from persistence.timer_leases import BATCH
from persistence.unit_of_work import MongoUnitOfWork
from tests.persistence.test_timers import (
    WAIT,
    Blocking,
    FakeClock,
    each_rang_once,
    handlers,
    offer_deadline,
    ring,
    rings,
    schedule,
    scheduler,
    stored,
)


@pytest.fixture
def clock() -> FakeClock:  # overrides the real clock of the persistence fixtures
    return FakeClock()


class Recorded:
    """Rings, noting which unit of work fired which timer (and failing for one target)."""

    def __init__(self, failing_target: str | None = None) -> None:
        self.by_unit: dict[int, list[Timer]] = defaultdict(list)
        self.failing_target = failing_target

    async def __call__(self, timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
        self.by_unit[id(uow)].append(timer)
        await ring(timer, uow, clock)
        if timer.target_id == self.failing_target:
            raise RuntimeError("this one fails")

    def committed(self) -> list[list[Timer]]:
        """The batches that committed: a transaction that collided ran again in a new unit of
        work, and each timer's last firing is the one that counted."""
        last: dict[str, int] = {}
        for unit, timers in self.by_unit.items():
            for timer in timers:
                last[timer.id] = unit
        return [self.by_unit[unit] for unit in dict.fromkeys(last.values())]


async def test_timers_of_one_organization_due_together_fire_in_few_transactions_each_once(
    runner: Runner, database: AsyncDatabase, clock: FakeClock
) -> None:
    orgs = [f"org-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    due = [offer_deadline(org, f"{org}-task-{n}", clock.now()) for org in orgs for n in range(40)]
    await schedule(runner, *due)
    recorded = Recorded()

    fired = await scheduler(runner, handlers(OFFER_DEADLINE=recorded)).run_due()

    assert fired == 80
    assert await stored(database) == []
    assert all([await rings(database, timer.id) == 1 for timer in due])
    batches = recorded.committed()
    assert all(len({timer.org_id for timer in batch}) == 1 for batch in batches)
    assert all(len(batch) <= BATCH for batch in batches)
    # 40 timers of an organization in batches of at most 16: three transactions each.
    assert sorted(len(batch) for batch in batches) == [8, 8, 16, 16, 16, 16]


async def test_a_timer_failing_in_a_batch_backs_off_alone_and_the_others_fire(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    due = [offer_deadline(org_id, f"task-{n}", clock.now()) for n in range(10)]
    await schedule(runner, *due)
    recorded = Recorded(failing_target="task-3")

    fired = await scheduler(runner, handlers(OFFER_DEADLINE=recorded)).run_due()

    assert fired == 9
    [kept] = await stored(database)
    assert (kept["target_id"], kept["attempts"], kept["owner"]) == ("task-3", 1, None)
    assert [await rings(database, timer.id) for timer in due] == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


async def test_two_schedulers_racing_over_due_timers_of_four_organizations_fire_each_once(
    uow_factory: Callable[[], MongoUnitOfWork], database: AsyncDatabase, clock: FakeClock
) -> None:
    first, second = Runner(uow_factory, clock), Runner(uow_factory, clock)
    orgs = [f"org-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    due = [offer_deadline(org, f"{org}-task-{n}", clock.now()) for org in orgs for n in range(50)]
    await schedule(first, *due)

    fired = await asyncio.gather(*(scheduler(runner).run_due() for runner in (first, second)))

    assert sum(fired) == 200
    assert await stored(database) == []
    await each_rang_once(database, due)


async def test_the_running_scheduler_fires_a_burst_of_several_organizations_each_once(
    runner: Runner, database: AsyncDatabase, clock: FakeClock
) -> None:
    orgs = [f"org-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    due = [offer_deadline(org, f"{org}-task-{n}", clock.now()) for org in orgs for n in range(30)]
    recorded = Recorded()
    all_fired = asyncio.Event()

    async def counting(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
        await recorded(timer, uow, clock)
        if len({t.id for batch in recorded.by_unit.values() for t in batch}) == len(due):
            all_fired.set()

    timers = scheduler(runner, handlers(OFFER_DEADLINE=counting))
    deletions = await database["timers"].watch([{"$match": {"operationType": "delete"}}])
    await timers.start()
    try:
        # The poll interval is an hour: the change stream wakes the loop, ends of batches refill it.
        await schedule(runner, *due)
        async with asyncio.timeout(WAIT):
            await all_fired.wait()
            while await stored(database):  # the last batch commits after its last handler ran
                await deletions.next()
    finally:
        await timers.stop()
        await deletions.close()

    assert all([await rings(database, timer.id) == 1 for timer in due])
    batches = recorded.committed()
    assert all(len({timer.org_id for timer in batch}) == 1 for batch in batches)
    assert all(len(batch) <= BATCH for batch in batches)
    assert len(batches) < len(due) / 4


async def test_a_batch_stopped_while_firing_hands_every_timer_back_at_once(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    blocking = Blocking()
    due = [offer_deadline(org_id, f"{org_id}-task-{n}", clock.now()) for n in range(3)]
    await schedule(runner, *due)
    timers = scheduler(runner, handlers(OFFER_DEADLINE=blocking))
    await timers.start()
    try:
        async with asyncio.timeout(WAIT):
            await blocking.entered.wait()
    finally:
        await timers.stop()

    rows = await stored(database)  # none left leased to a scheduler that is gone
    assert [(row["owner"], row["lease_until"]) for row in rows] == [(None, clock.now())] * 3
    assert await scheduler(runner, handlers(OFFER_DEADLINE=ring)).run_due() == 3
