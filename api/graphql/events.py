"""What every pushed event carries, and how a subscription follows a stream."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any

import strawberry
from starlette.websockets import WebSocket

from api.graphql.context import Info
from api.graphql.loaders import Loaders
from domain.events import ResyncRequired as ResyncRequiredEvent
from domain.events import StoredEvent
from domain.identity import ActorKind
from domain.streams import StreamKey
from persistence.event_feed import follow

log = logging.getLogger(__name__)

ActorKindType = strawberry.enum(ActorKind, name="ActorKind")

SLOW_SUBSCRIBER_CLOSE_CODE = 4008


@strawberry.type(description="Who or what caused an event.")
class Cause:
    kind: ActorKind
    id: str


@strawberry.interface(
    description="A pushed event. `seq` is its position in the subscription's stream: "
    "pass the last one seen as `after` to resume without gaps or repeats."
)
class Event:
    seq: int
    event_id: strawberry.ID
    occurred_at: datetime
    cause: Cause


def event_fields(stored: StoredEvent) -> dict[str, Any]:
    return {
        "seq": stored.seq,
        "event_id": strawberry.ID(stored.event_id),
        "occurred_at": stored.event.occurred_at,
        "cause": Cause(kind=stored.event.actor.kind, id=stored.event.actor.id),
    }


@strawberry.type(
    description="Your `after` cursor is older than the retained history (or unknown): re-read a "
    "snapshot; the subscription goes on live from `headSeq`."
)
class ResyncRequired:
    head_seq: int
    message: str


def _closer(info: Info) -> Callable[[], None]:
    request = info.context.request

    def close() -> None:
        if isinstance(request, WebSocket):
            log.warning("closing a WebSocket whose subscriber does not read its events")
            task = asyncio.get_running_loop().create_task(
                request.close(code=SLOW_SUBSCRIBER_CLOSE_CODE, reason="subscriber too slow")
            )
            _background.add(task)
            task.add_done_callback(_background.discard)

    return close


_background: set[asyncio.Task[None]] = set()


async def stream_events(
    info: Info,
    stream: StreamKey,
    after: int | None,
    to_graphql: Callable[[StoredEvent], Any | None],
) -> AsyncGenerator[Any, None]:
    """Replay then live events of ``stream`` as GraphQL objects; ``to_graphql`` may skip one (None)."""
    services = info.context.services
    events = follow(
        stream,
        after,
        feed=services.feed,
        reader=services.events,
        max_pending=services.settings.subscriber_max_pending,
        on_overflow=_closer(info),
    )
    try:
        async for item in events:
            if isinstance(item, ResyncRequiredEvent):
                yield ResyncRequired(
                    head_seq=item.head_seq,
                    message="the cursor is older than the retained events; re-read a snapshot",
                )
                continue
            converted = to_graphql(item)
            if converted is not None:
                # A WebSocket keeps one context for its life: give each pushed event fresh loaders
                # so that what it resolves is read now, not when the connection opened.
                info.context.loaders = Loaders(services.configuration)
                yield converted
    finally:
        with contextlib.suppress(Exception):
            await events.aclose()
