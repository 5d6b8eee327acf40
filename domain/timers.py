"""Durable timers: something the system must do at a given instant (an offer's deadline, resuming a
paused recording, ending wrap-up, opening a callback window), stored so it survives restarts.

A timer names its target and the target's version when it was set; the handler that runs when it
fires re-reads the target and does nothing if it has moved on, so a late or repeated firing is
harmless. The id is derived from (kind, target, version): scheduling the same timer twice - a use
case retried after a transaction conflict, say - stores it once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from domain.ports import Clock, UnitOfWork


class TimerKind(StrEnum):
    OFFER_DEADLINE = "OFFER_DEADLINE"
    RECORDING_RESUME = "RECORDING_RESUME"
    WRAP_UP_TIMEOUT = "WRAP_UP_TIMEOUT"
    CALLBACK_WINDOW = "CALLBACK_WINDOW"
    PRESENCE_GRACE = "PRESENCE_GRACE"


def timer_id(kind: TimerKind, target_id: str, expected_version: int | None) -> str:
    """``KIND:target:version`` (``*`` for any version). The version is the last segment and never
    holds a colon, so distinct (kind, target, version) triples never share an id."""
    version = "*" if expected_version is None else str(expected_version)
    return f"{kind.value}:{target_id}:{version}"


@dataclass(frozen=True)
class Timer:
    id: str
    org_id: str
    kind: TimerKind
    target_id: str
    due_at: datetime
    expected_version: int | None
    payload: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.due_at.tzinfo is None:
            raise ValueError("a timer's due_at must be timezone-aware")
        # A read-only copy: the caller's dict cannot change a timer after the fact.
        object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))

    @classmethod
    def at(
        cls,
        due_at: datetime,
        *,
        org_id: str,
        kind: TimerKind,
        target_id: str,
        expected_version: int | None,
        payload: Mapping[str, str] | None = None,
    ) -> Timer:
        """A timer with its deterministic id."""
        return cls(
            id=timer_id(kind, target_id, expected_version),
            org_id=org_id,
            kind=kind,
            target_id=target_id,
            due_at=due_at,
            expected_version=expected_version,
            payload=payload or {},
        )


class TimerAlreadyFired(Exception):
    """The timer is no longer scheduled: another firing completed it, or a use case cancelled it.
    Raised inside the firing transaction, so the handler's changes are rolled back with it."""


class TimerHandler(Protocol):
    """What a kind of timer does when it fires: an ordinary use case, run in one transaction. It
    must check that the target is still in the state the timer expects and do nothing otherwise."""

    def __call__(self, timer: Timer, uow: UnitOfWork, clock: Clock, /) -> Awaitable[None]: ...


@dataclass(frozen=True)
class FireTimer:
    timer: Timer
    handler: TimerHandler


async def fire_timer(cmd: FireTimer, uow: UnitOfWork, clock: Clock) -> None:
    """Remove the timer and apply its handler's changes in the same transaction: both commit, or
    neither does. Removing first makes a second, concurrent firing collide before doing any work."""
    await uow.timers.complete(cmd.timer.id)
    await cmd.handler(cmd.timer, uow, clock)


@dataclass(frozen=True)
class FireTimers:
    """Due timers of one kind in one organization, fired together."""

    timers: tuple[Timer, ...]
    handler: TimerHandler


async def fire_timers(cmd: FireTimers, uow: UnitOfWork, clock: Clock) -> int:
    """Fire several timers in one transaction; returns how many fired. A burst of deadlines (a
    team's offers all missed) commits once, instead of each firing taking its turn on the
    organization's streams (every RONA appends to the organization's RONA stream). A timer that
    is already gone is skipped; the others still fire."""
    fired = 0
    for timer in cmd.timers:
        try:
            await uow.timers.complete(timer.id)
        except TimerAlreadyFired:
            continue
        await cmd.handler(timer, uow, clock)
        fired += 1
    return fired
