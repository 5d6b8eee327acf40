"""``OMNIDESK_WORKERS``: several server processes on one port, each a whole instance (its own
change stream, timers and sweep), as several machines behind a load balancer would be."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.center import Center, subscription
from tests.api.server import Server, new_org_id, start_server
from tests.api.test_routing_instances import OFFER_FEED

AGENTS = 6
WORKERS = 2


@pytest.fixture(scope="module")
def workers_server(mongodb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"workers_{uuid.uuid4().hex[:8]}",
        log_dir=tmp_path_factory.mktemp("workers"),
        extra_env={"OMNIDESK_WORKERS": str(WORKERS)},
    )
    try:
        yield running
    finally:
        running.stop()


def worker_pids(server: Server) -> list[int]:
    """uvicorn's worker processes: the server's children started by multiprocessing's spawn
    (not its resource tracker)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = stat.with_name("cmdline").read_text(errors="replace")
            if int(fields[1]) == server.process.pid and "spawn_main" in cmdline:
                children.append(int(stat.parent.name))
    return children


async def test_every_agent_gets_its_offer_whichever_worker_holds_its_socket(
    workers_server: Server,
) -> None:
    center = Center(workers_server, new_org_id())
    line = await center.line("CHAT", offer_timeout=600)
    profile = await center.profile(voice=0, chat=1)
    agents = [await center.logged_in_agent(line.team_id, profile) for _ in range(AGENTS)]
    async with contextlib.AsyncExitStack() as stack:
        feeds = [
            await stack.enter_async_context(
                subscription(workers_server, bearer, OFFER_FEED, after=0)
            )
            for _, bearer in agents
        ]
        tasks = await asyncio.gather(*(center.report(line) for _ in range(AGENTS)))
        made = await asyncio.gather(*(next_item() for next_item in feeds))

    assert len(worker_pids(workers_server)) == WORKERS
    assert sorted(m["taskId"] for m in made) == sorted(t["id"] for t in tasks)
    assert {m["__typename"] for m in made} == {"OfferMade"}
