"""CAD values as pure rules (SPEC §7, seed 002): which saves are refused and why, first save wins
per variable, the flow's unversioned writes, and secure values masked in everything meant to be
shown (conflicts, events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.channels import Channel
from domain.configuration.cad import CadType, CadVariable
from domain.identity import Actor, ActorKind
from domain.tasks.cad import (
    SECURE_MASK,
    CadAuthor,
    CadEdit,
    change_of,
    edit_violations,
    masked,
    save_values,
)
from domain.tasks.task import CadValue, Customer, Task

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
AGENT_A = CadAuthor(actor=Actor(ActorKind.AGENT, "agent-a"), name="Agent A")
AGENT_B = CadAuthor(actor=Actor(ActorKind.AGENT, "agent-b"), name="Agent B")
FLOW = CadAuthor(actor=Actor(ActorKind.INTEGRATION, "flow"))
SECRET = "078-05-1120"


def variable(name: str, var_type: CadType = CadType.STRING, **fields: object) -> CadVariable:
    return CadVariable(
        id=f"cad-{name}",
        org_id="org-1",
        name=name,
        label=name.title(),
        var_type=var_type,
        created_at=NOW,
        updated_at=NOW,
        **fields,  # type: ignore[arg-type]
    )


DEFINITIONS = {
    v.name: v
    for v in (
        variable("case", editable=True),
        variable("count", CadType.INTEGER, editable=True),
        variable("vip", CadType.BOOLEAN, editable=True),
        variable("callAt", CadType.DATETIME, editable=True),
        variable("account"),  # read-only for agents
        variable("ssn", secure=True, editable=True),
    )
}


def task(*cad: CadValue) -> Task:
    return Task(
        task_id="t1",
        org_id="org-1",
        channel=Channel.VOICE,
        entry_point_id="ep1",
        queue_id="q1",
        customer=Customer(),
        cad=cad,
        queue_priority=5,
        priority=5,
        created_at=NOW,
        queued_at=NOW,
        status_since=NOW,
    )


def reported(name: str, value: str, *, secure: bool = False) -> CadValue:
    return CadValue(name, value, secure=secure, version=1, saved_by=FLOW.actor, saved_at=NOW)


def rules(edits: list[CadEdit], *, by_agent: bool = True, on: Task | None = None) -> list:
    found = edit_violations(on or task(), edits, DEFINITIONS, by_agent=by_agent)
    return [(v.field, v.rule) for v in found]


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "broken"), [(255, []), (256, []), (257, [("values.0.value", "max_length:256")])]
)
def test_a_value_has_at_most_256_characters(length: int, broken: list) -> None:
    assert rules([CadEdit("case", "x" * length, 0)]) == broken


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("count", "12a", "integer"),
        ("count", str(2**63), "integer"),
        ("vip", "yes", "boolean"),
        ("callAt", "2025-03-01 09:00", "datetime"),
        ("callAt", "2025-02-30T09:00:00Z", "datetime"),
    ],
)
def test_a_value_must_fit_its_type(name: str, value: str, rule: str) -> None:
    assert rules([CadEdit(name, value, 0)]) == [("values.0.value", rule)]


@pytest.mark.parametrize(
    ("name", "value"),
    [("count", "-42"), ("vip", "false"), ("callAt", "2025-03-01T09:00:00+02:00"), ("case", "")],
)
def test_values_of_every_type_pass(name: str, value: str) -> None:
    assert rules([CadEdit(name, value, 0)]) == []


def test_agents_may_not_write_read_only_variables_but_the_flow_may() -> None:
    assert rules([CadEdit("account", "A-1", 0)]) == [("values.0.name", "not_editable")]
    assert rules([CadEdit("account", "A-1")], by_agent=False) == []


def test_unknown_and_repeated_variables_and_unread_versions_are_refused() -> None:
    edits = [CadEdit("case", "1", 0), CadEdit("nope", "x", 0), CadEdit("case", "2", 0)]
    assert rules(edits) == [("values", "unique_items"), ("values.1.name", "reference")]
    on = task(reported("case", "C-1"))
    assert rules([CadEdit("case", "C-2", 2)], on=on) == [("values.0.expectedVersion", "range:0-1")]
    assert rules([CadEdit("case", "C-2", -1)], on=on) == [("values.0.expectedVersion", "range:0-1")]
    assert rules([]) == [("values", "required")]


def test_messages_name_the_variable_and_never_a_secure_value() -> None:
    (violation,) = edit_violations(
        task(), [CadEdit("ssn", SECRET * 30, 0)], DEFINITIONS, by_agent=True
    )
    assert (violation.field, violation.rule) == ("values.0.value", "max_length:256")
    assert "ssn" in violation.message
    assert SECRET not in violation.message


# --- saving against versions --------------------------------------------------------------------


def test_a_save_against_the_current_versions_stores_each_value_with_the_next_version() -> None:
    before = task(reported("case", "C-1"))
    edits = [CadEdit("case", "C-2", 1), CadEdit("vip", "true", 0)]
    saving = save_values(before, edits, DEFINITIONS, by=AGENT_A, now=NOW)

    assert saving.conflicts == ()
    assert saving.task.version == before.version + 1
    assert [(e.name, e.value, e.version, e.saved_by, e.saved_by_name) for e in saving.task.cad] == [
        ("case", "C-2", 2, AGENT_A.actor, "Agent A"),
        ("vip", "true", 1, AGENT_A.actor, "Agent A"),
    ]
    assert saving.saved == saving.task.cad


def test_the_first_save_wins_and_the_second_is_a_conflict_naming_the_winner() -> None:
    read = task(reported("case", "C-1"))  # agents A and B both read version 1
    later = NOW + timedelta(seconds=3)
    a = save_values(read, [CadEdit("case", "A's", 1)], DEFINITIONS, by=AGENT_A, now=later)
    b = save_values(a.task, [CadEdit("case", "B's", 1)], DEFINITIONS, by=AGENT_B, now=later)

    assert b.saved == ()
    assert b.task is a.task  # nothing changed: not even the task's version
    (conflict,) = b.conflicts
    assert (conflict.name, conflict.value, conflict.version, conflict.expected_version) == (
        "case",
        "A's",
        2,
        1,
    )
    assert (conflict.saved_by, conflict.saved_by_name, conflict.saved_at) == (
        AGENT_A.actor,
        "Agent A",
        later,
    )


def test_a_conflict_on_one_variable_leaves_the_others_of_the_save_applied() -> None:
    read = task(reported("case", "C-1"), reported("count", "1"))
    a = save_values(read, [CadEdit("case", "A's", 1)], DEFINITIONS, by=AGENT_A, now=NOW)
    edits = [CadEdit("case", "B's", 1), CadEdit("count", "2", 1)]
    b = save_values(a.task, edits, DEFINITIONS, by=AGENT_B, now=NOW)

    assert [c.name for c in b.conflicts] == ["case"]
    assert [(e.name, e.value, e.version) for e in b.saved] == [("count", "2", 2)]
    assert [(e.name, e.value) for e in b.task.cad] == [("case", "A's"), ("count", "2")]


def test_the_flow_always_wins_yet_bumps_the_version_so_agents_then_conflict() -> None:
    read = task(reported("case", "C-1"))
    flow = save_values(read, [CadEdit("case", "from flow")], DEFINITIONS, by=FLOW, now=NOW)
    again = save_values(flow.task, [CadEdit("case", "again")], DEFINITIONS, by=FLOW, now=NOW)
    agent = save_values(again.task, [CadEdit("case", "A's", 1)], DEFINITIONS, by=AGENT_A, now=NOW)

    assert [e.version for e in again.task.cad] == [3]
    assert [(c.value, c.version, c.saved_by) for c in agent.conflicts] == [("again", 3, FLOW.actor)]


@given(st.lists(st.sampled_from(["A", "B", "C"]), min_size=2, max_size=8))
def test_of_saves_made_against_one_read_exactly_one_succeeds(writers: list[str]) -> None:
    """Whatever order the saves of one read version are applied in, one wins, the rest conflict
    naming it."""
    state = task(reported("case", "C-0"))
    outcomes = []
    for writer in writers:
        author = CadAuthor(actor=Actor(ActorKind.AGENT, writer), name=writer)
        saving = save_values(state, [CadEdit("case", writer, 1)], DEFINITIONS, by=author, now=NOW)
        state = saving.task
        outcomes.append(saving)
    assert sum(bool(o.saved) for o in outcomes) == 1
    assert all(c.value == writers[0] for o in outcomes[1:] for c in o.conflicts)
    assert [e.version for e in state.cad] == [2]


# --- secure values ------------------------------------------------------------------------------


def test_secure_values_are_masked_in_conflicts_and_absent_from_events() -> None:
    read = task(reported("ssn", "000-00-0000", secure=True))
    a = save_values(read, [CadEdit("ssn", SECRET, 1)], DEFINITIONS, by=AGENT_A, now=NOW)
    b = save_values(a.task, [CadEdit("ssn", "guess", 1)], DEFINITIONS, by=AGENT_B, now=NOW)

    (stored,) = a.task.cad
    assert (stored.value, stored.secure) == (SECRET, True)  # the task keeps it: reveal needs it
    (conflict,) = b.conflicts
    assert (conflict.value, conflict.secure) == (SECURE_MASK, True)
    assert masked(stored).value == SECURE_MASK
    change = change_of(stored)
    assert (change.value, change.secure, change.version) == (None, True, 2)
    assert SECRET not in repr([conflict, masked(stored), change])
    assert masked(reported("case", "C-1")).value == "C-1"
