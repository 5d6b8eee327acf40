"""How every offer ends, whoever ends it: the outcome stored, the deadline timer cancelled, the
agent's slot freed, and ``OfferEnded`` told to the agent — one way, for accept, decline, RONA,
withdrawal and the system taking an offer back alike. An offer that ends without the agent taking
the task puts the task back at the front of its queue, keeping its age, and routes it again."""

from __future__ import annotations

from datetime import datetime

from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.tasks.events import OfferEnded, QueuedBecause, TaskQueued
from domain.tasks.offers import Offer, OfferOutcome
from domain.tasks.task import Task, TaskKind
from domain.timers import TimerKind, timer_id
from domain.usecases.chat_transfers import outbound_transfer_missed
from domain.usecases.consult_requests import consult_request_missed
from domain.usecases.routing import RouteQueue


def offer_timer_id(offer: Offer) -> str:
    """The deadline timer of ``offer`` as it was scheduled (with the pending offer's version)."""
    return timer_id(TimerKind.OFFER_DEADLINE, offer.offer_id, offer.version)


async def close_offer(
    uow: UnitOfWork, offer: Offer, ended: Offer, now: datetime, actor: Actor, *, tasks: int = 0
) -> None:
    """Store ``ended`` (``offer`` with its outcome) and free the offer's slot of the agent; an
    accepted offer turns the slot into a task (``tasks=1``) in the same change."""
    assert ended.outcome is not None
    await uow.offers.save(ended, expected_version=offer.version)
    await uow.timers.cancel(offer_timer_id(offer))
    session = await uow.agent_sessions.get(offer.org_id, offer.agent_id)
    if session is not None and session.offers_on(offer.channel) > 0:
        change = session.adjust_load(offer.channel, tasks=tasks, offers=-1, now=now, by=actor)
        await uow.agent_sessions.save(change.session, expected_version=session.version)
        uow.emit(*change.events)
    uow.emit(
        OfferEnded(
            org_id=offer.org_id,
            occurred_at=now,
            actor=actor,
            offer_id=offer.offer_id,
            task_id=offer.task_id,
            agent_id=offer.agent_id,
            channel=offer.channel,
            outcome=ended.outcome,
        )
    )


async def release_offer(
    uow: UnitOfWork,
    offer: Offer,
    ended: Offer,
    now: datetime,
    actor: Actor,
    because: QueuedBecause,
) -> Task | None:
    """The offer ended without an agent taking the task: close it, put the task back in its
    queue (keeping its age) and route it again."""
    await close_offer(uow, offer, ended, now, actor)
    task = await uow.tasks.get(offer.org_id, offer.task_id)
    if task is None or task.offer_id != offer.offer_id:
        return task
    if task.kind is TaskKind.CONSULT and await consult_request_missed(uow, task, now, actor):
        return task
    if await outbound_transfer_missed(uow, task, now, actor):
        return task
    requeued = task.requeued(now)
    await uow.tasks.save(requeued, expected_version=task.version)
    uow.emit(
        TaskQueued(
            org_id=task.org_id,
            occurred_at=now,
            actor=actor,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=requeued.status,
            version=requeued.version,
            because=because,
            queued_at=requeued.queued_at,
        )
    )
    uow.defer(RouteQueue(task.org_id, task.queue_id))
    return requeued


async def take_back_offers(
    uow: UnitOfWork, org_id: str, agent_id: str, now: datetime, actor: Actor
) -> int:
    """Every pending offer of the agent ends ``SYSTEM`` — the agent can no longer answer (gone, or
    deactivated) — and its task goes to another agent at once instead of waiting for the RONA.
    Returns how many offers ended."""
    pending = await uow.offers.pending_for(org_id, agent_id)
    for offer in pending:
        taken_back = offer.ended(OfferOutcome.SYSTEM, now=now, by=actor)
        await release_offer(uow, offer, taken_back, now, actor, QueuedBecause.SYSTEM)
    return len(pending)
