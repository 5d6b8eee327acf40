"""The one place that wires persistence into the application: everything a request needs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from broadcaster import Broadcast
from pymongo import AsyncMongoClient

from api.auth import TokenVerifier
from api.settings import Settings
from domain.ports import Clock
from domain.timers import TimerKind
from domain.usecases.callback_dispatch import callback_window_handler
from domain.usecases.calls import on_recording_resume
from domain.usecases.offers import on_offer_deadline
from domain.usecases.presence import presence_grace_expired
from domain.usecases.routing import RouteAgent, RouteQueue, route_agent, route_queue
from domain.usecases.runner import Runner
from domain.usecases.wrap_up import on_wrap_up_timeout
from persistence.agent_sessions import AgentSessionQueries
from persistence.callbacks import CallbackQueries
from persistence.configuration_cache import ConfigurationCache
from persistence.configuration_queries import ConfigurationQueries
from persistence.database import Retention, make_client, open_database
from persistence.embedded_mongod import EmbeddedMongo, find_mongod
from persistence.event_feed import EventFeed
from persistence.event_store import EventReader
from persistence.messages import MessageQueries
from persistence.presence import PresenceTracker
from persistence.routing_sweep import RoutingSweep
from persistence.seed import seed_demo_if_empty
from persistence.tasks import TaskQueries
from persistence.timer_scheduler import TimerScheduler
from persistence.timers import TimerHandlers
from persistence.unit_of_work import MongoUnitOfWork

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        # MongoDB keeps milliseconds: a time returned by a mutation reads back the same later.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Services:
    settings: Settings
    clock: Clock
    client: AsyncMongoClient
    runner: Runner
    events: EventReader
    feed: EventFeed
    configuration: ConfigurationQueries
    agent_sessions: AgentSessionQueries
    tasks: TaskQueries
    verifier: TokenVerifier
    presence: PresenceTracker  # agents' desktop connections (SPEC §2 presence)
    # Scheduled and personal callbacks of a customer or an agent (SPEC §9), outside transactions.
    callbacks: CallbackQueries = field(default_factory=CallbackQueries)
    # The durable-timer scheduler (the test clock wakes it when it moves).
    timers: TimerScheduler | None = None
    # Messages of digital tasks and predefined responses (SPEC §10), outside any transaction.
    messages: MessageQueries = field(default_factory=MessageQueries)

    async def ready(self) -> tuple[bool, str]:
        try:
            await self.client.admin.command("ping")
        except Exception as error:
            return False, f"mongodb unreachable: {error.__class__.__name__}"
        if not self.feed.healthy:
            return False, f"event feed not running: {self.feed.last_error or 'starting'}"
        return True, "ok"


@contextlib.contextmanager
def embedded_mongod(settings: Settings) -> Iterator[str]:
    """Yields the MongoDB URL: the configured one, or a started embedded ``mongod``'s."""
    if settings.mongodb_url is not None:
        yield settings.mongodb_url.get_secret_value()
        return
    mongo = EmbeddedMongo(
        data_dir=(settings.data_dir / "mongo").resolve(),
        binary=find_mongod(settings.mongod_bin),
        cache_size_gb=settings.mongod_cache_gb,
    )
    mongo.start()
    log.info("embedded mongod running at %s (data in %s)", mongo.url, mongo.data_dir)
    try:
        yield mongo.url
    finally:
        mongo.stop()


def timer_handlers(settings: Settings | None = None) -> TimerHandlers:
    """What each kind of durable timer does when it fires; a use case registers its kind here."""
    settings = settings or Settings()
    handlers = TimerHandlers()
    handlers.register(
        TimerKind.CALLBACK_WINDOW,
        callback_window_handler(timedelta(seconds=settings.callback_retry_seconds)),
    )
    handlers.register(TimerKind.OFFER_DEADLINE, on_offer_deadline)
    handlers.register(TimerKind.PRESENCE_GRACE, presence_grace_expired)
    handlers.register(TimerKind.RECORDING_RESUME, on_recording_resume)
    handlers.register(TimerKind.WRAP_UP_TIMEOUT, on_wrap_up_timeout)
    return handlers


def register_follow_ups(runner: Runner) -> None:
    """What runs after a commit for the commands use cases defer: routing, above all."""
    runner.on_deferred(RouteQueue, route_queue)
    runner.on_deferred(RouteAgent, route_agent)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, mongodb_url: str, clock: Clock | None = None
) -> AsyncIterator[Services]:
    clock = clock or SystemClock()
    client = make_client(mongodb_url)
    try:
        await open_database(
            client,
            settings.database,
            Retention(events=timedelta(days=settings.event_retention_days)),
        )
        configuration_cache = ConfigurationCache()
        fingerprint_key = settings.fingerprint_key()
        runner = Runner(
            lambda: MongoUnitOfWork(client, clock, configuration_cache, fingerprint_key), clock
        )
        register_follow_ups(runner)
        if settings.seed_demo:
            await seed_demo_if_empty(runner)
        async with Broadcast("memory://") as broadcast:
            feed = EventFeed(broadcast)
            await feed.start()
            timers = TimerScheduler(runner, timer_handlers(settings))
            sweep = RoutingSweep(runner, interval=settings.routing_sweep_seconds)
            # Presence: heartbeat for this instance's agent WebSockets, sweep of dead instances'.
            heartbeat = timedelta(seconds=settings.presence_heartbeat_seconds)
            presence = PresenceTracker(runner, heartbeat=heartbeat)
            try:
                await timers.start()
                sweep.start()
                await presence.start()
                yield Services(
                    settings=settings,
                    clock=clock,
                    client=client,
                    runner=runner,
                    events=EventReader(),
                    feed=feed,
                    configuration=ConfigurationQueries(),
                    agent_sessions=AgentSessionQueries(),
                    tasks=TaskQueries(),
                    verifier=TokenVerifier(
                        secret=settings.hs256_secret(),
                        jwks_url=settings.jwks_url,
                        issuer=settings.jwt_issuer,
                        audience=settings.jwt_audience,
                    ),
                    presence=presence,
                    timers=timers,
                )
            finally:
                await presence.stop()
                await sweep.stop()
                await timers.stop()
                await feed.stop()
    finally:
        await client.close()
