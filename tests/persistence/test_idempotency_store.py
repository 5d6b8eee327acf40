"""Idempotency fingerprints are keyed with the server's secret: a request can carry a secure CAD
value or a card number, and a bare hash of a low-entropy value can be found again by trying
every value. Records are only recognised under the key they were made with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from domain.errors import ValidationFailed
from domain.ports import Clock
from domain.usecases.configuration import create_configuration
from domain.usecases.runner import Runner
from persistence.codec import encode
from persistence.idempotency_store import without_secure_values
from persistence.unit_of_work import MongoUnitOfWork
from tests.persistence.test_unit_of_work import create_team, key


def keyed_runner(client: AsyncMongoClient, clock: Clock, secret: bytes) -> Runner:
    return Runner(lambda: MongoUnitOfWork(client, clock, fingerprint_key=secret), clock)


@pytest.fixture
def runners(client: AsyncMongoClient, clock: Clock) -> Callable[[bytes], Runner]:
    return lambda secret: keyed_runner(client, clock, secret)


async def test_a_fingerprint_is_an_hmac_and_a_record_is_recognised_only_under_its_key(
    runners: Callable[[bytes], Runner], database: AsyncDatabase, org_id: str
) -> None:
    command = create_team(org_id, "Billing")
    first = await runners(b"key-one").run(
        create_configuration, command, idempotency_key=key(org_id)
    )
    again = await runners(b"key-one").run(
        create_configuration, command, idempotency_key=key(org_id)
    )
    assert again == first

    [record] = await database["idempotency"].find({}).to_list()
    bare = hashlib.sha256(json.dumps(encode(command), sort_keys=True, default=str).encode())
    assert record["fingerprint"] != bare.hexdigest()
    with pytest.raises(ValidationFailed) as refused:  # another server secret: not the same request
        await runners(b"key-two").run(create_configuration, command, idempotency_key=key(org_id))
    assert (refused.value.field, refused.value.rule) == ("idempotencyKey", "reused")


def test_a_stored_result_masks_every_secure_value_and_nothing_else() -> None:
    result = {
        "task": {
            "cad": [
                {"name": "ssn", "value": "078-05-1120", "secure": True, "version": 1},
                {"name": "tier", "value": "gold", "secure": False, "version": 1},
            ],
            "subject": "value",
        },
        "changes": [{"name": "ssn", "value": None, "secure": True}],
    }

    assert without_secure_values(result) == {
        "task": {
            "cad": [
                {"name": "ssn", "value": "*****", "secure": True, "version": 1},
                {"name": "tier", "value": "gold", "secure": False, "version": 1},
            ],
            "subject": "value",
        },
        "changes": [{"name": "ssn", "value": None, "secure": True}],
    }
