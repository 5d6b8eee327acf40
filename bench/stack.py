"""What every benchmark runs against: an embedded ``mongod`` and one server subprocess, started in
a temporary directory and stopped however the measurement ends (with the server's log tail when
it fails)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from persistence.embedded_mongod import EmbeddedMongo, find_mongod
from tests.api.server import Server, start_server

REPO_ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def running_stack(
    log: Callable[[str], None], *, workers: int = 1
) -> Iterator[tuple[EmbeddedMongo, Server]]:
    mongo: EmbeddedMongo | None = None
    server: Server | None = None
    with tempfile.TemporaryDirectory(prefix="omnidesk-bench-") as tmp:
        workdir = Path(tmp)
        try:
            log("starting embedded mongod ...")
            mongo = EmbeddedMongo(data_dir=workdir / "mongod", binary=find_mongod())
            mongo.start()
            log("starting server ...")
            (workdir / "server").mkdir()
            server = start_server(
                mongodb_url=mongo.url,
                database=f"bench_{uuid.uuid4().hex[:8]}",
                log_dir=workdir / "server",
                extra_env={
                    "OMNIDESK_WORKERS": str(workers),
                    "PYTHONPATH": os.pathsep.join(
                        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
                    ),
                },
            )
            yield mongo, server
        except BaseException:
            if server is not None:
                log("server log tail:\n" + server.logs()[-4000:])
            raise
        finally:
            if server is not None:
                log("stopping server ...")
                server.stop()
            if mongo is not None:
                log("stopping mongod ...")
                mongo.stop()
