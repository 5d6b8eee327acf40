"""PCI policy DROP on customer SMS/email replies (SPEC §10: email and SMS follow the chat rules):
a reply holding a card number is refused to the connector with PCI_VIOLATION and the agents see a
MESSAGE_DROPPED line in the conversation — and a dropped reply to a closed conversation still
starts the new contact (the customer is waiting). The clear number is stored nowhere."""

from __future__ import annotations

import pytest

from tests.api.calls import set_policies
from tests.api.center import Center
from tests.api.chat_helpers import conversation
from tests.api.conversation_helpers import Desk, agent, close, customer_phone, desk, reply, sms
from tests.api.server import Server
from tests.api.test_pci import assert_nowhere, card_number, spaced


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def setup(center: Center) -> Desk:
    await set_policies(center, pciPolicy="DROP")
    return await desk(center)


def refused_for_pci(outcome: dict) -> bool:
    return (outcome["__typename"], outcome.get("code")) == ("RejectedError", "PCI_VIOLATION")


async def test_a_dropped_reply_shows_as_a_dropped_line_in_the_conversation(
    setup: Desk, mongodb_url: str
) -> None:
    center, card = setup.center, card_number()
    _, bearer = await agent(setup)
    phone = customer_phone()
    task = await sms(setup, bearer, phone, text="reply-marker: Ihr Termin?")
    dropped = await reply(setup, "SMS", phone, f"Zahle mit {spaced(card)}")
    assert refused_for_pci(dropped), dropped
    assert not any(form in dropped["message"] for form in (card, spaced(card)))
    kept = await reply(setup, "SMS", phone, "Passt.")
    assert (kept["task"]["id"], kept["newContact"]) == (task["id"], False)
    messages = await conversation(center, bearer, str(task["id"]))
    assert [(m["sender"], m["notice"], m["text"]) for m in messages] == [
        ("AGENT", None, "reply-marker: Ihr Termin?"),
        ("SYSTEM", "MESSAGE_DROPPED", ""),
        ("CUSTOMER", None, "Passt."),
    ]
    assert_nowhere(center, mongodb_url, card, "reply-marker")


async def test_a_dropped_reply_to_a_closed_conversation_still_starts_the_new_contact(
    setup: Desk,
) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    phone = customer_phone()
    first = await sms(setup, bearer, phone)
    await close(setup, bearer, str(first["id"]))
    dropped = await reply(setup, "SMS", phone, f"Karte {card_number()}")
    assert refused_for_pci(dropped), dropped
    again = await reply(setup, "SMS", phone, "Hallo?")
    assert again["newContact"] is False, again  # the dropped reply already started it
    new_id = str(again["task"]["id"])
    assert new_id != first["id"]
    assert again["task"]["customer"]["customerId"] == first["customer"]["customerId"]
    messages = await conversation(center, center.supervisor, new_id)
    assert [(m["sender"], m["notice"]) for m in messages] == [
        ("SYSTEM", "MESSAGE_DROPPED"),
        ("CUSTOMER", None),
    ]
