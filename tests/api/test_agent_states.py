"""Agent sessions and states through the public API (SPEC §2): log in and out, states, next
states, who may change whose state, every change pushed on ``agentEvents`` with cause and reason,
concurrent changes, and the availability list transfer dialogs show."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from gql import GraphQLRequest

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute, websocket
from tests.api.server import Server, new_org_id, token
from tests.api.test_configuration_a import Admin

WAIT = 30.0

SESSION = """agentId loggedIn teamId dialNumber state idleCodeId stateSince stateReason
    stateChangedBy { kind id } nextState { state idleCodeId requestedBy { kind id } }
    activeTaskCount pendingOfferCount version name secondsInState team { name } idleCode { name }"""
OUTCOME = """
    __typename
    ... on Error { code message }
    ... on ValidationError { field rule }
    ... on InvalidStateError { currentState }
"""


def _mutation(field: str, input_type: str, success: str) -> str:
    return f"""
mutation($input: {input_type}!) {{
  {field}(input: $input) {{ {OUTCOME} ... on {success} {{ agentSession {{ {SESSION} }} }} }}
}}"""


LOG_IN = _mutation("logIn", "LogInInput", "LogInSuccess")
LOG_OUT = _mutation("logOut", "LogOutInput", "LogOutSuccess")
SET_STATE = _mutation("setAgentState", "SetAgentStateInput", "SetAgentStateSuccess")
SET_NEXT_STATE = _mutation("setNextState", "SetNextStateInput", "SetNextStateSuccess")
CANCEL_NEXT_STATE = _mutation("cancelNextState", "CancelNextStateInput", "CancelNextStateSuccess")
MY_SESSION = f"{{ myAgentSession {{ {SESSION} }} }}"
AVAILABILITY = """
query($teamId: ID, $first: Int!, $after: String) {
  agentAvailability(teamId: $teamId, first: $first, after: $after) {
    nodes { agentId name state idleCode { name } secondsInState stateSince team { name } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CREATE_IDLE_CODE = """
mutation($input: CreateIdleCodeInput!) {
  createIdleCode(input: $input) { __typename ... on CreateIdleCodeSuccess { idleCode { id } } }
}"""
DEACTIVATE_IDLE_CODE = """
mutation($input: DeactivateIdleCodeInput!) { deactivateIdleCode(input: $input) { __typename } }
"""
AGENT_EVENTS = """
subscription($agentId: ID, $after: Int) {
  agentEvents(agentId: $agentId, after: $after) {
    __typename
    ... on Event { seq cause { kind id } }
    ... on AgentLoggedIn { teamId state idleCodeId reason version }
    ... on AgentLoggedOut { fromState fromIdleCodeId reason version }
    ... on AgentStateChanged {
      fromState toState fromIdleCodeId idleCodeId reason version idleCode { name }
    }
    ... on AgentNextStateChanged { nextState idleCodeId reason version }
  }
}"""

NextEvent = Callable[[], Awaitable[dict[str, Any]]]


class Desk:
    """An organization with two teams, two idle codes, an agent (its token's subject is its id)
    and a supervisor."""

    def __init__(self, server: Server, org_id: str) -> None:
        self.server = server
        self.org_id = org_id
        self.admin = Admin(server, org_id)
        self.supervisor = token(org_id, Role.SUPERVISOR, subject="sup-1")
        self.teams: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self.profile_id = ""

    async def setup(self) -> Desk:
        for name in ("Sales", "Support"):
            self.teams[name] = await self.admin.team(name)
        for name in ("Lunch", "Meeting"):
            made = await execute(
                self.server, self.admin.token, CREATE_IDLE_CODE, {"input": {"name": name}}
            )
            self.codes[name] = made["createIdleCode"]["idleCode"]["id"]
        self.profile_id = await self.admin.profile()
        return self

    async def agent(self, name: str = "Ada", teams: tuple[str, ...] = ("Sales",)) -> str:
        agent_id = f"agent-{uuid.uuid4().hex[:12]}"
        await self.admin.make(
            "Agent",
            id=agent_id,
            name=name,
            email=f"{name.lower()}-{agent_id}@example.com",
            teamIds=[self.teams[team] for team in teams],
            profileId=self.profile_id,
            extension="1001",
        )
        return agent_id

    def agent_token(self, agent_id: str) -> str:
        return token(self.org_id, Role.AGENT, subject=agent_id)

    async def call(self, bearer: str, operation: str, **fields: Any) -> dict[str, Any]:
        result = await execute(self.server, bearer, operation, {"input": fields})
        return next(iter(result.values()))

    async def ok(self, bearer: str, operation: str, **fields: Any) -> dict[str, Any]:
        outcome = await self.call(bearer, operation, **fields)
        assert outcome["__typename"].endswith("Success"), outcome
        return outcome["agentSession"]

    async def logged_in(self, name: str = "Ada", team: str = "Sales") -> tuple[str, str]:
        agent_id = await self.agent(name, (team,))
        bearer = self.agent_token(agent_id)
        await self.ok(bearer, LOG_IN, teamId=self.teams[team])
        return agent_id, bearer


@pytest.fixture
async def desk(server: Server, org_id: str) -> Desk:
    return await Desk(server, org_id).setup()


@contextlib.asynccontextmanager
async def agent_events(server: Server, bearer: str, agent_id: str) -> AsyncIterator[NextEvent]:
    """Session events of ``agent_id`` from the start of its stream (configuration events skipped)."""
    async with websocket(server, bearer) as session:
        request = GraphQLRequest(AGENT_EVENTS, variable_values={"agentId": agent_id, "after": 0})
        events = session.subscribe(request)

        async def next_event() -> dict[str, Any]:
            while True:
                event = (await asyncio.wait_for(anext(events), WAIT))["agentEvents"]
                if event["__typename"] != "AgentConfigurationChanged":
                    return event

        try:
            yield next_event
        finally:
            await events.aclose()


def state_of(session: dict[str, Any]) -> tuple[Any, ...]:
    return (session["loggedIn"], session["state"], session["idleCodeId"], session["version"])


# --- log in and out ------------------------------------------------------------------------


async def test_an_agent_logs_in_to_one_of_its_teams_and_starts_available(desk: Desk) -> None:
    agent_id = await desk.agent("Ada", ("Sales", "Support"))
    bearer = desk.agent_token(agent_id)

    session = await desk.ok(bearer, LOG_IN, teamId=desk.teams["Support"])

    assert (session["agentId"], session["loggedIn"], session["team"]) == (
        agent_id,
        True,
        {"name": "Support"},
    )
    assert (session["state"], session["stateReason"], session["stateChangedBy"]) == (
        "AVAILABLE",
        "LOGIN",
        {"kind": "AGENT", "id": agent_id},
    )
    assert (session["dialNumber"], session["name"], session["version"]) == ("1001", "Ada", 1)
    assert (session["activeTaskCount"], session["pendingOfferCount"]) == (0, 0)
    mine = await execute(desk.server, bearer, MY_SESSION)
    assert mine["myAgentSession"] == session | {
        "secondsInState": mine["myAgentSession"]["secondsInState"]
    }


async def test_logging_in_to_a_team_that_is_not_the_agents_is_a_validation_error(
    desk: Desk,
) -> None:
    agent_id = await desk.agent("Ada", ("Sales",))
    outcome = await desk.call(desk.agent_token(agent_id), LOG_IN, teamId=desk.teams["Support"])
    assert (outcome["__typename"], outcome["field"], outcome["rule"]) == (
        "ValidationError",
        "teamId",
        "agent_team",
    )
    bad_number = await desk.call(
        desk.agent_token(agent_id), LOG_IN, teamId=desk.teams["Sales"], dialNumber="12-34"
    )
    assert (bad_number["field"], bad_number["rule"]) == ("dialNumber", "dial_number")
    mine = await execute(desk.server, desk.agent_token(agent_id), MY_SESSION)
    assert mine["myAgentSession"] is None


async def test_only_agents_of_the_organization_log_in(desk: Desk) -> None:
    stranger = token(desk.org_id, Role.AGENT, subject="nobody-here")
    outcome = await desk.call(stranger, LOG_IN, teamId=desk.teams["Sales"])
    assert (outcome["__typename"], outcome["code"]) == ("NotFoundError", "NOT_FOUND")
    with pytest.raises(GraphQLErrors) as refused:
        await desk.call(desk.supervisor, LOG_IN, teamId=desk.teams["Sales"])
    assert refused.value.codes == ["FORBIDDEN"]


async def test_idle_needs_an_active_idle_code(desk: Desk) -> None:
    _, bearer = await desk.logged_in()
    missing = await desk.call(bearer, SET_STATE, state="IDLE")
    assert (missing["__typename"], missing["field"], missing["rule"]) == (
        "ValidationError",
        "idleCodeId",
        "required",
    )
    unknown = await desk.call(bearer, SET_STATE, state="IDLE", idleCodeId="no-such-code")
    assert (unknown["field"], unknown["rule"]) == ("idleCodeId", "reference")
    await execute(
        desk.server, desk.admin.token, DEACTIVATE_IDLE_CODE, {"input": {"id": desk.codes["Lunch"]}}
    )
    retired = await desk.call(bearer, SET_STATE, state="IDLE", idleCodeId=desk.codes["Lunch"])
    assert (retired["field"], retired["rule"]) == ("idleCodeId", "reference")
    mine = await execute(desk.server, bearer, MY_SESSION)
    assert state_of(mine["myAgentSession"]) == (True, "AVAILABLE", None, 1)


async def test_each_valid_transition(desk: Desk) -> None:
    agent_id, bearer = await desk.logged_in()
    lunch, meeting = desk.codes["Lunch"], desk.codes["Meeting"]

    idle = await desk.ok(bearer, SET_STATE, state="IDLE", idleCodeId=lunch)
    assert (*state_of(idle), idle["idleCode"]["name"], idle["stateReason"]) == (
        (True, "IDLE", lunch, 2, "Lunch", "AGENT_REQUEST")
    )
    other_code = await desk.ok(bearer, SET_STATE, state="IDLE", idleCodeId=meeting)
    assert state_of(other_code) == (True, "IDLE", meeting, 3)
    available = await desk.ok(bearer, SET_STATE, state="AVAILABLE")
    assert state_of(available) == (True, "AVAILABLE", None, 4)
    out = await desk.ok(bearer, LOG_OUT)
    assert (*state_of(out), out["teamId"], out["stateReason"]) == (
        (False, None, None, 5, None, "AGENT_REQUEST")
    )
    back_idle = await desk.ok(bearer, LOG_IN, teamId=desk.teams["Sales"], idleCodeId=lunch)
    assert (*state_of(back_idle), back_idle["agentId"]) == (True, "IDLE", lunch, 6, agent_id)


async def test_invalid_transitions_name_the_current_state(desk: Desk) -> None:
    agent_id = await desk.agent()
    bearer = desk.agent_token(agent_id)
    cases = [
        (SET_STATE, {"state": "AVAILABLE"}, "LOGGED_OUT"),
        (LOG_OUT, {}, "LOGGED_OUT"),
        (CANCEL_NEXT_STATE, {}, "LOGGED_OUT"),
    ]
    for operation, fields, current in cases:
        outcome = await desk.call(bearer, operation, **fields)
        assert (outcome["__typename"], outcome["code"], outcome["currentState"]) == (
            "InvalidStateError",
            "INVALID_STATE",
            current,
        )

    await desk.ok(bearer, LOG_IN, teamId=desk.teams["Sales"])
    cases = [
        (LOG_IN, {"teamId": desk.teams["Sales"]}, "AVAILABLE"),
        (SET_STATE, {"state": "AVAILABLE"}, "AVAILABLE"),
        (CANCEL_NEXT_STATE, {}, "AVAILABLE"),
    ]
    for operation, fields, current in cases:
        outcome = await desk.call(bearer, operation, **fields)
        assert (outcome["__typename"], outcome["currentState"]) == ("InvalidStateError", current)
    rona = await desk.call(bearer, SET_STATE, state="RONA")
    assert (rona["__typename"], rona["field"], rona["rule"]) == (
        "ValidationError",
        "state",
        "requestable",
    )


async def test_a_supervisor_sets_an_agents_state_and_another_orgs_supervisor_cannot(
    desk: Desk, server: Server
) -> None:
    agent_id, _ = await desk.logged_in()
    lunch = desk.codes["Lunch"]

    idle = await desk.ok(
        desk.supervisor, SET_STATE, agentId=agent_id, state="IDLE", idleCodeId=lunch
    )
    assert (idle["stateReason"], idle["stateChangedBy"]) == (
        "SUPERVISOR_REQUEST",
        {"kind": "SUPERVISOR", "id": "sup-1"},
    )

    elsewhere = token(new_org_id(), Role.SUPERVISOR)
    foreign = await desk.call(elsewhere, SET_STATE, agentId=agent_id, state="AVAILABLE")
    assert (foreign["__typename"], foreign["code"]) == ("NotFoundError", "NOT_FOUND")
    other_id, other_bearer = await desk.logged_in("Grace")
    peer = await desk.call(other_bearer, SET_STATE, agentId=agent_id, state="AVAILABLE")
    assert (peer["__typename"], peer["code"]) == ("ForbiddenError", "FORBIDDEN")
    with pytest.raises(GraphQLErrors) as admin_only:
        await desk.call(desk.admin.token, SET_STATE, agentId=agent_id, state="AVAILABLE")
    assert admin_only.value.codes == ["FORBIDDEN"]

    out = await desk.ok(desk.supervisor, LOG_OUT, agentId=other_id)
    assert (out["loggedIn"], out["stateReason"]) == (False, "SUPERVISOR_REQUEST")
    mine = await execute(server, desk.agent_token(agent_id), MY_SESSION)
    assert state_of(mine["myAgentSession"]) == (True, "IDLE", lunch, 2)


async def test_every_change_arrives_on_agent_events_with_cause_and_reason(desk: Desk) -> None:
    agent_id = await desk.agent()
    bearer = desk.agent_token(agent_id)
    lunch = desk.codes["Lunch"]
    agent = {"kind": "AGENT", "id": agent_id}
    supervisor = {"kind": "SUPERVISOR", "id": "sup-1"}

    async with agent_events(desk.server, desk.supervisor, agent_id) as next_event:
        await desk.ok(bearer, LOG_IN, teamId=desk.teams["Sales"])
        logged_in = await next_event()
        await desk.ok(bearer, SET_STATE, state="IDLE", idleCodeId=lunch)
        idle = await next_event()
        await desk.ok(desk.supervisor, SET_STATE, agentId=agent_id, state="AVAILABLE")
        available = await next_event()
        await desk.ok(desk.supervisor, LOG_OUT, agentId=agent_id)
        logged_out = await next_event()

    assert logged_in == {
        "__typename": "AgentLoggedIn",
        "seq": logged_in["seq"],
        "cause": agent,
        "teamId": desk.teams["Sales"],
        "state": "AVAILABLE",
        "idleCodeId": None,
        "reason": "LOGIN",
        "version": 1,
    }
    assert (idle["__typename"], idle["cause"], idle["reason"], idle["version"]) == (
        "AgentStateChanged",
        agent,
        "AGENT_REQUEST",
        2,
    )
    assert (idle["fromState"], idle["toState"], idle["idleCodeId"], idle["idleCode"]) == (
        "AVAILABLE",
        "IDLE",
        lunch,
        {"name": "Lunch"},
    )
    assert (available["cause"], available["reason"], available["fromIdleCodeId"]) == (
        supervisor,
        "SUPERVISOR_REQUEST",
        lunch,
    )
    assert (available["fromState"], available["toState"], available["version"]) == (
        "IDLE",
        "AVAILABLE",
        3,
    )
    assert (logged_out["__typename"], logged_out["cause"], logged_out["reason"]) == (
        "AgentLoggedOut",
        supervisor,
        "SUPERVISOR_REQUEST",
    )
    assert (logged_out["fromState"], logged_out["version"]) == ("AVAILABLE", 4)
    seqs = [event["seq"] for event in (logged_in, idle, available, logged_out)]
    assert seqs == list(range(seqs[0], seqs[0] + 4))


async def test_without_work_the_next_state_applies_at_once(desk: Desk) -> None:
    agent_id, bearer = await desk.logged_in()
    lunch = desk.codes["Lunch"]

    async with agent_events(desk.server, bearer, agent_id) as next_event:
        assert (await next_event())["__typename"] == "AgentLoggedIn"
        idle = await desk.ok(bearer, SET_NEXT_STATE, state="IDLE", idleCodeId=lunch)
        assert (*state_of(idle), idle["stateReason"], idle["nextState"]) == (
            (True, "IDLE", lunch, 2, "NEXT_STATE_APPLIED", None)
        )
        applied = await next_event()
        assert (applied["__typename"], applied["toState"], applied["reason"]) == (
            "AgentStateChanged",
            "IDLE",
            "NEXT_STATE_APPLIED",
        )
        assert applied["cause"] == {"kind": "AGENT", "id": agent_id}

        out = await desk.ok(desk.supervisor, SET_NEXT_STATE, agentId=agent_id, state="LOGOUT")
        assert (*state_of(out), out["stateReason"]) == (
            (False, None, None, 3, "NEXT_STATE_APPLIED")
        )
        logged_out = await next_event()
        assert (logged_out["__typename"], logged_out["reason"], logged_out["cause"]["kind"]) == (
            "AgentLoggedOut",
            "NEXT_STATE_APPLIED",
            "SUPERVISOR",
        )


async def test_a_repeated_request_with_its_idempotency_key_changes_nothing(desk: Desk) -> None:
    _, bearer = await desk.logged_in()
    fields = {"state": "IDLE", "idleCodeId": desk.codes["Lunch"], "idempotencyKey": "click-1"}

    first = await desk.ok(bearer, SET_STATE, **fields)
    again = await desk.ok(bearer, SET_STATE, **fields)

    assert state_of(again) == state_of(first) == (True, "IDLE", desk.codes["Lunch"], 2)
    mine = await execute(desk.server, bearer, MY_SESSION)
    assert mine["myAgentSession"]["version"] == 2


async def test_concurrent_changes_by_agent_and_supervisor_stay_consistent(desk: Desk) -> None:
    agent_id, bearer = await desk.logged_in()
    lunch, meeting = desk.codes["Lunch"], desk.codes["Meeting"]
    agent_targets = [{"state": "IDLE", "idleCodeId": lunch}, {"state": "AVAILABLE"}] * 10
    supervisor_targets = [{"state": "AVAILABLE"}, {"state": "IDLE", "idleCodeId": meeting}] * 10
    supervisor_targets = [fields | {"agentId": agent_id} for fields in supervisor_targets]

    async def clicks(who: str, kind: str, targets: list[dict[str, Any]]) -> list[Any]:
        """One person clicking 20 times, each click once the previous one is answered."""
        return [(kind, await desk.call(who, SET_STATE, **fields)) for fields in targets]

    async with agent_events(desk.server, desk.supervisor, agent_id) as next_event:
        assert (await next_event())["__typename"] == "AgentLoggedIn"
        by_agent, by_supervisor = await asyncio.gather(
            clicks(bearer, "AGENT", agent_targets),
            clicks(desk.supervisor, "SUPERVISOR", supervisor_targets),
        )
        requests = [kind for kind, _ in by_agent + by_supervisor]
        outcomes = [outcome for _, outcome in by_agent + by_supervisor]
        # Refusals are requests for the state the agent was already in; nothing else may fail.
        assert {o["__typename"] for o in outcomes} <= {"SetAgentStateSuccess", "InvalidStateError"}
        changes = {
            o["agentSession"]["version"]: (
                kind,
                o["agentSession"]["state"],
                o["agentSession"]["idleCodeId"],
            )
            for o, kind in zip(outcomes, requests, strict=True)
            if o["__typename"] == "SetAgentStateSuccess"
        }
        successes = sum(o["__typename"] == "SetAgentStateSuccess" for o in outcomes)
        assert successes >= 1
        # Every success got its own version, one after the other from the log-in's, and each
        # person's changes took effect in the order they were made.
        assert sorted(changes) == list(range(2, 2 + successes))
        for side in (by_agent, by_supervisor):
            versions = [o["agentSession"]["version"] for _, o in side if "agentSession" in o]
            assert versions == sorted(versions)

        events = [await next_event() for _ in range(successes)]
        assert [event["version"] for event in events] == sorted(changes)
        previous = ("AVAILABLE", None)
        for event in events:
            kind, state, code = changes[event["version"]]
            assert event["__typename"] == "AgentStateChanged"
            assert (event["fromState"], event["fromIdleCodeId"]) == previous
            assert (event["toState"], event["idleCodeId"]) == (state, code)
            assert (event["cause"]["kind"], event["reason"]) == (kind, f"{kind}_REQUEST")
            previous = (state, code)
        seqs = [event["seq"] for event in events]
        assert seqs == list(range(seqs[0], seqs[0] + successes))

        final = (await execute(desk.server, bearer, MY_SESSION))["myAgentSession"]
        assert state_of(final) == (True, *previous, 1 + successes)
        # Nothing more was pushed for those requests: the next event is the log-out's.
        await desk.ok(bearer, LOG_OUT)
        after = await next_event()
        assert (after["__typename"], after["version"]) == ("AgentLoggedOut", 2 + successes)


# --- availability ---------------------------------------------------------------------------


async def test_agents_and_supervisors_list_who_is_logged_in_with_state_and_time_in_state(
    desk: Desk,
) -> None:
    ada, ada_bearer = await desk.logged_in("Ada", "Sales")
    await desk.logged_in("Grace", "Support")
    barbara, barbara_bearer = await desk.logged_in("Barbara", "Sales")
    await desk.ok(barbara_bearer, SET_STATE, state="IDLE", idleCodeId=desk.codes["Meeting"])
    await desk.agent("Linus", ("Sales",))  # never logged in
    other_desk = await Desk(desk.server, new_org_id()).setup()
    await other_desk.logged_in("Alan", "Sales")

    page = await execute(
        desk.server, ada_bearer, AVAILABILITY, {"teamId": desk.teams["Sales"], "first": 1}
    )
    first = page["agentAvailability"]
    assert [(n["agentId"], n["name"], n["state"]) for n in first["nodes"]] == [
        (ada, "Ada", "AVAILABLE")
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    node = first["nodes"][0]
    assert (node["team"], node["idleCode"], node["secondsInState"] >= 0) == (
        {"name": "Sales"},
        None,
        True,
    )
    rest = await execute(
        desk.server,
        desk.supervisor,
        AVAILABILITY,
        {"teamId": desk.teams["Sales"], "first": 10, "after": first["pageInfo"]["endCursor"]},
    )
    nodes = rest["agentAvailability"]["nodes"]
    assert [(n["agentId"], n["state"], n["idleCode"]) for n in nodes] == [
        (barbara, "IDLE", {"name": "Meeting"})
    ]
    assert rest["agentAvailability"]["pageInfo"]["hasNextPage"] is False

    everyone = await execute(desk.server, desk.supervisor, AVAILABILITY, {"first": 10})
    assert [n["name"] for n in everyone["agentAvailability"]["nodes"]] == [
        "Ada",
        "Barbara",
        "Grace",
    ]


async def test_availability_is_not_for_admins_or_integrations_and_pages_are_bounded(
    desk: Desk,
) -> None:
    for role in (Role.ADMIN, Role.INTEGRATION):
        with pytest.raises(GraphQLErrors) as refused:
            await execute(desk.server, token(desk.org_id, role), AVAILABILITY, {"first": 5})
        assert refused.value.codes == ["FORBIDDEN"]
    with pytest.raises(GraphQLErrors) as too_many:
        await execute(desk.server, desk.supervisor, AVAILABILITY, {"first": 1000})
    assert too_many.value.codes == ["VALIDATION_FAILED"]
