"""Offers: a task put to one agent, until it is accepted, declined, missed or withdrawn (SPEC §3).

An offer carries what the contact-request popover shows, fixed when it is made: the agent decides
on what they saw. Every offer ends with a typed outcome and who or what ended it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.callbacks.details import CallbackType
from domain.channels import Channel
from domain.errors import ErrorCode, InvalidState, Rejected
from domain.identity import Actor
from domain.tasks.consults import ConsultRequester
from domain.tasks.task import TaskKind


class OfferOutcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    RONA = "RONA"
    WITHDRAWN = "WITHDRAWN"  # the customer abandoned
    SYSTEM = "SYSTEM"  # the system took it back (the agent was logged out, the task moved)


@dataclass(frozen=True)
class PopoverVariable:
    name: str
    label: str
    value: str


@dataclass(frozen=True, kw_only=True)
class OfferDetails:
    """The popover: what the agent sees before answering. Secure CAD variables never get here,
    and the customer's number is masked when the organization protects sensitive data."""

    customer_name: str | None
    customer_id: str | None
    customer_address: str | None
    queue_id: str
    queue_name: str
    entry_point_id: str
    entry_point_name: str
    dnis: str | None
    subject: str | None
    queued_at: datetime
    variables: tuple[PopoverVariable, ...] = ()
    # What is being offered: a customer's contact, or a colleague's consult request (labelled
    # as such, with the requester's name, DN and team: the consult popover's 3 defaults).
    kind: TaskKind = TaskKind.NORMAL
    consult_requester: ConsultRequester | None = None
    # A callback (labelled by ``kind``): which kind, the number the system will dial (masked like
    # the customer's), and the reason it was scheduled for.
    callback_type: CallbackType | None = None
    callback_number: str | None = None
    callback_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Offer:
    offer_id: str
    org_id: str
    task_id: str
    agent_id: str
    channel: Channel
    offered_at: datetime
    deadline: datetime
    details: OfferDetails
    outcome: OfferOutcome | None = None
    ended_at: datetime | None = None
    ended_by: Actor | None = None
    version: int = 1

    @property
    def pending(self) -> bool:
        return self.outcome is None

    @property
    def status(self) -> str:
        return "PENDING" if self.outcome is None else self.outcome.value

    def expired(self, now: datetime) -> bool:
        return now >= self.deadline

    def answered(self, outcome: OfferOutcome, *, now: datetime, by: Actor) -> Offer:
        """Accepted or declined by the agent: refused once the offer ended or its deadline passed
        (the RONA is on its way), with ``OFFER_EXPIRED``."""
        if self.outcome is OfferOutcome.ACCEPTED:
            raise InvalidState("the offer was already accepted", current_state=self.status)
        if not self.pending or self.expired(now):
            raise Rejected(
                ErrorCode.OFFER_EXPIRED, f"the offer is no longer open ({self._why(now)})"
            )
        return self._ended(outcome, now, by)

    def ended(self, outcome: OfferOutcome, *, now: datetime, by: Actor) -> Offer:
        """Ended by the system or the customer (RONA, withdrawn)."""
        if not self.pending:
            raise InvalidState("the offer has already ended", current_state=self.status)
        return self._ended(outcome, now, by)

    def _ended(self, outcome: OfferOutcome, now: datetime, by: Actor) -> Offer:
        return dataclasses.replace(
            self, outcome=outcome, ended_at=now, ended_by=by, version=self.version + 1
        )

    def _why(self, now: datetime) -> str:
        return (
            self.status.lower()
            if not self.pending
            else f"deadline passed at {self.deadline:%H:%M:%S}Z"
        )


def offer_id_for(task_id: str, attempt: int) -> str:
    """Deterministic: a retried reservation names the same offer, never a second one."""
    return f"{task_id}.{attempt}"


def deadline_for(now: datetime, timeout_seconds: int) -> datetime:
    return now + timedelta(seconds=timeout_seconds)


def masked(number: str | None) -> str | None:
    """Every digit but the last four hidden (separators kept): what agents see of a customer's
    number under sensitive-data protection."""
    if number is None:
        return None
    digits = sum(character.isdigit() for character in number)
    hidden = max(0, digits - 4)
    shown = []
    for character in number:
        if character.isdigit() and hidden:
            hidden -= 1
            shown.append("*")
        else:
            shown.append(character)
    return "".join(shown)
