"""What makes a task a callback: the kind of callback, the number to dial and how dialling went.

Kept apart from ``domain.callbacks.callback`` (the stored schedule) so that ``domain.tasks`` can
carry it without importing the scheduling rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The CAD variable a scheduled callback's reason travels in (seed 002: "usually stored as a CAD
# variable"; an admin may configure a variable of this name to show it in the popover).
REASON_VARIABLE = "callbackReason"


class CallbackType(StrEnum):
    COURTESY = "COURTESY"  # the customer chose a callback instead of waiting (keeps its place)
    WEB = "WEB"  # requested from a web form or a bot, with a name and a number
    SCHEDULED = "SCHEDULED"  # scheduled by an agent for a window in the customer's time zone
    PERSONAL = "PERSONAL"  # scheduled, and offered first to the agent it is assigned to


@dataclass(frozen=True, kw_only=True)
class TaskCallback:
    """On a ``CALLBACK`` task. Once an agent accepts the offer the system dials ``number``; the
    customer is on the call only from ``answered_at`` on."""

    callback_type: CallbackType
    number: str
    reason: str | None = None
    # Scheduled and personal callbacks: the schedule the task was made from.
    callback_id: str | None = None
    answered_at: datetime | None = None
    # How many times the customer did not answer (each time the task went back to its queue).
    unanswered: int = 0

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def answered_now(self, now: datetime) -> TaskCallback:
        return dataclasses.replace(self, answered_at=now)

    def not_answered(self) -> TaskCallback:
        return dataclasses.replace(self, unanswered=self.unanswered + 1)
