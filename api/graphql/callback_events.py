"""``callbackEvents``: the organization's callbacks scheduled, edited, deleted, requested and
dispatched, live and resumable."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import strawberry

from api.graphql.callback_types import CallbackType, IsAgentOrSupervisor
from api.graphql.context import Info
from api.graphql.events import Event, ResyncRequired, event_fields, stream_events
from domain.callbacks import events as callback_events
from domain.errors import ErrorCode
from domain.events import StoredEvent
from domain.streams import callbacks_stream


class CallbackChange(StrEnum):
    SCHEDULED = "SCHEDULED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    REQUESTED = "REQUESTED"  # a connector asked for a courtesy or web callback
    DISPATCHED = "DISPATCHED"  # a scheduled callback's window opened: its task exists
    DISPATCH_DEFERRED = "DISPATCH_DEFERRED"  # ... but it had to wait (`reason`, `retryAt`)


CallbackChangeType = strawberry.enum(CallbackChange, name="CallbackChange")

_CHANGES = {
    callback_events.CallbackScheduled: CallbackChange.SCHEDULED,
    callback_events.CallbackUpdated: CallbackChange.UPDATED,
    callback_events.CallbackDeleted: CallbackChange.DELETED,
    callback_events.CallbackRequested: CallbackChange.REQUESTED,
    callback_events.CallbackDispatched: CallbackChange.DISPATCHED,
    callback_events.CallbackDispatchDeferred: CallbackChange.DISPATCH_DEFERRED,
}


@strawberry.type(description="A callback of the organization changed; `change` says how.")
class CallbackEvent(Event):
    change: CallbackChange
    callback_id: strawberry.ID
    type: CallbackType
    version: int
    queue_id: strawberry.ID | None
    starts_at: datetime | None
    assignee_id: strawberry.ID | None
    task_id: strawberry.ID | None
    reason: ErrorCode | None = strawberry.field(description="Why a dispatch was deferred.")
    retry_at: datetime | None


CallbackEventItem = Annotated[CallbackEvent | ResyncRequired, strawberry.union("CallbackEventItem")]


def _to_graphql(stored: StoredEvent) -> CallbackEvent | None:
    event = stored.event
    change = _CHANGES.get(type(event))
    if change is None or not isinstance(event, callback_events.CallbackEvent):
        return None
    fields: dict[str, Any] = vars(event)

    def some_id(name: str) -> strawberry.ID | None:
        value = fields.get(name)
        return None if value is None else strawberry.ID(value)

    reason = fields.get("reason")
    return CallbackEvent(
        **event_fields(stored),
        change=change,
        callback_id=strawberry.ID(event.callback_id),
        type=event.callback_type,
        version=event.version,
        queue_id=some_id("queue_id"),
        starts_at=fields.get("starts_at"),
        assignee_id=some_id("assignee_id"),
        task_id=some_id("task_id"),
        reason=None if reason is None else ErrorCode(reason),
        retry_at=fields.get("retry_at"),
    )


@strawberry.type
class CallbacksSubscription:
    @strawberry.subscription(
        permission_classes=[IsAgentOrSupervisor],
        description="Callbacks of the organization as they are scheduled, edited, deleted, "
        "requested and dispatched. Pass `after` (the last `seq` seen) to resume.",
    )
    async def callback_events(
        self, info: Info, after: int | None = None
    ) -> AsyncGenerator[CallbackEventItem, None]:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        async for item in stream_events(
            info, callbacks_stream(principal.org_id), after, _to_graphql
        ):
            yield item
