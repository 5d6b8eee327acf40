"""The vocabulary of agent sessions: states, why a state changed, next states, per-channel load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels import Channel
from domain.configuration.agents import Skill
from domain.configuration.profiles import ChannelCapacity, VoiceMode
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
    # An admin deactivated the agent: the system takes back its offers and logs it out.
    AGENT_DEACTIVATED = "AGENT_DEACTIVATED"


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
    """Active tasks and offers awaiting an answer on one channel; both count against capacity."""

    channel: Channel
    tasks: int
    offers: int = 0

    @property
    def total(self) -> int:
        return self.tasks + self.offers


@dataclass(frozen=True, kw_only=True)
class RoutingProfile:
    """What routing needs of the agent, copied at log-in from the agent and its multimedia
    profile: a change to either applies from the next log-in (as in Webex Contact Center), and
    routing never reads configuration per candidate."""

    skills: tuple[Skill, ...] = ()
    capacities: tuple[ChannelCapacity, ...] = ()
    voice_mode: VoiceMode = VoiceMode.BLENDED

    def capacity(self, channel: Channel) -> int:
        return next((c.max_concurrent for c in self.capacities if c.channel is channel), 0)

    def skill_level(self, name: str) -> int:
        """Names match ignoring case, as the configuration keeps them unique (``Agent``)."""
        wanted = name.casefold()
        return next((skill.level for skill in self.skills if skill.name.casefold() == wanted), 0)
