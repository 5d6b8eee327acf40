"""The conversation record of a (customer address, entry point) pair: which task carries it now.

One record per pair, kept after its task closes: it remembers who the customer is (their id), so a
later conversation with the same pair — an agent writing again, the customer replying — is linked
to the same customer, while a new task keeps the closed one in the customer's history.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from domain.channels import Channel
from domain.tasks.status import TaskStatus
from domain.tasks.task import Task

# A task in one of these is over: its pair is free for a new conversation.
ENDED_STATUSES = frozenset({TaskStatus.CLOSED, TaskStatus.ABANDONED})


@dataclass(frozen=True, kw_only=True)
class Conversation:
    org_id: str
    key: str
    channel: Channel
    entry_point_address: str
    customer_address: str
    task_id: str
    customer_id: str
    customer_name: str | None = None
    updated_at: datetime

    def carried_by(self, task: Task, now: datetime) -> Conversation:
        return dataclasses.replace(
            self,
            task_id=task.task_id,
            customer_id=task.customer.customer_id or self.customer_id,
            customer_name=task.customer.name or self.customer_name,
            updated_at=now,
        )


def is_active(task: Task | None) -> bool:
    """Whether the task still carries its conversation (closed or abandoned ones do not; an entry
    whose task vanished does not either)."""
    return task is not None and task.status not in ENDED_STATUSES
