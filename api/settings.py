"""Settings from the environment (prefix ``OMNIDESK_``); see the README's configuration table."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """The configuration cannot work; the message says which variable to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIDESK_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000

    mongodb_url: SecretStr | None = None
    mongod_bin: str | None = None
    data_dir: Path = Path(".omnidesk")
    database: str = "omnidesk"
    mongod_cache_gb: float = 0.25
    seed_demo: bool = True

    jwt_secret: SecretStr | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwks_url: str | None = None
    # Keys the fingerprints idempotency records keep of each request (which may carry secure CAD
    # values or card numbers); defaults to one derived from OMNIDESK_JWT_SECRET.
    idempotency_secret: SecretStr | None = None

    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8000", "http://127.0.0.1:8000"]
    )
    graphiql: bool | None = None
    introspection: bool | None = None
    # Limits can be tightened, never switched off (DESIGN "Identity and security").
    max_query_depth: int = Field(12, ge=1)
    max_aliases: int = Field(30, ge=0)
    max_tokens: int = Field(2000, ge=1)

    ws_init_timeout_seconds: float = Field(10.0, gt=0, le=10)
    ws_max_subscriptions: int = Field(50, ge=1)
    ws_max_frame_bytes: int = Field(65536, ge=1024, le=65536)
    subscriber_max_pending: int = 1000

    event_retention_days: float = 7.0
    # How often each instance vouches for the agents' WebSockets it holds; one gone unvouched for
    # three heartbeats (its instance crashed) counts as closed (SPEC §2 presence).
    presence_heartbeat_seconds: float = Field(default=10.0, gt=0, le=600)
    # How often each instance routes every queue with waiting tasks, in case a follow-up was lost.
    routing_sweep_seconds: float = Field(default=5.0, gt=0)
    # A callback whose window opened while the organization was at its concurrent-call limit is
    # tried again after this long (SPEC §9: it waits, it is not lost).
    callback_retry_seconds: float = Field(default=30.0, gt=0)
    # Server processes on one port (`omnidesk serve`). Each is a full instance — its own change
    # stream, timer scheduler and sweep — exactly as several machines behind a load balancer.
    workers: int = Field(default=1, ge=1, le=64)
    # Tests only (refused in production): the server's clock frozen at this instant, moved by
    # ``POST /test/clock`` (api/test_clock.py).
    test_clock_start: datetime | None = None

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_development if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.is_development if self.introspection is None else self.introspection

    def hs256_secret(self) -> str | None:
        """The secret HS256 tokens are verified with; None when only JWKS keys are trusted
        (a JWKS deployment without a configured secret accepts no HS256 token at all)."""
        if self.jwks_url is not None and self.jwt_secret is None:
            return None
        return self.signing_secret()

    def fingerprint_key(self) -> bytes:
        """The HMAC key of idempotency fingerprints: configured, or derived from the HS256 secret
        (configured, or the development one). Every instance on one database needs the same."""
        if self.idempotency_secret is not None:
            return self.idempotency_secret.get_secret_value().encode()
        if self.jwt_secret is None and not self.is_development:
            raise RuntimeError(
                "OMNIDESK_IDEMPOTENCY_SECRET (or OMNIDESK_JWT_SECRET) is required in production"
            )
        signing = self.signing_secret().encode()
        return hmac.new(signing, b"omnidesk idempotency fingerprints", hashlib.sha256).digest()

    def signing_secret(self) -> str:
        """The HS256 secret: configured, or in development one kept under ``data_dir`` so that
        printed tokens outlive a restart. Production refuses to run without one (or JWKS)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if not self.is_development:
            raise RuntimeError(
                "OMNIDESK_JWT_SECRET (or OMNIDESK_JWKS_URL) is required in production"
            )
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
