"""Create, update, deactivate and reactivate configuration entities; update organization policies."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.configuration.base import ConfigEntity, ConfigKind, Reference, entity_class
from domain.configuration.events import ConfigurationChange, ConfigurationChanged, PoliciesChanged
from domain.configuration.policies import OrganizationPolicies
from domain.errors import Conflict, InvalidState, NotFound, ValidationFailed, Violation
from domain.identity import Actor
from domain.ports import Clock, UnitOfWork
from domain.usecases.agent_deactivation import sign_out_deactivated_agent

_CHOSEN_ID = re.compile(r"^[A-Za-z0-9._@|:\-]{1,128}$")
_PROTECTED_FIELDS = frozenset({"id", "org_id", "version", "created_at", "updated_at", "active"})


@dataclass(frozen=True)
class CreateConfiguration:
    actor: Actor
    org_id: str
    kind: ConfigKind
    fields: Mapping[str, Any]
    # Imports and seeds keep their own ids; the API always lets the server choose.
    entity_id: str | None = None


@dataclass(frozen=True)
class UpdateConfiguration:
    actor: Actor
    org_id: str
    kind: ConfigKind
    entity_id: str
    changes: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class SetConfigurationActive:
    actor: Actor
    org_id: str
    kind: ConfigKind
    entity_id: str
    active: bool
    expected_version: int | None = None


@dataclass(frozen=True)
class UpdatePolicies:
    actor: Actor
    org_id: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    expected_version: int | None = None


def _new_id() -> str:
    return uuid.uuid4().hex


async def create_configuration(
    cmd: CreateConfiguration, uow: UnitOfWork, clock: Clock
) -> ConfigEntity:
    now = clock.now()
    cls = entity_class(cmd.kind)
    _reject_protected(cmd.fields)
    if cmd.entity_id is not None:
        await _check_chosen_id(cmd.kind, cmd.org_id, cmd.entity_id, uow)
    entity = cls(
        id=cmd.entity_id or _new_id(),
        org_id=cmd.org_id,
        created_at=now,
        updated_at=now,
        **cmd.fields,
    )
    await _check(entity, uow)
    await uow.configuration.add(entity)
    uow.emit(_changed(entity, cmd.actor, ConfigurationChange.CREATED, tuple(cmd.fields)))
    return entity


async def update_configuration(
    cmd: UpdateConfiguration, uow: UnitOfWork, clock: Clock
) -> ConfigEntity:
    _reject_protected(cmd.changes)
    current = await _load(uow, cmd.org_id, cmd.kind, cmd.entity_id, cmd.expected_version)
    changed = tuple(name for name, value in cmd.changes.items() if getattr(current, name) != value)
    if not changed:
        return current
    updated = dataclasses.replace(
        current, **cmd.changes, version=current.version + 1, updated_at=clock.now()
    )
    await _check(updated, uow)
    await _refuse_if_dependents_break(updated, uow)
    await uow.configuration.save(updated, expected_version=current.version)
    uow.emit(_changed(updated, cmd.actor, ConfigurationChange.UPDATED, changed))
    return updated


async def set_configuration_active(
    cmd: SetConfigurationActive, uow: UnitOfWork, clock: Clock
) -> ConfigEntity:
    current = await _load(uow, cmd.org_id, cmd.kind, cmd.entity_id, cmd.expected_version)
    if current.active == cmd.active:
        state = "ACTIVE" if current.active else "INACTIVE"
        raise InvalidState(
            f"{cmd.kind} {cmd.entity_id!r} is already {state.lower()}", current_state=state
        )
    updated = dataclasses.replace(
        current, active=cmd.active, version=current.version + 1, updated_at=clock.now()
    )
    if cmd.active:
        await _check(updated, uow)
        change = ConfigurationChange.REACTIVATED
    else:
        await _refuse_if_in_use(updated, uow)
        change = ConfigurationChange.DEACTIVATED
    await uow.configuration.save(updated, expected_version=current.version)
    uow.emit(_changed(updated, cmd.actor, change, ("active",)))
    if cmd.kind is ConfigKind.AGENT and not cmd.active:
        await sign_out_deactivated_agent(uow, cmd.org_id, cmd.entity_id, updated.updated_at)
    return updated


async def update_policies(
    cmd: UpdatePolicies, uow: UnitOfWork, clock: Clock
) -> OrganizationPolicies:
    current = await uow.policies.get(cmd.org_id) or OrganizationPolicies(org_id=cmd.org_id)
    if cmd.expected_version is not None and cmd.expected_version != current.version:
        raise Conflict("the policies were changed by someone else", current_version=current.version)
    _reject_protected(cmd.changes)
    changed = tuple(name for name, value in cmd.changes.items() if getattr(current, name) != value)
    if not changed:
        return current
    updated = dataclasses.replace(
        current, **cmd.changes, version=current.version + 1, updated_at=clock.now()
    )
    targets: dict[Reference, ConfigEntity] = {}
    violations = updated.validate()
    violations += await _reference_violations(cmd.org_id, updated.references(), uow, targets)
    violations += updated.reference_violations(targets)
    if violations:
        raise ValidationFailed(violations)
    await uow.policies.save(updated, expected_version=current.version)
    uow.emit(
        PoliciesChanged(
            org_id=cmd.org_id,
            occurred_at=updated.updated_at or clock.now(),
            actor=cmd.actor,
            version=updated.version,
            changed_fields=changed,
        )
    )
    return updated


async def _check_chosen_id(kind: ConfigKind, org_id: str, entity_id: str, uow: UnitOfWork) -> None:
    """An id chosen by the caller (e.g. the identity provider's subject of an agent) must be
    printable, bounded, and free in the whole database (ids are global, not per organization)."""
    if not _CHOSEN_ID.match(entity_id):
        raise ValidationFailed.single(
            "id", "id_format", "id must be 1 to 128 characters of letters, digits and . _ - @ | :"
        )
    if await uow.configuration.exists(entity_id):
        raise ValidationFailed.single("id", "unique", f"the id {entity_id!r} is already taken")


def _reject_protected(fields: Mapping[str, Any]) -> None:
    protected = sorted(_PROTECTED_FIELDS.intersection(fields))
    if protected:
        raise ValueError(f"fields managed by the system cannot be set: {protected}")


async def _load(
    uow: UnitOfWork, org_id: str, kind: ConfigKind, entity_id: str, expected_version: int | None
) -> ConfigEntity:
    current = await uow.configuration.get(org_id, kind, entity_id)
    if current is None:
        raise NotFound(kind.value, entity_id)
    if expected_version is not None and expected_version != current.version:
        raise Conflict(
            f"{kind} {entity_id!r} is at version {current.version}, not {expected_version}",
            current_version=current.version,
        )
    return current


async def _check(entity: ConfigEntity, uow: UnitOfWork) -> None:
    targets: dict[Reference, ConfigEntity] = {}
    violations = entity.validate()
    violations += await _reference_violations(entity.org_id, entity.references(), uow, targets)
    violations += entity.reference_violations(targets)
    for name, value in entity.unique_keys().items():
        other = await uow.configuration.find_unique(entity.org_id, entity.kind, name, value)
        if other is not None and other.id != entity.id:
            violations.append(
                Violation(
                    _camel(name), "unique", f"another {entity.kind} already has this {_camel(name)}"
                )
            )
    if entity.has_collection_rules and entity.active:
        await uow.configuration.lock(entity.org_id, entity.kind)
        siblings = [
            other
            for other in await uow.configuration.list_active(entity.org_id, entity.kind)
            if other.id != entity.id
        ]
        violations += entity.collection_violations(siblings)
    if violations:
        raise ValidationFailed(violations)


async def _reference_violations(
    org_id: str,
    references: Sequence[Reference],
    uow: UnitOfWork,
    found: dict[Reference, ConfigEntity] | None = None,
) -> list[Violation]:
    """Violations for references to missing or inactive entities; active targets go to ``found``."""
    violations = []
    for ref in references:
        target = await uow.configuration.get(org_id, ref.kind, ref.id)
        if target is None or not target.active:
            violations.append(
                Violation(
                    ref.field,
                    "reference",
                    f"{ref.field} must name an active {ref.kind} of this organization",
                )
            )
        else:
            # Holding the target in this transaction makes a concurrent deactivation of it retry.
            await uow.configuration.lock(org_id, ref.kind, ref.id)
            if found is not None:
                found[ref] = target
    return violations


async def _refuse_if_in_use(entity: ConfigEntity, uow: UnitOfWork) -> None:
    users = await uow.configuration.dependents(entity.org_id, entity.kind, entity.id)
    if users:
        names = ", ".join(f"{user.kind} {user.name!r}" for user in users[:5])
        raise ValidationFailed.single("id", "in_use", f"still used by active {names}")


async def _refuse_if_dependents_break(entity: ConfigEntity, uow: UnitOfWork) -> None:
    """An update must keep the rules active dependents check on it (``reference_violations``)."""
    kinds = {kind.value: kind for kind in ConfigKind}
    violations = []
    mine = (entity.kind, entity.id)
    for user in await uow.configuration.dependents(entity.org_id, entity.kind, entity.id):
        kind = kinds.get(user.kind)  # None for the organization policies
        dependent: ConfigEntity | OrganizationPolicies | None
        if kind is None:
            dependent = await uow.policies.get(entity.org_id)
        elif _has_reference_rules(kind):
            dependent = await uow.configuration.get(entity.org_id, kind, user.id)
        else:
            continue  # skip loading it: a team may have thousands of agents and no such rule
        if dependent is None:
            continue
        targets = {ref: entity for ref in dependent.references() if (ref.kind, ref.id) == mine}
        violations += [
            Violation("id", "in_use", f"active {user.kind} {user.name!r} needs: {broken.message}")
            for broken in dependent.reference_violations(targets)
        ]
    if violations:
        raise ValidationFailed(violations)


def _has_reference_rules(kind: ConfigKind) -> bool:
    return entity_class(kind).reference_violations is not ConfigEntity.reference_violations


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _changed(
    entity: ConfigEntity, actor: Actor, change: ConfigurationChange, fields: tuple[str, ...]
) -> ConfigurationChanged:
    return ConfigurationChanged(
        org_id=entity.org_id,
        occurred_at=entity.updated_at,
        actor=actor,
        kind=entity.kind,
        entity_id=entity.id,
        change=change,
        version=entity.version,
        changed_fields=tuple(_camel(name) for name in fields),
    )
