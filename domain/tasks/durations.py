"""How long a task spent ringing, talking, on hold, consulting and in wrap-up (SPEC §4)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from domain.tasks.status import TaskStatus

_BUCKET = {
    TaskStatus.OFFERED: "ring",
    TaskStatus.CONNECTED: "talk",
    TaskStatus.POST_CALL: "talk",
    TaskStatus.HELD: "hold",
    TaskStatus.WRAP_UP: "wrap_up",
}


@dataclass(frozen=True)
class Durations:
    """Seconds per phase, summed over every period the task spent in it."""

    ring: float = 0.0
    talk: float = 0.0
    hold: float = 0.0
    consult: float = 0.0
    wrap_up: float = 0.0

    @property
    def handle(self) -> float:
        """Handle time as contact centers count it: talk, hold and after-call work."""
        return self.talk + self.hold + self.wrap_up

    def after(self, status: TaskStatus, elapsed: timedelta) -> Durations:
        """With the time just spent in ``status`` added to its phase."""
        bucket = _BUCKET.get(status)
        if bucket is None:
            return self
        return dataclasses.replace(
            self, **{bucket: getattr(self, bucket) + max(0.0, elapsed.total_seconds())}
        )

    def with_consult(self, elapsed: timedelta) -> Durations:
        return dataclasses.replace(self, consult=self.consult + max(0.0, elapsed.total_seconds()))
