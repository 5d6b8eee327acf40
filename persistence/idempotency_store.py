"""Idempotency records, written in the same transaction as the change they remember."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pymongo.asynchronous.client_session import AsyncClientSession

from domain.errors import ValidationFailed
from domain.ports import IdempotencyKey
from persistence.codec import decode_tagged, encode, encode_tagged
from persistence.documents import IdempotencyDocument


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def record_id(key: IdempotencyKey) -> str:
    return _digest([key.org_id, key.principal, key.operation, key.key])


class MongoIdempotencyStore:
    def __init__(self, session: AsyncClientSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def recall(self, key: IdempotencyKey, fingerprint: object) -> object | None:
        document = await IdempotencyDocument.find_one(
            {"_id": record_id(key)}, session=self._session
        )
        if document is None:
            return None
        if document.fingerprint != _digest(encode(fingerprint)):
            raise ValidationFailed.single(
                "idempotencyKey",
                "reused",
                "this idempotency key was already used for a different request",
            )
        return decode_tagged(document.result)

    async def remember(self, key: IdempotencyKey, fingerprint: object, result: object) -> None:
        # A concurrent first attempt with the same key collides on _id; the runner retries
        # and the retry finds this record through ``recall``.
        await IdempotencyDocument(
            id=record_id(key),
            fingerprint=_digest(encode(fingerprint)),
            result=encode_tagged(result),
            created_at=self._now,
        ).insert(session=self._session)
