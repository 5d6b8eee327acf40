"""Digital conversations as pure rules (SPEC §10, seeds 001/004): the chat conference's states and
limits, no conference on outbound conversations, an outbound conversation dropped, the input rules
of a message (email: inline images at most 15 KB, no CID), and how delivery answers move a
message."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.channels import Channel, Direction
from domain.errors import ErrorCode, InvalidState, Rejected, ValidationFailed
from domain.messaging import chat, delivery
from domain.messaging.drafts import validate_agent_draft, validate_customer_draft
from domain.messaging.message import Attachment, DeliveryState, Message, MessageDraft, Sender
from domain.tasks.consults import Destination, DestinationKind
from domain.tasks.participants import ParticipantRole
from domain.tasks.task import Customer, Task, TaskStatus

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
COLLEAGUE = Destination(kind=DestinationKind.AGENT, id="a2", name="Bea")


def connected_chat(**fields: object) -> Task:
    task = Task(
        task_id="t1",
        org_id="o1",
        channel=Channel.CHAT,
        entry_point_id="ep",
        queue_id="q",
        customer=Customer(name="Grace"),
        queue_priority=1,
        priority=5,
        created_at=NOW,
        queued_at=NOW,
        status_since=NOW,
    )
    task = dataclasses.replace(task, **fields)  # type: ignore[arg-type]
    return task.offered("o1", "a1", NOW).connected(NOW, agent_name="Ann")


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_a_conference_is_requested_then_joined_then_ended_by_the_primary() -> None:
    task = connected_chat()
    requested = chat.request_conference(task, COLLEAGUE, at(1), request_task_id="t1.c2")
    assert chat.conference_state(requested) is chat.ConferenceState.CONFERENCE_REQUESTED
    assert requested.customer_party is not None
    assert not requested.customer_party.held
    joined = chat.conference_joined(requested, at(5), agent_id="a2", name="Bea")
    assert chat.conference_state(joined) is chat.ConferenceState.CONFERENCE
    assert joined.present_agent("a2").role is ParticipantRole.CONFERENCE_AGENT  # type: ignore[union-attr]
    ended, left = chat.conference_ended(joined, "a1", at(9))
    assert (chat.conference_state(ended), left) == (chat.ConferenceState.NONE, ("a2",))
    assert ended.status is TaskStatus.CONNECTED
    assert ended.present_agent("a2") is None


def test_the_conference_agent_ending_leaves_alone() -> None:
    task = connected_chat()
    joined = chat.conference_joined(
        chat.request_conference(task, COLLEAGUE, at(1), request_task_id="r"),
        at(2),
        agent_id="a2",
        name=None,
    )
    ended, left = chat.conference_ended(joined, "a2", at(3))
    assert left == ("a2",)
    assert ended.present_agent("a1") is not None
    assert chat.conference_state(ended) is chat.ConferenceState.NONE


def test_one_conference_request_at_a_time_and_none_once_the_chat_is_not_connected() -> None:
    requested = chat.request_conference(connected_chat(), COLLEAGUE, at(1), request_task_id="r")
    with pytest.raises(InvalidState) as twice:
        chat.request_conference(requested, COLLEAGUE, at(2), request_task_id="r2")
    assert twice.value.current_state == "CONFERENCE_REQUESTED"
    with pytest.raises(InvalidState):
        chat.conference_ended(connected_chat(), "a1", at(1))


def test_no_conference_on_an_outbound_conversation() -> None:
    with pytest.raises(InvalidState) as refused:
        chat.require_conference_possible(connected_chat(direction=Direction.OUTBOUND))
    assert refused.value.current_state == "OUTBOUND"


def test_a_conference_holds_at_most_eight_parties() -> None:
    task = connected_chat()
    for n in range(6):
        task = chat.conference_joined(
            chat.request_conference(task, COLLEAGUE, at(n), request_task_id=f"r{n}"),
            at(n),
            agent_id=f"b{n}",
            name=None,
        )
    with pytest.raises(Rejected) as full:
        chat.require_conference_possible(task)
    assert full.value.code is ErrorCode.CONFERENCE_FULL


def test_no_transfer_while_a_conference_is_requested_or_going_on() -> None:
    requested = chat.request_conference(connected_chat(), COLLEAGUE, at(1), request_task_id="r")
    with pytest.raises(InvalidState) as refused:
        chat.require_transferable(requested)
    assert refused.value.current_state == "CONFERENCE_REQUESTED"


def test_a_dropped_outbound_conversation_closes_with_everyone_gone() -> None:
    task = dataclasses.replace(connected_chat(), status=TaskStatus.OFFERED, agent_id="a3")
    dropped = chat.dropped(task, at(30))
    assert (dropped.status, dropped.agent_id, dropped.ended_at) == (TaskStatus.CLOSED, None, at(30))
    assert dropped.present == ()
    with pytest.raises(InvalidState):
        chat.dropped(connected_chat(), at(1))


def test_who_may_write_when() -> None:
    chat.require_agent_can_write(connected_chat())
    with pytest.raises(InvalidState):
        chat.require_agent_can_write(
            dataclasses.replace(connected_chat(), status=TaskStatus.WRAP_UP)
        )
    with pytest.raises(InvalidState):
        chat.require_messaging(connected_chat(channel=Channel.VOICE))


# --- input rules ---------------------------------------------------------------------------------


def inline_image(size: int) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(bytes(size)).decode()}">'


@pytest.mark.parametrize(
    ("draft", "field", "rule"),
    [
        (
            MessageDraft(text="x", html=inline_image(15 * 1024 + 1)),
            "html.images.0",
            "max_bytes:15360",
        ),
        (MessageDraft(text="x", html='<img src="cid:logo@x">'), "html", "no_cid"),
        (
            MessageDraft(
                text="x",
                attachments=(
                    Attachment(
                        name="a.png",
                        media_type="image/png",
                        size=20_000,
                        url="https://x",
                        inline=True,
                    ),
                ),
            ),
            "attachments.0.size",
            "range:1-15360",
        ),
    ],
)
def test_email_refuses_large_inline_images_and_cid_references(
    draft: MessageDraft, field: str, rule: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_agent_draft(Channel.EMAIL, draft)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_an_inline_image_of_15_kb_is_fine_and_sms_has_its_own_length() -> None:
    validate_agent_draft(
        Channel.EMAIL, MessageDraft(text="x", subject="s", html=inline_image(15 * 1024))
    )
    with pytest.raises(ValidationFailed) as long_sms:
        validate_agent_draft(Channel.SMS, MessageDraft(text="x" * 1601))
    assert long_sms.value.rule == "max_length:1600"
    with pytest.raises(ValidationFailed) as subject:
        validate_agent_draft(Channel.CHAT, MessageDraft(text="x", subject="s"))
    assert subject.value.rule == "email_only"


def test_a_customer_email_keeps_what_the_customer_sent() -> None:
    validate_customer_draft(Channel.EMAIL, MessageDraft(text="x", html='<img src="cid:sig">'))


# --- delivery answers ----------------------------------------------------------------------------


def outgoing(state: DeliveryState = DeliveryState.PENDING) -> Message:
    return Message(
        message_id="t1.m1",
        org_id="o1",
        task_id="t1",
        channel=Channel.CHAT,
        sender=Sender.AGENT,
        agent_id="a1",
        text="hi",
        subject=None,
        html=None,
        attachments=(),
        sent_at=NOW,
        redacted=False,
        delivery=state,
        seq=1,
    )


def test_delivery_answers_move_a_message_and_repeat_harmlessly() -> None:
    failed = delivery.failed(outgoing(), "timeout", at(1))
    assert failed is not None
    assert (failed.delivery, failed.delivery_error) == (
        DeliveryState.FAILED,
        "timeout",
    )
    assert delivery.failed(failed, "timeout", at(2)) is None
    done = delivery.delivered(failed, at(3))
    assert done is not None
    assert (done.delivery, done.delivery_error) == (
        DeliveryState.DELIVERED,
        None,
    )
    assert delivery.delivered(done, at(4)) is None
    with pytest.raises(InvalidState):
        delivery.failed(done, "late", at(5))
    with pytest.raises(InvalidState) as nothing:
        delivery.delivered(outgoing(DeliveryState.NONE), at(1))
    assert nothing.value.current_state == "NONE"
