"""``omnidesk serve`` as an operator meets it: with its embedded mongod it starts, answers, and
stops cleanly; killed, it leaves no mongod behind and a restart finds the data; given a MongoDB
it cannot use, it says how to fix that and exits 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from domain.identity import Role
from persistence.embedded_mongod import free_port
from tests.api.client import execute
from tests.api.server import TEST_SECRET, start_server, token
from tests.persistence.test_embedded_mongod import mongods_on, standalone_mongod, wait_for_exit

OMNIDESK = Path(sys.executable).with_name("omnidesk")

CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) { __typename ... on CreateTeamSuccess { team { name } } }
}
"""

TEAM_NAMES = """
query { teams(first: 10) { nodes { name } } }
"""


@pytest.fixture(autouse=True)
def _no_configured_mongodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests decide themselves whether the server gets a MongoDB URL."""
    monkeypatch.delenv("OMNIDESK_MONGODB_URL", raising=False)
    monkeypatch.delenv("OMNIDESK_MONGOD_BIN", raising=False)


def embedded_data_dir(log_dir: Path) -> Path:
    """Where ``start_server``'s ``OMNIDESK_DATA_DIR`` puts the embedded mongod's files."""
    return (log_dir / "data" / "mongo").resolve()


def run_serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``omnidesk serve`` expected to give up at start: its whole output and exit code."""
    return subprocess.run(
        [str(OMNIDESK), "serve", "--host", "127.0.0.1", "--port", str(free_port())],
        env={
            **os.environ,
            "OMNIDESK_JWT_SECRET": TEST_SECRET,
            "OMNIDESK_DATA_DIR": str(tmp_path / "data"),
            "OMNIDESK_SEED_DEMO": "false",
            **env,
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


async def test_serve_without_a_mongodb_url_answers_and_sigterm_stops_it_and_its_mongod(
    tmp_path: Path,
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    admin = token(org, Role.ADMIN)
    server = start_server(mongodb_url=None, database="lifecycle", log_dir=tmp_path)
    try:
        assert len(mongods_on(embedded_data_dir(tmp_path))) == 1

        created = await execute(server, admin, CREATE_TEAM, {"input": {"name": "Billing"}})
        listed = await execute(server, admin, TEAM_NAMES)

        assert created["createTeam"] == {
            "__typename": "CreateTeamSuccess",
            "team": {"name": "Billing"},
        }
        assert listed["teams"]["nodes"] == [{"name": "Billing"}]
    finally:
        server.stop(signal.SIGTERM)

    assert server.process.returncode == 0, server.logs()
    assert mongods_on(embedded_data_dir(tmp_path)) == []
    assert "Traceback" not in server.logs()


async def test_a_server_killed_with_sigkill_takes_its_mongod_along_and_a_restart_has_the_data(
    tmp_path: Path,
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    admin = token(org, Role.ADMIN)
    first = start_server(mongodb_url=None, database="lifecycle", log_dir=tmp_path)
    try:
        await execute(first, admin, CREATE_TEAM, {"input": {"name": "Sales"}})
        (mongod,) = mongods_on(embedded_data_dir(tmp_path))
    finally:
        first.stop(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL

    assert wait_for_exit(mongod), "the embedded mongod outlived its killed server"
    assert mongods_on(embedded_data_dir(tmp_path)) == []

    second = start_server(mongodb_url=None, database="lifecycle", log_dir=tmp_path)
    try:
        listed = await execute(second, admin, TEAM_NAMES)
        assert listed["teams"]["nodes"] == [{"name": "Sales"}]
    finally:
        second.stop(signal.SIGTERM)
    assert mongods_on(embedded_data_dir(tmp_path)) == []


def test_serve_against_a_standalone_mongodb_exits_2_saying_how_to_fix_it(tmp_path: Path) -> None:
    with standalone_mongod(tmp_path / "standalone") as url:
        result = run_serve(tmp_path, OMNIDESK_MONGODB_URL=url)

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "is a standalone server" in result.stderr
    assert "Start mongod with --replSet rs0 and run rs.initiate() once" in result.stderr
    assert "Traceback" not in output
    assert "Uvicorn running" not in output


def test_serve_with_a_missing_mongod_binary_exits_2_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "mongod"

    result = run_serve(tmp_path, OMNIDESK_MONGOD_BIN=str(missing))

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"OMNIDESK_MONGOD_BIN={missing} is not a file" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
