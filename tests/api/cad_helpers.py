"""CAD variables through the public API (issue #5): operation strings, the definitions the tests
configure, and helpers that bring agents onto one call. Shared by test_cad_variables and
test_cad_conflicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient

from tests.api.calls import AnsweredCall, answered_call, voice_agent
from tests.api.center import OUTCOME, Center, Line
from tests.api.server import Server
from tests.api.test_configuration_b import Admin as CodesAdmin
from tests.api.test_consult_conference import colleague, consulted

# A secure value no test writes anywhere else: whatever holds it got it from these tests.
SECRET = "SSN-078-05-1120-sentinel"

# (name, fields) in creation order; display orders deliberately differ from it.
DEFINITIONS: list[dict[str, Any]] = [
    {"name": "caseNumber", "label": "Case number", "editable": True, "displayOrder": 30},
    {"name": "actionCode", "label": "Action code", "editable": True, "displayOrder": 10},
    {
        "name": "tier",
        "label": "Tier",
        "editable": True,
        "displayOrder": 20,
        "defaultValue": "standard",
    },
    {"name": "count", "label": "Count", "varType": "INTEGER", "editable": True},
    {"name": "vip", "label": "VIP", "varType": "BOOLEAN", "editable": True},
    {"name": "callAt", "label": "Call at", "varType": "DATETIME", "editable": True},
    {"name": "account", "label": "Account"},  # read-only for agents
    {"name": "ssn", "label": "SSN", "secure": True, "editable": True},
]
POPOVER = ("caseNumber", "actionCode", "tier")

CAD_FIELDS = """name value secure version savedAt savedBy { kind id name } label varType editable"""
CONFLICT_FIELDS = (
    """code name value secure version expectedVersion savedAt savedBy { kind id name }"""
)
SAVE_CAD = f"""
mutation($input: SaveCadVariablesInput!) {{
  saveCadVariables(input: $input) {{
    {OUTCOME}
    ... on SaveCadVariablesSuccess {{
      taskId taskVersion saved {{ {CAD_FIELDS} }} conflicts {{ {CONFLICT_FIELDS} }}
      task {{ id version cad {{ {CAD_FIELDS} }} }}
    }}
    ... on CadConflictError {{ conflicts {{ {CONFLICT_FIELDS} }} }}
  }}
}}"""
UPDATE_CAD = f"""
mutation($input: UpdateCadVariablesInput!) {{
  updateCadVariables(input: $input) {{
    {OUTCOME}
    ... on UpdateCadVariablesSuccess {{ taskId taskVersion saved {{ {CAD_FIELDS} }} }}
  }}
}}"""
REVEAL_CAD = f"""
mutation($input: RevealCadVariableInput!) {{
  revealCadVariable(input: $input) {{
    {OUTCOME} ... on RevealCadVariableSuccess {{ name value version }}
  }}
}}"""
TASK_CAD = f"query($id: ID!) {{ task(id: $id) {{ id version cad {{ {CAD_FIELDS} }} }} }}"
CAD_CONFLICTS = f"""
subscription($after: Int) {{
  cadConflicts(after: $after) {{
    __typename
    ... on Event {{ seq occurredAt cause {{ kind id }} }}
    ... on CadConflictNotice {{ taskId conflict {{ {CONFLICT_FIELDS} }} }}
    ... on ResyncRequired {{ headSeq }}
  }}
}}"""
CAD_EVENT_FIELDS = """
    ... on CadVariablesSaved { status version variables { name value secure version } }
    ... on CadVariableRevealed { name valueVersion }
"""


async def cad_definitions(center: Center, *, popover: bool = False) -> None:
    """The variables above (``POPOVER`` shown in the popover when ``popover``)."""
    admin = CodesAdmin(center.server, center.org_id)
    for definition in DEFINITIONS:
        shown = popover and definition["name"] in POPOVER
        await admin.create("CadVariable", showInPopover=shown, **definition)


def values(**by_name: tuple[str, int]) -> list[dict[str, Any]]:
    """``name=(value, expectedVersion)`` as saveCadVariables takes them."""
    return [
        {"name": name, "value": value, "expectedVersion": version}
        for name, (value, version) in by_name.items()
    ]


async def save(center: Center, bearer: str, task_id: str, **by_name: Any) -> dict[str, Any]:
    return await center.call(bearer, SAVE_CAD, taskId=task_id, values=values(**by_name))


async def update(center: Center, task_id: str, **by_name: str) -> dict[str, Any]:
    entries = [{"name": name, "value": value} for name, value in by_name.items()]
    return await center.call(center.connector, UPDATE_CAD, taskId=task_id, values=entries)


async def cad_of(center: Center, bearer: str, task_id: str) -> dict[str, dict[str, Any]]:
    """The task's CAD values by name, as the caller reads them."""
    task = await center.query(bearer, TASK_CAD, id=task_id)
    return {entry["name"]: entry for entry in task["cad"]}


@dataclass
class TwoAgents:
    """A call with its primary agent (A) and a connected consulted agent (B): seed 002's pair."""

    call: AnsweredCall
    a_id: str
    a: str
    b_id: str
    b: str

    @property
    def task_id(self) -> str:
        return self.call.task_id


async def on_call(center: Center, line: Line | None = None, **report: Any) -> AnsweredCall:
    line = line or await center.line("VOICE")
    _, bearer = await voice_agent(center, line)
    return await answered_call(center, line, bearer, **report)


async def two_agents(center: Center, **report: Any) -> TwoAgents:
    call = await on_call(center, **report)
    b_id, b = await colleague(center)
    await consulted(center, call, b, "AGENT", b_id)
    return TwoAgents(call, call.agent_id, call.bearer, b_id, b)


async def stored_documents(mongodb_url: str, server: Server, collection: str) -> str:
    """Every document of one collection of the server's database, as text (read only)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    try:
        database = client[server.env["OMNIDESK_DATABASE"]]
        rows = await database[collection].find({}).to_list()
    finally:
        await client.close()
    return json.dumps(rows, default=str)
