"""Rules of multimedia profiles, agents, queues, entry points and dial numbers (pure domain)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.channels import Channel, Direction
from domain.configuration.agents import Agent, Skill
from domain.configuration.base import ConfigEntity, ConfigKind, Reference, entity_class
from domain.configuration.dial_numbers import DialNumber
from domain.configuration.entry_points import EntryPoint, normalize_address, normalize_phone
from domain.configuration.profiles import ChannelCapacity, MultimediaProfile, VoiceMode
from domain.configuration.queues import Queue, RoutingStrategy, SkillRequirement
from domain.configuration.teams import Team

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
_BASE: dict[str, Any] = {"org_id": "org-1", "created_at": NOW, "updated_at": NOW}


def profile(*channels: ChannelCapacity, **fields: Any) -> MultimediaProfile:
    values: dict[str, Any] = {"name": "Blended", "channels": channels}
    return MultimediaProfile(id="p1", **_BASE, **(values | fields))


def agent(**fields: Any) -> Agent:
    values: dict[str, Any] = {
        "name": "Ada",
        "email": "ada@example.com",
        "team_ids": ("t1",),
        "profile_id": "p1",
    }
    return Agent(id="a1", **_BASE, **(values | fields))


def queue(**fields: Any) -> Queue:
    values: dict[str, Any] = {"name": "Support", "channel": Channel.CHAT, "team_ids": ("t1",)}
    return Queue(id="q1", **_BASE, **(values | fields))


def entry_point(**fields: Any) -> EntryPoint:
    values: dict[str, Any] = {
        "name": "Main line",
        "channel": Channel.VOICE,
        "direction": Direction.INBOUND,
        "address": "+1 555 0100",
        "queue_id": "q1",
    }
    return EntryPoint(id="e1", **_BASE, **(values | fields))


def dial_number(**fields: Any) -> DialNumber:
    values: dict[str, Any] = {"name": "Legal", "number": "+44 20 7946 000"}
    return DialNumber(id="d1", **_BASE, **(values | fields))


def broken(entity: ConfigEntity) -> list[tuple[str, str]]:
    return [(violation.field, violation.rule) for violation in entity.validate()]


# --- kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        (ConfigKind.MULTIMEDIA_PROFILE, MultimediaProfile),
        (ConfigKind.AGENT, Agent),
        (ConfigKind.QUEUE, Queue),
        (ConfigKind.ENTRY_POINT, EntryPoint),
        (ConfigKind.DIAL_NUMBER, DialNumber),
    ],
)
def test_each_kind_is_registered(kind: ConfigKind, cls: type[ConfigEntity]) -> None:
    assert entity_class(kind) is cls


# --- multimedia profiles -------------------------------------------------------------------


def test_a_typical_blended_profile_is_valid() -> None:
    blended = profile(
        ChannelCapacity(Channel.VOICE, 1, 1),
        ChannelCapacity(Channel.CHAT, 3),
        ChannelCapacity(Channel.EMAIL, 2, 2),
        ChannelCapacity(Channel.SOCIAL, 2),
        ChannelCapacity(Channel.SMS, 2, 2),
    )
    assert broken(blended) == []
    assert (blended.capacity(Channel.CHAT), blended.outbound_capacity(Channel.EMAIL)) == (3, 2)
    assert (blended.capacity(Channel.WORK_ITEM), blended.outbound_capacity(Channel.CHAT)) == (0, 0)
    assert blended.voice_mode is VoiceMode.BLENDED


def test_a_profile_needs_a_channel() -> None:
    assert broken(profile()) == [("channels", "required")]


def test_a_profile_lists_each_channel_once() -> None:
    twice = profile(ChannelCapacity(Channel.CHAT, 1), ChannelCapacity(Channel.CHAT, 2))
    assert broken(twice) == [("channels", "unique_items")]


@pytest.mark.parametrize(
    ("channel", "max_concurrent", "max_outbound", "expected"),
    [
        (Channel.VOICE, 1, 1, []),
        (Channel.VOICE, 0, 0, []),
        (Channel.VOICE, 2, 0, [("channels.0.maxConcurrent", "range:0-1")]),
        (Channel.VOICE, 1, 2, [("channels.0.maxOutbound", "range:0-1")]),
        (Channel.CHAT, 20, 20, []),
        (Channel.CHAT, 21, 0, [("channels.0.maxConcurrent", "range:0-20")]),
        (Channel.CHAT, -1, 0, [("channels.0.maxConcurrent", "range:0-20")]),
        (Channel.EMAIL, 2, -1, [("channels.0.maxOutbound", "range:0-20")]),
        (Channel.SMS, 2, 3, [("channels.0.maxOutbound", "max:maxConcurrent")]),
        (Channel.VOICE, 0, 1, [("channels.0.maxOutbound", "max:maxConcurrent")]),
    ],
)
def test_channel_capacity_bounds(
    channel: Channel, max_concurrent: int, max_outbound: int, expected: list[tuple[str, str]]
) -> None:
    assert broken(profile(ChannelCapacity(channel, max_concurrent, max_outbound))) == expected


def test_capacity_violations_name_the_channel_position() -> None:
    bad = profile(ChannelCapacity(Channel.CHAT, 3), ChannelCapacity(Channel.EMAIL, 50))
    assert broken(bad) == [("channels.1.maxConcurrent", "range:0-20")]


@given(
    channel=st.sampled_from(list(Channel)),
    max_concurrent=st.integers(-5, 30),
    max_outbound=st.integers(-5, 30),
)
def test_capacity_is_valid_exactly_within_bounds(
    channel: Channel, max_concurrent: int, max_outbound: int
) -> None:
    top = 1 if channel is Channel.VOICE else 20
    valid = 0 <= max_outbound <= max_concurrent <= top
    assert (broken(profile(ChannelCapacity(channel, max_concurrent, max_outbound))) == []) is valid


def test_profiles_are_unique_by_name_ignoring_case_and_spaces() -> None:
    assert profile(ChannelCapacity(Channel.CHAT, 1), name=" Blended ").unique_keys() == {
        "name": "blended"
    }


# --- agents --------------------------------------------------------------------------------


def test_a_typical_agent_is_valid_and_references_its_teams_and_profile() -> None:
    ada = agent(team_ids=("t1", "t2"), skills=(Skill("English", 8), Skill("Billing", 3)))
    assert broken(ada) == []
    assert ada.references() == [
        Reference("teamIds", ConfigKind.TEAM, "t1"),
        Reference("teamIds", ConfigKind.TEAM, "t2"),
        Reference("profileId", ConfigKind.MULTIMEDIA_PROFILE, "p1"),
    ]


def test_agents_are_unique_by_email_not_by_name() -> None:
    assert agent(email=" Ada@Example.COM").unique_keys() == {"email": "ada@example.com"}


def test_skill_level_ignores_case_and_is_zero_when_missing() -> None:
    ada = agent(skills=(Skill("English", 8),))
    assert (ada.skill_level("english"), ada.skill_level("French")) == (8, 0)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, [("name", "required")]),
        ({"name": "x" * 101}, [("name", "max_length:100")]),
        ({"email": "ada"}, [("email", "email")]),
        ({"email": "ada @example.com"}, [("email", "email")]),
        ({"email": "a" * 250 + "@x.io"}, [("email", "email")]),
        ({"team_ids": ()}, [("teamIds", "required")]),
        ({"team_ids": ("t1", "t1")}, [("teamIds", "unique_items")]),
        ({"team_ids": tuple(f"t{i}" for i in range(51))}, [("teamIds", "max_items:50")]),
        ({"skills": (Skill("English", 0),)}, [("skills.0.level", "range:1-10")]),
        ({"skills": (Skill("English", 11),)}, [("skills.0.level", "range:1-10")]),
        ({"skills": (Skill("English", 1), Skill("Billing", 10))}, []),
        ({"skills": (Skill(" ", 5),)}, [("skills.0.name", "required")]),
        ({"skills": (Skill("x" * 51, 5),)}, [("skills.0.name", "max_length:50")]),
        ({"skills": (Skill("English", 5), Skill("english ", 6))}, [("skills", "unique_items")]),
        (
            {"skills": tuple(Skill(f"s{i}", 1) for i in range(51))},
            [("skills", "max_items:50")],
        ),
        ({"extension": "1001"}, []),
        ({"extension": "+4420794600001"}, []),
        ({"extension": ""}, [("extension", "extension")]),
        ({"extension": "+"}, [("extension", "extension")]),
        ({"extension": "++12"}, [("extension", "extension")]),
        ({"extension": "1" * 16}, [("extension", "extension")]),
        ({"extension": "12a"}, [("extension", "extension")]),
        ({"extension": "١٢٣"}, [("extension", "extension")]),
    ],
)
def test_agent_rules(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert broken(agent(**fields)) == expected


@given(st.integers(-100, 100))
def test_agent_skill_levels_run_from_1_to_10(level: int) -> None:
    assert (broken(agent(skills=(Skill("English", level),))) == []) is (1 <= level <= 10)


@given(st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True))
def test_any_short_digit_string_is_an_extension(extension: str) -> None:
    assert broken(agent(extension=extension)) == []


# --- queues --------------------------------------------------------------------------------


def test_a_queue_has_the_documented_defaults() -> None:
    support = queue()
    assert broken(support) == []
    assert (
        support.direction,
        support.routing_strategy,
        support.offer_timeout_seconds,
        support.priority,
        support.required_skills,
    ) == (Direction.INBOUND, RoutingStrategy.LONGEST_AVAILABLE, 30, 5, ())
    assert support.references() == [Reference("teamIds", ConfigKind.TEAM, "t1")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"team_ids": ()}, [("teamIds", "required")]),
        ({"team_ids": ("t1", "t1")}, [("teamIds", "unique_items")]),
        ({"team_ids": tuple(f"t{i}" for i in range(51))}, [("teamIds", "max_items:50")]),
        ({"offer_timeout_seconds": 4}, [("offerTimeoutSeconds", "range:5-600")]),
        ({"offer_timeout_seconds": 5}, []),
        ({"offer_timeout_seconds": 600}, []),
        ({"offer_timeout_seconds": 601}, [("offerTimeoutSeconds", "range:5-600")]),
        ({"priority": 0}, [("priority", "range:1-10")]),
        ({"priority": 1}, []),
        ({"priority": 10}, []),
        ({"priority": 11}, [("priority", "range:1-10")]),
        (
            {"required_skills": (SkillRequirement("English", 0),)},
            [("requiredSkills.0.minLevel", "range:1-10")],
        ),
        (
            {"required_skills": (SkillRequirement("English", 11),)},
            [("requiredSkills.0.minLevel", "range:1-10")],
        ),
        ({"required_skills": (SkillRequirement("", 3),)}, [("requiredSkills.0.name", "required")]),
        (
            {"required_skills": (SkillRequirement("Billing"), SkillRequirement("BILLING", 4))},
            [("requiredSkills", "unique_items")],
        ),
        (
            {"required_skills": tuple(SkillRequirement(f"s{i}") for i in range(51))},
            [("requiredSkills", "max_items:50")],
        ),
        ({"routing_strategy": RoutingStrategy.BEST_SKILLED, "direction": Direction.OUTBOUND}, []),
        ({"name": " "}, [("name", "required")]),
    ],
)
def test_queue_rules(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert broken(queue(**fields)) == expected


def test_a_skill_requirement_defaults_to_level_1() -> None:
    assert SkillRequirement("English").min_level == 1


def test_queue_violations_are_all_reported_at_once() -> None:
    bad = queue(team_ids=(), offer_timeout_seconds=1, priority=99)
    assert broken(bad) == [
        ("teamIds", "required"),
        ("offerTimeoutSeconds", "range:5-600"),
        ("priority", "range:1-10"),
    ]


@given(st.integers(-1000, 1000), st.integers(-20, 20))
def test_queue_timeout_and_priority_bounds(timeout: int, priority: int) -> None:
    valid = 5 <= timeout <= 600 and 1 <= priority <= 10
    assert (broken(queue(offer_timeout_seconds=timeout, priority=priority)) == []) is valid


# --- entry points --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        (Channel.VOICE, "+1 555-0100", []),
        (Channel.VOICE, "123456", [("address", "length:7-15")]),
        (Channel.VOICE, "1" * 16, [("address", "length:7-15")]),
        (Channel.VOICE, "555 CALL NOW", [("address", "phone")]),
        (Channel.SMS, "+44.20.7946.00", []),
        (Channel.SMS, "help@ex.com", [("address", "phone")]),
        (Channel.EMAIL, "support@example.com", []),
        (Channel.EMAIL, "+1 555 0100", [("address", "email")]),
        (Channel.CHAT, "web-widget-main", []),
        (Channel.CHAT, "  ", [("address", "required")]),
        (Channel.SOCIAL, "x" * 200, []),
        (Channel.SOCIAL, "x" * 201, [("address", "max_length:200")]),
        (Channel.WORK_ITEM, "crm-cases", []),
        (Channel.VOICEMAIL, "vm-box-1", []),
    ],
)
def test_entry_point_address_follows_its_channel(
    channel: Channel, address: str, expected: list[tuple[str, str]]
) -> None:
    assert broken(entry_point(channel=channel, address=address)) == expected


def test_an_inbound_entry_point_needs_a_queue() -> None:
    assert broken(entry_point(queue_id=None)) == [("queueId", "required")]
    assert entry_point(queue_id=None).references() == []


def test_an_outbound_entry_point_may_have_no_queue() -> None:
    dial = entry_point(direction=Direction.OUTBOUND, queue_id=None)
    assert (broken(dial), dial.references()) == ([], [])


def test_an_entry_point_references_its_queue() -> None:
    assert entry_point().references() == [Reference("queueId", ConfigKind.QUEUE, "q1")]


def test_the_queue_of_an_entry_point_must_serve_its_channel() -> None:
    main = entry_point(channel=Channel.VOICE)
    ref = Reference("queueId", ConfigKind.QUEUE, "q1")
    chat_queue = queue(channel=Channel.CHAT)
    violations = main.reference_violations({ref: chat_queue})
    assert [(v.field, v.rule) for v in violations] == [("queueId", "same_channel")]
    assert "VOICE" in violations[0].message
    assert "CHAT" in violations[0].message
    assert main.reference_violations({ref: queue(channel=Channel.VOICE)}) == []
    assert main.reference_violations({}) == []


def test_other_kinds_have_no_rules_about_their_targets() -> None:
    team = Team(id="t1", name="Sales", **_BASE)
    assert agent().reference_violations({Reference("teamIds", ConfigKind.TEAM, "t1"): team}) == []


def test_entry_point_addresses_are_unique_per_channel_and_direction() -> None:
    a = entry_point(address="+1 555-0100")
    same_number = entry_point(name="Other", address="+1.555.0100")
    outbound = entry_point(name="Dial", address="+15550100", direction=Direction.OUTBOUND)
    sms = entry_point(name="Texts", address="+15550100", channel=Channel.SMS)
    assert a.unique_keys() == {"name": "main line", "address": "VOICE:INBOUND:+15550100"}
    assert a.unique_keys()["address"] == same_number.unique_keys()["address"]
    assert outbound.unique_keys()["address"] == "VOICE:OUTBOUND:+15550100"
    assert sms.unique_keys()["address"] == "SMS:INBOUND:+15550100"


def test_email_and_handle_addresses_compare_ignoring_case_and_spacing() -> None:
    assert normalize_address(Channel.EMAIL, " Support@Example.COM ") == "support@example.com"
    assert normalize_address(Channel.CHAT, "Web  Widget\tMain") == "web widget main"


@given(st.from_regex(r"\+?[0-9]([0-9 ,.\-]{5,12})[0-9]", fullmatch=True))
def test_phone_normalization_keeps_only_plus_and_digits_and_is_idempotent(number: str) -> None:
    normalized = normalize_phone(number)
    assert normalized.lstrip("+").isdigit()
    assert normalize_phone(normalized) == normalized
    assert normalized == ("+" if number.startswith("+") else "") + "".join(
        filter(str.isdigit, number)
    )


# --- dial numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+44 20 7946 000", []),
        ("+44 20 7946 0000", [("number", "length:7-15")]),
        ("5550100", []),
        ("555010", [("number", "length:7-15")]),
        ("+1 (555) 0100", [("number", "phone")]),
        ("-5550100", [("number", "phone")]),
    ],
)
def test_dial_number_rules(number: str, expected: list[tuple[str, str]]) -> None:
    assert broken(dial_number(number=number)) == expected


def test_dial_numbers_are_unique_by_name_and_by_number() -> None:
    legal = dial_number(name=" LEGAL ", number="+44 20-7946.000")
    assert legal.unique_keys() == {"name": "legal", "number": "+44207946000"}
    assert legal.references() == []


def test_entities_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        queue().priority = 1  # type: ignore[misc]
