"""Agent sessions (SPEC §2): log in and out, set the state and the next state, and who is logged in
for transfer and consult dialogs."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Union

import strawberry

from api.graphql.configuration.agents import Agent, current_agent
from api.graphql.configuration.codes import IdleCode
from api.graphql.configuration.references import load_one
from api.graphql.configuration.teams import Team
from api.graphql.context import Info
from api.graphql.errors import (
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
    to_error,
)
from api.graphql.events import Cause
from api.graphql.idempotency import idempotency_key
from api.graphql.permissions import IsAgent, IsAuthenticated
from api.graphql.relay import MAX_PAGE, Connection, connection
from domain.agents import session as domain
from domain.agents.states import AgentState, NextStateKind, StateChangeReason
from domain.configuration.base import ConfigKind
from domain.errors import DomainError, ValidationFailed
from domain.identity import Actor, Principal, Role
from domain.usecases import agent_states as usecases

AgentStateType = strawberry.enum(
    AgentState, name="AgentState", description="Busy is no state: see `activeTaskCount`."
)
AgentStateReasonType = strawberry.enum(
    StateChangeReason, name="AgentStateReason", description="Why an agent's session changed."
)
AgentNextStateKindType = strawberry.enum(NextStateKind, name="AgentNextStateKind")

# Stateless: it reads through the collections Beanie bound when the application started.


class IsAgentOrSupervisor(IsAuthenticated):
    roles = frozenset({Role.AGENT, Role.SUPERVISOR})


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


def _cause(actor: Actor | None) -> Cause | None:
    return None if actor is None else Cause(kind=actor.kind, id=actor.id)


async def idle_code_of(info: Info, idle_code_id: str | None) -> IdleCode | None:
    code = await load_one(info, idle_code_id, ConfigKind.IDLE_CODE)
    return None if code is None else IdleCode.from_entity(code)


@strawberry.type(description="What the agent goes to once the work in progress is done.")
class AgentNextState:
    state: NextStateKind
    idle_code_id: strawberry.ID | None
    requested_at: datetime
    requested_by: Cause

    @strawberry.field
    async def idle_code(self, info: Info) -> IdleCode | None:
        return await idle_code_of(info, self.idle_code_id)


@strawberry.type(
    description="An agent's session: logged in or out, the state and since when, the next state."
)
class AgentSession:
    agent_id: strawberry.ID
    logged_in: bool
    logged_in_at: datetime | None
    team_id: strawberry.ID | None
    dial_number: str | None
    state: AgentState | None = strawberry.field(description="Null while logged out.")
    idle_code_id: strawberry.ID | None
    state_since: datetime = strawberry.field(
        description="Since when the agent is in this state (or logged out)."
    )
    state_reason: StateChangeReason | None
    state_changed_by: Cause | None
    next_state: AgentNextState | None
    active_task_count: int
    pending_offer_count: int
    version: int = strawberry.field(description="Increments on every change of the session.")
    agent_name: strawberry.Private[str]

    @strawberry.field(description="The agent's name.")
    async def name(self, info: Info) -> str:
        agent = await current_agent(info, str(self.agent_id))
        return self.agent_name if agent is None else agent.name

    @strawberry.field(description="Seconds in the current state, by the server's clock.")
    def seconds_in_state(self, info: Info) -> int:
        now = info.context.services.clock.now()
        return max(0, int((now - self.state_since).total_seconds()))

    @strawberry.field
    async def agent(self, info: Info) -> Agent | None:
        return await current_agent(info, str(self.agent_id))

    @strawberry.field
    async def team(self, info: Info) -> Team | None:
        team = await load_one(info, self.team_id, ConfigKind.TEAM)
        return None if team is None else Team.from_entity(team)

    @strawberry.field
    async def idle_code(self, info: Info) -> IdleCode | None:
        return await idle_code_of(info, self.idle_code_id)

    @classmethod
    def from_domain(cls, session: domain.AgentSession) -> "AgentSession":
        pending = session.next_state
        return cls(
            agent_id=strawberry.ID(session.agent_id),
            logged_in=session.logged_in,
            logged_in_at=session.logged_in_at if session.logged_in else None,
            team_id=_id(session.team_id),
            dial_number=session.dial_number,
            state=session.state,
            idle_code_id=_id(session.idle_code_id),
            state_since=session.state_since,
            state_reason=session.state_reason,
            state_changed_by=_cause(session.state_changed_by),
            next_state=None
            if pending is None
            else AgentNextState(
                state=pending.kind,
                idle_code_id=_id(pending.idle_code_id),
                requested_at=pending.requested_at,
                requested_by=Cause(kind=pending.requested_by.kind, id=pending.requested_by.id),
            ),
            active_task_count=session.active_task_count,
            pending_offer_count=session.pending_offer_count,
            version=session.version,
            agent_name=session.agent_name,
        )


_AGENT_ID = "The agent (supervisors); left out: yourself."


@strawberry.input
class LogInInput:
    team_id: strawberry.ID = strawberry.field(description="One of your teams.")
    dial_number: str | None = strawberry.field(
        default=None, description="Your extension or number; left out: the configured one."
    )
    idle_code_id: strawberry.ID | None = strawberry.field(
        default=None, description="Start IDLE with this code; left out: start AVAILABLE."
    )
    idempotency_key: str | None = None


@strawberry.input
class LogOutInput:
    agent_id: strawberry.ID | None = strawberry.field(default=None, description=_AGENT_ID)
    idempotency_key: str | None = None


@strawberry.input
class SetAgentStateInput:
    state: AgentState = strawberry.field(description="AVAILABLE or IDLE (RONA is the system's).")
    idle_code_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required with IDLE: an active idle code."
    )
    agent_id: strawberry.ID | None = strawberry.field(default=None, description=_AGENT_ID)
    idempotency_key: str | None = None


@strawberry.input
class SetNextStateInput:
    state: NextStateKind
    idle_code_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required with IDLE: an active idle code."
    )
    agent_id: strawberry.ID | None = strawberry.field(default=None, description=_AGENT_ID)
    idempotency_key: str | None = None


@strawberry.input
class CancelNextStateInput:
    agent_id: strawberry.ID | None = strawberry.field(default=None, description=_AGENT_ID)
    idempotency_key: str | None = None


def _success(name: str) -> Any:
    cls = type(name, (), {"__annotations__": {"agent_session": AgentSession}})
    return strawberry.type(cls, description="The agent's session after the change.")


def _result(name: str, success: Any) -> Any:
    members = (success, ValidationError, InvalidStateError, NotFoundError, ForbiddenError)
    return Annotated[Union[members], strawberry.union(name)]  # noqa: UP007 - built at runtime


LogInSuccess = _success("LogInSuccess")
LogOutSuccess = _success("LogOutSuccess")
SetAgentStateSuccess = _success("SetAgentStateSuccess")
SetNextStateSuccess = _success("SetNextStateSuccess")
CancelNextStateSuccess = _success("CancelNextStateSuccess")
LogInResult = _result("LogInResult", LogInSuccess)
LogOutResult = _result("LogOutResult", LogOutSuccess)
SetAgentStateResult = _result("SetAgentStateResult", SetAgentStateSuccess)
SetNextStateResult = _result("SetNextStateResult", SetNextStateSuccess)
CancelNextStateResult = _result("CancelNextStateResult", CancelNextStateSuccess)


def _optional(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


async def _run(
    info: Info,
    handler: Callable[..., Any],
    build: Callable[[Principal], Any],
    success: Any,
    key: str | None,
) -> Any:
    principal = info.context.require_principal()
    operation = success.__name__.removesuffix("Success")
    try:
        session = await info.context.services.runner.run(
            handler,
            build(principal),
            idempotency_key=idempotency_key(principal, operation[0].lower() + operation[1:], key),
        )
    except DomainError as error:
        return to_error(error)
    return success(agent_session=AgentSession.from_domain(session))


@strawberry.type
class AgentStatesMutation:
    @strawberry.mutation(permission_classes=[IsAgent], description="Log in to one of your teams.")
    async def log_in(self, info: Info, input: LogInInput) -> LogInResult:
        return await _run(
            info,
            usecases.log_in,
            lambda principal: usecases.LogIn(
                principal, str(input.team_id), input.dial_number, _optional(input.idle_code_id)
            ),
            LogInSuccess,
            input.idempotency_key,
        )

    @strawberry.mutation(
        permission_classes=[IsAgentOrSupervisor],
        description="Refused (INVALID_STATE) while a task is active or an offer pending: set "
        "LOGOUT as the next state instead.",
    )
    async def log_out(self, info: Info, input: LogOutInput) -> LogOutResult:
        return await _run(
            info,
            usecases.log_out,
            lambda principal: usecases.LogOut(principal, _optional(input.agent_id)),
            LogOutSuccess,
            input.idempotency_key,
        )

    @strawberry.mutation(permission_classes=[IsAgentOrSupervisor])
    async def set_agent_state(self, info: Info, input: SetAgentStateInput) -> SetAgentStateResult:
        return await _run(
            info,
            usecases.set_agent_state,
            lambda principal: usecases.SetAgentState(
                principal, input.state, _optional(input.idle_code_id), _optional(input.agent_id)
            ),
            SetAgentStateSuccess,
            input.idempotency_key,
        )

    @strawberry.mutation(
        permission_classes=[IsAgentOrSupervisor],
        description="IDLE or LOGOUT once the work in progress is done (at once without any); "
        "meanwhile no new offers arrive.",
    )
    async def set_next_state(self, info: Info, input: SetNextStateInput) -> SetNextStateResult:
        return await _run(
            info,
            usecases.set_next_state,
            lambda principal: usecases.SetNextState(
                principal, input.state, _optional(input.idle_code_id), _optional(input.agent_id)
            ),
            SetNextStateSuccess,
            input.idempotency_key,
        )

    @strawberry.mutation(permission_classes=[IsAgentOrSupervisor])
    async def cancel_next_state(
        self, info: Info, input: CancelNextStateInput
    ) -> CancelNextStateResult:
        return await _run(
            info,
            usecases.cancel_next_state,
            lambda principal: usecases.CancelNextState(principal, _optional(input.agent_id)),
            CancelNextStateSuccess,
            input.idempotency_key,
        )


@strawberry.type
class AgentStatesQuery:
    @strawberry.field(
        permission_classes=[IsAgent],
        description="Your session; null if you never logged in.",
    )
    async def my_agent_session(self, info: Info) -> AgentSession | None:
        principal = info.context.require_principal()
        session = await info.context.services.agent_sessions.get(
            principal.org_id, principal.subject
        )
        return None if session is None else AgentSession.from_domain(session)

    @strawberry.field(
        permission_classes=[IsAgentOrSupervisor],
        description="Logged-in agents of your organization (or of one team) by name, with state "
        "and time in state: whom a transfer or consult can reach.",
    )
    async def agent_availability(
        self,
        info: Info,
        team_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[AgentSession]:
        if not 1 <= first <= MAX_PAGE:
            raise ValidationFailed.single(
                "first", f"range:1-{MAX_PAGE}", f"first must be between 1 and {MAX_PAGE}"
            )
        page = await info.context.services.agent_sessions.logged_in(
            info.context.require_principal().org_id,
            team_id=_optional(team_id),
            first=first,
            after=after,
        )
        return connection(
            [AgentSession.from_domain(session) for session in page.items],
            list(page.cursors),
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        )
