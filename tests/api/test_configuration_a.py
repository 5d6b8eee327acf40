"""Multimedia profiles, agents, queues, entry points and dial numbers through the public API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import GraphQLRequest

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute, websocket
from tests.api.server import Server, new_org_id, token

# Each verb's result union holds only the errors it can return, and GraphQL refuses the others.
_INVALID = (
    "... on Error { code message } ... on ValidationError { field rule violations { field rule } }"
)
_CONFLICT = " ... on ConflictError { currentVersion }"
_STATE = " ... on InvalidStateError { currentState }"
ERRORS = {
    "Create": _INVALID,
    "Update": _INVALID + _CONFLICT,
    "Deactivate": _INVALID + _CONFLICT + _STATE,
    "Reactivate": _INVALID + _CONFLICT + _STATE,
}
TEAM_FIELDS = "id name active"
PROFILE_FIELDS = "id name active version voiceMode channels { channel maxConcurrent maxOutbound }"
AGENT_FIELDS = f"""id name active version email teamIds profileId extension skills {{ name level }}
    teams {{ {TEAM_FIELDS} }} profile {{ id name }}"""
QUEUE_FIELDS = f"""id name active version channel direction routingStrategy teamIds
    requiredSkills {{ name minLevel }} offerTimeoutSeconds priority teams {{ {TEAM_FIELDS} }}"""
ENTRY_POINT_FIELDS = "id name active version channel direction address queueId queue { id name }"
DIAL_NUMBER_FIELDS = "id name active version number"
FIELDS = {
    "Team": TEAM_FIELDS,
    "MultimediaProfile": PROFILE_FIELDS,
    "Agent": AGENT_FIELDS,
    "Queue": QUEUE_FIELDS,
    "EntryPoint": ENTRY_POINT_FIELDS,
    "DialNumber": DIAL_NUMBER_FIELDS,
}


def mutation(verb: str, noun: str) -> str:
    singular = noun[0].lower() + noun[1:]
    return f"""
mutation($input: {verb}{noun}Input!) {{
  {verb.lower()}{noun}(input: $input) {{
    __typename
    ... on {verb}{noun}Success {{ {singular} {{ {FIELDS[noun]} }} }}
    {ERRORS[verb]}
  }}
}}"""


def listing(plural: str, noun: str) -> str:
    return f"""
query($includeInactive: Boolean) {{
  {plural}(includeInactive: $includeInactive) {{ nodes {{ {FIELDS[noun]} }} }}
}}"""


AGENT = f"query($id: ID!) {{ agent(id: $id) {{ {AGENT_FIELDS} }} }}"
AGENT_EVENTS = """
subscription($agentId: ID!, $after: Int) {
  agentEvents(agentId: $agentId, after: $after) {
    __typename
    ... on AgentConfigurationChanged { seq change agentId agent { name version teams { name } } }
  }
}"""


class Admin:
    """An admin of a fresh organization, with shortcuts that build the usual fixtures."""

    def __init__(self, server: Server, org_id: str) -> None:
        self.server = server
        self.token = token(org_id, Role.ADMIN)

    async def run(self, verb: str, noun: str, **fields: Any) -> dict[str, Any]:
        name = f"{verb.lower()}{noun}"
        result = await execute(self.server, self.token, mutation(verb, noun), {"input": fields})
        return result[name]

    async def make(self, noun: str, **fields: Any) -> dict[str, Any]:
        outcome = await self.run("Create", noun, **fields)
        assert outcome["__typename"] == f"Create{noun}Success", outcome
        return outcome[noun[0].lower() + noun[1:]]

    async def team(self, name: str = "Sales") -> str:
        return (await self.make("Team", name=name))["id"]

    async def profile(self, name: str = "Blended") -> str:
        channels = [
            {"channel": "VOICE", "maxConcurrent": 1},
            {"channel": "CHAT", "maxConcurrent": 3},
        ]
        return (await self.make("MultimediaProfile", name=name, channels=channels))["id"]

    async def agent_fields(self, **fields: Any) -> dict[str, Any]:
        team_ids = fields.pop("teamIds", None) or [await self.team()]
        profile_id = fields.pop("profileId", None) or await self.profile()
        base = {
            "name": "Ada",
            "email": "ada@example.com",
            "teamIds": team_ids,
            "profileId": profile_id,
        }
        return base | fields

    async def queue(
        self, channel: str = "VOICE", name: str = "Support", **fields: Any
    ) -> dict[str, Any]:
        team_ids = fields.pop("teamIds", None) or [await self.team(f"{name} team")]
        return await self.make("Queue", name=name, channel=channel, teamIds=team_ids, **fields)


@pytest.fixture
def admin(server: Server, org_id: str) -> Admin:
    return Admin(server, org_id)


def failure(outcome: dict[str, Any]) -> tuple[str, str, str, int]:
    return (outcome["__typename"], outcome["field"], outcome["rule"], len(outcome["violations"]))


# --- multimedia profiles -------------------------------------------------------------------


async def test_admin_creates_updates_deactivates_and_reactivates_a_profile(admin: Admin) -> None:
    created = await admin.make(
        "MultimediaProfile",
        name="Digital",
        voiceMode="EXCLUSIVE",
        channels=[
            {"channel": "CHAT", "maxConcurrent": 3},
            {"channel": "SMS", "maxConcurrent": 2, "maxOutbound": 2},
        ],
    )
    assert created["channels"] == [
        {"channel": "CHAT", "maxConcurrent": 3, "maxOutbound": 0},
        {"channel": "SMS", "maxConcurrent": 2, "maxOutbound": 2},
    ]
    assert (created["voiceMode"], created["version"], created["active"]) == ("EXCLUSIVE", 1, True)

    updated = await admin.run(
        "Update", "MultimediaProfile", id=created["id"], expectedVersion=1, voiceMode="BLENDED"
    )
    assert (updated["multimediaProfile"]["voiceMode"], updated["multimediaProfile"]["version"]) == (
        "BLENDED",
        2,
    )
    off = await admin.run("Deactivate", "MultimediaProfile", id=created["id"])
    assert off["multimediaProfile"]["active"] is False
    listed = await execute(
        admin.server, admin.token, listing("multimediaProfiles", "MultimediaProfile"), {}
    )
    assert listed["multimediaProfiles"]["nodes"] == []
    on = await admin.run("Reactivate", "MultimediaProfile", id=created["id"])
    assert (on["multimediaProfile"]["active"], on["multimediaProfile"]["version"]) == (True, 4)


@pytest.mark.parametrize(
    ("channels", "field", "rule"),
    [
        ([], "channels", "required"),
        (
            [{"channel": "CHAT", "maxConcurrent": 1}, {"channel": "CHAT", "maxConcurrent": 2}],
            "channels",
            "unique_items",
        ),
        ([{"channel": "VOICE", "maxConcurrent": 2}], "channels.0.maxConcurrent", "range:0-1"),
        ([{"channel": "EMAIL", "maxConcurrent": 21}], "channels.0.maxConcurrent", "range:0-20"),
        (
            [{"channel": "SMS", "maxConcurrent": 1, "maxOutbound": 2}],
            "channels.0.maxOutbound",
            "max:maxConcurrent",
        ),
    ],
)
async def test_profile_rules(
    admin: Admin, channels: list[dict[str, Any]], field: str, rule: str
) -> None:
    outcome = await admin.run("Create", "MultimediaProfile", name="P", channels=channels)
    assert failure(outcome) == ("ValidationError", field, rule, 1)


# --- agents --------------------------------------------------------------------------------


async def test_an_agent_resolves_its_teams_and_profile(admin: Admin) -> None:
    sales, support = await admin.team("Sales"), await admin.team("Support")
    fields = await admin.agent_fields(
        teamIds=[sales, support], skills=[{"name": "English", "level": 8}], extension="1001"
    )
    created = await admin.make("Agent", **fields)
    assert (created["email"], created["teamIds"], created["extension"]) == (
        "ada@example.com",
        [sales, support],
        "1001",
    )
    assert [team["name"] for team in created["teams"]] == ["Sales", "Support"]
    assert created["profile"] == {"id": fields["profileId"], "name": "Blended"}
    assert created["skills"] == [{"name": "English", "level": 8}]
    read = await execute(admin.server, admin.token, AGENT, {"id": created["id"]})
    assert read["agent"] == created
    listed = await execute(admin.server, admin.token, listing("agents", "Agent"), {})
    assert [agent["id"] for agent in listed["agents"]["nodes"]] == [created["id"]]


async def test_admin_updates_deactivates_and_reactivates_an_agent(admin: Admin) -> None:
    created = await admin.make("Agent", **await admin.agent_fields())
    other_team = await admin.team("Billing")
    moved = await admin.run(
        "Update",
        "Agent",
        id=created["id"],
        expectedVersion=1,
        teamIds=[other_team],
        extension=None,
        skills=[{"name": "Billing", "level": 3}],
    )
    agent = moved["agent"]
    assert ([t["name"] for t in agent["teams"]], agent["extension"], agent["version"]) == (
        ["Billing"],
        None,
        2,
    )
    stale = await admin.run("Update", "Agent", id=created["id"], expectedVersion=1, name="Other")
    assert (stale["__typename"], stale["code"], stale["currentVersion"]) == (
        "ConflictError",
        "CONFLICT",
        2,
    )
    cleared = await admin.run("Update", "Agent", id=created["id"], email=None)
    assert failure(cleared) == ("ValidationError", "email", "required", 1)
    off = await admin.run("Deactivate", "Agent", id=created["id"])
    again = await admin.run("Deactivate", "Agent", id=created["id"])
    assert (off["agent"]["active"], again["__typename"], again["currentState"]) == (
        False,
        "InvalidStateError",
        "INACTIVE",
    )
    everyone = await execute(
        admin.server, admin.token, listing("agents", "Agent"), {"includeInactive": True}
    )
    assert [a["active"] for a in everyone["agents"]["nodes"]] == [False]
    on = await admin.run("Reactivate", "Agent", id=created["id"])
    assert on["agent"]["active"] is True


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"name": ""}, "name", "required"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"skills": [{"name": "English", "level": 11}]}, "skills.0.level", "range:1-10"),
        ({"skills": [{"name": "English", "level": 0}]}, "skills.0.level", "range:1-10"),
        (
            {"skills": [{"name": "a", "level": 1}, {"name": "A", "level": 2}]},
            "skills",
            "unique_items",
        ),
        ({"extension": "12-34"}, "extension", "extension"),
    ],
)
async def test_agent_rules(admin: Admin, fields: dict[str, Any], field: str, rule: str) -> None:
    outcome = await admin.run("Create", "Agent", **await admin.agent_fields(**fields))
    assert failure(outcome) == ("ValidationError", field, rule, 1)


async def test_an_agent_needs_a_team(admin: Admin) -> None:
    fields = await admin.agent_fields()
    outcome = await admin.run("Create", "Agent", **(fields | {"teamIds": []}))
    assert failure(outcome) == ("ValidationError", "teamIds", "required", 1)


async def test_agent_references_must_be_active_entities_of_the_organization(
    server: Server, admin: Admin
) -> None:
    foreign_team = await Admin(server, new_org_id()).team("Elsewhere")
    retired = await admin.team("Retired")
    await admin.run("Deactivate", "Team", id=retired)
    fields = await admin.agent_fields()
    for team_id in ["no-such-team", retired, foreign_team]:
        outcome = await admin.run("Create", "Agent", **(fields | {"teamIds": [team_id]}))
        assert failure(outcome) == ("ValidationError", "teamIds", "reference", 1)
    outcome = await admin.run("Create", "Agent", **(fields | {"profileId": "no-such-profile"}))
    assert failure(outcome) == ("ValidationError", "profileId", "reference", 1)


async def test_agent_emails_are_unique_ignoring_case(admin: Admin) -> None:
    fields = await admin.agent_fields()
    await admin.make("Agent", **fields)
    duplicate = await admin.run(
        "Create", "Agent", **(fields | {"name": "Ada Two", "email": "ADA@example.com"})
    )
    assert failure(duplicate) == ("ValidationError", "email", "unique", 1)
    same_name = await admin.run("Create", "Agent", **(fields | {"email": "ada2@example.com"}))
    assert same_name["__typename"] == "CreateAgentSuccess"


async def test_a_team_or_profile_used_by_an_active_agent_cannot_be_deactivated(
    admin: Admin,
) -> None:
    fields = await admin.agent_fields()
    agent = await admin.make("Agent", **fields)
    for noun, entity_id in [
        ("Team", fields["teamIds"][0]),
        ("MultimediaProfile", fields["profileId"]),
    ]:
        refused = await admin.run("Deactivate", noun, id=entity_id)
        assert failure(refused) == ("ValidationError", "id", "in_use", 1)
    await admin.run("Deactivate", "Agent", id=agent["id"])
    freed = await admin.run("Deactivate", "Team", id=fields["teamIds"][0])
    assert freed["__typename"] == "DeactivateTeamSuccess"
    back = await admin.run("Reactivate", "Agent", id=agent["id"])
    assert failure(back) == ("ValidationError", "teamIds", "reference", 1)


async def test_an_agent_reads_agents_but_cannot_create_one(
    server: Server, org_id: str, admin: Admin
) -> None:
    fields = await admin.agent_fields()
    with pytest.raises(GraphQLErrors) as refused:
        await execute(
            server, token(org_id, Role.AGENT), mutation("Create", "Agent"), {"input": fields}
        )
    assert refused.value.codes == ["FORBIDDEN"]
    listed = await execute(server, token(org_id, Role.AGENT), listing("agents", "Agent"), {})
    assert listed["agents"]["nodes"] == []


async def test_agent_events_carry_the_agent_as_it_is_now(
    server: Server, org_id: str, admin: Admin
) -> None:
    agent = await admin.make("Agent", **await admin.agent_fields(name="Before"))
    variables = {"agentId": agent["id"], "after": 0}
    async with websocket(server, admin.token) as session:
        events = session.subscribe(GraphQLRequest(AGENT_EVENTS, variable_values=variables))
        created = (await anext(events))["agentEvents"]
        assert (created["change"], created["agent"]["name"], created["agent"]["teams"]) == (
            "CREATED",
            "Before",
            [{"name": "Sales"}],
        )
        await admin.run("Update", "Agent", id=agent["id"], name="After")
        updated = (await anext(events))["agentEvents"]
        assert (updated["change"], updated["agent"]) == (
            "UPDATED",
            {"name": "After", "version": 2, "teams": [{"name": "Sales"}]},
        )
        await events.aclose()


# --- concurrency ---------------------------------------------------------------------------


async def test_twenty_concurrent_creates_with_one_email_make_one_agent(admin: Admin) -> None:
    fields = await admin.agent_fields()
    outcomes = await asyncio.gather(
        *(admin.run("Create", "Agent", **(fields | {"name": f"Ada {n}"})) for n in range(20))
    )
    kinds = sorted(outcome["__typename"] for outcome in outcomes)
    assert kinds == ["CreateAgentSuccess"] + ["ValidationError"] * 19
    refused = [
        failure(outcome) for outcome in outcomes if outcome["__typename"] == "ValidationError"
    ]
    assert refused == [("ValidationError", "email", "unique", 1)] * 19
    listed = await execute(
        admin.server, admin.token, listing("agents", "Agent"), {"includeInactive": True}
    )
    assert len(listed["agents"]["nodes"]) == 1


async def test_deactivating_a_team_while_an_agent_joins_it_never_leaves_the_agent_dangling(
    admin: Admin,
) -> None:
    profile_id = await admin.profile()
    for attempt in range(10):
        team_id = await admin.team(f"Team {attempt}")
        fields = await admin.agent_fields(
            teamIds=[team_id], profileId=profile_id, email=f"a{attempt}@example.com"
        )
        deactivated, created = await asyncio.gather(
            admin.run("Deactivate", "Team", id=team_id), admin.run("Create", "Agent", **fields)
        )
        won = (deactivated["__typename"], created["__typename"])
        assert won in {
            ("DeactivateTeamSuccess", "ValidationError"),
            ("ValidationError", "CreateAgentSuccess"),
        }
        loser = created if won[0] == "DeactivateTeamSuccess" else deactivated
        assert (loser["field"], loser["rule"]) in {("teamIds", "reference"), ("id", "in_use")}
    agents = (await execute(admin.server, admin.token, listing("agents", "Agent"), {}))["agents"][
        "nodes"
    ]
    assert all(team["active"] for agent in agents for team in agent["teams"])


# --- queues --------------------------------------------------------------------------------


async def test_admin_creates_updates_deactivates_and_reactivates_a_queue(admin: Admin) -> None:
    created = await admin.queue("CHAT", name="Chat support")
    assert {
        key: created[key]
        for key in ("direction", "routingStrategy", "offerTimeoutSeconds", "priority")
    } == {
        "direction": "INBOUND",
        "routingStrategy": "LONGEST_AVAILABLE",
        "offerTimeoutSeconds": 30,
        "priority": 5,
    }
    assert ([t["name"] for t in created["teams"]], created["requiredSkills"]) == (
        ["Chat support team"],
        [],
    )
    changed = await admin.run(
        "Update",
        "Queue",
        id=created["id"],
        expectedVersion=1,
        routingStrategy="BEST_SKILLED",
        requiredSkills=[{"name": "English", "minLevel": 6}, {"name": "Billing"}],
        offerTimeoutSeconds=600,
        priority=1,
    )
    queue = changed["queue"]
    assert (queue["routingStrategy"], queue["offerTimeoutSeconds"], queue["priority"]) == (
        "BEST_SKILLED",
        600,
        1,
    )
    assert queue["requiredSkills"] == [
        {"name": "English", "minLevel": 6},
        {"name": "Billing", "minLevel": 1},
    ]
    off = await admin.run("Deactivate", "Queue", id=created["id"])
    listed = await execute(admin.server, admin.token, listing("queues", "Queue"), {})
    on = await admin.run("Reactivate", "Queue", id=created["id"])
    assert (off["queue"]["active"], listed["queues"]["nodes"], on["queue"]["active"]) == (
        False,
        [],
        True,
    )


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"offerTimeoutSeconds": 4}, "offerTimeoutSeconds", "range:5-600"),
        ({"offerTimeoutSeconds": 601}, "offerTimeoutSeconds", "range:5-600"),
        ({"priority": 0}, "priority", "range:1-10"),
        ({"priority": 11}, "priority", "range:1-10"),
        (
            {"requiredSkills": [{"name": "English", "minLevel": 0}]},
            "requiredSkills.0.minLevel",
            "range:1-10",
        ),
        ({"requiredSkills": [{"name": " ", "minLevel": 2}]}, "requiredSkills.0.name", "required"),
        ({"teamIds": []}, "teamIds", "required"),
        ({"teamIds": ["no-such-team"]}, "teamIds", "reference"),
        ({"name": ""}, "name", "required"),
    ],
)
async def test_queue_rules(admin: Admin, fields: dict[str, Any], field: str, rule: str) -> None:
    team_id = await admin.team()
    outcome = await admin.run(
        "Create", "Queue", **({"name": "Q", "channel": "VOICE", "teamIds": [team_id]} | fields)
    )
    assert failure(outcome) == ("ValidationError", field, rule, 1)


async def test_a_team_serving_an_active_queue_cannot_be_deactivated(admin: Admin) -> None:
    queue = await admin.queue()
    refused = await admin.run("Deactivate", "Team", id=queue["teamIds"][0])
    assert failure(refused) == ("ValidationError", "id", "in_use", 1)


# --- entry points --------------------------------------------------------------------------


async def test_admin_creates_updates_deactivates_and_reactivates_an_entry_point(
    admin: Admin,
) -> None:
    queue = await admin.queue("VOICE")
    created = await admin.make(
        "EntryPoint",
        name="Main line",
        channel="VOICE",
        direction="INBOUND",
        address="+1 555 0100",
        queueId=queue["id"],
    )
    assert (created["address"], created["queueId"], created["queue"]) == (
        "+1 555 0100",
        queue["id"],
        {"id": queue["id"], "name": "Support"},
    )
    moved = await admin.run(
        "Update", "EntryPoint", id=created["id"], expectedVersion=1, address="+1 555 0199"
    )
    assert (moved["entryPoint"]["address"], moved["entryPoint"]["version"]) == ("+1 555 0199", 2)
    off = await admin.run("Deactivate", "EntryPoint", id=created["id"])
    on = await admin.run("Reactivate", "EntryPoint", id=created["id"])
    listed = await execute(admin.server, admin.token, listing("entryPoints", "EntryPoint"), {})
    assert (off["entryPoint"]["active"], on["entryPoint"]["active"]) == (False, True)
    assert [ep["id"] for ep in listed["entryPoints"]["nodes"]] == [created["id"]]


async def test_an_outbound_entry_point_needs_no_queue_but_an_inbound_one_does(admin: Admin) -> None:
    dial = await admin.make(
        "EntryPoint", name="Callbacks", channel="VOICE", direction="OUTBOUND", address="+15550100"
    )
    assert (dial["queueId"], dial["queue"]) == (None, None)
    inbound = await admin.run(
        "Create", "EntryPoint", name="In", channel="SMS", direction="INBOUND", address="+15550100"
    )
    assert failure(inbound) == ("ValidationError", "queueId", "required", 1)


@pytest.mark.parametrize(
    ("channel", "address", "rule"),
    [
        ("VOICE", "12345", "length:7-15"),
        ("VOICE", "555-CALL-NOW", "phone"),
        ("SMS", "+1 555 0100 0000 0", "length:7-15"),
        ("EMAIL", "support", "email"),
        ("CHAT", "  ", "required"),
        ("SOCIAL", "x" * 201, "max_length:200"),
    ],
)
async def test_entry_point_address_rules(
    admin: Admin, channel: str, address: str, rule: str
) -> None:
    fields = {"name": "EP", "channel": channel, "direction": "OUTBOUND", "address": address}
    assert failure(await admin.run("Create", "EntryPoint", **fields)) == (
        "ValidationError",
        "address",
        rule,
        1,
    )


async def test_an_entry_point_routes_only_to_an_active_queue_of_its_channel(admin: Admin) -> None:
    chat_queue, voice_queue = (
        await admin.queue("CHAT", name="Chat"),
        await admin.queue("VOICE", name="Voice"),
    )
    await admin.run("Deactivate", "Queue", id=voice_queue["id"])
    fields = {"name": "Main", "channel": "VOICE", "direction": "INBOUND", "address": "+15550100"}
    for queue_id, rule in [
        (chat_queue["id"], "same_channel"),
        (voice_queue["id"], "reference"),
        ("nope", "reference"),
    ]:
        outcome = await admin.run("Create", "EntryPoint", **(fields | {"queueId": queue_id}))
        assert failure(outcome) == ("ValidationError", "queueId", rule, 1)


async def test_a_queue_an_entry_point_routes_to_keeps_its_channel_and_stays_active(
    admin: Admin,
) -> None:
    queue = await admin.queue("CHAT")
    ep = await admin.make(
        "EntryPoint",
        name="Web",
        channel="CHAT",
        direction="INBOUND",
        address="site",
        queueId=queue["id"],
    )
    rechanneled = await admin.run("Update", "Queue", id=queue["id"], channel="EMAIL")
    assert failure(rechanneled) == ("ValidationError", "id", "in_use", 1)
    refused = await admin.run("Deactivate", "Queue", id=queue["id"])
    assert failure(refused) == ("ValidationError", "id", "in_use", 1)
    retyped = await admin.run("Update", "EntryPoint", id=ep["id"], channel="SOCIAL")
    assert failure(retyped) == ("ValidationError", "queueId", "same_channel", 1)
    await admin.run("Deactivate", "EntryPoint", id=ep["id"])
    renamed = await admin.run("Update", "Queue", id=queue["id"], channel="EMAIL")
    assert renamed["queue"]["channel"] == "EMAIL"
    back = await admin.run("Reactivate", "EntryPoint", id=ep["id"])
    assert failure(back) == ("ValidationError", "queueId", "same_channel", 1)


async def test_an_address_is_unique_per_channel_and_direction(admin: Admin) -> None:
    queue = await admin.queue("VOICE")
    fields = {"channel": "VOICE", "direction": "INBOUND", "queueId": queue["id"]}
    await admin.make("EntryPoint", name="Main", address="+1 555 0100", **fields)
    same = await admin.run("Create", "EntryPoint", name="Copy", address="+1-555-0100", **fields)
    assert failure(same) == ("ValidationError", "address", "unique", 1)
    outbound = await admin.run(
        "Create",
        "EntryPoint",
        name="Dial",
        address="+15550100",
        **(fields | {"direction": "OUTBOUND"}),
    )
    assert outbound["__typename"] == "CreateEntryPointSuccess"


# --- dial numbers --------------------------------------------------------------------------


async def test_admin_creates_updates_deactivates_and_reactivates_a_dial_number(
    admin: Admin,
) -> None:
    created = await admin.make("DialNumber", name="Legal", number="+44 20 7946 000")
    changed = await admin.run(
        "Update", "DialNumber", id=created["id"], expectedVersion=1, number="+44 20 7946 001"
    )
    assert (changed["dialNumber"]["number"], changed["dialNumber"]["version"]) == (
        "+44 20 7946 001",
        2,
    )
    off = await admin.run("Deactivate", "DialNumber", id=created["id"])
    listed = await execute(
        admin.server, admin.token, listing("dialNumbers", "DialNumber"), {"includeInactive": True}
    )
    on = await admin.run("Reactivate", "DialNumber", id=created["id"])
    assert (off["dialNumber"]["active"], on["dialNumber"]["active"]) == (False, True)
    assert [number["active"] for number in listed["dialNumbers"]["nodes"]] == [False]


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"number": "12345"}, "number", "length:7-15"),
        ({"number": "call-legal"}, "number", "phone"),
        ({"number": "+44 20-7946.000"}, "number", "unique"),
        ({"name": " LEGAL"}, "name", "unique"),
    ],
)
async def test_dial_number_rules(
    admin: Admin, fields: dict[str, Any], field: str, rule: str
) -> None:
    await admin.make("DialNumber", name="Legal", number="+44 20 7946 000")
    outcome = await admin.run(
        "Create", "DialNumber", **({"name": "Other", "number": "+1 555 0100"} | fields)
    )
    assert failure(outcome) == ("ValidationError", field, rule, 1)


UPDATE_POLICIES = """
mutation($input: UpdatePoliciesInput!) {
  updatePolicies(input: $input) { __typename }
}"""


async def test_updates_that_keep_what_depends_on_them_valid_go_through(admin: Admin) -> None:
    queue = await admin.queue("VOICE")
    await admin.make("Agent", **await admin.agent_fields(teamIds=queue["teamIds"]))
    fields = {"channel": "VOICE", "address": "+15550100", "queueId": queue["id"]}
    await admin.make("EntryPoint", name="Main", direction="INBOUND", **fields)
    callbacks = await admin.make("EntryPoint", name="Callbacks", direction="OUTBOUND", **fields)
    set_policies = await execute(
        admin.server,
        admin.token,
        UPDATE_POLICIES,
        {"input": {"callbackEntryPointId": callbacks["id"]}},
    )
    assert set_policies["updatePolicies"]["__typename"] == "UpdatePoliciesSuccess"
    renamed_team = await admin.run("Update", "Team", id=queue["teamIds"][0], name="Renamed")
    reprioritized = await admin.run("Update", "Queue", id=queue["id"], priority=2)
    readdressed = await admin.run("Update", "EntryPoint", id=callbacks["id"], address="+15550111")
    assert [outcome["__typename"] for outcome in (renamed_team, reprioritized, readdressed)] == [
        "UpdateTeamSuccess",
        "UpdateQueueSuccess",
        "UpdateEntryPointSuccess",
    ]


async def test_a_retried_create_with_its_idempotency_key_returns_the_first_queue(
    admin: Admin,
) -> None:
    team_id = await admin.team()
    fields = {
        "name": "Retried",
        "channel": "EMAIL",
        "teamIds": [team_id],
        "requiredSkills": [{"name": "German", "minLevel": 4}],
        "idempotencyKey": "create-retried-queue",
    }
    first, again = await admin.make("Queue", **fields), await admin.make("Queue", **fields)
    assert again == first
    listed = await execute(admin.server, admin.token, listing("queues", "Queue"), {})
    assert len(listed["queues"]["nodes"]) == 1
