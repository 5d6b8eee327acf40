"""CAD variables (SPEC §7, seed 002): agents save against versions, the flow updates, a secure value
is revealed on request (audited), and ``cadConflicts`` tells an agent whose save lost."""

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry

from api.graphql.cad_types import (
    CadConflict,
    CadConflictNotice,
    CadValue,
    cad_value_of,
    conflict_of,
)
from api.graphql.cad_types import conflict_notice as to_notice
from api.graphql.context import Info
from api.graphql.errors import (
    Error,
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
    to_error,
)
from api.graphql.events import ResyncRequired, stream_events
from api.graphql.idempotency import KEY_HELP, idempotency_key
from api.graphql.permissions import IsAgent, IsIntegration
from api.graphql.tasks import Task, may_see
from domain.errors import DomainError, ErrorCode
from domain.streams import cad_conflicts_stream
from domain.tasks.cad import CadEdit
from domain.usecases import cad as usecases

_SAVE_HELP = (
    "Save CAD variables of a task you are on (primary, consulted or conference agent), each "
    "against the `version` you read (`expectedVersion`; 0 when it had no value). Per variable: "
    "one somebody saved since you read it is not saved but returned in `conflicts` (code "
    "CONFLICT: the value that won, who saved it, when) and pushed on your `cadConflicts`; the "
    "others of the same save still apply. When every variable conflicted the result is "
    "`CadConflictError`. Invalid input (unknown or read-only variable, a value breaking its type "
    "or the 256-character limit) refuses the whole save with `ValidationError`, fields "
    "`values.<i>.name|value|expectedVersion`, and changes nothing. Secure values read `*****`."
)
_UPDATE_HELP = (
    "The flow (integration role) sets CAD variables of a task that is not over, without "
    "versions: it always wins, and each variable's version still grows, so an agent saving "
    "against the version before gets a conflict. Any active variable, editable or not."
)
_REVEAL_HELP = (
    "The clear value of a CAD variable (the desktop's 'click to retry' on a secure one), to an "
    "agent on the task. Returned in this response only; the task's timeline records who revealed "
    "which variable and when (`CadVariableRevealed`), never the value."
)


@strawberry.input
class CadSaveValueInput:
    name: str
    value: str = strawberry.field(description="At most 256 characters, valid for its type.")
    expected_version: int = strawberry.field(
        description="The version you read (`CadValue.version`; 0 when the variable had no value)."
    )


@strawberry.input
class SaveCadVariablesInput:
    task_id: strawberry.ID
    values: list[CadSaveValueInput]
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class CadUpdateValueInput:
    name: str
    value: str


@strawberry.input
class UpdateCadVariablesInput:
    task_id: strawberry.ID
    values: list[CadUpdateValueInput]
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_HELP)


@strawberry.input
class RevealCadVariableInput:
    task_id: strawberry.ID
    name: str


@strawberry.type(description="What the flow's update stored (it never conflicts).")
class UpdateCadVariablesSuccess:
    task_id: strawberry.ID
    task_version: int = strawberry.field(description="The task's version after the save.")
    saved: list[CadValue]

    @strawberry.field(description="The task as it is now (it may have moved on since the save).")
    async def task(self, info: Info) -> Task | None:
        principal = info.context.require_principal()
        task = await info.context.services.tasks.task(principal.org_id, str(self.task_id))
        return None if task is None or not may_see(principal, task) else Task.from_domain(task)


@strawberry.type(description="What a save stored; `conflicts` what it could not (others saved).")
class SaveCadVariablesSuccess(UpdateCadVariablesSuccess):
    conflicts: list[CadConflict]


@strawberry.type(
    description="Every variable of the save had been saved by somebody else since you read it: "
    "nothing was saved. `conflicts` says what won, by whom, when."
)
class CadConflictError(Error):
    conflicts: list[CadConflict]


@strawberry.type(description="The clear value, for this response only.")
class RevealCadVariableSuccess:
    name: str
    value: str
    version: int


SaveCadVariablesResult = Annotated[
    SaveCadVariablesSuccess
    | CadConflictError
    | ValidationError
    | InvalidStateError
    | NotFoundError
    | ForbiddenError,
    strawberry.union("SaveCadVariablesResult"),
]
UpdateCadVariablesResult = Annotated[
    UpdateCadVariablesSuccess
    | ValidationError
    | InvalidStateError
    | NotFoundError
    | ForbiddenError,
    strawberry.union("UpdateCadVariablesResult"),
]
RevealCadVariableResult = Annotated[
    RevealCadVariableSuccess | ValidationError | InvalidStateError | NotFoundError | ForbiddenError,
    strawberry.union("RevealCadVariableResult"),
]
CadConflictsEvent = Annotated[
    CadConflictNotice | ResyncRequired, strawberry.union("CadConflictsEvent")
]


def _outcome(org_id: str, result: usecases.CadSaveResult, success: type) -> Any:
    conflicts = [conflict_of(conflict) for conflict in result.conflicts]
    if conflicts and not result.saved:
        names = ", ".join(conflict.name for conflict in conflicts)
        return CadConflictError(
            code=ErrorCode.CONFLICT,
            message=f"saved by somebody else since you read them: {names}",
            conflicts=conflicts,
        )
    fields: dict[str, Any] = {
        "task_id": strawberry.ID(result.task_id),
        "task_version": result.task_version,
        "saved": [cad_value_of(org_id, entry) for entry in result.saved],
    }
    if success is SaveCadVariablesSuccess:
        fields["conflicts"] = conflicts
    return success(**fields)


async def _save(
    info: Info, operation: str, handler: Any, command: Any, key: str | None, success: type
) -> Any:
    principal = info.context.require_principal()
    try:
        runner = info.context.services.runner
        result = await runner.run(
            handler, command, idempotency_key=idempotency_key(principal, operation, key)
        )
    except DomainError as error:
        return to_error(error)
    return _outcome(principal.org_id, result, success)


@strawberry.type
class CadMutation:
    @strawberry.mutation(permission_classes=[IsAgent], description=_SAVE_HELP)
    async def save_cad_variables(
        self, info: Info, input: SaveCadVariablesInput
    ) -> SaveCadVariablesResult:
        edits = tuple(CadEdit(v.name, v.value, v.expected_version) for v in input.values)
        principal = info.context.require_principal()
        command = usecases.SaveCadVariables(principal, str(input.task_id), edits)
        handler = usecases.save_cad_variables
        key = input.idempotency_key
        return await _save(info, "saveCadVariables", handler, command, key, SaveCadVariablesSuccess)

    @strawberry.mutation(permission_classes=[IsIntegration], description=_UPDATE_HELP)
    async def update_cad_variables(
        self, info: Info, input: UpdateCadVariablesInput
    ) -> UpdateCadVariablesResult:
        edits = tuple(CadEdit(v.name, v.value) for v in input.values)
        principal = info.context.require_principal()
        command = usecases.UpdateCadVariables(principal, str(input.task_id), edits)
        handler = usecases.update_cad_variables
        key = input.idempotency_key
        return await _save(
            info, "updateCadVariables", handler, command, key, UpdateCadVariablesSuccess
        )

    @strawberry.mutation(permission_classes=[IsAgent], description=_REVEAL_HELP)
    async def reveal_cad_variable(
        self, info: Info, input: RevealCadVariableInput
    ) -> RevealCadVariableResult:
        principal = info.context.require_principal()
        command = usecases.RevealCadVariable(principal, str(input.task_id), input.name)
        try:
            # No idempotency key: a stored result would be a copy of the clear value.
            revealed = await info.context.services.runner.run(usecases.reveal_cad_variable, command)
        except DomainError as error:
            return to_error(error)
        return RevealCadVariableSuccess(
            name=revealed.name, value=revealed.value, version=revealed.version
        )


@strawberry.type
class CadSubscription:
    @strawberry.subscription(
        permission_classes=[IsAgent],
        description="Your CAD saves that lost to somebody else's (seed 002's agent B): what won, "
        "by whom, when. Pass `after` (the last `seq` seen) to resume.",
    )
    async def cad_conflicts(
        self, info: Info, after: int | None = None
    ) -> AsyncGenerator[CadConflictsEvent, None]:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        stream = cad_conflicts_stream(principal.org_id, principal.subject)
        async for item in stream_events(info, stream, after, to_notice):
            yield item
