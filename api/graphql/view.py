"""The Strawberry ASGI view: builds the typed context, authenticates HTTP requests and
WebSocket ``connection_init``, and closes a socket when its token expires."""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from api.auth import AuthenticationFailed, bearer_token
from api.bootstrap import Services
from api.graphql.context import Context
from api.graphql.loaders import Loaders

# graphql-transport-ws: 4403 Forbidden is what clients expect for a refused or lapsed identity.
CLOSE_FORBIDDEN = 4403


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if not self.connection_init_received and isinstance(payload, dict):
            try:
                await self.view.authenticate_connection(self.context, payload)
            except AuthenticationFailed as error:
                self.connection_init_received = True
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                await self.websocket.close(code=CLOSE_FORBIDDEN, reason=str(error)[:120])
                return
        await super().handle_connection_init(message)

    async def shutdown(self) -> None:
        task = self.context.expiry_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().shutdown()


class OmnideskGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, services: Services, **kwargs: Any) -> None:
        settings = services.settings
        super().__init__(
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            max_subscriptions_per_connection=settings.ws_max_subscriptions,
            allowed_origins=settings.allowed_origins,
            allow_queries_via_get=False,
            **kwargs,
        )
        self.services = services

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        context = Context(
            services=self.services,
            request=request,
            response=response,
            loaders=Loaders(self.services.configuration),
        )
        if isinstance(request, Request):
            try:
                token = bearer_token(request.headers.get("authorization"))
                if token is not None:
                    context.principal, context.token_expires_at = await self.services.verifier.verify(token)
            except AuthenticationFailed as error:
                context.auth_error = error
        return context

    async def authenticate_connection(self, context: Context, payload: dict[str, Any]) -> None:
        """``connection_init`` must carry ``{"authorization": "Bearer <jwt>"}`` (or ``token``)."""
        raw = payload.get("authorization") or payload.get("Authorization")
        token = bearer_token(raw) if isinstance(raw, str) else payload.get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("connection_init payload needs 'authorization': 'Bearer <token>'")
        context.principal, context.token_expires_at = await self.services.verifier.verify(token)

    async def on_ws_connect(self, context: Context) -> None:
        expires_at = context.token_expires_at
        websocket = context.request
        if expires_at is None or not isinstance(websocket, WebSocket):
            return

        async def close_at_expiry() -> None:
            delay = (expires_at - self.services.clock.now()).total_seconds()
            await asyncio.sleep(max(delay, 0))
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=CLOSE_FORBIDDEN, reason="token expired")

        context.expiry_task = asyncio.create_task(close_at_expiry())
