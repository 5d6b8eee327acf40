"""Events of messages. A message is told on its task's stream (the desktops follow it); an
outgoing one is also put on the deliveries stream of its channel — the durable, resumable outbox
the connector reads (``deliveries(channel, after)``). The connector's answer is told back on the
task's stream, so the agent sees a failed delivery on the message."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import DomainEvent
from domain.messaging.message import DeliveryState, Message
from domain.streams import StreamKey, deliveries_stream, task_stream


@dataclass(frozen=True, kw_only=True)
class MessagePosted(DomainEvent):
    message: Message

    def streams(self) -> tuple[StreamKey, ...]:
        return (task_stream(self.org_id, self.message.task_id),)


@dataclass(frozen=True, kw_only=True)
class DeliveryRequested(DomainEvent):
    """For the connector of the message's channel: send this to ``to_address`` (the customer's
    address) through ``entry_point_id``."""

    message: Message
    to_address: str | None
    entry_point_id: str
    customer_id: str | None = None

    def streams(self) -> tuple[StreamKey, ...]:
        return (deliveries_stream(self.org_id, self.message.channel.value),)


@dataclass(frozen=True, kw_only=True)
class MessageDeliveryChanged(DomainEvent):
    task_id: str
    message_id: str
    seq: int
    delivery: DeliveryState
    error: str | None = None

    def streams(self) -> tuple[StreamKey, ...]:
        return (task_stream(self.org_id, self.task_id),)
