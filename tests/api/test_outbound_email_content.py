"""The email content rules of seed 001 through the public API (SPEC §10): an inline image may have
at most 15 KB (a limit that is not configurable), a multipart body with CID references is refused
— when the conversation starts and on every later message — and a refused start leaves nothing
behind: no task, no load taken, the customer/entry-point pair and the subject still free."""

from __future__ import annotations

import base64

import pytest

from tests.api.center import Center
from tests.api.chat_helpers import SEND_MESSAGE, attachment, conversation
from tests.api.conversation_helpers import (
    Desk,
    agent,
    customer_email,
    desk,
    email,
    start,
    violation,
)
from tests.api.server import Server

LIMIT = 15 * 1024


@pytest.fixture
def center(server: Server, org_id: str) -> Center:
    return Center(server, org_id)


@pytest.fixture
async def setup(center: Center) -> Desk:
    return await desk(center)


def inline_image(size: int) -> str:
    """An HTML body showing a PNG of ``size`` bytes as a data: URI."""
    data = base64.b64encode(b"\x89PNG" + b"\0" * (size - 4)).decode()
    return f'<p>Ihr Beleg:</p><img src="data:image/png;base64,{data}">'


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (inline_image(LIMIT + 1), ("html.images.0", f"max_bytes:{LIMIT}")),
        ('<p>Logo</p><img src="cid:logo@example.com">', ("html", "no_cid")),
    ],
    ids=["inline-image-over-15-kb", "cid-reference"],
)
async def test_a_start_breaking_an_email_body_rule_is_refused_and_leaves_nothing(
    setup: Desk, html: str, expected: tuple[str, str]
) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    to = customer_email()
    refused = await start(
        center, bearer, channel="EMAIL", to=to, subject="Ihr Beleg", text="Beleg", html=html
    )
    assert violation(refused) == expected
    assert (await center.session(bearer))["activeTaskCount"] == 0
    # The same pair and the same subject are still free: the refused start wrote nothing.
    task = await email(setup, bearer, to, "Ihr Beleg", html=inline_image(LIMIT))
    assert (task["status"], task["subject"]) == ("CONNECTED", "Ihr Beleg")
    assert (await center.session(bearer))["activeTaskCount"] == 1


async def test_later_messages_of_an_email_follow_the_same_body_rules(setup: Desk) -> None:
    center = setup.center
    _, bearer = await agent(setup)
    task = await email(setup, bearer, customer_email(), "Ihre Rechnung")
    task_id = str(task["id"])

    async def refused_rule(**fields: object) -> tuple[str, str]:
        return violation(await center.call(bearer, SEND_MESSAGE, taskId=task_id, **fields))

    assert await refused_rule(text="x", html=inline_image(LIMIT + 1)) == (
        "html.images.0",
        f"max_bytes:{LIMIT}",
    )
    assert await refused_rule(text="x", html='<img src="cid:part1">') == ("html", "no_cid")
    big_inline = attachment("logo.png", size=LIMIT + 1, mediaType="image/png", inline=True)
    assert await refused_rule(text="x", attachments=[big_inline]) == (
        "attachments.0.size",
        f"range:1-{LIMIT}",
    )
    # A file to download (not inline) may be far larger; an inline image of exactly 15 KB is fine.
    large_file = attachment("bericht.pdf", size=5 * 1024 * 1024)
    fine_inline = attachment("logo.png", size=LIMIT, mediaType="image/png", inline=True)
    sent = await center.call(
        bearer,
        SEND_MESSAGE,
        taskId=task_id,
        text="Anbei",
        html=inline_image(LIMIT),
        attachments=[large_file, fine_inline],
    )
    assert sent["__typename"] == "SendMessageSuccess", sent
    messages = await conversation(center, bearer, task_id)
    assert [len(m["attachments"]) for m in messages] == [0, 2]
