"""What supervisors watch: queue snapshots (query and ``queueStats`` subscription) and RONA events
of the organization (``ronaEvents``)."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from api.graphql.configuration.queues import Queue
from api.graphql.configuration.references import load_one
from api.graphql.context import Info
from api.graphql.events import Event, ResyncRequired, event_fields, stream_events
from api.graphql.permissions import IsSupervisorOrAdmin
from domain.agents.states import AgentState
from domain.channels import Channel
from domain.configuration import queues as domain
from domain.configuration.base import ConfigKind
from domain.errors import ValidationFailed
from domain.events import StoredEvent
from domain.streams import activity_channel, rona_stream
from domain.tasks import events as task_events

# Changes arriving closer together than this make one snapshot: a busy queue pushes a few
# snapshots a second, not one per event.
STATS_COALESCE_SECONDS = 0.2
MAX_QUEUES = 100


@strawberry.type(description="Logged-in agents of a queue's teams, by state.")
class AgentStateCount:
    state: AgentState
    agents: int


@strawberry.type(description="A queue right now: what waits, for how long, and who could serve.")
class QueueSnapshot:
    queue_id: strawberry.ID
    name: str
    channel: Channel
    waiting: int
    oldest_queued_at: datetime | None
    longest_wait_seconds: int
    agents: list[AgentStateCount]

    @strawberry.field
    async def queue(self, info: Info) -> Queue | None:
        queue = await load_one(info, str(self.queue_id), ConfigKind.QUEUE)
        return None if queue is None else Queue.from_entity(queue)


@strawberry.type(description="Every watched queue, as of `at` (server time).")
class QueueStats:
    at: datetime
    queues: list[QueueSnapshot]


async def snapshots(
    info: Info, queue_ids: list[strawberry.ID] | None, team_id: strawberry.ID | None
) -> QueueStats:
    services = info.context.services
    org_id = info.context.require_principal().org_id
    page = await services.configuration.page(
        org_id, ConfigKind.QUEUE, first=MAX_QUEUES, after=None, include_inactive=False
    )
    queues = [q for q in page.items if isinstance(q, domain.Queue) and q.active]
    if queue_ids is not None:
        wanted = {str(queue_id) for queue_id in queue_ids}
        queues = [q for q in queues if q.id in wanted]
    if team_id is not None:
        queues = [q for q in queues if str(team_id) in q.team_ids]
    figures = await services.tasks.queue_figures(org_id, [q.id for q in queues])
    teams = sorted({team for q in queues for team in q.team_ids})
    states = await services.agent_sessions.states_by_team(org_id, teams)
    now = services.clock.now()
    result = []
    for queue in sorted(queues, key=lambda q: (q.priority, q.name)):
        counts = {state: 0 for state in AgentState}
        for team in queue.team_ids:
            for state, agents in states.get(team, {}).items():
                counts[AgentState(state)] += agents
        figure = figures.get(queue.id)
        oldest = figure.oldest_queued_at if figure else None
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        result.append(
            QueueSnapshot(
                queue_id=strawberry.ID(queue.id),
                name=queue.name,
                channel=queue.channel,
                waiting=figure.waiting if figure else 0,
                oldest_queued_at=oldest,
                longest_wait_seconds=0
                if oldest is None
                else max(0, int((now - oldest).total_seconds())),
                agents=[AgentStateCount(state=s, agents=n) for s, n in counts.items()],
            )
        )
    return QueueStats(at=now, queues=result)


def _figures(queue: QueueSnapshot) -> tuple[object, ...]:
    """What makes a snapshot worth pushing (the wait in seconds grows by itself: not that)."""
    agents = tuple((count.state, count.agents) for count in queue.agents)
    return (queue.queue_id, queue.waiting, queue.oldest_queued_at, agents)


def _check(queue_ids: list[strawberry.ID] | None) -> None:
    if queue_ids is not None and len(queue_ids) > MAX_QUEUES:
        raise ValidationFailed.single(
            "queueIds", f"max_items:{MAX_QUEUES}", f"at most {MAX_QUEUES} queues at once"
        )


@strawberry.type
class SupervisionQuery:
    @strawberry.field(
        permission_classes=[IsSupervisorOrAdmin],
        description="Queue snapshots: waiting count, longest wait, agents by state; all active "
        "queues, or those named, or those a team serves.",
    )
    async def queue_stats(
        self,
        info: Info,
        queue_ids: list[strawberry.ID] | None = None,
        team_id: strawberry.ID | None = None,
    ) -> QueueStats:
        _check(queue_ids)
        return await snapshots(info, queue_ids, team_id)


@strawberry.type(
    description="An offer went unanswered: the task went back to the front of its queue and the "
    "agent to RONA."
)
class RonaEvent(Event):
    offer_id: strawberry.ID
    task_id: strawberry.ID
    agent_id: strawberry.ID
    queue_id: strawberry.ID
    team_id: strawberry.ID | None
    channel: Channel


def _rona(stored: StoredEvent) -> RonaEvent | None:
    event = stored.event
    if not isinstance(event, task_events.RonaOccurred):
        return None
    return RonaEvent(
        **event_fields(stored),
        offer_id=strawberry.ID(event.offer_id),
        task_id=strawberry.ID(event.task_id),
        agent_id=strawberry.ID(event.agent_id),
        queue_id=strawberry.ID(event.queue_id),
        team_id=None if event.team_id is None else strawberry.ID(event.team_id),
        channel=event.channel,
    )


@strawberry.type
class SupervisionSubscription:
    @strawberry.subscription(
        permission_classes=[IsSupervisorOrAdmin],
        description="RONA events of your organization, optionally of one queue or team. Pass "
        "`after` (the last `seq` you saw) to resume.",
    )
    async def rona_events(
        self,
        info: Info,
        after: int | None = None,
        queue_id: strawberry.ID | None = None,
        team_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[RonaEvent | ResyncRequired, None]:
        org_id = info.context.require_principal().org_id

        def wanted(stored: StoredEvent) -> RonaEvent | None:
            event = _rona(stored)
            if event is None:
                return None
            if queue_id is not None and event.queue_id != queue_id:
                return None
            if team_id is not None and event.team_id != team_id:
                return None
            return event

        async for item in stream_events(info, rona_stream(org_id), after, wanted):
            yield item

    @strawberry.subscription(
        permission_classes=[IsSupervisorOrAdmin],
        description="Queue snapshots, pushed when they change (at most a few a second). Each "
        "message is the whole picture, so a reconnecting client needs no cursor: the first "
        "message is the current state.",
    )
    async def queue_stats(
        self,
        info: Info,
        queue_ids: list[strawberry.ID] | None = None,
        team_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[QueueStats, None]:
        _check(queue_ids)
        services = info.context.services
        org_id = info.context.require_principal().org_id
        changed = asyncio.Event()
        async with services.feed.subscribe(
            activity_channel(org_id),
            max_pending=services.settings.subscriber_max_pending,
            on_overflow=changed.set,
        ) as activity:

            async def watch() -> None:
                while True:
                    await activity.get()
                    changed.set()

            watcher = asyncio.create_task(watch())
            try:
                last = None
                while True:
                    stats = await snapshots(info, queue_ids, team_id)
                    shown = [_figures(queue) for queue in stats.queues]
                    if shown != last:
                        last = shown
                        yield stats
                    await changed.wait()
                    changed.clear()
                    await asyncio.sleep(STATS_COALESCE_SECONDS)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
