"""Expected failures as schema types; ``to_error`` is the one place domain errors are mapped."""

from __future__ import annotations

import strawberry

from domain.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    InvalidState,
    NotFound,
    ValidationFailed,
)

ErrorCodeType = strawberry.enum(
    ErrorCode, name="ErrorCode", description="Reason codes clients switch on."
)


@strawberry.interface(description="An expected failure of a mutation.")
class Error:
    code: ErrorCode
    message: str


@strawberry.type(description="One broken input rule.")
class FieldViolation:
    field: str = strawberry.field(description="The input field, as a dotted camelCase path.")
    rule: str = strawberry.field(
        description="The rule broken, e.g. `required`, `max_length:100`, `unique`."
    )
    message: str


@strawberry.type(
    description="Input broke one or more rules; `field`/`rule` name the first of `violations`."
)
class ValidationError(Error):
    field: str
    rule: str
    violations: list[FieldViolation]


@strawberry.type(
    description="The thing is not in a state that allows this; `currentState` says which it is in."
)
class InvalidStateError(Error):
    current_state: str


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type(description="The caller may not do this to this particular thing.")
class ForbiddenError(Error):
    pass


@strawberry.type(description="Somebody else changed it first; re-read and retry.")
class ConflictError(Error):
    current_version: int | None


@strawberry.type(description="A business rule refused the request; `code` says which.")
class RejectedError(Error):
    pass


# What a command on a task or conversation can be refused with, in the order results list them.
TASK_ERRORS = (ValidationError, InvalidStateError, NotFoundError, ForbiddenError, RejectedError)


def to_error(error: DomainError) -> Error:
    code = ErrorCode(error.code)
    if isinstance(error, ValidationFailed):
        return ValidationError(
            code=code,
            message=error.message,
            field=error.field,
            rule=error.rule,
            violations=[
                FieldViolation(field=v.field, rule=v.rule, message=v.message)
                for v in error.violations
            ],
        )
    if isinstance(error, InvalidState):
        return InvalidStateError(
            code=code, message=error.message, current_state=error.current_state
        )
    if isinstance(error, NotFound):
        return NotFoundError(code=code, message=error.message)
    if isinstance(error, Conflict):
        return ConflictError(
            code=code, message=error.message, current_version=error.current_version
        )
    if code is ErrorCode.FORBIDDEN:
        return ForbiddenError(code=code, message=error.message)
    return RejectedError(code=code, message=error.message)


ERROR_TYPES: list[type] = [
    ValidationError,
    InvalidStateError,
    NotFoundError,
    ForbiddenError,
    ConflictError,
    RejectedError,
]
