"""The embedded ``mongod``: a primary of ``rs0`` that stops cleanly, keeps its data, and recovers
by itself from what a crashed run leaves behind (an orphan, a port taken in the meantime)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from persistence.database import DatabaseNotUsable, ensure_replica_set, make_client
from persistence.embedded_mongod import EmbeddedMongo, EmbeddedMongoError, find_mongod, free_port

# Where a run records its mongod (pid, port, owner) for the next run to find.
STATE_FILE = "omnidesk-mongod.json"

# A server process in miniature: starts the embedded mongod, writes, reports its pid, then
# waits to be killed.
OWNER_SCRIPT = """
import sys
from pathlib import Path
from pymongo import MongoClient
from persistence.embedded_mongod import EmbeddedMongo, find_mongod

mongo = EmbeddedMongo(data_dir=Path(sys.argv[1]), binary=find_mongod())
mongo.start()
with MongoClient(mongo.url) as client:
    client.omnidesk.notes.insert_one({"_id": "written before the crash"})
print(mongo.process.pid, flush=True)
sys.stdin.read()
"""


# Helpers shared with tests/api/test_lifecycle.py -----------------------------------------------


def mongods_on(data_dir: Path) -> list[int]:
    """Live (not zombie) mongod processes whose command line names ``data_dir``."""
    wanted = os.fsencode(str(data_dir))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(") ", 1)[-1][:1]
        except OSError:
            continue
        if Path(os.fsdecode(args[0])).name == "mongod" and wanted in args and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for_exit(pid: int, timeout: float = 60.0) -> bool:
    """Block until process ``pid`` (not necessarily our child) has exited; False on timeout."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([descriptor], [], [], timeout)
    finally:
        os.close(descriptor)
    return bool(readable)


@contextlib.contextmanager
def standalone_mongod(data_dir: Path) -> Iterator[str]:
    """A mongod started without ``--replSet``: the misconfiguration omnidesk must refuse."""
    data_dir.mkdir(parents=True)
    port = free_port()
    command = [
        str(find_mongod()),
        "--dbpath", str(data_dir),
        "--port", str(port),
        "--bind_ip", "127.0.0.1",
        "--logpath", str(data_dir / "mongod.log"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    try:
        with MongoClient(url, serverSelectionTimeoutMS=60_000) as client:
            client.admin.command("ping")  # returns once mongod accepts connections
        yield url
    finally:
        process.terminate()
        process.wait(60)


# Fixtures and local helpers --------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "mongo"


@contextlib.contextmanager
def running(data_dir: Path) -> Iterator[EmbeddedMongo]:
    mongo = EmbeddedMongo(data_dir=data_dir, binary=find_mongod())
    mongo.start()
    try:
        yield mongo
    finally:
        mongo.stop()


def notes(mongo: EmbeddedMongo) -> list[str]:
    with MongoClient(mongo.url) as client:
        return [note["_id"] for note in client.omnidesk.notes.find().sort("_id")]


def write_note(mongo: EmbeddedMongo, note: str) -> None:
    with MongoClient(mongo.url) as client:
        client.omnidesk.notes.insert_one({"_id": note})


def port_accepts_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Specs -----------------------------------------------------------------------------------------


def test_start_gives_a_writable_primary_of_rs0_where_transactions_commit_and_abort(
    data_dir: Path,
) -> None:
    with running(data_dir) as mongo, MongoClient(mongo.url) as client:
        hello = client.admin.command("hello")
        assert (hello["setName"], hello["isWritablePrimary"]) == ("rs0", True)

        with client.start_session() as session, session.start_transaction():
            client.omnidesk.tasks.insert_one({"_id": "t1"}, session=session)
            client.omnidesk.events.insert_one({"_id": "e1", "task": "t1"}, session=session)
        with client.start_session() as session:
            session.start_transaction()
            client.omnidesk.tasks.insert_one({"_id": "t2"}, session=session)
            session.abort_transaction()

        assert list(client.omnidesk.tasks.find()) == [{"_id": "t1"}]
        assert list(client.omnidesk.events.find()) == [{"_id": "e1", "task": "t1"}]


def test_stop_ends_the_process_and_frees_the_port(data_dir: Path) -> None:
    with running(data_dir) as mongo:
        assert mongo.process is not None
        process, port = mongo.process, mongo.port
        assert mongods_on(data_dir) == [process.pid]

    assert process.poll() is not None
    assert mongods_on(data_dir) == []
    assert port is not None
    assert port_accepts_bind(port)


def test_a_restart_keeps_the_data_and_the_port(data_dir: Path) -> None:
    mongo = EmbeddedMongo(data_dir=data_dir, binary=find_mongod())
    mongo.start()
    try:
        write_note(mongo, "kept")
        first_port = mongo.port
    finally:
        mongo.stop()

    mongo.start()
    try:
        assert notes(mongo) == ["kept"]
        assert mongo.port == first_port
    finally:
        mongo.stop()


def test_a_mongod_whose_owner_is_killed_dies_with_it_and_the_next_start_has_the_data(
    data_dir: Path,
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as owner:
        assert owner.stdout is not None
        mongod_pid = int(owner.stdout.readline())  # the owner prints once mongod is primary
        owner.kill()
        owner.wait()

    assert wait_for_exit(mongod_pid), "mongod outlived its owner: the death signal did not work"
    with running(data_dir) as mongo:
        assert notes(mongo) == ["written before the crash"]


def test_an_orphan_left_running_on_the_data_dir_is_stopped_by_the_next_start(
    data_dir: Path, tmp_path: Path
) -> None:
    with running(data_dir) as mongo:
        write_note(mongo, "written before the orphan")
        port = mongo.port
    # Given a mongod on that data directory that outlived its owner (as if the death signal had
    # not worked): started detached, its launcher gone, recorded in the state file as runs do.
    pid_file = tmp_path / "orphan.pid"
    command = [
        str(find_mongod()),
        "--dbpath", str(data_dir),
        "--port", str(port),
        "--bind_ip", "127.0.0.1",
        "--replSet", "rs0",
        "--logpath", str(tmp_path / "orphan.log"),
        "--pidfilepath", str(pid_file),
        "--fork",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as launcher:
        assert launcher.wait() == 0  # --fork returns once the detached mongod accepts connections
    orphan = int(pid_file.read_text())
    state = {"pid": orphan, "port": port, "owner": launcher.pid}
    (data_dir / STATE_FILE).write_text(json.dumps(state))
    assert mongods_on(data_dir) == [orphan]

    with running(data_dir) as mongo:
        assert mongo.process is not None
        assert mongods_on(data_dir) == [mongo.process.pid]
        assert notes(mongo) == ["written before the orphan"]
    assert wait_for_exit(orphan, timeout=0)


def test_a_mongod_whose_owner_is_alive_is_not_killed_by_a_second_start(data_dir: Path) -> None:
    with running(data_dir) as first:
        second = EmbeddedMongo(data_dir=data_dir, binary=find_mongod())
        with pytest.raises(EmbeddedMongoError, match=r"is in use by mongod .* OMNIDESK_DATA_DIR"):
            second.start()
        assert first.process is not None
        assert mongods_on(data_dir) == [first.process.pid]
        write_note(first, "still serving")
        assert notes(first) == ["still serving"]


def test_a_taken_port_moves_mongod_to_a_new_one_and_reconfigures_the_replica_set(
    data_dir: Path,
) -> None:
    with running(data_dir) as mongo:
        write_note(mongo, "before the move")
        old_port = mongo.port
    assert old_port is not None

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", old_port))
        squatter.listen()
        with running(data_dir) as mongo, MongoClient(mongo.url) as client:
            assert mongo.port != old_port
            config = client.admin.command("replSetGetConfig")["config"]
            assert [member["host"] for member in config["members"]] == [f"127.0.0.1:{mongo.port}"]
            assert client.admin.command("hello")["isWritablePrimary"] is True
            assert notes(mongo) == ["before the move"]
            with client.start_session() as session, session.start_transaction():
                client.omnidesk.notes.insert_one({"_id": "after the move"}, session=session)
            assert notes(mongo) == ["after the move", "before the move"]


def test_a_lost_state_file_still_finds_the_data_and_repairs_the_replica_set(
    data_dir: Path,
) -> None:
    with running(data_dir) as mongo:
        write_note(mongo, "before the state was lost")
    (data_dir / STATE_FILE).unlink()

    with running(data_dir) as mongo, MongoClient(mongo.url) as client:
        config = client.admin.command("replSetGetConfig")["config"]
        assert [member["host"] for member in config["members"]] == [f"127.0.0.1:{mongo.port}"]
        assert notes(mongo) == ["before the state was lost"]


def test_a_missing_mongod_binary_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-mongod"
    with pytest.raises(
        EmbeddedMongoError, match=r"OMNIDESK_MONGOD_BIN=.*no-such-mongod is not a file"
    ):
        find_mongod(str(missing))


def test_a_mongod_binary_that_is_not_executable_is_a_clear_error(tmp_path: Path) -> None:
    not_executable = tmp_path / "mongod"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(EmbeddedMongoError, match=r"OMNIDESK_MONGOD_BIN=.* is not executable"):
        find_mongod(str(not_executable))


def test_a_binary_that_cannot_run_is_a_clear_error_at_start(tmp_path: Path) -> None:
    garbage = tmp_path / "mongod"
    garbage.write_bytes(b"\x00not an executable format\x00")
    garbage.chmod(0o755)
    mongo = EmbeddedMongo(data_dir=tmp_path / "mongo", binary=find_mongod(str(garbage)))
    with pytest.raises(EmbeddedMongoError, match=r"cannot run .*mongod: Exec format error"):
        mongo.start()


async def test_ensure_replica_set_accepts_the_embedded_replica_set(mongodb_url: str) -> None:
    client = make_client(mongodb_url)
    try:
        await ensure_replica_set(client)
    finally:
        await client.close()


async def test_ensure_replica_set_refuses_a_standalone_server_saying_how_to_fix_it(
    tmp_path: Path,
) -> None:
    with standalone_mongod(tmp_path / "standalone") as url:
        client = make_client(url)
        try:
            with pytest.raises(DatabaseNotUsable) as refused:
                await ensure_replica_set(client)
        finally:
            await client.close()
    message = str(refused.value)
    assert "standalone server" in message
    assert "--replSet rs0" in message
    assert "rs.initiate()" in message
    assert "unset OMNIDESK_MONGODB_URL" in message
