"""Offers under concurrent requests, across two server instances, and across a crash (SPEC §3:
"nothing is ever offered to two agents at once, and no agent is ever over capacity — also with
several server instances and concurrent requests"; DESIGN "Routing", "Durable timers").

Two servers share one fresh database for the whole module; each test works in an organization of
its own and spreads its requests over both. Their routing sweep runs once an hour, so every match
must come from the follow-up of the change that made it possible: a free slot next to a waiting
task is a lost wake-up, not something the sweep tidies up later."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from gql import GraphQLRequest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from tests.api.center import (
    ACCEPT_ALL_OFFERS,
    LOG_IN,
    OFFERS,
    QUEUE_STATS_QUERY,
    SET_STATE,
    Center,
    Line,
)
from tests.api.client import execute, websocket
from tests.api.pair import Pair
from tests.api.server import Server, start_server

WAIT = 30.0  # the bound of every wait; never a pause
NO_RONA = 600  # the longest offer timeout: no deadline passes during a test
RONA_TIMEOUT = 5  # the shortest
ATTEMPTS = 50
# How many events may wait for a subscriber that does not read before it is cut off: low, so that
# the test of it runs in seconds; far above what a reading subscriber here ever lags behind.
MAX_PENDING = 64

OFFER_FEED = """
subscription($after: Int) {
  offers(after: $after) {
    __typename
    ... on Event { seq occurredAt cause { kind id } }
    ... on OfferMade { offerId taskId channel deadline }
    ... on OfferEnded { offerId taskId channel outcome }
    ... on ResyncRequired { headSeq }
  }
}"""
RONA_FEED = """
subscription($after: Int) {
  ronaEvents(after: $after) {
    __typename
    ... on Event { seq cause { kind id } }
    ... on RonaEvent { offerId taskId agentId queueId channel }
    ... on ResyncRequired { headSeq }
  }
}"""
ANSWER = """__typename ... on Error { code } ... on InvalidStateError { currentState }"""
ACCEPT = f"""
mutation($input: AcceptOfferInput!) {{
  acceptOffer(input: $input) {{
    {ANSWER}
    ... on AcceptOfferSuccess {{
      offer {{ id taskId agentId outcome offeredAt deadline endedAt endedBy {{ kind id }} version }}
      task {{ id status agentId offerId offerCount connectedAt statusSince version }}
    }}
  }}
}}"""
DECLINE = f"""
mutation($input: DeclineOfferInput!) {{
  declineOffer(input: $input) {{ {ANSWER} ... on DeclineOfferSuccess {{ offer {{ id outcome }} }} }}
}}"""
ABANDON = f"""
mutation($input: AbandonContactInput!) {{
  abandonContact(input: $input) {{ {ANSWER} ... on AbandonContactSuccess {{ task {{ id status }} }} }}
}}"""
CREATE_IDLE_CODE = """
mutation($input: CreateIdleCodeInput!) {
  createIdleCode(input: $input) { __typename ... on CreateIdleCodeSuccess { idleCode { id } } }
}"""
TASK = """
query($id: ID!) { task(id: $id) { id channel status agentId offerId offerCount version } }"""
SESSION = "{ myAgentSession { agentId state activeTaskCount pendingOfferCount } }"


# --- two instances ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    database = f"pair_{uuid.uuid4().hex[:8]}"
    log_dir = tmp_path_factory.mktemp("pair")

    def start() -> Server:
        return start_server(
            mongodb_url=mongodb_url,
            database=database,
            log_dir=log_dir,
            extra_env={
                "OMNIDESK_ROUTING_SWEEP_SECONDS": "3600",
                "OMNIDESK_SUBSCRIBER_MAX_PENDING": str(MAX_PENDING),
            },
        )

    running = Pair(start)
    try:
        yield running
    finally:
        running.stop()


def alternate(*centers: Center) -> Callable[[int], Center]:
    """The n-th request goes to each instance in turn."""
    return lambda n: centers[n % len(centers)]


# --- subscriptions read in the background -------------------------------------------------------


class Feeds:
    """Several subscriptions, each read in the background as its events come, under a key."""

    def __init__(self) -> None:
        self.items: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._changed = asyncio.Event()
        self._errors: list[BaseException] = []

    def __getitem__(self, key: str) -> list[dict[str, Any]]:
        return self.items[key]

    def of(self, typename: str) -> list[dict[str, Any]]:
        return [i for items in self.items.values() for i in items if i["__typename"] == typename]

    def last_seq(self, key: str) -> int:
        return max((item["seq"] for item in self.items[key]), default=0)

    async def until(self, done: Callable[[], bool]) -> None:
        """Wait (bounded) until ``done()`` holds for what has arrived."""
        async with asyncio.timeout(WAIT):
            while not done():
                if self._errors:
                    raise self._errors[0]
                self._changed.clear()
                await self._changed.wait()

    @contextlib.asynccontextmanager
    async def follow(
        self, key: str, server: Server, bearer: str, operation: str, **variables: Any
    ) -> AsyncIterator[None]:
        async with websocket(server, bearer) as session:
            items = session.subscribe(GraphQLRequest(operation, variable_values=variables))

            async def read() -> None:
                try:
                    async for item in items:
                        self.items[key].append(next(iter(item.values())))
                        self._changed.set()
                except Exception as error:
                    self._errors.append(error)
                    self._changed.set()

            reader = asyncio.create_task(read())
            try:
                yield
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                await items.aclose()


def kinds(items: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(i["__typename"], i["offerId"], i.get("outcome")) for i in items]


def answer(result: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return (result["__typename"], result.get("code"), result.get("currentState"))


# --- building blocks ----------------------------------------------------------------------------


async def idle_code(center: Center) -> str:
    made = await execute(
        center.server, center.admin.token, CREATE_IDLE_CODE, {"input": {"name": "Lunch"}}
    )
    return str(made["createIdleCode"]["idleCode"]["id"])


async def ok(call: Awaitable[dict[str, Any]], expected: str) -> dict[str, Any]:
    outcome = await call
    assert outcome["__typename"] == expected, outcome
    return outcome


async def tasks(center: Center, task_ids: list[str]) -> list[dict[str, Any]]:
    return await asyncio.gather(*(center.query(center.supervisor, TASK, id=t) for t in task_ids))


async def offered_to(center: Center, bearer: str) -> list[dict[str, Any]]:
    page = await center.query(bearer, OFFERS, offset=0, first=50)
    return page["items"]


# --- many answers to one offer ------------------------------------------------------------------


async def test_fifty_simultaneous_accepts_of_one_offer_connect_its_task_once(
    pair: Pair, org_id: str
) -> None:
    a, b = pair.centers(org_id)
    profile = await a.profile(voice=0, chat=2)
    for _ in range(3):  # a few offers, each to an agent of its own
        await accepted_once_of_fifty(pair, a, b, profile)


async def accepted_once_of_fifty(pair: Pair, a: Center, b: Center, profile: str) -> None:
    line = await a.line("CHAT", offer_timeout=NO_RONA)
    agent_id, bearer = await a.logged_in_agent(line.team_id, profile)
    feeds = Feeds()
    async with feeds.follow("offers", pair.a, bearer, OFFER_FEED, after=0):
        # Given an offer made on instance B, seen by the agent on instance A
        task = await b.report(line)
        await feeds.until(lambda: len(feeds["offers"]) == 1)
        offer_id = feeds["offers"][0]["offerId"]

        # When the agent accepts it 50 times at once, on both instances
        on = alternate(a, b)
        results = await asyncio.gather(
            *(on(n).call(bearer, ACCEPT, offerId=offer_id) for n in range(ATTEMPTS))
        )

        # Then one accept connects the task; every other one is told it was accepted
        assert Counter(answer(r) for r in results) == {
            ("AcceptOfferSuccess", None, None): 1,
            ("InvalidStateError", "INVALID_STATE", "ACCEPTED"): ATTEMPTS - 1,
        }
        [won] = [r for r in results if r["__typename"] == "AcceptOfferSuccess"]
        assert (won["offer"]["outcome"], won["task"]["status"]) == ("ACCEPTED", "CONNECTED")
        session = await b.session(bearer)
        assert (session["activeTaskCount"], session["pendingOfferCount"]) == (1, 0)
        [stored] = await tasks(b, [task["id"]])
        assert (stored["status"], stored["agentId"], stored["version"]) == (
            "CONNECTED",
            agent_id,
            task["version"] + 1,  # one transition since the offer: connected once
        )

        # And the offer ended once: the next offer follows its one OfferEnded on the stream
        sentinel = await a.report(line)
        await feeds.until(lambda: len(feeds["offers"]) == 3)
        assert kinds(feeds["offers"]) == [
            ("OfferMade", offer_id, None),
            ("OfferEnded", offer_id, "ACCEPTED"),
            ("OfferMade", sentinel["offerId"], None),
        ]
        assert [item["seq"] for item in feeds["offers"]] == [1, 2, 3]


async def test_fifty_simultaneous_accepts_with_one_idempotency_key_all_return_the_same_success(
    pair: Pair, org_id: str
) -> None:
    a, b = pair.centers(org_id)
    on = alternate(a, b)
    line = await a.line("CHAT", offer_timeout=NO_RONA)
    agent_id, bearer = await a.logged_in_agent(line.team_id, await a.profile(voice=0, chat=2))
    feeds = Feeds()
    async with feeds.follow("offers", pair.b, bearer, OFFER_FEED, after=0):
        task = await a.report(line)
        await feeds.until(lambda: len(feeds["offers"]) == 1)
        offer_id = feeds["offers"][0]["offerId"]

        results = await asyncio.gather(
            *(
                on(n).call(bearer, ACCEPT, offerId=offer_id, idempotencyKey="accept-once")
                for n in range(ATTEMPTS)
            )
        )

        assert results[0]["__typename"] == "AcceptOfferSuccess", results[0]
        assert (results[0]["offer"]["id"], results[0]["task"]["status"]) == (offer_id, "CONNECTED")
        assert [r for r in results if r != results[0]] == []
        session = await a.session(bearer)
        assert (session["activeTaskCount"], session["pendingOfferCount"]) == (1, 0)
        sentinel = await b.report(line)
        await feeds.until(lambda: len(feeds["offers"]) == 3)
        assert kinds(feeds["offers"]) == [
            ("OfferMade", offer_id, None),
            ("OfferEnded", offer_id, "ACCEPTED"),
            ("OfferMade", sentinel["offerId"], None),
        ]
    [stored] = await tasks(a, [task["id"]])
    assert (stored["status"], stored["agentId"]) == ("CONNECTED", agent_id)


async def test_accept_decline_and_abandon_racing_on_one_offer_end_it_exactly_once(
    pair: Pair, org_id: str
) -> None:
    # Given eight chats offered to one agent
    a, b = pair.centers(org_id)
    line = await a.line("CHAT", offer_timeout=NO_RONA)
    agent_id, bearer = await a.logged_in_agent(line.team_id, await a.profile(voice=0, chat=10))
    feeds = Feeds()
    async with feeds.follow("offers", pair.a, bearer, OFFER_FEED, after=0):
        reported = await asyncio.gather(*(alternate(a, b)(n).report(line) for n in range(8)))
        offers = {task["offerId"]: task["id"] for task in reported}
        assert None not in offers

        # When, for every offer at once, the agent accepts it on one instance and declines it on
        # the other while the customer hangs up
        calls = []
        for n, (offer_id, task_id) in enumerate(offers.items()):
            first, second = alternate(a, b)(n), alternate(a, b)(n + 1)
            calls += [
                first.call(bearer, ACCEPT, offerId=offer_id),
                second.call(bearer, DECLINE, offerId=offer_id),
                second.call(first.connector, ABANDON, taskId=task_id),
            ]
        results = await asyncio.gather(*calls)

        # Then each offer ended once, and the three answers agree with how it ended
        sentinel = await a.report(line)
        await feeds.until(
            lambda: any(i.get("offerId") == sentinel["offerId"] for i in feeds["offers"])
        )
        ended = Counter(
            (i["offerId"], i["outcome"]) for i in feeds["offers"] if i["__typename"] == "OfferEnded"
        )
        expired = ("RejectedError", "OFFER_EXPIRED", None)
        expected_answers = {
            "ACCEPTED": (
                ("AcceptOfferSuccess", None, None),
                ("InvalidStateError", "INVALID_STATE", "ACCEPTED"),
                ("InvalidStateError", "INVALID_STATE", "CONNECTED"),
            ),
            "DECLINED": (
                expired,
                ("DeclineOfferSuccess", None, None),
                ("AbandonContactSuccess", None, None),
            ),
            "WITHDRAWN": (expired, expired, ("AbandonContactSuccess", None, None)),
        }
        outcomes = {}
        for n, offer_id in enumerate(offers):
            [(outcome, times)] = [(o, k) for (i, o), k in ended.items() if i == offer_id]
            assert times == 1
            outcomes[offer_id] = outcome
            assert tuple(answer(r) for r in results[3 * n : 3 * n + 3]) == expected_answers[outcome]
        stored = await tasks(a, list(offers.values()))
        assert {t["id"]: (t["status"], t["agentId"]) for t in stored} == {
            task_id: ("CONNECTED", agent_id)
            if outcomes[offer_id] == "ACCEPTED"
            else ("ABANDONED", None)
            for offer_id, task_id in offers.items()
        }
        session = await b.session(bearer)
        accepted = sum(1 for outcome in outcomes.values() if outcome == "ACCEPTED")
        assert (session["activeTaskCount"], session["pendingOfferCount"]) == (accepted, 1)


# --- two instances, many requests at once -------------------------------------------------------


async def test_an_offer_made_on_one_instance_reaches_the_agent_subscribed_to_the_other(
    pair: Pair, org_id: str
) -> None:
    a, b = pair.centers(org_id)
    line = await a.line("CHAT", offer_timeout=NO_RONA)
    agent_id, bearer = await b.logged_in_agent(line.team_id, await a.profile(voice=0, chat=1))
    feeds = Feeds()
    async with feeds.follow("offers", pair.a, bearer, OFFER_FEED, after=0):
        task = await b.report(line)
        await feeds.until(lambda: len(feeds["offers"]) == 1)

    [made] = feeds["offers"]
    assert (made["__typename"], made["taskId"], made["offerId"]) == (
        "OfferMade",
        task["id"],
        task["offerId"],
    )
    assert [o["agentId"] for o in await offered_to(a, bearer)] == [agent_id]


@dataclass
class Storm:
    """A team of agents on both instances, a chat and an email queue, and every agent's offers
    followed on instance A."""

    a: Center
    b: Center
    chat: Line
    email: Line
    agents: dict[str, str]  # agent id -> bearer
    capacity: dict[str, int]  # channel -> per agent
    feeds: Feeds
    task_ids: list[str]

    def on(self, n: int) -> Center:
        return alternate(self.a, self.b)(n)

    async def report(self, line: Line, n: int) -> None:
        self.task_ids.append((await self.on(n).report(line))["id"])

    async def state(self, n: int, agent_id: str, state: str, idle: str | None = None) -> None:
        fields = {"state": state} | ({"idleCodeId": idle} if idle else {})
        await ok(
            self.on(n).call(self.agents[agent_id], SET_STATE, **fields), "SetAgentStateSuccess"
        )

    async def settled(self) -> list[dict[str, Any]]:
        """The stored tasks, once every offer event routing made has reached the feeds. Called
        after every request returned (follow-ups included): nothing is in flight any more."""
        stored = await tasks(self.a, self.task_ids)
        made = sum(task["offerCount"] for task in stored)
        open_now = sum(1 for task in stored if task["status"] == "OFFERED")
        await self.feeds.until(
            lambda: (
                len(self.feeds.of("OfferMade")) >= made
                and len(self.feeds.of("OfferEnded")) >= made - open_now
            )
        )
        return stored

    async def check(self, stored: list[dict[str, Any]]) -> None:
        """What the offers streams and the stored data say together: each agent's stream, in
        order, never holds more offers of a channel than the agent's capacity; a task's offers
        follow each other, each ended before the next was made; and what is open now is what
        each agent's offers query and session show."""
        history: dict[str, list[tuple[int, datetime, datetime | None, str]]] = defaultdict(list)
        for agent_id in self.agents:
            items = self.feeds[agent_id]
            assert [item["seq"] for item in items] == list(range(1, len(items) + 1))
            open_offers: dict[str, dict[str, Any]] = {}
            ended_at: dict[str, datetime] = {}
            for item in items:
                if item["__typename"] == "OfferMade":
                    assert item["offerId"] not in open_offers
                    assert item["offerId"] not in ended_at
                    open_offers[item["offerId"]] = item
                    per_channel = Counter(made["channel"] for made in open_offers.values())
                    assert per_channel[item["channel"]] <= self.capacity[item["channel"]]
                else:
                    assert item["__typename"] == "OfferEnded", item
                    del open_offers[item["offerId"]]
                    ended_at[item["offerId"]] = datetime.fromisoformat(item["occurredAt"])
            for item in items:
                if item["__typename"] == "OfferMade":
                    task_id, attempt = item["offerId"].rsplit(".", 1)
                    made_at = datetime.fromisoformat(item["occurredAt"])
                    history[task_id].append(
                        (int(attempt), made_at, ended_at.get(item["offerId"]), agent_id)
                    )
            shown = await offered_to(self.a, self.agents[agent_id])
            assert {o["id"] for o in shown} == set(open_offers)
            session = await self.b.query(self.agents[agent_id], SESSION)
            assert session["pendingOfferCount"] == len(open_offers)
        for task in stored:
            offers = sorted(history[task["id"]])
            assert [attempt for attempt, *_ in offers] == list(range(1, task["offerCount"] + 1))
            for (_, _, ended, _), (_, next_made, _, _) in itertools.pairwise(offers):
                assert ended is not None, offers
                assert ended <= next_made, offers
            if task["status"] == "OFFERED":
                assert offers[-1][2:] == (None, task["agentId"])
            elif offers:
                assert offers[-1][2] is not None


async def test_contacts_and_agents_arriving_on_both_instances_at_once_are_never_double_offered(
    pair: Pair, org_id: str
) -> None:
    # Given a team of 8 agents (2 chats and 1 email each), half logged in IDLE, the others not yet,
    # each followed on instance A
    a, b = pair.centers(org_id)
    team = await a.admin.team("Storm")
    chat = await a.line("CHAT", team_id=team, offer_timeout=NO_RONA)
    email = await a.line("EMAIL", team_id=team, offer_timeout=NO_RONA)
    profile = await a.profile(voice=0, chat=2, email=1)
    idle = await idle_code(a)
    agents = {}
    for _ in range(8):
        agent_id = await a.agent(team, profile)
        agents[agent_id] = a.agent_token(agent_id)
    early, late = list(agents)[:4], list(agents)[4:]
    for n, agent_id in enumerate(early):
        login = alternate(a, b)(n).call(agents[agent_id], LOG_IN, teamId=team, idleCodeId=idle)
        await ok(login, "LogInSuccess")
    storm = Storm(a, b, chat, email, agents, {"CHAT": 2, "EMAIL": 1}, Feeds(), [])
    async with contextlib.AsyncExitStack() as stack:
        for agent_id, bearer in agents.items():
            await stack.enter_async_context(
                storm.feeds.follow(agent_id, pair.a, bearer, OFFER_FEED, after=0)
            )

        # When 24 chats (for 16 chat slots) and 6 emails (for 8 email slots) are reported, half to
        # each instance, while the IDLE agents go AVAILABLE and the others log in - all at once
        await asyncio.gather(
            *(storm.report(chat, n) for n in range(24)),
            *(storm.report(email, n) for n in range(6)),
            *(storm.state(n, agent_id, "AVAILABLE") for n, agent_id in enumerate(early)),
            *(
                ok(storm.on(n).call(agents[agent_id], LOG_IN, teamId=team), "LogInSuccess")
                for n, agent_id in enumerate(late)
            ),
        )

        # Then every slot is used, each task by one agent, and 8 chats wait
        stored = await storm.settled()
        assert Counter((t["channel"], t["status"]) for t in stored) == {
            ("CHAT", "OFFERED"): 16,
            ("CHAT", "QUEUED"): 8,
            ("EMAIL", "OFFERED"): 6,
        }
        assert {t["offerCount"] for t in stored if t["status"] == "OFFERED"} == {1}
        await storm.check(stored)

        # When every agent declines all its offers on both instances while two agents go IDLE
        # and back and 6 more chats arrive - all at once
        toggling = [early[0], late[0]]

        async def toggle(n: int, agent_id: str) -> None:
            await storm.state(n, agent_id, "IDLE", idle)
            await storm.state(n + 1, agent_id, "AVAILABLE")

        offers = [
            (agent_id, offer["id"])
            for agent_id, bearer in agents.items()
            for offer in await offered_to(a, bearer)
        ]
        declines = [
            storm.on(n).call(agents[agent_id], DECLINE, offerId=offer_id)
            for n, (agent_id, offer_id) in enumerate(offers)
        ]
        results = await asyncio.gather(
            *declines,
            *(toggle(n, agent_id) for n, agent_id in enumerate(toggling)),
            *(storm.report(chat, n) for n in range(24, 30)),
        )

        # Then the declined tasks went round again, never to two agents at once, and the slots
        # are full again
        assert {r["__typename"] for r in results[: len(declines)]} == {"DeclineOfferSuccess"}
        stored = await storm.settled()
        assert Counter((t["channel"], t["status"]) for t in stored) == {
            ("CHAT", "OFFERED"): 16,
            ("CHAT", "QUEUED"): 14,
            ("EMAIL", "OFFERED"): 6,
        }
        await storm.check(stored)
    stats = await a.query(a.supervisor, QUEUE_STATS_QUERY, queueIds=[chat.queue_id])
    assert [q["waiting"] for q in stats["queues"]] == [14]


# --- RONA with two instances and across a crash -------------------------------------------------


async def test_an_unanswered_offer_goes_rona_once_with_two_instances_running(
    pair: Pair, org_id: str
) -> None:
    # Given 4 agents holding 2 chat offers each (deadline 5 s), made on both instances
    a, b = pair.centers(org_id)
    line = await a.line("CHAT", offer_timeout=RONA_TIMEOUT)
    profile = await a.profile(voice=0, chat=2)
    agents = dict(
        [await alternate(a, b)(n).logged_in_agent(line.team_id, profile) for n in range(4)]
    )
    feeds = Feeds()
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            feeds.follow("rona", pair.a, a.supervisor, RONA_FEED, after=0)
        )
        for agent_id, bearer in agents.items():
            await stack.enter_async_context(
                feeds.follow(agent_id, pair.b, bearer, OFFER_FEED, after=0)
            )
        reported = await asyncio.gather(*(alternate(a, b)(n).report(line) for n in range(8)))
        offers = {task["offerId"]: task for task in reported}
        assert len(offers) == 8
        assert None not in offers

        # When nobody answers until the deadlines pass, both instances' schedulers running
        await feeds.until(lambda: len(feeds.of("RonaEvent")) == 8)
        await feeds.until(lambda: len(feeds.of("OfferEnded")) == 8)

        # Then every agent is in RONA; once they are back, new offers follow exactly one RONA
        # ending per offer on each agent's stream
        for n, bearer in enumerate(agents.values()):
            assert (await alternate(a, b)(n).session(bearer))["state"] == "RONA"
            await ok(
                alternate(a, b)(n).call(bearer, SET_STATE, state="AVAILABLE"),
                "SetAgentStateSuccess",
            )
        await feeds.until(lambda: len(feeds.of("OfferMade")) == 16)
        for agent_id in agents:
            first, ronas, again = feeds[agent_id][:2], feeds[agent_id][2:4], feeds[agent_id][4:]
            assert {item["__typename"] for item in first} == {"OfferMade"}
            assert sorted(kinds(ronas)) == sorted(
                ("OfferEnded", item["offerId"], "RONA") for item in first
            )
            assert {item["__typename"] for item in again} == {"OfferMade"}
            assert {item["cause"]["kind"] for item in ronas} == {"SYSTEM"}
        rona_events = feeds["rona"]
    assert sorted(e["offerId"] for e in rona_events) == sorted(offers)
    assert {(e["offerId"], e["agentId"]) for e in rona_events} == {
        (offer_id, task["agentId"]) for offer_id, task in offers.items()
    }
    # A supervisor replaying the stream on the other instance counts the same events, once each
    replay = Feeds()
    async with replay.follow("rona", pair.b, b.supervisor, RONA_FEED, after=0):
        await replay.until(lambda: len(replay["rona"]) >= 8)
    assert sorted(e["offerId"] for e in replay["rona"]) == sorted(offers)
    for n, bearer in enumerate(agents.values()):  # no RONA left behind for later tests
        await ok(alternate(a, b)(n).call(bearer, ACCEPT_ALL_OFFERS), "AcceptAllOffersSuccess")


async def test_offer_deadlines_survive_a_crash_of_every_instance(pair: Pair, org_id: str) -> None:
    # Given three agents on lines of their own: the first's offers expire before the crash, the
    # second's 3 s later - about while the servers are down - and the third's after the restart.
    # (The kill must not land on a deadline being handled: MongoDB keeps the open transaction of
    # a dead instance, and every document it wrote, locked for up to a minute.)
    a, b = pair.centers(org_id)
    profile = await a.profile(voice=0, chat=2)
    timeouts = (RONA_TIMEOUT, RONA_TIMEOUT + 3, RONA_TIMEOUT)
    lines = [await a.line("CHAT", offer_timeout=timeout) for timeout in timeouts]
    agents = [await a.logged_in_agent(line.team_id, profile) for line in lines]
    before = Feeds()
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            before.follow("rona", pair.a, a.supervisor, RONA_FEED, after=0)
        )
        for agent_id, bearer in agents:
            await stack.enter_async_context(
                before.follow(agent_id, pair.a, bearer, OFFER_FEED, after=0)
            )
        first = [await b.report(lines[0]) for _ in range(2)]
        second = [await b.report(lines[1]) for _ in range(2)]
        # The first RONAs say the first deadlines have passed, by the servers' clock
        await before.until(
            lambda: {e["offerId"] for e in before.of("RonaEvent")} >= {t["offerId"] for t in first}
        )
        third = [await a.report(lines[2]) for _ in range(2)]

        # When both instances are killed - their subscribers cut off with them - and one comes
        # back on the same database
        pair.kill()
    seen = {key: before.last_seq(key) for key in ("rona", *(agent_id for agent_id, _ in agents))}
    a = Center(await pair.restart("a"), org_id)

    # Then every deadline still fires, once: each offer has one RONA, before or after the crash
    expected = sorted(t["offerId"] for t in first + second + third)
    after = Feeds()
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            after.follow("rona", a.server, a.supervisor, RONA_FEED, after=seen["rona"])
        )
        for agent_id, bearer in agents:
            await stack.enter_async_context(
                after.follow(agent_id, a.server, bearer, OFFER_FEED, after=seen[agent_id])
            )
        ronas = lambda: before.of("RonaEvent") + after.of("RonaEvent")  # noqa: E731
        await after.until(lambda: len(ronas()) == len(expected))
        assert sorted(e["offerId"] for e in ronas()) == expected
        # ... and once each agent is back, its next offers follow exactly its two RONA endings
        for _, bearer in agents:
            await ok(a.call(bearer, SET_STATE, state="AVAILABLE"), "SetAgentStateSuccess")
        # (what reached an agent's desktop before the crash is not sent again after it)
        await after.until(lambda: all(len(before[i] + after[i]) == 6 for i, _ in agents))
        for agent_id, _ in agents:
            everything = before[agent_id] + after[agent_id]
            assert [item["seq"] for item in everything] == list(range(1, len(everything) + 1))
            assert [(kind, outcome) for kind, _, outcome in kinds(everything)] == [
                ("OfferMade", None),
                ("OfferMade", None),
                ("OfferEnded", "RONA"),
                ("OfferEnded", "RONA"),
                ("OfferMade", None),
                ("OfferMade", None),
            ]
        for _, bearer in agents:
            await ok(a.call(bearer, ACCEPT_ALL_OFFERS), "AcceptAllOffersSuccess")


# --- a subscriber that stops reading ------------------------------------------------------------

SLOW_SUBSCRIBER = 4008
# The popover's task pushed eight times over with a long bot transcript: one such event is more
# than the sockets' buffers hold, so the server's next send waits for a reader that never comes.
TRANSCRIPT = [
    {"sender": "bot", "text": "t" * 4000, "sentAt": "2030-01-01T00:00:00Z"} for _ in range(200)
]
HEAVY_OFFERS = (
    "subscription { offers(after: 0) { __typename ... on OfferMade { "
    + " ".join(f"t{n}: offer {{ task {{ transcript {{ text }} }} }}" for n in range(8))
    + " } } }"
)


class UnreadSocket:
    """graphql-transport-ws over a raw socket with a tiny receive buffer: it reads only when
    asked to, so whatever the server sends meanwhile piles up on the server's side."""

    def __init__(self, raw: socket.socket, server: Server) -> None:
        self._raw = raw
        self._loop = asyncio.get_running_loop()
        self.protocol = ClientProtocol(
            parse_uri(server.ws_url),
            subprotocols=[Subprotocol("graphql-transport-ws")],
            max_size=None,
        )
        self._frames: list[Frame] = []

    async def open(self, bearer: str) -> None:
        self.protocol.send_request(self.protocol.connect())
        await self._flush()
        while self.protocol.state is State.CONNECTING:
            await self._read()
        await self.send(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}}
        )
        assert (await self.receive() or {}).get("type") == "connection_ack"

    async def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        await self._flush()

    async def receive(self) -> dict[str, Any] | None:
        """The next message; None once the server closed the connection."""
        async with asyncio.timeout(WAIT):
            while True:
                self._frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]
                while self._frames:
                    frame = self._frames.pop(0)
                    if frame.opcode is Opcode.TEXT:
                        return dict(json.loads(frame.data))
                if self.protocol.close_rcvd is not None or self.protocol.state is State.CLOSED:
                    return None
                await self._read()

    async def _read(self) -> None:
        data = await self._loop.sock_recv(self._raw, 1 << 16)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        await self._flush()  # pongs and the closing handshake's answer

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                await self._loop.sock_sendall(self._raw, data)


@contextlib.asynccontextmanager
async def unread_socket(server: Server, bearer: str) -> AsyncIterator[UnreadSocket]:
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
        connection = UnreadSocket(raw, server)
        await connection.open(bearer)
        yield connection
    finally:
        raw.close()


async def test_a_subscriber_that_stops_reading_its_offers_is_disconnected_and_no_other(
    pair: Pair, org_id: str
) -> None:
    # Given an agent whose offers are followed twice on one instance: by a desktop that reads,
    # and by one that subscribed, then stopped reading
    a, _ = pair.centers(org_id)
    line = await a.line("CHAT", offer_timeout=NO_RONA)
    _, bearer = await a.logged_in_agent(line.team_id, await a.profile(voice=0, chat=1))
    feeds = Feeds()
    async with (
        feeds.follow("reader", pair.a, bearer, OFFER_FEED, after=0),
        unread_socket(pair.a, bearer) as slow,
    ):
        await slow.send({"id": "1", "type": "subscribe", "payload": {"query": HEAVY_OFFERS}})

        # When an offer too big to buffer is followed by more events than a subscriber may leave
        # unread: the agent declines it again and again, and it comes back each time
        task = await a.report(line, transcript=TRANSCRIPT)
        for attempt in range(1, MAX_PENDING + 1):
            offer_id = f"{task['id']}.{attempt}"
            await ok(a.call(bearer, DECLINE, offerId=offer_id), "DeclineOfferSuccess")
        expected = 1 + 2 * MAX_PENDING

        # Then the reading desktop gets every event, while the other, reading at last, finds what
        # was sent before the server closed its socket as too slow
        await feeds.until(lambda: len(feeds["reader"]) == expected)
        received = []
        while (message := await slow.receive()) is not None:
            received.append(message)
    assert [item["seq"] for item in feeds["reader"]] == list(range(1, expected + 1))
    assert [i["outcome"] for i in feeds["reader"][1::2]] == ["DECLINED"] * MAX_PENDING
    assert 1 <= len(received) < expected
    assert (received[0]["type"], received[0]["id"]) == ("next", "1")
    assert slow.protocol.close_rcvd is not None
    assert (slow.protocol.close_rcvd.code, slow.protocol.close_rcvd.reason) == (
        SLOW_SUBSCRIBER,
        "subscriber too slow",
    )
