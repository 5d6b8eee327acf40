"""Events of contact sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.events import DomainEvent
from domain.streams import StreamKey, task_stream


@dataclass(frozen=True, kw_only=True)
class ContactSessionCompleted(DomainEvent):
    """Every interaction of the session has ended and been wrapped up (SPEC §11). Told on the
    stream of each interaction, so whoever follows any of them hears it."""

    session_id: str
    task_ids: tuple[str, ...]
    completed_at: datetime

    def streams(self) -> tuple[StreamKey, ...]:
        return tuple(task_stream(self.org_id, task_id) for task_id in self.task_ids)
