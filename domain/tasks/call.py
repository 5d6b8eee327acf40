"""Voice call control as pure moves on a task (SPEC §5, §6; seed 002).

Each move takes the task and the instant and returns the next task, or raises: ``InvalidState``
naming where the call stands, ``Rejected`` with ``CALL_ON_HOLD`` / ``CONFERENCE_FULL``. Who may
make a move is decided by ``participants.ALLOWED`` in the use case; what the call allows is decided
here. After anyone leaves, ``_settled`` applies the rules of seed 002's table: the customer gone
with agents remaining is ``POST_CALL``; one party left, or neither customer nor primary agent, ends
the call; the primary agent then owes a wrap-up.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.errors import ErrorCode, InvalidState, Rejected
from domain.tasks.consults import Consult, Destination, DestinationKind
from domain.tasks.participants import (
    CONFERENCE_LIMIT,
    Participant,
    ParticipantRole,
    counts_toward_conference,
)
from domain.tasks.status import CALL_STATUSES, TaskStatus
from domain.tasks.task import Task
from domain.tasks.wrap_up import WrapUp


class CallParty(StrEnum):
    """Whom hold and resume act on: the customer or the consulted party."""

    CUSTOMER = "CUSTOMER"
    CONSULT = "CONSULT"


# --- hold and resume -----------------------------------------------------------------------------


def hold(task: Task, party: CallParty, now: datetime) -> Task:
    target = _party(task, party)
    if target.held:
        raise InvalidState(f"the {party.value.lower()} is already on hold", current_state="HELD")
    return _with(task, now, target.with_held(True))


def resume(task: Task, party: CallParty, now: datetime) -> Task:
    """Taking one side off hold holds the other (seed 002): the agent talks to one at a time."""
    target = _party(task, party)
    if not target.held:
        raise InvalidState(f"the {party.value.lower()} is not on hold", current_state=task.status)
    other = _consulted(task) if party is CallParty.CUSTOMER else task.customer_party
    changed = [target.with_held(False)]
    if other is not None and task.conference_since is None:
        changed.append(other.with_held(True))
    return _with(task, now, *changed)


def _party(task: Task, party: CallParty) -> Participant:
    _require_call(task)
    target = task.customer_party if party is CallParty.CUSTOMER else _consulted(task)
    if target is None:
        what = "customer has left" if party is CallParty.CUSTOMER else "no consult is connected"
        raise InvalidState(f"cannot do that: the {what}", current_state=task.status)
    return target


# --- consult and conference ----------------------------------------------------------------------


def request_consult(
    task: Task, destination: Destination, now: datetime, *, request_task_id: str | None = None
) -> Task:
    """The customer is held while the primary agent consults; a dial number joins at once."""
    require_consult_possible(task)
    customer = task.customer_party
    held = [customer.with_held(True)] if customer is not None else []
    consulting = task.changed(
        consult=Consult(destination=destination, requested_at=now, request_task_id=request_task_id)
    )
    consulting = _with(consulting, now, *held)
    if destination.kind is DestinationKind.DIAL_NUMBER and request_task_id is None:
        return consult_answered(consulting, now, address=destination.address, name=destination.name)
    return consulting


def require_consult_possible(task: Task) -> None:
    """Whether the call can take a consult at all, whatever its destination: checked before the
    destination, so that a call already consulting says so rather than that its own consulted
    agent is busy."""
    _require_can_add(task)
    if task.consult is not None:
        raise InvalidState("a consult is already in progress", current_state="CONSULT")


def consult_answered(
    task: Task,
    now: datetime,
    *,
    agent_id: str | None = None,
    name: str | None = None,
    address: str | None = None,
) -> Task:
    consult = _pending_consult(task)
    role = ParticipantRole.CONSULTED_AGENT if agent_id else ParticipantRole.DIAL_NUMBER
    party = _new_party(task, role, now, agent_id=agent_id, name=name, address=address)
    return task.changed(
        participants=(*task.participants, party),
        consult=consult.answered(party.participant_id, now),
    )


def consult_failed(task: Task, now: datetime) -> Task:
    """The consult request was declined, missed or withdrawn: back to the held customer."""
    _pending_consult(task)
    return _without_consult(task, now)


def end_consult(task: Task, now: datetime) -> Task:
    """The primary agent ends the consult (the consulted party leaves), or the consulted agent
    exits it; the customer stays on hold until resumed."""
    if task.consult is None:
        raise InvalidState("no consult is in progress", current_state=task.status)
    consulted = _consulted(task)
    ended = _without_consult(task, now)
    if consulted is not None:
        ended = _with(ended, now, consulted.left(now))
    return _settled(ended, now)


def start_conference(task: Task, now: datetime) -> Task:
    """Everyone talks together: the consulted party becomes a conference party, nobody is held."""
    _require_call(task)
    if task.status is TaskStatus.POST_CALL:
        raise InvalidState("no conference once the customer has left", current_state=task.status)
    consulted = _consulted(task)
    if consulted is None:
        # Still ringing: the call is in a consult; no consult at all: it is as its status says.
        where = "CONSULT" if task.consult is not None else task.status
        raise InvalidState("a conference starts from a connected consult", current_state=where)
    role = ParticipantRole.CONFERENCE_AGENT if consulted.agent_id else consulted.role
    joined = _without_consult(task, now).changed(conference_since=task.conference_since or now)
    talking = [p.with_held(False) for p in _talking_parties(joined) if p.held]
    return _with(joined, now, *talking, consulted.with_role(role).with_held(False))


def exit_conference(task: Task, agent_id: str, now: datetime) -> Task:
    """A conference agent just leaves. The primary agent leaving passes control to the agent
    present the longest (seed 002) and owes a wrap-up for their part."""
    leaving = task.present_agent(agent_id)
    if task.conference_since is None or leaving is None:
        raise InvalidState("no conference is in progress", current_state=task.status)
    if leaving.role is not ParticipantRole.PRIMARY_AGENT:
        return _settled(_with(task, now, leaving.left(now)), now)
    successor = min(
        (p for p in task.present if p.role is ParticipantRole.CONFERENCE_AGENT),
        key=lambda p: p.joined_at,
        default=None,
    )
    if successor is None:
        raise InvalidState("no agent to pass control to: end the call", current_state=task.status)
    handed = task.changed(agent_id=successor.agent_id)
    handed = _with(
        handed, now, leaving.left(now, wrap_up_due=True), successor.with_role(leaving.role)
    )
    return _settled(handed, now)


# --- transfer -----------------------------------------------------------------------------------


def transfer_to_consulted(task: Task, now: datetime) -> Task:
    """Warm transfer: the consulted agent takes over the call; a consulted dial number takes the
    customer out of the contact center."""
    _require_transferable(task, consult_allowed=True)
    consulted = _consulted(task)
    if consulted is None:
        # A consult still ringing is where the call stands; with none at all, its own status.
        state = "CONSULT" if task.consult is not None else task.status
        raise InvalidState("no consult is connected", current_state=state)
    if consulted.agent_id is None:
        return call_ended(_without_consult(task, now), now)
    primary = _primary(task)
    handed = _without_consult(task, now).changed(agent_id=consulted.agent_id)
    talking = [p.with_held(False) for p in _talking_parties(handed) if p.held]
    return _with(
        handed,
        now,
        *talking,
        primary.left(now, wrap_up_due=True),
        consulted.with_role(ParticipantRole.PRIMARY_AGENT).with_held(False),
    )


def transferred_to_queue(
    task: Task,
    now: datetime,
    *,
    queue_id: str,
    queue_priority: int,
    required_skills: tuple[tuple[str, int], ...],
    entry_point_id: str | None = None,
) -> Task:
    """To a queue or an entry point's queue (and, for a blind transfer to an agent, the agent's
    offer is made from there): the primary agent leaves to wrap up, the customer waits anew."""
    _require_transferable(task, consult_allowed=False)
    primary = _primary(task)
    customer = task.customer_party
    changed = [primary.left(now, wrap_up_due=True)]
    changed += [p.left(now) for p in task.present if p.role is ParticipantRole.SUPERVISOR]
    if customer is not None and customer.held:
        changed.append(customer.with_held(False))
    leaving = _with(task, now, *changed)
    return leaving.changed(
        status=TaskStatus.QUEUED,
        status_since=now,
        queue_id=queue_id,
        queue_priority=queue_priority,
        required_skills=required_skills,
        entry_point_id=entry_point_id or task.entry_point_id,
        queued_at=now,
        offer_id=None,
        agent_id=None,
        passed_by=(),
    )


def transferred_out(task: Task, destination: Destination, now: datetime) -> Task:
    """Blind transfer to a dial number: the customer leaves the contact center with the call."""
    _require_transferable(task, consult_allowed=False)
    party = _new_party(
        task, ParticipantRole.DIAL_NUMBER, now, address=destination.address, name=destination.name
    )
    return call_ended(task.changed(participants=(*task.participants, party)), now)


# --- leaving and ending -------------------------------------------------------------------------


def customer_left(task: Task, now: datetime) -> Task:
    customer = task.customer_party
    if customer is None or task.status not in CALL_STATUSES:
        raise InvalidState("the customer is not on the call", current_state=task.status)
    gone = _with(task, now, customer.left(now))
    if gone.consult is not None and not gone.consult.connected:
        gone = _without_consult(gone, now)  # no one may be added after the customer left
    return _settled(gone, now)


def end_call(task: Task, now: datetime) -> Task:
    _require_call(task)
    if task.status is TaskStatus.HELD:
        raise Rejected(ErrorCode.CALL_ON_HOLD, "a call on hold cannot be ended: resume it first")
    return call_ended(task, now)


def call_ended(task: Task, now: datetime) -> Task:
    """Everyone leaves; the primary agent owes a wrap-up (the task closes when nobody does)."""
    leaving = [
        p.left(now, wrap_up_due=p.role is ParticipantRole.PRIMARY_AGENT) for p in task.present
    ]
    ended = _without_consult(task, now) if task.consult is not None else task
    ended = _with(ended, now, *leaving).changed(
        conference_since=None, call_ended_at=now, recording=task.recording.stopped()
    )
    return _closed_if_done(ended, now, TaskStatus.WRAP_UP)


def wrapped_up(task: Task, agent_id: str, now: datetime, wrap_up: WrapUp) -> Task:
    """The agent's part is wrapped up; once the call is over and nobody owes one, it closes."""
    owing = task.wrap_up_owed_by(agent_id)
    if owing is None:
        raise InvalidState("no wrap-up is due from this agent", current_state=task.status)
    done = _with(task, now, owing.wrapped_up()).changed(wrap_ups=(*task.wrap_ups, wrap_up))
    if done.status is TaskStatus.WRAP_UP:
        return _closed_if_done(done, now, TaskStatus.WRAP_UP)
    return done


# --- supervisor and recording -------------------------------------------------------------------


def monitoring_started(task: Task, supervisor_id: str, name: str | None, now: datetime) -> Task:
    _require_call(task)
    if task.status is TaskStatus.POST_CALL:
        raise InvalidState("no one joins once the customer has left", current_state=task.status)
    if task.present_supervisor(supervisor_id) is not None:
        raise InvalidState("already monitoring this call", current_state="MONITORING")
    party = _new_party(task, ParticipantRole.SUPERVISOR, now, agent_id=supervisor_id, name=name)
    return task.changed(participants=(*task.participants, party))


def monitoring_stopped(task: Task, supervisor_id: str, now: datetime) -> Task:
    watching = task.present_supervisor(supervisor_id)
    if watching is None:
        raise InvalidState("not monitoring this call", current_state=task.status)
    return _with(task, now, watching.left(now))


def recording_paused(task: Task, now: datetime, pause_seconds: int) -> Task:
    _require_recording_control(task)
    return task.changed(recording=task.recording.paused(now, pause_seconds))


def recording_resumed(task: Task, now: datetime) -> Task:
    _require_recording_control(task)
    return task.changed(recording=task.recording.resumed())


def _require_recording_control(task: Task) -> None:
    _require_call(task)
    if task.consult is not None:
        raise InvalidState(
            "recording cannot be paused or resumed during a consult", current_state="CONSULT"
        )
    if task.conference_since is not None:
        raise InvalidState(
            "recording cannot be paused or resumed in a conference", current_state="CONFERENCE"
        )


# --- helpers ------------------------------------------------------------------------------------


def _require_call(task: Task) -> None:
    if task.status not in CALL_STATUSES:
        raise InvalidState("the call is not in progress", current_state=task.status)


def _require_can_add(task: Task) -> None:
    _require_call(task)
    if task.status is TaskStatus.POST_CALL:
        raise InvalidState(
            "no one can be added once the customer has left", current_state=task.status
        )
    if sum(counts_toward_conference(p) for p in task.participants) >= CONFERENCE_LIMIT:
        raise Rejected(
            ErrorCode.CONFERENCE_FULL, f"a call has at most {CONFERENCE_LIMIT} participants"
        )


def _require_transferable(task: Task, *, consult_allowed: bool) -> None:
    _require_call(task)
    if task.status is TaskStatus.POST_CALL:
        raise InvalidState("the customer has left: nothing to transfer", current_state=task.status)
    if task.conference_since is not None:
        raise InvalidState("exit the conference to pass the call on", current_state="CONFERENCE")
    if task.consult is not None and not consult_allowed:
        raise InvalidState(
            "a consult is in progress: transfer to the consulted party or end the consult",
            current_state="CONSULT",
        )


def _primary(task: Task) -> Participant:
    primary = next((p for p in task.present if p.role is ParticipantRole.PRIMARY_AGENT), None)
    if primary is None:
        raise InvalidState("the primary agent has left the call", current_state=task.status)
    return primary


def _consulted(task: Task) -> Participant | None:
    if task.consult is None or task.consult.participant_id is None:
        return None
    party = task.participant(task.consult.participant_id)
    return party if party is not None and party.present else None


def _pending_consult(task: Task) -> Consult:
    if task.consult is None or task.consult.connected:
        raise InvalidState("no consult request is pending", current_state=task.status)
    return task.consult


def _talking_parties(task: Task) -> list[Participant]:
    """The parties the primary agent talks with: the customer and, in a conference, the others."""
    return [
        p
        for p in task.present
        if p.role
        in (ParticipantRole.CUSTOMER, ParticipantRole.CONFERENCE_AGENT, ParticipantRole.DIAL_NUMBER)
    ]


def _without_consult(task: Task, now: datetime) -> Task:
    assert task.consult is not None
    return task.changed(
        consult=None, durations=task.durations.with_consult(now - task.consult.requested_at)
    )


def _new_party(
    task: Task,
    role: ParticipantRole,
    now: datetime,
    *,
    agent_id: str | None = None,
    name: str | None = None,
    address: str | None = None,
) -> Participant:
    return Participant(
        participant_id=task.next_participant_id(),
        role=role,
        joined_at=now,
        agent_id=agent_id,
        name=name,
        address=address,
    )


def _with(task: Task, now: datetime, *updated: Participant) -> Task:
    """``task`` with ``updated`` in place of the entries of the same id, and the call's status
    following the customer: gone → ``POST_CALL``, held → ``HELD``."""
    by_id = {p.participant_id: p for p in updated}
    participants = tuple(by_id.get(p.participant_id, p) for p in task.participants)
    changed = task.changed(participants=participants)
    if changed.status not in CALL_STATUSES:
        return changed
    customer = changed.customer_party
    status = (
        TaskStatus.POST_CALL
        if customer is None
        else TaskStatus.HELD
        if customer.held
        else TaskStatus.CONNECTED
    )
    if status is changed.status:
        return changed
    return changed.changed(status=status, status_since=now)


def _settled(task: Task, now: datetime) -> Task:
    """After a departure: end the call if one party or neither customer nor primary is left,
    end the conference when nobody but the customer and the primary agent remains."""
    if task.status not in CALL_STATUSES:
        return task
    parties = [p for p in task.present if counts_toward_conference(p)]
    roles = {p.role for p in parties}
    if len(parties) <= 1 or not roles & {ParticipantRole.CUSTOMER, ParticipantRole.PRIMARY_AGENT}:
        return call_ended(task, now)
    others = roles - {ParticipantRole.CUSTOMER, ParticipantRole.PRIMARY_AGENT}
    if task.conference_since is not None and not others:
        return task.changed(conference_since=None)
    return task


def _closed_if_done(task: Task, now: datetime, status: TaskStatus) -> Task:
    owing = any(p.wrap_up_due for p in task.participants)
    if owing:
        if task.status is status:
            return task
        return task.changed(status=status, status_since=now)
    return task.changed(status=TaskStatus.CLOSED, status_since=now, ended_at=now)
