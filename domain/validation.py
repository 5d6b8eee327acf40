"""Reusable input rules. Each check records a ``Violation`` naming the field and the rule."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

from domain.errors import ValidationFailed, Violation

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# 7-15 characters, may start with a country code; spaces, '-', ',' and '.' allowed (SPEC §9).
_PHONE = re.compile(r"^\+?[0-9][0-9 ,.\-]*[0-9]$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Rules:
    """Collects violations so that one response names every broken rule at once."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def fail(self, field: str, rule: str, message: str) -> None:
        self.violations.append(Violation(field, rule, message))

    def extend(self, violations: Iterable[Violation]) -> None:
        self.violations.extend(violations)

    def text(self, field: str, value: str, *, min_length: int = 1, max_length: int = 100) -> None:
        stripped = value.strip()
        if len(stripped) < min_length:
            rule = "required" if not stripped else f"min_length:{min_length}"
            self.fail(field, rule, f"{field} must have at least {min_length} character(s)")
        elif len(value) > max_length:
            self.fail(
                field,
                f"max_length:{max_length}",
                f"{field} must have at most {max_length} characters",
            )

    def optional_text(self, field: str, value: str | None, *, max_length: int) -> None:
        if value is not None and len(value) > max_length:
            self.fail(
                field,
                f"max_length:{max_length}",
                f"{field} must have at most {max_length} characters",
            )

    def email(self, field: str, value: str) -> None:
        if len(value) > 254 or not _EMAIL.match(value):
            self.fail(field, "email", f"{field} must be an email address")

    def phone(self, field: str, value: str) -> None:
        if not 7 <= len(value) <= 15:
            self.fail(field, "length:7-15", f"{field} must have 7 to 15 characters")
        elif not _PHONE.match(value):
            self.fail(
                field, "phone", f"{field} may hold digits, a leading '+', spaces, '-', ',' and '.'"
            )

    def identifier(self, field: str, value: str, *, max_length: int = 64) -> None:
        if not _IDENTIFIER.match(value) or len(value) > max_length:
            self.fail(
                field,
                "identifier",
                f"{field} must start with a letter or '_' and hold only letters, digits and '_' "
                f"(at most {max_length})",
            )

    def int_range(self, field: str, value: int, *, minimum: int, maximum: int) -> None:
        if not minimum <= value <= maximum:
            self.fail(
                field,
                f"range:{minimum}-{maximum}",
                f"{field} must be between {minimum} and {maximum}",
            )

    def unique_items(self, field: str, values: Iterable[object]) -> None:
        seen: set[object] = set()
        for value in values:
            key = value.value if isinstance(value, Enum) else value
            if isinstance(key, str):
                key = key.casefold()
            if key in seen:
                self.fail(field, "unique_items", f"{field} lists {key!r} more than once")
                return
            seen.add(key)

    def check(self) -> None:
        if self.violations:
            raise ValidationFailed(self.violations)
