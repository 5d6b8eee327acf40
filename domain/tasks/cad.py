"""CAD values on a task (SPEC §7, seed 002): who may write which variable, saving several at once
against the versions the writer read, and masking secure values.

Each variable carries its own version. An agent saves against the version it read: when another
writer saved that variable first, the first save stands and this one is a ``CadConflict`` — the
value that won, who saved it and when — while the other variables of the same save still apply
(per-variable, like the desktop's fields: agent B's stale *case number* must not throw away the
*action code* nobody else touched). Invalid input refuses the whole save.

Secure values stay in the task only: everything this module hands out for showing (conflicts,
events) carries ``SECURE_MASK`` or nothing instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.configuration.cad import CadVariable, cad_value_violation
from domain.errors import Violation
from domain.events import DomainEvent
from domain.identity import Actor
from domain.streams import StreamKey, cad_conflicts_stream
from domain.tasks.events import TaskEvent
from domain.tasks.task import CadValue, Task
from domain.validation import Rules

SECURE_MASK = "*****"
MAX_VALUES_PER_SAVE = 50


@dataclass(frozen=True)
class CadEdit:
    """One variable of a save. ``expected_version`` is the version the writer read (0: it had no
    value); None for the flow, which writes without one and so always wins."""

    name: str
    value: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class CadAuthor:
    actor: Actor
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class CadConflict:
    """A variable somebody else saved first. ``value`` is the winning value (masked if secure)."""

    name: str
    value: str
    secure: bool
    version: int
    expected_version: int
    saved_by: Actor | None
    saved_by_name: str | None
    saved_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class CadSaving:
    """The task after a save (unchanged when nothing applied), what was saved, what conflicted."""

    task: Task
    saved: tuple[CadValue, ...]
    conflicts: tuple[CadConflict, ...]


def shown_value(entry: CadValue) -> str:
    return SECURE_MASK if entry.secure else entry.value


def masked(entry: CadValue) -> CadValue:
    """The entry as it may leave the server: a secure value replaced by ``SECURE_MASK``."""
    return dataclasses.replace(entry, value=SECURE_MASK) if entry.secure else entry


def edit_violations(
    task: Task,
    edits: Sequence[CadEdit],
    definitions: Mapping[str, CadVariable],
    *,
    by_agent: bool,
) -> list[Violation]:
    """Every broken rule of a save, fields ``values.<i>.name|value|expectedVersion``. Messages name
    the variable and the rule, never the value. Agents write only editable variables; the flow
    (``by_agent`` False) writes any active one, as the connector does when reporting a contact."""
    versions = {entry.name: entry.version for entry in task.cad}
    rules = Rules()
    if not edits:
        rules.fail("values", "required", "values must name at least one variable")
    if len(edits) > MAX_VALUES_PER_SAVE:
        rules.fail("values", f"max_items:{MAX_VALUES_PER_SAVE}", "too many variables in one save")
    rules.unique_items("values", [edit.name for edit in edits])
    for index, edit in enumerate(edits):
        field = f"values.{index}"
        variable = definitions.get(edit.name)
        if variable is None:
            rules.fail(
                f"{field}.name", "reference", f"no active CAD variable is named {edit.name!r}"
            )
            continue
        _value_rules(rules, field, edit, variable, by_agent=by_agent)
        _version_rule(rules, field, edit, versions.get(edit.name, 0))
    return rules.violations


def _value_rules(
    rules: Rules, field: str, edit: CadEdit, variable: CadVariable, *, by_agent: bool
) -> None:
    if by_agent and not variable.editable:
        rules.fail(f"{field}.name", "not_editable", f"CAD variable {edit.name!r} is read-only")
    # Named after the variable, not the field: the message must never quote the value.
    violation = cad_value_violation(edit.name, variable.var_type, edit.value)
    if violation is not None:
        rules.fail(f"{field}.value", violation.rule, f"CAD variable {violation.message}")


def _version_rule(rules: Rules, field: str, edit: CadEdit, version: int) -> None:
    """Versions only grow: one above the stored version was never read from this task."""
    expected = edit.expected_version
    if expected is not None and not 0 <= expected <= version:
        rules.fail(
            f"{field}.expectedVersion",
            f"range:0-{version}",
            f"expectedVersion of {edit.name!r} must be a version it had (0 to {version})",
        )


def save_values(
    task: Task,
    edits: Sequence[CadEdit],
    definitions: Mapping[str, CadVariable],
    *,
    by: CadAuthor,
    now: datetime,
) -> CadSaving:
    """Apply valid ``edits`` (see ``edit_violations``): each whose expected version is current is
    saved with the next version; each stale one becomes a conflict."""
    current = {entry.name: entry for entry in task.cad}
    saved: list[CadValue] = []
    conflicts: list[CadConflict] = []
    for edit in edits:
        before = current.get(edit.name)
        version = 0 if before is None else before.version
        if edit.expected_version is not None and edit.expected_version != version:
            assert before is not None  # versions only grow: a stale one means somebody saved
            conflicts.append(_conflict(before, edit.expected_version))
            continue
        secure = definitions[edit.name].secure
        saved.append(_saved(edit, secure=secure, version=version + 1, by=by, now=now))
    if not saved:
        return CadSaving(task=task, saved=(), conflicts=tuple(conflicts))
    return CadSaving(
        task=task.changed(cad=_merged(task.cad, saved)),
        saved=tuple(saved),
        conflicts=tuple(conflicts),
    )


def _saved(edit: CadEdit, *, secure: bool, version: int, by: CadAuthor, now: datetime) -> CadValue:
    return CadValue(
        edit.name,
        edit.value,
        secure=secure,
        version=version,
        saved_by=by.actor,
        saved_by_name=by.name,
        saved_at=now,
    )


def _merged(cad: tuple[CadValue, ...], saved: Sequence[CadValue]) -> tuple[CadValue, ...]:
    """Saved values replace their variable's entry in place; new variables go at the end."""
    by_name = {entry.name: entry for entry in saved}
    kept = tuple(by_name.pop(entry.name, entry) for entry in cad)
    return kept + tuple(by_name.values())


def _conflict(winner: CadValue, expected_version: int) -> CadConflict:
    return CadConflict(
        name=winner.name,
        value=shown_value(winner),
        secure=winner.secure,
        version=winner.version,
        expected_version=expected_version,
        saved_by=winner.saved_by,
        saved_by_name=winner.saved_by_name,
        saved_at=winner.saved_at,
    )


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CadChange:
    """One saved variable as the timeline tells it: ``value`` is None for a secure variable (the
    events collection must never hold its clear value)."""

    name: str
    value: str | None
    secure: bool
    version: int


@dataclass(frozen=True, kw_only=True)
class CadVariablesSaved(TaskEvent):
    changes: tuple[CadChange, ...]


@dataclass(frozen=True, kw_only=True)
class CadVariableRevealed(TaskEvent):
    """The audit trail of a reveal: who (the actor) saw which variable, when. Never the value."""

    name: str
    value_version: int


@dataclass(frozen=True, kw_only=True)
class CadConflictOccurred(DomainEvent):
    """To the agent whose save of ``conflict.name`` lost: what won, by whom, when."""

    agent_id: str
    task_id: str
    conflict: CadConflict

    def streams(self) -> tuple[StreamKey, ...]:
        return (cad_conflicts_stream(self.org_id, self.agent_id),)


def change_of(entry: CadValue) -> CadChange:
    return CadChange(
        name=entry.name,
        value=None if entry.secure else entry.value,
        secure=entry.secure,
        version=entry.version,
    )
