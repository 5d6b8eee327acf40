"""A contact center in a fresh organization, driven through the public API as its clients would:
an admin who builds teams, profiles, queues and entry points; agents who log in and answer offers;
a connector that reports contacts; a supervisor who watches. Shared by the routing and offer tests
and ``bench/offers.py``."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gql import GraphQLRequest

from domain.identity import Role
from tests.api.client import execute, websocket
from tests.api.server import Server, token
from tests.api.test_configuration_a import Admin

WAIT = 30.0

OUTCOME = """
    __typename
    ... on Error { code message }
    ... on ValidationError { field rule violations { field rule } }
    ... on InvalidStateError { currentState }
"""
TASK = """id channel status queueId entryPointId agentId offerId offerCount priority queuedAt
    createdAt statusSince waitedSeconds ani dnis subject version
    customer { name customerId address } cad { name value } transcript { sender text sentAt }"""
OFFER = """id taskId agentId channel offeredAt deadline outcome endedAt endedBy { kind id }
    customerName customerId customerAddress queueId queueName entryPointId entryPointName dnis
    subject queuedAt waitedSeconds variables { name label value } version"""
SESSION = """agentId loggedIn state stateReason stateChangedBy { kind id } activeTaskCount
    pendingOfferCount version"""

REPORT_CONTACT = f"""
mutation($input: ReportContactInput!) {{
  reportContact(input: $input) {{ {OUTCOME} ... on ReportContactSuccess {{ task {{ {TASK} }} }} }}
}}"""
ABANDON_CONTACT = f"""
mutation($input: AbandonContactInput!) {{
  abandonContact(input: $input) {{ {OUTCOME} ... on AbandonContactSuccess {{ task {{ {TASK} }} }} }}
}}"""
ACCEPT_OFFER = f"""
mutation($input: AcceptOfferInput!) {{
  acceptOffer(input: $input) {{
    {OUTCOME} ... on AcceptOfferSuccess {{ offer {{ {OFFER} }} task {{ {TASK} }} }}
  }}
}}"""
DECLINE_OFFER = f"""
mutation($input: DeclineOfferInput!) {{
  declineOffer(input: $input) {{ {OUTCOME} ... on DeclineOfferSuccess {{ offer {{ {OFFER} }} }} }}
}}"""
ACCEPT_ALL_OFFERS = f"""
mutation($input: AcceptAllOffersInput) {{
  acceptAllOffers(input: $input) {{
    {OUTCOME}
    ... on AcceptAllOffersSuccess {{
      accepted {{ offer {{ id outcome }} task {{ id status }} }} refused {{ offerId code }}
    }}
  }}
}}"""
REQUEST_CONTACT = f"""
mutation($input: RequestContactInput) {{
  requestContact(input: $input) {{ {OUTCOME} ... on RequestContactSuccess {{ offer {{ {OFFER} }} }} }}
}}"""
LOG_IN = f"""
mutation($input: LogInInput!) {{
  logIn(input: $input) {{ {OUTCOME} ... on LogInSuccess {{ agentSession {{ {SESSION} }} }} }}
}}"""
LOG_OUT = f"""
mutation($input: LogOutInput!) {{
  logOut(input: $input) {{ {OUTCOME} ... on LogOutSuccess {{ agentSession {{ {SESSION} }} }} }}
}}"""
SET_STATE = f"""
mutation($input: SetAgentStateInput!) {{
  setAgentState(input: $input) {{
    {OUTCOME} ... on SetAgentStateSuccess {{ agentSession {{ {SESSION} }} }}
  }}
}}"""
SET_NEXT_STATE = f"""
mutation($input: SetNextStateInput!) {{
  setNextState(input: $input) {{
    {OUTCOME} ... on SetNextStateSuccess {{ agentSession {{ {SESSION} }} }}
  }}
}}"""
MY_SESSION = f"{{ myAgentSession {{ {SESSION} }} }}"
OFFERS = f"""
query($offset: Int!, $first: Int!) {{
  offers(offset: $offset, first: $first) {{ totalCount offset hasNextPage items {{ {OFFER} }} }}
}}"""
MY_TASKS = f"{{ myTasks {{ channel tasks {{ {TASK} }} }} }}"
TASK_BY_ID = f"query($id: ID!) {{ task(id: $id) {{ {TASK} }} }}"
QUEUE_STATS_QUERY = """
query($queueIds: [ID!]) {
  queueStats(queueIds: $queueIds) {
    at queues { queueId name channel waiting oldestQueuedAt longestWaitSeconds
                agents { state agents } }
  }
}"""
OFFER_EVENTS = f"""
subscription($after: Int) {{
  offers(after: $after) {{
    __typename
    ... on Event {{ seq cause {{ kind id }} }}
    ... on OfferMade {{ offerId taskId channel deadline offer {{ {OFFER} }} }}
    ... on OfferEnded {{ offerId taskId channel outcome }}
    ... on ResyncRequired {{ headSeq }}
  }}
}}"""
RONA_EVENTS = """
subscription($after: Int, $queueId: ID) {
  ronaEvents(after: $after, queueId: $queueId) {
    __typename
    ... on Event { seq cause { kind id } }
    ... on RonaEvent { offerId taskId agentId queueId teamId channel }
  }
}"""
QUEUE_STATS = """
subscription($queueIds: [ID!]) {
  queueStats(queueIds: $queueIds) {
    at queues { queueId waiting oldestQueuedAt longestWaitSeconds agents { state agents } }
  }
}"""
CREATE_ENTRY_POINT = """
mutation($input: CreateEntryPointInput!) {
  createEntryPoint(input: $input) {
    __typename ... on CreateEntryPointSuccess { entryPoint { id } }
  }
}"""

NextItem = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Line:
    """A queue and the inbound entry point that feeds it."""

    queue_id: str
    entry_point_id: str
    team_id: str
    channel: str


@dataclass
class Center:
    server: Server
    org_id: str
    admin: Admin = field(init=False)
    connector: str = field(init=False)
    supervisor: str = field(init=False)

    def __post_init__(self) -> None:
        self.admin = Admin(self.server, self.org_id)
        self.connector = token(self.org_id, Role.INTEGRATION, subject="connector-1")
        self.supervisor = token(self.org_id, Role.SUPERVISOR, subject="supervisor-1")

    # --- configuration ------------------------------------------------------------------------

    async def profile(
        self, voice: int = 1, chat: int = 0, email: int = 0, mode: str = "BLENDED"
    ) -> str:
        channels = [
            {"channel": channel, "maxConcurrent": count}
            for channel, count in (("VOICE", voice), ("CHAT", chat), ("EMAIL", email))
            if count
        ]
        made = await self.admin.make(
            "MultimediaProfile",
            name=f"profile-{uuid.uuid4().hex[:6]}",
            channels=channels,
            voiceMode=mode,
        )
        return str(made["id"])

    async def line(
        self,
        channel: str = "VOICE",
        *,
        team_id: str | None = None,
        offer_timeout: int = 30,
        **queue_fields: Any,
    ) -> Line:
        team_id = team_id or await self.admin.team(f"team-{uuid.uuid4().hex[:6]}")
        queue = await self.admin.make(
            "Queue",
            name=f"{channel.lower()}-{uuid.uuid4().hex[:6]}",
            channel=channel,
            teamIds=[team_id],
            offerTimeoutSeconds=offer_timeout,
            **queue_fields,
        )
        address = {
            "VOICE": f"+1555{uuid.uuid4().int % 10**7:07d}",
            "EMAIL": f"support-{uuid.uuid4().hex[:6]}@example.com",
        }.get(channel, f"{channel.lower()}-{uuid.uuid4().hex[:6]}")
        made = await execute(
            self.server,
            self.admin.token,
            CREATE_ENTRY_POINT,
            {
                "input": {
                    "name": f"ep-{uuid.uuid4().hex[:6]}",
                    "channel": channel,
                    "direction": "INBOUND",
                    "address": address,
                    "queueId": queue["id"],
                }
            },
        )
        entry_point = made["createEntryPoint"]["entryPoint"]["id"]
        return Line(queue["id"], entry_point, team_id, channel)

    async def agent(
        self, team_id: str, profile_id: str, *, skills: list[dict[str, Any]] | None = None
    ) -> str:
        agent_id = f"agent-{uuid.uuid4().hex[:10]}"
        await self.admin.make(
            "Agent",
            id=agent_id,
            name=f"Agent {agent_id[-4:]}",
            email=f"{agent_id}@example.com",
            teamIds=[team_id],
            profileId=profile_id,
            skills=skills or [],
        )
        return agent_id

    def agent_token(self, agent_id: str) -> str:
        return token(self.org_id, Role.AGENT, subject=agent_id)

    async def logged_in_agent(
        self, team_id: str, profile_id: str, **fields: Any
    ) -> tuple[str, str]:
        agent_id = await self.agent(team_id, profile_id, **fields)
        bearer = self.agent_token(agent_id)
        outcome = await self.call(bearer, LOG_IN, teamId=team_id)
        assert outcome["__typename"] == "LogInSuccess", outcome
        return agent_id, bearer

    # --- operations ---------------------------------------------------------------------------

    async def call(self, bearer: str, operation: str, **fields: Any) -> dict[str, Any]:
        result = await execute(self.server, bearer, operation, {"input": fields})
        return next(iter(result.values()))

    async def query(self, bearer: str, operation: str, **variables: Any) -> Any:
        result = await execute(self.server, bearer, operation, variables)
        return next(iter(result.values()))

    async def report(self, line: Line, **fields: Any) -> dict[str, Any]:
        defaults: dict[str, Any] = {"entryPointId": line.entry_point_id}
        if line.channel == "VOICE":
            defaults["ani"] = "+15550001111"
        else:
            defaults["customer"] = {"name": "Grace"}
        outcome = await self.call(self.connector, REPORT_CONTACT, **(defaults | fields))
        assert outcome["__typename"] == "ReportContactSuccess", outcome
        return outcome["task"]

    async def task(self, task_id: str) -> dict[str, Any]:
        return await self.query(self.supervisor, TASK_BY_ID, id=task_id)

    async def session(self, bearer: str) -> dict[str, Any]:
        return await self.query(bearer, MY_SESSION)

    async def pending_offers(self, bearer: str, first: int = 50) -> list[dict[str, Any]]:
        page = await self.query(bearer, OFFERS, offset=0, first=first)
        return page["items"]


@contextlib.asynccontextmanager
async def subscription(
    server: Server, bearer: str, operation: str, **variables: Any
) -> AsyncIterator[NextItem]:
    """Items of one subscription, each awaited with a generous bound (never a pause)."""
    async with websocket(server, bearer) as session:
        items = session.subscribe(GraphQLRequest(operation, variable_values=variables))

        async def next_item() -> dict[str, Any]:
            item = await asyncio.wait_for(anext(items), WAIT)
            return next(iter(item.values()))

        try:
            yield next_item
        finally:
            await items.aclose()


# --- shared by the routing and RONA tests --------------------------------------------------------

AGENT_EVENTS = """
subscription($agentId: ID, $after: Int) {
  agentEvents(agentId: $agentId, after: $after) {
    __typename
    ... on Event { seq cause { kind id } }
    ... on AgentLoggedIn { state reason }
    ... on AgentLoggedOut { fromState reason }
    ... on AgentStateChanged { fromState toState reason }
    ... on AgentNextStateChanged { nextState reason }
  }
}"""
CREATE_IDLE_CODE = """
mutation($input: CreateIdleCodeInput!) {
  createIdleCode(input: $input) { __typename ... on CreateIdleCodeSuccess { idleCode { id } } }
}"""


async def idle_code(center: Center, name: str = "Break") -> str:
    """An active idle code of the center's organization."""
    made = await execute(
        center.server, center.admin.token, CREATE_IDLE_CODE, {"input": {"name": name}}
    )
    return str(made["createIdleCode"]["idleCode"]["id"])


async def next_matching(
    next_item: NextItem, wanted: Callable[[dict[str, Any]], bool], *, limit: int = 100
) -> dict[str, Any]:
    """The first item ``wanted`` accepts, skipping (at most ``limit``) others; each is awaited with
    the subscription's bound."""
    for _ in range(limit):
        item = await next_item()
        if wanted(item):
            return item
    raise AssertionError(f"no wanted item among {limit}")
