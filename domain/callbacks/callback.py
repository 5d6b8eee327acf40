"""A scheduled (or personal) callback: the agent's request to call a customer back in a window of
the customer's own time zone, kept until the window opens and the system makes the callback task.

A pure state machine like ``Task``: every change returns the next version. It may be edited or
deleted only while the window has not started (seed 002); once dispatched it is history.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.callbacks.details import CallbackType
from domain.errors import ErrorCode, Rejected


class CallbackStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its window (or, at the concurrent-call limit, to retry)
    DISPATCHED = "DISPATCHED"  # the callback task was created


@dataclass(frozen=True, kw_only=True)
class CallbackWindow:
    """When to call, as the agent entered it (local date and times, an IANA zone) and as instants.
    Both are kept: the local form is what the desktop shows back, the UTC form is what fires."""

    date: str  # YYYY-MM-DD, in ``time_zone``
    start: str  # HH:MM:SS, local
    end: str
    time_zone: str
    starts_at: datetime  # UTC
    ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class CallbackDraft:
    """The fields an agent sets (and may edit) on a scheduled callback, already validated."""

    customer_number: str
    customer_name: str
    customer_id: str | None
    window: CallbackWindow
    queue_id: str
    reason: str | None
    assignee_id: str | None  # personal callbacks only
    priority: int


@dataclass(frozen=True, kw_only=True)
class ScheduledCallback:
    callback_id: str
    org_id: str
    callback_type: CallbackType
    draft: CallbackDraft
    created_by: str
    created_at: datetime
    # The task the agent was on when scheduling it, if any (the flow's context).
    origin_task_id: str | None = None
    status: CallbackStatus = CallbackStatus.PENDING
    updated_at: datetime | None = None
    task_id: str | None = None
    dispatched_at: datetime | None = None
    # Dispatch attempts put off (the organization was at its concurrent-call limit), and why.
    deferrals: int = 0
    deferred_because: ErrorCode | None = None
    version: int = 1

    @property
    def starts_at(self) -> datetime:
        return self.draft.window.starts_at

    def started(self, now: datetime) -> bool:
        return self.status is CallbackStatus.DISPATCHED or now >= self.starts_at

    def require_editable(self, now: datetime) -> None:
        """Edits and deletes are refused from the window's start on (seed 002), also when the
        callback was already dispatched."""
        if self.started(now):
            raise Rejected(
                ErrorCode.CALLBACK_WINDOW_STARTED,
                f"the callback window started at {self.starts_at:%Y-%m-%dT%H:%M:%SZ}; "
                "it can no longer be changed or deleted",
            )

    def edited(self, draft: CallbackDraft, now: datetime) -> ScheduledCallback:
        self.require_editable(now)
        return self._next(draft=draft, updated_at=now)

    def dispatched(self, task_id: str, now: datetime) -> ScheduledCallback:
        return self._next(
            status=CallbackStatus.DISPATCHED, task_id=task_id, dispatched_at=now, updated_at=now
        )

    def deferred(self, because: ErrorCode, now: datetime) -> ScheduledCallback:
        return self._next(deferrals=self.deferrals + 1, deferred_because=because, updated_at=now)

    def _next(self, **changes: object) -> ScheduledCallback:
        return dataclasses.replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]
