"""Verified tokens are remembered (a desktop sends the same one with every request), but never
trusted past their expiry: the next request after it is refused like any expired token."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from api.auth import AuthenticationFailed, TokenVerifier, mint_token
from domain.identity import Role

SECRET = "verified-tokens-test-secret-" * 2


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(secret=SECRET)
    # exp is whole seconds: at least one second of life, at most two.
    now = datetime.fromtimestamp(int(time.time()), tz=UTC)
    token = mint_token(
        secret=SECRET,
        subject="agent-1",
        org_id="org-1",
        roles=[Role.AGENT],
        now=now,
        lifetime=timedelta(seconds=2),
    )

    first, expiry = await verifier.verify(token)
    again, _ = await verifier.verify(token)
    assert first == again
    assert first.subject == "agent-1"
    assert expiry is not None

    # Waiting for the wall clock the verifier reads is the point here, not a synchronisation.
    await asyncio.sleep(max(0.0, expiry.timestamp() - time.time()) + 0.05)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await verifier.verify(token)


async def test_a_token_refused_once_is_refused_again() -> None:
    verifier = TokenVerifier(secret=SECRET)
    forged = mint_token(
        secret="another-secret-entirely-" * 2,
        subject="agent-1",
        org_id="org-1",
        roles=[Role.AGENT],
        now=datetime.now(UTC),
    )
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="signature"):
            await verifier.verify(forged)
