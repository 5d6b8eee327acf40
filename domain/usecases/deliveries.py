"""The connector's answers about what agents sent (SPEC §10): each updates the message's delivery
state and is told on the task's stream, so the desktop shows a failure on the message."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.identity import Actor, ActorKind, Principal, Role
from domain.messaging import delivery, pci
from domain.messaging.events import MessageDeliveryChanged
from domain.messaging.message import Message
from domain.ports import Clock, UnitOfWork
from domain.usecases.call_access import policies_of


@dataclass(frozen=True)
class AcknowledgeDelivery:
    principal: Principal
    message_id: str


@dataclass(frozen=True)
class ReportDeliveryFailure:
    principal: Principal
    message_id: str
    error: str


async def acknowledge_delivery(cmd: AcknowledgeDelivery, uow: UnitOfWork, clock: Clock) -> Message:
    message = await _message(uow, cmd.principal, cmd.message_id)
    now = clock.now()
    changed = delivery.delivered(message, now)
    return await _saved(uow, message, changed, cmd.principal)


async def report_delivery_failure(
    cmd: ReportDeliveryFailure, uow: UnitOfWork, clock: Clock
) -> Message:
    message = await _message(uow, cmd.principal, cmd.message_id)
    if not cmd.error.strip() or len(cmd.error) > delivery.ERROR_MAX_LENGTH:
        raise ValidationFailed.single(
            "error",
            f"length:1-{delivery.ERROR_MAX_LENGTH}",
            f"error must have 1 to {delivery.ERROR_MAX_LENGTH} characters",
        )
    # A connector may echo the message in its error: screen it like any content (always masked,
    # whatever the policy: it is our record of their failure, not a message to drop).
    policies = await policies_of(uow, message.org_id)
    error = pci.mask_all(cmd.error, policies.pii_patterns)
    changed = delivery.failed(message, error, clock.now())
    return await _saved(uow, message, changed, cmd.principal)


async def _message(uow: UnitOfWork, principal: Principal, message_id: str) -> Message:
    if not principal.has(Role.INTEGRATION):
        raise Forbidden("only a connector (integration role) reports deliveries")
    message = await uow.messages.get(principal.org_id, message_id)
    if message is None:
        raise NotFound("MESSAGE", message_id)
    return message


async def _saved(
    uow: UnitOfWork, before: Message, after: Message | None, principal: Principal
) -> Message:
    if after is None:
        return before
    await uow.messages.save(after)
    uow.emit(
        MessageDeliveryChanged(
            org_id=after.org_id,
            occurred_at=after.delivery_updated_at or after.sent_at,
            actor=Actor(ActorKind.INTEGRATION, principal.subject),
            task_id=after.task_id,
            message_id=after.message_id,
            seq=after.seq,
            delivery=after.delivery,
            error=after.delivery_error,
        )
    )
    return after
