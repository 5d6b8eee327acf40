"""One MongoDB transaction per use case: repositories bound to its session, events appended at commit."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

from pymongo import AsyncMongoClient, ReadPreference
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from domain.events import DomainEvent
from domain.ports import Clock, TransientConflict
from persistence import event_store
from persistence.agent_sessions import MongoAgentSessionRepository
from persistence.callbacks import MongoCallbackRepository
from persistence.configuration_cache import ConfigurationCache, TransactionConfiguration
from persistence.configuration_repository import (
    MongoConfigurationRepository,
    MongoPoliciesRepository,
)
from persistence.conversations import MongoConversationRepository
from persistence.errors import is_duplicate_key, is_transient
from persistence.idempotency_store import MongoIdempotencyStore
from persistence.messages import MongoMessageRepository
from persistence.presence import MongoPresenceRepository
from persistence.tasks import MongoOfferRepository, MongoTaskRepository
from persistence.timers import MongoTimerRepository

_COMMIT_ATTEMPTS = 5


class MongoUnitOfWork:
    def __init__(
        self,
        client: AsyncMongoClient,
        clock: Clock,
        configuration_cache: ConfigurationCache | None = None,
        fingerprint_key: bytes = b"",
    ) -> None:
        self._client = client
        self._clock = clock
        # Without the process's shared cache (tests of one unit of work), one of its own.
        self._configuration_cache = configuration_cache or ConfigurationCache()
        # The server's key (Settings.fingerprint_key); empty only in tests of one unit of work.
        self._fingerprint_key = fingerprint_key
        self._session: AsyncClientSession | None = None
        self._events: list[DomainEvent] = []
        self._deferred: list[object] = []
        self.attempt = 0
        self._committed = False

    async def __aenter__(self) -> Self:
        session = self._client.start_session()
        await session.start_transaction(
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
            read_preference=ReadPreference.PRIMARY,
        )
        self._session = session
        now = self._clock.now()
        cached = TransactionConfiguration(self._configuration_cache, session)
        self.configuration = MongoConfigurationRepository(session, cached)
        self.policies = MongoPoliciesRepository(session, cached)
        self.agent_sessions = MongoAgentSessionRepository(session)
        self.idempotency = MongoIdempotencyStore(session, now, self._fingerprint_key)
        self.timers = MongoTimerRepository(session)
        self.presence = MongoPresenceRepository(session)
        self.callbacks = MongoCallbackRepository(session)
        self.tasks = MongoTaskRepository(session)
        self.offers = MongoOfferRepository(session)
        self.messages = MongoMessageRepository(session)
        self.conversations = MongoConversationRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._require_session()
        try:
            if session.in_transaction and not self._committed:
                await session.abort_transaction()
        except PyMongoError:
            pass  # the server aborts an abandoned transaction by itself
        finally:
            await session.end_session()
        if exc is not None and (is_transient(exc) or _is_write_race(exc)):
            raise TransientConflict(str(exc)) from exc

    def emit(self, *events: DomainEvent) -> None:
        self._events.extend(events)

    def defer(self, *commands: object) -> None:
        self._deferred.extend(command for command in commands if command not in self._deferred)

    @property
    def deferred(self) -> Sequence[object]:
        return tuple(self._deferred) if self._committed else ()

    async def commit(self) -> None:
        session = self._require_session()
        await event_store.append(session, self._events, self._clock.now())
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                await session.commit_transaction()
                break
            except PyMongoError as error:
                if (
                    error.has_error_label("UnknownTransactionCommitResult")
                    and attempt < _COMMIT_ATTEMPTS - 1
                ):
                    continue
                raise
        self._committed = True

    def _require_session(self) -> AsyncClientSession:
        if self._session is None:
            raise RuntimeError("the unit of work was not entered")
        return self._session


def _is_write_race(error: BaseException) -> bool:
    """A duplicate key on a stream head or idempotency record means another transaction won a race."""
    return is_duplicate_key(error) and any(
        name in str(error) for name in ("stream_heads", "idempotency")
    )
