"""A task's timeline: ``taskEvents(taskId)`` live and resumable, and ``Task.history`` as stored."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.graphql.cad_types import CadVariableRevealed, CadVariablesSaved, timeline_entry
from api.graphql.call_types import Destination, destination_of
from api.graphql.context import Info
from api.graphql.events import Event, ResyncRequired, event_fields, stream_events
from api.graphql.messages import MessageDeliveryChanged, MessagePosted, message_event
from api.graphql.permissions import AccessDenied, IsAuthenticated
from domain.events import StoredEvent
from domain.identity import Role
from domain.sessions import events as session_events
from domain.streams import task_stream
from domain.tasks import events as task_events
from domain.tasks.events import CallChange, QueuedBecause
from domain.tasks.participants import ParticipantRole
from domain.tasks.status import TaskStatus

if TYPE_CHECKING:
    from domain.tasks.task import Task

CallChangeType = strawberry.enum(CallChange, name="CallChange")
QueuedBecauseType = strawberry.enum(QueuedBecause, name="QueuedBecause")


class TaskLifecycleChange(StrEnum):
    QUEUED = "QUEUED"
    OFFERED = "OFFERED"
    CONNECTED = "CONNECTED"
    ABANDONED = "ABANDONED"


TaskLifecycleChangeType = strawberry.enum(TaskLifecycleChange, name="TaskLifecycleChange")


@strawberry.type(description="The task entered a queue, was offered, answered or abandoned.")
class TaskLifecycleEvent(Event):
    change: TaskLifecycleChange
    status: TaskStatus
    version: int
    queue_id: strawberry.ID
    agent_id: strawberry.ID | None
    offer_id: strawberry.ID | None
    because: QueuedBecause | None = strawberry.field(
        description="QUEUED: new, declined, RONA, or taken back by the system."
    )


@strawberry.type(description="A change on the call; `change` says which.")
class CallEvent(Event):
    change: CallChange
    status: TaskStatus
    version: int
    participant_id: strawberry.ID | None
    role: ParticipantRole | None
    agent_id: strawberry.ID | None
    destination: Destination | None
    wrap_up_code_ids: list[strawberry.ID]
    deadline: datetime | None = strawberry.field(
        description="When a paused recording resumes, or a wrap-up times out."
    )


@strawberry.type(
    description="Every interaction of the task's contact session has ended and been wrapped up "
    "(SPEC §11); told on the timeline of each of them."
)
class ContactSessionCompleted(Event):
    session_id: strawberry.ID
    task_ids: list[strawberry.ID]
    completed_at: datetime


TaskHistoryEntry = Annotated[
    TaskLifecycleEvent
    | CallEvent
    | ContactSessionCompleted
    | CadVariablesSaved
    | CadVariableRevealed
    | MessagePosted
    | MessageDeliveryChanged,
    strawberry.union("TaskHistoryEntry"),
]
TaskEvent = Annotated[
    TaskLifecycleEvent
    | CallEvent
    | ContactSessionCompleted
    | CadVariablesSaved
    | CadVariableRevealed
    | MessagePosted
    | MessageDeliveryChanged
    | ResyncRequired,
    strawberry.union("TaskEvent"),
]

_LIFECYCLE = {
    task_events.TaskQueued: TaskLifecycleChange.QUEUED,
    task_events.TaskOffered: TaskLifecycleChange.OFFERED,
    task_events.TaskConnected: TaskLifecycleChange.CONNECTED,
    task_events.TaskAbandoned: TaskLifecycleChange.ABANDONED,
}


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


def to_graphql(stored: StoredEvent) -> Any:
    event = stored.event
    cad = timeline_entry(stored)
    if cad is not None:
        return cad
    message = message_event(stored)
    if message is not None:
        return message
    if isinstance(event, session_events.ContactSessionCompleted):
        return ContactSessionCompleted(
            **event_fields(stored),
            session_id=strawberry.ID(event.session_id),
            task_ids=[strawberry.ID(task_id) for task_id in event.task_ids],
            completed_at=event.completed_at,
        )
    if isinstance(event, task_events.CallEvent):
        return CallEvent(
            **event_fields(stored),
            change=event.change,
            status=event.status,
            version=event.version,
            participant_id=_id(event.participant_id),
            role=event.role,
            agent_id=_id(event.agent_id),
            destination=None if event.destination is None else destination_of(event.destination),
            wrap_up_code_ids=[strawberry.ID(code) for code in event.wrap_up_code_ids],
            deadline=event.deadline,
        )
    change = _LIFECYCLE.get(type(event))
    if change is None or not isinstance(event, task_events.TaskEvent):
        return None
    fields: dict[str, Any] = vars(event)
    return TaskLifecycleEvent(
        **event_fields(stored),
        change=change,
        status=event.status,
        version=event.version,
        queue_id=strawberry.ID(event.queue_id),
        agent_id=_id(fields.get("agent_id")),
        offer_id=_id(fields.get("offer_id")),
        because=fields.get("because"),
    )


async def task_history(info: Info, task: Task) -> list[Any]:
    reader = info.context.services.events
    entries = []
    async for stored in reader.read(task_stream(task.org_id, task.task_id), after=0):
        converted = to_graphql(stored)
        if converted is not None:
            entries.append(converted)
    return entries


@strawberry.type
class TaskEventsSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="The timeline of one task, live: lifecycle, call and CAD changes. Agents follow "
        "tasks they are or were on; supervisors, admins and connectors any of the organization. "
        "Pass `after` (the last `seq` seen) to resume.",
    )
    async def task_events(
        self, info: Info, task_id: strawberry.ID, after: int | None = None
    ) -> AsyncGenerator[TaskEvent, None]:  # type: ignore[valid-type]
        from api.graphql.tasks import may_see

        principal = info.context.require_principal()
        task = await info.context.services.tasks.task(principal.org_id, str(task_id))
        if (task is None or not may_see(principal, task)) and not principal.has_any(
            Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION
        ):
            raise AccessDenied("no such task of yours", "NOT_FOUND")
        async for item in stream_events(
            info, task_stream(principal.org_id, str(task_id)), after, to_graphql
        ):
            yield item
