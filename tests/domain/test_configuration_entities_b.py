"""Idle and wrap-up codes, chat responses, message templates, CAD variables, policy refinements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.channels import Channel, Direction
from domain.configuration.base import ConfigEntity, Reference
from domain.configuration.cad import CadType, CadVariable, cad_value_rule, cad_value_violation
from domain.configuration.codes import IdleCode, WrapUpCode
from domain.configuration.entry_points import EntryPoint
from domain.configuration.policies import OrganizationPolicies
from domain.configuration.responses import ChatResponse
from domain.configuration.templates import MessageTemplate, PlaceholderError, parse_placeholders
from domain.errors import Violation

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


E = TypeVar("E", bound=ConfigEntity)


def make(cls: type[E], **fields: Any) -> E:
    return cls(id=fields.pop("id", "e1"), org_id="org", created_at=NOW, updated_at=NOW, **fields)


def rules(entity: Any) -> list[tuple[str, str]]:
    return [(violation.field, violation.rule) for violation in entity.validate()]


@pytest.mark.parametrize("cls", [IdleCode, WrapUpCode])
def test_codes_take_an_optional_description_of_at_most_250_characters(cls: type) -> None:
    assert rules(make(cls, name="Lunch")) == []
    assert rules(make(cls, name="Lunch", description="d" * 250)) == []
    assert rules(make(cls, name="Lunch", description="d" * 251)) == [
        ("description", "max_length:250")
    ]
    assert rules(make(cls, name=" ")) == [("name", "required")]


def test_chat_response_text_is_required_and_at_most_2000_characters() -> None:
    assert rules(make(ChatResponse, name="Greeting", text="t" * 2000)) == []
    assert rules(make(ChatResponse, name="Greeting", text="t" * 2001)) == [
        ("text", "max_length:2000")
    ]
    assert rules(make(ChatResponse, name="Greeting", text="  ")) == [("text", "required")]


def test_chat_response_channels_are_distinct_messaging_channels() -> None:
    response = make(
        ChatResponse, name="Hi", text="Hello", channels=(Channel.CHAT, Channel.VOICE, Channel.CHAT)
    )
    assert rules(response) == [("channels", "unique_items"), ("channels.1", "messaging_channel")]


def test_chat_response_is_offered_on_its_channels_or_every_messaging_channel() -> None:
    everywhere = make(ChatResponse, name="Hi", text="Hello")
    sms_only = make(ChatResponse, name="Hi", text="Hello", channels=(Channel.SMS,))
    assert [everywhere.offered_on(c) for c in (Channel.CHAT, Channel.SOCIAL, Channel.VOICE)] == [
        True,
        True,
        False,
    ]
    assert (sms_only.offered_on(Channel.SMS), sms_only.offered_on(Channel.CHAT)) == (True, False)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (tuple(f"tag{i}" for i in range(10)), []),
        (tuple(f"tag{i}" for i in range(11)), [("tags", "max_items:10")]),
        (("billing", " Billing"), [("tags", "unique_items")]),
        (("",), [("tags.0", "required")]),
        (("ok", "t" * 31), [("tags.1", "max_length:30")]),
    ],
)
def test_chat_response_tag_rules(tags: tuple[str, ...], expected: list[tuple[str, str]]) -> None:
    assert rules(make(ChatResponse, name="Hi", text="Hello", tags=tags)) == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", ()),
        ("Dear {{customerName}}, case {{case_1}} for {{customerName}}", ("customerName", "case_1")),
        ("{{a}}{{_b}}", ("a", "_b")),
        ("single braces {are} text", ()),
        ("{{" + "n" * 64 + "}}", ("n" * 64,)),
    ],
)
def test_placeholders_are_parsed_in_order_of_first_use(text: str, names: tuple[str, ...]) -> None:
    assert parse_placeholders(text) == names


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("Hi {{name", 3),
        ("Hi name}}", 7),
        ("{{}}", 0),
        ("x {{ name }}", 2),
        ("{{1st}}", 0),
        ("{{first-name}}", 0),
        ("{{{name}}}", 0),
        ("{{a {{b}}", 0),
        ("{{" + "n" * 65 + "}}", 0),
        ("{{ok}} then }}", 12),
    ],
)
def test_malformed_placeholders_are_refused_with_their_position(text: str, position: int) -> None:
    with pytest.raises(PlaceholderError) as refused:
        parse_placeholders(text)
    assert refused.value.position == position


_IDENTIFIERS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
_PLAIN = st.text(alphabet=st.characters(exclude_characters="{}"), max_size=10)


@given(st.lists(st.tuples(_PLAIN, _IDENTIFIERS), max_size=6), _PLAIN)
def test_any_well_formed_text_yields_its_distinct_names(parts: list[Any], tail: str) -> None:
    text = "".join(f"{plain}{{{{{name}}}}}" for plain, name in parts) + tail
    assert parse_placeholders(text) == tuple(dict.fromkeys(name for _, name in parts))


def template(**fields: Any) -> MessageTemplate:
    defaults: dict[str, Any] = {"name": "Follow-up", "channel": Channel.SMS, "body": "Hi"}
    return make(MessageTemplate, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"channel": Channel.SMS, "body": "b" * 1600}, []),
        ({"channel": Channel.SMS, "body": "b" * 1601}, [("body", "max_length:1600")]),
        ({"channel": Channel.EMAIL, "subject": "S", "body": "b" * 4000}, []),
        (
            {"channel": Channel.EMAIL, "subject": "S", "body": "b" * 4001},
            [("body", "max_length:4000")],
        ),
        ({"body": ""}, [("body", "required")]),
        ({"channel": Channel.CHAT}, [("channel", "template_channel")]),
        ({"channel": Channel.SMS, "subject": "Hello"}, [("subject", "forbidden")]),
        ({"channel": Channel.SMS, "subject": ""}, [("subject", "forbidden")]),
        ({"channel": Channel.EMAIL}, [("subject", "required")]),
        ({"channel": Channel.EMAIL, "subject": " "}, [("subject", "required")]),
        ({"channel": Channel.EMAIL, "subject": "s" * 200}, []),
        ({"channel": Channel.EMAIL, "subject": "s" * 201}, [("subject", "max_length:200")]),
        ({"channel": Channel.EMAIL, "subject": "a\r\nBcc: x@y.z"}, [("subject", "single_line")]),
        ({"body": "Hi {{name"}, [("body", "placeholder")]),
        ({"channel": Channel.EMAIL, "subject": "{{1}}"}, [("subject", "placeholder")]),
    ],
)
def test_message_template_rules(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert rules(template(**fields)) == expected


def test_template_placeholders_list_subject_names_first_once() -> None:
    email = template(channel=Channel.EMAIL, subject="Case {{caseId}}", body="{{name}}: {{caseId}}")
    assert email.placeholders == ("caseId", "name")
    assert template(body="{{broken").placeholders == ()


# --- CAD values: the pure rule the CAD-values use cases reuse --------------------------------

_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.sampled_from(list(CadType)), st.integers(257, 600))
def test_no_value_longer_than_256_characters_is_valid(var_type: CadType, length: int) -> None:
    assert cad_value_rule(var_type, "1" * length) == "max_length:256"


@given(st.text(min_size=255, max_size=256))
def test_strings_of_255_and_256_characters_are_valid(value: str) -> None:
    assert cad_value_rule(CadType.STRING, value) is None


@given(st.text(min_size=257, max_size=257))
def test_a_string_of_257_characters_is_not(value: str) -> None:
    assert cad_value_rule(CadType.STRING, value) == "max_length:256"


@given(st.integers(-(2**63), 2**63 - 1))
def test_every_64_bit_integer_is_a_valid_integer(number: int) -> None:
    assert cad_value_rule(CadType.INTEGER, str(number)) is None


@given(st.integers(2**63, 2**70) | st.integers(-(2**70), -(2**63) - 1))
def test_integers_beyond_64_bits_are_refused(number: int) -> None:
    assert cad_value_rule(CadType.INTEGER, str(number)) == "integer"


@pytest.mark.parametrize("value", ["", "+", "1.5", " 1", "1_000", "0x10", "١٢", "1e3", "true"])
def test_integer_values_are_plain_ascii_digits(value: str) -> None:
    assert cad_value_rule(CadType.INTEGER, value) == "integer"


@pytest.mark.parametrize(("value", "rule"), [("true", None), ("false", None), ("True", "boolean")])
def test_boolean_values_are_true_or_false(value: str, rule: str | None) -> None:
    assert cad_value_rule(CadType.BOOLEAN, value) == rule


@given(st.text().filter(lambda value: value not in ("true", "false")))
def test_anything_else_is_not_a_boolean(value: str) -> None:
    assert cad_value_rule(CadType.BOOLEAN, value) in ("boolean", "max_length:256")


@given(st.datetimes(timezones=_OFFSETS))
def test_every_zoned_datetime_in_iso_8601_is_valid(moment: datetime) -> None:
    assert cad_value_rule(CadType.DATETIME, moment.isoformat()) is None
    assert cad_value_rule(CadType.DATETIME, moment.isoformat(timespec="minutes")) is None


@given(st.datetimes())
def test_a_datetime_without_zone_is_refused(moment: datetime) -> None:
    assert cad_value_rule(CadType.DATETIME, moment.isoformat()) == "datetime"


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024-13-01T00:00Z",
        "2024-02-30T00:00Z",
        "2024-05-01T24:00Z",
        "2024-05-01x09:30Z",
        "20240501T093000Z",
        "2024-05-01t09:30z",
        "2024-05-01T09:30:00+24:00",
        "yesterday",
    ],
)
def test_malformed_datetimes_are_refused(value: str) -> None:
    assert cad_value_rule(CadType.DATETIME, value) == "datetime"


@pytest.mark.parametrize(
    "value", ["2024-05-01T09:30:00.123456789Z", "2024-05-01T09:30+05", "2024-05-01T09:30-0330"]
)
def test_common_zoned_forms_are_accepted(value: str) -> None:
    assert cad_value_rule(CadType.DATETIME, value) is None


def test_a_cad_value_violation_names_the_field_and_the_rule() -> None:
    assert cad_value_violation("variables.2.value", CadType.STRING, "ok") is None
    too_long = cad_value_violation("variables.2.value", CadType.STRING, "x" * 257)
    not_int = cad_value_violation("value", CadType.INTEGER, "x")
    assert too_long == Violation(
        "variables.2.value", "max_length:256", "variables.2.value must have at most 256 characters"
    )
    assert not_int == Violation(
        "value", "integer", "value must be a whole number between -2^63 and 2^63-1"
    )


# --- CAD variable definitions ----------------------------------------------------------------


def variable(**fields: Any) -> CadVariable:
    defaults: dict[str, Any] = {"name": "customerId", "label": "Customer"}
    return make(CadVariable, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "_x9", "display_order": 0}, []),
        ({"display_order": 1000, "var_type": CadType.INTEGER, "default_value": "-5"}, []),
        ({"name": "customer id"}, [("name", "identifier")]),
        ({"name": "9lives"}, [("name", "identifier")]),
        ({"name": "n" * 65}, [("name", "identifier")]),
        ({"name": ""}, [("name", "required")]),
        ({"label": ""}, [("label", "required")]),
        ({"label": "l" * 101}, [("label", "max_length:100")]),
        ({"display_order": -1}, [("displayOrder", "range:0-1000")]),
        ({"display_order": 1001}, [("displayOrder", "range:0-1000")]),
        ({"secure": True, "show_in_popover": True}, [("showInPopover", "secure_not_in_popover")]),
        ({"secure": True, "default_value": "1234"}, [("defaultValue", "secure_no_default")]),
        ({"var_type": CadType.BOOLEAN, "default_value": "yes"}, [("defaultValue", "boolean")]),
        (
            {"var_type": CadType.DATETIME, "default_value": "2024-05-01T09:30"},
            [("defaultValue", "datetime")],
        ),
        ({"default_value": "v" * 257}, [("defaultValue", "max_length:256")]),
    ],
)
def test_cad_variable_rules(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert rules(variable(**fields)) == expected


def test_at_most_six_active_variables_are_shown_in_the_popover() -> None:
    shown = [variable(id=f"v{i}", name=f"v{i}", show_in_popover=True) for i in range(6)]
    hidden = [variable(id=f"h{i}", name=f"h{i}") for i in range(3)]
    seventh = variable(id="new", show_in_popover=True)
    assert CadVariable.has_collection_rules is True
    assert seventh.collection_violations([*shown[:5], *hidden]) == []
    assert [(v.field, v.rule) for v in seventh.collection_violations([*shown, *hidden])] == [
        ("showInPopover", "max_popover:6")
    ]
    assert variable(id="off").collection_violations(list(shown)) == []


# --- policies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "rule"), [("(", "regex"), (r"\d*", "matches_empty"), ("a|", "matches_empty")]
)
def test_pii_patterns_must_compile_and_match_something(pattern: str, rule: str) -> None:
    policies = OrganizationPolicies(org_id="org", pii_patterns=(r"\d{3}-\d{2}", pattern))
    assert [(v.field, v.rule) for v in policies.validate()] == [("piiPatterns.1", rule)]


@pytest.mark.parametrize(
    ("channel", "direction", "expected"),
    [
        (Channel.VOICE, Direction.OUTBOUND, []),
        (Channel.VOICE, Direction.INBOUND, [("callbackEntryPointId", "outbound_voice")]),
        (Channel.SMS, Direction.OUTBOUND, [("callbackEntryPointId", "outbound_voice")]),
    ],
)
def test_the_callback_entry_point_must_dial_out_by_voice(
    channel: Channel, direction: Direction, expected: list[tuple[str, str]]
) -> None:
    policies = OrganizationPolicies(org_id="org", callback_entry_point_id="ep1")
    entry_point = make(
        EntryPoint,
        id="ep1",
        name="Callbacks",
        channel=channel,
        direction=direction,
        address="+15550100",
        queue_id="q",
    )
    (reference,) = policies.references()
    found = [(v.field, v.rule) for v in policies.reference_violations({reference: entry_point})]
    assert found == expected
    assert (
        policies.reference_violations(
            {Reference("defaultWrapUpCodeId", reference.kind, "x"): entry_point}
        )
        == []
    )
