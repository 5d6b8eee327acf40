"""The connectors' outbox (SPEC §10, §13): ``deliveries(channel, after)`` streams what agents
send (and the system lines the customer sees) on that channel, durable and resumable — a connector
that reconnects with the last ``seq`` it handled gets every delivery it missed, in order, once.
It answers with ``acknowledgeDelivery`` or ``reportDeliveryFailure`` (``api.graphql.chat``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.events import Event, ResyncRequired, event_fields, stream_events
from api.graphql.messages import Message
from api.graphql.permissions import IsIntegration
from domain.channels import Channel
from domain.events import StoredEvent
from domain.messaging.events import DeliveryRequested
from domain.streams import deliveries_stream


@strawberry.type(
    description="Send `conversationMessage` to the customer at `to` through `entryPointId`."
)
class Delivery(Event):
    conversation_message: Message
    to: str | None = strawberry.field(description="The customer's address on the channel.")
    entry_point_id: strawberry.ID
    customer_id: str | None


DeliveryEvent = Annotated[Delivery | ResyncRequired, strawberry.union("DeliveryEvent")]


def _delivery(stored: StoredEvent) -> Delivery | None:
    event = stored.event
    if not isinstance(event, DeliveryRequested):
        return None
    return Delivery(
        **event_fields(stored),
        conversation_message=Message.from_domain(event.message),
        to=event.to_address,
        entry_point_id=strawberry.ID(event.entry_point_id),
        customer_id=event.customer_id,
    )


@strawberry.type
class DeliveriesSubscription:
    @strawberry.subscription(
        permission_classes=[IsIntegration],
        description="Connectors: the outbox of one channel of your organization. Pass `after` "
        "(the last `seq` handled) to resume.",
    )
    async def deliveries(
        self, info: Info, channel: Channel, after: int | None = None
    ) -> AsyncGenerator[DeliveryEvent, None]:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        stream = deliveries_stream(principal.org_id, channel.value)
        async for item in stream_events(info, stream, after, _delivery):
            yield item
