"""An agent's presence as a pure value (SPEC §2): connections come and go; the absence that starts
when the last one goes - or when the agent becomes AVAILABLE with none open - is numbered, dated
and gets its own grace timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.agents.presence import AgentPresence, Connection
from domain.timers import TimerKind

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
STALE_AFTER = timedelta(seconds=30)
GRACE = timedelta(seconds=60)


def seen(connection_id: str, at: datetime = NOW) -> Connection:
    return Connection(connection_id, "instance-1", at)


def test_the_last_connection_closing_starts_a_numbered_absence_with_its_own_timer() -> None:
    two = AgentPresence.new("org-1", "a1").connect(seen("c1")).connect(seen("c2"))
    later = NOW + timedelta(seconds=5)

    one = two.disconnect("c1", now=later, stale_before=later - STALE_AFTER)
    none = one.disconnect("c2", now=later, stale_before=later - STALE_AFTER)

    assert (one.connected, one.gone_at, one.absences) == (True, None, 0)
    assert (none.connected, none.gone_at, none.absences, none.version) == (False, later, 1, 4)
    timer = none.grace_timer(GRACE)
    assert (timer.id, timer.kind, timer.due_at, timer.org_id, dict(timer.payload)) == (
        "PRESENCE_GRACE:org-1/a1:1",
        TimerKind.PRESENCE_GRACE,
        later + GRACE,
        "org-1",
        {"agentId": "a1"},
    )


def test_stale_connections_count_as_gone_since_last_seen() -> None:
    presence = AgentPresence.new("org-1", "a1").connect(seen("c1", NOW))
    presence = presence.connect(seen("c2", NOW + timedelta(seconds=10)))
    cutoff = NOW + timedelta(seconds=20)

    swept = presence.sweep(stale_before=cutoff)

    assert (swept.connections, swept.gone_at, swept.absences) == (
        (),
        NOW + timedelta(seconds=10),
        1,
    )
    assert swept.sweep(stale_before=cutoff) is swept  # nothing more to sweep: no change at all


def test_closing_one_connection_takes_the_stale_ones_along() -> None:
    presence = AgentPresence.new("org-1", "a1").connect(seen("dead", NOW)).connect(seen("mine"))
    later = NOW + timedelta(minutes=1)

    after = presence.disconnect("mine", now=later, stale_before=later - STALE_AFTER)

    assert (after.connected, after.gone_at, after.absences) == (False, later, 1)


def test_closing_a_connection_that_is_not_there_changes_nothing() -> None:
    presence = AgentPresence.new("org-1", "a1").connect(seen("c1"))
    assert presence.disconnect("c9", now=NOW, stale_before=NOW - STALE_AFTER) is presence
    never = AgentPresence.new("org-1", "a1")
    assert never.disconnect("c1", now=NOW, stale_before=NOW - STALE_AFTER) is never


def test_coming_back_ends_the_absence_and_a_present_agent_has_no_grace_timer() -> None:
    gone = AgentPresence.new("org-1", "a1").connect(seen("c1")).sweep(stale_before=NOW + GRACE)
    back = gone.connect(seen("c2", NOW + GRACE))
    assert (back.connected, back.gone_at, back.absences) == (True, None, 1)
    with pytest.raises(ValueError, match="absence"):
        back.grace_timer(GRACE)


def test_being_acted_on_only_moves_the_version() -> None:
    gone = AgentPresence.new("org-1", "a1").connect(seen("c1")).sweep(stale_before=NOW + GRACE)
    assert gone.acted_on() == AgentPresence(
        org_id="org-1",
        agent_id="a1",
        gone_at=NOW,
        absences=1,
        version=gone.version + 1,
    )


def test_becoming_available_without_a_connection_starts_an_absence_then() -> None:
    never = AgentPresence.new("org-1", "a1")

    unattended = never.unattended(NOW)

    assert (unattended.gone_at, unattended.absences, unattended.version) == (NOW, 1, 1)
    assert unattended.went_away_from(never)
    assert unattended.grace_timer(GRACE).due_at == NOW + GRACE


def test_becoming_available_again_while_still_away_restarts_the_grace() -> None:
    gone = AgentPresence.new("org-1", "a1").connect(seen("c1")).sweep(stale_before=NOW + GRACE)
    later = NOW + timedelta(minutes=5)

    again = gone.unattended(later)

    assert (again.gone_at, again.absences) == (later, gone.absences + 1)
    assert again.grace_timer(GRACE).id != gone.grace_timer(GRACE).id  # the old one does nothing


def test_becoming_available_with_a_connection_open_changes_nothing() -> None:
    present = AgentPresence.new("org-1", "a1").connect(seen("c1"))
    assert present.unattended(NOW) is present


Step = tuple[str, int, int]  # (what, connection number, seconds later)
steps = st.lists(
    st.tuples(
        st.sampled_from(["connect", "disconnect", "sweep", "unattended"]),
        st.integers(0, 3),
        st.integers(0, 40),
    ),
    max_size=30,
)


@given(steps)
def test_any_sequence_counts_each_absence_once_and_dates_it(sequence: list[Step]) -> None:
    presence, now = AgentPresence.new("org-1", "a1"), NOW
    for what, number, seconds in sequence:
        now += timedelta(seconds=seconds)
        before, connection_id = presence, f"c{number}"
        if what == "connect":
            presence = presence.connect(seen(connection_id, now))
        elif what == "disconnect":
            presence = presence.disconnect(connection_id, now=now, stale_before=now - STALE_AFTER)
        elif what == "sweep":
            presence = presence.sweep(stale_before=now - STALE_AFTER)
        else:
            presence = presence.unattended(now)

        went_away = not presence.connected and (before.connected or what == "unattended")
        assert presence.absences == before.absences + went_away
        assert presence.went_away_from(before) is went_away
        assert (presence.gone_at is None) is (presence.connected or presence.absences == 0)
        assert presence.gone_at is None or presence.gone_at <= now
        assert presence.version == before.version + (presence != before)
        assert len({c.id for c in presence.connections}) == len(presence.connections)
