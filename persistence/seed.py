"""Demo organization: loaded by ``omnidesk seed`` and on the first ``serve`` of an empty database.

Everything goes through the ordinary use cases, so the demo obeys every rule an admin would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.configuration.base import ConfigKind
from domain.identity import Actor, Role
from domain.streams import configuration_stream
from domain.usecases.configuration import (
    CreateConfiguration,
    UpdatePolicies,
    create_configuration,
    update_policies,
)
from domain.usecases.runner import Runner
from persistence.demo_data import (
    AGENTS,
    CAD_VARIABLES,
    CHAT_RESPONSES,
    DIAL_NUMBERS,
    ENTRY_POINTS,
    IDLE_CODES,
    MESSAGE_TEMPLATES,
    PROFILES,
    QUEUES,
    TEAMS,
    WRAP_UP_CODES,
)
from persistence.documents import (
    ConfigurationDocument,
    EventDocument,
    PoliciesDocument,
    StreamHeadDocument,
)

DEMO_ORG_ID = "demo"
_SEEDER = Actor.system("demo-seed")


def demo_principals() -> dict[str, tuple[str, list[Role]]]:
    """Label → (subject, roles) of the tokens ``serve`` prints."""
    return {
        "agent": ("demo-agent-1", [Role.AGENT]),
        "supervisor": ("demo-supervisor", [Role.SUPERVISOR]),
        "admin": ("demo-admin", [Role.ADMIN]),
        "integration": ("demo-connector", [Role.INTEGRATION]),
    }


async def seed_demo(runner: Runner, *, replace: bool = False) -> bool:
    """Load the demo organization; False when it is already there and ``replace`` is off."""
    if await ConfigurationDocument.find_one({"org_id": DEMO_ORG_ID}) is not None:
        if not replace:
            return False
        await _delete_demo()
    batches: list[tuple[ConfigKind, Mapping[str, Mapping[str, Any]]]] = [
        (ConfigKind.TEAM, TEAMS),
        (ConfigKind.MULTIMEDIA_PROFILE, PROFILES),
        (ConfigKind.AGENT, AGENTS),
        (ConfigKind.QUEUE, QUEUES),
        (ConfigKind.ENTRY_POINT, ENTRY_POINTS),
        (ConfigKind.DIAL_NUMBER, DIAL_NUMBERS),
        (ConfigKind.IDLE_CODE, IDLE_CODES),
        (ConfigKind.WRAP_UP_CODE, WRAP_UP_CODES),
        (ConfigKind.CHAT_RESPONSE, CHAT_RESPONSES),
        (ConfigKind.MESSAGE_TEMPLATE, MESSAGE_TEMPLATES),
        (ConfigKind.CAD_VARIABLE, CAD_VARIABLES),
    ]
    for kind, entities in batches:
        for entity_id, fields in entities.items():
            command = CreateConfiguration(
                actor=_SEEDER,
                org_id=DEMO_ORG_ID,
                kind=kind,
                fields=dict(fields),
                entity_id=entity_id,
            )
            await runner.run(create_configuration, command)
    policies = UpdatePolicies(
        actor=_SEEDER,
        org_id=DEMO_ORG_ID,
        changes={
            "recording_enabled": True,
            "recording_pause_seconds": 60,
            "pii_patterns": (r"\b\d{3}-\d{2}-\d{4}\b",),
            "callback_entry_point_id": "ep-outbound-voice",
            "concurrent_call_limit": 500,
        },
    )
    await runner.run(update_policies, policies)
    return True


async def seed_demo_if_empty(runner: Runner) -> bool:
    return await seed_demo(runner)


async def _delete_demo() -> None:
    configuration = ConfigurationDocument.get_pymongo_collection()
    # The deletion moves the demo's configuration stream head in the same transaction, as every
    # configuration change does: running servers cache configuration by that head.
    async with configuration.database.client.start_session() as session:
        await session.start_transaction()  # ending the session unfinished aborts it
        await configuration.delete_many({"org_id": DEMO_ORG_ID}, session=session)
        await PoliciesDocument.get_pymongo_collection().delete_many(
            {"_id": DEMO_ORG_ID}, session=session
        )
        await StreamHeadDocument.get_pymongo_collection().update_one(
            {"_id": configuration_stream(DEMO_ORG_ID)},
            {"$inc": {"seq": 1}},
            upsert=True,
            session=session,
        )
        await session.commit_transaction()
    # Stream heads stay: sequence numbers never go back, so a subscriber resuming from before the
    # reload is told to resync, and a server's configuration cache never mistakes the reloaded
    # organization for the one it read.
    await EventDocument.get_pymongo_collection().delete_many({"org_id": DEMO_ORG_ID})
