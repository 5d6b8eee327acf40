"""Contacts reported by connectors (integration role): a new task in the entry point's queue,
offered at once when an agent can take it; and the customer leaving before anyone answered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.channels import PHONE_ADDRESSED_CHANNELS, Channel, Direction
from domain.configuration.cad import CadVariable, cad_value_violation
from domain.configuration.queues import DEFAULT_PRIORITY, HIGHEST_PRIORITY, LOWEST_PRIORITY
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.identity import Actor, ActorKind, Principal, Role
from domain.messaging.pci import screened_subject, screened_transcript
from domain.ports import Clock, UnitOfWork
from domain.tasks.events import QueuedBecause, TaskAbandoned, TaskQueued
from domain.tasks.offers import OfferOutcome
from domain.tasks.task import CadValue, Customer, Task, TranscriptLine
from domain.usecases.offer_endings import close_offer
from domain.usecases.routing import RouteAgent, RouteQueue, Router
from domain.validation import Rules

MAX_CAD_VALUES = 50
MAX_TRANSCRIPT_LINES = 500
MAX_TRANSCRIPT_TEXT = 4000


@dataclass(frozen=True)
class ReportContact:
    principal: Principal
    entry_point_id: str
    customer: Customer = field(default_factory=Customer)
    ani: str | None = None
    dnis: str | None = None
    subject: str | None = None
    priority: int = DEFAULT_PRIORITY
    cad: tuple[CadValue, ...] = ()
    transcript: tuple[TranscriptLine, ...] = ()
    # Given by the API so that a retried request (same idempotency key) names the same task.
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class AbandonContact:
    principal: Principal
    task_id: str


def _require_integration(principal: Principal) -> None:
    if not principal.has(Role.INTEGRATION):
        raise Forbidden("only a connector (integration role) reports contacts")


async def report_contact(cmd: ReportContact, uow: UnitOfWork, clock: Clock) -> Task:
    _require_integration(cmd.principal)
    org_id = cmd.principal.org_id
    router = Router(uow, clock, org_id)
    entry_point = await router.configuration.entry_point(cmd.entry_point_id)
    if (
        entry_point is None
        or not entry_point.active
        or entry_point.direction is not Direction.INBOUND
    ):
        raise ValidationFailed.single(
            "entryPointId", "reference", "entryPointId must name an active inbound entry point"
        )
    assert entry_point.queue_id is not None  # an inbound entry point always has one
    queue = await router.configuration.queue(entry_point.queue_id)
    if queue is None:
        raise ValidationFailed.single(
            "entryPointId", "queue_active", "the entry point's queue is deactivated"
        )
    variables = await router.configuration.cad_variables()
    _validate(cmd, entry_point.channel, variables)
    now = clock.now()
    connector = Actor(ActorKind.INTEGRATION, cmd.principal.subject)
    policies = await router.configuration.policies()
    task = Task(
        task_id=cmd.task_id,
        org_id=org_id,
        channel=entry_point.channel,
        entry_point_id=entry_point.id,
        queue_id=queue.id,
        customer=cmd.customer,
        ani=cmd.ani,
        dnis=cmd.dnis,
        subject=screened_subject(cmd.subject, policies),
        cad=_initial_cad(cmd.cad, variables, connector, now),
        transcript=screened_transcript(cmd.transcript, policies),
        required_skills=tuple((s.name, s.min_level) for s in queue.required_skills),
        queue_priority=queue.priority,
        priority=cmd.priority,
        created_at=now,
        queued_at=now,
        status_since=now,
    )
    await uow.tasks.add(task)
    uow.emit(
        TaskQueued(
            org_id=org_id,
            occurred_at=now,
            actor=connector,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=task.status,
            version=task.version,
            because=QueuedBecause.NEW,
            queued_at=task.queued_at,
        )
    )
    # Offered in this same transaction when an agent is free: one commit from report to offer.
    offer = await router.agent_for(task)
    if offer is None:
        uow.defer(RouteQueue(org_id, queue.id))
        return task
    stored = await uow.tasks.get(org_id, task.task_id)
    assert stored is not None
    return stored


async def abandon_contact(cmd: AbandonContact, uow: UnitOfWork, clock: Clock) -> Task:
    """The customer left before an agent answered: the task ends ``ABANDONED`` and a pending offer
    is withdrawn (the agent's popover closes, its capacity returns)."""
    _require_integration(cmd.principal)
    org_id = cmd.principal.org_id
    task = await uow.tasks.get(org_id, cmd.task_id)
    if task is None:
        raise NotFound("TASK", cmd.task_id)
    now = clock.now()
    customer = Actor(ActorKind.CUSTOMER, task.customer.customer_id or task.task_id)
    abandoned = task.abandoned(now)
    await uow.tasks.save(abandoned, expected_version=task.version)
    if task.offer_id is not None:
        await withdraw_offer(uow, task.offer_id, org_id, OfferOutcome.WITHDRAWN, now, customer)
    uow.emit(
        TaskAbandoned(
            org_id=org_id,
            occurred_at=now,
            actor=customer,
            task_id=task.task_id,
            queue_id=task.queue_id,
            channel=task.channel,
            status=abandoned.status,
            version=abandoned.version,
        )
    )
    return abandoned


async def withdraw_offer(
    uow: UnitOfWork, offer_id: str, org_id: str, outcome: OfferOutcome, now: datetime, by: Actor
) -> None:
    """End a pending offer without the agent; routing then looks for other work for them."""
    offer = await uow.offers.get(org_id, offer_id)
    if offer is None or not offer.pending:
        return
    await close_offer(uow, offer, offer.ended(outcome, now=now, by=by), now, by)
    uow.defer(RouteAgent(org_id, offer.agent_id))


def _initial_cad(
    reported: Sequence[CadValue], variables: Sequence[CadVariable], by: Actor, now: datetime
) -> tuple[CadValue, ...]:
    """The connector's values, then the defaults of variables it left out: each at version 1,
    saved by the connector (agents save against that version, SPEC §7)."""
    given = {entry.name: entry.value for entry in reported}
    defaults = {
        v.name: v.default_value
        for v in sorted(variables, key=lambda v: (v.display_order, v.name))
        if v.default_value is not None and v.name not in given
    }
    secure = {v.name for v in variables if v.secure}
    return tuple(
        CadValue(name, value, secure=name in secure, version=1, saved_by=by, saved_at=now)
        for name, value in (given | defaults).items()
    )


def _validate(cmd: ReportContact, channel: Channel, variables: Sequence[CadVariable]) -> None:
    rules = Rules()
    customer = cmd.customer
    if channel is Channel.VOICE:
        if cmd.ani is None:
            rules.fail("ani", "required", "a voice contact needs the caller's number (ani)")
        else:
            rules.phone("ani", cmd.ani)
    elif cmd.ani is not None:
        rules.fail("ani", "voice_only", "ani goes only with voice contacts")
    if cmd.dnis is not None:
        rules.phone("dnis", cmd.dnis)
    if channel not in (Channel.VOICE, Channel.VOICEMAIL, Channel.WORK_ITEM) and not (
        customer.name or customer.customer_id
    ):
        rules.fail("customer", "required", "a digital contact needs the customer's name or id")
    if customer.name is not None:
        rules.text("customer.name", customer.name, max_length=200)
    if customer.customer_id is not None:
        rules.text("customer.customerId", customer.customer_id, max_length=200)
    if customer.address is not None:
        if channel is Channel.EMAIL:
            rules.email("customer.address", customer.address)
        elif channel in PHONE_ADDRESSED_CHANNELS:
            rules.phone("customer.address", customer.address)
        else:
            rules.text("customer.address", customer.address, max_length=320)
    if cmd.subject is not None:
        rules.text("subject", cmd.subject, max_length=500)
    rules.int_range("priority", cmd.priority, minimum=HIGHEST_PRIORITY, maximum=LOWEST_PRIORITY)
    if cmd.transcript and channel is not Channel.CHAT:
        rules.fail("transcript", "chat_only", "a bot transcript goes only with chat contacts")
    if len(cmd.transcript) > MAX_TRANSCRIPT_LINES:
        rules.fail("transcript", f"max_items:{MAX_TRANSCRIPT_LINES}", "the transcript is too long")
    for index, line in enumerate(cmd.transcript):
        rules.text(f"transcript[{index}].sender", line.sender, max_length=100)
        rules.text(f"transcript[{index}].text", line.text, max_length=MAX_TRANSCRIPT_TEXT)
    _validate_cad(rules, cmd.cad, variables)
    if rules.violations:
        raise ValidationFailed(rules.violations)


def _validate_cad(rules: Rules, cad: Sequence[CadValue], variables: Sequence[CadVariable]) -> None:
    if len(cad) > MAX_CAD_VALUES:
        rules.fail("cad", f"max_items:{MAX_CAD_VALUES}", "too many CAD values")
    rules.unique_items("cad", [entry.name for entry in cad])
    by_name = {variable.name: variable for variable in variables}
    for index, entry in enumerate(cad):
        variable = by_name.get(entry.name)
        if variable is None:
            rules.fail(
                f"cad[{index}].name", "reference", f"no active CAD variable is named {entry.name!r}"
            )
            continue
        violation = cad_value_violation(f"cad[{index}].value", variable.var_type, entry.value)
        if violation is not None:
            rules.fail(violation.field, violation.rule, violation.message)
