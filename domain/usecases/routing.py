"""Routing as use cases: making an offer stick, and finding work for agents and agents for work.

Reservation happens in the caller's transaction: the task goes ``QUEUED → OFFERED``, the agent's
load for the channel grows by one offer and the offer and its deadline timer are stored, each write
conditional on the version read — so two transactions (or two server instances) that pick the same
task or the same agent's last slot collide, and the loser re-runs on what the winner committed.

Routing is re-evaluated after every change that may make a match possible (a task queued, an agent
available, capacity freed, an offer declined or missed): the changing use case defers a
``RouteQueue`` or ``RouteAgent``, which runs after its commit in a transaction of its own. Of two
such changes committed at the same time (a task arriving as an agent becomes available), the
follow-up of the later one sees both, so no match is ever lost to a race.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from domain.agents.session import AgentSession
from domain.channels import PHONE_ADDRESSED_CHANNELS
from domain.configuration.base import ConfigKind
from domain.configuration.cad import CadVariable
from domain.configuration.entry_points import EntryPoint
from domain.configuration.policies import OrganizationPolicies
from domain.configuration.queues import Queue
from domain.identity import Actor
from domain.ports import Clock, UnitOfWork
from domain.tasks.events import OfferMade, TaskOffered
from domain.tasks.offers import (
    Offer,
    OfferDetails,
    PopoverVariable,
    deadline_for,
    masked,
    offer_id_for,
)
from domain.tasks.routing import next_task_for, oldest_task_for, ranked_agents
from domain.tasks.task import Task
from domain.timers import Timer, TimerKind

ROUTING = Actor.system("routing")
# How many candidates or waiting tasks one routing pass considers; a pass that used them all
# defers another, so a long queue drains in bounded transactions.
CANDIDATES = 25
BATCH = 20
# The popover shows at most six configured variables (SPEC §3).
POPOVER_VARIABLES = 6


@dataclass(frozen=True)
class RouteQueue:
    org_id: str
    queue_id: str


@dataclass(frozen=True)
class RouteAgent:
    org_id: str
    agent_id: str


class _Configuration:
    """Configuration read once per transaction, however many offers it makes."""

    def __init__(self, uow: UnitOfWork, org_id: str) -> None:
        self._uow = uow
        self._org_id = org_id
        self._entities: dict[tuple[ConfigKind, str], object] = {}
        self._policies: OrganizationPolicies | None = None
        self._cad_variables: tuple[CadVariable, ...] | None = None

    async def queue(self, queue_id: str) -> Queue | None:
        entity = await self._get(ConfigKind.QUEUE, queue_id)
        return entity if isinstance(entity, Queue) and entity.active else None

    async def entry_point(self, entry_point_id: str) -> EntryPoint | None:
        entity = await self._get(ConfigKind.ENTRY_POINT, entry_point_id)
        return entity if isinstance(entity, EntryPoint) else None

    async def policies(self) -> OrganizationPolicies:
        if self._policies is None:
            stored = await self._uow.policies.get(self._org_id)
            self._policies = stored or OrganizationPolicies(org_id=self._org_id)
        return self._policies

    async def cad_variables(self) -> tuple[CadVariable, ...]:
        """The active CAD definitions (reportContact validates with them, the popover shows some)."""
        if self._cad_variables is None:
            variables = await self._uow.configuration.list_active(
                self._org_id, ConfigKind.CAD_VARIABLE
            )
            self._cad_variables = tuple(v for v in variables if isinstance(v, CadVariable))
        return self._cad_variables

    async def popover(self) -> tuple[CadVariable, ...]:
        shown = [v for v in await self.cad_variables() if v.show_in_popover and not v.secure]
        return tuple(sorted(shown, key=lambda v: (v.display_order, v.name)))

    async def _get(self, kind: ConfigKind, entity_id: str) -> object:
        key = (kind, entity_id)
        if key not in self._entities:
            self._entities[key] = await self._uow.configuration.get(self._org_id, kind, entity_id)
        return self._entities[key]


def _window(contenders: int) -> int:
    """How many of the first agents ``contenders`` simultaneous decisions pick among: alone, the
    first; otherwise twice as many as there are contenders, so few pick the same agent."""
    return 1 if contenders <= 1 else 2 * contenders


class _InFlight:
    """How many ``agent_for`` decisions this process is taking right now (each ``_Decision`` knows
    the most it saw while it ran). Process-local on purpose: it only spreads picks, it decides
    nothing — conditional writes still settle every collision, across instances too."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> _Decision:
        self.count += 1
        return _Decision(self)

    def __exit__(self, *_: object) -> None:
        self.count -= 1


class _Decision:
    def __init__(self, in_flight: _InFlight) -> None:
        self._in_flight = in_flight
        self._peak = in_flight.count

    @property
    def peak(self) -> int:
        self._peak = max(self._peak, self._in_flight.count)
        return self._peak


_DECISIONS_IN_FLIGHT = _InFlight()


class Router:
    """Routing within one transaction; ``reserve`` is the only way an offer comes to be."""

    def __init__(self, uow: UnitOfWork, clock: Clock, org_id: str) -> None:
        self._uow = uow
        self._clock = clock
        self.configuration = _Configuration(uow, org_id)

    async def agent_for(self, task: Task) -> Offer | None:
        """Offer ``task`` to the best eligible agent of its queue, if there is one."""
        queue = await self.configuration.queue(task.queue_id)
        if queue is None:
            return None
        with _DECISIONS_IN_FLIGHT as simultaneous:
            candidates = await self._uow.agent_sessions.candidates(
                task.org_id, task.channel, queue.team_ids, task.required_skills, CANDIDATES
            )
            candidates = await self._with_preferred(task, queue, candidates)
            ranked = ranked_agents(task, queue.routing_strategy, candidates)
            if not ranked:
                return None
            if ranked[0].agent_id == task.preferred_agent_id:
                return await self.reserve(task, ranked[0], queue)
            # Simultaneous tasks all want the agent available longest: one wins, the others
            # collide and re-run (n² re-runs for n simultaneous contacts). With others deciding
            # at the same moment in this process, or after a collision, pick at random among the
            # first few instead; alone, the agent available longest gets it.
            window = _window(max(simultaneous.peak, 1 + self._uow.attempt))
            pick = random.randrange(min(len(ranked), window)) if window > 1 else 0
            return await self.reserve(task, ranked[pick], queue)

    async def _with_preferred(
        self, task: Task, queue: Queue, candidates: Sequence[AgentSession]
    ) -> Sequence[AgentSession]:
        """A personal callback's assignee is asked even when not among the candidates read (a
        bounded number, longest available first)."""
        wanted = task.preferred_agent_id
        if wanted is None or any(s.agent_id == wanted for s in candidates):
            return candidates
        session = await self._uow.agent_sessions.get(task.org_id, wanted)
        if session is None or session.team_id not in queue.team_ids:
            return candidates
        return [session, *candidates]

    async def work_for(self, session: AgentSession, *, limit: int = BATCH) -> list[Offer]:
        """Offer the agent waiting tasks of its team's queues until its capacity is used."""
        if not session.open_channels or session.team_id is None:
            return []
        queues = await self._team_queues(session.org_id, session.team_id)
        waiting = await self._uow.tasks.waiting(
            session.org_id, [q.id for q in queues], session.open_channels, limit
        )
        by_id = {q.id: q for q in queues}
        offers: list[Offer] = []
        remaining = list(waiting)
        while (task := next_task_for(session, remaining)) is not None:
            offer = await self.reserve(task, session, by_id[task.queue_id])
            offers.append(offer)
            remaining.remove(task)
            stored = await self._uow.agent_sessions.get(session.org_id, session.agent_id)
            assert stored is not None
            session = stored
        return offers

    async def one_more_for(self, session: AgentSession) -> Offer | None:
        """+1 contact: the oldest waiting task of the agent's queues it may take one more of."""
        if session.team_id is None:
            return None
        channels = [
            c.channel for c in session.routing.capacities if session.room_for_one_more(c.channel)
        ]
        queues = await self._team_queues(session.org_id, session.team_id)
        waiting = await self._uow.tasks.waiting(
            session.org_id, [q.id for q in queues], channels, CANDIDATES
        )
        task = oldest_task_for(session, waiting)
        if task is None:
            return None
        return await self.reserve(task, session, next(q for q in queues if q.id == task.queue_id))

    async def reserve(self, task: Task, session: AgentSession, queue: Queue) -> Offer:
        now = self._clock.now()
        offer_id = offer_id_for(task.task_id, task.offer_count + 1)
        offer = Offer(
            offer_id=offer_id,
            org_id=task.org_id,
            task_id=task.task_id,
            agent_id=session.agent_id,
            channel=task.channel,
            offered_at=now,
            deadline=deadline_for(now, queue.offer_timeout_seconds),
            details=await self._details(task, queue),
        )
        offered = task.offered(offer_id, session.agent_id, now)
        loaded = session.adjust_load(task.channel, offers=1, now=now, by=ROUTING)
        await self._uow.tasks.save(offered, expected_version=task.version)
        await self._uow.agent_sessions.save(loaded.session, expected_version=session.version)
        await self._uow.offers.add(offer)
        await self._uow.timers.schedule(
            Timer.at(
                offer.deadline,
                org_id=offer.org_id,
                kind=TimerKind.OFFER_DEADLINE,
                target_id=offer.offer_id,
                expected_version=offer.version,
            )
        )
        self._uow.emit(
            *loaded.events,
            TaskOffered(
                org_id=task.org_id,
                occurred_at=now,
                actor=ROUTING,
                task_id=task.task_id,
                queue_id=task.queue_id,
                channel=task.channel,
                status=offered.status,
                version=offered.version,
                offer_id=offer_id,
                agent_id=session.agent_id,
            ),
            OfferMade(
                org_id=task.org_id,
                occurred_at=now,
                actor=ROUTING,
                offer_id=offer_id,
                task_id=task.task_id,
                agent_id=session.agent_id,
                channel=task.channel,
                deadline=offer.deadline,
            ),
        )
        return offer

    async def _details(self, task: Task, queue: Queue) -> OfferDetails:
        entry_point = await self.configuration.entry_point(task.entry_point_id)
        policies = await self.configuration.policies()
        address = task.customer.address or task.ani
        is_number = task.channel in PHONE_ADDRESSED_CHANNELS
        variables: list[PopoverVariable] = []
        for variable in await self.configuration.popover():
            value = task.cad_value(variable.name)
            if value is not None and len(variables) < POPOVER_VARIABLES:
                variables.append(PopoverVariable(variable.name, variable.label, value))

        def shown(number: str) -> str | None:
            return masked(number) if policies.mask_caller_number else number

        return OfferDetails(
            customer_name=task.customer.name,
            customer_id=task.customer.customer_id,
            customer_address=masked(address)
            if policies.mask_caller_number and is_number
            else address,
            queue_id=queue.id,
            queue_name=queue.name,
            entry_point_id=task.entry_point_id,
            entry_point_name=entry_point.name if entry_point else task.entry_point_id,
            dnis=task.dnis,
            subject=task.subject,
            queued_at=task.queued_at,
            variables=tuple(variables),
            kind=task.kind,
            consult_requester=task.requester,
            callback_type=None if task.callback is None else task.callback.callback_type,
            callback_number=None if task.callback is None else shown(task.callback.number),
            callback_reason=None if task.callback is None else task.callback.reason,
        )

    async def _team_queues(self, org_id: str, team_id: str) -> list[Queue]:
        queues = await self._uow.configuration.list_active(org_id, ConfigKind.QUEUE)
        return [q for q in queues if isinstance(q, Queue) and team_id in q.team_ids]


async def route_queue(cmd: RouteQueue, uow: UnitOfWork, clock: Clock) -> int:
    """Offer the queue's waiting tasks, in order, to whoever can take them; returns how many."""
    router = Router(uow, clock, cmd.org_id)
    queue = await router.configuration.queue(cmd.queue_id)
    if queue is None:
        return 0
    waiting = await uow.tasks.waiting(cmd.org_id, [queue.id], [queue.channel], BATCH)
    offered = 0
    # Once nobody can take a task, nobody can take a later one that needs the same skills: skip
    # those instead of asking again (after a RONA burst that was most of the timers' work).
    unmatched: set[tuple[tuple[str, int], ...]] = set()
    for task in waiting:
        if task.required_skills in unmatched:
            continue
        if await router.agent_for(task) is not None:
            offered += 1
        else:
            unmatched.add(task.required_skills)
    if offered == BATCH:
        uow.defer(cmd)  # maybe more waiting: drain in another transaction
    return offered


async def route_agent(cmd: RouteAgent, uow: UnitOfWork, clock: Clock) -> int:
    session = await uow.agent_sessions.get(cmd.org_id, cmd.agent_id)
    if session is None:
        return 0
    offers = await Router(uow, clock, cmd.org_id).work_for(session)
    return len(offers)


def routing_after(before: AgentSession, after: AgentSession) -> RouteAgent | None:
    """The follow-up a session change calls for: one when it opened capacity routing may use."""
    if any(
        after.free_capacity(c) > before.free_capacity(c) or not before.accepts_offers
        for c in after.open_channels
    ):
        return RouteAgent(after.org_id, after.agent_id)
    return None
