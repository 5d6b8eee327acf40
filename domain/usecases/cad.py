"""Saving, updating and revealing CAD variables (SPEC §7, seed 002).

Agents on the task (primary, consulted, conference) save against the versions they read; the flow
(integration role) updates without versions. Either way the task is stored with its own optimistic
version, so two saves at once cannot both commit: the loser's transaction re-runs from the start
(``TransientConflict``), re-reads the task and now meets the winner's per-variable version — a
conflict, told to the loser in the result and on its ``cadConflicts`` stream. One winner, whatever
the interleaving and however many server instances.

Results (which an idempotent repeat stores and returns) carry secure values masked; only
``reveal_cad_variable`` returns one in clear, records that it did, and is never stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.configuration.base import ConfigKind
from domain.configuration.cad import CadVariable
from domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from domain.identity import Actor, ActorKind, Principal, Role
from domain.ports import Clock, UnitOfWork
from domain.tasks.cad import (
    CadAuthor,
    CadConflict,
    CadConflictOccurred,
    CadEdit,
    CadVariableRevealed,
    CadVariablesSaved,
    change_of,
    edit_violations,
    masked,
    save_values,
)
from domain.tasks.participants import CallAction
from domain.tasks.status import TaskStatus
from domain.tasks.task import CadValue, Task
from domain.usecases.call_access import agent_access, task_of

_OVER = frozenset({TaskStatus.CLOSED, TaskStatus.ABANDONED})


@dataclass(frozen=True)
class SaveCadVariables:
    """An agent's save: every value with the version it read."""

    principal: Principal
    task_id: str
    values: tuple[CadEdit, ...]


@dataclass(frozen=True)
class UpdateCadVariables:
    """The flow's update (integration role): no versions, the last writer wins."""

    principal: Principal
    task_id: str
    values: tuple[CadEdit, ...]


@dataclass(frozen=True)
class RevealCadVariable:
    principal: Principal
    task_id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class CadSaveResult:
    """``saved`` with secure values masked; ``conflicts`` the variables somebody saved first."""

    task_id: str
    task_version: int
    saved: tuple[CadValue, ...]
    conflicts: tuple[CadConflict, ...]


@dataclass(frozen=True, kw_only=True)
class RevealedCadValue:
    name: str
    value: str
    version: int


async def save_cad_variables(cmd: SaveCadVariables, uow: UnitOfWork, clock: Clock) -> CadSaveResult:
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.EDIT_CAD)
    author = CadAuthor(actor=access.actor, name=access.party.name)
    if any(edit.expected_version is None for edit in cmd.values):
        raise ValidationFailed.single(
            "values", "expected_version_required", "an agent saves against the versions it read"
        )
    return await _save(uow, access.task, cmd.values, author, clock.now(), by_agent=True)


async def update_cad_variables(
    cmd: UpdateCadVariables, uow: UnitOfWork, clock: Clock
) -> CadSaveResult:
    if not cmd.principal.has(Role.INTEGRATION):
        raise Forbidden("only the flow (integration role) updates CAD variables without versions")
    task = await task_of(uow, cmd.principal.org_id, cmd.task_id)
    if task.status in _OVER:
        raise InvalidState("the task is over", current_state=task.status.value)
    author = CadAuthor(actor=Actor(ActorKind.INTEGRATION, cmd.principal.subject))
    edits = tuple(CadEdit(edit.name, edit.value) for edit in cmd.values)
    return await _save(uow, task, edits, author, clock.now(), by_agent=False)


async def reveal_cad_variable(
    cmd: RevealCadVariable, uow: UnitOfWork, clock: Clock
) -> RevealedCadValue:
    """The clear value, to an agent on the task, once per request; the task's timeline records
    who revealed which variable when (never the value)."""
    access = await agent_access(uow, cmd.principal, cmd.task_id, CallAction.EDIT_CAD)
    task = access.task
    entry = next((e for e in task.cad if e.name == cmd.name), None)
    if entry is None:
        raise NotFound("CAD_VALUE", cmd.name)
    uow.emit(
        CadVariableRevealed(
            **_task_event_fields(task, access.actor, clock.now()),
            name=entry.name,
            value_version=entry.version,
        )
    )
    return RevealedCadValue(name=entry.name, value=entry.value, version=entry.version)


async def _save(
    uow: UnitOfWork,
    task: Task,
    edits: Sequence[CadEdit],
    author: CadAuthor,
    now: datetime,
    *,
    by_agent: bool,
) -> CadSaveResult:
    definitions = await _definitions(uow, task.org_id)
    violations = edit_violations(task, edits, definitions, by_agent=by_agent)
    if violations:
        raise ValidationFailed(violations)
    saving = save_values(task, edits, definitions, by=author, now=now)
    after = saving.task
    if saving.saved:
        await uow.tasks.save(after, expected_version=task.version)
        changes = tuple(change_of(entry) for entry in saving.saved)
        uow.emit(CadVariablesSaved(**_task_event_fields(after, author.actor, now), changes=changes))
    for conflict in saving.conflicts:
        uow.emit(
            CadConflictOccurred(
                org_id=task.org_id,
                occurred_at=now,
                actor=author.actor,
                agent_id=author.actor.id,
                task_id=task.task_id,
                conflict=conflict,
            )
        )
    return CadSaveResult(
        task_id=task.task_id,
        task_version=after.version,
        saved=tuple(masked(entry) for entry in saving.saved),
        conflicts=saving.conflicts,
    )


async def _definitions(uow: UnitOfWork, org_id: str) -> Mapping[str, CadVariable]:
    variables = await uow.configuration.list_active(org_id, ConfigKind.CAD_VARIABLE)
    return {v.name: v for v in variables if isinstance(v, CadVariable)}


def _task_event_fields(task: Task, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "org_id": task.org_id,
        "occurred_at": now,
        "actor": actor,
        "task_id": task.task_id,
        "queue_id": task.queue_id,
        "channel": task.channel,
        "status": task.status,
        "version": task.version,
    }
