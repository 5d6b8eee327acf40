"""A connector's answer about an outgoing message (SPEC §10, §13): delivered, or failed with a
reason the agent sees on the message. Deliveries are at-least-once, so answers repeat: the same
answer again changes nothing; a failed message may still be delivered by a later retry; a
delivered one cannot fail any more."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from domain.errors import InvalidState
from domain.messaging.message import DeliveryState, Message

ERROR_MAX_LENGTH = 500


def delivered(message: Message, now: datetime) -> Message | None:
    """The message delivered; None when it already was (nothing changes)."""
    _require_outgoing(message)
    if message.delivery is DeliveryState.DELIVERED:
        return None
    return dataclasses.replace(
        message, delivery=DeliveryState.DELIVERED, delivery_error=None, delivery_updated_at=now
    )


def failed(message: Message, error: str, now: datetime) -> Message | None:
    """The delivery failed with ``error`` (already screened); None when this was already said."""
    _require_outgoing(message)
    if message.delivery is DeliveryState.DELIVERED:
        raise InvalidState(
            "the message was delivered already", current_state=DeliveryState.DELIVERED.value
        )
    if message.delivery is DeliveryState.FAILED and message.delivery_error == error:
        return None
    return dataclasses.replace(
        message, delivery=DeliveryState.FAILED, delivery_error=error, delivery_updated_at=now
    )


def _require_outgoing(message: Message) -> None:
    if message.delivery is DeliveryState.NONE:
        raise InvalidState(
            "this message is not delivered by a connector", current_state=DeliveryState.NONE.value
        )
