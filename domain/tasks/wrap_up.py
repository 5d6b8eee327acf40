"""Wrap-up records (SPEC §8): which reasons an agent gave for the part of the task they handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.channels import Channel
from domain.errors import ValidationFailed, Violation
from domain.identity import Actor

# At most this many reasons on a digital task (voice takes exactly one).
MAX_REASONS = 10


@dataclass(frozen=True, kw_only=True)
class WrapUp:
    agent_id: str
    code_ids: tuple[str, ...]
    submitted_at: datetime
    by: Actor


def check_reason_count(channel: Channel, code_ids: tuple[str, ...]) -> None:
    """One reason for a call; one or more for digital work."""
    if channel is Channel.VOICE and len(code_ids) != 1:
        raise ValidationFailed(
            [
                Violation(
                    "wrapUpCodeIds", "exactly:1", "a call is wrapped up with exactly one reason"
                )
            ]
        )
    if not code_ids:
        raise ValidationFailed(
            [Violation("wrapUpCodeIds", "min_items:1", "give at least one wrap-up reason")]
        )
    if len(code_ids) > MAX_REASONS or len(set(code_ids)) != len(code_ids):
        raise ValidationFailed(
            [
                Violation(
                    "wrapUpCodeIds",
                    f"max_items:{MAX_REASONS}",
                    f"at most {MAX_REASONS} distinct wrap-up reasons",
                )
            ]
        )
