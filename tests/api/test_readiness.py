"""Liveness and readiness: ``/readyz`` says ready only while MongoDB answers and the change-stream
feed runs, so a load balancer stops sending subscribers to an instance whose subscriptions
would stay silent.

The running server is asked over HTTP. For the feed going down, the application is run in
this process (the same ``create_app`` and lifespan, driven through ASGI) so the test can reach
its feed; killing a server-side change stream for real is covered in
``tests/persistence/test_event_feed.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from api.bootstrap import Services
from api.settings import Settings
from persistence.database import make_client
from tests.api.server import TEST_SECRET, Server
from tests.persistence.test_event_feed import kill_change_stream

WAIT = 30.0


async def test_healthz_says_ok(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/healthz")

    assert (response.status_code, response.text) == (200, "ok")


async def test_readyz_says_ready_when_mongodb_and_the_feed_run(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"ready": True, "reason": "ok"}


class InProcess:
    def __init__(self, http: httpx.AsyncClient, services: Services, database: str) -> None:
        self.http = http
        self.services = services
        self.database = database


@pytest.fixture
async def in_process(mongodb_url: str, tmp_path: Path) -> AsyncIterator[InProcess]:
    database = f"ready_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        mongodb_url=SecretStr(mongodb_url),
        database=database,
        jwt_secret=SecretStr(TEST_SECRET),
        seed_demo=False,
        data_dir=tmp_path,
    )
    opened: asyncio.Future[Services] = asyncio.get_running_loop().create_future()
    app = create_app(settings, on_ready=opened.set_result)
    try:
        async with app.router.lifespan_context(app):
            services = await asyncio.wait_for(opened, WAIT)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://omnidesk.test"
            ) as http:
                yield InProcess(http, services, database)
    finally:
        client = make_client(mongodb_url)
        await client.drop_database(database)
        await client.close()


async def test_readyz_fails_while_the_event_feed_is_dead(in_process: InProcess) -> None:
    assert (await in_process.http.get("/readyz")).status_code == 200

    await in_process.services.feed.stop()

    response = await in_process.http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["reason"].startswith("event feed not running")
    assert (await in_process.http.get("/healthz")).status_code == 200  # alive, just not ready


async def test_readyz_recovers_when_an_interrupted_feed_resumes(in_process: InProcess) -> None:
    feed = in_process.services.feed
    client = in_process.services.client

    await kill_change_stream(client, client[in_process.database])
    await asyncio.wait_for(feed.wait_until(healthy=False), WAIT)
    await asyncio.wait_for(feed.wait_until(healthy=True), WAIT)

    response = await in_process.http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"ready": True, "reason": "ok"})
