"""Idle and wrap-up codes, chat responses, message templates and CAD variables through the API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute
from tests.api.server import Server, token

SELECTION = {
    "IdleCode": "idleCode { id name description active version }",
    "WrapUpCode": "wrapUpCode { id name description active version }",
    "ChatResponse": "chatResponse { id name text channels tags version }",
    "MessageTemplate": "messageTemplate { id name channel subject body placeholders version }",
    "CadVariable": "cadVariable { id name label varType displayOrder showInPopover editable"
    " secure defaultValue active version }",
}
ERRORS = (
    "... on Error { code message } ... on ValidationError { field rule violations { field rule } }"
)
# Only the errors a result union holds may be spread in it.
CONFLICT = "... on ConflictError { currentVersion }"
TOGGLE = f"{CONFLICT} ... on InvalidStateError {{ currentState }}"
MORE_ERRORS = {"Create": "", "Update": CONFLICT, "Deactivate": TOGGLE, "Reactivate": TOGGLE}


def mutation(verb: str, noun: str) -> str:
    return f"""
mutation($input: {verb}{noun}Input!) {{
  result: {verb.lower()}{noun}(input: $input) {{
    __typename
    ... on {verb}{noun}Success {{ {SELECTION[noun]} }}
    {ERRORS} {MORE_ERRORS[verb]}
  }}
}}"""


@dataclass
class Admin:
    """An admin of a fresh organization, calling ``<verb><Noun>`` mutations."""

    server: Server
    org_id: str

    async def run(self, verb: str, noun: str, **data: Any) -> dict[str, Any]:
        jwt = token(self.org_id, Role.ADMIN)
        result = await execute(self.server, jwt, mutation(verb, noun), {"input": data})
        return result["result"]

    async def create(self, noun: str, **data: Any) -> dict[str, Any]:
        return success(await self.run("Create", noun, **data), noun)


@pytest.fixture
def admin(server: Server, org_id: str) -> Admin:
    return Admin(server, org_id)


def success(outcome: dict[str, Any], noun: str) -> dict[str, Any]:
    assert outcome["__typename"].endswith("Success"), outcome
    return outcome[noun[0].lower() + noun[1:]]


def refused(outcome: dict[str, Any]) -> tuple[str, str]:
    """The (field, rule) of a validation error that names exactly one violation."""
    assert (outcome["__typename"], outcome["code"]) == ("ValidationError", "VALIDATION_FAILED")
    assert len(outcome["violations"]) == 1, outcome["violations"]
    return outcome["field"], outcome["rule"]


# --- CRUD for every kind ---------------------------------------------------------------------

KINDS = [
    ("IdleCode", "idleCodes", {"name": "Lunch", "description": "Break"}, {"description": None}),
    ("WrapUpCode", "wrapUpCodes", {"name": "Billing"}, {"description": "Invoices"}),
    (
        "ChatResponse",
        "chatResponses",
        {"name": "Greeting", "text": "Hello!", "channels": ["CHAT"], "tags": ["hello"]},
        {"text": "Hi there!", "channels": []},
    ),
    (
        "MessageTemplate",
        "messageTemplates",
        {"name": "Reminder", "channel": "SMS", "body": "Hi {{customerName}}"},
        {"channel": "EMAIL", "subject": "Case {{caseId}}"},
    ),
    (
        "CadVariable",
        "cadVariables",
        {"name": "accountId", "label": "Account", "varType": "INTEGER", "defaultValue": "0"},
        {"showInPopover": True, "displayOrder": 3},
    ),
]
CRUD_PARAMETERS = ("noun", "plural", "fields", "changes")


@pytest.mark.parametrize(CRUD_PARAMETERS, KINDS)
async def test_admin_creates_reads_updates_deactivates_and_reactivates(
    admin: Admin, noun: str, plural: str, fields: dict[str, Any], changes: dict[str, Any]
) -> None:
    created = await admin.create(noun, **fields)
    assert ({key: created[key] for key in fields}, created["version"]) == (fields, 1)
    changed = await admin.run("Update", noun, id=created["id"], expectedVersion=1, **changes)
    updated = success(changed, noun)
    assert ({key: updated[key] for key in changes}, updated["version"]) == (changes, 2)
    stale = await admin.run("Update", noun, id=created["id"], expectedVersion=1, name="X")
    assert (stale["__typename"], stale["currentVersion"]) == ("ConflictError", 2)

    singular = noun[0].lower() + noun[1:]
    listing = f"query($id: ID!) {{ {plural} {{ nodes {{ id name }} }} "
    listing += f"one: {singular}(id: $id) {{ name }} }}"
    agent = token(admin.org_id, Role.AGENT)
    read = await execute(admin.server, agent, listing, {"id": created["id"]})
    assert read[plural]["nodes"] == [{"id": created["id"], "name": fields["name"]}]
    assert read["one"] == {"name": fields["name"]}

    gone = success(await admin.run("Deactivate", noun, id=created["id"]), noun)
    assert gone["version"] == 3
    assert (await execute(admin.server, agent, listing, {"id": created["id"]}))[plural] == {
        "nodes": []
    }
    again = await admin.run("Deactivate", noun, id=created["id"])
    assert (again["__typename"], again["currentState"]) == ("InvalidStateError", "INACTIVE")
    back = success(await admin.run("Reactivate", noun, id=created["id"]), noun)
    assert back["version"] == 4


@pytest.mark.parametrize(CRUD_PARAMETERS, KINDS)
async def test_names_are_unique_per_kind_and_only_admins_configure(
    admin: Admin, noun: str, plural: str, fields: dict[str, Any], changes: dict[str, Any]
) -> None:
    await admin.create(noun, **fields)
    duplicate = await admin.run("Create", noun, **{**fields, "name": fields["name"].upper()})
    assert refused(duplicate) == ("name", "unique")
    agent = token(admin.org_id, Role.AGENT)
    with pytest.raises(GraphQLErrors) as forbidden:
        await execute(admin.server, agent, mutation("Create", noun), {"input": fields})
    assert forbidden.value.codes == ["FORBIDDEN"]


# --- every validation rule, as the API reports it --------------------------------------------


def chat(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "ChatResponse", {"name": "R", "text": "t", **fields}


def sms(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "MessageTemplate", {"name": "T", "channel": "SMS", "body": "b", **fields}


def email(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "MessageTemplate", {
        "name": "T",
        "channel": "EMAIL",
        "subject": "s",
        "body": "b",
        **fields,
    }


def cad(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "CadVariable", {"name": "a", "label": "A", **fields}


RULES = [
    (("IdleCode", {"name": ""}), "name", "required"),
    (("IdleCode", {"name": "n" * 101}), "name", "max_length:100"),
    (("IdleCode", {"name": "I", "description": "d" * 251}), "description", "max_length:250"),
    (("WrapUpCode", {"name": "W", "description": "d" * 251}), "description", "max_length:250"),
    (chat(text=" "), "text", "required"),
    (chat(text="t" * 2001), "text", "max_length:2000"),
    (chat(channels=["VOICE"]), "channels.0", "messaging_channel"),
    (chat(channels=["SMS", "SMS"]), "channels", "unique_items"),
    (chat(tags=[f"t{i}" for i in range(11)]), "tags", "max_items:10"),
    (chat(tags=["a", "A"]), "tags", "unique_items"),
    (chat(tags=[""]), "tags.0", "required"),
    (chat(tags=["t" * 31]), "tags.0", "max_length:30"),
    (sms(channel="CHAT"), "channel", "template_channel"),
    (sms(subject="s"), "subject", "forbidden"),
    (sms(body=""), "body", "required"),
    (sms(body="b" * 1601), "body", "max_length:1600"),
    (sms(body="Hi {{name"), "body", "placeholder"),
    (sms(body="Hi name}}"), "body", "placeholder"),
    (sms(body="Hi {{first name}}"), "body", "placeholder"),
    (email(subject=None), "subject", "required"),
    (email(subject="s" * 201), "subject", "max_length:200"),
    (email(subject="a\nBcc: x@example.com"), "subject", "single_line"),
    (email(subject="{{9}}"), "subject", "placeholder"),
    (email(body="b" * 4001), "body", "max_length:4000"),
    (cad(name="account id"), "name", "identifier"),
    (cad(label=""), "label", "required"),
    (cad(label="l" * 101), "label", "max_length:100"),
    (cad(displayOrder=-1), "displayOrder", "range:0-1000"),
    (cad(displayOrder=1001), "displayOrder", "range:0-1000"),
    (cad(secure=True, showInPopover=True), "showInPopover", "secure_not_in_popover"),
    (cad(secure=True, defaultValue="1"), "defaultValue", "secure_no_default"),
    (cad(defaultValue="v" * 257), "defaultValue", "max_length:256"),
    (cad(varType="INTEGER", defaultValue="1.5"), "defaultValue", "integer"),
    (cad(varType="BOOLEAN", defaultValue="yes"), "defaultValue", "boolean"),
    (cad(varType="DATETIME", defaultValue="2024-05-01T09:30"), "defaultValue", "datetime"),
]


@pytest.mark.parametrize(("case", "field", "rule"), RULES)
async def test_each_rule_is_reported_with_its_field(
    admin: Admin, case: tuple[str, dict[str, Any]], field: str, rule: str
) -> None:
    noun, data = case
    assert refused(await admin.run("Create", noun, **data)) == (field, rule)


async def test_boundary_values_are_accepted(admin: Admin) -> None:
    tags = [f"t{i}" for i in range(10)]
    await admin.create("ChatResponse", name="Long", text="t" * 2000, tags=tags)
    await admin.create("MessageTemplate", name="S", channel="SMS", body="b" * 1600)
    await admin.create(
        "MessageTemplate", name="E", channel="EMAIL", subject="s" * 200, body="b" * 4000
    )
    await admin.create(
        "CadVariable", name="z", label="Z", displayOrder=1000, defaultValue="v" * 256
    )
    counts = "{ chatResponses { nodes { id } } messageTemplates { nodes { id } } }"
    read = await execute(admin.server, token(admin.org_id, Role.ADMIN), counts)
    assert (len(read["chatResponses"]["nodes"]), len(read["messageTemplates"]["nodes"])) == (1, 2)


async def test_a_template_lists_its_placeholders_and_sms_needs_the_subject_gone(
    admin: Admin,
) -> None:
    body = "Dear {{customerName}}, about {{caseId}}"
    created = await admin.create(
        "MessageTemplate", name="Case", channel="EMAIL", subject="Case {{caseId}}", body=body
    )
    assert created["placeholders"] == ["caseId", "customerName"]
    kept = await admin.run("Update", "MessageTemplate", id=created["id"], channel="SMS")
    assert refused(kept) == ("subject", "forbidden")
    dropped = await admin.run(
        "Update", "MessageTemplate", id=created["id"], channel="SMS", subject=None
    )
    sms_template = success(dropped, "MessageTemplate")
    assert (sms_template["subject"], sms_template["placeholders"]) == (
        None,
        ["customerName", "caseId"],
    )


async def test_a_required_field_cannot_be_nulled(admin: Admin) -> None:
    response = await admin.create("ChatResponse", name="Hi", text="Hello")
    outcome = await admin.run("Update", "ChatResponse", id=response["id"], text=None, tags=None)
    assert outcome["violations"] == [
        {"field": "text", "rule": "required"},
        {"field": "tags", "rule": "required"},
    ]


# --- wrap-up code search (SPEC §8: at least 3 characters) ------------------------------------

WRAP_UP_SEARCH = "query($search: String) { wrapUpCodes(search: $search) { nodes { name } } }"


async def test_wrap_up_codes_are_searched_by_at_least_three_characters(admin: Admin) -> None:
    for name in ["Billing question", "Sale", "Rebill"]:
        await admin.create("WrapUpCode", name=name)
    agent = token(admin.org_id, Role.AGENT)
    found = await execute(admin.server, agent, WRAP_UP_SEARCH, {"search": "BIL"})
    assert found["wrapUpCodes"]["nodes"] == [{"name": "Billing question"}, {"name": "Rebill"}]
    blank = await execute(admin.server, agent, WRAP_UP_SEARCH, {"search": "  "})
    assert len(blank["wrapUpCodes"]["nodes"]) == 3
    for short in ["b", " bi "]:
        with pytest.raises(GraphQLErrors) as refusal:
            await execute(admin.server, agent, WRAP_UP_SEARCH, {"search": short})
        assert [error["message"] for error in refusal.value.errors] == [
            "search needs at least 3 characters"
        ]


async def test_other_kinds_still_search_by_any_length(admin: Admin) -> None:
    await admin.create("IdleCode", name="Break")
    query = '{ idleCodes(search: "b") { nodes { name } } }'
    found = await execute(admin.server, token(admin.org_id, Role.AGENT), query)
    assert found["idleCodes"]["nodes"] == [{"name": "Break"}]


# --- CAD popover limit ------------------------------------------------------------------------

POPOVER = "{ cadVariables(first: 100) { nodes { name showInPopover } } }"


def popover_variable(index: int) -> dict[str, Any]:
    return {"name": f"var{index}", "label": f"Variable {index}", "showInPopover": True}


async def shown_in_popover(admin: Admin) -> int:
    read = await execute(admin.server, token(admin.org_id, Role.ADMIN), POPOVER)
    return sum(1 for node in read["cadVariables"]["nodes"] if node["showInPopover"])


async def test_a_seventh_popover_variable_is_refused_on_create_update_and_reactivate(
    admin: Admin,
) -> None:
    shown = [await admin.create("CadVariable", **popover_variable(i)) for i in range(6)]
    seventh = await admin.run("Create", "CadVariable", **popover_variable(6))
    assert refused(seventh) == ("showInPopover", "max_popover:6")

    hidden = await admin.create("CadVariable", name="hidden", label="Hidden")
    promoted = await admin.run("Update", "CadVariable", id=hidden["id"], showInPopover=True)
    assert refused(promoted) == ("showInPopover", "max_popover:6")

    await admin.run("Deactivate", "CadVariable", id=shown[0]["id"])
    await admin.create("CadVariable", **popover_variable(7))
    back = await admin.run("Reactivate", "CadVariable", id=shown[0]["id"])
    assert refused(back) == ("showInPopover", "max_popover:6")
    assert await shown_in_popover(admin) == 6


async def test_ten_concurrent_popover_creates_leave_at_most_six(admin: Admin) -> None:
    results = await asyncio.gather(
        *(admin.run("Create", "CadVariable", **popover_variable(i)) for i in range(10))
    )
    created = [r for r in results if r["__typename"] == "CreateCadVariableSuccess"]
    refusals = [refused(r) for r in results if r not in created]
    assert (len(created), refusals) == (6, [("showInPopover", "max_popover:6")] * 4)
    assert await shown_in_popover(admin) == 6


async def test_a_popover_variable_cannot_become_secure(admin: Admin) -> None:
    shown = await admin.create("CadVariable", **popover_variable(1))
    outcome = await admin.run("Update", "CadVariable", id=shown["id"], secure=True)
    assert refused(outcome) == ("showInPopover", "secure_not_in_popover")
    moved = await admin.run(
        "Update", "CadVariable", id=shown["id"], secure=True, showInPopover=False
    )
    secure = success(moved, "CadVariable")
    assert (secure["secure"], secure["showInPopover"]) == (True, False)
