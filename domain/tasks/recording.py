"""Call recording under the organization's policy (SPEC §6): automatic, pausable by the primary
agent, resuming by itself after the configured pause (a durable timer) or early on request."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvalidState


class RecordingState(StrEnum):
    OFF = "OFF"
    RECORDING = "RECORDING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


@dataclass(frozen=True, kw_only=True)
class Recording:
    state: RecordingState = RecordingState.OFF
    # Counts pauses: the auto-resume timer of pause n resumes pause n only.
    pause_count: int = 0
    paused_at: datetime | None = None
    resumes_at: datetime | None = None

    @classmethod
    def started(cls, enabled: bool) -> Recording:
        return cls(state=RecordingState.RECORDING if enabled else RecordingState.OFF)

    def paused(self, now: datetime, pause_seconds: int) -> Recording:
        if self.state is not RecordingState.RECORDING:
            raise InvalidState("only a running recording can be paused", current_state=self.state)
        return dataclasses.replace(
            self,
            state=RecordingState.PAUSED,
            pause_count=self.pause_count + 1,
            paused_at=now,
            resumes_at=now + timedelta(seconds=pause_seconds),
        )

    def resumed(self) -> Recording:
        if self.state is not RecordingState.PAUSED:
            raise InvalidState("only a paused recording can be resumed", current_state=self.state)
        return dataclasses.replace(
            self, state=RecordingState.RECORDING, paused_at=None, resumes_at=None
        )

    def stopped(self) -> Recording:
        if self.state is RecordingState.OFF:
            return self
        return dataclasses.replace(
            self, state=RecordingState.STOPPED, paused_at=None, resumes_at=None
        )
