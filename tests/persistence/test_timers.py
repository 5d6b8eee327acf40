"""Durable timers on a real replica set: scheduled with the transaction that sets them, fired once
in effect (with the handler's changes, or not at all), across schedulers and restarts, and only
when due. Time is a fake clock the tests move; ``run_due`` is one deterministic scheduler pass."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from domain.errors import InvalidState
from domain.events import DomainEvent
from domain.identity import Actor
from domain.ports import Clock, UnitOfWork
from domain.streams import StreamKey, task_stream
from domain.timers import FireTimer, Timer, TimerAlreadyFired, TimerKind, fire_timer, timer_id
from domain.usecases.runner import Runner
from persistence.database import Retention, make_client, open_database
from persistence.timer_scheduler import TimerScheduler
from persistence.timers import TimerHandlers
from persistence.unit_of_work import MongoUnitOfWork

WAIT = 30.0  # generous upper bound for anything awaited; never a pause
LEASE = timedelta(seconds=10)
BACKOFF = timedelta(seconds=1)


class FakeClock:
    def __init__(self) -> None:
        # Close to real time, so the TTL on events never sees them as old.
        self._now = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@pytest.fixture
def clock() -> FakeClock:  # overrides the real clock of the persistence fixtures
    return FakeClock()


@dataclass(frozen=True, kw_only=True)
class TimerRang(DomainEvent):
    """What the test handlers leave behind: one event per firing that committed."""

    timer_id: str
    target_id: str

    def streams(self) -> tuple[StreamKey, ...]:
        return (task_stream(self.org_id, self.target_id),)


async def ring(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
    uow.emit(
        TimerRang(
            org_id=timer.org_id,
            occurred_at=clock.now(),
            actor=Actor.system("timer"),
            timer_id=timer.id,
            target_id=timer.target_id,
        )
    )


class Blocking:
    """Starts firing, says so, and never finishes: the scheduler is stopped mid-fire."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def __call__(self, timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
        self.entered.set()
        await asyncio.Event().wait()


class FailingFirst:
    """Schedules a follow-up timer and rings, then fails - the first ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
        self.calls += 1
        await uow.timers.schedule(follow_up(timer, clock.now()))
        await ring(timer, uow, clock)
        if self.calls <= self.failures:
            raise RuntimeError("the handler failed")


def follow_up(timer: Timer, now: datetime) -> Timer:
    return Timer.at(
        now + timedelta(hours=1),
        org_id=timer.org_id,
        kind=TimerKind.CALLBACK_WINDOW,
        target_id=f"follow-up-{timer.target_id}",
        expected_version=None,
    )


def offer_deadline(org_id: str, target_id: str, due_at: datetime, version: int = 1) -> Timer:
    return Timer.at(
        due_at,
        org_id=org_id,
        kind=TimerKind.OFFER_DEADLINE,
        target_id=target_id,
        expected_version=version,
        payload={"agentId": "agent-1"},
    )


def handlers(**by_kind: Callable[..., object]) -> TimerHandlers:
    registry = TimerHandlers()
    for kind, handler in by_kind.items():
        registry.register(TimerKind(kind), handler)  # type: ignore[arg-type]
    return registry


def scheduler(runner: Runner, registry: TimerHandlers | None = None) -> TimerScheduler:
    return TimerScheduler(
        runner,
        registry or handlers(OFFER_DEADLINE=ring),
        lease=LEASE,
        retry_backoff=BACKOFF,
        poll_interval=3600,  # a background loop that fires anything did so because it was woken
    )


async def schedule(runner: Runner, *timers: Timer) -> None:
    async def use_case(cmd: tuple[Timer, ...], uow: UnitOfWork, clock: Clock) -> None:
        for timer in cmd:
            await uow.timers.schedule(timer)

    await runner.run(use_case, timers)


async def cancel(runner: Runner, timer_id: str) -> None:
    async def use_case(cmd: str, uow: UnitOfWork, clock: Clock) -> None:
        await uow.timers.cancel(cmd)

    await runner.run(use_case, timer_id)


async def stored(database: AsyncDatabase) -> list[dict]:
    return await database["timers"].find().sort("_id", 1).to_list()


async def rings(database: AsyncDatabase, timer_id: str | None = None) -> int:
    query: dict[str, object] = {"type": TimerRang.__name__}
    if timer_id is not None:
        query["payload.timer_id"] = timer_id
    return await database["events"].count_documents(query)


async def each_rang_once(database: AsyncDatabase, timers: list[Timer]) -> None:
    """Every one of ``timers`` left exactly one ``TimerRang``, and nothing else rang."""
    groups = [{"$group": {"_id": "$payload.timer_id", "n": {"$sum": 1}}}]
    per_timer = await (await database["events"].aggregate(groups)).to_list()
    assert {row["_id"] for row in per_timer} == {timer.id for timer in timers}
    assert {row["n"] for row in per_timer} == {1}


def test_a_timer_id_is_derived_from_kind_target_and_version() -> None:
    due = datetime(2030, 1, 1, tzinfo=UTC)
    timer = offer_deadline("org-1", "task-1", due, version=3)

    assert timer.id == timer_id(TimerKind.OFFER_DEADLINE, "task-1", 3) == "OFFER_DEADLINE:task-1:3"
    assert offer_deadline("org-1", "task-1", due + timedelta(hours=1), version=3).id == timer.id
    assert offer_deadline("org-1", "task-1", due, version=4).id != timer.id
    assert timer_id(TimerKind.OFFER_DEADLINE, "a:1", None) != timer_id(
        TimerKind.OFFER_DEADLINE, "a", 1
    )


def test_a_timer_needs_an_aware_due_time_and_keeps_a_frozen_payload() -> None:
    payload = {"agentId": "agent-1"}
    timer = offer_deadline("org-1", "task-1", datetime(2030, 1, 1, tzinfo=UTC))
    payload["agentId"] = "changed"

    assert timer.payload == {"agentId": "agent-1"}
    with pytest.raises(TypeError):
        timer.payload["agentId"] = "x"  # type: ignore[index]
    with pytest.raises(ValueError, match="timezone-aware"):
        offer_deadline("org-1", "task-1", datetime(2030, 1, 1))  # noqa: DTZ001


async def test_a_timer_scheduled_in_a_transaction_that_aborts_does_not_exist(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    async def schedule_then_refuse(cmd: Timer, uow: UnitOfWork, clock: Clock) -> None:
        await uow.timers.schedule(cmd)
        raise InvalidState("refused after scheduling", current_state="REFUSED")

    with pytest.raises(InvalidState):
        await runner.run(schedule_then_refuse, offer_deadline(org_id, "task-1", clock.now()))

    assert await stored(database) == []
    assert await scheduler(runner).run_due() == 0


async def test_a_due_timer_fires_once_and_is_removed_with_the_handlers_changes(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    timer = offer_deadline(org_id, "task-1", clock.now())
    await schedule(runner, timer)
    timers = scheduler(runner)

    assert await timers.run_due() == 1
    assert await timers.run_due() == 0

    assert await stored(database) == []
    assert await rings(database, timer.id) == 1


async def test_a_failing_handler_leaves_no_changes_and_the_timer_is_retried_after_a_backoff(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    timer = offer_deadline(org_id, "task-1", clock.now())
    await schedule(runner, timer)
    handler = FailingFirst(failures=2)
    timers = scheduler(runner, handlers(OFFER_DEADLINE=handler))

    assert await timers.run_due() == 0
    [kept] = await stored(database)  # not the follow-up timer the handler scheduled
    assert (kept["_id"], kept["attempts"], kept["owner"]) == (timer.id, 1, None)
    assert await rings(database) == 0

    clock.advance(BACKOFF - timedelta(milliseconds=1))
    assert await timers.run_due() == 0  # still backing off
    clock.advance(timedelta(milliseconds=1))
    assert await timers.run_due() == 0  # second failure: the backoff doubles
    clock.advance(2 * BACKOFF - timedelta(milliseconds=1))
    assert await timers.run_due() == 0
    assert handler.calls == 2
    clock.advance(timedelta(milliseconds=1))
    assert await timers.run_due() == 1

    assert [row["kind"] for row in await stored(database)] == [TimerKind.CALLBACK_WINDOW.value]
    assert await rings(database, timer.id) == 1
    assert handler.calls == 3


async def test_a_timer_that_is_no_longer_scheduled_fires_nothing(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    timer = offer_deadline(org_id, "task-1", clock.now())
    await schedule(runner, timer)
    assert await scheduler(runner).run_due() == 1

    with pytest.raises(TimerAlreadyFired):  # a late, second firing of the same timer
        await runner.run(fire_timer, FireTimer(timer, ring))

    assert await rings(database, timer.id) == 1


async def test_two_schedulers_racing_over_200_due_timers_fire_each_exactly_once(
    uow_factory: Callable[[], MongoUnitOfWork],
    database: AsyncDatabase,
    clock: FakeClock,
    org_id: str,
) -> None:
    first, second = Runner(uow_factory, clock), Runner(uow_factory, clock)
    due = [offer_deadline(org_id, f"task-{n}", clock.now()) for n in range(200)]
    await schedule(first, *due)

    fired = await asyncio.gather(scheduler(first).run_due(), scheduler(second).run_due())

    assert sum(fired) == 200
    assert await stored(database) == []
    await each_rang_once(database, due)


async def test_a_timer_survives_a_restart_and_fires(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str, mongodb_url: str
) -> None:
    timer = offer_deadline(org_id, "task-1", clock.now() + timedelta(seconds=30))
    await schedule(runner, timer)
    assert await scheduler(runner).run_due() == 0

    restarted = make_client(mongodb_url)  # a new process: its own client, Beanie and runner
    try:
        await open_database(restarted, database.name, Retention())
        clock.advance(timedelta(seconds=30))
        fired = await scheduler(Runner(lambda: MongoUnitOfWork(restarted, clock), clock)).run_due()
    finally:
        await restarted.close()

    assert fired == 1
    assert await rings(database, timer.id) == 1


async def test_a_timer_claimed_by_an_instance_that_died_fires_when_the_lease_runs_out(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    timer = offer_deadline(org_id, "task-1", clock.now())
    await schedule(runner, timer)
    await database["timers"].update_one(
        {"_id": timer.id}, {"$set": {"owner": "dead-instance", "lease_until": clock.now() + LEASE}}
    )
    timers = scheduler(runner)

    assert await timers.run_due() == 0
    clock.advance(LEASE)
    assert await timers.run_due() == 1
    assert await rings(database, timer.id) == 1


async def test_scheduling_the_same_kind_target_and_version_again_stores_one_timer(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    first = offer_deadline(org_id, "task-1", clock.now() + timedelta(seconds=30))
    again = offer_deadline(org_id, "task-1", clock.now() + timedelta(seconds=60))
    next_version = offer_deadline(org_id, "task-1", clock.now() + timedelta(seconds=30), 2)

    await schedule(runner, first)
    await schedule(runner, again)
    await asyncio.gather(*(schedule(runner, again) for _ in range(10)))
    await schedule(runner, next_version)

    rows = await stored(database)
    assert [row["_id"] for row in rows] == [first.id, next_version.id]
    assert rows[0]["due_at"] == first.due_at  # the first schedule holds
    assert rows[0]["payload"] == {"agentId": "agent-1"}


async def test_a_cancelled_timer_never_fires_and_cancelling_twice_is_harmless(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    kept = offer_deadline(org_id, "task-1", clock.now())
    dropped = offer_deadline(org_id, "task-2", clock.now())
    await schedule(runner, kept, dropped)

    await cancel(runner, dropped.id)
    await cancel(runner, dropped.id)

    assert await scheduler(runner).run_due() == 1
    assert await rings(database, kept.id) == 1
    assert await rings(database, dropped.id) == 0


async def test_a_timer_does_not_fire_before_it_is_due(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    timer = offer_deadline(org_id, "task-1", clock.now() + timedelta(seconds=30))
    await schedule(runner, timer)
    timers = scheduler(runner)

    assert await timers.run_due() == 0
    clock.advance(timedelta(seconds=30) - timedelta(milliseconds=1))
    assert await timers.run_due() == 0
    assert await rings(database) == 0
    clock.advance(timedelta(milliseconds=1))
    assert await timers.run_due() == 1


async def test_a_kind_without_a_handler_is_logged_and_left_for_an_instance_that_has_one(
    runner: Runner,
    database: AsyncDatabase,
    clock: FakeClock,
    org_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrap_up = Timer.at(
        clock.now(),
        org_id=org_id,
        kind=TimerKind.WRAP_UP_TIMEOUT,
        target_id="task-1",
        expected_version=4,
    )
    await schedule(runner, wrap_up)

    with caplog.at_level(logging.WARNING, logger="persistence.timers"):
        assert await scheduler(runner, TimerHandlers()).run_due() == 0
    assert "WRAP_UP_TIMEOUT" in caplog.text
    [row] = await stored(database)
    assert (row["owner"], row["attempts"]) == (None, 0)

    assert await scheduler(runner, handlers(WRAP_UP_TIMEOUT=ring)).run_due() == 1
    assert await rings(database, wrap_up.id) == 1


async def test_the_running_scheduler_is_woken_by_a_new_timer_and_hands_it_back_when_stopped(
    runner: Runner, database: AsyncDatabase, clock: FakeClock, org_id: str
) -> None:
    blocking = Blocking()
    timers = scheduler(runner, handlers(OFFER_DEADLINE=blocking))
    await timers.start()
    try:
        # The poll interval is an hour: only the change stream on timers can wake the loop.
        await schedule(runner, offer_deadline(org_id, "task-1", clock.now()))
        async with asyncio.timeout(WAIT):
            await blocking.entered.wait()
    finally:
        await timers.stop()

    [row] = await stored(database)  # released on shutdown, not left leased
    assert (row["owner"], row["lease_until"]) == (None, clock.now())
    assert await scheduler(runner).run_due() == 1
