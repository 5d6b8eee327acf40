"""Telling that a contact session completed, in the transaction that closed its last interaction.

``session_completed`` is meant for the one place every task move is stored
(``call_access.save_call``): it reads the session only when the move closed a task that belongs
to a multi-interaction session, so ordinary calls pay nothing.
"""

from __future__ import annotations

from datetime import datetime

from domain.identity import Actor
from domain.ports import UnitOfWork
from domain.sessions.events import ContactSessionCompleted
from domain.sessions.session import ContactSession, SessionStatus
from domain.tasks.status import TaskStatus
from domain.tasks.task import Task


async def session_completed(
    uow: UnitOfWork, before: Task, after: Task, *, now: datetime, actor: Actor
) -> ContactSessionCompleted | None:
    if after.status is not TaskStatus.CLOSED or before.status is TaskStatus.CLOSED:
        return None
    tasks = {
        t.task_id: t for t in await uow.conversations.session_tasks(after.org_id, after.session)
    }
    tasks[after.task_id] = after  # this transaction's write, whatever the read saw
    if len(tasks) < 2:
        return None
    session = ContactSession.of(after.session, list(tasks.values()))
    if session.status is not SessionStatus.COMPLETE:
        return None
    return ContactSessionCompleted(
        org_id=after.org_id,
        occurred_at=now,
        actor=actor,
        session_id=session.session_id,
        task_ids=tuple(t.task_id for t in session.interactions),
        completed_at=now,
    )
