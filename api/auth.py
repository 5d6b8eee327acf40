"""Bearer tokens: verifying them into a ``Principal`` and minting development ones."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import jwt

from domain.identity import Principal, Role

_ASYMMETRIC = ["RS256", "ES256"]
_JWKS_LIFESPAN = 300.0  # seconds a fetched key set is trusted before it is fetched again
_JWKS_TIMEOUT = 5.0  # seconds; a request waits this long at most for an unreachable provider
# A desktop sends the same token with every request; checking its signature each time was a few
# percent of the server's work per routed contact. A verified token is trusted again for this
# long (never past its expiry) - no longer than a key the provider withdrew stays in the key set.
_VERIFIED_FOR = 60.0
_VERIFIED_MAX = 10_000  # tokens remembered at most (least recently used forgotten first)

log = logging.getLogger(__name__)


class AuthenticationFailed(Exception):  # named for the GraphQL error it becomes
    """The caller could not be identified; the message is safe to show and names no secret."""


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ) -> None:
        self._secret = secret
        # The key set is cached for ``_JWKS_LIFESPAN`` seconds and an unknown ``kid`` forces at most
        # one refetch per cooldown (PyJWT's default), so forged kids cannot hammer the provider.
        # No per-key cache: PyJWT's never expires, so a key the provider revoked would stay
        # trusted until restart.
        self._jwks = (
            jwt.PyJWKClient(jwks_url, lifespan=_JWKS_LIFESPAN, timeout=_JWKS_TIMEOUT)
            if jwks_url
            else None
        )
        self._issuer = issuer
        self._audience = audience
        self._verified: OrderedDict[str, tuple[Principal, datetime | None, float]] = OrderedDict()

    async def verify(self, token: str) -> tuple[Principal, datetime | None]:
        """The principal and the token's expiry; raises ``AuthenticationFailed``."""
        now = time.time()
        known = self._verified.get(token)
        if known is not None:
            principal, expiry, trusted_until = known
            if now < trusted_until:
                self._verified.move_to_end(token)
                return principal, expiry
            del self._verified[token]
        principal, expiry = await self._check(token)
        trusted_until = now + _VERIFIED_FOR
        if expiry is not None:
            trusted_until = min(trusted_until, expiry.timestamp())
        self._verified[token] = (principal, expiry, trusted_until)
        while len(self._verified) > _VERIFIED_MAX:
            self._verified.popitem(last=False)
        return principal, expiry

    async def _check(self, token: str) -> tuple[Principal, datetime | None]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationFailed("malformed token") from None
        algorithm = header.get("alg")
        if algorithm == "HS256" and self._secret is not None:
            key: Any = self._secret
        elif algorithm in _ASYMMETRIC and self._jwks is not None:
            try:
                key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWKClientConnectionError:
                log.warning("the JWKS endpoint is unreachable: tokens cannot be checked")
                raise AuthenticationFailed("signing keys unavailable; try again later") from None
            except jwt.PyJWTError:
                raise AuthenticationFailed("token signed with an unknown key") from None
        else:
            raise AuthenticationFailed(f"token algorithm {algorithm!r} is not accepted")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": ["sub", "org", "exp"],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("token expired") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationFailed("token signature is invalid") from None
        except jwt.PyJWTError as error:
            raise AuthenticationFailed(f"token rejected: {error}") from None
        return _principal(claims), _expiry(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    subject, org, raw_roles = claims.get("sub"), claims.get("org"), claims.get("roles", [])
    if not isinstance(subject, str) or not subject or not isinstance(org, str) or not org:
        raise AuthenticationFailed("token needs non-empty 'sub' and 'org' claims")
    if not isinstance(raw_roles, list) or not raw_roles:
        raise AuthenticationFailed("token needs a 'roles' claim listing at least one role")
    try:
        roles = frozenset(Role(role) for role in raw_roles)
    except ValueError:
        raise AuthenticationFailed(f"unknown role in {raw_roles!r}") from None
    return Principal(subject=subject, org_id=org, roles=roles)


def _expiry(claims: dict[str, Any]) -> datetime | None:
    exp = claims.get("exp")
    return datetime.fromtimestamp(exp).astimezone() if isinstance(exp, int | float) else None


def mint_token(
    *,
    secret: str,
    subject: str,
    org_id: str,
    roles: Iterable[Role],
    now: datetime,
    lifetime: timedelta = timedelta(hours=12),
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    claims: dict[str, Any] = {
        "sub": subject,
        "org": org_id,
        "roles": sorted(role.value for role in roles),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Authorization must be 'Bearer <token>'")
    return token.strip()
