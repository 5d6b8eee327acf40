"""``create_app(settings)``: the Starlette application, with every resource opened in ``lifespan``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bootstrap import Services, embedded_mongod, open_services
from api.settings import Settings

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
    settings: Settings | None = None, *, on_ready: Callable[[Services], None] | None = None
) -> Starlette:
    settings = settings or Settings()
    state: dict[str, Services] = {}
    graphql_endpoint = _StartedLater()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from api.graphql.schema import build_schema
        from api.graphql.view import OmnideskGraphQL

        with embedded_mongod(settings) as url:
            async with open_services(settings, url) as services:
                state["services"] = services
                graphql_endpoint.app = OmnideskGraphQL(services, schema=build_schema(settings))
                if on_ready is not None:
                    on_ready(services)
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
        ],
        lifespan=lifespan,
    )
