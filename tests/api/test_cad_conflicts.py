"""Concurrent CAD edits through the public API (issue #5, SPEC §7, seed 002's agent A / agent B):
two agents save one variable against the same version at once, many times, on one server and
across two server instances — exactly one wins each time and the other gets one ``cadConflicts``
event naming the winner; saves of different variables at once both succeed; a conflict on one
variable leaves the rest of the save applied; the flow's writes make agents' stale saves conflict;
the conflict feed resumes from a cursor."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.cad_helpers import (
    CAD_CONFLICTS,
    TwoAgents,
    cad_definitions,
    cad_of,
    save,
    two_agents,
    update,
)
from tests.api.center import Center, subscription
from tests.api.server import Server, start_server

ROUNDS = 40


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture(scope="module")
def second_instance(
    server: Server, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Another server on the session server's database: two instances behind one balancer."""
    running = start_server(
        mongodb_url=mongodb_url,
        database=server.env["OMNIDESK_DATABASE"],
        log_dir=tmp_path_factory.mktemp(f"cad-{uuid.uuid4().hex[:6]}"),
    )
    try:
        yield running
    finally:
        running.stop()


def author(agent_id: str) -> dict[str, Any]:
    return {"kind": "AGENT", "id": agent_id, "name": f"Agent {agent_id[-4:]}"}


async def race(
    pair: TwoAgents, centers: tuple[Center, Center], rounds: int
) -> dict[str, list[dict[str, Any]]]:
    """Agents A and B save ``caseNumber`` against the version both read, at once, ``rounds``
    times (A through ``centers[0]``, B through ``centers[1]``). Checks each round has one winner
    and one loser told what won; returns the conflicts each agent was told of, in order."""
    lost: dict[str, list[dict[str, Any]]] = {pair.a_id: [], pair.b_id: []}
    version = 1
    for round_no in range(rounds):
        attempts = {pair.a_id: f"A-{round_no}", pair.b_id: f"B-{round_no}"}
        outcomes = dict(
            zip(
                attempts,
                await asyncio.gather(
                    save(
                        centers[0], pair.a, pair.task_id, caseNumber=(attempts[pair.a_id], version)
                    ),
                    save(
                        centers[1], pair.b, pair.task_id, caseNumber=(attempts[pair.b_id], version)
                    ),
                ),
                strict=True,
            )
        )
        winners = [a for a, o in outcomes.items() if o["__typename"] == "SaveCadVariablesSuccess"]
        assert len(winners) == 1, outcomes
        (winner,) = winners
        (loser,) = set(outcomes) - {winner}
        won, failed = outcomes[winner], outcomes[loser]
        assert [(e["value"], e["version"]) for e in won["saved"]] == [
            (attempts[winner], version + 1)
        ]
        assert (failed["__typename"], failed["code"]) == ("CadConflictError", "CONFLICT")
        assert failed["conflicts"] == [
            {
                "code": "CONFLICT",
                "name": "caseNumber",
                "value": attempts[winner],
                "secure": False,
                "version": version + 1,
                "expectedVersion": version,
                "savedAt": won["saved"][0]["savedAt"],
                "savedBy": author(winner),
            }
        ]
        lost[loser].append(failed["conflicts"][0])
        version += 1
    return lost


async def told(center: Center, bearer: str, count: int, after: int = 0) -> list[dict[str, Any]]:
    """The next ``count`` cadConflicts events of the agent after ``after``."""
    async with subscription(center.server, bearer, CAD_CONFLICTS, after=after) as next_event:
        return [await next_event() for _ in range(count)]


async def nothing_more(center: Center, pair: TwoAgents, bearer: str, after: int) -> None:
    """No event follows ``after`` but one provoked now: nothing was told twice or extra."""
    stale = await save(center, bearer, pair.task_id, caseNumber=("stale", 0))
    assert stale["__typename"] == "CadConflictError", stale
    (next_one,) = await told(center, bearer, 1, after)
    assert next_one["conflict"] == stale["conflicts"][0]


async def check_told(center: Center, pair: TwoAgents, lost: dict[str, Any]) -> None:
    for agent_id, bearer in ((pair.a_id, pair.a), (pair.b_id, pair.b)):
        events = await told(center, bearer, len(lost[agent_id]))
        assert [e["conflict"] for e in events] == lost[agent_id]
        assert {(e["taskId"], e["cause"]["id"]) for e in events} <= {(pair.task_id, agent_id)}
        await nothing_more(center, pair, bearer, after=events[-1]["seq"] if events else 0)


# --- seed 002's agent A and agent B -------------------------------------------------------------


async def test_two_agents_saving_one_variable_at_once_make_exactly_one_winner_each_time(
    center: Center,
) -> None:
    await cad_definitions(center)
    pair = await two_agents(center, cad=[{"name": "caseNumber", "value": "C-0"}])

    lost = await race(pair, (center, center), ROUNDS)

    assert len(lost[pair.a_id]) + len(lost[pair.b_id]) == ROUNDS
    final = (await cad_of(center, center.supervisor, pair.task_id))["caseNumber"]
    assert final["version"] == ROUNDS + 1
    assert final["value"] in {f"A-{ROUNDS - 1}", f"B-{ROUNDS - 1}"}
    await check_told(center, pair, lost)


async def test_across_two_server_instances_there_is_still_exactly_one_winner_each_time(
    center: Center, second_instance: Server
) -> None:
    await cad_definitions(center)
    pair = await two_agents(center, cad=[{"name": "caseNumber", "value": "C-0"}])
    elsewhere = Center(second_instance, center.org_id)

    lost = await race(pair, (center, elsewhere), ROUNDS)

    final = (await cad_of(elsewhere, center.supervisor, pair.task_id))["caseNumber"]
    assert final["version"] == ROUNDS + 1
    # Each agent hears of its losses on the instance it did not save through, too.
    await check_told(elsewhere, pair, lost)


# --- per variable -------------------------------------------------------------------------------


async def test_two_agents_saving_different_variables_at_once_both_succeed_every_time(
    center: Center,
) -> None:
    await cad_definitions(center)
    pair = await two_agents(center)

    for version in range(ROUNDS // 2):
        a, b = await asyncio.gather(
            save(center, pair.a, pair.task_id, caseNumber=(f"A-{version}", version)),
            save(center, pair.b, pair.task_id, actionCode=(f"B-{version}", version)),
        )
        assert (a["__typename"], a["conflicts"]) == ("SaveCadVariablesSuccess", []), a
        assert (b["__typename"], b["conflicts"]) == ("SaveCadVariablesSuccess", []), b

    stored = await cad_of(center, center.supervisor, pair.task_id)
    last = ROUNDS // 2 - 1
    assert (stored["caseNumber"]["value"], stored["caseNumber"]["version"]) == (
        f"A-{last}",
        last + 1,
    )
    assert (stored["actionCode"]["value"], stored["actionCode"]["version"]) == (
        f"B-{last}",
        last + 1,
    )


async def test_a_conflict_on_one_variable_leaves_the_rest_of_the_save_applied(
    center: Center,
) -> None:
    await cad_definitions(center)
    reported = [{"name": "caseNumber", "value": "C-0"}, {"name": "actionCode", "value": "X-0"}]
    pair = await two_agents(center, cad=reported)

    first = await save(center, pair.a, pair.task_id, caseNumber=("A's case", 1))
    assert first["__typename"] == "SaveCadVariablesSuccess", first
    both = await save(
        center, pair.b, pair.task_id, caseNumber=("B's case", 1), actionCode=("B's code", 1)
    )

    assert both["__typename"] == "SaveCadVariablesSuccess", both
    assert [(e["name"], e["value"], e["version"]) for e in both["saved"]] == [
        ("actionCode", "B's code", 2)
    ]
    assert [(c["name"], c["value"], c["savedBy"]) for c in both["conflicts"]] == [
        ("caseNumber", "A's case", author(pair.a_id))
    ]
    stored = await cad_of(center, pair.b, pair.task_id)
    assert {n: (e["value"], e["version"]) for n, e in stored.items()} == {
        "caseNumber": ("A's case", 2),
        "actionCode": ("B's code", 2),
        "tier": ("standard", 1),
    }
    (event,) = await told(center, pair.b, 1)
    assert (event["__typename"], event["taskId"], event["conflict"]) == (
        "CadConflictNotice",
        pair.task_id,
        both["conflicts"][0],
    )
    await nothing_more(center, pair, pair.b, after=event["seq"])


async def test_the_flow_always_wins_and_an_agents_save_against_the_older_version_conflicts(
    center: Center,
) -> None:
    await cad_definitions(center)
    pair = await two_agents(center, cad=[{"name": "ssn", "value": "000-00-0000"}])

    by_flow = await update(center, pair.task_id, caseNumber="from the flow", ssn="111-11-1111")
    assert by_flow["__typename"] == "UpdateCadVariablesSuccess", by_flow
    stale = await save(center, pair.a, pair.task_id, caseNumber=("A's", 0), ssn=("222", 1))

    assert (stale["__typename"], stale["code"]) == ("CadConflictError", "CONFLICT")
    flow = {"kind": "INTEGRATION", "id": "connector-1", "name": None}
    assert [(c["name"], c["value"], c["version"], c["savedBy"]) for c in stale["conflicts"]] == [
        ("caseNumber", "from the flow", 1, flow),
        ("ssn", "*****", 2, flow),
    ]
    events = await told(center, pair.a, 2)
    assert [e["conflict"] for e in events] == stale["conflicts"]
    assert "111-11-1111" not in str(events)
    # Resumed from the first one's seq: the second only.
    (resumed,) = await told(center, pair.a, 1, after=events[0]["seq"])
    assert resumed["seq"] == events[1]["seq"]
