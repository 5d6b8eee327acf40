"""How every offer ends, whoever ends it: the outcome stored, the deadline timer cancelled, the
agent's slot freed, and ``OfferEnded`` told to the agent — one way, for accept, decline, RONA and
withdrawal alike."""

from __future__ import annotations

from datetime import datetime

from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.tasks.events import OfferEnded
from domain.tasks.offers import Offer
from domain.timers import TimerKind, timer_id


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
