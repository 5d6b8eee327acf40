"""The small protocols through which use cases reach storage and time; ``persistence`` implements them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.agents.presence import AgentPresence
from domain.agents.session import AgentSession
from domain.callbacks.callback import ScheduledCallback
from domain.channels import Channel
from domain.configuration.base import ConfigEntity, ConfigKind, Dependent
from domain.configuration.policies import OrganizationPolicies
from domain.conversations.conversation import Conversation
from domain.events import DomainEvent
from domain.messaging.message import Message
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

    async def active_calls(self, org_id: str) -> int:
        """Voice tasks of the organization with a call in progress (connected, held, post-call):
        what the concurrent-call limit counts."""
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


class MessageRepository(Protocol):
    """Messages of digital tasks, in their own collection (chats grow long), ordered by ``seq``."""

    async def next_seq(self, org_id: str, task_id: str) -> int:
        """The ``seq`` the task's next message takes (1 for the first). Two transactions given the
        same one collide when they add (``TransientConflict``) and the loser re-runs."""
        ...

    async def add(self, message: Message) -> None: ...

    async def get(self, org_id: str, message_id: str) -> Message | None: ...

    async def save(self, message: Message) -> None:
        """Replace the stored message (its delivery state changed)."""
        ...

    async def for_task(self, org_id: str, task_id: str) -> Sequence[Message]:
        """Every message of the task, ordered by ``seq``."""
        ...

    async def for_tasks(
        self, org_id: str, task_ids: Sequence[str]
    ) -> Mapping[str, Sequence[Message]]:
        """The messages of each task (ordered by ``seq``); a task without any maps to ``()``."""
        ...


class ConversationRepository(Protocol):
    """Outbound/reply conversations (one active per pair) and the customer-centred reads of tasks:
    history, sessions. ``keys`` are ``domain.conversations.addresses`` customer keys."""

    async def get(self, org_id: str, key: str) -> Conversation | None: ...

    async def claim(self, conversation: Conversation, *, replacing: str | None) -> None:
        """Store the pair's record: new (``replacing`` None) or taking over from the task
        ``replacing``. Another transaction claiming the pair at the same time makes one of them
        raise ``TransientConflict``, so the loser re-runs and finds the winner's conversation."""
        ...

    async def outbound_count(self, org_id: str, agent_id: str, channel: Channel) -> int:
        """Active OUTBOUND tasks of ``channel`` the agent holds (on it or owing its wrap-up)."""
        ...

    async def subject_used(self, org_id: str, keys: Sequence[str], subject_key: str) -> bool:
        """Whether an email task of this customer already had this (normalized) subject."""
        ...

    async def known_customer_id(self, org_id: str, keys: Sequence[str]) -> str | None:
        """The customer id of the most recent task found by these keys, if any had one."""
        ...

    async def session_tasks(self, org_id: str, session_id: str) -> Sequence[Task]: ...

    async def history(
        self,
        org_id: str,
        keys: Sequence[str],
        channel: Channel | None,
        limit: int,
        after: HistoryCursor | None,
    ) -> Sequence[Task]:
        """Ended tasks (closed, abandoned; not consult requests) found by any of ``keys``, newest
        end first, those after the cursor."""
        ...


@dataclass(frozen=True)
class HistoryCursor:
    ended_at: datetime
    task_id: str


class CallbackRepository(Protocol):
    """Scheduled and personal callbacks until (and after) their window opens."""

    async def get(self, org_id: str, callback_id: str) -> ScheduledCallback | None: ...

    async def add(self, callback: ScheduledCallback) -> None: ...

    async def save(self, callback: ScheduledCallback, *, expected_version: int) -> None:
        """Conditional on the stored version, like ``TaskRepository.save``."""
        ...

    async def delete(self, callback: ScheduledCallback) -> None:
        """Remove it if still at its version; else ``TransientConflict``."""
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
    callbacks: CallbackRepository
    conversations: ConversationRepository
    messages: MessageRepository

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
