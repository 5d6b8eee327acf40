"""Callbacks connectors ask for and report on (integration role): a courtesy callback for a waiting
call, a web callback, and whether the dialled customer answered; and the agent cancelling a
callback before the customer answers (SPEC §6, §9)."""

from __future__ import annotations

import strawberry

from api.graphql.callback_types import result_union
from api.graphql.context import Info
from api.graphql.mutations import id_for_retry, outcome
from api.graphql.permissions import IsAgent, IsIntegration
from api.graphql.tasks import Task
from domain.usecases import callback_calls as usecases


@strawberry.input(description="The customer waiting on this call chose to be called back.")
class RequestCourtesyCallbackInput:
    task_id: strawberry.ID = strawberry.field(description="The QUEUED voice task.")
    number: str | None = strawberry.field(
        default=None, description="The number to call back; the caller's (ani) by default."
    )
    idempotency_key: str | None = None


@strawberry.input(description="A callback requested from a web form or a bot.")
class RequestWebCallbackInput:
    customer_name: str | None = strawberry.field(default=None, description="3-250 characters.")
    customer_number: str | None = strawberry.field(
        default=None, description="7-15 characters; digits, a leading +, spaces, - , . allowed."
    )
    customer_id: str | None = None
    queue_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An active telephony queue; the callback entry point's queue by default.",
    )
    reason: str | None = strawberry.field(default=None, description="At most 250 characters.")
    idempotency_key: str | None = None


@strawberry.input
class CallbackTaskInput:
    task_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type(description="The task, now a COURTESY callback, in its place in line.")
class RequestCourtesyCallbackSuccess:
    task: Task


@strawberry.type(description="The WEB callback task, QUEUED (or OFFERED when an agent was free).")
class RequestWebCallbackSuccess:
    task: Task


@strawberry.type(description="The customer joined: an ordinary call from now on.")
class ReportCallbackAnsweredSuccess:
    task: Task


@strawberry.type(description="The callback is QUEUED again, keeping its age; the agent is free.")
class ReportCallbackNotAnsweredSuccess:
    task: Task


@strawberry.type(description="The callback ended before the customer answered; wrap it up.")
class CancelCallbackSuccess:
    task: Task


RequestCourtesyCallbackResult = result_union(
    "RequestCourtesyCallbackResult", RequestCourtesyCallbackSuccess
)
RequestWebCallbackResult = result_union("RequestWebCallbackResult", RequestWebCallbackSuccess)
ReportCallbackAnsweredResult = result_union(
    "ReportCallbackAnsweredResult", ReportCallbackAnsweredSuccess
)
ReportCallbackNotAnsweredResult = result_union(
    "ReportCallbackNotAnsweredResult", ReportCallbackNotAnsweredSuccess
)
CancelCallbackResult = result_union("CancelCallbackResult", CancelCallbackSuccess)


@strawberry.type
class CallbackRequestsMutation:
    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="A waiting caller chose a callback: the task becomes one, keeping its place.",
    )
    async def request_courtesy_callback(
        self, info: Info, input: RequestCourtesyCallbackInput
    ) -> RequestCourtesyCallbackResult:
        return await outcome(
            info,
            "requestCourtesyCallback",
            usecases.request_courtesy_callback,
            lambda principal: usecases.RequestCourtesyCallback(
                principal, str(input.task_id), input.number
            ),
            input.idempotency_key,
            lambda task: RequestCourtesyCallbackSuccess(task=Task.from_domain(task)),
        )

    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="A web form or bot asks for a callback. NO_ENTRY_POINT without the "
        "organization's callback entry point.",
    )
    async def request_web_callback(
        self, info: Info, input: RequestWebCallbackInput
    ) -> RequestWebCallbackResult:
        return await outcome(
            info,
            "requestWebCallback",
            usecases.request_web_callback,
            lambda principal: usecases.RequestWebCallback(
                principal=principal,
                customer_name=input.customer_name,
                customer_number=input.customer_number,
                queue_id=None if input.queue_id is None else str(input.queue_id),
                reason=input.reason,
                customer_id=input.customer_id,
                task_id=id_for_retry(principal, "requestWebCallback", input.idempotency_key),
            ),
            input.idempotency_key,
            lambda task: RequestWebCallbackSuccess(task=Task.from_domain(task)),
        )

    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="The dialled customer answered the callback.",
    )
    async def report_callback_answered(
        self, info: Info, input: CallbackTaskInput
    ) -> ReportCallbackAnsweredResult:
        return await outcome(
            info,
            "reportCallbackAnswered",
            usecases.report_callback_answered,
            lambda principal: usecases.CallbackTask(principal, str(input.task_id)),
            input.idempotency_key,
            lambda task: ReportCallbackAnsweredSuccess(task=Task.from_domain(task)),
        )

    @strawberry.mutation(
        permission_classes=[IsIntegration],
        description="The dialled customer did not answer: the callback returns to its queue.",
    )
    async def report_callback_not_answered(
        self, info: Info, input: CallbackTaskInput
    ) -> ReportCallbackNotAnsweredResult:
        return await outcome(
            info,
            "reportCallbackNotAnswered",
            usecases.report_callback_not_answered,
            lambda principal: usecases.CallbackTask(principal, str(input.task_id)),
            input.idempotency_key,
            lambda task: ReportCallbackNotAnsweredSuccess(task=Task.from_domain(task)),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Cancel a callback you accepted before the customer answers; then wrap up. "
        "INVALID_STATE (CUSTOMER_ANSWERED) once they did: end the call instead.",
    )
    async def cancel_callback(self, info: Info, input: CallbackTaskInput) -> CancelCallbackResult:
        return await outcome(
            info,
            "cancelCallback",
            usecases.cancel_callback,
            lambda principal: usecases.CallbackTask(principal, str(input.task_id)),
            input.idempotency_key,
            lambda task: CancelCallbackSuccess(task=Task.from_domain(task)),
        )
