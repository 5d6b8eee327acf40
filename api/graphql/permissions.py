"""Who may call a field: authentication and roles as Strawberry permission classes."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.exceptions import StrawberryGraphQLError
from strawberry.permission import BasePermission

from api.graphql.context import Info
from domain.identity import Role


class AccessDenied(StrawberryGraphQLError):
    """A GraphQL error with a machine-readable ``extensions.code`` (never masked)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


class IsAuthenticated(BasePermission):
    roles: ClassVar[frozenset[Role]] = frozenset()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raised rather than returned so each caller gets its own message ("token expired", ...)
        # without writing to this instance, which every request shares.
        context = info.context
        if context.principal is None:
            reason = str(context.auth_error) if context.auth_error else "authentication required"
            raise AccessDenied(reason, "UNAUTHENTICATED")
        if self.roles and not context.principal.roles & self.roles:
            names = ", ".join(sorted(role.value for role in self.roles))
            raise AccessDenied(f"this needs one of the roles: {names}", "FORBIDDEN")
        return True


class IsAdmin(IsAuthenticated):
    roles = frozenset({Role.ADMIN})


class IsSupervisorOrAdmin(IsAuthenticated):
    roles = frozenset({Role.SUPERVISOR, Role.ADMIN})


class IsAgent(IsAuthenticated):
    roles = frozenset({Role.AGENT})


class IsIntegration(IsAuthenticated):
    roles = frozenset({Role.INTEGRATION})
