"""The vocabulary of agent sessions: states, why a state changed, next states, per-channel load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels import Channel
from domain.identity import Actor

# What ``InvalidState.current_state`` says for an agent who is not logged in.
LOGGED_OUT = "LOGGED_OUT"


class AgentState(StrEnum):
    """Only while logged in. Busy is no state: it is the load against the profile's capacity."""

    AVAILABLE = "AVAILABLE"
    IDLE = "IDLE"
    RONA = "RONA"


# RONA is the system's verdict on a missed offer; people leave it, they never ask for it.
REQUESTABLE_STATES = frozenset({AgentState.AVAILABLE, AgentState.IDLE})


class StateChangeReason(StrEnum):
    """Why a session changed; the event's actor says who (or what) made the change."""

    LOGIN = "LOGIN"
    AGENT_REQUEST = "AGENT_REQUEST"
    SUPERVISOR_REQUEST = "SUPERVISOR_REQUEST"
    RONA = "RONA"
    DISCONNECTED = "DISCONNECTED"
    NEXT_STATE_APPLIED = "NEXT_STATE_APPLIED"


class NextStateKind(StrEnum):
    IDLE = "IDLE"
    LOGOUT = "LOGOUT"


@dataclass(frozen=True, kw_only=True)
class NextState:
    """Asked for while work is in progress; applied when the last task (and offer) is gone."""

    kind: NextStateKind
    idle_code_id: str | None
    requested_by: Actor
    requested_at: datetime


@dataclass(frozen=True)
class ChannelLoad:
    """Active tasks of one channel (offers are counted apart, in ``pending_offer_count``)."""

    channel: Channel
    tasks: int
