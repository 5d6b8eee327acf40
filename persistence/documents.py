"""Beanie documents: the storage shape of configuration, events, stream heads and idempotency records.

Documents never leave ``persistence``; repositories map them to and from domain objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class ConfigurationDocument(Document):
    """One configuration entity of any kind; ``data`` is the encoded domain entity."""

    id: str  # type: ignore[assignment]
    org_id: str
    kind: str
    name_key: str
    active: bool
    version: int
    # "field:value" pairs no two entities of one kind in an org may share; a unique multikey
    # index makes MongoDB the arbiter when two admins create the same name at once.
    unique_keys: list[str]
    # "KIND:id" of every entity this one needs to be active.
    refs: list[str]
    data: dict[str, Any]
    lock: int = 0

    class Settings:
        name = "configuration"
        indexes = [
            IndexModel(
                [("org_id", ASCENDING), ("kind", ASCENDING), ("unique_keys", ASCENDING)],
                unique=True,
                name="unique_keys_per_kind",
            ),
            IndexModel(
                [
                    ("org_id", ASCENDING),
                    ("kind", ASCENDING),
                    ("name_key", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="listing",
            ),
            IndexModel([("org_id", ASCENDING), ("refs", ASCENDING)], name="references"),
        ]


class ConfigurationLockDocument(Document):
    """A per-(org, kind) row that transactions write to serialize collection-wide rules."""

    id: str  # type: ignore[assignment]
    n: int = 0

    class Settings:
        name = "configuration_locks"


class PoliciesDocument(Document):
    id: str  # type: ignore[assignment]  # the organization id
    version: int
    refs: list[str]
    data: dict[str, Any]

    class Settings:
        name = "policies"
        indexes = [IndexModel([("refs", ASCENDING)], name="references")]


class EventDocument(Document):
    """One event as one stream holds it; an event in several streams is stored once per stream."""

    event_id: str
    stream: str
    seq: int
    org_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: dict[str, str]
    payload: dict[str, Any]

    class Settings:
        name = "events"
        indexes = [
            IndexModel([("stream", ASCENDING), ("seq", ASCENDING)], unique=True, name="stream_seq"),
        ]


class StreamHeadDocument(Document):
    """The last sequence number handed out in a stream; incremented inside the writing transaction."""

    id: str  # type: ignore[assignment]  # the stream key
    seq: int = 0

    class Settings:
        name = "stream_heads"


class IdempotencyDocument(Document):
    id: str  # type: ignore[assignment]  # hash of (org, principal, operation, key)
    fingerprint: str
    result: dict[str, Any]
    created_at: datetime = Field(...)

    class Settings:
        name = "idempotency"


DOCUMENT_MODELS: list[type[Document]] = [
    ConfigurationDocument,
    ConfigurationLockDocument,
    PoliciesDocument,
    EventDocument,
    StreamHeadDocument,
    IdempotencyDocument,
]
