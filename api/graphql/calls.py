"""Call control mutations (SPEC §5, §6, §8): one per move, each taking one input and returning its
own result union — the changed task, or a typed error."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Union

import strawberry
from strawberry.types.field import StrawberryField

from api.graphql.call_types import CallPartyType, DestinationKindType  # noqa: F401 - enums
from api.graphql.context import Info
from api.graphql.errors import (
    TASK_ERRORS,
    to_error,
)
from api.graphql.idempotency import KEY_HELP, idempotency_key
from api.graphql.permissions import IsAgent, IsIntegration, IsSupervisorOrAdmin
from api.graphql.tasks import Task
from domain.errors import DomainError
from domain.identity import Principal
from domain.tasks.call import CallParty
from domain.tasks.consults import DestinationKind
from domain.usecases import calls, consults, transfers, wrap_up


@strawberry.input(description="An agent, a queue, an entry point or a dial number, by id.")
class DestinationInput:
    kind: DestinationKind
    id: strawberry.ID


@strawberry.input
class TaskInput:
    task_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class CallPartyInput:
    task_id: strawberry.ID
    party: CallParty = CallParty.CUSTOMER
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class ConsultCallInput:
    task_id: strawberry.ID
    destination: DestinationInput
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class TransferCallInput:
    task_id: strawberry.ID
    destination: DestinationInput | None = strawberry.field(
        default=None, description="Omit to hand the call to the connected consult's party."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class SubmitWrapUpInput:
    task_id: strawberry.ID
    wrap_up_code_ids: list[strawberry.ID] = strawberry.field(
        description="Exactly one for a call; one or more for digital work."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@dataclass(frozen=True)
class _Move:
    name: str
    input_type: type
    handler: Callable[..., Any]
    command: Callable[[Principal, Any], Any]
    permission: type
    description: str


def _task(principal: Principal, data: Any) -> dict[str, Any]:
    return {"principal": principal, "task_id": str(data.task_id)}


def _consult(principal: Principal, data: ConsultCallInput) -> consults.ConsultCall:
    return consults.ConsultCall(
        **_task(principal, data),
        kind=data.destination.kind,
        destination_id=str(data.destination.id),
    )


def _transfer(principal: Principal, data: TransferCallInput) -> transfers.TransferCall:
    target = data.destination
    return transfers.TransferCall(
        **_task(principal, data),
        kind=None if target is None else target.kind,
        destination_id=None if target is None else str(target.id),
    )


_MOVES = (
    _Move(
        "holdCall",
        CallPartyInput,
        calls.hold_call,
        lambda p, d: calls.HoldCall(**_task(p, d), party=d.party),
        IsAgent,
        "Hold the customer (or, `party: CONSULT`, the consulted party).",
    ),
    _Move(
        "resumeCall",
        CallPartyInput,
        calls.resume_call,
        lambda p, d: calls.ResumeCall(**_task(p, d), party=d.party),
        IsAgent,
        "Take a party off hold; during a consult the other side is held.",
    ),
    _Move(
        "consultCall",
        ConsultCallInput,
        consults.consult_call,
        _consult,
        IsAgent,
        "Consult an agent, queue, entry point or dial number; the customer is held.",
    ),
    _Move(
        "endConsult",
        TaskInput,
        consults.end_consult,
        lambda p, d: consults.EndConsult(**_task(p, d)),
        IsAgent,
        "The primary agent ends the consult (a ringing request is called off).",
    ),
    _Move(
        "exitConsult",
        TaskInput,
        consults.exit_consult,
        lambda p, d: consults.ExitConsult(**_task(p, d)),
        IsAgent,
        "The consulted agent leaves; the call goes on between the primary and the customer.",
    ),
    _Move(
        "startConference",
        TaskInput,
        consults.start_conference,
        lambda p, d: consults.StartConference(**_task(p, d)),
        IsAgent,
        "Turn the connected consult into a conference (at most 8 parties).",
    ),
    _Move(
        "exitConference",
        TaskInput,
        consults.exit_conference,
        lambda p, d: consults.ExitConference(**_task(p, d)),
        IsAgent,
        "Leave the conference; the primary agent's control passes to the agent present longest.",
    ),
    _Move(
        "transferCall",
        TransferCallInput,
        transfers.transfer_call,
        _transfer,
        IsAgent,
        "Transfer to the consulted party, a queue, an entry point, or blind to an agent or a "
        "dial number; the transferring agent wraps up.",
    ),
    _Move(
        "pauseRecording",
        TaskInput,
        calls.pause_recording,
        lambda p, d: calls.PauseRecording(**_task(p, d)),
        IsAgent,
        "Pause the recording; it resumes by itself after the organization's pause duration.",
    ),
    _Move(
        "resumeRecording",
        TaskInput,
        calls.resume_recording,
        lambda p, d: calls.ResumeRecording(**_task(p, d)),
        IsAgent,
        "Resume a paused recording before its pause runs out.",
    ),
    _Move(
        "endCall",
        TaskInput,
        calls.end_call,
        lambda p, d: calls.EndCall(**_task(p, d)),
        IsAgent,
        "End the call (CALL_ON_HOLD while the customer is held); the primary agent wraps up.",
    ),
    _Move(
        "submitWrapUp",
        SubmitWrapUpInput,
        wrap_up.submit_wrap_up,
        lambda p, d: wrap_up.SubmitWrapUp(
            **_task(p, d), code_ids=tuple(str(code) for code in d.wrap_up_code_ids)
        ),
        IsAgent,
        "Wrap up your part of the task; your capacity is freed and routing runs again.",
    ),
    _Move(
        "reportCustomerLeft",
        TaskInput,
        calls.report_customer_left,
        lambda p, d: calls.ReportCustomerLeft(**_task(p, d)),
        IsIntegration,
        "The customer hung up; with agents remaining the call goes on in POST_CALL.",
    ),
    _Move(
        "monitorCall",
        TaskInput,
        calls.monitor_call,
        lambda p, d: calls.MonitorCall(**_task(p, d)),
        IsSupervisorOrAdmin,
        "A supervisor joins the call silently, with no control.",
    ),
    _Move(
        "stopMonitoring",
        TaskInput,
        calls.stop_monitoring,
        lambda p, d: calls.StopMonitoring(**_task(p, d)),
        IsSupervisorOrAdmin,
        "The supervisor leaves the call.",
    ),
)


def _field(move: _Move) -> StrawberryField:
    noun = move.name[0].upper() + move.name[1:]
    success = strawberry.type(
        type(f"{noun}Success", (), {"__annotations__": {"task": Task}}),
        description="The task as the move left it.",
    )
    result = Annotated[Union[(success, *TASK_ERRORS)], strawberry.union(f"{noun}Result")]
    input_type = move.input_type

    async def resolve(info: Info, input: input_type) -> result:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        try:
            key = idempotency_key(principal, move.name, input.idempotency_key)  # type: ignore[attr-defined]
            command = move.command(principal, input)
            task = await info.context.services.runner.run(
                move.handler, command, idempotency_key=key
            )
        except DomainError as error:
            return to_error(error)
        return success(task=Task.from_domain(task))  # type: ignore[call-arg]

    return strawberry.mutation(
        resolver=resolve, permission_classes=[move.permission], description=move.description
    )


CallsMutation = strawberry.type(
    type("CallsMutation", (), {move.name: _field(move) for move in _MOVES})
)
