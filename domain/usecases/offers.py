"""What agents do with offers — accept, decline, accept all, ask for one more — and what the
system does when an offer's deadline passes unanswered (RONA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.agents.states import LOGGED_OUT, AgentState
from domain.channels import Channel
from domain.errors import ErrorCode, Forbidden, InvalidState, NotFound, Rejected
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.tasks.events import QueuedBecause, RonaOccurred, TaskConnected
from domain.tasks.offers import Offer, OfferOutcome
from domain.tasks.task import Task, TaskKind
from domain.timers import Timer
from domain.usecases.call_access import policies_of, save_call
from domain.usecases.chat_conference import accept_conference_request
from domain.usecases.consults import accept_consult_request
from domain.usecases.offer_endings import close_offer, release_offer
from domain.usecases.routing import RouteAgent, Router

RONA_TIMER = Actor.system("offer-deadline")


@dataclass(frozen=True)
class AcceptOffer:
    principal: Principal
    offer_id: str


@dataclass(frozen=True)
class DeclineOffer:
    principal: Principal
    offer_id: str


@dataclass(frozen=True)
class AcceptAllOffers:
    principal: Principal


@dataclass(frozen=True)
class RequestContact:
    principal: Principal


@dataclass(frozen=True)
class Accepted:
    offer: Offer
    task: Task


@dataclass(frozen=True)
class RefusedOffer:
    offer_id: str
    code: ErrorCode
    message: str


@dataclass(frozen=True)
class AcceptedAll:
    accepted: tuple[Accepted, ...]
    # Offers that could not be accepted (expired meanwhile), and why.
    refused: tuple[RefusedOffer, ...]


def _agent(principal: Principal) -> Actor:
    if not principal.has(Role.AGENT):
        raise Forbidden("only agents answer offers, each their own")
    return Actor(ActorKind.AGENT, principal.subject)


async def _own_offer(uow: UnitOfWork, principal: Principal, offer_id: str) -> Offer:
    offer = await uow.offers.get(principal.org_id, offer_id)
    if offer is None or offer.agent_id != principal.subject:
        raise NotFound("OFFER", offer_id)  # another agent's offer is none of the caller's business
    return offer


async def accept_offer(cmd: AcceptOffer, uow: UnitOfWork, clock: Clock) -> Accepted:
    actor = _agent(cmd.principal)
    offer = await _own_offer(uow, cmd.principal, cmd.offer_id)
    return await _accept(uow, offer, clock.now(), actor)


async def accept_all_offers(cmd: AcceptAllOffers, uow: UnitOfWork, clock: Clock) -> AcceptedAll:
    """Every pending offer of the agent, earliest first; one that expired is reported, the others
    are still accepted."""
    actor = _agent(cmd.principal)
    now = clock.now()
    accepted: list[Accepted] = []
    refused: list[RefusedOffer] = []
    for offer in await uow.offers.pending_for(cmd.principal.org_id, cmd.principal.subject):
        try:
            accepted.append(await _accept(uow, offer, now, actor))
        except (Rejected, InvalidState) as error:
            refused.append(RefusedOffer(offer.offer_id, ErrorCode(error.code), error.message))
    return AcceptedAll(tuple(accepted), tuple(refused))


async def decline_offer(cmd: DeclineOffer, uow: UnitOfWork, clock: Clock) -> Offer:
    """The task goes back to the front of its queue (keeping its age) and to another agent; the
    decliner stays AVAILABLE and is asked last for this task."""
    actor = _agent(cmd.principal)
    offer = await _own_offer(uow, cmd.principal, cmd.offer_id)
    now = clock.now()
    declined = offer.answered(OfferOutcome.DECLINED, now=now, by=actor)
    await release_offer(uow, offer, declined, now, actor, QueuedBecause.DECLINED)
    uow.defer(RouteAgent(offer.org_id, offer.agent_id))  # other work may fit the freed slot
    return declined


async def request_contact(cmd: RequestContact, uow: UnitOfWork, clock: Clock) -> Offer:
    """+1 contact (MAX): the oldest routable task of any channel the agent has room for, offered at
    once. Refused (``CAPACITY_EXCEEDED``) when no channel has room, ``NOT_FOUND`` when nothing
    the agent can take is waiting."""
    _agent(cmd.principal)
    session = await uow.agent_sessions.get(cmd.principal.org_id, cmd.principal.subject)
    if session is None or not session.logged_in:
        raise InvalidState("log in first", current_state=LOGGED_OUT)
    if not any(session.room_for_one_more(c.channel) for c in session.routing.capacities):
        why = (
            "no channel has free capacity"
            if session.accepts_offers
            else "the agent is not AVAILABLE"
        )
        raise Rejected(ErrorCode.CAPACITY_EXCEEDED, f"no contact can be offered now: {why}")
    offer = await Router(uow, clock, session.org_id).one_more_for(session)
    if offer is None:
        raise NotFound("WAITING_CONTACT", "any")
    return offer


async def on_offer_deadline(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
    """RONA: the offer is still open at its deadline. The task goes back to the front of its queue,
    the agent to ``RONA`` (no more offers until they pick a state), and everyone concerned hears of
    it. An offer answered meanwhile makes this a no-op."""
    offer = await uow.offers.get(timer.org_id, timer.target_id)
    if offer is None or not offer.pending:
        return
    now = clock.now()
    missed = offer.ended(OfferOutcome.RONA, now=now, by=RONA_TIMER)
    task = await release_offer(uow, offer, missed, now, RONA_TIMER, QueuedBecause.RONA)
    session = await uow.agent_sessions.get(offer.org_id, offer.agent_id)
    # Only an AVAILABLE agent is put in RONA: one who chose IDLE meanwhile keeps that choice.
    if session is not None and session.logged_in and session.state is AgentState.AVAILABLE:
        rona = session.went_rona(now=now, by=RONA_TIMER)
        await uow.agent_sessions.save(rona.session, expected_version=session.version)
        uow.emit(*rona.events)
    uow.emit(
        RonaOccurred(
            org_id=offer.org_id,
            occurred_at=now,
            actor=RONA_TIMER,
            offer_id=offer.offer_id,
            task_id=offer.task_id,
            agent_id=offer.agent_id,
            queue_id=task.queue_id if task else offer.details.queue_id,
            team_id=session.team_id if session else None,
            channel=offer.channel,
        )
    )


async def _accept(uow: UnitOfWork, offer: Offer, now: datetime, actor: Actor) -> Accepted:
    accepted = offer.answered(OfferOutcome.ACCEPTED, now=now, by=actor)
    task = await uow.tasks.get(offer.org_id, offer.task_id)
    assert task is not None, "a pending offer has its task"
    await close_offer(uow, offer, accepted, now, actor, tasks=1)
    if task.kind is TaskKind.CONSULT:
        # The consulted agent joins the call the request was for: that is what they now hold.
        # (A consult request on a digital channel is a chat conference request.)
        join = (
            accept_consult_request if task.channel is Channel.VOICE else accept_conference_request
        )
        joined = await join(uow, task, offer.agent_id, now, actor)
        return Accepted(accepted, joined)
    session = await uow.agent_sessions.get(offer.org_id, offer.agent_id)
    policies = await policies_of(uow, offer.org_id)
    connected = task.connected(
        now,
        agent_name=session.agent_name if session else None,
        recording=policies.recording_enabled,
    )
    uow.emit(
        TaskConnected(
            org_id=offer.org_id,
            occurred_at=now,
            actor=actor,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=connected.status,
            version=connected.version,
            agent_id=offer.agent_id,
        )
    )
    await save_call(uow, task, connected, actor=actor, now=now)
    return Accepted(accepted, connected)
