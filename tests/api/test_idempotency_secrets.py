"""A request repeated with its idempotency key answers from a stored record: that record must
not become a second home of a secure CAD value (SPEC §7: secure values are shown to no one and
leave the server only through an audited reveal). The task that arrives with one is reported
and accepted with keys; the answers repeat exactly, and the ``idempotency`` collection holds
neither the value nor a bare hash of the requests that carried it."""

from __future__ import annotations

import pytest

from tests.api.cad_helpers import SECRET, cad_definitions, stored_documents
from tests.api.center import ACCEPT_OFFER, REPORT_CONTACT, Center
from tests.api.server import Server


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


async def test_repeated_report_and_accept_answer_the_same_and_store_no_secure_value(
    center: Center, mongodb_url: str
) -> None:
    await cad_definitions(center)
    line = await center.line("CHAT", offer_timeout=600)
    profile = await center.profile(voice=0, chat=1)
    _, bearer = await center.logged_in_agent(line.team_id, profile)
    report = {
        "entryPointId": line.entry_point_id,
        "customer": {"name": "Grace"},
        "cad": [{"name": "ssn", "value": SECRET}, {"name": "tier", "value": "gold"}],
        "idempotencyKey": "report-ssn-1",
    }

    reported = await center.call(center.connector, REPORT_CONTACT, **report)
    reported_again = await center.call(center.connector, REPORT_CONTACT, **report)
    assert reported["__typename"] == "ReportContactSuccess", reported
    assert reported_again == reported
    assert {(v["name"], v["value"]) for v in reported["task"]["cad"]} == {
        ("ssn", "*****"),
        ("tier", "gold"),
    }
    [offer] = await center.pending_offers(bearer)
    accept = {"offerId": offer["id"], "idempotencyKey": "accept-ssn-1"}
    accepted = await center.call(bearer, ACCEPT_OFFER, **accept)
    accepted_again = await center.call(bearer, ACCEPT_OFFER, **accept)
    assert accepted["__typename"] == "AcceptOfferSuccess", accepted
    assert accepted_again == accepted
    assert accepted["task"]["status"] == "CONNECTED"

    records = await stored_documents(mongodb_url, center.server, "idempotency")
    assert center.org_id in records  # this test's records are there: their results name its tasks
    assert SECRET not in records
    assert "SSN-078" not in records
