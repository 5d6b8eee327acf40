"""Who gets a task, and which task an agent gets: pure choices over what the use case loaded
(SPEC §3). Reservation — making the choice stick — is the use case's, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from domain.agents.session import AgentSession
from domain.configuration.queues import RoutingStrategy
from domain.tasks.task import Task

_NEVER = datetime.max.replace(tzinfo=UTC)


def can_take(session: AgentSession, task: Task, *, one_more: bool = False) -> bool:
    """AVAILABLE, no next state pending, free capacity on the task's channel (voice rules kept;
    ``one_more``: the +1 contact rule instead) and every skill the task needs at its level."""
    if one_more:
        room = session.room_for_one_more(task.channel)
    else:
        room = session.accepts_offers and session.free_capacity(task.channel) > 0
    return room and all(
        session.routing.skill_level(name) >= level for name, level in task.required_skills
    )


def choose_agent(
    task: Task, strategy: RoutingStrategy, candidates: Iterable[AgentSession]
) -> AgentSession | None:
    """The eligible agent routing offers ``task`` to (the first of ``ranked_agents``)."""
    ranked = ranked_agents(task, strategy, candidates)
    return ranked[0] if ranked else None


def ranked_agents(
    task: Task, strategy: RoutingStrategy, candidates: Iterable[AgentSession]
) -> list[AgentSession]:
    """The eligible agents in the order routing prefers them: agents who passed on the task come
    last; the task's preferred agent (a personal callback's assignee) first; then the best
    skilled (``BEST_SKILLED``: highest sum of levels in the required skills); then the one
    available longest; the agent id breaks exact ties so the order is reproducible."""

    def preference(session: AgentSession) -> tuple[bool, bool, int, datetime, str]:
        score = 0
        if strategy is RoutingStrategy.BEST_SKILLED:
            score = sum(session.routing.skill_level(name) for name, _ in task.required_skills)
        ready = session.ready_since or _NEVER
        passed = session.agent_id in task.passed_by
        # A personal callback goes to its assignee first (unless they already passed on it).
        not_preferred = session.agent_id != task.preferred_agent_id
        return (passed, not_preferred, -score, ready, session.agent_id)

    return sorted((s for s in candidates if can_take(s, task)), key=preference)


def in_routing_order(tasks: Iterable[Task]) -> list[Task]:
    """Queue priority (1 first), then task priority, then age (oldest first)."""
    return sorted(tasks, key=lambda t: (t.queue_priority, t.priority, t.queued_at, t.task_id))


def next_task_for(session: AgentSession, waiting: Sequence[Task]) -> Task | None:
    """The first waiting task, in routing order, the agent can take now."""
    return next((task for task in in_routing_order(waiting) if can_take(session, task)), None)


def oldest_task_for(session: AgentSession, waiting: Sequence[Task]) -> Task | None:
    """+1 contact: the oldest waiting task of any channel the agent may take one more of."""
    eligible = [task for task in waiting if can_take(session, task, one_more=True)]
    return min(eligible, key=lambda task: (task.queued_at, task.task_id), default=None)
