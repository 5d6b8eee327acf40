"""Domain events: past-tense facts, each naming who caused it and the streams it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domain.identity import Actor
from domain.streams import StreamKey

_EVENT_TYPES: dict[str, type[DomainEvent]] = {}


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    org_id: str
    occurred_at: datetime
    actor: Actor

    type_name: ClassVar[str] = "DomainEvent"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = cls.__name__
        _EVENT_TYPES[cls.__name__] = cls

    def streams(self) -> tuple[StreamKey, ...]:
        raise NotImplementedError


def event_type(name: str) -> type[DomainEvent]:
    """The event class stored under ``name``; raises ``KeyError`` for an unknown one."""
    return _EVENT_TYPES[name]


@dataclass(frozen=True)
class StoredEvent:
    """An event as one stream saw it: its position in that stream and the event itself."""

    event_id: str
    stream: StreamKey
    seq: int
    event: DomainEvent


@dataclass(frozen=True)
class ResyncRequired:
    """The subscriber's cursor is older than what the server retains: it must re-read a snapshot.
    ``head_seq`` is where the live stream continues from."""

    stream: StreamKey
    head_seq: int
