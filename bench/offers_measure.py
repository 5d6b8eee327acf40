"""Offer benchmark, figures and probes: percentiles, server timestamps, CPU per process, mongod
transactions, waiting for a quiet machine between phases, and the progress log."""

from __future__ import annotations

import asyncio
import math
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bench.foundation import ratio, summary

SETTLE_WINDOW = 0.5
SETTLE_BUSY = 0.1
SETTLE_TIMEOUT = 120.0
# --json-only silences the progress lines (a one-item list, set once from the command line).
QUIET = [False]


def log(message: str) -> None:
    if not QUIET[0]:
        sys.stderr.write(f"[bench] {message}\n")
        sys.stderr.flush()


def summary_or_none(samples_s: list[float]) -> dict[str, float | int] | None:
    return summary(samples_s) if samples_s else None


def wall(iso: str) -> float:
    """A server timestamp (ISO 8601) as seconds since the epoch, like ``time.time()``."""
    return datetime.fromisoformat(iso).timestamp()


def children_of(pid: int) -> list[int]:
    """A process's children (the server's uvicorn workers with ``--workers``), counted with it."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class CpuMeter:
    """CPU seconds used by the server, mongod and this process over a stretch of wall time."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.started = self._read()
        self.at = time.perf_counter()

    def _read(self) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                seconds[name] = sum(self._cpu(each) for each in (pid, *children_of(pid)))
            except (OSError, ValueError, IndexError):
                seconds[name] = math.nan
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds["load_generator"] = usage.ru_utime + usage.ru_stime
        return seconds

    @classmethod
    def _cpu(cls, pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / cls.TICK

    def result(self) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.at
        now = self._read()
        used = {name: now[name] - self.started[name] for name in now}
        return {
            "wall_seconds": round(elapsed, 2),
            "cpu_seconds": {name: round(value, 2) for name, value in used.items()},
            "cores_busy": {name: round(value / elapsed, 2) for name, value in used.items()},
        }


OPCOUNTERS = ("insert", "query", "update", "delete", "getmore", "command")


class TransactionMeter:
    """Transactions mongod committed and aborted over a stretch of time, and the operations it
    served (``serverStatus``): an aborted transaction is a collision some use case retried."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]]) -> None:
        self.client = client
        self.started: dict[str, int] = {}

    async def _read(self) -> dict[str, int]:
        status = await self.client.admin.command("serverStatus")
        transactions = status.get("transactions", {})
        counters = status.get("opcounters", {})
        return {
            "committed": int(transactions.get("totalCommitted", 0)),
            "aborted": int(transactions.get("totalAborted", 0)),
            "operations": sum(int(counters.get(name, 0)) for name in OPCOUNTERS),
        }

    async def start(self) -> TransactionMeter:
        self.started = await self._read()
        return self

    async def result(self) -> dict[str, Any]:
        now = await self._read()
        used = {name: now[name] - self.started[name] for name in now}
        return used | {"aborted_per_committed": ratio(used["aborted"], used["committed"])}


@dataclass
class Probes:
    """What a phase reads about the machine while it runs: CPU per process, mongod transactions."""

    pids: dict[str, int]
    mongo: AsyncMongoClient[dict[str, Any]]

    async def start(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        cpu = CpuMeter(self.pids)
        transactions = await TransactionMeter(self.mongo).start()

        async def result() -> dict[str, Any]:
            return cpu.result() | {"mongod_transactions": await transactions.result()}

        return result


async def settle(pids: dict[str, int]) -> float:
    """Wait (at most SETTLE_TIMEOUT s) until the server and mongod are quiet - below SETTLE_BUSY of
    a core each over SETTLE_WINDOW s - so that a phase does not inherit the previous one's
    backlog; returns the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE_TIMEOUT:
        meter = CpuMeter(pids)
        await asyncio.sleep(SETTLE_WINDOW)  # a measurement window, not a synchronisation
        busy = meter.result()["cores_busy"]
        if all(busy[name] < SETTLE_BUSY for name in pids):
            break
    return round(time.perf_counter() - started, 2)
