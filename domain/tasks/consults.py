"""Consults: the primary agent asks another party onto the call (SPEC §6).

The destination is an agent, a queue, an entry point or a dial number. An agent, queue or entry
point is reached through a consult *request*: a task of kind ``CONSULT`` that routing offers like
any other, so consult offers get capacity checks, deadlines and RONA for free. An external dial
number joins at once (the telephony connector dials it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DestinationKind(StrEnum):
    AGENT = "AGENT"
    QUEUE = "QUEUE"
    ENTRY_POINT = "ENTRY_POINT"
    DIAL_NUMBER = "DIAL_NUMBER"


@dataclass(frozen=True, kw_only=True)
class Destination:
    kind: DestinationKind
    id: str
    name: str | None = None
    # The number dialled for a DIAL_NUMBER destination.
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConsultRequester:
    """The three default variables of a consult offer: who is asking (seed 002)."""

    agent_id: str
    agent_name: str
    dial_number: str | None
    team_name: str | None


@dataclass(frozen=True, kw_only=True)
class Consult:
    destination: Destination
    requested_at: datetime
    # The CONSULT task routing offers; None for a dial number, which joins at once.
    request_task_id: str | None = None
    participant_id: str | None = None
    connected_at: datetime | None = None

    @property
    def connected(self) -> bool:
        return self.connected_at is not None

    def answered(self, participant_id: str, now: datetime) -> Consult:
        return dataclasses.replace(self, participant_id=participant_id, connected_at=now)
