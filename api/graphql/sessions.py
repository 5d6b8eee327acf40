"""Omnichannel sessions (SPEC §11; seed 003): the glance view of my workload, a contact session
with each interaction's disposition, elevation, and "new" instead of elevating."""

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.graphql.context import Info
from api.graphql.errors import (
    TASK_ERRORS,
    to_error,
)
from api.graphql.idempotency import KEY_HELP
from api.graphql.messages import Message
from api.graphql.mutations import id_for_retry, run_use_case
from api.graphql.permissions import IsAgent, IsAuthenticated
from api.graphql.tasks import Task
from domain.channels import Channel, Direction
from domain.errors import DomainError
from domain.identity import Principal
from domain.messaging.message import Message as DomainMessage
from domain.sessions import session as domain
from domain.sessions.session import SessionStatus
from domain.tasks import task as tasks
from domain.usecases import elevation, history

SessionStatusType = strawberry.enum(SessionStatus, name="SessionStatus")


@strawberry.input(description="Elevate to email: To, Subject and a body are required.")
class EmailTargetInput:
    to: str
    subject: str
    text: str | None = None
    html: str | None = None
    entry_point_id: strawberry.ID | None = None


@strawberry.input(description="Elevate to voice: the number to dial and the outbound skill.")
class CallTargetInput:
    number: str
    queue_id: strawberry.ID = strawberry.field(description="The voice queue (outbound skill).")


@strawberry.input(description="Elevate to SMS: the number and the SMS skill; text optional.")
class SmsTargetInput:
    number: str = strawberry.field(description="With its country code (+...).")
    queue_id: strawberry.ID = strawberry.field(description="The SMS queue (SMS skill).")
    text: str | None = None
    entry_point_id: strawberry.ID | None = None


def _message(message: DomainMessage | None) -> Message | None:
    return None if message is None else Message.from_domain(message)


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


@strawberry.input(description="The channel, and the input of that channel only.")
class NewInteractionInput:
    task_id: strawberry.ID = strawberry.field(description="The interaction you are handling.")
    channel: Channel
    email: EmailTargetInput | None = None
    voice: CallTargetInput | None = None
    sms: SmsTargetInput | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)

    def target(self, principal: Principal, operation: str) -> elevation.NewInteraction:
        email, voice, sms = self.email, self.voice, self.sms
        return elevation.NewInteraction(
            channel=self.channel,
            email=None
            if email is None
            else elevation.EmailTarget(
                email.to, email.subject, email.text, email.html, _id(email.entry_point_id)
            ),
            voice=None
            if voice is None
            else elevation.CallTarget(voice.number, str(voice.queue_id)),
            sms=None
            if sms is None
            else elevation.SmsTarget(
                sms.number, str(sms.queue_id), sms.text, _id(sms.entry_point_id)
            ),
            task_id=id_for_retry(principal, operation, self.idempotency_key),
        )


@strawberry.input
class ResumeContactInput:
    task_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.type(description="The new interaction, in the elevated contact's session.")
class ElevateContactSuccess:
    source: Task
    task: Task
    first_message: Message | None


@strawberry.type(description="The new contact (a session of its own) and the one put on hold.")
class StartNewContactSuccess:
    held: Task
    task: Task
    first_message: Message | None


@strawberry.type
class ResumeContactSuccess:
    task: Task


ElevateContactResult = Annotated[
    Union[(ElevateContactSuccess, *TASK_ERRORS)], strawberry.union("ElevateContactResult")
]
StartNewContactResult = Annotated[
    Union[(StartNewContactSuccess, *TASK_ERRORS)], strawberry.union("StartNewContactResult")
]
ResumeContactResult = Annotated[
    Union[(ResumeContactSuccess, *TASK_ERRORS)], strawberry.union("ResumeContactResult")
]


@strawberry.type(description="One interaction of a session: where it stands, its disposition.")
class SessionInteraction:
    task: Task
    channel: Channel
    status: tasks.TaskStatus
    disposition: list[strawberry.ID] = strawberry.field(
        description="The wrap-up codes given for it (each interaction needs its own)."
    )
    awaiting_disposition: bool


@strawberry.type(
    description="A contact across channels: ACTIVE until every interaction has ended and been "
    "wrapped up, then COMPLETE."
)
class ContactSession:
    id: strawberry.ID
    status: SessionStatus
    completed_at: datetime | None
    interactions: list[SessionInteraction]

    @classmethod
    def from_domain(cls, session: domain.ContactSession) -> "ContactSession":
        return cls(
            id=strawberry.ID(session.session_id),
            status=session.status,
            completed_at=session.completed_at,
            interactions=[
                SessionInteraction(
                    task=Task.from_domain(task),
                    channel=task.channel,
                    status=task.status,
                    disposition=[strawberry.ID(code) for code in domain.disposition(task)],
                    awaiting_disposition=domain.awaiting_disposition(task),
                )
                for task in session.interactions
            ],
        )


@strawberry.type(description="My active tasks of one channel against my profile's limits.")
class ChannelWorkload:
    channel: Channel
    max_concurrent: int
    max_outbound: int
    active_count: int
    outbound_count: int
    pending_offers: int
    tasks: list[Task]


@strawberry.type(description="The glance view: every channel of my profile, with its tasks.")
class Workload:
    active_task_count: int
    channels: list[ChannelWorkload]


@strawberry.type
class SessionsQuery:
    @strawberry.field(
        permission_classes=[IsAgent],
        description="The glance view: your active tasks grouped by channel, with the counts "
        "against your profile (null when you are not logged in).",
    )
    async def my_workload(self, info: Info) -> Workload | None:
        principal = info.context.require_principal()
        services = info.context.services
        session = await services.agent_sessions.get(principal.org_id, principal.subject)
        if session is None or not session.logged_in:
            return None
        active = await services.tasks.active_tasks(principal.org_id, principal.subject)
        channels = []
        for capacity in session.routing.capacities:
            mine = [t for t in active if t.channel is capacity.channel]
            channels.append(
                ChannelWorkload(
                    channel=capacity.channel,
                    max_concurrent=capacity.max_concurrent,
                    max_outbound=capacity.max_outbound,
                    active_count=len(mine),
                    outbound_count=sum(t.direction is Direction.OUTBOUND for t in mine),
                    pending_offers=session.offers_on(capacity.channel),
                    tasks=[Task.from_domain(t) for t in mine],
                )
            )
        return Workload(active_task_count=len(active), channels=channels)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A contact session by id (a task's `sessionId`); null when none or, for an "
        "agent, none of its interactions was yours.",
    )
    async def contact_session(self, info: Info, id: strawberry.ID) -> ContactSession | None:
        principal = info.context.require_principal()
        found = await info.context.services.runner.run(
            history.contact_session, history.GetContactSession(principal, str(id))
        )
        return None if found is None else ContactSession.from_domain(found)


@strawberry.type
class SessionsMutation:
    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Raise the contact to another channel within its session (chat → email, "
        "voice, SMS; email → voice, SMS; voice → email, SMS; work item and voicemail → email, "
        "voice, SMS; SMS → email, voice); anything else is ELEVATION_NOT_ALLOWED.",
    )
    async def elevate_contact(self, info: Info, input: NewInteractionInput) -> ElevateContactResult:
        principal = info.context.require_principal()
        try:
            command = elevation.ElevateContact(
                principal, str(input.task_id), input.target(principal, "elevateContact")
            )
            made = await run_use_case(
                info, "elevateContact", elevation.elevate_contact, command, input.idempotency_key
            )
        except DomainError as error:
            return to_error(error)
        return ElevateContactSuccess(
            source=Task.from_domain(made.source),
            task=Task.from_domain(made.task),
            first_message=_message(made.message),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description='"New" instead of elevating: the interaction you handle goes on hold and '
        "an unrelated contact starts (a session of its own).",
    )
    async def start_new_contact(
        self, info: Info, input: NewInteractionInput
    ) -> StartNewContactResult:
        principal = info.context.require_principal()
        try:
            command = elevation.StartNewContact(
                principal, str(input.task_id), input.target(principal, "startNewContact")
            )
            made = await run_use_case(
                info, "startNewContact", elevation.start_new_contact, command, input.idempotency_key
            )
        except DomainError as error:
            return to_error(error)
        return StartNewContactSuccess(
            held=Task.from_domain(made.source),
            task=Task.from_domain(made.task),
            first_message=_message(made.message),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Back to an interaction put on hold for a new contact.",
    )
    async def resume_contact(self, info: Info, input: ResumeContactInput) -> ResumeContactResult:
        principal = info.context.require_principal()
        try:
            command = elevation.ResumeContact(principal, str(input.task_id))
            task = await run_use_case(
                info, "resumeContact", elevation.resume_contact, command, input.idempotency_key
            )
        except DomainError as error:
            return to_error(error)
        return ResumeContactSuccess(task=Task.from_domain(task))
