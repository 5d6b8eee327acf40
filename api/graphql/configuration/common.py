"""What every configuration type shares, and how inputs become domain fields."""

import dataclasses
import typing
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types.unset import UnsetType

from domain.configuration.base import ConfigEntity, ConfigKind, entity_class
from domain.errors import ValidationFailed, Violation

ConfigKindType = strawberry.enum(ConfigKind, name="ConfigurationKind")

# Input fields that steer the mutation rather than describe the entity.
CONTROL_FIELDS = frozenset({"id", "expected_version", "idempotency_key"})


@strawberry.interface(description="An entity admins configure (SPEC §1).")
class ConfigurationEntity:
    id: strawberry.ID
    name: str
    active: bool
    version: int = strawberry.field(
        description="Increments on every change; pass as `expectedVersion`."
    )
    created_at: datetime
    updated_at: datetime


def base_fields(entity: ConfigEntity) -> dict[str, Any]:
    return {
        "id": strawberry.ID(entity.id),
        "name": entity.name,
        "active": entity.active,
        "version": entity.version,
        "created_at": entity.created_at,
        "updated_at": entity.updated_at,
    }


def to_domain_value(value: Any) -> Any:
    if hasattr(value, "to_domain"):
        return value.to_domain()
    if isinstance(value, list):
        return tuple(to_domain_value(item) for item in value)
    return value


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def input_fields(kind: ConfigKind, data: Any) -> dict[str, Any]:
    """The entity fields an input sets: unset ones are left out; an explicit null on a field the
    entity requires is a violation rather than a crash further down."""
    hints = typing.get_type_hints(entity_class(kind))
    fields: dict[str, Any] = {}
    violations = []
    for field in dataclasses.fields(data):
        value = getattr(data, field.name)
        if field.name in CONTROL_FIELDS or isinstance(value, UnsetType):
            continue
        if value is None and type(None) not in typing.get_args(hints[field.name]):
            violations.append(
                Violation(camel(field.name), "required", f"{camel(field.name)} cannot be null")
            )
            continue
        fields[field.name] = to_domain_value(value)
    if violations:
        raise ValidationFailed(violations)
    return fields
