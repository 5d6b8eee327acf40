"""The unit of work and the runner on a real replica set: all or nothing per use case, races
decided by MongoDB (one winner, the others retried onto current data), optimistic versions,
and idempotent repeats."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from domain.configuration.base import ConfigKind
from domain.configuration.teams import Team, TeamType
from domain.errors import Conflict, InvalidState, ValidationFailed
from domain.identity import Actor, ActorKind
from domain.ports import Clock, IdempotencyKey, UnitOfWork
from domain.streams import configuration_stream
from domain.usecases.configuration import (
    CreateConfiguration,
    UpdateConfiguration,
    create_configuration,
    update_configuration,
)
from domain.usecases.runner import Runner
from persistence.event_store import EventReader
from persistence.unit_of_work import MongoUnitOfWork

ADMIN = Actor(ActorKind.ADMIN, "admin-1")


def create_team(org_id: str, name: str, **fields: object) -> CreateConfiguration:
    return CreateConfiguration(
        actor=ADMIN, org_id=org_id, kind=ConfigKind.TEAM, fields={"name": name, **fields}
    )


def rename_team(org_id: str, team_id: str, name: str, expected_version: int) -> UpdateConfiguration:
    return UpdateConfiguration(
        actor=ADMIN,
        org_id=org_id,
        kind=ConfigKind.TEAM,
        entity_id=team_id,
        changes={"name": name},
        expected_version=expected_version,
    )


def key(org_id: str, value: str = "key-1") -> IdempotencyKey:
    return IdempotencyKey(org_id=org_id, principal=ADMIN.id, operation="createTeam", key=value)


async def count(database: AsyncDatabase, collection: str, query: dict[str, object]) -> int:
    return await database[collection].count_documents(query)


async def create_then_refuse(cmd: CreateConfiguration, uow: UnitOfWork, clock: Clock) -> object:
    """Writes a team and emits its event, then a rule refuses: the transaction must vanish."""
    await create_configuration(cmd, uow, clock)
    raise InvalidState("refused after writing", current_state="REFUSED")


async def test_a_use_case_failing_with_a_domain_error_writes_nothing(
    runner: Runner, database: AsyncDatabase, reader: EventReader, org_id: str
) -> None:
    await runner.run(create_configuration, create_team(org_id, "Billing"))

    with pytest.raises(InvalidState):
        await runner.run(
            create_then_refuse, create_team(org_id, "Sales"), idempotency_key=key(org_id)
        )

    assert await count(database, "configuration", {"org_id": org_id}) == 1
    assert await count(database, "configuration", {"org_id": org_id, "name_key": "sales"}) == 0
    assert await count(database, "events", {"org_id": org_id}) == 1
    assert await reader.head(configuration_stream(org_id)) == 1
    assert await count(database, "idempotency", {}) == 0


async def test_thirty_concurrent_creations_of_one_team_name_have_exactly_one_winner(
    runner: Runner, database: AsyncDatabase, reader: EventReader, org_id: str
) -> None:
    spellings = ["Billing", "billing", " BILLING "]
    results = await asyncio.gather(
        *(
            runner.run(create_configuration, create_team(org_id, spellings[n % 3]))
            for n in range(30)
        ),
        return_exceptions=True,
    )

    winners = [result for result in results if isinstance(result, Team)]
    losers = [result for result in results if not isinstance(result, Team)]
    assert len(winners) == 1
    assert len(losers) == 29
    assert all(isinstance(loser, ValidationFailed) for loser in losers), losers
    assert {(loser.field, loser.rule) for loser in losers} == {("name", "unique")}  # type: ignore[union-attr]
    assert await count(database, "configuration", {"org_id": org_id}) == 1
    assert await reader.head(configuration_stream(org_id)) == 1


async def test_saving_with_a_stale_version_is_a_conflict_and_changes_nothing(
    runner: Runner, uow_factory: Callable[[], MongoUnitOfWork], clock: Clock, org_id: str
) -> None:
    team = await runner.run(create_configuration, create_team(org_id, "Billing"))
    async with uow_factory() as uow:
        await uow.configuration.save(
            dataclasses.replace(team, name="Billing EU", version=2, updated_at=clock.now()),
            expected_version=1,
        )
        await uow.commit()

    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await uow.configuration.save(
                dataclasses.replace(team, name="Billing US", version=2, updated_at=clock.now()),
                expected_version=1,
            )

    async with uow_factory() as uow:
        stored = await uow.configuration.get(org_id, ConfigKind.TEAM, team.id)
    assert stored is not None
    assert (stored.name, stored.version) == ("Billing EU", 2)


async def test_concurrent_updates_from_one_version_have_one_winner_and_conflicts_for_the_rest(
    runner: Runner, database: AsyncDatabase, org_id: str
) -> None:
    team = await runner.run(create_configuration, create_team(org_id, "Billing"))

    results = await asyncio.gather(
        *(
            runner.run(update_configuration, rename_team(org_id, team.id, f"Name {n}", 1))
            for n in range(10)
        ),
        return_exceptions=True,
    )

    winners = [result for result in results if isinstance(result, Team)]
    assert len(winners) == 1
    assert winners[0].version == 2
    conflicts = [result for result in results if isinstance(result, Conflict)]
    assert len(conflicts) == 9
    assert {conflict.current_version for conflict in conflicts} == {2}
    assert await count(database, "events", {"org_id": org_id}) == 2


async def test_a_repeat_with_the_same_key_returns_the_first_result_and_writes_once(
    runner: Runner, database: AsyncDatabase, org_id: str
) -> None:
    command = create_team(org_id, "Billing", team_type=TeamType.CAPACITY_BASED)

    first = await runner.run(create_configuration, command, idempotency_key=key(org_id))
    again = await runner.run(create_configuration, command, idempotency_key=key(org_id))

    assert again == first
    assert await count(database, "configuration", {"org_id": org_id}) == 1
    assert await count(database, "events", {"org_id": org_id}) == 1
    assert await count(database, "idempotency", {}) == 1


async def test_a_key_is_scoped_to_its_operation_and_principal(
    runner: Runner, database: AsyncDatabase, org_id: str
) -> None:
    first = await runner.run(
        create_configuration, create_team(org_id, "A"), idempotency_key=key(org_id)
    )
    other_user = dataclasses.replace(key(org_id), principal="admin-2")
    second = await runner.run(
        create_configuration, create_team(org_id, "B"), idempotency_key=other_user
    )

    assert first.id != second.id
    assert await count(database, "configuration", {"org_id": org_id}) == 2


async def test_the_same_key_with_a_different_command_is_a_validation_error(
    runner: Runner, database: AsyncDatabase, org_id: str
) -> None:
    await runner.run(
        create_configuration, create_team(org_id, "Billing"), idempotency_key=key(org_id)
    )

    with pytest.raises(ValidationFailed) as refused:
        await runner.run(
            create_configuration, create_team(org_id, "Sales"), idempotency_key=key(org_id)
        )

    assert (refused.value.field, refused.value.rule) == ("idempotencyKey", "reused")
    assert await count(database, "configuration", {"org_id": org_id}) == 1


async def test_twenty_concurrent_first_attempts_with_one_key_create_one_entity(
    runner: Runner, database: AsyncDatabase, org_id: str
) -> None:
    command = create_team(org_id, "Billing")

    results = await asyncio.gather(
        *(
            runner.run(create_configuration, command, idempotency_key=key(org_id))
            for _ in range(20)
        ),
        return_exceptions=True,
    )

    assert all(isinstance(result, Team) for result in results), results
    assert {result.id for result in results} == {results[0].id}  # type: ignore[union-attr]
    assert all(result == results[0] for result in results)
    assert await count(database, "configuration", {"org_id": org_id}) == 1
    assert await count(database, "events", {"org_id": org_id}) == 1
