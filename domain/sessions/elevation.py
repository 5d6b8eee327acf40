"""Which channel a contact may be raised to within its session (SPEC §11; seed 003's table)."""

from __future__ import annotations

from domain.channels import Channel
from domain.errors import ErrorCode, Rejected

ELEVATIONS: dict[Channel, frozenset[Channel]] = {
    Channel.CHAT: frozenset({Channel.EMAIL, Channel.VOICE, Channel.SMS}),
    Channel.EMAIL: frozenset({Channel.VOICE, Channel.SMS}),
    Channel.VOICE: frozenset({Channel.EMAIL, Channel.SMS}),
    Channel.WORK_ITEM: frozenset({Channel.EMAIL, Channel.VOICE, Channel.SMS}),
    Channel.VOICEMAIL: frozenset({Channel.EMAIL, Channel.VOICE, Channel.SMS}),
    Channel.SMS: frozenset({Channel.EMAIL, Channel.VOICE}),
}


def may_elevate(source: Channel, target: Channel) -> bool:
    return target in ELEVATIONS.get(source, frozenset())


def check_elevation(source: Channel, target: Channel) -> None:
    if not may_elevate(source, target):
        allowed = sorted(c.value for c in ELEVATIONS.get(source, frozenset()))
        raise Rejected(
            ErrorCode.ELEVATION_NOT_ALLOWED,
            f"a {source.value} contact cannot be elevated to {target.value}"
            + (f" (allowed: {', '.join(allowed)})" if allowed else " (it cannot be elevated)"),
        )
