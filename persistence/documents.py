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


class TimerDocument(Document):
    """A durable timer. ``lease_until`` is the earliest instant a scheduler may claim it: ``due_at``
    when scheduled, pushed forward while an instance holds it (``owner``) or backs off after a
    failed firing (``attempts``). So it is never before ``due_at``, and the smallest one says when
    the next timer can fire."""

    id: str  # type: ignore[assignment]  # deterministic from (kind, target, version)
    org_id: str
    kind: str
    target_id: str
    due_at: datetime
    expected_version: int | None
    payload: dict[str, str]
    lease_until: datetime
    owner: str | None = None
    attempts: int = 0

    class Settings:
        name = "timers"
        indexes = [
            IndexModel([("due_at", ASCENDING)], name="due_at"),
            IndexModel([("lease_until", ASCENDING)], name="lease_until"),
        ]


class AgentSessionDocument(Document):
    """One agent's session (``_id`` is ``<org>/<agent>``: agent ids are unique per organization
    only); ``data`` is the encoded domain session, the other fields are copies that queries filter
    and sort on."""

    id: str  # type: ignore[assignment]
    org_id: str
    agent_id: str
    logged_in: bool
    state: str | None
    team_id: str | None
    state_since: datetime
    name_key: str
    accepts_offers: bool
    active_task_count: int
    pending_offer_count: int
    # Active tasks per channel, e.g. {"CHAT": 2}.
    load: dict[str, int]
    # The channels routing may offer on now (AVAILABLE, below capacity, voice rules kept).
    open_channels: list[str]
    ready_since: datetime | None
    version: int
    data: dict[str, Any]

    class Settings:
        name = "agent_sessions"
        indexes = [
            # Routing: who can take a task of this channel, longest available first — in the
            # index's order, so a pass reads its few candidates, not every agent of the team.
            IndexModel(
                [
                    ("org_id", ASCENDING),
                    ("open_channels", ASCENDING),
                    ("team_id", ASCENDING),
                    ("ready_since", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="routing_order",
            ),
            # Queue snapshots: agents of the organization by team and state.
            IndexModel(
                [("org_id", ASCENDING), ("team_id", ASCENDING), ("state", ASCENDING)],
                name="by_team",
            ),
            # Who is logged in, by name: the transfer and consult dialog.
            IndexModel(
                [
                    ("org_id", ASCENDING),
                    ("logged_in", ASCENDING),
                    ("name_key", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="listing",
            ),
        ]


class PresenceDocument(Document):
    """One agent's desktop connections (``_id`` is ``<org>/<agent>``), the encoded domain
    ``AgentPresence`` field for field: ``connections`` is a list of ``{id, instance, last_seen}``
    whose ``last_seen`` each instance's heartbeat refreshes in place."""

    id: str  # type: ignore[assignment]
    org_id: str
    agent_id: str
    connections: list[dict[str, Any]]
    gone_at: datetime | None
    absences: int
    version: int

    class Settings:
        name = "presence"
        indexes = [
            # The heartbeat finds its own connections; the sweep the stale ones.
            IndexModel([("connections.id", ASCENDING)], name="connection"),
            IndexModel([("connections.last_seen", ASCENDING)], name="last_seen"),
        ]


from persistence.callbacks import CallbackDocument  # noqa: E402
from persistence.conversations import ConversationDocument  # noqa: E402
from persistence.messages import MessageDocument  # noqa: E402
from persistence.task_documents import OfferDocument, TaskDocument  # noqa: E402

DOCUMENT_MODELS: list[type[Document]] = [
    ConfigurationDocument,
    ConfigurationLockDocument,
    PoliciesDocument,
    EventDocument,
    StreamHeadDocument,
    IdempotencyDocument,
    TimerDocument,
    AgentSessionDocument,
    TaskDocument,
    OfferDocument,
    PresenceDocument,
    CallbackDocument,
    MessageDocument,
    ConversationDocument,
]
