"""Log in, log out, set the state and the next state of an agent (SPEC §2).

Agents act on their own session (the token's subject is the agent id); supervisors on any agent of
their organization. An agent of another organization is not found: sessions are read by
(organization, agent), so nothing crosses tenants whatever id a caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.agents.session import AgentSession, Transition
from domain.agents.states import AgentState, NextStateKind, StateChangeReason
from domain.configuration.agents import Agent
from domain.configuration.base import ConfigKind
from domain.configuration.profiles import MultimediaProfile
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.usecases.presence import start_grace_if_unattended
from domain.usecases.routing import routing_after


@dataclass(frozen=True)
class LogIn:
    principal: Principal
    team_id: str
    dial_number: str | None = None
    # Start IDLE with this code; without one the agent starts AVAILABLE.
    idle_code_id: str | None = None


@dataclass(frozen=True)
class LogOut:
    principal: Principal
    agent_id: str | None = None  # None: the caller itself


@dataclass(frozen=True)
class SetAgentState:
    principal: Principal
    state: AgentState
    idle_code_id: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class SetNextState:
    principal: Principal
    state: NextStateKind
    idle_code_id: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class CancelNextState:
    principal: Principal
    agent_id: str | None = None


@dataclass(frozen=True)
class _Acting:
    """Whose session a request changes, as which actor, for which reason."""

    org_id: str
    agent_id: str
    actor: Actor
    reason: StateChangeReason


def _acting(principal: Principal, agent_id: str | None) -> _Acting:
    target = agent_id or principal.subject
    if target == principal.subject and principal.has(Role.AGENT):
        actor, reason = Actor(ActorKind.AGENT, principal.subject), StateChangeReason.AGENT_REQUEST
    elif principal.has(Role.SUPERVISOR):
        actor = Actor(ActorKind.SUPERVISOR, principal.subject)
        reason = StateChangeReason.SUPERVISOR_REQUEST
    else:
        raise Forbidden("agents change only their own state; supervisors any agent's")
    return _Acting(principal.org_id, target, actor, reason)


async def log_in(cmd: LogIn, uow: UnitOfWork, clock: Clock) -> AgentSession:
    principal = cmd.principal
    if not principal.has(Role.AGENT):
        raise Forbidden("only agents log in, each as themselves")
    agent = await _agent(uow, principal.org_id, principal.subject)
    session = await _session(uow, principal.org_id, agent.id, clock)
    profile = await uow.configuration.get(
        principal.org_id, ConfigKind.MULTIMEDIA_PROFILE, agent.profile_id
    )
    if not isinstance(profile, MultimediaProfile):
        raise NotFound(ConfigKind.MULTIMEDIA_PROFILE.value, agent.profile_id)
    change = session.log_in(
        agent,
        profile,
        team_id=cmd.team_id,
        dial_number=cmd.dial_number,
        idle_code_id=cmd.idle_code_id,
        now=clock.now(),
        by=Actor(ActorKind.AGENT, principal.subject),
    )
    await _require_active(uow, principal.org_id, ConfigKind.TEAM, "teamId", cmd.team_id)
    await _require_idle_code(uow, principal.org_id, cmd.idle_code_id)
    return await _store(uow, session, change)


async def log_out(cmd: LogOut, uow: UnitOfWork, clock: Clock) -> AgentSession:
    acting = _acting(cmd.principal, cmd.agent_id)
    session = await _session(uow, acting.org_id, acting.agent_id, clock)
    change = session.log_out(now=clock.now(), by=acting.actor, reason=acting.reason)
    return await _store(uow, session, change)


async def set_agent_state(cmd: SetAgentState, uow: UnitOfWork, clock: Clock) -> AgentSession:
    acting = _acting(cmd.principal, cmd.agent_id)
    session = await _session(uow, acting.org_id, acting.agent_id, clock)
    change = session.set_state(
        cmd.state, cmd.idle_code_id, now=clock.now(), by=acting.actor, reason=acting.reason
    )
    await _require_idle_code(uow, acting.org_id, cmd.idle_code_id)
    return await _store(uow, session, change)


async def set_next_state(cmd: SetNextState, uow: UnitOfWork, clock: Clock) -> AgentSession:
    acting = _acting(cmd.principal, cmd.agent_id)
    session = await _session(uow, acting.org_id, acting.agent_id, clock)
    change = session.set_next_state(
        cmd.state, cmd.idle_code_id, now=clock.now(), by=acting.actor, reason=acting.reason
    )
    await _require_idle_code(uow, acting.org_id, cmd.idle_code_id)
    return await _store(uow, session, change)


async def cancel_next_state(cmd: CancelNextState, uow: UnitOfWork, clock: Clock) -> AgentSession:
    acting = _acting(cmd.principal, cmd.agent_id)
    session = await _session(uow, acting.org_id, acting.agent_id, clock)
    change = session.cancel_next_state(now=clock.now(), by=acting.actor, reason=acting.reason)
    return await _store(uow, session, change)


async def _require_idle_code(uow: UnitOfWork, org_id: str, idle_code_id: str | None) -> None:
    if idle_code_id is not None:
        await _require_active(uow, org_id, ConfigKind.IDLE_CODE, "idleCodeId", idle_code_id)


async def _agent(uow: UnitOfWork, org_id: str, agent_id: str) -> Agent:
    agent = await uow.configuration.get(org_id, ConfigKind.AGENT, agent_id)
    if not isinstance(agent, Agent):
        raise NotFound(ConfigKind.AGENT.value, agent_id)
    return agent


async def _session(uow: UnitOfWork, org_id: str, agent_id: str, clock: Clock) -> AgentSession:
    """The stored session, or a logged-out one for an agent of the organization who never logged
    in; ``NotFound`` for anybody else."""
    session = await uow.agent_sessions.get(org_id, agent_id)
    if session is None:
        await _agent(uow, org_id, agent_id)
        session = AgentSession.new(org_id, agent_id, clock.now())
    return session


async def _require_active(
    uow: UnitOfWork, org_id: str, kind: ConfigKind, field: str, entity_id: str
) -> None:
    """Checked after the state machine agreed, so a move the state forbids says so first."""
    entity = await uow.configuration.get(org_id, kind, entity_id)
    if entity is None or not entity.active:
        raise ValidationFailed.single(
            field, "reference", f"{field} must name an active {kind} of this organization"
        )


async def _store(uow: UnitOfWork, before: AgentSession, change: Transition) -> AgentSession:
    await uow.agent_sessions.save(change.session, expected_version=before.version)
    uow.emit(*change.events)
    await start_grace_if_unattended(uow, before, change.session)
    follow_up = routing_after(before, change.session)
    if follow_up is not None:
        uow.defer(follow_up)
    return change.session
