"""Two server instances on one database, for what must hold across instances."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from tests.api.center import Center
from tests.api.server import Server


class Pair:
    """Two servers on one database. One that was killed is started again (on a new port) when a
    test next asks for it."""

    def __init__(self, start: Callable[[], Server]) -> None:
        self._start = start
        first = start()
        try:
            self._servers = {"a": first, "b": start()}
        except BaseException:
            first.stop()
            raise

    def _running(self, name: str) -> Server:
        if self._servers[name].process.poll() is not None:
            self._servers[name] = self._start()
        return self._servers[name]

    @property
    def a(self) -> Server:
        return self._running("a")

    @property
    def b(self) -> Server:
        return self._running("b")

    def kill(self) -> None:
        for server in self._servers.values():
            server.stop(signal.SIGKILL)

    async def restart(self, name: str) -> Server:
        return await asyncio.to_thread(self._running, name)

    def centers(self, org_id: str) -> tuple[Center, Center]:
        return Center(self.a, org_id), Center(self.b, org_id)

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
