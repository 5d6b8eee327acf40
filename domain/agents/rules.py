"""Rules of agent sessions that need no session: log-in and input checks, load arithmetic, and the
invariants every session keeps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from domain.agents.states import AgentState, ChannelLoad, StateChangeReason
from domain.channels import Channel
from domain.configuration.agents import Agent
from domain.errors import Forbidden, ValidationFailed

if TYPE_CHECKING:
    from domain.agents.session import AgentSession

# An extension or a number in E.164 style: ASCII digits, maybe after '+'.
_DIAL_NUMBER = re.compile(r"^\+?[0-9]{1,15}$")


def check_log_in(agent: Agent, team_id: str, dial_number: str | None) -> str | None:
    """Who may log in where: an active agent, to one of its teams. Returns the dial number to use
    (the agent's configured extension when none is given)."""
    if not agent.active:
        raise Forbidden("a deactivated agent cannot log in")
    if team_id not in agent.team_ids:
        raise ValidationFailed.single(
            "teamId", "agent_team", "the agent may log in only to one of its own teams"
        )
    if dial_number is None:
        return agent.extension
    dial_number = dial_number.strip()
    if not _DIAL_NUMBER.match(dial_number):
        raise ValidationFailed.single(
            "dialNumber", "dial_number", "dialNumber must be 1 to 15 digits, maybe after '+'"
        )
    return dial_number


def check_idle_code(state: AgentState, idle_code_id: str | None) -> None:
    if state is AgentState.IDLE and not idle_code_id:
        raise ValidationFailed.single("idleCodeId", "required", "IDLE needs an idle code")
    if state is not AgentState.IDLE and idle_code_id is not None:
        raise ValidationFailed.single(
            "idleCodeId", "only_when_idle", "an idle code goes only with the IDLE state"
        )


def with_load(
    load: Sequence[ChannelLoad], channel: Channel, tasks: int, offers: int
) -> tuple[ChannelLoad, ...]:
    """``load`` with ``tasks`` and ``offers`` on ``channel`` (an entry at zero disappears), in
    channel order."""
    others = [entry for entry in load if entry.channel is not channel]
    if tasks or offers:
        others.append(ChannelLoad(channel, tasks, offers))
    return tuple(sorted(others, key=lambda entry: entry.channel.value))


def broken_invariants(session: AgentSession) -> list[str]:
    """What is inconsistent in ``session``, described; empty when all holds."""
    broken = []
    logged_in = session.logged_in
    if logged_in != (session.state is not None) or logged_in != (session.team_id is not None):
        broken.append("logged in must go with a state and a team, logged out with neither")
    if session.idle_code_id is not None and session.state is not AgentState.IDLE:
        broken.append("an idle code goes only with IDLE")
    if (
        session.state is AgentState.IDLE
        and session.idle_code_id is None
        and session.state_reason is not StateChangeReason.DISCONNECTED
    ):
        broken.append("IDLE has an idle code unless the system set it for a lost connection")
    if not logged_in and (session.has_work or session.next_state is not None):
        broken.append("a logged-out agent has no work and no next state")
    if session.next_state is not None and not session.has_work:
        broken.append("a next state is pending only while work is in progress")
    if any(entry.tasks < 0 or entry.offers < 0 or entry.total == 0 for entry in session.load):
        broken.append("load entries are positive and never negative")
    if len({entry.channel for entry in session.load}) != len(session.load):
        broken.append("one load entry per channel")
    return broken
