"""The ``DomainError`` family: every expected failure, each with a reason code clients switch on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID_STATE = "INVALID_STATE"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CAPACITY_EXCEEDED = "CAPACITY_EXCEEDED"
    OUTBOUND_LIMIT_REACHED = "OUTBOUND_LIMIT_REACHED"
    NO_ENTRY_POINT = "NO_ENTRY_POINT"
    ACTIVE_CONVERSATION_EXISTS = "ACTIVE_CONVERSATION_EXISTS"
    UNSUPPORTED_DESTINATION = "UNSUPPORTED_DESTINATION"
    CONFERENCE_FULL = "CONFERENCE_FULL"
    CALL_ON_HOLD = "CALL_ON_HOLD"
    CONFLICT = "CONFLICT"
    CONCURRENT_CALL_LIMIT = "CONCURRENT_CALL_LIMIT"
    CALLBACK_WINDOW_STARTED = "CALLBACK_WINDOW_STARTED"
    ELEVATION_NOT_ALLOWED = "ELEVATION_NOT_ALLOWED"
    PCI_VIOLATION = "PCI_VIOLATION"
    OFFER_EXPIRED = "OFFER_EXPIRED"


@dataclass(frozen=True)
class Violation:
    """One broken input rule: the input field (dotted path, camelCase) and the rule it broke."""

    field: str
    rule: str
    message: str


class DomainError(Exception):
    code: ErrorCode = ErrorCode.INVALID_STATE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, kind: str, entity_id: str) -> None:
        super().__init__(f"{kind} {entity_id!r} was not found")
        self.kind = kind
        self.entity_id = entity_id


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class InvalidState(DomainError):
    code = ErrorCode.INVALID_STATE

    def __init__(self, message: str, *, current_state: str) -> None:
        super().__init__(message)
        self.current_state = current_state


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED

    def __init__(self, violations: Sequence[Violation]) -> None:
        if not violations:
            raise ValueError("ValidationFailed needs at least one violation")
        first = violations[0]
        super().__init__(first.message)
        self.violations = tuple(violations)
        self.field = first.field
        self.rule = first.rule

    @classmethod
    def single(cls, field: str, rule: str, message: str) -> ValidationFailed:
        return cls([Violation(field, rule, message)])


class Conflict(DomainError):
    """Somebody else changed the thing first (optimistic concurrency lost by a human action)."""

    code = ErrorCode.CONFLICT

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class Rejected(DomainError):
    """A business rule refused the request; the code says which (capacity, limits, PCI, ...)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
