"""Presence (SPEC §2) as use cases: an AVAILABLE agent left unattended longer than the
organization's grace period stops receiving offers; coming back within the grace changes nothing.

The agent's ``AgentPresence`` (domain.agents.presence) counts absences: one begins when the last
desktop connection goes, and when the agent becomes AVAILABLE with none open - so an HTTP-only
client, which never opens one, times out like a desktop whose connection dropped. Each absence has
a ``PRESENCE_GRACE`` timer numbered with it, due at ``gone_at`` + grace. It acts only if that
absence is still the current one (any reconnection in between makes it do nothing; a later absence
has a timer of its own): an ``AVAILABLE`` agent becomes ``IDLE`` (reason ``DISCONNECTED``, made by
the system), and the agent's pending offers end ``SYSTEM`` with their tasks routed again at once -
nobody is there to answer them, and waiting for the RONA would only keep the customers waiting.

The timer's id comes from (agent, absence number), so sweepers on several instances schedule it
once; and every change, the firing included, writes the agent's one presence record, so concurrent
changes take turns instead of each deciding on a snapshot the other one is changing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from domain.agents.presence import AgentPresence, Connection
from domain.agents.session import AgentSession
from domain.agents.states import AgentState
from domain.configuration.policies import OrganizationPolicies
from domain.identity import Actor
from domain.timers import Timer
from domain.usecases.offer_endings import take_back_offers

if TYPE_CHECKING:
    from domain.ports import Clock, UnitOfWork

PRESENCE = Actor.system("presence")


@dataclass(frozen=True)
class Connect:
    org_id: str
    agent_id: str
    connection_id: str
    instance: str


@dataclass(frozen=True)
class Disconnect:
    org_id: str
    agent_id: str
    connection_id: str
    stale_after: timedelta


@dataclass(frozen=True)
class SweepStale:
    org_id: str
    agent_id: str
    stale_after: timedelta


async def connect(cmd: Connect, uow: UnitOfWork, clock: Clock) -> AgentPresence:
    before = await _presence(uow, cmd.org_id, cmd.agent_id)
    after = before.connect(Connection(cmd.connection_id, cmd.instance, clock.now()))
    await _store(uow, before, after)
    return after


async def disconnect(cmd: Disconnect, uow: UnitOfWork, clock: Clock) -> AgentPresence:
    before = await _presence(uow, cmd.org_id, cmd.agent_id)
    now = clock.now()
    after = before.disconnect(cmd.connection_id, now=now, stale_before=now - cmd.stale_after)
    await _store(uow, before, after)
    return after


async def sweep_stale(cmd: SweepStale, uow: UnitOfWork, clock: Clock) -> AgentPresence:
    before = await _presence(uow, cmd.org_id, cmd.agent_id)
    after = before.sweep(stale_before=clock.now() - cmd.stale_after)
    await _store(uow, before, after)
    return after


async def start_grace_if_unattended(
    uow: UnitOfWork, before: AgentSession, after: AgentSession
) -> None:
    """Part of any session change (in its transaction): an agent who became AVAILABLE - logging
    in included - with no desktop connected starts an absence then, and its grace period."""
    was_available = before.logged_in and before.state is AgentState.AVAILABLE
    if was_available or not after.logged_in or after.state is not AgentState.AVAILABLE:
        return
    presence = await _presence(uow, after.org_id, after.agent_id)
    await _store(uow, presence, presence.unattended(after.state_since))


async def presence_grace_expired(timer: Timer, uow: UnitOfWork, clock: Clock) -> None:
    """The ``PRESENCE_GRACE`` timer handler: still gone since that absence began? Then an
    ``AVAILABLE`` agent gets no more offers, and any pending ones are taken back. Anything else -
    back (perhaps gone again since, with a timer of its own), logged out, or neither AVAILABLE nor
    holding an offer - leaves everything as it is."""
    agent_id = timer.payload["agentId"]
    presence = await uow.presence.get(timer.org_id, agent_id)
    if presence is None or presence.connected or presence.absences != timer.expected_version:
        return
    session = await uow.agent_sessions.get(timer.org_id, agent_id)
    if session is None or not session.logged_in:
        return
    available = session.state is AgentState.AVAILABLE
    if not available and not session.pending_offer_count:
        return
    now = clock.now()
    await uow.presence.save(presence.acted_on(), expected_version=presence.version)
    if available:
        change = session.went_disconnected(now=now, by=PRESENCE)
        await uow.agent_sessions.save(change.session, expected_version=session.version)
        uow.emit(*change.events)
    await take_back_offers(uow, timer.org_id, agent_id, now, PRESENCE)


async def _presence(uow: UnitOfWork, org_id: str, agent_id: str) -> AgentPresence:
    return await uow.presence.get(org_id, agent_id) or AgentPresence.new(org_id, agent_id)


async def _store(uow: UnitOfWork, before: AgentPresence, after: AgentPresence) -> None:
    if after is before:
        return
    await uow.presence.save(after, expected_version=before.version)
    if after.went_away_from(before):
        policies = await uow.policies.get(after.org_id) or OrganizationPolicies(org_id=after.org_id)
        await uow.timers.schedule(
            after.grace_timer(timedelta(seconds=policies.presence_grace_seconds))
        )
