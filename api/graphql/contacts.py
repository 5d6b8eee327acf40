"""What connectors report (integration role): a new contact at an entry point, and a customer who
left before an agent answered."""

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.graphql.context import Info
from api.graphql.errors import (
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
    to_error,
)
from api.graphql.mutations import id_for_retry, run_use_case
from api.graphql.permissions import IsIntegration
from api.graphql.tasks import Task
from domain.configuration.queues import DEFAULT_PRIORITY
from domain.errors import DomainError
from domain.identity import Principal
from domain.tasks.task import CadValue, Customer, TranscriptLine
from domain.usecases import contacts as usecases


@strawberry.input
class CustomerInput:
    name: str | None = None
    customer_id: str | None = None
    address: str | None = strawberry.field(
        default=None, description="Email address (email), number (SMS), handle (social, chat)."
    )


@strawberry.input
class CadValueInput:
    name: str = strawberry.field(description="A CAD variable defined for the organization.")
    value: str = strawberry.field(description="As a string, valid for the variable's type.")


@strawberry.input
class TranscriptLineInput:
    sender: str
    text: str
    sent_at: datetime


@strawberry.input(
    description="A new contact at an inbound entry point; the channel is the entry point's."
)
class ReportContactInput:
    entry_point_id: strawberry.ID
    customer: CustomerInput | None = None
    ani: str | None = strawberry.field(default=None, description="Voice: the caller's number.")
    dnis: str | None = strawberry.field(default=None, description="Voice: the number dialled.")
    subject: str | None = None
    priority: int = strawberry.field(
        default=DEFAULT_PRIORITY, description="1 is served first, 10 last, within its queue."
    )
    cad: list[CadValueInput] = strawberry.field(default_factory=list)
    transcript: list[TranscriptLineInput] = strawberry.field(
        default_factory=list, description="Chat: the bot's conversation before the hand-over."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeat a report with the same key within 24 h: the first task is returned "
        "and no second one is made.",
    )


@strawberry.input
class AbandonContactInput:
    task_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type(description="The task, QUEUED — or OFFERED already when an agent was free.")
class ReportContactSuccess:
    task: Task


@strawberry.type(description="The task, ABANDONED; a pending offer was withdrawn.")
class AbandonContactSuccess:
    task: Task


_ERRORS = (ValidationError, InvalidStateError, NotFoundError, ForbiddenError)
ReportContactResult = Annotated[
    Union[(ReportContactSuccess, *_ERRORS)],
    strawberry.union("ReportContactResult"),
]
AbandonContactResult = Annotated[
    Union[(AbandonContactSuccess, *_ERRORS)],
    strawberry.union("AbandonContactResult"),
]


def _command(principal: Principal, input: ReportContactInput) -> usecases.ReportContact:
    customer = input.customer or CustomerInput()
    return usecases.ReportContact(
        principal=principal,
        entry_point_id=str(input.entry_point_id),
        customer=Customer(
            name=customer.name, customer_id=customer.customer_id, address=customer.address
        ),
        ani=input.ani,
        dnis=input.dnis,
        subject=input.subject,
        priority=input.priority,
        cad=tuple(CadValue(entry.name, entry.value) for entry in input.cad),
        transcript=tuple(
            TranscriptLine(line.sender, line.text, line.sent_at) for line in input.transcript
        ),
        task_id=id_for_retry(principal, "reportContact", input.idempotency_key),
    )


@strawberry.type
class ContactsMutation:
    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="A connector reports a new contact; the task is queued and offered as soon "
        "as an agent can take it.",
    )
    async def report_contact(self, info: Info, input: ReportContactInput) -> ReportContactResult:
        try:
            command = _command(info.context.require_principal(), input)
            task = await run_use_case(
                info, "reportContact", usecases.report_contact, command, input.idempotency_key
            )
        except DomainError as error:
            return to_error(error)
        return ReportContactSuccess(task=Task.from_domain(task))

    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="The customer left before an agent answered (INVALID_STATE once one did).",
    )
    async def abandon_contact(self, info: Info, input: AbandonContactInput) -> AbandonContactResult:
        try:
            command = usecases.AbandonContact(info.context.require_principal(), str(input.task_id))
            task = await run_use_case(
                info, "abandonContact", usecases.abandon_contact, command, input.idempotency_key
            )
        except DomainError as error:
            return to_error(error)
        return AbandonContactSuccess(task=Task.from_domain(task))
