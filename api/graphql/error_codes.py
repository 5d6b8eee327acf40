"""Domain errors raised outside a mutation's result union (query arguments, subscriptions) still
reach the client with a machine-readable code (and field/rule for validation)."""

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, ValidationFailed
from domain.ports import TransientConflict

# Contention outlasted the retry budget: nothing was written, and a retry (with the same
# idempotencyKey) is safe. A limit, not a bug, so it is shown with a code rather than masked.
TRY_AGAIN = "TRY_AGAIN"


def _extensions(error: DomainError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code.value}
    if isinstance(error, ValidationFailed):
        extensions["field"] = error.field
        extensions["rule"] = error.rule
    return extensions


class DomainErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            if not isinstance(error, GraphQLError):
                continue
            if isinstance(error.original_error, DomainError):
                error.extensions = {**(error.extensions or {}), **_extensions(error.original_error)}
            elif isinstance(error.original_error, TransientConflict):
                error.message = "too many concurrent changes to the same data; retry"
                error.extensions = {**(error.extensions or {}), "code": TRY_AGAIN}
