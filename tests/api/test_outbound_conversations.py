"""An outbound conversation's life through the public API (SPEC §10; seeds 000, 001): templates,
email subjects new to the customer, replies that land in the conversation, and writing again
after it closed — a new conversation for the same customer."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.calls import set_policies
from tests.api.center import Center
from tests.api.chat_helpers import stored_everywhere
from tests.api.client import GraphQLErrors
from tests.api.conversation_helpers import (
    REPORT_REPLY,
    Desk,
    agent,
    close,
    customer_email,
    customer_phone,
    desk,
    email,
    failure,
    reply,
    sms,
    start,
    violation,
)
from tests.api.server import Server
from tests.api.test_configuration_b import Admin as CodesAdmin
from tests.api.test_pci import assert_nowhere, card_number, forms, spaced


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def setup(center: Center) -> Desk:
    return await desk(center)


async def test_a_template_fills_its_placeholders_and_names_a_missing_one(setup: Desk) -> None:
    """Seed 000 step 8: type the text or use templates."""
    center = setup.center
    _, bearer = await agent(setup)
    admin = CodesAdmin(center.server, center.org_id)
    sms_template = await admin.create(
        "MessageTemplate",
        name="Code",
        channel="SMS",
        body="Hello {{name}}, your code is {{code}}.",
    )
    email_template = await admin.create(
        "MessageTemplate",
        name="Order",
        channel="EMAIL",
        subject="Order {{order}}",
        body="Your order {{order}} has shipped.",
    )

    texted = await start(
        center,
        bearer,
        channel="SMS",
        to=customer_phone(),
        templateId=sms_template["id"],
        placeholders=[{"name": "name", "value": "Ada"}, {"name": "code", "value": "{{x}}"}],
    )
    mailed = await start(
        center,
        bearer,
        channel="EMAIL",
        to=customer_email(),
        templateId=email_template["id"],
        placeholders=[{"name": "order", "value": "A-17"}],
    )
    missing = await start(
        center,
        bearer,
        channel="SMS",
        to=customer_phone(),
        templateId=sms_template["id"],
        placeholders=[{"name": "name", "value": "Ada"}],
    )
    wrong_channel = await start(
        center,
        bearer,
        channel="SMS",
        to=customer_phone(),
        templateId=email_template["id"],
        placeholders=[{"name": "order", "value": "A-17"}],
    )

    assert texted["firstMessage"]["text"] == "Hello Ada, your code is {{x}}."
    assert mailed["task"]["subject"] == "Order A-17"
    assert (mailed["firstMessage"]["subject"], mailed["firstMessage"]["text"]) == (
        "Order A-17",
        "Your order A-17 has shipped.",
    )
    assert violation(missing) == ("placeholders.code", "required")
    assert violation(wrong_channel) == ("templateId", "same_channel")


async def test_an_email_subject_is_new_to_the_customer(setup: Desk) -> None:
    """Seeds 000/001 step 8: choose a subject not used in earlier conversations with the
    customer."""
    _, bearer = await agent(setup)
    to = customer_email()
    first = await email(setup, bearer, to, "Your order 1234")
    await close(setup, bearer, first["id"])

    reused = await start(
        setup.center,
        bearer,
        channel="EMAIL",
        to=to.upper(),
        subject="  your ORDER 1234 ",
        text="Hi",
    )
    fresh = await email(setup, bearer, to, "Your order 1234, shipped")
    other_customer = await email(setup, bearer, customer_email(), "Your order 1234")

    assert violation(reused) == ("subject", "unique_per_customer")
    assert fresh["customer"]["customerId"] == first["customer"]["customerId"]
    assert other_customer["customer"]["customerId"] != first["customer"]["customerId"]


async def test_a_card_number_in_an_outbound_subject_is_masked_or_refuses_the_start(
    setup: Desk, mongodb_url: str
) -> None:
    """SPEC §10: the subject is agent content like the body — REDACT masks it on the task and the
    message, DROP refuses the start and writes nothing; the clear number is stored nowhere."""
    _, bearer = await agent(setup)
    card, other = card_number(), card_number()
    await set_policies(setup.center, pciPolicy="REDACT")
    masked = await email(setup, bearer, customer_email(), f"subject-marker {spaced(card)}")
    await set_policies(setup.center, pciPolicy="DROP")
    to = customer_email()
    dropped = await start(
        setup.center, bearer, channel="EMAIL", to=to, subject=f"Card {other}", text="Hi"
    )
    retried = await email(setup, bearer, to, "Your card")

    assert masked["subject"] == "subject-marker **** **** **** ****"
    assert failure(dropped) == ("RejectedError", "PCI_VIOLATION")
    assert other not in dropped["message"]
    assert retried["customer"]["address"] == to  # the refused start left the pair free
    assert_nowhere(setup.center, mongodb_url, card, "subject-marker")
    assert stored_everywhere(setup.center.server, mongodb_url, forms(other)) == []


async def test_replies_land_in_the_active_conversation_of_the_same_customer(
    setup: Desk,
) -> None:
    """Seeds 000/001 step 8: every later customer reply is linked to this customer id."""
    _, bearer = await agent(setup)
    phone = customer_phone()
    task = await sms(setup, bearer, phone, customerId="crm-42")

    spaced = f"{phone[:3]} {phone[3:]}"
    answered = await reply(setup, "SMS", spaced, "Thanks, see you Monday")
    mailed = await email(setup, bearer, customer_email(), "Invoice")
    email_reply = await reply(
        setup, "EMAIL", mailed["customer"]["address"], "Paid.", subject="Re: Invoice"
    )

    assert answered["__typename"] == "ReportCustomerReplySuccess", answered
    assert (answered["task"]["id"], answered["newContact"]) == (task["id"], False)
    assert answered["task"]["customer"]["customerId"] == "crm-42"
    message = answered["reply"]
    assert (message["sender"], message["text"], message["delivery"]) == (
        "CUSTOMER",
        "Thanks, see you Monday",
        "NONE",
    )
    assert message["seq"] == 2
    assert (email_reply["task"]["id"], email_reply["reply"]["subject"]) == (
        mailed["id"],
        "Re: Invoice",
    )


async def test_writing_again_after_closing_starts_a_new_conversation_for_the_same_customer(
    setup: Desk,
) -> None:
    """Seed 001: closing the conversation and writing again creates a new conversation that
    keeps the history (the customer's id links them)."""
    _, bearer = await agent(setup)
    phone = customer_phone()
    first = await sms(setup, bearer, phone)
    closed = await close(setup, bearer, first["id"])

    second = await sms(setup, bearer, phone)

    assert closed["status"] == "CLOSED"
    assert second["id"] != first["id"]
    assert second["customer"]["customerId"] == first["customer"]["customerId"]


async def test_a_reply_to_a_closed_conversation_is_a_new_contact_of_the_same_customer(
    setup: Desk,
) -> None:
    center = setup.center
    agent_id, bearer = await agent(setup)
    phone = customer_phone()
    first = await sms(setup, bearer, phone, customerName="Ada")
    await close(setup, bearer, first["id"])

    came_back = await reply(setup, "SMS", phone, "One more question")
    again = await reply(setup, "SMS", phone, "Are you there?")

    assert came_back["__typename"] == "ReportCustomerReplySuccess", came_back
    new = came_back["task"]
    assert came_back["newContact"] is True
    assert new["id"] != first["id"]
    assert (new["direction"], new["channel"], new["queueId"]) == ("INBOUND", "SMS", setup.sms_queue)
    assert new["status"] == "OFFERED"
    assert new["agentId"] == agent_id
    assert new["customer"] == {**first["customer"], "address": phone}
    assert (again["task"]["id"], again["newContact"]) == (new["id"], False)
    assert again["reply"]["seq"] == 2
    unknown = await center.call(
        center.connector,
        "mutation($input: ReportCustomerReplyInput!) { reportCustomerReply(input: $input) {"
        " __typename ... on ValidationError { field rule } } }",
        channel="SMS",
        entryPointAddress="+15559990000",
        **{"from": phone},
        text="Hello?",
    )
    assert (unknown["__typename"], unknown["field"], unknown["rule"]) == (
        "ValidationError",
        "entryPointAddress",
        "inbound_entry_point",
    )


async def test_concurrent_replies_to_a_closed_conversation_make_exactly_one_new_contact(
    setup: Desk,
) -> None:
    _, bearer = await agent(setup)
    for _ in range(3):
        phone = customer_phone()
        task = await sms(setup, bearer, phone)
        await close(setup, bearer, task["id"])

        replies = await asyncio.gather(*(reply(setup, "SMS", phone, f"m{i}") for i in range(4)))

        assert {r["__typename"] for r in replies} == {"ReportCustomerReplySuccess"}, replies
        assert sorted(r["newContact"] for r in replies) == [False, False, False, True]
        assert len({r["task"]["id"] for r in replies}) == 1
        assert sorted(r["reply"]["seq"] for r in replies) == [1, 2, 3, 4]


async def test_an_agent_cannot_report_a_customer_reply(setup: Desk) -> None:
    _, bearer = await agent(setup)
    with pytest.raises(GraphQLErrors) as refused:
        await setup.center.call(
            bearer,
            REPORT_REPLY,
            channel="SMS",
            entryPointAddress=setup.sms_address,
            **{"from": customer_phone()},
            text="x",
        )
    assert refused.value.codes == ["FORBIDDEN"]
