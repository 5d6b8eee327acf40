"""An agent's session: logged in or out, its state, its pending next state, the load routing keeps.

A pure state machine. Every method returns a ``Transition`` — the next session (its ``version``
one higher) and the events saying what happened — or raises: ``InvalidState`` naming where the
agent stands for a move the state does not allow, ``ValidationFailed`` for input that could never
work. The session itself never changes.

Invariants (``domain.agents.rules.broken_invariants``): logged in ⇔ a state and a team; ``IDLE`` ⇔ an idle code;
logged out ⇒ no load, no offers, no next state; a next state is pending only while work is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from domain.agents.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNextStateChanged,
    AgentSessionEvent,
    AgentStateChanged,
)
from domain.agents.rules import check_idle_code, check_log_in, with_load
from domain.agents.states import (
    LOGGED_OUT,
    REQUESTABLE_STATES,
    AgentState,
    ChannelLoad,
    NextState,
    NextStateKind,
    RoutingProfile,
    StateChangeReason,
)
from domain.channels import Channel
from domain.configuration.agents import Agent
from domain.configuration.profiles import MultimediaProfile, VoiceMode
from domain.errors import InvalidState, ValidationFailed
from domain.identity import Actor, ActorKind


class _EventFields(TypedDict):
    org_id: str
    occurred_at: datetime
    actor: Actor
    agent_id: str
    reason: StateChangeReason
    version: int


@dataclass(frozen=True)
class Transition:
    session: AgentSession
    events: tuple[AgentSessionEvent, ...]


@dataclass(frozen=True, kw_only=True)
class AgentSession:
    agent_id: str
    org_id: str
    # The agent's name at the last log-in: lists of agents are ordered by it.
    agent_name: str = ""
    logged_in: bool = False
    logged_in_at: datetime | None = None
    team_id: str | None = None
    dial_number: str | None = None
    state: AgentState | None = None
    idle_code_id: str | None = None
    # Since when the agent is in this state (or logged out); the desktop shows the time in state.
    state_since: datetime
    state_reason: StateChangeReason | None = None
    state_changed_by: Actor | None = None
    next_state: NextState | None = None
    # Maintained by routing: active tasks and offers awaiting an answer, per channel.
    load: tuple[ChannelLoad, ...] = ()
    routing: RoutingProfile = dataclasses.field(default_factory=RoutingProfile)
    # Longest-available routing picks the oldest: when the agent became AVAILABLE or last got an
    # offer, whichever is later, so work spreads over the agents instead of piling on one.
    ready_since: datetime | None = None
    version: int = 0

    @classmethod
    def new(cls, org_id: str, agent_id: str, now: datetime) -> AgentSession:
        """The session of an agent who never logged in (nothing stored yet: version 0)."""
        return cls(agent_id=agent_id, org_id=org_id, state_since=now)

    # --- what the state says ----------------------------------------------------------------

    @property
    def status(self) -> str:
        """``LOGGED_OUT`` or the state: what ``InvalidState.current_state`` reports."""
        return self.state.value if self.logged_in and self.state else LOGGED_OUT

    @property
    def active_task_count(self) -> int:
        return sum(entry.tasks for entry in self.load)

    @property
    def pending_offer_count(self) -> int:
        return sum(entry.offers for entry in self.load)

    @property
    def has_work(self) -> bool:
        return self.active_task_count > 0 or self.pending_offer_count > 0

    @property
    def accepts_offers(self) -> bool:
        """Routing's first filter (capacity per channel comes on top): logged in, ``AVAILABLE``,
        and not on the way to a next state."""
        return self.logged_in and self.state is AgentState.AVAILABLE and self.next_state is None

    def tasks_on(self, channel: Channel) -> int:
        return self._load_on(channel).tasks

    def offers_on(self, channel: Channel) -> int:
        return self._load_on(channel).offers

    def free_capacity(self, channel: Channel) -> int:
        """How many more offers of ``channel`` the profile allows now, ignoring the state. An
        exclusive-voice agent takes no digital work while on (or offered) a call, and no call
        while holding digital work; a blended one may."""
        if self.routing.voice_mode is VoiceMode.EXCLUSIVE:
            on_voice = self._load_on(Channel.VOICE).total > 0
            on_digital = any(e.total for e in self.load if e.channel is not Channel.VOICE)
            if (channel is Channel.VOICE and on_digital) or (
                channel is not Channel.VOICE and on_voice
            ):
                return 0
        return max(0, self.routing.capacity(channel) - self._load_on(channel).total)

    def room_for_one_more(self, channel: Channel) -> bool:
        """+1 contact (MAX): free capacity on ``channel`` — or, for an agent on one call and
        nothing else, a digital channel of the profile even under exclusive voice."""
        if not self.accepts_offers:
            return False
        if self.free_capacity(channel) > 0:
            return True
        only_a_call = [(e.channel, e.tasks, e.offers) for e in self.load] == [(Channel.VOICE, 1, 0)]
        return only_a_call and channel is not Channel.VOICE and self.routing.capacity(channel) > 0

    @property
    def open_channels(self) -> tuple[Channel, ...]:
        """The channels routing may offer to this agent now (stored, so queries can filter)."""
        if not self.accepts_offers:
            return ()
        return tuple(c.channel for c in self.routing.capacities if self.free_capacity(c.channel))

    def _load_on(self, channel: Channel) -> ChannelLoad:
        return next((e for e in self.load if e.channel is channel), ChannelLoad(channel, 0))

    def seconds_in_state(self, now: datetime) -> int:
        return max(0, int((now - self.state_since).total_seconds()))

    # --- log in and out ---------------------------------------------------------------------

    def log_in(
        self,
        agent: Agent,
        profile: MultimediaProfile,
        *,
        team_id: str,
        dial_number: str | None,
        idle_code_id: str | None,
        now: datetime,
        by: Actor,
    ) -> Transition:
        """Start ``AVAILABLE``, or ``IDLE`` with ``idle_code_id``. The dial number defaults to the
        agent's configured extension."""
        if self.logged_in:
            raise InvalidState("the agent is already logged in", current_state=self.status)
        dial_number = check_log_in(agent, team_id, dial_number)
        state = AgentState.IDLE if idle_code_id is not None else AgentState.AVAILABLE
        session = self._next(
            agent_name=agent.name,
            logged_in=True,
            logged_in_at=now,
            team_id=team_id,
            dial_number=dial_number,
            next_state=None,
            routing=RoutingProfile(
                skills=agent.skills, capacities=profile.channels, voice_mode=profile.voice_mode
            ),
            **_state_fields(state, idle_code_id, StateChangeReason.LOGIN, now, by),
        )
        event = AgentLoggedIn(
            **session._event_fields(now, by, StateChangeReason.LOGIN),
            team_id=team_id,
            dial_number=dial_number,
            state=state,
            idle_code_id=idle_code_id,
        )
        return Transition(session, (event,))

    def log_out(self, *, now: datetime, by: Actor, reason: StateChangeReason) -> Transition:
        """Refused while a task is active or an offer is pending: ask for ``LOGOUT`` as the next
        state instead."""
        self._require_logged_in()
        if self.active_task_count:
            raise InvalidState(
                f"log-out is refused while {self.active_task_count} task(s) are active; set "
                "LOGOUT as the next state instead",
                current_state=self.status,
            )
        if self.pending_offer_count:
            raise InvalidState(
                "log-out is refused while an offer is pending; answer it first",
                current_state=self.status,
            )
        return self._logged_out(now=now, by=by, reason=reason)

    # --- states -----------------------------------------------------------------------------

    def set_state(
        self,
        state: AgentState,
        idle_code_id: str | None,
        *,
        now: datetime,
        by: Actor,
        reason: StateChangeReason,
    ) -> Transition:
        """``AVAILABLE`` or ``IDLE`` (with a code), at once. A pending next state stays pending:
        it is a separate request, withdrawn with ``cancel_next_state``."""
        self._require_logged_in()
        if state not in REQUESTABLE_STATES:
            raise ValidationFailed.single(
                "state", "requestable", f"{state} is set by the system, never on request"
            )
        check_idle_code(state, idle_code_id)
        return self._changed(state, idle_code_id, now=now, by=by, reason=reason)

    def went_rona(self, *, now: datetime, by: Actor) -> Transition:
        """An offer to the agent expired unanswered (routing calls this with the system actor)."""
        self._require_logged_in()
        if self.state is AgentState.RONA:
            raise InvalidState("the agent is already in RONA", current_state=self.status)
        return self._changed(AgentState.RONA, None, now=now, by=by, reason=StateChangeReason.RONA)

    def went_disconnected(self, *, now: datetime, by: Actor) -> Transition:
        """Every desktop connection of an AVAILABLE agent stayed gone past the grace period: no
        more offers. The agent is IDLE without a code, reason ``DISCONNECTED``, until they pick a
        state again; work in progress is left alone."""
        self._require_logged_in()
        if self.state is not AgentState.AVAILABLE:
            raise InvalidState(
                "only an AVAILABLE agent is made unavailable", current_state=self.status
            )
        return self._changed(
            AgentState.IDLE, None, now=now, by=by, reason=StateChangeReason.DISCONNECTED
        )

    def deactivated(self, *, now: datetime, by: Actor) -> Transition:
        """An admin deactivated the agent (``by``: the system acting on it). Without work the agent
        is logged out at once; with work in progress (the caller takes pending offers back first,
        so: active tasks) ``LOGOUT`` becomes the next state - no new offers meanwhile, applied when
        the last task ends - and, set by the system, it is not the agent's to withdraw."""
        self._require_logged_in()
        reason = StateChangeReason.AGENT_DEACTIVATED
        if not self.has_work:
            return self._logged_out(now=now, by=by, reason=reason)
        wanted = NextState(
            kind=NextStateKind.LOGOUT, idle_code_id=None, requested_by=by, requested_at=now
        )
        session = self._next(next_state=wanted)
        return Transition(session, (session._next_state_event(now, by, reason),))

    # --- next state -------------------------------------------------------------------------

    def set_next_state(
        self,
        kind: NextStateKind,
        idle_code_id: str | None,
        *,
        now: datetime,
        by: Actor,
        reason: StateChangeReason,
    ) -> Transition:
        """``IDLE`` (with a code) or ``LOGOUT`` once the work in progress is done; without work in
        progress it applies at once (reason ``NEXT_STATE_APPLIED``)."""
        self._require_logged_in()
        self._require_next_state_requestable()
        if kind is NextStateKind.IDLE:
            check_idle_code(AgentState.IDLE, idle_code_id)
        elif idle_code_id is not None:
            raise ValidationFailed.single(
                "idleCodeId", "only_when_idle", "an idle code goes only with the IDLE next state"
            )
        wanted = NextState(kind=kind, idle_code_id=idle_code_id, requested_by=by, requested_at=now)
        if not self.has_work:
            return self._apply(wanted, now=now, by=by, immediate=True)
        if self.next_state and (self.next_state.kind, self.next_state.idle_code_id) == (
            kind,
            idle_code_id,
        ):
            raise InvalidState(f"{kind} is already the next state", current_state=self.status)
        session = self._next(next_state=wanted)
        return Transition(session, (session._next_state_event(now, by, reason),))

    def cancel_next_state(
        self, *, now: datetime, by: Actor, reason: StateChangeReason
    ) -> Transition:
        self._require_logged_in()
        if self.next_state is None:
            raise InvalidState("no next state is pending", current_state=self.status)
        self._require_next_state_requestable()
        session = self._next(next_state=None)
        return Transition(session, (session._next_state_event(now, by, reason),))

    # --- load (routing) ---------------------------------------------------------------------

    def adjust_load(
        self,
        channel: Channel,
        *,
        tasks: int = 0,
        offers: int = 0,
        now: datetime,
        by: Actor,
    ) -> Transition:
        """Routing's one primitive: add or remove tasks and pending offers of ``channel`` (an
        accepted offer is ``tasks=+1, offers=-1`` in one call; a new offer also makes the agent the
        most recently served). When the last piece of work goes, a pending next state applies in the
        same transition."""
        if not (tasks or offers):
            raise ValueError("nothing to adjust")
        if (tasks > 0 or offers > 0) and not self.logged_in:
            raise InvalidState("a logged-out agent takes no work", current_state=self.status)
        current = self._load_on(channel)
        if current.tasks + tasks < 0 or current.offers + offers < 0:
            raise ValueError("the load cannot go below zero")
        load = with_load(self.load, channel, current.tasks + tasks, current.offers + offers)
        ready_since = now if offers > 0 else self.ready_since
        loaded = dataclasses.replace(self, load=load, ready_since=ready_since)
        if loaded.next_state is not None and not loaded.has_work:
            return loaded._apply(loaded.next_state, now=now, by=by, immediate=False)
        return Transition(loaded._next(), ())

    # --- helpers ----------------------------------------------------------------------------

    def _require_logged_in(self) -> None:
        if not self.logged_in:
            raise InvalidState("the agent is not logged in", current_state=LOGGED_OUT)

    def _require_next_state_requestable(self) -> None:
        """A next state the system set (the agent was deactivated) is neither withdrawn nor
        replaced on request: it is what keeps offers away until the agent is out."""
        if self.next_state is not None and self.next_state.requested_by.kind is ActorKind.SYSTEM:
            raise InvalidState(
                f"the system set {self.next_state.kind} as the next state; it cannot be changed",
                current_state=self.status,
            )

    def _next(self, **changes: Any) -> AgentSession:
        return dataclasses.replace(self, **changes, version=self.version + 1)

    def _event_fields(self, now: datetime, by: Actor, reason: StateChangeReason) -> _EventFields:
        return {
            "org_id": self.org_id,
            "occurred_at": now,
            "actor": by,
            "agent_id": self.agent_id,
            "reason": reason,
            "version": self.version,
        }

    def _changed(
        self,
        state: AgentState,
        idle_code_id: str | None,
        *,
        now: datetime,
        by: Actor,
        reason: StateChangeReason,
    ) -> Transition:
        if (state, idle_code_id) == (self.state, self.idle_code_id):
            detail = " with this idle code" if idle_code_id else ""
            raise InvalidState(f"the agent is already {state}{detail}", current_state=self.status)
        assert self.state is not None
        session = self._next(**_state_fields(state, idle_code_id, reason, now, by))
        event = AgentStateChanged(
            **session._event_fields(now, by, reason),
            from_state=self.state,
            to_state=state,
            from_idle_code_id=self.idle_code_id,
            idle_code_id=idle_code_id,
        )
        return Transition(session, (event,))

    def _logged_out(self, *, now: datetime, by: Actor, reason: StateChangeReason) -> Transition:
        assert self.state is not None
        assert self.team_id is not None
        session = self._next(
            logged_in=False,
            team_id=None,
            dial_number=None,
            next_state=None,
            **_state_fields(None, None, reason, now, by),
        )
        event = AgentLoggedOut(
            **session._event_fields(now, by, reason),
            team_id=self.team_id,
            from_state=self.state,
            from_idle_code_id=self.idle_code_id,
        )
        return Transition(session, (event,))

    def _apply(self, wanted: NextState, *, now: datetime, by: Actor, immediate: bool) -> Transition:
        """Apply a next state: at once (nothing pending) or as the last work went (pending one)."""
        reason = StateChangeReason.NEXT_STATE_APPLIED
        cleared = dataclasses.replace(self, next_state=None)
        if wanted.kind is NextStateKind.LOGOUT:
            return cleared._logged_out(now=now, by=by, reason=reason)
        if not immediate and (self.state, self.idle_code_id) == (
            AgentState.IDLE,
            wanted.idle_code_id,
        ):
            # Already where the next state leads (set meanwhile by hand): only the request goes.
            session = cleared._next()
            return Transition(session, (session._next_state_event(now, by, reason),))
        return cleared._changed(AgentState.IDLE, wanted.idle_code_id, now=now, by=by, reason=reason)

    def _next_state_event(
        self, now: datetime, by: Actor, reason: StateChangeReason
    ) -> AgentNextStateChanged:
        return AgentNextStateChanged(
            **self._event_fields(now, by, reason),
            next_state=self.next_state.kind if self.next_state else None,
            idle_code_id=self.next_state.idle_code_id if self.next_state else None,
        )


def _state_fields(
    state: AgentState | None,
    idle_code_id: str | None,
    reason: StateChangeReason,
    now: datetime,
    by: Actor,
) -> dict[str, Any]:
    return {
        "ready_since": now if state is AgentState.AVAILABLE else None,
        "state": state,
        "idle_code_id": idle_code_id,
        "state_since": now,
        "state_reason": reason,
        "state_changed_by": by,
    }
