"""A contact session as the desktop shows it: its interactions, each with its status and
disposition, and whether the session is complete (SPEC §8, §11; seed 003).

A session is not complete until every interaction in it has ended and been wrapped up: a task is
``CLOSED`` only when nobody owes a wrap-up for it any more, so "every interaction ``CLOSED`` (or
``ABANDONED``: nobody handled it)" is exactly that rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.conversations.conversation import ENDED_STATUSES
from domain.tasks.task import Task


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class ContactSession:
    session_id: str
    # Oldest first: the contact that started the session, then each elevation.
    interactions: tuple[Task, ...]

    @classmethod
    def of(cls, session_id: str, tasks: Sequence[Task]) -> ContactSession:
        return cls(session_id, tuple(sorted(tasks, key=lambda t: (t.created_at, t.task_id))))

    @property
    def status(self) -> SessionStatus:
        done = all(task.status in ENDED_STATUSES for task in self.interactions)
        return SessionStatus.COMPLETE if done else SessionStatus.ACTIVE

    @property
    def completed_at(self) -> datetime | None:
        if self.status is not SessionStatus.COMPLETE:
            return None
        return max((t.ended_at for t in self.interactions if t.ended_at), default=None)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(task.channel.value for task in self.interactions))


def disposition(task: Task) -> tuple[str, ...]:
    """The wrap-up codes given for the interaction, in the order they were submitted."""
    return tuple(code for wrap_up in task.wrap_ups for code in wrap_up.code_ids)


def awaiting_disposition(task: Task) -> bool:
    return any(p.wrap_up_due for p in task.participants)
