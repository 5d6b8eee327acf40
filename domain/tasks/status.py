"""A task's lifecycle states (SPEC §4)."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    QUEUED = "QUEUED"
    OFFERED = "OFFERED"
    CONNECTED = "CONNECTED"
    HELD = "HELD"
    POST_CALL = "POST_CALL"
    WRAP_UP = "WRAP_UP"
    CLOSED = "CLOSED"
    ABANDONED = "ABANDONED"


# Work an agent holds: what counts against capacity and shows in the glance view.
ACTIVE_STATUSES = frozenset(
    {TaskStatus.CONNECTED, TaskStatus.HELD, TaskStatus.POST_CALL, TaskStatus.WRAP_UP}
)
# A call in progress: someone is on it.
CALL_STATUSES = frozenset({TaskStatus.CONNECTED, TaskStatus.HELD, TaskStatus.POST_CALL})
