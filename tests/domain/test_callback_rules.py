"""The input rules of scheduled and personal callbacks (SPEC §9, seed 002) as a pure function:
every boundary, every rule at once, each violation naming its field and rule."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.callbacks.rules import CallbackFacts, CallbackInput, check_callback, local_instant
from domain.channels import Channel
from domain.configuration.agents import Agent
from domain.configuration.queues import Queue
from domain.tasks.task import TaskKind

# 09:00 in Sofia (UTC+2 in winter).
NOW = datetime(2025, 1, 15, 7, 0, tzinfo=UTC)
SOFIA = "Europe/Sofia"


def queue(**changes: object) -> Queue:
    base = Queue(
        id="q1",
        org_id="o1",
        name="Support",
        channel=Channel.VOICE,
        team_ids=("t1",),
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def agent(agent_id: str = "a1", teams: tuple[str, ...] = ("t1",)) -> Agent:
    return Agent(
        id=agent_id,
        org_id="o1",
        name=agent_id,
        email=f"{agent_id}@example.com",
        team_ids=teams,
        profile_id="p1",
        created_at=NOW,
        updated_at=NOW,
    )


FACTS = CallbackFacts(queue=queue(), scheduler=agent())
VALID = CallbackInput(
    customer_number="+359 2 123-4567",
    customer_name="Иван Петров",
    date="2025-01-15",
    window_start="10:00",
    window_end="11:00",
    time_zone=SOFIA,
    queue_id="q1",
    reason="Wants to hear about the new tariff",
)


def broken(
    facts: CallbackFacts = FACTS, now: datetime = NOW, **changes: object
) -> set[tuple[str, str]]:
    entered = dataclasses.replace(VALID, **changes)  # type: ignore[arg-type]
    checked = check_callback(entered, facts, now)
    return {(v.field, v.rule) for v in checked.violations}


def window_at(instant: datetime) -> dict[str, str]:
    """The window fields starting at ``instant`` (Sofia is UTC+2 in January/February)."""
    wall = instant + timedelta(hours=2)
    end = wall + timedelta(minutes=30)
    return {
        "date": wall.date().isoformat(),
        "window_start": wall.time().isoformat(),
        "window_end": end.time().isoformat() if end.date() == wall.date() else "23:59:59",
    }


def test_a_valid_callback_has_no_violation_and_its_window_in_utc() -> None:
    checked = check_callback(VALID, FACTS, NOW)

    assert checked.violations == []
    assert checked.window is not None
    assert checked.window.starts_at == datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
    assert checked.window.ends_at == datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    assert (checked.window.start, checked.window.end) == ("10:00:00", "11:00:00")


def test_an_empty_request_names_every_required_field_at_once() -> None:
    empty = CallbackInput(
        customer_number=None,
        customer_name="  ",
        date=None,
        window_start="",
        window_end=None,
        time_zone=None,
        queue_id=None,
    )

    violations = check_callback(empty, FACTS, NOW).violations

    assert {(v.field, v.rule) for v in violations} == {
        ("customerNumber", "required"),
        ("customerName", "required"),
        ("date", "required"),
        ("windowStart", "required"),
        ("windowEnd", "required"),
        ("timeZone", "required"),
        ("queueId", "required"),
    }
    assert len(violations) == 7


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("123456", {("customerNumber", "length:7-15")}),
        ("1234567", set()),
        ("+35 9-2.12,3 45", set()),  # 15 characters as typed, every allowed separator
        ("+35 9-2.12,3 456", {("customerNumber", "length:7-15")}),  # 16
        ("+3592123456789", set()),
        ("(02) 123-4567", {("customerNumber", "phone")}),
        ("123-456x", {("customerNumber", "phone")}),
        ("١٢٣٤٥٦٧", {("customerNumber", "phone")}),  # digits, but not ASCII ones
    ],
)
def test_the_phone_has_7_to_15_characters_as_typed_and_only_the_allowed_separators(
    number: str, expected: set[tuple[str, str]]
) -> None:
    assert broken(customer_number=number) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ив", {("customerName", "length:3-250")}),
        ("Иво", set()),
        ("😀" * 250, set()),
        ("Ж" * 251, {("customerName", "length:3-250")}),
        ("  Ив  ", {("customerName", "length:3-250")}),  # trimmed before counting
        ("Jo\x00e", {("customerName", "characters")}),
    ],
)
def test_the_name_has_3_to_250_unicode_characters(
    name: str, expected: set[tuple[str, str]]
) -> None:
    assert broken(customer_name=name) == expected


def test_a_character_typed_decomposed_counts_once() -> None:
    decomposed = unicodedata.normalize("NFD", "é") * 250  # 500 code points, 250 characters

    assert broken(customer_name=decomposed) == set()


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        (timedelta(minutes=29, seconds=59), {("windowStart", "min_lead:30m")}),
        (timedelta(minutes=30), set()),
        (timedelta(days=31), set()),
        (timedelta(days=31, seconds=1), {("windowStart", "max_lead:31d")}),
        (-timedelta(hours=1), {("windowStart", "min_lead:30m")}),
    ],
)
def test_the_window_starts_30_minutes_to_31_days_from_now_both_included(
    lead: timedelta, expected: set[tuple[str, str]]
) -> None:
    assert broken(**window_at(NOW + lead)) == expected


@pytest.mark.parametrize(("start", "end"), [("10:00", "10:00"), ("11:00", "10:00")])
def test_an_empty_window_is_refused(start: str, end: str) -> None:
    assert broken(window_start=start, window_end=end) == {("windowEnd", "empty_window")}


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/sofia", "../../etc/passwd", "EET-2"])
def test_the_time_zone_must_be_an_iana_name(zone: str) -> None:
    assert broken(time_zone=zone) == {("timeZone", "time_zone")}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "15.01.2025"),
        ("date", "2025-02-30"),
        ("window_start", "9am"),
        ("window_end", "24:00"),
    ],
)
def test_dates_and_times_must_be_well_formed(field: str, value: str) -> None:
    camel = {"date": "date", "window_start": "windowStart", "window_end": "windowEnd"}[field]
    assert broken(**{field: value}) == {(camel, "format")}


def test_a_local_time_skipped_by_daylight_saving_is_refused() -> None:
    # Sofia jumps from 03:00 to 04:00 on 2025-03-30.
    later = NOW.replace(month=3, day=20)

    assert broken(now=later, date="2025-03-30", window_start="03:30", window_end="05:00") == {
        ("windowStart", "nonexistent_local_time")
    }


def test_a_local_time_that_occurs_twice_means_its_first_occurrence() -> None:
    # Sofia goes back from 04:00 to 03:00 on 2025-10-26: 03:30 happens at 00:30 and 01:30 UTC.
    first = local_instant(date(2025, 10, 26), time(3, 30), ZoneInfo(SOFIA))

    assert first == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_the_queue_must_exist_be_active_telephony_and_served_by_the_agents_team() -> None:
    assert broken(CallbackFacts(queue=None, scheduler=agent())) == {("queueId", "reference")}
    chat = queue(channel=Channel.CHAT, active=False)
    assert broken(CallbackFacts(queue=chat, scheduler=agent())) == {
        ("queueId", "inactive"),
        ("queueId", "not_telephony"),
    }
    outsider = agent(teams=("t9",))
    assert broken(CallbackFacts(queue=queue(), scheduler=outsider)) == {("queueId", "no_access")}


def test_a_personal_callbacks_queue_must_be_one_the_assignee_serves() -> None:
    scheduler = agent("a1", ("t1", "t2"))
    teammate = agent("a2", ("t2",))
    facts = CallbackFacts(queue=queue(), scheduler=scheduler, assignee=teammate)

    assert broken(facts, assignee_id="a2") == {("queueId", "no_access")}


def test_a_personal_callback_goes_to_a_teammate_only() -> None:
    stranger = agent("a9", ("t9",))
    facts = CallbackFacts(queue=queue(team_ids=("t1", "t9")), scheduler=agent(), assignee=stranger)

    assert broken(facts, assignee_id="a9") == {("assigneeId", "not_teammate")}
    missing = CallbackFacts(queue=queue(), scheduler=agent(), assignee=None)
    assert broken(missing, assignee_id="ghost") == {("assigneeId", "reference")}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("x" * 250, set()),
        ("ж" * 251, {("reason", "max_length:250")}),
        ("line one\nline two\ttabbed", set()),
        ("bell\x07", {("reason", "characters")}),
    ],
)
def test_the_reason_is_optional_at_most_250_characters(
    reason: str, expected: set[tuple[str, str]]
) -> None:
    assert broken(reason=reason) == expected


def test_callbacks_are_not_scheduled_from_campaign_contacts() -> None:
    campaign = dataclasses.replace(FACTS, task_kind=TaskKind.CAMPAIGN_PREVIEW)
    assert broken(campaign, task_id="t1") == {("taskId", "campaign")}
    assert broken(dataclasses.replace(FACTS, task_kind=TaskKind.NORMAL), task_id="t1") == set()
    assert broken(FACTS, task_id="not-mine") == {("taskId", "reference")}


@given(st.text(alphabet="0123456789 -,.", min_size=1, max_size=20))
def test_any_number_of_allowed_characters_is_judged_by_its_length_and_shape(number: str) -> None:
    rules = broken(customer_number=number)
    stripped_ok = number[0].isdigit() and number[-1].isdigit()
    if not number.strip():
        assert rules == {("customerNumber", "required")}
    elif not 7 <= len(number) <= 15:
        assert rules == {("customerNumber", "length:7-15")}
    else:
        assert rules == (set() if stripped_ok else {("customerNumber", "phone")})


def test_an_edit_that_keeps_the_window_is_not_held_to_the_lead_rules_again() -> None:
    one_second_before = datetime(2025, 1, 15, 7, 59, 59, tzinfo=UTC)

    kept = check_callback(VALID, FACTS, one_second_before, new_window=False)
    moved = check_callback(VALID, FACTS, one_second_before)

    assert kept.violations == []
    assert {(v.field, v.rule) for v in moved.violations} == {("windowStart", "min_lead:30m")}
