"""Organization policies through the API: defaults, updates, every rule, references, versions."""

from __future__ import annotations

from typing import Any

import pytest

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute
from tests.api.server import Server, token

POLICY_FIELDS = """
    recordingEnabled recordingPauseSeconds pciPolicy piiPatterns maskCallerNumber
    wrapUpTimeoutSeconds defaultWrapUpCodeId callbackEntryPointId concurrentCallLimit
    presenceGraceSeconds version updatedAt
"""

POLICIES = f"{{ organization {{ policies {{ {POLICY_FIELDS} }} }} }}"

UPDATE_POLICIES = f"""
mutation($input: UpdatePoliciesInput!) {{
  updatePolicies(input: $input) {{
    __typename
    ... on UpdatePoliciesSuccess {{ policies {{ {POLICY_FIELDS} }} }}
    ... on Error {{ code message }}
    ... on ValidationError {{ field rule violations {{ field rule }} }}
    ... on ConflictError {{ currentVersion }}
  }}
}}
"""

CREATE_WRAP_UP_CODE = """
mutation($input: CreateWrapUpCodeInput!) {
  createWrapUpCode(input: $input) { ... on CreateWrapUpCodeSuccess { wrapUpCode { id } } }
}
"""

CREATE_ENTRY_POINT = """
mutation($input: CreateEntryPointInput!) {
  createEntryPoint(input: $input) {
    __typename
    ... on CreateEntryPointSuccess { entryPoint { id } }
  }
}
"""

DEACTIVATE_WRAP_UP_CODE = """
mutation($id: ID!) {
  deactivateWrapUpCode(input: {id: $id}) {
    __typename
    ... on DeactivateWrapUpCodeSuccess { wrapUpCode { active } }
    ... on ValidationError { code field rule message }
  }
}
"""

DEACTIVATE_ENTRY_POINT = """
mutation($id: ID!) {
  deactivateEntryPoint(input: {id: $id}) { __typename }
}
"""

DEFAULTS = {
    "recordingEnabled": True,
    "recordingPauseSeconds": 60,
    "pciPolicy": "REDACT",
    "piiPatterns": [],
    "maskCallerNumber": False,
    "wrapUpTimeoutSeconds": None,
    "defaultWrapUpCodeId": None,
    "callbackEntryPointId": None,
    "concurrentCallLimit": None,
    "presenceGraceSeconds": 60,
    "version": 0,
    "updatedAt": None,
}


async def update(server: Server, org_id: str, **changes: Any) -> dict[str, Any]:
    result = await execute(server, token(org_id, Role.ADMIN), UPDATE_POLICIES, {"input": changes})
    return result["updatePolicies"]


async def wrap_up_code(server: Server, org_id: str, name: str = "Resolved") -> str:
    created = await execute(
        server, token(org_id, Role.ADMIN), CREATE_WRAP_UP_CODE, {"input": {"name": name}}
    )
    return created["createWrapUpCode"]["wrapUpCode"]["id"]


async def entry_point(server: Server, org_id: str, *, direction: str = "OUTBOUND") -> str:
    fields = {"name": "Callbacks", "channel": "VOICE", "direction": direction}
    fields["address"] = "+15550100"
    created = await execute(
        server, token(org_id, Role.ADMIN), CREATE_ENTRY_POINT, {"input": fields}
    )
    assert created["createEntryPoint"]["__typename"] == "CreateEntryPointSuccess", created
    return created["createEntryPoint"]["entryPoint"]["id"]


def refusal(outcome: dict[str, Any]) -> tuple[str, str, str, str]:
    return outcome["__typename"], outcome["code"], outcome["field"], outcome["rule"]


async def test_an_organization_starts_with_the_default_policies(
    server: Server, org_id: str
) -> None:
    read = await execute(server, token(org_id, Role.AGENT), POLICIES)
    assert read["organization"]["policies"] == DEFAULTS


async def test_an_admin_updates_the_policies_and_everyone_reads_them(
    server: Server, org_id: str
) -> None:
    code_id = await wrap_up_code(server, org_id)
    entry_point_id = await entry_point(server, org_id)
    changes = {
        "recordingEnabled": False,
        "recordingPauseSeconds": 120,
        "pciPolicy": "DROP",
        "piiPatterns": [r"\b\d{3}-\d{2}-\d{4}\b"],
        "maskCallerNumber": True,
        "wrapUpTimeoutSeconds": 90,
        "defaultWrapUpCodeId": code_id,
        "callbackEntryPointId": entry_point_id,
        "concurrentCallLimit": 250,
        "presenceGraceSeconds": 30,
    }
    updated = await update(server, org_id, expectedVersion=0, **changes)
    assert updated["__typename"] == "UpdatePoliciesSuccess"
    read = (await execute(server, token(org_id, Role.AGENT), POLICIES))["organization"]["policies"]
    assert {key: read[key] for key in changes} == changes
    assert {key: updated["policies"][key] for key in changes} == changes
    assert (read["version"], updated["policies"]["version"]) == (1, 1)
    # MongoDB keeps milliseconds; the mutation answers with the clock's microseconds.
    assert read["updatedAt"][:23] == updated["policies"]["updatedAt"][:23]

    off = await update(server, org_id, wrapUpTimeoutSeconds=None, concurrentCallLimit=None)
    assert (off["policies"]["wrapUpTimeoutSeconds"], off["policies"]["version"]) == (None, 2)


async def test_a_stale_expected_version_is_a_conflict(server: Server, org_id: str) -> None:
    await update(server, org_id, expectedVersion=0, recordingEnabled=False)
    stale = await update(server, org_id, expectedVersion=0, recordingEnabled=True)
    assert (stale["__typename"], stale["code"], stale["currentVersion"]) == (
        "ConflictError",
        "CONFLICT",
        1,
    )


async def test_an_update_that_changes_nothing_keeps_the_version(
    server: Server, org_id: str
) -> None:
    same = await update(server, org_id, recordingEnabled=True, pciPolicy="REDACT")
    assert same["policies"]["version"] == 0


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"recordingPauseSeconds": 4}, "recordingPauseSeconds", "range:5-3600"),
        ({"recordingPauseSeconds": 3601}, "recordingPauseSeconds", "range:5-3600"),
        ({"presenceGraceSeconds": 4}, "presenceGraceSeconds", "range:5-3600"),
        ({"presenceGraceSeconds": 3601}, "presenceGraceSeconds", "range:5-3600"),
        ({"concurrentCallLimit": 0}, "concurrentCallLimit", "range:1-100000"),
        ({"concurrentCallLimit": 100001}, "concurrentCallLimit", "range:1-100000"),
        ({"piiPatterns": ["x"] * 21}, "piiPatterns", "max_items:20"),
        ({"piiPatterns": [r"\d{16}", "(unclosed"]}, "piiPatterns.1", "regex"),
        ({"piiPatterns": ["[a-"]}, "piiPatterns.0", "regex"),
        ({"piiPatterns": [r"\d*"]}, "piiPatterns.0", "matches_empty"),
        ({"piiPatterns": [" "]}, "piiPatterns.0", "required"),
        ({"piiPatterns": ["a" * 201]}, "piiPatterns.0", "max_length:200"),
        ({"recordingEnabled": None}, "recordingEnabled", "required"),
        ({"pciPolicy": None}, "pciPolicy", "required"),
        (
            {"wrapUpTimeoutSeconds": 60},
            "defaultWrapUpCodeId",
            "required_with:wrapUpTimeoutSeconds",
        ),
        ({"defaultWrapUpCodeId": "missing"}, "defaultWrapUpCodeId", "reference"),
        ({"callbackEntryPointId": "missing"}, "callbackEntryPointId", "reference"),
    ],
)
async def test_each_policy_rule_names_its_field(
    server: Server, org_id: str, changes: dict[str, Any], field: str, rule: str
) -> None:
    outcome = await update(server, org_id, **changes)
    assert refusal(outcome) == ("ValidationError", "VALIDATION_FAILED", field, rule)
    assert len(outcome["violations"]) == 1


@pytest.mark.parametrize(("seconds", "rule"), [(4, "range:5-86400"), (86401, "range:5-86400")])
async def test_the_wrap_up_timeout_stays_within_a_day(
    server: Server, org_id: str, seconds: int, rule: str
) -> None:
    code_id = await wrap_up_code(server, org_id)
    outcome = await update(
        server, org_id, wrapUpTimeoutSeconds=seconds, defaultWrapUpCodeId=code_id
    )
    assert refusal(outcome) == (
        "ValidationError",
        "VALIDATION_FAILED",
        "wrapUpTimeoutSeconds",
        rule,
    )
    for accepted in (5, 86400):
        ok = await update(
            server, org_id, wrapUpTimeoutSeconds=accepted, defaultWrapUpCodeId=code_id
        )
        assert ok["policies"]["wrapUpTimeoutSeconds"] == accepted


async def test_policies_may_only_name_active_entities(server: Server, org_id: str) -> None:
    admin = token(org_id, Role.ADMIN)
    code_id = await wrap_up_code(server, org_id)
    entry_point_id = await entry_point(server, org_id)
    await execute(server, admin, DEACTIVATE_WRAP_UP_CODE, {"id": code_id})
    await execute(server, admin, DEACTIVATE_ENTRY_POINT, {"id": entry_point_id})
    outcome = await update(
        server, org_id, defaultWrapUpCodeId=code_id, callbackEntryPointId=entry_point_id
    )
    assert outcome["violations"] == [
        {"field": "defaultWrapUpCodeId", "rule": "reference"},
        {"field": "callbackEntryPointId", "rule": "reference"},
    ]


async def test_a_wrap_up_code_the_policies_use_cannot_be_deactivated(
    server: Server, org_id: str
) -> None:
    admin = token(org_id, Role.ADMIN)
    code_id = await wrap_up_code(server, org_id)
    await update(server, org_id, wrapUpTimeoutSeconds=60, defaultWrapUpCodeId=code_id)
    refused = await execute(server, admin, DEACTIVATE_WRAP_UP_CODE, {"id": code_id})
    outcome = refused["deactivateWrapUpCode"]
    assert refusal(outcome) == ("ValidationError", "VALIDATION_FAILED", "id", "in_use")
    assert "organization policies" in outcome["message"]

    await update(server, org_id, wrapUpTimeoutSeconds=None, defaultWrapUpCodeId=None)
    freed = await execute(server, admin, DEACTIVATE_WRAP_UP_CODE, {"id": code_id})
    assert freed["deactivateWrapUpCode"] == {
        "__typename": "DeactivateWrapUpCodeSuccess",
        "wrapUpCode": {"active": False},
    }


async def test_only_admins_change_policies(server: Server, org_id: str) -> None:
    for role in (Role.AGENT, Role.SUPERVISOR):
        with pytest.raises(GraphQLErrors) as refused:
            await execute(
                server, token(org_id, role), UPDATE_POLICIES, {"input": {"maskCallerNumber": True}}
            )
        assert refused.value.codes == ["FORBIDDEN"]


async def test_policies_belong_to_one_organization(server: Server, org_id: str) -> None:
    await update(server, org_id, maskCallerNumber=True)
    other = token(f"{org_id}-other", Role.ADMIN)
    assert (await execute(server, other, POLICIES))["organization"]["policies"] == DEFAULTS


async def test_the_callback_entry_point_must_dial_out_on_voice(server: Server, org_id: str) -> None:
    admin = token(org_id, Role.ADMIN)
    queue = await execute(
        server,
        admin,
        "mutation($i: CreateTeamInput!) { createTeam(input: $i) { ... on CreateTeamSuccess { team { id } } } }",
        {"i": {"name": "Voice"}},
    )
    team_id = queue["createTeam"]["team"]["id"]
    created_queue = await execute(
        server,
        admin,
        "mutation($i: CreateQueueInput!) { createQueue(input: $i) { ... on CreateQueueSuccess { queue { id } } } }",
        {"i": {"name": "Inbound voice", "channel": "VOICE", "teamIds": [team_id]}},
    )
    inbound = await execute(
        server,
        admin,
        CREATE_ENTRY_POINT,
        {
            "input": {
                "name": "Hotline",
                "channel": "VOICE",
                "direction": "INBOUND",
                "address": "+15550111",
                "queueId": created_queue["createQueue"]["queue"]["id"],
            }
        },
    )
    inbound_id = inbound["createEntryPoint"]["entryPoint"]["id"]
    refused = await update(server, org_id, callbackEntryPointId=inbound_id)
    assert refusal(refused) == (
        "ValidationError",
        "VALIDATION_FAILED",
        "callbackEntryPointId",
        "outbound_voice",
    )

    outbound_id = await entry_point(server, org_id)
    accepted = await update(server, org_id, callbackEntryPointId=outbound_id)
    assert accepted["__typename"] == "UpdatePoliciesSuccess"
    turned_inbound = await execute(
        server,
        admin,
        """mutation($i: UpdateEntryPointInput!) { updateEntryPoint(input: $i) {
             __typename ... on ValidationError { field rule } } }""",
        {
            "i": {
                "id": outbound_id,
                "direction": "INBOUND",
                "queueId": created_queue["createQueue"]["queue"]["id"],
            }
        },
    )
    assert turned_inbound["updateEntryPoint"] == {
        "__typename": "ValidationError",
        "field": "id",
        "rule": "in_use",
    }
