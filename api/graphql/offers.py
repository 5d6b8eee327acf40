"""Offers (SPEC §3): the contact-request popovers of an agent, answering them, asking for one more,
and the ``offers`` subscription."""

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any, Union

import strawberry

from api.graphql.call_types import ConsultRequester, requester_of
from api.graphql.callback_types import CallbackType
from api.graphql.context import Info
from api.graphql.errors import TASK_ERRORS
from api.graphql.events import Cause, Event, ResyncRequired, event_fields, stream_events
from api.graphql.mutations import outcome
from api.graphql.permissions import IsAgent
from api.graphql.tasks import Task
from domain.channels import Channel
from domain.errors import ErrorCode, ValidationFailed
from domain.events import StoredEvent
from domain.streams import offers_stream
from domain.tasks import events as task_events
from domain.tasks import offers as domain
from domain.tasks.offers import OfferOutcome
from domain.tasks.task import TaskKind
from domain.usecases import offers as usecases

OfferOutcomeType = strawberry.enum(
    OfferOutcome,
    name="OfferOutcome",
    description="How an offer ended: WITHDRAWN when the customer abandoned, SYSTEM when the "
    "system took it back.",
)
MAX_OFFER_PAGE = 50


@strawberry.type(description="A CAD variable configured for the popover (never a secure one).")
class PopoverVariable:
    name: str
    label: str
    value: str


@strawberry.type(
    description="A contact-request popover: what the agent sees before answering, fixed when the "
    "offer was made. `deadline` is the server's; after it the offer goes RONA."
)
class Offer:
    id: strawberry.ID
    task_id: strawberry.ID
    agent_id: strawberry.ID
    channel: Channel
    offered_at: datetime
    deadline: datetime
    outcome: OfferOutcome | None = strawberry.field(description="Null while pending.")
    ended_at: datetime | None
    ended_by: Cause | None
    customer_name: str | None
    customer_id: str | None
    customer_address: str | None = strawberry.field(
        description="Masked to the last 4 characters under sensitive-data protection."
    )
    queue_id: strawberry.ID
    queue_name: str
    entry_point_id: strawberry.ID
    entry_point_name: str
    dnis: str | None
    subject: str | None
    queued_at: datetime
    variables: list[PopoverVariable] = strawberry.field(
        description="Up to 6 configured variables (secure ones never)."
    )
    kind: TaskKind = strawberry.field(
        description="NORMAL, CALLBACK, or CONSULT: a colleague asks you onto their call."
    )
    consult_requester: ConsultRequester | None = strawberry.field(
        description="A consult request: who asks (the popover's 3 default variables)."
    )
    callback_type: CallbackType | None = strawberry.field(
        description="A callback (kind CALLBACK): courtesy, web, scheduled or personal."
    )
    callback_number: str | None = strawberry.field(
        description="A callback: the number the system dials once you accept (masked like the "
        "customer's address)."
    )
    callback_reason: str | None
    version: int

    @strawberry.field(description="Seconds the task has waited, by the server's clock.")
    def waited_seconds(self, info: Info) -> int:
        now = info.context.services.clock.now()
        return max(0, int((now - self.queued_at).total_seconds()))

    @strawberry.field
    async def task(self, info: Info) -> Task | None:
        principal = info.context.require_principal()
        task = await info.context.services.tasks.task(principal.org_id, str(self.task_id))
        return None if task is None else Task.from_domain(task)

    @classmethod
    def from_domain(cls, offer: domain.Offer) -> "Offer":
        details = offer.details
        return cls(
            id=strawberry.ID(offer.offer_id),
            task_id=strawberry.ID(offer.task_id),
            agent_id=strawberry.ID(offer.agent_id),
            channel=offer.channel,
            offered_at=offer.offered_at,
            deadline=offer.deadline,
            outcome=offer.outcome,
            ended_at=offer.ended_at,
            ended_by=None
            if offer.ended_by is None
            else Cause(kind=offer.ended_by.kind, id=offer.ended_by.id),
            customer_name=details.customer_name,
            customer_id=details.customer_id,
            customer_address=details.customer_address,
            queue_id=strawberry.ID(details.queue_id),
            queue_name=details.queue_name,
            entry_point_id=strawberry.ID(details.entry_point_id),
            entry_point_name=details.entry_point_name,
            dnis=details.dnis,
            subject=details.subject,
            queued_at=details.queued_at,
            variables=[
                PopoverVariable(name=v.name, label=v.label, value=v.value)
                for v in details.variables
            ],
            kind=details.kind,
            consult_requester=requester_of(details.consult_requester),
            callback_type=details.callback_type,
            callback_number=details.callback_number,
            callback_reason=details.callback_reason,
            version=offer.version,
        )


@strawberry.type(description="A page of your pending offers, earliest first ('1-5 of N').")
class OfferPage:
    items: list[Offer]
    total_count: int
    offset: int
    has_next_page: bool


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input
class AcceptOfferInput:
    offer_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class DeclineOfferInput:
    offer_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class AcceptAllOffersInput:
    idempotency_key: str | None = None


@strawberry.input
class RequestContactInput:
    idempotency_key: str | None = None


@strawberry.type(description="The offer (ACCEPTED) and its task, now CONNECTED to you.")
class AcceptOfferSuccess:
    offer: Offer
    task: Task


@strawberry.type(description="The offer (DECLINED); its task went back to the front of its queue.")
class DeclineOfferSuccess:
    offer: Offer


@strawberry.type(description="An offer `acceptAllOffers` could not accept, and why.")
class RefusedOffer:
    offer_id: strawberry.ID
    code: ErrorCode
    message: str


@strawberry.type
class AcceptAllOffersSuccess:
    accepted: list[AcceptOfferSuccess]
    refused: list[RefusedOffer]


@strawberry.type(description="The contact offered to you.")
class RequestContactSuccess:
    offer: Offer


def _result(name: str, success: Any) -> Any:
    return Annotated[Union[(success, *TASK_ERRORS)], strawberry.union(name)]


AcceptOfferResult = _result("AcceptOfferResult", AcceptOfferSuccess)
DeclineOfferResult = _result("DeclineOfferResult", DeclineOfferSuccess)
AcceptAllOffersResult = _result("AcceptAllOffersResult", AcceptAllOffersSuccess)
RequestContactResult = _result("RequestContactResult", RequestContactSuccess)


def _accepted(result: usecases.Accepted) -> AcceptOfferSuccess:
    return AcceptOfferSuccess(
        offer=Offer.from_domain(result.offer), task=Task.from_domain(result.task)
    )


@strawberry.type
class OffersMutation:
    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Accept one of your offers: its task becomes CONNECTED to you. An offer past "
        "its deadline, declined or withdrawn gives OFFER_EXPIRED.",
    )
    async def accept_offer(self, info: Info, input: AcceptOfferInput) -> AcceptOfferResult:
        return await outcome(
            info,
            "acceptOffer",
            usecases.accept_offer,
            lambda principal: usecases.AcceptOffer(principal, str(input.offer_id)),
            input.idempotency_key,
            _accepted,
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Decline one of your offers: the task goes back to the front of its queue "
        "and to another agent; you stay AVAILABLE.",
    )
    async def decline_offer(self, info: Info, input: DeclineOfferInput) -> DeclineOfferResult:
        return await outcome(
            info,
            "declineOffer",
            usecases.decline_offer,
            lambda principal: usecases.DeclineOffer(principal, str(input.offer_id)),
            input.idempotency_key,
            lambda offer: DeclineOfferSuccess(offer=Offer.from_domain(offer)),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="Accept every pending offer, earliest first; those that expired meanwhile are "
        "listed in `refused`.",
    )
    async def accept_all_offers(
        self, info: Info, input: AcceptAllOffersInput | None = None
    ) -> AcceptAllOffersResult:
        return await outcome(
            info,
            "acceptAllOffers",
            usecases.accept_all_offers,
            lambda principal: usecases.AcceptAllOffers(principal),
            input.idempotency_key if input else None,
            lambda result: AcceptAllOffersSuccess(
                accepted=[_accepted(item) for item in result.accepted],
                refused=[
                    RefusedOffer(offer_id=strawberry.ID(r.offer_id), code=r.code, message=r.message)
                    for r in result.refused
                ],
            ),
        )

    @strawberry.mutation(
        permission_classes=[IsAgent],
        description="+1 contact: the oldest task you can take on any channel with free capacity, "
        "offered to you now. CAPACITY_EXCEEDED when no channel has room (or you are not "
        "AVAILABLE), NOT_FOUND when nothing you can take is waiting.",
    )
    async def request_contact(
        self, info: Info, input: RequestContactInput | None = None
    ) -> RequestContactResult:
        return await outcome(
            info,
            "requestContact",
            usecases.request_contact,
            lambda principal: usecases.RequestContact(principal),
            input.idempotency_key if input else None,
            lambda offer: RequestContactSuccess(offer=Offer.from_domain(offer)),
        )


# --- queries ------------------------------------------------------------------------------------


@strawberry.type
class OffersQuery:
    @strawberry.field(
        permission_classes=[IsAgent],
        description="Your pending offers, earliest first, a page at a time.",
    )
    async def offers(self, info: Info, offset: int = 0, first: int = 5) -> OfferPage:
        if not 1 <= first <= MAX_OFFER_PAGE:
            raise ValidationFailed.single(
                "first",
                f"range:1-{MAX_OFFER_PAGE}",
                f"first must be between 1 and {MAX_OFFER_PAGE}",
            )
        if offset < 0:
            raise ValidationFailed.single("offset", "min:0", "offset must not be negative")
        principal = info.context.require_principal()
        page = await info.context.services.tasks.pending_offers(
            principal.org_id, principal.subject, offset=offset, limit=first
        )
        return OfferPage(
            items=[Offer.from_domain(offer) for offer in page.items],
            total_count=page.total,
            offset=offset,
            has_next_page=offset + len(page.items) < page.total,
        )


# --- subscription -------------------------------------------------------------------------------


@strawberry.type(description="An offer was made to you; `offer` is the popover.")
class OfferMade(Event):
    offer_id: strawberry.ID
    task_id: strawberry.ID
    channel: Channel
    deadline: datetime

    @strawberry.field(description="The offer as it is now (it may have ended since).")
    async def offer(self, info: Info) -> Offer | None:
        principal = info.context.require_principal()
        offer = await info.context.services.tasks.offer(principal.org_id, str(self.offer_id))
        return None if offer is None else Offer.from_domain(offer)


@strawberry.type(
    description="One of your offers ended: `outcome` says how, `cause` who or what ended it."
)
class OfferEnded(Event):
    offer_id: strawberry.ID
    task_id: strawberry.ID
    channel: Channel
    outcome: OfferOutcome


OfferEvent = Annotated[OfferMade | OfferEnded | ResyncRequired, strawberry.union("OfferEvent")]


def _to_graphql(stored: StoredEvent) -> Event | None:
    event = stored.event
    if isinstance(event, task_events.OfferMade):
        return OfferMade(
            **event_fields(stored),
            offer_id=strawberry.ID(event.offer_id),
            task_id=strawberry.ID(event.task_id),
            channel=event.channel,
            deadline=event.deadline,
        )
    if isinstance(event, task_events.OfferEnded):
        return OfferEnded(
            **event_fields(stored),
            offer_id=strawberry.ID(event.offer_id),
            task_id=strawberry.ID(event.task_id),
            channel=event.channel,
            outcome=event.outcome,
        )
    return None


@strawberry.type
class OffersSubscription:
    @strawberry.subscription(
        permission_classes=[IsAgent],
        description="Your offers as they are made and end. Pass `after` (the last `seq` you saw) "
        "to resume.",
    )
    async def offers(
        self, info: Info, after: int | None = None
    ) -> AsyncGenerator[OfferEvent, None]:  # type: ignore[valid-type]
        principal = info.context.require_principal()
        async for item in stream_events(
            info, offers_stream(principal.org_id, principal.subject), after, _to_graphql
        ):
            yield item
