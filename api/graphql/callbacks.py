"""Scheduled and personal callbacks (SPEC §9): schedule, edit, delete; a customer's callbacks and
my personal ones as Relay connections."""

from __future__ import annotations

from typing import Any

import strawberry

from api.graphql.callback_types import (
    CallbackNode,
    IsAgentOrSupervisor,
    result_union,
)
from api.graphql.context import Info
from api.graphql.mutations import id_for_retry, outcome
from api.graphql.permissions import IsAgent
from api.graphql.relay import MAX_PAGE, Connection, connection
from domain.callbacks.callback import CallbackStatus
from domain.callbacks.rules import CallbackInput
from domain.errors import ValidationFailed
from domain.identity import Principal, Role
from domain.usecases import callbacks as usecases

CallbackStatusType = strawberry.enum(CallbackStatus, name="CallbackStatus")


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input(
    description="Every field is checked and every broken rule reported at once (field + rule); "
    "a missing required one is `required`."
)
class ScheduleCallbackInput:
    customer_number: str | None = strawberry.field(
        default=None, description="7-15 characters; digits, a leading +, spaces, - , . allowed."
    )
    customer_name: str | None = strawberry.field(default=None, description="3-250 characters.")
    customer_id: str | None = None
    date: str | None = strawberry.field(
        default=None, description="The local date in the customer's time zone, YYYY-MM-DD."
    )
    window_start: str | None = strawberry.field(
        default=None,
        description="Local HH:MM[:SS]; at least 30 minutes and at most 31 days from now.",
    )
    window_end: str | None = strawberry.field(
        default=None, description="Local HH:MM[:SS], after windowStart."
    )
    time_zone: str | None = strawberry.field(
        default=None, description="The customer's IANA time zone, e.g. Europe/Sofia."
    )
    queue_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An active telephony queue you (or the assignee) serve through a team.",
    )
    reason: str | None = strawberry.field(
        default=None, description="At most 250 characters; a CAD variable on the callback task."
    )
    priority: int | None = strawberry.field(default=None, description="1-10; 5 by default.")
    personal: bool = strawberry.field(
        default=False, description="Assigned to you or to `assigneeId`, a member of your team."
    )
    assignee_id: strawberry.ID | None = None
    task_id: strawberry.ID | None = strawberry.field(
        default=None, description="The task you are on (not a campaign contact), if any."
    )
    idempotency_key: str | None = None


@strawberry.input(description="The fields to change; those left out keep their value.")
class UpdateCallbackInput:
    callback_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="CONFLICT if the callback changed since you read it."
    )
    customer_number: str | None = None
    customer_name: str | None = None
    date: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    time_zone: str | None = None
    queue_id: strawberry.ID | None = None
    reason: str | None = strawberry.field(default=None, description="Empty: no reason.")
    priority: int | None = None
    assignee_id: strawberry.ID | None = None
    idempotency_key: str | None = None


@strawberry.input
class DeleteCallbackInput:
    callback_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.type
class ScheduleCallbackSuccess:
    callback: CallbackNode


@strawberry.type
class UpdateCallbackSuccess:
    callback: CallbackNode


@strawberry.type(description="The callback as it was when deleted.")
class DeleteCallbackSuccess:
    callback: CallbackNode


ScheduleCallbackResult = result_union("ScheduleCallbackResult", ScheduleCallbackSuccess)
UpdateCallbackResult = result_union("UpdateCallbackResult", UpdateCallbackSuccess)
DeleteCallbackResult = result_union("DeleteCallbackResult", DeleteCallbackSuccess)


def _some(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


def _schedule(principal: Principal, input: ScheduleCallbackInput) -> usecases.ScheduleCallback:
    return usecases.ScheduleCallback(
        principal=principal,
        entered=CallbackInput(
            customer_number=input.customer_number,
            customer_name=input.customer_name,
            date=input.date,
            window_start=input.window_start,
            window_end=input.window_end,
            time_zone=input.time_zone,
            queue_id=_some(input.queue_id),
            reason=input.reason,
            priority=input.priority,
            assignee_id=_some(input.assignee_id),
            task_id=_some(input.task_id),
        ),
        personal=input.personal,
        customer_id=input.customer_id,
        callback_id=id_for_retry(principal, "scheduleCallback", input.idempotency_key),
    )


def _update(principal: Principal, input: UpdateCallbackInput) -> usecases.UpdateCallback:
    return usecases.UpdateCallback(
        principal=principal,
        callback_id=str(input.callback_id),
        changes=CallbackInput(
            customer_number=input.customer_number,
            customer_name=input.customer_name,
            date=input.date,
            window_start=input.window_start,
            window_end=input.window_end,
            time_zone=input.time_zone,
            queue_id=_some(input.queue_id),
            reason=input.reason,
            priority=input.priority,
            assignee_id=_some(input.assignee_id),
        ),
        expected_version=input.expected_version,
    )


@strawberry.type
class CallbacksMutation:
    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Schedule a callback (or, `personal`, one assigned to you or a teammate) "
        "for a window in the customer's time zone. NO_ENTRY_POINT without the organization's "
        "callback entry point.",
    )
    async def schedule_callback(
        self, info: Info, input: ScheduleCallbackInput
    ) -> ScheduleCallbackResult:
        return await outcome(
            info,
            "scheduleCallback",
            usecases.schedule_callback,
            lambda principal: _schedule(principal, input),
            input.idempotency_key,
            lambda callback: ScheduleCallbackSuccess(callback=CallbackNode.from_domain(callback)),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Edit a callback; CALLBACK_WINDOW_STARTED once its window has started.",
    )
    async def update_callback(self, info: Info, input: UpdateCallbackInput) -> UpdateCallbackResult:
        return await outcome(
            info,
            "updateCallback",
            usecases.update_callback,
            lambda principal: _update(principal, input),
            input.idempotency_key,
            lambda callback: UpdateCallbackSuccess(callback=CallbackNode.from_domain(callback)),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Delete a callback; CALLBACK_WINDOW_STARTED once its window has started.",
    )
    async def delete_callback(self, info: Info, input: DeleteCallbackInput) -> DeleteCallbackResult:
        return await outcome(
            info,
            "deleteCallback",
            usecases.delete_callback,
            lambda principal: usecases.DeleteCallback(
                principal, str(input.callback_id), input.expected_version
            ),
            input.idempotency_key,
            lambda callback: DeleteCallbackSuccess(callback=CallbackNode.from_domain(callback)),
        )


# --- queries ------------------------------------------------------------------------------------


def _page_size(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed.single(
            "first", f"range:1-{MAX_PAGE}", f"first must be between 1 and {MAX_PAGE}"
        )


@strawberry.type
class CallbacksQuery:
    @strawberry.field(
        permission_classes=[IsAgentOrSupervisor],
        description="The callbacks of a customer, by number (separators ignored) or customer id, "
        "earliest window first. An agent sees a personal callback only when they scheduled it or "
        "it is assigned to them; a supervisor sees them all.",
    )
    async def customer_callbacks(
        self,
        info: Info,
        customer_number: str | None = None,
        customer_id: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[CallbackNode]:
        _page_size(first)
        if not customer_number and not customer_id:
            raise ValidationFailed.single(
                "customerNumber", "required", "give customerNumber or customerId"
            )
        principal = info.context.require_principal()
        page = await info.context.services.callbacks.for_customer(
            principal.org_id,
            number=customer_number or None,
            customer_id=customer_id or None,
            first=first,
            after=after,
            viewer_id=None if principal.has(Role.SUPERVISOR) else principal.subject,
        )
        return _connection(page)

    @strawberry.field(
        permission_classes=[IsAgent],
        description="Personal callbacks assigned to you, earliest window first.",
    )
    async def my_callbacks(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[CallbackNode]:
        _page_size(first)
        principal = info.context.require_principal()
        page = await info.context.services.callbacks.for_assignee(
            principal.org_id, principal.subject, first=first, after=after
        )
        return _connection(page)


def _connection(page: Any) -> Connection[CallbackNode]:
    return connection(
        [CallbackNode.from_domain(callback) for callback in page.items],
        list(page.cursors),
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )
