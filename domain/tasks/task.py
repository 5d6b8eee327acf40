"""A task: one customer interaction on one channel, from the moment a connector reports it.

A pure state machine like ``AgentSession``: every move returns the next task (``version`` one
higher) or raises ``InvalidState`` naming the current status. This issue covers the lifecycle up to
``CONNECTED`` (SPEC §4): ``QUEUED → OFFERED → CONNECTED``, ``OFFERED → QUEUED`` on decline or RONA
(the task keeps its age, so it goes back to the front of its queue), ``QUEUED/OFFERED → ABANDONED``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.channels import Channel, Direction
from domain.errors import InvalidState


class TaskStatus(StrEnum):
    QUEUED = "QUEUED"
    OFFERED = "OFFERED"
    CONNECTED = "CONNECTED"
    HELD = "HELD"
    POST_CALL = "POST_CALL"
    WRAP_UP = "WRAP_UP"
    CLOSED = "CLOSED"
    ABANDONED = "ABANDONED"


# Work an agent holds: what counts against capacity and shows in the glance view.
ACTIVE_STATUSES = frozenset(
    {TaskStatus.CONNECTED, TaskStatus.HELD, TaskStatus.POST_CALL, TaskStatus.WRAP_UP}
)


class TaskKind(StrEnum):
    NORMAL = "NORMAL"
    CALLBACK = "CALLBACK"
    CONSULT = "CONSULT"
    CAMPAIGN_PREVIEW = "CAMPAIGN_PREVIEW"


@dataclass(frozen=True, kw_only=True)
class Customer:
    """Who the customer is, as far as the connector knows: a name or an id, and the address the
    contact came from (a phone number for voice and SMS, an email address, a social handle)."""

    name: str | None = None
    customer_id: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class CadValue:
    name: str
    value: str
    # Copied from the variable's definition when the value arrived: secure values never leave the
    # server through a desktop-facing field (popover, task view).
    secure: bool = False


@dataclass(frozen=True)
class TranscriptLine:
    """A line of a chat bot's conversation before the hand-over to an agent."""

    sender: str
    text: str
    sent_at: datetime


@dataclass(frozen=True, kw_only=True)
class RoutingKey:
    """Where a waiting task stands: queues by priority (1 first), then task priority, then age."""

    queue_priority: int
    priority: int
    queued_at: datetime


@dataclass(frozen=True, kw_only=True)
class Task:
    task_id: str
    org_id: str
    channel: Channel
    direction: Direction = Direction.INBOUND
    kind: TaskKind = TaskKind.NORMAL
    status: TaskStatus = TaskStatus.QUEUED
    entry_point_id: str
    queue_id: str
    customer: Customer
    ani: str | None = None
    dnis: str | None = None
    subject: str | None = None
    cad: tuple[CadValue, ...] = ()
    transcript: tuple[TranscriptLine, ...] = ()
    # Skills (name, minimum level) an agent needs, copied from the queue when the task entered it.
    required_skills: tuple[tuple[str, int], ...] = ()
    queue_priority: int
    priority: int
    created_at: datetime
    # When the task entered its queue; a RONA or decline does not reset it (it keeps its age).
    queued_at: datetime
    status_since: datetime
    offer_id: str | None = None
    offer_count: int = 0
    # Agents who declined or missed this task: routing asks them last.
    passed_by: tuple[str, ...] = ()
    agent_id: str | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    version: int = 1

    @property
    def routing_key(self) -> RoutingKey:
        return RoutingKey(
            queue_priority=self.queue_priority, priority=self.priority, queued_at=self.queued_at
        )

    def waited_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.queued_at).total_seconds()))

    def cad_value(self, name: str) -> str | None:
        return next((entry.value for entry in self.cad if entry.name == name), None)

    # --- transitions ----------------------------------------------------------------------------

    def offered(self, offer_id: str, agent_id: str, now: datetime) -> Task:
        self._require(TaskStatus.QUEUED, "only a waiting task is offered")
        return self._next(
            status=TaskStatus.OFFERED,
            status_since=now,
            offer_id=offer_id,
            offer_count=self.offer_count + 1,
            agent_id=agent_id,
        )

    def requeued(self, now: datetime) -> Task:
        """Declined or unanswered: back in the queue, keeping its age; the agent goes last."""
        self._require(TaskStatus.OFFERED, "only an offered task goes back to its queue")
        assert self.agent_id is not None
        passed_by = (
            self.passed_by if self.agent_id in self.passed_by else (*self.passed_by, self.agent_id)
        )
        return self._next(
            status=TaskStatus.QUEUED,
            status_since=now,
            offer_id=None,
            agent_id=None,
            passed_by=passed_by,
        )

    def connected(self, now: datetime) -> Task:
        self._require(TaskStatus.OFFERED, "only an offered task is accepted")
        return self._next(status=TaskStatus.CONNECTED, status_since=now, connected_at=now)

    def abandoned(self, now: datetime) -> Task:
        if self.status not in (TaskStatus.QUEUED, TaskStatus.OFFERED):
            raise InvalidState(
                "only a task no agent has answered yet can be abandoned",
                current_state=self.status.value,
            )
        # Nobody holds it any more: the withdrawn offer keeps who it was ringing at.
        return self._next(
            status=TaskStatus.ABANDONED,
            status_since=now,
            ended_at=now,
            offer_id=None,
            agent_id=None,
        )

    def _require(self, status: TaskStatus, message: str) -> None:
        if self.status is not status:
            raise InvalidState(message, current_state=self.status.value)

    def _next(self, **changes: Any) -> Task:
        return dataclasses.replace(self, **changes, version=self.version + 1)
