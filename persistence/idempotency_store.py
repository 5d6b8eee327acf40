"""Idempotency records, written in the same transaction as the change they remember."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from domain.errors import ValidationFailed
from domain.ports import IdempotencyKey
from domain.tasks.cad import SECURE_MASK
from persistence.codec import decode_tagged, encode, encode_tagged
from persistence.documents import IdempotencyDocument


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, default=str).encode()


def record_id(key: IdempotencyKey) -> str:
    return hashlib.sha256(
        _canonical([key.org_id, key.principal, key.operation, key.key])
    ).hexdigest()


def without_secure_values(encoded: Any) -> Any:
    """An encoded result with every secure CAD value masked, as the API shows it anyway: a task in
    a result (``reportContact``, ``acceptOffer``) carries its CAD values, and only the task itself
    may keep a secure one."""
    if isinstance(encoded, dict):
        if encoded.get("secure") is True and isinstance(encoded.get("value"), str):
            return {**encoded, "value": SECURE_MASK}
        return {name: without_secure_values(value) for name, value in encoded.items()}
    if isinstance(encoded, list):
        return [without_secure_values(value) for value in encoded]
    return encoded


class MongoIdempotencyStore:
    """The fingerprint of a request is an HMAC under a server secret, not a bare hash: a request
    may carry a secure CAD value or a card number, and a low-entropy value could be found again
    from a bare hash by trying them all."""

    def __init__(self, session: AsyncClientSession, now: datetime, fingerprint_key: bytes) -> None:
        self._session = session
        self._now = now
        self._fingerprint_key = fingerprint_key

    def _fingerprint(self, command: object) -> str:
        digest = hmac.new(self._fingerprint_key, _canonical(encode(command)), hashlib.sha256)
        return digest.hexdigest()

    async def recall(self, key: IdempotencyKey, fingerprint: object) -> object | None:
        document = await IdempotencyDocument.find_one(
            {"_id": record_id(key)}, session=self._session
        )
        if document is None:
            return None
        if not hmac.compare_digest(document.fingerprint, self._fingerprint(fingerprint)):
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
            fingerprint=self._fingerprint(fingerprint),
            result=without_secure_values(encode_tagged(result)),
            created_at=self._now,
        ).insert(session=self._session)
