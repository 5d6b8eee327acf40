"""The ``omnidesk`` command, run as installed: ``--help``, ``token`` and ``schema [--check]``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest

from api.auth import TokenVerifier
from domain.identity import Principal, Role
from tests.api.server import TEST_SECRET

OMNIDESK = Path(sys.executable).with_name("omnidesk")

Omnidesk = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def omnidesk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Omnidesk:
    """Runs the installed ``omnidesk`` in an empty directory with a known signing secret."""
    for name in ("OMNIDESK_JWT_ISSUER", "OMNIDESK_JWT_AUDIENCE", "OMNIDESK_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    env = {
        **os.environ,
        "OMNIDESK_JWT_SECRET": TEST_SECRET,
        "OMNIDESK_DATA_DIR": str(tmp_path / "data"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(OMNIDESK), *args],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def test_help_lists_the_four_commands(omnidesk: Omnidesk) -> None:
    result = omnidesk("--help")

    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("{", 1)[1].split("}", 1)[0]
    assert commands.split(",") == ["serve", "seed", "token", "schema"]


def test_no_command_is_a_usage_error(omnidesk: Omnidesk) -> None:
    result = omnidesk()

    assert result.returncode == 2
    assert "usage: omnidesk" in result.stderr


async def test_token_prints_a_jwt_whose_claims_are_the_ones_asked_for(omnidesk: Omnidesk) -> None:
    result = omnidesk("token", "--user", "u", "--role", "AGENT", "--org", "o")

    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip()
    claims = jwt.decode(printed, TEST_SECRET, algorithms=["HS256"])
    assert {key: claims[key] for key in ("sub", "org", "roles")} == {
        "sub": "u",
        "org": "o",
        "roles": ["AGENT"],
    }
    assert claims["exp"] - claims["iat"] == 12 * 60 * 60
    principal, _ = await TokenVerifier(secret=TEST_SECRET).verify(printed)
    assert principal == Principal(subject="u", org_id="o", roles=frozenset({Role.AGENT}))


def test_token_takes_several_roles_and_a_lifetime(omnidesk: Omnidesk) -> None:
    result = omnidesk(
        "token", "--user", "s", "--role", "SUPERVISOR", "--role", "ADMIN", "--minutes", "5"
    )

    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), TEST_SECRET, algorithms=["HS256"])
    assert claims["roles"] == ["ADMIN", "SUPERVISOR"]
    assert claims["exp"] - claims["iat"] == 5 * 60


def test_token_refuses_an_unknown_role(omnidesk: Omnidesk) -> None:
    result = omnidesk("token", "--user", "u", "--role", "ROOT", "--org", "o")

    assert result.returncode == 2
    assert "invalid choice: 'ROOT'" in result.stderr
    assert result.stdout == ""


def test_schema_check_passes_on_the_sdl_the_code_wrote(omnidesk: Omnidesk, tmp_path: Path) -> None:
    path = tmp_path / "schema.graphql"

    written = omnidesk("schema", "--path", str(path))
    checked = omnidesk("schema", "--check", "--path", str(path))

    assert written.returncode == 0, written.stderr
    assert "type Query {" in path.read_text()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{path} is up to date" in checked.stdout


def test_schema_check_fails_with_a_diff_when_the_file_drifted(
    omnidesk: Omnidesk, tmp_path: Path
) -> None:
    path = tmp_path / "schema.graphql"
    assert omnidesk("schema", "--path", str(path)).returncode == 0
    path.write_text(path.read_text().replace("type Query {", "type Query {\n  retired: Int", 1))

    checked = omnidesk("schema", "--check", "--path", str(path))

    assert checked.returncode == 1
    diff = checked.stdout.splitlines()
    assert f"--- {path}" in diff
    assert "+++ code" in diff
    assert "-  retired: Int" in diff
    assert f"{path} differs from the code: run `omnidesk schema` and commit it" in checked.stdout


def test_schema_check_fails_when_the_file_is_missing(omnidesk: Omnidesk, tmp_path: Path) -> None:
    checked = omnidesk("schema", "--check", "--path", str(tmp_path / "absent.graphql"))

    assert checked.returncode == 1
    assert "+type Query {" in checked.stdout.splitlines()


def test_seed_loads_the_demo_once_and_replace_reloads_it(omnidesk: Omnidesk) -> None:
    """On its own embedded database (the fixture's empty data directory), as a fresh checkout would."""
    first = omnidesk("seed")
    second = omnidesk("seed")
    replaced = omnidesk("seed", "--replace")
    assert (first.returncode, first.stdout.strip()) == (0, "demo organization loaded")
    assert (second.returncode, second.stdout.strip()) == (
        0,
        "demo organization already present (use --replace)",
    )
    assert (replaced.returncode, replaced.stdout.strip()) == (0, "demo organization loaded")
