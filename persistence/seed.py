"""Demo organization: loaded by ``omnidesk seed`` and on the first ``serve`` of an empty database."""

from __future__ import annotations

from domain.identity import Role
from domain.ports import Clock

DEMO_ORG_ID = "demo"


def demo_principals() -> dict[str, tuple[str, list[Role]]]:
    """Label → (subject, roles) of the tokens ``serve`` prints."""
    return {
        "agent": ("demo-agent-1", [Role.AGENT]),
        "supervisor": ("demo-supervisor", [Role.SUPERVISOR]),
        "admin": ("demo-admin", [Role.ADMIN]),
        "integration": ("demo-connector", [Role.INTEGRATION]),
    }


async def seed_demo(clock: Clock, *, replace: bool = False) -> bool:
    """Load the demo organization; False when it is already there and ``replace`` is off."""
    return False


async def seed_demo_if_empty(clock: Clock) -> bool:
    return await seed_demo(clock)
