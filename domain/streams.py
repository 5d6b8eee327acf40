"""Names of event streams. Every stream key is built here, never spelled inline.

Every key starts with the organization, so a subscription can only ever reach its own tenant's
events, whatever id a caller passes.
"""

from __future__ import annotations

from typing import NewType

StreamKey = NewType("StreamKey", str)


def _org(org_id: str, *parts: str) -> StreamKey:
    return StreamKey(":".join(("org", org_id, *parts)))


def agent_stream(org_id: str, agent_id: str) -> StreamKey:
    return _org(org_id, "agent", agent_id)


def offers_stream(org_id: str, agent_id: str) -> StreamKey:
    return _org(org_id, "offers", agent_id)


def cad_conflicts_stream(org_id: str, agent_id: str) -> StreamKey:
    return _org(org_id, "cad-conflicts", agent_id)


def task_stream(org_id: str, task_id: str) -> StreamKey:
    return _org(org_id, "task", task_id)


def configuration_stream(org_id: str) -> StreamKey:
    return _org(org_id, "configuration")


def rona_stream(org_id: str) -> StreamKey:
    return _org(org_id, "rona")


def queue_stats_stream(org_id: str) -> StreamKey:
    return _org(org_id, "queue-stats")


def activity_channel(org_id: str) -> StreamKey:
    """Not a stored stream: each instance's feed republishes every event of the organization here,
    for views recomputed on any change (queue statistics)."""
    return _org(org_id, "activity")


def callbacks_stream(org_id: str) -> StreamKey:
    """Callbacks scheduled, edited, deleted, requested and dispatched in the organization."""
    return _org(org_id, "callbacks")


def deliveries_stream(org_id: str, channel: str) -> StreamKey:
    return _org(org_id, "deliveries", channel)
