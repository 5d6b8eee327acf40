"""The call as the desktop sees it: participants, consult, recording, wrap-ups and durations of a
task (SPEC §4 to §8)."""

from datetime import datetime

import strawberry

from api.graphql.events import Cause
from domain.tasks import task as domain
from domain.tasks.call import CallParty
from domain.tasks.consults import DestinationKind
from domain.tasks.participants import ParticipantRole
from domain.tasks.recording import RecordingState

CallPartyType = strawberry.enum(CallParty, name="CallParty")
DestinationKindType = strawberry.enum(DestinationKind, name="DestinationKind")
ParticipantRoleType = strawberry.enum(ParticipantRole, name="ParticipantRole")
RecordingStateType = strawberry.enum(RecordingState, name="RecordingState")


@strawberry.type(description="A party on the call, from when they joined to when they left.")
class Participant:
    id: strawberry.ID
    role: ParticipantRole
    agent_id: strawberry.ID | None = strawberry.field(
        description="The agent (or monitoring supervisor)."
    )
    name: str | None
    address: str | None = strawberry.field(description="A dial-number party's number.")
    joined_at: datetime
    left_at: datetime | None
    held: bool
    wrap_up_due: bool = strawberry.field(
        description="This agent still owes a wrap-up for the part of the call they handled."
    )


@strawberry.type(description="Where a consult or transfer goes.")
class Destination:
    kind: DestinationKind
    id: strawberry.ID
    name: str | None
    address: str | None


@strawberry.type(description="The consult in progress: requested, then connected.")
class Consult:
    destination: Destination
    requested_at: datetime
    request_task_id: strawberry.ID | None = strawberry.field(
        description="The CONSULT task routing offers (none for an external dial number)."
    )
    participant_id: strawberry.ID | None
    connected_at: datetime | None


@strawberry.type(description="Who asked for a consult: the 3 default variables of its popover.")
class ConsultRequester:
    agent_id: strawberry.ID
    agent_name: str
    dial_number: str | None
    team_name: str | None


@strawberry.type
class Recording:
    state: RecordingState
    pause_count: int
    paused_at: datetime | None
    resumes_at: datetime | None = strawberry.field(
        description="When a paused recording resumes by itself (server time)."
    )


@strawberry.type
class WrapUp:
    agent_id: strawberry.ID
    wrap_up_code_ids: list[strawberry.ID]
    submitted_at: datetime
    cause: Cause = strawberry.field(description="The agent, or the system's wrap-up timeout.")


@strawberry.type(description="Seconds per phase; handle time is talk + hold + wrap-up.")
class TaskDurations:
    ring_seconds: float
    talk_seconds: float
    hold_seconds: float
    consult_seconds: float
    wrap_up_seconds: float
    handle_seconds: float


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


def destination_of(value: domain.Destination) -> Destination:
    return Destination(
        kind=value.kind, id=strawberry.ID(value.id), name=value.name, address=value.address
    )


def participants_of(task: domain.Task) -> list[Participant]:
    return [
        Participant(
            id=strawberry.ID(p.participant_id),
            role=p.role,
            agent_id=_id(p.agent_id),
            name=p.name,
            address=p.address,
            joined_at=p.joined_at,
            left_at=p.left_at,
            held=p.held,
            wrap_up_due=p.wrap_up_due,
        )
        for p in task.participants
    ]


def consult_of(task: domain.Task) -> Consult | None:
    consult = task.consult
    if consult is None:
        return None
    return Consult(
        destination=destination_of(consult.destination),
        requested_at=consult.requested_at,
        request_task_id=_id(consult.request_task_id),
        participant_id=_id(consult.participant_id),
        connected_at=consult.connected_at,
    )


def requester_of(value: domain.ConsultRequester | None) -> ConsultRequester | None:
    if value is None:
        return None
    return ConsultRequester(
        agent_id=strawberry.ID(value.agent_id),
        agent_name=value.agent_name,
        dial_number=value.dial_number,
        team_name=value.team_name,
    )


def recording_of(task: domain.Task) -> Recording:
    recording = task.recording
    return Recording(
        state=recording.state,
        pause_count=recording.pause_count,
        paused_at=recording.paused_at,
        resumes_at=recording.resumes_at,
    )


def wrap_ups_of(task: domain.Task) -> list[WrapUp]:
    return [
        WrapUp(
            agent_id=strawberry.ID(w.agent_id),
            wrap_up_code_ids=[strawberry.ID(code) for code in w.code_ids],
            submitted_at=w.submitted_at,
            cause=Cause(kind=w.by.kind, id=w.by.id),
        )
        for w in task.wrap_ups
    ]


def durations_of(task: domain.Task) -> TaskDurations:
    d = task.durations
    return TaskDurations(
        ring_seconds=d.ring,
        talk_seconds=d.talk,
        hold_seconds=d.hold,
        consult_seconds=d.consult,
        wrap_up_seconds=d.wrap_up,
        handle_seconds=d.handle,
    )
