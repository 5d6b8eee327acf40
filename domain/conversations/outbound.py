"""The rules of agent-initiated outbound SMS and email (SPEC §10; seeds 000, 001), as pure checks.

Checked in this order, so the reason code an agent sees names the first thing to fix: the agent
may start one at all (state, profile), there is an entry point to send from (``NO_ENTRY_POINT``),
there is room (``OUTBOUND_LIMIT_REACHED``, ``CAPACITY_EXCEEDED``), the pair has no active
conversation (``ACTIVE_CONVERSATION_EXISTS``), and an email has a subject new to this customer.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.agents.session import AgentSession
from domain.agents.states import LOGGED_OUT, AgentState
from domain.channels import Channel, Direction
from domain.configuration.entry_points import EntryPoint
from domain.errors import ErrorCode, InvalidState, Rejected, ValidationFailed
from domain.validation import Rules

# The seeds: "you can start an outbound conversation in the Available or RONA state".
STARTING_STATES = frozenset({AgentState.AVAILABLE, AgentState.RONA})
SUBJECT_MAX_LENGTH = 200
TEXT_MAX_LENGTH = {Channel.SMS: 1600, Channel.EMAIL: 100_000}


def check_may_start(session: AgentSession | None, *, any_state: bool = False) -> AgentSession:
    """A logged-in agent; ``AVAILABLE`` or ``RONA`` unless ``any_state`` (an elevation belongs to
    a contact already in hand, whatever the agent's state)."""
    if session is None or not session.logged_in:
        raise InvalidState("log in first", current_state=LOGGED_OUT)
    if not any_state and session.state not in STARTING_STATES:
        raise InvalidState(
            "outbound conversations start from AVAILABLE or RONA", current_state=session.status
        )
    return session


def max_outbound(session: AgentSession, channel: Channel) -> int:
    """From the profile copied at log-in, as routing's capacity is."""
    return next((c.max_outbound for c in session.routing.capacities if c.channel is channel), 0)


def check_room(session: AgentSession, channel: Channel, outbound_now: int) -> None:
    """Outbound tasks count against ``max_outbound`` and against the channel's capacity (an
    exclusive-voice profile does not stop them: the seeds allow starting one while on a call)."""
    limit = max_outbound(session, channel)
    if limit == 0:
        raise Rejected(
            ErrorCode.OUTBOUND_LIMIT_REACHED,
            f"your multimedia profile allows no outbound {channel.value} conversations",
        )
    if outbound_now >= limit:
        raise Rejected(
            ErrorCode.OUTBOUND_LIMIT_REACHED,
            f"you already have {outbound_now} outbound {channel.value} conversation(s), "
            f"the most your profile allows",
        )
    check_capacity(session, channel)


def check_capacity(session: AgentSession, channel: Channel) -> None:
    held = session.tasks_on(channel) + session.offers_on(channel)
    if held >= session.routing.capacity(channel):
        raise Rejected(
            ErrorCode.CAPACITY_EXCEEDED,
            f"no free {channel.value} capacity: {held} task(s) and offers in hand",
        )


def sending_entry_point(
    candidates: Sequence[EntryPoint], channel: Channel, entry_point_id: str | None
) -> EntryPoint:
    """The outbound entry point to send from: the one asked for, or (none named) the first active
    outbound one of the channel by name. None configured: ``NO_ENTRY_POINT``."""
    usable = sorted(
        (
            ep
            for ep in candidates
            if ep.active and ep.channel is channel and ep.direction is Direction.OUTBOUND
        ),
        key=lambda ep: (ep.name.casefold(), ep.id),
    )
    if entry_point_id is None:
        if not usable:
            raise Rejected(
                ErrorCode.NO_ENTRY_POINT,
                f"no active outbound {channel.value} entry point is configured",
            )
        return usable[0]
    chosen = next((ep for ep in usable if ep.id == entry_point_id), None)
    if chosen is None:
        raise ValidationFailed.single(
            "entryPointId",
            "reference",
            f"entryPointId must name an active outbound {channel.value} entry point",
        )
    return chosen


def check_content(
    channel: Channel, subject: str | None, text: str | None, html: str | None
) -> None:
    """An email needs a one-line subject (new conversations: see ``subject_key``); an SMS has no
    subject and no HTML."""
    rules = Rules()
    if channel is Channel.EMAIL:
        if subject is None or not subject.strip():
            rules.fail("subject", "required", "an email conversation needs a subject")
        else:
            rules.text("subject", subject, max_length=SUBJECT_MAX_LENGTH)
            if "\n" in subject or "\r" in subject:
                rules.fail("subject", "single_line", "a subject is one line")
    else:
        if subject is not None:
            rules.fail("subject", "forbidden", "an SMS has no subject")
        if html is not None:
            rules.fail("html", "forbidden", "an SMS has no HTML body")
    if text is not None:
        rules.optional_text("text", text, max_length=TEXT_MAX_LENGTH[channel])
    rules.check()


def subject_key(subject: str) -> str:
    """Subjects compare ignoring case and surrounding or repeated spaces."""
    return " ".join(subject.split()).casefold()


def check_subject_new(subject: str, used_before: bool) -> None:
    if used_before:
        raise ValidationFailed.single(
            "subject",
            "unique_per_customer",
            "this subject was already used with this customer: choose a new one",
        )


def check_pair_free(active_task_id: str | None) -> None:
    if active_task_id is not None:
        raise Rejected(
            ErrorCode.ACTIVE_CONVERSATION_EXISTS,
            f"a conversation with this customer from this entry point is active "
            f"(task {active_task_id})",
        )
