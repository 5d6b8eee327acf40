"""Events of tasks and offers. A task's events go to the task's stream; an offer's to the offered
agent's offers stream; a RONA also to the organization's RONA stream for supervisors (rare enough
not to make writers queue on one stream head)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels import Channel
from domain.events import DomainEvent
from domain.streams import StreamKey, offers_stream, rona_stream, task_stream
from domain.tasks.consults import Destination
from domain.tasks.offers import OfferOutcome
from domain.tasks.participants import ParticipantRole
from domain.tasks.task import TaskStatus


class QueuedBecause(StrEnum):
    NEW = "NEW"
    DECLINED = "DECLINED"
    RONA = "RONA"
    SYSTEM = "SYSTEM"  # the system took the offer back (agent deactivated or gone)
    TRANSFERRED = "TRANSFERRED"  # an agent transferred the call to this queue
    CALLBACK = "CALLBACK"  # a callback task was made (web request, scheduled window opened)
    CALLBACK_NOT_ANSWERED = "CALLBACK_NOT_ANSWERED"  # the dialled customer did not answer


@dataclass(frozen=True, kw_only=True)
class TaskEvent(DomainEvent):
    task_id: str
    queue_id: str
    channel: Channel
    status: TaskStatus
    version: int

    def streams(self) -> tuple[StreamKey, ...]:
        return (task_stream(self.org_id, self.task_id),)


@dataclass(frozen=True, kw_only=True)
class TaskQueued(TaskEvent):
    because: QueuedBecause
    queued_at: datetime


@dataclass(frozen=True, kw_only=True)
class TaskOffered(TaskEvent):
    offer_id: str
    agent_id: str


@dataclass(frozen=True, kw_only=True)
class TaskConnected(TaskEvent):
    agent_id: str


@dataclass(frozen=True, kw_only=True)
class TaskAbandoned(TaskEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class OfferEvent(DomainEvent):
    offer_id: str
    task_id: str
    agent_id: str
    channel: Channel

    def streams(self) -> tuple[StreamKey, ...]:
        return (offers_stream(self.org_id, self.agent_id),)


@dataclass(frozen=True, kw_only=True)
class OfferMade(OfferEvent):
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class OfferEnded(OfferEvent):
    outcome: OfferOutcome


@dataclass(frozen=True, kw_only=True)
class RonaOccurred(DomainEvent):
    """For supervisors: an offer went unanswered, the task went back to its queue."""

    offer_id: str
    task_id: str
    agent_id: str
    queue_id: str
    team_id: str | None
    channel: Channel

    def streams(self) -> tuple[StreamKey, ...]:
        return (rona_stream(self.org_id),)


class CallChange(StrEnum):
    """What happened on a call, as the task's timeline tells it."""

    PARTICIPANT_JOINED = "PARTICIPANT_JOINED"
    PARTICIPANT_LEFT = "PARTICIPANT_LEFT"
    HELD = "HELD"
    RESUMED = "RESUMED"
    CONTROL_PASSED = "CONTROL_PASSED"
    CONSULT_REQUESTED = "CONSULT_REQUESTED"
    CONSULT_CONNECTED = "CONSULT_CONNECTED"
    CONSULT_ENDED = "CONSULT_ENDED"
    CONFERENCE_STARTED = "CONFERENCE_STARTED"
    CONFERENCE_ENDED = "CONFERENCE_ENDED"
    TRANSFERRED = "TRANSFERRED"
    POST_CALL_STARTED = "POST_CALL_STARTED"
    CALL_ENDED = "CALL_ENDED"
    RECORDING_STARTED = "RECORDING_STARTED"
    RECORDING_PAUSED = "RECORDING_PAUSED"
    RECORDING_RESUMED = "RECORDING_RESUMED"
    RECORDING_STOPPED = "RECORDING_STOPPED"
    WRAP_UP_STARTED = "WRAP_UP_STARTED"
    WRAP_UP_SUBMITTED = "WRAP_UP_SUBMITTED"
    CLOSED = "CLOSED"


@dataclass(frozen=True, kw_only=True)
class CallEvent(TaskEvent):
    """One change on a call. ``participant_id``/``role``/``agent_id`` name the party concerned;
    ``destination`` a consult's or transfer's target; ``deadline`` when a paused recording
    resumes or a wrap-up times out."""

    change: CallChange
    participant_id: str | None = None
    role: ParticipantRole | None = None
    agent_id: str | None = None
    destination: Destination | None = None
    wrap_up_code_ids: tuple[str, ...] = ()
    deadline: datetime | None = None
