"""The elevation table of SPEC §11 (seed 003), for every pair of the seven channels."""

from __future__ import annotations

import pytest

from domain.channels import Channel
from domain.errors import ErrorCode, Rejected
from domain.sessions.elevation import check_elevation, may_elevate

C, E, V, S = Channel.CHAT, Channel.EMAIL, Channel.VOICE, Channel.SMS
# Seed 003's table, spelled out: current interaction -> what it may be raised to.
TABLE = {
    Channel.CHAT: {E, V, S},
    Channel.EMAIL: {V, S},
    Channel.VOICE: {E, S},
    Channel.WORK_ITEM: {E, V, S},
    Channel.VOICEMAIL: {E, V, S},
    Channel.SMS: {E, V},
    Channel.SOCIAL: set(),
}
PAIRS = [(source, target) for source in Channel for target in Channel]


def test_the_matrix_covers_all_49_pairs_and_allows_exactly_15() -> None:
    assert len(PAIRS) == 49
    assert sum(may_elevate(s, t) for s, t in PAIRS) == 15


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_each_pair_is_allowed_exactly_when_the_table_says(source: Channel, target: Channel) -> None:
    allowed = target in TABLE[source]
    assert may_elevate(source, target) is allowed
    if allowed:
        check_elevation(source, target)
        return
    with pytest.raises(Rejected) as refused:
        check_elevation(source, target)
    assert refused.value.code is ErrorCode.ELEVATION_NOT_ALLOWED
    assert source.value in refused.value.message


def test_nothing_is_elevated_to_its_own_channel() -> None:
    assert not any(may_elevate(channel, channel) for channel in Channel)
