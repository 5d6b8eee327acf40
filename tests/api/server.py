"""A real omnidesk server in a subprocess (uvicorn on an ephemeral port), as clients meet it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api.auth import mint_token
from domain.identity import Role
from persistence.embedded_mongod import free_port

TEST_SECRET = "omnidesk-test-secret-that-is-long-enough-for-hs256"


@dataclass
class Server:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    *,
    mongodb_url: str | None,
    database: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "OMNIDESK_DATABASE": database,
        "OMNIDESK_JWT_SECRET": TEST_SECRET,
        "OMNIDESK_SEED_DEMO": "false",
        "OMNIDESK_DATA_DIR": str(log_dir / "data"),
        "OMNIDESK_ALLOWED_ORIGINS": '["https://desk.example.com"]',
        **(extra_env or {}),
    }
    if mongodb_url is not None:
        env["OMNIDESK_MONGODB_URL"] = mongodb_url
    log_path = log_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(port=port, log_path=log_path, process=process, env=env)
    wait_until_ready(server)
    return server


def wait_until_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.logs()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)  # polling a starting process, not synchronising test logic
    server.stop()
    raise RuntimeError(f"server not ready within {timeout} s:\n{server.logs()}")


def new_org_id() -> str:
    return f"org-{uuid.uuid4().hex[:12]}"


def token(
    org_id: str,
    *roles: Role,
    subject: str | None = None,
    lifetime: timedelta = timedelta(hours=1),
    secret: str = TEST_SECRET,
) -> str:
    return mint_token(
        secret=secret,
        subject=subject or f"user-{uuid.uuid4().hex[:8]}",
        org_id=org_id,
        roles=roles,
        now=datetime.now(UTC),
        lifetime=lifetime,
    )
