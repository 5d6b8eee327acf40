"""Events of callbacks, in the organization's callbacks stream; a callback that became a task also
in that task's stream (its timeline starts with why it exists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.callbacks.details import CallbackType
from domain.events import DomainEvent
from domain.streams import StreamKey, callbacks_stream, task_stream


@dataclass(frozen=True, kw_only=True)
class CallbackEvent(DomainEvent):
    callback_id: str
    callback_type: CallbackType
    version: int

    def streams(self) -> tuple[StreamKey, ...]:
        return (callbacks_stream(self.org_id),)


@dataclass(frozen=True, kw_only=True)
class CallbackScheduled(CallbackEvent):
    queue_id: str
    starts_at: datetime
    assignee_id: str | None


@dataclass(frozen=True, kw_only=True)
class CallbackUpdated(CallbackEvent):
    queue_id: str
    starts_at: datetime
    assignee_id: str | None


@dataclass(frozen=True, kw_only=True)
class CallbackDeleted(CallbackEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CallbackDispatchDeferred(CallbackEvent):
    """The window opened but the task could not be made yet; it is tried again at ``retry_at``.
    ``reason`` is the reason code (``CONCURRENT_CALL_LIMIT``, ``NO_ENTRY_POINT``)."""

    reason: str
    retry_at: datetime


@dataclass(frozen=True, kw_only=True)
class CallbackDispatched(CallbackEvent):
    """A callback task exists: a scheduled one's window opened, or a connector asked for a
    courtesy or web callback (``callback_id`` is then the task's id)."""

    task_id: str
    queue_id: str

    def streams(self) -> tuple[StreamKey, ...]:
        return (callbacks_stream(self.org_id), task_stream(self.org_id, self.task_id))


@dataclass(frozen=True, kw_only=True)
class CallbackRequested(CallbackEvent):
    """A connector asked for a courtesy callback (the waiting task became one, keeping its place)
    or a web callback (a new task); ``callback_id`` is the task's id."""

    task_id: str
    queue_id: str

    def streams(self) -> tuple[StreamKey, ...]:
        return (callbacks_stream(self.org_id), task_stream(self.org_id, self.task_id))
