"""What deactivating an agent does to the agent's work (SPEC §2, §3).

An admin deactivates an agent who may be logged in: the agent's pending offers end ``SYSTEM`` and
their tasks go back to the front of their queues, keeping their age, to be routed to someone else
at once; the agent is logged out by the system (reason ``AGENT_DEACTIVATED``) - or, with tasks
still active, gets ``LOGOUT`` as a next state the agent cannot withdraw: no new offers, and out as
the last task ends.

It runs inside the deactivation's transaction, so it happens if and only if the deactivation
commits; an ``acceptOffer`` racing it either commits first (the task is then active and the
log-out waits for it) or re-runs after it and finds the offer ended.
"""

from __future__ import annotations

from datetime import datetime

from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.usecases.offer_endings import take_back_offers

# The system acting on the admin's deactivation (the configuration event names the admin).
DEACTIVATION = Actor.system("agent-deactivation")


async def sign_out_deactivated_agent(
    uow: UnitOfWork, org_id: str, agent_id: str, now: datetime
) -> None:
    session = await uow.agent_sessions.get(org_id, agent_id)
    if session is None or not session.logged_in:
        return
    await take_back_offers(uow, org_id, agent_id, now, DEACTIVATION)
    session = await uow.agent_sessions.get(org_id, agent_id)  # the offers' slots are free now
    if session is None or not session.logged_in:
        return  # a LOGOUT the agent had asked for applied as the last offer went
    change = session.deactivated(now=now, by=DEACTIVATION)
    await uow.agent_sessions.save(change.session, expected_version=session.version)
    uow.emit(*change.events)
