"""Turning a mutation's optional ``idempotencyKey`` into the runner's key."""

from __future__ import annotations

from domain.errors import ValidationFailed
from domain.identity import Principal
from domain.ports import IdempotencyKey

MAX_KEY_LENGTH = 200
# The description of every mutation input's ``idempotencyKey``.
KEY_HELP = "Repeat with the same key within 24 h: the first result, nothing done twice."


def idempotency_key(principal: Principal, operation: str, key: str | None) -> IdempotencyKey | None:
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed.single(
            "idempotencyKey",
            f"length:1-{MAX_KEY_LENGTH}",
            f"idempotencyKey must have 1 to {MAX_KEY_LENGTH} characters",
        )
    return IdempotencyKey(
        org_id=principal.org_id, principal=principal.subject, operation=operation, key=key
    )
