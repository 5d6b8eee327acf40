"""Who takes part in a call and what each may do (SPEC §5, seed 002's tables of the consult and
conference participants).

Participants are first-class data on the task: an entry is appended when a party joins and keeps
its joined/left times, so the task's history shows everyone who was ever on the call. An agent who
joins twice (transferred back, consulted again) gets a second entry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import Forbidden


class ParticipantRole(StrEnum):
    CUSTOMER = "CUSTOMER"
    PRIMARY_AGENT = "PRIMARY_AGENT"
    CONSULTED_AGENT = "CONSULTED_AGENT"
    CONFERENCE_AGENT = "CONFERENCE_AGENT"
    SUPERVISOR = "SUPERVISOR"
    DIAL_NUMBER = "DIAL_NUMBER"


class CallAction(StrEnum):
    HOLD = "HOLD"
    RESUME = "RESUME"
    CONSULT = "CONSULT"
    END_CONSULT = "END_CONSULT"
    EXIT_CONSULT = "EXIT_CONSULT"
    CONFERENCE = "CONFERENCE"
    EXIT_CONFERENCE = "EXIT_CONFERENCE"
    TRANSFER = "TRANSFER"
    PAUSE_RECORDING = "PAUSE_RECORDING"
    RESUME_RECORDING = "RESUME_RECORDING"
    EDIT_CAD = "EDIT_CAD"
    END = "END"
    WRAP_UP = "WRAP_UP"
    LEAVE = "LEAVE"
    STOP_MONITORING = "STOP_MONITORING"


_PRIMARY_ONLY = frozenset({ParticipantRole.PRIMARY_AGENT})
_AGENTS = frozenset(
    {
        ParticipantRole.PRIMARY_AGENT,
        ParticipantRole.CONSULTED_AGENT,
        ParticipantRole.CONFERENCE_AGENT,
    }
)

# The permission matrix. Dial-number parties have no call control at all; a supervisor only stops
# monitoring. Wrap-up is the primary agent's alone (the dialog is shown to the primary only).
ALLOWED: dict[CallAction, frozenset[ParticipantRole]] = {
    CallAction.HOLD: _PRIMARY_ONLY,
    CallAction.RESUME: _PRIMARY_ONLY,
    CallAction.CONSULT: _PRIMARY_ONLY,
    CallAction.END_CONSULT: _PRIMARY_ONLY,
    CallAction.EXIT_CONSULT: frozenset({ParticipantRole.CONSULTED_AGENT}),
    CallAction.CONFERENCE: _PRIMARY_ONLY,
    CallAction.EXIT_CONFERENCE: frozenset(
        {ParticipantRole.PRIMARY_AGENT, ParticipantRole.CONFERENCE_AGENT}
    ),
    CallAction.TRANSFER: _PRIMARY_ONLY,
    CallAction.PAUSE_RECORDING: _PRIMARY_ONLY,
    CallAction.RESUME_RECORDING: _PRIMARY_ONLY,
    CallAction.EDIT_CAD: _AGENTS,
    CallAction.END: _PRIMARY_ONLY,
    CallAction.WRAP_UP: _PRIMARY_ONLY,
    CallAction.LEAVE: frozenset({ParticipantRole.CUSTOMER}),
    CallAction.STOP_MONITORING: frozenset({ParticipantRole.SUPERVISOR}),
}

# A conference has at most eight parties, the customer and the primary agent included; a silently
# monitoring supervisor is not a party to the conversation and does not count.
CONFERENCE_LIMIT = 8


def permitted(role: ParticipantRole, action: CallAction) -> bool:
    return role in ALLOWED[action]


def require_permitted(role: ParticipantRole, action: CallAction) -> None:
    if not permitted(role, action):
        raise Forbidden(f"a {role.value} may not {action.value.lower().replace('_', ' ')}")


@dataclass(frozen=True, kw_only=True)
class Participant:
    participant_id: str
    role: ParticipantRole
    joined_at: datetime
    agent_id: str | None = None
    # A dial-number party's number, a customer's address; a display name where known.
    address: str | None = None
    name: str | None = None
    left_at: datetime | None = None
    held: bool = False
    # Whether this agent still owes a wrap-up for the part of the call they handled.
    wrap_up_due: bool = False

    @property
    def present(self) -> bool:
        return self.left_at is None

    @property
    def is_agent(self) -> bool:
        return self.role in _AGENTS

    def left(self, now: datetime, *, wrap_up_due: bool = False) -> Participant:
        return dataclasses.replace(self, left_at=now, held=False, wrap_up_due=wrap_up_due)

    def with_role(self, role: ParticipantRole) -> Participant:
        return dataclasses.replace(self, role=role)

    def with_held(self, held: bool) -> Participant:
        return dataclasses.replace(self, held=held)

    def wrapped_up(self) -> Participant:
        return dataclasses.replace(self, wrap_up_due=False)


def counts_toward_conference(participant: Participant) -> bool:
    return participant.present and participant.role is not ParticipantRole.SUPERVISOR
