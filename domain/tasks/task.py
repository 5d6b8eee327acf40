"""A task: one customer interaction on one channel, from the moment a connector reports it.

A pure state machine like ``AgentSession``: every move returns the next task (``version``
higher) or raises ``InvalidState`` naming the current status. Here: the lifecycle up to
``CONNECTED`` (SPEC §4): ``QUEUED → OFFERED → CONNECTED``, ``OFFERED → QUEUED`` on decline or RONA
(the task keeps its age, so it goes back to the front of its queue), ``QUEUED/OFFERED → ABANDONED``,
and consult requests answered or called off. The call itself (hold, consult, conference, transfer,
end, wrap-up) is ``domain.tasks.call``, built on ``changed``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.callbacks.details import TaskCallback
from domain.channels import Channel, Direction
from domain.errors import InvalidState
from domain.identity import Actor
from domain.tasks.consults import Consult, ConsultRequester, Destination
from domain.tasks.durations import Durations
from domain.tasks.participants import Participant, ParticipantRole
from domain.tasks.recording import Recording, RecordingState
from domain.tasks.status import ACTIVE_STATUSES, CALL_STATUSES, TaskStatus
from domain.tasks.wrap_up import WrapUp

__all__ = ["ACTIVE_STATUSES", "CALL_STATUSES", "Task", "TaskKind", "TaskStatus"]


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
    # Per variable, for first-save-wins between agents (domain.tasks.cad): 0 never saved, 1 as
    # the connector reported it, +1 per save; who saved it last, and when.
    version: int = 0
    saved_by: Actor | None = None
    saved_by_name: str | None = None
    saved_at: datetime | None = None


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
    # The agent the task is offered to or who controls it (the primary agent).
    agent_id: str | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    # --- the call (SPEC §4 to §6, §8) -------------------------------------------------------------
    participants: tuple[Participant, ...] = ()
    consult: Consult | None = None
    conference_since: datetime | None = None
    recording: Recording = dataclasses.field(default_factory=Recording)
    wrap_ups: tuple[WrapUp, ...] = ()
    call_ended_at: datetime | None = None
    durations: Durations = dataclasses.field(default_factory=Durations)
    # A CONSULT task only: the call it was asked for, by whom, and to reach whom.
    parent_task_id: str | None = None
    requester: ConsultRequester | None = None
    consult_destination: Destination | None = None
    # --- callbacks (SPEC §9) ----------------------------------------------------------------------
    # A CALLBACK task: what to dial, and whether the customer answered yet.
    callback: TaskCallback | None = None
    # A personal callback: routing offers it to this agent first.
    preferred_agent_id: str | None = None
    # --- omnichannel sessions (SPEC §11) ----------------------------------------------------------
    # The contact session this interaction belongs to; None: a session of its own (``session``).
    session_id: str | None = None
    # A digital interaction the agent put aside for a new contact (MAX "new"); a call is held by
    # holding its customer instead.
    held: bool = False
    version: int = 1

    @property
    def routing_key(self) -> RoutingKey:
        return RoutingKey(
            queue_priority=self.queue_priority, priority=self.priority, queued_at=self.queued_at
        )

    @property
    def session(self) -> str:
        """The contact session: elevations share their source's, every other task is its own."""
        return self.session_id or self.task_id

    def waited_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.queued_at).total_seconds()))

    def cad_value(self, name: str) -> str | None:
        return next((entry.value for entry in self.cad if entry.name == name), None)

    # --- who is on it ---------------------------------------------------------------------------

    @property
    def present(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.present)

    @property
    def customer_party(self) -> Participant | None:
        """The customer's place on the call while they are on it."""
        return next(
            (p for p in self.participants if p.present and p.role is ParticipantRole.CUSTOMER),
            None,
        )

    def participant(self, participant_id: str) -> Participant | None:
        return next((p for p in self.participants if p.participant_id == participant_id), None)

    def present_agent(self, agent_id: str) -> Participant | None:
        """The agent's live place on the call, if they are on it."""
        return next(
            (p for p in self.participants if p.present and p.agent_id == agent_id and p.is_agent),
            None,
        )

    def present_supervisor(self, supervisor_id: str) -> Participant | None:
        return next(
            (
                p
                for p in self.participants
                if p.present
                and p.agent_id == supervisor_id
                and p.role is ParticipantRole.SUPERVISOR
            ),
            None,
        )

    def wrap_up_owed_by(self, agent_id: str) -> Participant | None:
        return next(
            (p for p in self.participants if p.wrap_up_due and p.agent_id == agent_id), None
        )

    @property
    def involved_agent_ids(self) -> tuple[str, ...]:
        """Agents with a live part in the task: on the call or owing a wrap-up for it. The glance
        view goes by this (an offer is not a task yet)."""
        ids = [p.agent_id for p in self.participants if p.agent_id and (p.present or p.wrap_up_due)]
        return tuple(dict.fromkeys(ids))

    def next_participant_id(self) -> str:
        return f"{self.task_id}.p{len(self.participants) + 1}"

    # --- transitions ----------------------------------------------------------------------------

    def offered(self, offer_id: str, agent_id: str, now: datetime) -> Task:
        self._require(TaskStatus.QUEUED, "only a waiting task is offered")
        return self.changed(
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
        return self.changed(
            status=TaskStatus.QUEUED,
            status_since=now,
            offer_id=None,
            agent_id=None,
            passed_by=passed_by,
        )

    def connected(
        self, now: datetime, *, agent_name: str | None = None, recording: bool = False
    ) -> Task:
        """Answered: the offered agent joins as primary (the customer too, on a first answer)
        and, for a call, recording starts when the policy says so."""
        self._require(TaskStatus.OFFERED, "only an offered task is accepted")
        assert self.agent_id is not None
        participants = list(self.participants)
        # A callback's customer joins only when they answer the dialled call (``domain.callbacks``).
        awaiting_answer = self.callback is not None and not self.callback.answered
        if self.customer_party is None and not awaiting_answer:
            participants.append(
                Participant(
                    participant_id=f"{self.task_id}.p{len(participants) + 1}",
                    role=ParticipantRole.CUSTOMER,
                    joined_at=self.created_at,
                    address=self.customer.address or self.ani,
                    name=self.customer.name or self.customer.customer_id,
                )
            )
        participants.append(
            Participant(
                participant_id=f"{self.task_id}.p{len(participants) + 1}",
                role=ParticipantRole.PRIMARY_AGENT,
                joined_at=now,
                agent_id=self.agent_id,
                name=agent_name,
            )
        )
        started = self.recording
        if started.state is RecordingState.OFF and self.channel is Channel.VOICE:
            started = Recording.started(recording)
        return self.changed(
            status=TaskStatus.CONNECTED,
            status_since=now,
            connected_at=self.connected_at or now,
            participants=tuple(participants),
            recording=started,
        )

    def answered_consult(self, now: datetime) -> Task:
        """A consult request done: its agent joined the call it was asked for."""
        self._require(TaskStatus.OFFERED, "only an offered consult request is accepted")
        return self.changed(
            status=TaskStatus.CLOSED, status_since=now, connected_at=now, ended_at=now
        )

    def called_off(self, now: datetime) -> Task:
        """A consult request nobody will answer: ended, missed, or the call moved on."""
        if self.status not in (TaskStatus.QUEUED, TaskStatus.OFFERED):
            raise InvalidState("the consult request is over", current_state=self.status.value)
        return self.changed(
            status=TaskStatus.CLOSED, status_since=now, ended_at=now, offer_id=None, agent_id=None
        )

    def abandoned(self, now: datetime) -> Task:
        if self.status not in (TaskStatus.QUEUED, TaskStatus.OFFERED):
            raise InvalidState(
                "only a task no agent has answered yet can be abandoned",
                current_state=self.status.value,
            )
        # Nobody holds it any more: the withdrawn offer keeps who it was ringing at. (After a
        # transfer to a queue the customer was on the call: they leave it now.)
        participants = tuple(
            p if not p.present else dataclasses.replace(p, left_at=now, held=False)
            for p in self.participants
        )
        return self.changed(
            status=TaskStatus.ABANDONED,
            status_since=now,
            ended_at=now,
            offer_id=None,
            agent_id=None,
            participants=participants,
        )

    def _require(self, status: TaskStatus, message: str) -> None:
        if self.status is not status:
            raise InvalidState(message, current_state=self.status.value)

    def changed(self, **changes: Any) -> Task:
        """The next version; a status change adds the time spent in the old status to its
        phase (``status_since`` must then be given: the instant of the change)."""
        status = changes.get("status", self.status)
        if status is not self.status:
            now = changes["status_since"]
            changes.setdefault(
                "durations", self.durations.after(self.status, now - self.status_since)
            )
        return dataclasses.replace(self, **changes, version=self.version + 1)
