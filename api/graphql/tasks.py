"""Tasks as the desktop sees them (SPEC §4): one task by id, and the glance view of my work."""

from datetime import datetime

import strawberry

from api.graphql.cad_types import CadValue, cad_value_of
from api.graphql.call_types import (
    Consult,
    ConsultRequester,
    Participant,
    Recording,
    TaskDurations,
    WrapUp,
    consult_of,
    durations_of,
    participants_of,
    recording_of,
    requester_of,
    wrap_ups_of,
)
from api.graphql.callback_types import TaskCallbackView, task_callback_of
from api.graphql.configuration.entry_points import EntryPoint
from api.graphql.configuration.profiles import ChannelType, DirectionType  # noqa: F401 - enums
from api.graphql.configuration.queues import Queue
from api.graphql.configuration.references import load_one
from api.graphql.context import Info
from api.graphql.messages import ConferenceStateType, Message, message_page  # noqa: F401
from api.graphql.permissions import IsAgent, IsAuthenticated
from api.graphql.relay import Connection
from api.graphql.task_events import TaskHistoryEntry, task_history
from domain.channels import PHONE_ADDRESSED_CHANNELS, Channel, Direction
from domain.configuration.base import ConfigKind
from domain.identity import Principal, Role
from domain.messaging.chat import ConferenceState, conference_state
from domain.tasks import task as domain
from domain.tasks.offers import masked
from domain.tasks.task import TaskKind, TaskStatus

TaskStatusType = strawberry.enum(TaskStatus, name="TaskStatus")
TaskKindType = strawberry.enum(TaskKind, name="TaskKind")


async def masks_numbers(info: Info) -> bool:
    """Under sensitive-data protection agents see customers' numbers masked to the last 4
    digits; supervisors, admins and connectors see them whole."""
    principal = info.context.require_principal()
    if principal.has_any(Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION):
        return False
    policies = await info.context.loaders.policies(principal.org_id)
    return policies.mask_caller_number


@strawberry.type(description="Who the customer is, as far as the connector knows.")
class Customer:
    name: str | None
    customer_id: str | None
    number_address: strawberry.Private[bool]
    raw_address: strawberry.Private[str | None]

    @strawberry.field(
        description="Phone number, email address or handle the contact came from (a number is "
        "masked to its last 4 digits for agents under sensitive-data protection)."
    )
    async def address(self, info: Info) -> str | None:
        if self.number_address and await masks_numbers(info):
            return masked(self.raw_address)
        return self.raw_address


@strawberry.type(description="A line of the chat bot's conversation before the hand-over.")
class TranscriptLine:
    sender: str
    text: str
    sent_at: datetime


@strawberry.type(description="One customer interaction on one channel (SPEC §4).")
class Task:
    id: strawberry.ID
    channel: Channel
    direction: Direction
    kind: TaskKind
    status: TaskStatus
    status_since: datetime
    entry_point_id: strawberry.ID
    queue_id: strawberry.ID
    customer: Customer
    raw_ani: strawberry.Private[str | None]
    dnis: str | None
    subject: str | None
    cad: list[CadValue] = strawberry.field(
        description="Call-associated data as last saved (by the connector, the flow or agents), "
        "each with its version; secure values read `*****`."
    )
    transcript: list[TranscriptLine]
    priority: int
    created_at: datetime
    queued_at: datetime = strawberry.field(
        description="When the task entered its queue; a decline or RONA does not reset it."
    )
    agent_id: strawberry.ID | None = strawberry.field(
        description="The agent it is offered to or connected with."
    )
    offer_id: strawberry.ID | None = strawberry.field(description="The pending offer, if any.")
    offer_count: int
    connected_at: datetime | None
    ended_at: datetime | None
    version: int
    conference_since: datetime | None
    call_ended_at: datetime | None
    parent_task_id: strawberry.ID | None = strawberry.field(
        description="A CONSULT task: the call it was asked for."
    )
    raw: strawberry.Private[domain.Task]

    @strawberry.field(description="Everyone who is or was on the call, in joining order.")
    def participants(self) -> list[Participant]:
        return participants_of(self.raw)

    @strawberry.field(description="The consult in progress, if any.")
    def consult(self) -> Consult | None:
        return consult_of(self.raw)

    @strawberry.field(description="A CONSULT task: the agent who asked for it.")
    def requester(self) -> ConsultRequester | None:
        return requester_of(self.raw.requester)

    @strawberry.field
    def recording(self) -> Recording:
        return recording_of(self.raw)

    @strawberry.field(description="Wrap-ups given so far, one per agent part.")
    def wrap_ups(self) -> list[WrapUp]:
        return wrap_ups_of(self.raw)

    @strawberry.field
    def durations(self) -> TaskDurations:
        return durations_of(self.raw)

    @strawberry.field(description="A CALLBACK task: its kind, number, reason and dialling.")
    def callback(self) -> TaskCallbackView | None:
        return task_callback_of(self.raw.callback)

    @strawberry.field(description="A personal callback: the agent it is offered to first.")
    def preferred_agent_id(self) -> strawberry.ID | None:
        agent_id = self.raw.preferred_agent_id
        return None if agent_id is None else strawberry.ID(agent_id)

    @strawberry.field(
        description="The omnichannel contact session (SPEC §11): an elevation shares its "
        "source's; any other task is a session of its own (its own id)."
    )
    def session_id(self) -> strawberry.ID:
        return strawberry.ID(self.raw.session)

    @strawberry.field(
        description="A digital interaction put aside for a new contact (a call is held through "
        "its customer instead)."
    )
    def held(self) -> bool:
        return self.raw.held

    @strawberry.field(
        description="Digital tasks: the conversation, oldest first, paged (the cursor is a "
        "message's `seq`). The bot's lines before the hand-over are in `transcript`."
    )
    async def messages(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Message]:
        return await message_page(info, self.raw, first, after)

    @strawberry.field(
        description="Chat: CONFERENCE_REQUESTED while another agent is being asked in, then "
        "CONFERENCE; NONE otherwise."
    )
    def conference_state(self) -> ConferenceState:
        return conference_state(self.raw)

    @strawberry.field(description="The task's timeline as stored (oldest first).")
    async def history(self, info: Info) -> list[TaskHistoryEntry]:
        return await task_history(info, self.raw)

    @strawberry.field(
        description="Voice: the caller's number (masked to its last 4 digits for agents under "
        "sensitive-data protection)."
    )
    async def ani(self, info: Info) -> str | None:
        return masked(self.raw_ani) if await masks_numbers(info) else self.raw_ani

    @strawberry.field(description="Seconds since the task entered its queue, by the server.")
    def waited_seconds(self, info: Info) -> int:
        now = info.context.services.clock.now()
        return max(0, int((now - self.queued_at).total_seconds()))

    @strawberry.field
    async def queue(self, info: Info) -> Queue | None:
        queue = await load_one(info, str(self.queue_id), ConfigKind.QUEUE)
        return None if queue is None else Queue.from_entity(queue)

    @strawberry.field
    async def entry_point(self, info: Info) -> EntryPoint | None:
        entry_point = await load_one(info, str(self.entry_point_id), ConfigKind.ENTRY_POINT)
        return None if entry_point is None else EntryPoint.from_entity(entry_point)

    @classmethod
    def from_domain(cls, task: domain.Task) -> "Task":
        return cls(
            id=strawberry.ID(task.task_id),
            channel=task.channel,
            direction=task.direction,
            kind=task.kind,
            status=task.status,
            status_since=task.status_since,
            entry_point_id=strawberry.ID(task.entry_point_id),
            queue_id=strawberry.ID(task.queue_id),
            customer=Customer(
                name=task.customer.name,
                customer_id=task.customer.customer_id,
                number_address=task.channel in PHONE_ADDRESSED_CHANNELS,
                raw_address=task.customer.address,
            ),
            raw_ani=task.ani,
            dnis=task.dnis,
            subject=task.subject,
            cad=[cad_value_of(task.org_id, entry) for entry in task.cad],
            transcript=[
                TranscriptLine(sender=line.sender, text=line.text, sent_at=line.sent_at)
                for line in task.transcript
            ],
            priority=task.priority,
            created_at=task.created_at,
            queued_at=task.queued_at,
            agent_id=None if task.agent_id is None else strawberry.ID(task.agent_id),
            offer_id=None if task.offer_id is None else strawberry.ID(task.offer_id),
            offer_count=task.offer_count,
            connected_at=task.connected_at,
            ended_at=task.ended_at,
            version=task.version,
            conference_since=task.conference_since,
            call_ended_at=task.call_ended_at,
            parent_task_id=None
            if task.parent_task_id is None
            else strawberry.ID(task.parent_task_id),
            raw=task,
        )


@strawberry.type(description="The glance view: my active tasks of one channel.")
class ChannelTasks:
    channel: Channel
    tasks: list[Task]


def may_see(principal: Principal, task: domain.Task) -> bool:
    """Supervisors, admins and connectors see every task of their organization; an agent only the
    tasks offered to them or that they are or were on."""
    if principal.has_any(Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION):
        return True
    return task.agent_id == principal.subject or any(
        p.agent_id == principal.subject for p in task.participants
    )


@strawberry.type
class TasksQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A task by id; null when it does not exist or is not yours to see.",
    )
    async def task(self, info: Info, id: strawberry.ID) -> Task | None:
        principal = info.context.require_principal()
        task = await info.context.services.tasks.task(principal.org_id, str(id))
        if task is None or not may_see(principal, task):
            return None
        return Task.from_domain(task)

    @strawberry.field(
        permission_classes=[IsAgent],
        description="The glance view: your active tasks grouped by channel, channels in a fixed "
        "order, tasks by when they connected.",
    )
    async def my_tasks(self, info: Info) -> list[ChannelTasks]:
        principal = info.context.require_principal()
        tasks = await info.context.services.tasks.active_tasks(principal.org_id, principal.subject)
        return [
            ChannelTasks(
                channel=channel,
                tasks=[Task.from_domain(task) for task in tasks if task.channel is channel],
            )
            for channel in Channel
            if any(task.channel is channel for task in tasks)
        ]
