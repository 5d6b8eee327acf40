"""The Strawberry ASGI view: builds the typed context, authenticates HTTP requests and
WebSocket ``connection_init``, and closes a socket when its token expires."""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.auth import AuthenticationFailed, bearer_token
from api.bootstrap import Services
from api.graphql.context import Context
from api.graphql.loaders import Loaders
from domain.identity import Role

# graphql-transport-ws: 4403 Forbidden is what clients expect for a refused or lapsed identity.
CLOSE_FORBIDDEN = 4403
# RFC 6455 §5.5: a control frame carries at most 125 bytes, 2 of them the close code.
_MAX_CLOSE_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame can carry, counted in UTF-8 bytes, not characters."""
    return text.encode()[:_MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    # The agent desktop connection presence tracks (SPEC §2), while this socket is open.
    presence_id: str | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if (
            self.connection_init_received
            or self.connection_timed_out
            or not isinstance(payload, dict)
        ):
            # Strawberry answers these: 4429 for a second init, 4400 for a payload not an object.
            await super().handle_connection_init(message)
            return
        # The client did init in time: a slow key lookup (JWKS) must not turn into a 4408.
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        try:
            await self.view.authenticate_connection(self.context, payload)
        except AuthenticationFailed as error:
            self.connection_init_received = True
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=close_reason(str(error)))
            return
        await self.track_presence()
        await super().handle_connection_init(message)

    async def track_presence(self) -> None:
        """Before the ack: once acknowledged, an agent's desktop counts as connected."""
        principal = self.context.principal
        if principal is not None and principal.has(Role.AGENT):
            tracker = self.context.services.presence
            self.presence_id = await tracker.connected(principal.org_id, principal.subject)

    async def shutdown(self) -> None:
        task = self.context.expiry_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().shutdown()
        if self.presence_id is not None:
            await self.context.services.presence.disconnected(self.presence_id)
            self.presence_id = None


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

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
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
                    verified = await self.services.verifier.verify(token)
                    context.principal, context.token_expires_at = verified
            except AuthenticationFailed as error:
                context.auth_error = error
        return context

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Queries and mutations over POST only. Subscriptions live on graphql-transport-ws, where
        the token's expiry, the subscription cap and the Origin check apply; over HTTP Strawberry
        would run one as a query and answer a masked "Unexpected error."."""
        allowed: set[OperationType] = set()
        if request_adapter.method == "POST":
            allowed = {OperationType.QUERY, OperationType.MUTATION}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                reason = "subscriptions are served over WebSocket (graphql-transport-ws) only"
            else:
                reason = f"{error.as_http_error_reason(request_adapter.method)}; use POST"
            raise HTTPException(400, reason) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def authenticate_connection(self, context: Context, payload: dict[str, Any]) -> None:
        """``connection_init`` must carry ``{"authorization": "Bearer <jwt>"}`` (or ``token``)."""
        raw = payload.get("authorization") or payload.get("Authorization")
        token = bearer_token(raw) if isinstance(raw, str) else payload.get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed(
                "connection_init payload needs 'authorization': 'Bearer <token>'"
            )
        context.principal, context.token_expires_at = await self.services.verifier.verify(token)

    async def on_ws_connect(self, context: Context) -> None:
        expires_at = context.token_expires_at
        websocket = context.request
        if expires_at is None or not isinstance(websocket, WebSocket):
            return

        async def close_at_expiry() -> None:
            delay = (expires_at - self.services.clock.now()).total_seconds()
            await asyncio.sleep(max(delay, 0))
            # The client may have gone in the meantime: then there is nothing left to close.
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=CLOSE_FORBIDDEN, reason="token expired")

        context.expiry_task = asyncio.create_task(close_at_expiry())
