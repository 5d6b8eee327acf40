"""``create_app(settings)``: the Starlette application, with every resource opened in ``lifespan``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bootstrap import Services, embedded_mongod, open_services
from api.garbage_collection import tune_after_start
from api.settings import Settings
from api.test_clock import clock_for, clock_route

log = logging.getLogger(__name__)


class _StartedLater:
    """The GraphQL endpoint, which exists once ``lifespan`` has opened what it needs."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            response = PlainTextResponse("starting", status_code=503)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013})
                return
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    mongodb_url: str | None = None,
    on_ready: Callable[[Services], None] | None = None,
) -> Starlette:
    """``mongodb_url``: a MongoDB already running (the CLI starts the embedded one itself);
    without it the lifespan uses ``OMNIDESK_MONGODB_URL`` or starts and stops an embedded one."""
    settings = settings or Settings()
    state: dict[str, Services] = {}
    graphql_endpoint = _StartedLater()
    clock = clock_for(settings)  # tests only: a clock moved through POST /test/clock

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from api.graphql.schema import build_schema
        from api.graphql.view import OmnideskGraphQL

        database = contextlib.nullcontext(mongodb_url) if mongodb_url else embedded_mongod(settings)
        with database as url:
            async with open_services(settings, url, clock) as services:
                state["services"] = services
                graphql_endpoint.app = OmnideskGraphQL(services, schema=build_schema(settings))
                if on_ready is not None:
                    on_ready(services)
                tune_after_start()
                try:
                    yield
                finally:
                    graphql_endpoint.app = None
                    state.pop("services", None)

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> JSONResponse:
        services = state.get("services")
        if services is None:
            return JSONResponse({"ready": False, "reason": "starting"}, status_code=503)
        ready, reason = await services.ready()
        return JSONResponse({"ready": ready, "reason": reason}, status_code=200 if ready else 503)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_endpoint),
            *([] if clock is None else [clock_route(clock, lambda: state.get("services"))]),
        ],
        middleware=[_cors(settings)],
        lifespan=lifespan,
    )


def _cors(settings: Settings) -> Middleware:
    """Browsers on the allowed origins (the same list the WebSocket ``Origin`` check uses) may
    call ``/graphql``; other pages get no CORS headers, so their browser withholds the answer
    and never sends the ``Authorization`` preflighted requests need. Bearer tokens, no cookies:
    credentials stay off."""
    return Middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
