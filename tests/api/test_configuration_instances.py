"""A configuration change holds at once on every instance.

Each server keeps what it read of an organization's configuration for as long as the head of the
organization's configuration stream stays where it was (persistence/configuration_cache.py). So the
command that follows a change committed on the other instance must already see the change: an entry
point switched off, a policy, a CAD variable that did not exist. Every round first makes the
reporting instance read (and keep) the configuration as it was, then changes it on the other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.center import OUTCOME, Center
from tests.api.client import execute
from tests.api.pair import Pair
from tests.api.server import Server, start_server

ROUNDS = 6
REPORT = f"""
mutation($input: ReportContactInput!) {{
  reportContact(input: $input) {{
    {OUTCOME} ... on ReportContactSuccess {{ task {{ id subject cad {{ name value }} }} }}
  }}
}}"""
UPDATE_POLICIES = """
mutation($input: UpdatePoliciesInput!) {
  updatePolicies(input: $input) { __typename ... on Error { code message } }
}"""
CREATE_CAD_VARIABLE = """
mutation($input: CreateCadVariableInput!) {
  createCadVariable(input: $input) {
    __typename ... on CreateCadVariableSuccess { cadVariable { id } }
  }
}"""
SWITCH_ENTRY_POINT = """
mutation($id: ID!, $on: Boolean!) {
  reactivateEntryPoint(input: {id: $id}) @include(if: $on) { __typename }
  deactivateEntryPoint(input: {id: $id}) @skip(if: $on) { __typename }
}"""


@pytest.fixture(scope="module")
def pair(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    database = f"config_pair_{uuid.uuid4().hex[:8]}"
    log_dir = tmp_path_factory.mktemp("config-pair")

    def start() -> Server:
        return start_server(mongodb_url=mongodb_url, database=database, log_dir=log_dir)

    running = Pair(start)
    try:
        yield running
    finally:
        running.stop()


def turns(pair: Pair, org_id: str) -> Iterator[tuple[Center, Center]]:
    """(changing, reporting) instance of each round: each instance takes each part in turn."""
    on_a, on_b = pair.centers(org_id)
    for n in range(ROUNDS):
        yield (on_a, on_b) if n % 2 == 0 else (on_b, on_a)


async def report(center: Center, entry_point_id: str, **fields: Any) -> dict[str, Any]:
    fields = {"entryPointId": entry_point_id, "customer": {"name": "Grace"}} | fields
    result = await execute(center.server, center.connector, REPORT, {"input": fields})
    return dict(result["reportContact"])


async def switch(center: Center, entry_point_id: str, *, on: bool) -> None:
    result = await execute(
        center.server, center.admin.token, SWITCH_ENTRY_POINT, {"id": entry_point_id, "on": on}
    )
    verb = "reactivate" if on else "deactivate"
    assert result[f"{verb}EntryPoint"]["__typename"] == f"{verb.title()}EntryPointSuccess"


async def test_an_entry_point_switched_off_on_one_instance_refuses_the_next_contact_on_the_other(
    pair: Pair, org_id: str
) -> None:
    line = await pair.centers(org_id)[0].line("CHAT", offer_timeout=600)
    for changing, reporting in turns(pair, org_id):
        warm = await report(reporting, line.entry_point_id)
        assert warm["__typename"] == "ReportContactSuccess", warm
        await switch(changing, line.entry_point_id, on=False)
        refused = await report(reporting, line.entry_point_id)
        assert refused["__typename"] == "ValidationError", refused
        assert (refused["field"], refused["rule"]) == ("entryPointId", "reference")
        await switch(changing, line.entry_point_id, on=True)
        again = await report(reporting, line.entry_point_id)
        assert again["__typename"] == "ReportContactSuccess", again


async def test_a_policy_changed_on_one_instance_applies_to_the_next_contact_on_the_other(
    pair: Pair, org_id: str
) -> None:
    line = await pair.centers(org_id)[0].line("CHAT", offer_timeout=600)
    subject = "account 4711-2024 locked"
    # Alternately a pattern that masks the whole number and one that masks only its first part.
    patterns = [
        (r"\d{4}-\d{4}", "account ********* locked"),
        (r"\b4711\b", "account ****-2024 locked"),
    ]
    stored = subject  # as the previous round left the policies
    for n, (changing, reporting) in enumerate(turns(pair, org_id)):
        before = await report(reporting, line.entry_point_id, subject=subject)
        assert before["task"]["subject"] == stored
        pattern, stored = patterns[n % 2]
        changed = await execute(
            changing.server,
            changing.admin.token,
            UPDATE_POLICIES,
            {"input": {"piiPatterns": [pattern], "pciPolicy": "REDACT"}},
        )
        assert changed["updatePolicies"]["__typename"] == "UpdatePoliciesSuccess", changed
        after = await report(reporting, line.entry_point_id, subject=subject)
        assert after["task"]["subject"] == stored


async def test_a_cad_variable_created_on_one_instance_is_accepted_by_the_next_contact_on_the_other(
    pair: Pair, org_id: str
) -> None:
    line = await pair.centers(org_id)[0].line("CHAT", offer_timeout=600)
    for n, (changing, reporting) in enumerate(turns(pair, org_id)):
        name = f"var{n}"
        cad = [{"name": name, "value": "gold"}]
        unknown = await report(reporting, line.entry_point_id, cad=cad)
        assert unknown["__typename"] == "ValidationError", unknown
        assert [(v["field"], v["rule"]) for v in unknown["violations"]] == [
            ("cad[0].name", "reference")
        ]
        created = await execute(
            changing.server,
            changing.admin.token,
            CREATE_CAD_VARIABLE,
            {"input": {"name": name, "label": f"Tier {n}"}},
        )
        assert created["createCadVariable"]["__typename"] == "CreateCadVariableSuccess"
        known = await report(reporting, line.entry_point_id, cad=cad)
        assert known["__typename"] == "ReportContactSuccess", known
        assert {"name": name, "value": "gold"} in known["task"]["cad"]
