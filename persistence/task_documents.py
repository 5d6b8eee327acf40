"""Documents of tasks and offers: the encoded domain object in ``data``, copies of the fields that
routing and the desktop's queries filter and sort on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, DESCENDING, IndexModel


class TaskDocument(Document):
    id: str  # type: ignore[assignment]  # <org>/<task>
    org_id: str
    task_id: str
    status: str
    channel: str
    queue_id: str
    queue_priority: int
    priority: int
    queued_at: datetime
    agent_id: str | None
    # Agents with a live part in the task (on the call, owing a wrap-up, being offered it).
    involved: list[str] = []
    customer_keys: list[str] = []
    ended_at: datetime | None = None
    session_id: str | None = None
    subject_key: str | None = None
    version: int
    data: dict[str, Any]

    class Settings:
        name = "tasks"
        indexes = [
            # Routing and queue snapshots: waiting tasks of some queues, in routing order.
            IndexModel(
                [
                    ("org_id", ASCENDING),
                    ("status", ASCENDING),
                    ("queue_id", ASCENDING),
                    ("queue_priority", ASCENDING),
                    ("priority", ASCENDING),
                    ("queued_at", ASCENDING),
                ],
                name="waiting",
            ),
            # The glance view: an agent's tasks by status.
            IndexModel(
                [("org_id", ASCENDING), ("agent_id", ASCENDING), ("status", ASCENDING)],
                name="by_agent",
            ),
            # The glance view: the tasks an agent takes part in, whatever their role.
            IndexModel([("org_id", ASCENDING), ("involved", ASCENDING)], name="by_involved"),
            # A customer's contact history, newest end first (persistence.conversations).
            IndexModel(
                [
                    ("org_id", ASCENDING),
                    ("customer_keys", ASCENDING),
                    ("ended_at", DESCENDING),
                    ("_id", DESCENDING),
                ],
                name="customer_history",
            ),
            # The interactions of one omnichannel contact session.
            IndexModel([("org_id", ASCENDING), ("session_id", ASCENDING)], name="by_session"),
        ]


class OfferDocument(Document):
    id: str  # type: ignore[assignment]  # <org>/<offer>
    org_id: str
    offer_id: str
    agent_id: str
    task_id: str
    pending: bool
    offered_at: datetime
    version: int
    data: dict[str, Any]

    class Settings:
        name = "offers"
        indexes = [
            # An agent's open offers, earliest first.
            IndexModel(
                [
                    ("org_id", ASCENDING),
                    ("agent_id", ASCENDING),
                    ("pending", ASCENDING),
                    ("offered_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="by_agent",
            ),
        ]
