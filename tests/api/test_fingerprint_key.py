"""Where the key of idempotency fingerprints comes from: its own setting, else derived from the
JWT secret (never the JWT secret itself); production refuses to start with neither."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from api.settings import Settings


def test_the_configured_secret_is_the_key() -> None:
    settings = Settings(idempotency_secret=SecretStr("fingerprints-1"), jwt_secret=None)
    assert settings.fingerprint_key() == b"fingerprints-1"


def test_without_one_the_key_is_derived_from_the_jwt_secret_and_differs_from_it() -> None:
    first = Settings(environment="production", jwt_secret=SecretStr("jwt-secret-a" * 3))
    other = Settings(environment="production", jwt_secret=SecretStr("jwt-secret-b" * 3))

    assert first.fingerprint_key() == first.fingerprint_key()
    assert first.fingerprint_key() != other.fingerprint_key()
    assert b"jwt-secret-a" not in first.fingerprint_key()


def test_production_with_only_jwks_needs_the_setting(tmp_path: Path) -> None:
    settings = Settings(
        environment="production", jwks_url="https://idp.example/jwks", data_dir=tmp_path
    )
    with pytest.raises(RuntimeError, match="OMNIDESK_IDEMPOTENCY_SECRET"):
        settings.fingerprint_key()


def test_development_derives_it_from_the_secret_kept_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.fingerprint_key() == Settings(data_dir=tmp_path).fingerprint_key()
    assert (tmp_path / "jwt-secret").exists()
