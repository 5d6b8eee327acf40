"""The small protocols through which use cases reach storage and time; ``persistence`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.agents.presence import AgentPresence
from domain.agents.session import AgentSession
from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind, Dependent
from domain.configuration.policies import OrganizationPolicies
from domain.events import DomainEvent
from domain.tasks.offers import Offer
from domain.tasks.task import Task
from domain.timers import Timer


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class TransientConflict(Exception):
    """The transaction collided with another one; the runner retries the whole use case."""


@dataclass(frozen=True)
class IdempotencyKey:
    org_id: str
    principal: str
    operation: str
    key: str


class ConfigurationRepository(Protocol):
    async def get(self, org_id: str, kind: ConfigKind, entity_id: str) -> ConfigEntity | None: ...

    async def exists(self, entity_id: str) -> bool:
        """Whether any entity, of any organization, has this id."""
        ...

    async def add(self, entity: ConfigEntity) -> None:
        """Insert; raises ``ValidationFailed`` (rule ``unique``) when a unique key is taken."""
        ...

    async def save(self, entity: ConfigEntity, *, expected_version: int) -> None:
        """Replace the stored entity if it is still at ``expected_version``, else ``Conflict``."""
        ...

    async def find_unique(
        self, org_id: str, kind: ConfigKind, field: str, value: str
    ) -> ConfigEntity | None: ...

    async def dependents(
        self, org_id: str, kind: ConfigKind, entity_id: str
    ) -> Sequence[Dependent]:
        """Active entities (and the policies) that reference this one."""
        ...

    async def list_active(self, org_id: str, kind: ConfigKind) -> Sequence[ConfigEntity]: ...

    async def lock(self, org_id: str, kind: ConfigKind, entity_id: str | None = None) -> None:
        """Write-lock one entity, or (``entity_id`` None) the kind as a whole, for this transaction,
        so that a concurrent transaction reading the same thing retries instead of deciding on
        stale data."""
        ...


class PoliciesRepository(Protocol):
    async def get(self, org_id: str) -> OrganizationPolicies | None: ...

    async def save(self, policies: OrganizationPolicies, *, expected_version: int) -> None: ...


class AgentSessionRepository(Protocol):
    async def get(self, org_id: str, agent_id: str) -> AgentSession | None: ...

    async def save(self, session: AgentSession, *, expected_version: int) -> None:
        """Store ``session`` if the stored one is still at ``expected_version`` (0: none stored
        yet); otherwise raise ``TransientConflict``, so the use case re-runs on what is stored."""
        ...

    async def candidates(
        self,
        org_id: str,
        channel: Channel,
        team_ids: Sequence[str],
        skills: Sequence[tuple[str, int]],
        limit: int,
    ) -> Sequence[AgentSession]:
        """Sessions of these teams open for offers on ``channel`` holding every (skill, minimum
        level), available longest first."""
        ...


class TaskRepository(Protocol):
    async def get(self, org_id: str, task_id: str) -> Task | None: ...

    async def add(self, task: Task) -> None: ...

    async def save(self, task: Task, *, expected_version: int) -> None:
        """Conditional on the stored version, like ``AgentSessionRepository.save``."""
        ...

    async def waiting(
        self, org_id: str, queue_ids: Sequence[str], channels: Sequence[Channel], limit: int
    ) -> Sequence[Task]:
        """``QUEUED`` tasks of these queues and channels, the first ``limit`` in routing order."""
        ...


class OfferRepository(Protocol):
    async def get(self, org_id: str, offer_id: str) -> Offer | None: ...

    async def add(self, offer: Offer) -> None: ...

    async def save(self, offer: Offer, *, expected_version: int) -> None: ...

    async def pending_for(self, org_id: str, agent_id: str) -> Sequence[Offer]:
        """The agent's open offers, earliest first."""
        ...


class PresenceRepository(Protocol):
    async def get(self, org_id: str, agent_id: str) -> AgentPresence | None: ...

    async def save(self, presence: AgentPresence, *, expected_version: int) -> None:
        """Conditional on the stored version (0: none stored yet), like
        ``AgentSessionRepository.save``."""
        ...


class IdempotencyStore(Protocol):
    async def recall(self, key: IdempotencyKey, fingerprint: object) -> object | None:
        """The first result stored under ``key``, or None. A different request under the same key
        raises ``ValidationFailed`` on field ``idempotencyKey``."""
        ...

    async def remember(self, key: IdempotencyKey, fingerprint: object, result: object) -> None: ...


class TimerRepository(Protocol):
    async def schedule(self, timer: Timer) -> None:
        """Store ``timer`` in this transaction. Idempotent on its id: a timer already scheduled
        under that id is left as it is."""
        ...

    async def cancel(self, timer_id: str) -> None:
        """Remove the timer in this transaction, if it is (still) scheduled."""
        ...

    async def complete(self, timer_id: str) -> None:
        """Remove a timer that is firing, in the firing transaction; raises ``TimerAlreadyFired``
        when it is no longer scheduled, so the transaction does not commit."""
        ...


class UnitOfWork(Protocol):
    """One MongoDB transaction: repositories, the events to append, and the commit."""

    configuration: ConfigurationRepository
    policies: PoliciesRepository
    agent_sessions: AgentSessionRepository
    tasks: TaskRepository
    offers: OfferRepository
    idempotency: IdempotencyStore
    timers: TimerRepository
    # How many times this use case already ran into a transient conflict (0: first run).
    attempt: int
    presence: PresenceRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def emit(self, *events: DomainEvent) -> None: ...

    def defer(self, *commands: object) -> None:
        """Commands to run after this transaction commits, each in its own (routing that the
        change made possible); dropped if it does not commit."""
        ...

    @property
    def deferred(self) -> Sequence[object]: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
