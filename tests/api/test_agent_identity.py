"""An agent's id can be the identity provider's subject, so its tokens act as that agent."""

from __future__ import annotations

from domain.identity import Role
from tests.api.client import execute
from tests.api.server import Server, new_org_id, token
from tests.api.test_configuration_a import Admin, failure


async def test_an_agent_created_with_the_idp_subject_is_who_its_token_says(
    server: Server, org_id: str
) -> None:
    admin = Admin(server, org_id)
    fields = await admin.agent_fields(id="auth0|5f7c8ec7c33c6c004bbafe82")
    agent = await admin.make("Agent", **fields)
    assert agent["id"] == "auth0|5f7c8ec7c33c6c004bbafe82"
    me = await execute(server, token(org_id, Role.AGENT, subject=agent["id"]), "{ me { subject } }")
    assert me["me"]["subject"] == agent["id"]


async def test_a_chosen_agent_id_must_be_free_everywhere_and_well_formed(
    server: Server, org_id: str
) -> None:
    admin = Admin(server, org_id)
    first = await admin.make("Agent", **await admin.agent_fields(id="agent-007"))
    shared = {"teamIds": first["teamIds"], "profileId": first["profileId"]}
    again = await admin.run(
        "Create",
        "Agent",
        **await admin.agent_fields(id="agent-007", email="b@example.com", **shared),
    )
    assert failure(again) == ("ValidationError", "id", "unique", 1)

    elsewhere = Admin(server, new_org_id())
    taken = await elsewhere.run("Create", "Agent", **await elsewhere.agent_fields(id="agent-007"))
    assert failure(taken) == ("ValidationError", "id", "unique", 1)

    malformed = await admin.run(
        "Create",
        "Agent",
        **await admin.agent_fields(id="has space", email="c@example.com", **shared),
    )
    assert failure(malformed) == ("ValidationError", "id", "id_format", 1)
    listed = await execute(server, admin.token, "{ agents { nodes { id } } }")
    assert [node["id"] for node in listed["agents"]["nodes"]] == ["agent-007"]
