"""PCI DSS through the public API (issue #7, SPEC §10, seed 004): card numbers (Luhn-valid, 13-19
digits, spaces or dashes) and configured PII patterns in customer and agent messages, attachment
names and the bot transcript are masked under ``REDACT`` and refused under ``DROP`` — and a clear
card number is found nowhere afterwards: not in any document of any collection of the database
(messages, tasks, events, idempotency records...) nor in the server's log."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.api.calls import set_policies
from tests.api.center import Center
from tests.api.chat_helpers import (
    REPORT_CUSTOMER_MESSAGE,
    SEND_MESSAGE,
    attachment,
    conversation,
    customer_says,
    deliveries,
    next_delivery,
    one_chat,
    send,
    stored_everywhere,
)
from tests.api.server import Server

IBAN = r"\bDE\d{2}(?: ?\d{4}){4} ?\d{2}\b"


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


def card_number(length: int = 16) -> str:
    """A random Luhn-valid number: each test's own, so finding it can only mean it leaked."""
    digits = [4] + [random.randrange(10) for _ in range(length - 2)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = digit * 2 if index % 2 == 0 else digit
        total += value - 9 if value > 9 else value
    digits.append((10 - total % 10) % 10)
    return "".join(map(str, digits))


def spaced(number: str, separator: str = " ") -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


def forms(number: str) -> list[str]:
    """How a card number could be spelled in storage or a log."""
    return [number, spaced(number), spaced(number, "-")]


def assert_nowhere(center: Center, mongodb_url: str, number: str, marker: str) -> None:
    """The number in no form anywhere; ``marker`` (text stored next to it) proves the search
    reaches where messages are kept."""
    found = stored_everywhere(center.server, mongodb_url, [*forms(number), marker])
    assert found == [marker]
    logs = center.server.logs()
    assert "POST /graphql" in logs  # the search reads the log the requests were written to
    assert not any(form in logs for form in forms(number))


async def test_redact_masks_card_numbers_and_pii_in_both_directions(
    center: Center, mongodb_url: str
) -> None:
    await set_policies(center, pciPolicy="REDACT", piiPatterns=[IBAN])
    card, other = card_number(), card_number(15)
    _, chat = await one_chat(center)
    async with deliveries(center) as next_item:
        said = await customer_says(
            center, chat.task_id, text=f"Karte {spaced(card)} IBAN DE89 3704 0044 0532 0130 00"
        )
        sent = await send(
            center, chat.bearer, chat.task_id, text=f"redact-marker {spaced(other, '-')} ok?"
        )
        delivered = await next_delivery(next_item)
    assert said["text"] == "Karte **** **** **** **** IBAN " + "*" * 27
    assert sent["text"] == "redact-marker ****-****-****-*** ok?"
    assert (said["redacted"], sent["redacted"]) == (True, True)
    assert delivered["conversationMessage"]["text"] == sent["text"]
    assert_nowhere(center, mongodb_url, card, "redact-marker")
    assert_nowhere(center, mongodb_url, other, "redact-marker")


async def test_redact_withholds_an_attachment_whose_name_holds_a_card_number(
    center: Center, mongodb_url: str
) -> None:
    card = card_number(19)
    _, chat = await one_chat(center)
    files = [attachment(f"karte-{card}.png"), attachment("attachment-marker.pdf")]
    sent = await send(center, chat.bearer, chat.task_id, text="Anbei", attachments=files)
    assert [a["name"] for a in sent["attachments"]] == ["attachment-marker.pdf"]
    assert (sent["withheldAttachments"], sent["redacted"]) == (1, True)
    assert_nowhere(center, mongodb_url, card, "attachment-marker")


async def test_drop_refuses_an_agent_message_without_quoting_it_and_stores_nothing(
    center: Center, mongodb_url: str
) -> None:
    await set_policies(center, pciPolicy="DROP")
    card = card_number()
    _, chat = await one_chat(center)
    refused = await center.call(
        chat.bearer,
        SEND_MESSAGE,
        taskId=chat.task_id,
        text=f"drop-marker {spaced(card)}",
        idempotencyKey="drop-1",
    )
    assert (refused["__typename"], refused["code"]) == ("RejectedError", "PCI_VIOLATION")
    assert not any(form in refused["message"] for form in forms(card))
    with_file = await center.call(
        chat.bearer,
        SEND_MESSAGE,
        taskId=chat.task_id,
        text="ok",
        attachments=[attachment(f"{card}.pdf")],
    )
    assert with_file["code"] == "PCI_VIOLATION"
    assert await conversation(center, chat.bearer, chat.task_id) == []
    clean = await send(center, chat.bearer, chat.task_id, text="drop-marker without a card")
    assert (clean["seq"], clean["redacted"]) == (1, False)
    assert_nowhere(center, mongodb_url, card, "drop-marker")


async def test_drop_refuses_a_customer_message_and_the_agents_see_that_one_was_dropped(
    center: Center, mongodb_url: str
) -> None:
    await set_policies(center, pciPolicy="DROP", piiPatterns=[IBAN])
    card = card_number(13)
    _, chat = await one_chat(center)
    outcomes: list[dict[str, Any]] = [
        await center.call(center.connector, REPORT_CUSTOMER_MESSAGE, taskId=chat.task_id, text=text)
        for text in (f"meine Karte: {card}", "IBAN DE89370400440532013000")
    ]
    assert [(o["__typename"], o["code"]) for o in outcomes] == [
        ("RejectedError", "PCI_VIOLATION")
    ] * 2
    said = await customer_says(center, chat.task_id, text="customer-marker")
    messages = await conversation(center, chat.bearer, chat.task_id)
    assert [(m["sender"], m["notice"], m["text"]) for m in messages] == [
        ("SYSTEM", "MESSAGE_DROPPED", ""),
        ("SYSTEM", "MESSAGE_DROPPED", ""),
        ("CUSTOMER", None, "customer-marker"),
    ]
    assert said["seq"] == 3
    assert_nowhere(center, mongodb_url, card, "customer-marker")


async def test_the_bot_transcript_is_screened_before_the_task_is_stored(
    center: Center, mongodb_url: str
) -> None:
    card = card_number()
    lines = [
        {
            "sender": "CUSTOMER",
            "text": f"transcript-marker {spaced(card)}",
            "sentAt": "2024-05-01T10:00:00Z",
        },
    ]
    _, chat = await one_chat(center, transcript=lines)
    assert chat.task["id"]
    task = await center.task(chat.task_id)
    assert [line["text"] for line in task["transcript"]] == [
        "transcript-marker **** **** **** ****"
    ]
    assert_nowhere(center, mongodb_url, card, "transcript-marker")


async def test_a_number_that_fails_luhn_is_left_as_it_is(center: Center) -> None:
    card = card_number()
    not_a_card = card[:-1] + str((int(card[-1]) + 1) % 10)
    _, chat = await one_chat(center)
    said = await customer_says(center, chat.task_id, text=f"Bestellnummer {not_a_card}")
    assert (said["text"], said["redacted"]) == (f"Bestellnummer {not_a_card}", False)
