"""The task's timeline: the events a call move produced, read off the difference between the task
before and after it. Every move, whoever makes it, is told the same way, in the same order:
departures, arrivals, holds, control, consult, conference, recording, status, wrap-up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from domain.identity import Actor
from domain.tasks.consults import Destination
from domain.tasks.events import CallChange, CallEvent
from domain.tasks.participants import Participant, ParticipantRole
from domain.tasks.recording import RecordingState
from domain.tasks.status import TaskStatus
from domain.tasks.task import Task

_RECORDING = {
    RecordingState.RECORDING: CallChange.RECORDING_STARTED,
    RecordingState.PAUSED: CallChange.RECORDING_PAUSED,
    RecordingState.STOPPED: CallChange.RECORDING_STOPPED,
}


def call_events(
    before: Task,
    after: Task,
    *,
    actor: Actor,
    now: datetime,
    transferred_to: Destination | None = None,
    wrap_up_deadline: datetime | None = None,
) -> tuple[CallEvent, ...]:
    base: dict[str, Any] = {
        "org_id": after.org_id,
        "occurred_at": now,
        "actor": actor,
        "task_id": after.task_id,
        "queue_id": after.queue_id,
        "channel": after.channel,
        "status": after.status,
        "version": after.version,
    }

    def event(change: CallChange, party: Participant | None = None, **extra: Any) -> CallEvent:
        if party is not None:
            extra |= {
                "participant_id": party.participant_id,
                "role": party.role,
                "agent_id": party.agent_id,
            }
        return CallEvent(**base, change=change, **extra)

    events = [event(change, party) for change, party in _party_changes(before, after)]
    if transferred_to is not None:
        events.append(event(CallChange.TRANSFERRED, destination=transferred_to))
    events += _consult_changes(before, after, event)
    if before.conference_since is None and after.conference_since is not None:
        events.append(event(CallChange.CONFERENCE_STARTED))
    if before.conference_since is not None and after.conference_since is None:
        events.append(event(CallChange.CONFERENCE_ENDED))
    if after.recording.state is not before.recording.state:
        change = _RECORDING.get(after.recording.state)
        if (
            before.recording.state is RecordingState.PAUSED
            and change is _RECORDING[RecordingState.RECORDING]
        ):
            change = CallChange.RECORDING_RESUMED
        if change is not None:
            events.append(event(change, deadline=after.recording.resumes_at))
    events += _status_changes(before, after, event)
    for party in _wrap_ups_started(before, after):
        events.append(event(CallChange.WRAP_UP_STARTED, party, deadline=wrap_up_deadline))
    for wrap_up in after.wrap_ups[len(before.wrap_ups) :]:
        events.append(
            event(
                CallChange.WRAP_UP_SUBMITTED,
                agent_id=wrap_up.agent_id,
                wrap_up_code_ids=wrap_up.code_ids,
            )
        )
    if after.status is TaskStatus.CLOSED and before.status is not TaskStatus.CLOSED:
        events.append(event(CallChange.CLOSED))
    return tuple(events)


def _party_changes(before: Task, after: Task) -> Iterator[tuple[CallChange, Participant]]:
    previous = {p.participant_id: p for p in before.participants}
    for party in after.participants:
        old = previous.get(party.participant_id)
        if old is None:
            yield CallChange.PARTICIPANT_JOINED, party
            continue
        if old.present and not party.present:
            yield CallChange.PARTICIPANT_LEFT, party
            continue
        if party.held != old.held and party.present:
            yield (CallChange.HELD if party.held else CallChange.RESUMED), party
        if party.role is ParticipantRole.PRIMARY_AGENT and old.role is not party.role:
            yield CallChange.CONTROL_PASSED, party


def _consult_changes(before: Task, after: Task, event: Any) -> Iterator[CallEvent]:
    old, new = before.consult, after.consult
    if old is None and new is not None:
        yield event(CallChange.CONSULT_REQUESTED, destination=new.destination)
    if new is not None and new.connected and (old is None or not old.connected):
        yield event(CallChange.CONSULT_CONNECTED, destination=new.destination)
    if old is not None and new is None:
        yield event(CallChange.CONSULT_ENDED, destination=old.destination)


def _status_changes(before: Task, after: Task, event: Any) -> Iterator[CallEvent]:
    if before.status is after.status:
        return
    if after.status is TaskStatus.POST_CALL:
        yield event(CallChange.POST_CALL_STARTED)
    if after.call_ended_at is not None and before.call_ended_at is None:
        yield event(CallChange.CALL_ENDED)


def _wrap_ups_started(before: Task, after: Task) -> Iterator[Participant]:
    owed = {p.participant_id for p in before.participants if p.wrap_up_due}
    for party in after.participants:
        if party.wrap_up_due and party.participant_id not in owed:
            yield party
