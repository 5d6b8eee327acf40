"""The pure rules of outbound conversations (SPEC §10): addresses, conversation keys, template
rendering, entry point choice, room on the agent's profile, email content."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.agents.session import AgentSession
from domain.agents.states import AgentState, ChannelLoad, RoutingProfile
from domain.channels import Channel, Direction
from domain.configuration.entry_points import EntryPoint
from domain.configuration.profiles import ChannelCapacity
from domain.configuration.templates import MessageTemplate
from domain.conversations import outbound as rules
from domain.conversations.addresses import (
    address_key,
    check_customer_address,
    conversation_key,
)
from domain.conversations.rendering import render_template
from domain.errors import ErrorCode, InvalidState, Rejected, ValidationFailed

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _entry_point(
    entry_id: str, name: str, channel: Channel, direction: Direction, *, active: bool = True
) -> EntryPoint:
    address = "+15550100" if channel is Channel.SMS else "care@example.com"
    return EntryPoint(
        id=entry_id,
        org_id="o",
        name=name,
        channel=channel,
        direction=direction,
        address=address,
        active=active,
        created_at=NOW,
        updated_at=NOW,
    )


def _session(
    *capacities: ChannelCapacity,
    state: AgentState = AgentState.AVAILABLE,
    load: tuple[ChannelLoad, ...] = (),
) -> AgentSession:
    return AgentSession(
        agent_id="a",
        org_id="o",
        logged_in=True,
        team_id="t",
        state=state,
        state_since=NOW,
        routing=RoutingProfile(capacities=capacities),
        load=load,
    )


def _template(body: str, subject: str | None = None) -> MessageTemplate:
    channel = Channel.EMAIL if subject is not None else Channel.SMS
    return MessageTemplate(
        id="t",
        org_id="o",
        name="T",
        channel=channel,
        body=body,
        subject=subject,
        created_at=NOW,
        updated_at=NOW,
    )


# --- addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "address", "rule"),
    [
        (Channel.SMS, "030 1234567", "country_code"),
        (Channel.SMS, "+49 30 CALL", "phone"),
        (Channel.SMS, "+4", "length:7-15"),
        (Channel.EMAIL, "ada.example.org", "email"),
        (Channel.CHAT, "ada", "conversation_channel"),
    ],
)
def test_a_bad_to_names_the_field_and_rule(channel: Channel, address: str, rule: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_customer_address("to", channel, address)
    assert (refused.value.field, refused.value.rule) == ("to", rule)


def test_good_addresses_pass() -> None:
    check_customer_address("to", Channel.SMS, "+49 30-1234.567")
    check_customer_address("to", Channel.EMAIL, "Ada@Example.org")


@given(st.lists(st.sampled_from([" ", "-", "."]), min_size=9, max_size=9))
def test_a_number_is_one_conversation_however_it_is_punctuated(separators: list[str]) -> None:
    digits = "4930123456"
    spaced = "+" + "".join(d + s for d, s in zip(digits, [*separators, ""], strict=True))
    assert conversation_key(Channel.SMS, "+1 555 0100", spaced) == conversation_key(
        Channel.SMS, "+15550100", "+" + digits
    )


def test_email_addresses_compare_ignoring_case_and_numbers_share_a_kind_across_channels() -> None:
    assert address_key(Channel.EMAIL, "Ada@Example.org") == address_key(
        Channel.EMAIL, "ada@example.org"
    )
    assert address_key(Channel.VOICE, "+1 555-0100") == address_key(Channel.SMS, "+15550100")


# --- templates ------------------------------------------------------------------------------


def test_a_template_is_filled_once_without_expanding_values() -> None:
    template = _template("Hi {{name}}, order {{order}} ({{name}})", subject="Order {{order}}")
    rendered = render_template(template, {"name": "{{order}}", "order": "42"})
    assert rendered.body == "Hi {{order}}, order 42 ({{order}})"
    assert rendered.subject == "Order 42"


def test_missing_and_unknown_placeholders_are_named() -> None:
    with pytest.raises(ValidationFailed) as refused:
        render_template(_template("Hi {{name}} {{code}}"), {"name": "Ada", "cod": "1"})
    found = {(v.field, v.rule) for v in refused.value.violations}
    assert found == {("placeholders.code", "required"), ("placeholders.cod", "unknown")}


# --- entry points, room, state --------------------------------------------------------------


def test_the_entry_point_is_the_one_named_or_the_first_active_outbound_by_name() -> None:
    eps = [
        _entry_point("1", "Zeta", Channel.SMS, Direction.OUTBOUND),
        _entry_point("2", "alpha", Channel.SMS, Direction.OUTBOUND),
        _entry_point("3", "Aardvark", Channel.SMS, Direction.INBOUND),
        _entry_point("4", "Aa", Channel.SMS, Direction.OUTBOUND, active=False),
    ]
    assert rules.sending_entry_point(eps, Channel.SMS, None).id == "2"
    assert rules.sending_entry_point(eps, Channel.SMS, "1").id == "1"
    with pytest.raises(ValidationFailed):
        rules.sending_entry_point(eps, Channel.SMS, "3")
    with pytest.raises(Rejected) as none:
        rules.sending_entry_point(eps, Channel.EMAIL, None)
    assert none.value.code is ErrorCode.NO_ENTRY_POINT


def test_room_checks_the_outbound_limit_then_the_channel_capacity() -> None:
    sms = ChannelCapacity(Channel.SMS, 2, 1)
    with pytest.raises(Rejected) as no_outbound:
        rules.check_room(_session(ChannelCapacity(Channel.SMS, 2, 0)), Channel.SMS, 0)
    with pytest.raises(Rejected) as limit:
        rules.check_room(_session(sms), Channel.SMS, 1)
    full = _session(sms, load=(ChannelLoad(Channel.SMS, 1, 1),))
    with pytest.raises(Rejected) as capacity:
        rules.check_room(full, Channel.SMS, 0)
    assert no_outbound.value.code is ErrorCode.OUTBOUND_LIMIT_REACHED
    assert limit.value.code is ErrorCode.OUTBOUND_LIMIT_REACHED
    assert capacity.value.code is ErrorCode.CAPACITY_EXCEEDED
    rules.check_room(_session(sms), Channel.SMS, 0)


@pytest.mark.parametrize("state", list(AgentState))
def test_only_available_or_rona_agents_start_one(state: AgentState) -> None:
    session = _session(state=state)
    if state in (AgentState.AVAILABLE, AgentState.RONA):
        assert rules.check_may_start(session) is session
    else:
        with pytest.raises(InvalidState):
            rules.check_may_start(session)
    assert rules.check_may_start(session, any_state=True) is session
    with pytest.raises(InvalidState):
        rules.check_may_start(None)


def test_email_content_needs_a_one_line_subject_and_sms_takes_none() -> None:
    with pytest.raises(ValidationFailed) as no_subject:
        rules.check_content(Channel.EMAIL, "  ", "body", None)
    with pytest.raises(ValidationFailed) as two_lines:
        rules.check_content(Channel.EMAIL, "a\nb", "body", None)
    with pytest.raises(ValidationFailed) as sms_subject:
        rules.check_content(Channel.SMS, "S", "body", "<p/>")
    assert no_subject.value.rule == "required"
    assert two_lines.value.rule == "single_line"
    assert {(v.field, v.rule) for v in sms_subject.value.violations} == {
        ("subject", "forbidden"),
        ("html", "forbidden"),
    }
    assert rules.subject_key("  Your   Order ") == rules.subject_key("your order")
    with pytest.raises(ValidationFailed) as reused:
        rules.check_subject_new("Your order", used_before=True)
    assert reused.value.rule == "unique_per_customer"
    with pytest.raises(Rejected) as busy:
        rules.check_pair_free("t1")
    assert busy.value.code is ErrorCode.ACTIVE_CONVERSATION_EXISTS
