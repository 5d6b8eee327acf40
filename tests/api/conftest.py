from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.api.server import Server, new_org_id, start_server


@pytest.fixture(scope="session")
def server(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the API tests; each test works in an organization of its own."""
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"api_{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path_factory.mktemp("server"),
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def org_id() -> str:
    return new_org_id()
