"""Who is asking: the authenticated principal and the actor recorded on every event."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    ADMIN = "ADMIN"
    INTEGRATION = "INTEGRATION"


class ActorKind(StrEnum):
    """What caused a change. Events always carry one, so clients never infer it."""

    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    ADMIN = "ADMIN"
    INTEGRATION = "INTEGRATION"
    CUSTOMER = "CUSTOMER"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str

    @classmethod
    def system(cls, reason: str) -> Actor:
        return cls(ActorKind.SYSTEM, reason)


_ROLE_PRECEDENCE = (Role.ADMIN, Role.SUPERVISOR, Role.INTEGRATION, Role.AGENT)


@dataclass(frozen=True)
class Principal:
    subject: str
    org_id: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles

    def has_any(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    def as_actor(self) -> Actor:
        """The strongest role the principal holds names the kind of actor it acts as."""
        for role in _ROLE_PRECEDENCE:
            if role in self.roles:
                return Actor(ActorKind(role.value), self.subject)
        return Actor(ActorKind.SYSTEM, self.subject)
