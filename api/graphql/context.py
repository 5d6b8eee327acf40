"""The typed per-request (or per-WebSocket-connection) context."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from api.auth import AuthenticationFailed
from api.bootstrap import Services
from api.graphql.loaders import Loaders
from domain.identity import Principal


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None
    loaders: Loaders
    principal: Principal | None = None
    auth_error: AuthenticationFailed | None = None
    token_expires_at: datetime | None = None
    connection_params: dict[str, Any] | None = None
    expiry_task: asyncio.Task[None] | None = field(default=None, repr=False)

    def require_principal(self) -> Principal:
        """The caller; permission classes have already refused anonymous access."""
        if self.principal is None:
            raise AuthenticationFailed("authentication required")
        return self.principal


Info = StrawberryInfo[Context, None]
