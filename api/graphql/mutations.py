"""What every mutation resolver does around its one use case: the caller's idempotency key, the
run in the runner, and the domain's expected failures turned into the result union's errors."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from api.graphql.context import Info
from api.graphql.errors import to_error
from api.graphql.idempotency import idempotency_key
from domain.errors import DomainError
from domain.identity import Principal


async def run_use_case(
    info: Info, operation: str, handler: Callable[..., Any], command: Any, key: str | None
) -> Any:
    """The use case's result; a ``DomainError`` is the caller's to map."""
    principal = info.context.require_principal()
    return await info.context.services.runner.run(
        handler, command, idempotency_key=idempotency_key(principal, operation, key)
    )


async def outcome(
    info: Info,
    operation: str,
    handler: Callable[..., Any],
    build: Callable[[Principal], Any],
    key: str | None,
    success: Callable[[Any], Any],
) -> Any:
    """``success(result)``, or the typed error of the result union."""
    principal = info.context.require_principal()
    try:
        result = await run_use_case(info, operation, handler, build(principal), key)
    except DomainError as error:
        return to_error(error)
    return success(result)


def id_for_retry(principal: Principal, operation: str, key: str | None) -> str:
    """The id of what the mutation creates: from the idempotency key when there is one, so that a
    repeat names the same thing (and the runner recognises it)."""
    if key is None:
        return uuid.uuid4().hex
    seed = "\x1f".join((principal.org_id, principal.subject, operation, key))
    return hashlib.sha256(seed.encode()).hexdigest()[:32]
