"""The demo organization: loaded on the first serve of an empty database, usable with the printed tokens."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.client import execute
from tests.api.server import Server, start_server

DEMO_OVERVIEW = """
query {
  me { subject organizationId roles }
  teams(first: 100) { nodes { name teamType } }
  agents(first: 100) { nodes { id name skills { name } teams { name } profile { name channels { channel } } } }
  queues(first: 100) { nodes { name channel direction } }
  entryPoints(first: 100) { nodes { channel direction address queue { name } } }
  dialNumbers { nodes { name } }
  idleCodes { nodes { name } }
  wrapUpCodes { nodes { name } }
  chatResponses { nodes { name } }
  messageTemplates { nodes { channel placeholders } }
  cadVariables { nodes { name secure showInPopover } }
  organization { policies { callbackEntryPointId recordingEnabled } }
}
"""


@pytest.fixture(scope="module")
def demo_server(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"demo_{uuid.uuid4().hex[:8]}",
        log_dir=Path(tmp_path_factory.mktemp("demo")),
        extra_env={"OMNIDESK_SEED_DEMO": "true"},
    )
    try:
        yield running
    finally:
        running.stop()


def printed_tokens(server: Server) -> dict[str, str]:
    return dict(
        re.findall(
            r"^\s+(agent|supervisor|admin|integration)\s+(\S+)$", server.logs(), re.MULTILINE
        )
    )


async def test_serve_prints_the_graphiql_url_and_four_working_tokens(demo_server: Server) -> None:
    assert f"GraphiQL at http://127.0.0.1:{demo_server.port}/graphql" in demo_server.logs()
    tokens = printed_tokens(demo_server)
    assert sorted(tokens) == ["admin", "agent", "integration", "supervisor"]
    for label, token in tokens.items():
        me = (await execute(demo_server, token, "{ me { subject organizationId roles } }"))["me"]
        assert (me["organizationId"], me["roles"]) == ("demo", [label.upper()])
    agent_me = (await execute(demo_server, tokens["agent"], "{ me { subject } }"))["me"]
    assert agent_me["subject"] == "demo-agent-1"


async def test_the_demo_organization_has_what_a_walkthrough_needs(demo_server: Server) -> None:
    data = await execute(demo_server, printed_tokens(demo_server)["admin"], DEMO_OVERVIEW)
    agents = data["agents"]["nodes"]
    assert len(agents) >= 10
    assert "demo-agent-1" in {agent["id"] for agent in agents}
    assert all(agent["teams"] and agent["skills"] and agent["profile"] for agent in agents)
    assert len({agent["profile"]["name"] for agent in agents}) >= 3
    assert len(data["teams"]["nodes"]) >= 3
    assert {"AGENT_BASED", "CAPACITY_BASED"} <= {
        team["teamType"] for team in data["teams"]["nodes"]
    }
    inbound_channels = {
        queue["channel"] for queue in data["queues"]["nodes"] if queue["direction"] == "INBOUND"
    }
    assert {"VOICE", "CHAT", "EMAIL", "SMS"} <= inbound_channels
    entry_points = data["entryPoints"]["nodes"]
    assert {"VOICE", "CHAT", "EMAIL", "SMS"} <= {
        ep["channel"] for ep in entry_points if ep["direction"] == "INBOUND"
    }
    assert all(ep["queue"] for ep in entry_points if ep["direction"] == "INBOUND")
    assert {"SMS", "EMAIL"} <= {
        ep["channel"] for ep in entry_points if ep["direction"] == "OUTBOUND"
    }
    for kind in ("dialNumbers", "idleCodes", "wrapUpCodes"):
        assert data[kind]["nodes"], kind
    assert data["chatResponses"]["nodes"]
    assert {"SMS", "EMAIL"} == {
        template["channel"] for template in data["messageTemplates"]["nodes"]
    }
    cad = data["cadVariables"]["nodes"]
    assert any(variable["secure"] for variable in cad)
    assert 3 <= sum(variable["showInPopover"] for variable in cad) <= 6
    policies = data["organization"]["policies"]
    assert policies["callbackEntryPointId"] == "ep-outbound-voice"


async def test_a_restart_does_not_load_the_demo_twice(
    demo_server: Server, mongodb_url: str, tmp_path: Path
) -> None:
    again = start_server(
        mongodb_url=mongodb_url,
        database=demo_server.env["OMNIDESK_DATABASE"],
        log_dir=tmp_path,
        extra_env={"OMNIDESK_SEED_DEMO": "true"},
    )
    try:
        data = await execute(
            again, printed_tokens(again)["admin"], "{ teams(first: 100) { nodes { name } } }"
        )
    finally:
        again.stop()
    names = [team["name"] for team in data["teams"]["nodes"]]
    assert len(names) == len(set(names)) == 4
