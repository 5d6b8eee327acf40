"""Callback types shared by tasks, offers and the callbacks area (kept apart from
``api.graphql.callbacks`` so that ``tasks`` and ``offers`` can use them without importing it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Union

import strawberry

from api.graphql.context import Info
from api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    RejectedError,
    ValidationError,
)
from api.graphql.permissions import IsAuthenticated
from domain.callbacks import callback as domain
from domain.callbacks.callback import CallbackStatus
from domain.callbacks.details import CallbackType, TaskCallback
from domain.errors import ErrorCode
from domain.identity import Role
from domain.tasks.offers import masked

CallbackTypeType = strawberry.enum(
    CallbackType,
    name="CallbackType",
    description="COURTESY (chose a callback instead of waiting), WEB (form or bot), SCHEDULED, "
    "PERSONAL (scheduled and offered to its assignee first).",
)


@strawberry.type(
    name="TaskCallback",
    description="What makes a task a callback. After an agent accepts it the system dials "
    "`number`; the customer joins the call when they answer (`answeredAt`).",
)
class TaskCallbackView:
    type: CallbackType
    reason: str | None
    callback_id: strawberry.ID | None = strawberry.field(
        description="Scheduled and personal callbacks: the schedule the task was made from."
    )
    answered_at: datetime | None
    unanswered: int = strawberry.field(
        description="How many times the customer did not answer (the task went back to its queue)."
    )
    raw_number: strawberry.Private[str]

    @strawberry.field(
        description="The number dialled (masked to its last 4 digits for agents under "
        "sensitive-data protection)."
    )
    async def number(self, info: Info) -> str:
        return await shown_number(info, self.raw_number)


def task_callback_of(callback: TaskCallback | None) -> TaskCallbackView | None:
    if callback is None:
        return None
    return TaskCallbackView(
        type=callback.callback_type,
        reason=callback.reason,
        callback_id=None if callback.callback_id is None else strawberry.ID(callback.callback_id),
        answered_at=callback.answered_at,
        unanswered=callback.unanswered,
        raw_number=callback.number,
    )


CallbackStatusType = strawberry.enum(CallbackStatus, name="CallbackStatus")


async def shown_number(info: Info, number: str) -> str:
    """A customer's number as the caller may see it (masked for agents under protection)."""
    from api.graphql.tasks import masks_numbers  # tasks imports this module

    return (masked(number) or "") if await masks_numbers(info) else number


class IsAgentOrSupervisor(IsAuthenticated):
    roles: ClassVar[frozenset[Role]] = frozenset({Role.AGENT, Role.SUPERVISOR})


@strawberry.type(
    name="Callback",
    description="A scheduled or personal callback: whom to call, in which window of the "
    "customer's time zone, from which queue. Editable until the window starts.",
)
class CallbackNode:
    id: strawberry.ID
    type: CallbackType
    status: CallbackStatus
    customer_name: str
    customer_id: str | None
    date: str = strawberry.field(description="The window's local date (YYYY-MM-DD).")
    window_start: str = strawberry.field(description="Local time, HH:MM:SS.")
    window_end: str
    time_zone: str = strawberry.field(description="The customer's IANA time zone.")
    starts_at: datetime = strawberry.field(description="The window's start, UTC.")
    ends_at: datetime
    queue_id: strawberry.ID
    reason: str | None
    priority: int
    assignee_id: strawberry.ID | None = strawberry.field(
        description="A personal callback: the agent it is offered to first."
    )
    created_by: strawberry.ID
    created_at: datetime
    updated_at: datetime | None
    origin_task_id: strawberry.ID | None
    task_id: strawberry.ID | None = strawberry.field(description="Once dispatched: its task.")
    dispatched_at: datetime | None
    deferrals: int = strawberry.field(
        description="Dispatch attempts put off (concurrent-call limit); `deferredBecause` says why."
    )
    deferred_because: ErrorCode | None
    version: int
    raw_number: strawberry.Private[str]

    @strawberry.field(
        description="Masked to its last 4 digits for agents under sensitive-data protection."
    )
    async def customer_number(self, info: Info) -> str:
        return await shown_number(info, self.raw_number)

    @classmethod
    def from_domain(cls, callback: domain.ScheduledCallback) -> CallbackNode:
        draft, window = callback.draft, callback.draft.window

        def some_id(value: str | None) -> strawberry.ID | None:
            return None if value is None else strawberry.ID(value)

        return cls(
            id=strawberry.ID(callback.callback_id),
            type=callback.callback_type,
            status=callback.status,
            customer_name=draft.customer_name,
            customer_id=draft.customer_id,
            date=window.date,
            window_start=window.start,
            window_end=window.end,
            time_zone=window.time_zone,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            queue_id=strawberry.ID(draft.queue_id),
            reason=draft.reason,
            priority=draft.priority,
            assignee_id=some_id(draft.assignee_id),
            created_by=strawberry.ID(callback.created_by),
            created_at=callback.created_at,
            updated_at=callback.updated_at,
            origin_task_id=some_id(callback.origin_task_id),
            task_id=some_id(callback.task_id),
            dispatched_at=callback.dispatched_at,
            deferrals=callback.deferrals,
            deferred_because=callback.deferred_because,
            version=callback.version,
            raw_number=draft.customer_number,
        )


# --- mutations of the callbacks area ------------------------------------------------------------

ERRORS = (
    ValidationError,
    InvalidStateError,
    NotFoundError,
    ForbiddenError,
    ConflictError,
    RejectedError,
)


def result_union(name: str, success: Any) -> Any:
    return Annotated[Union[(success, *ERRORS)], strawberry.union(name)]
