"""What every configuration entity shares: identity, activity, version, references, uniqueness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from domain.errors import Violation
from domain.validation import Rules


class ConfigKind(StrEnum):
    TEAM = "TEAM"
    AGENT = "AGENT"
    MULTIMEDIA_PROFILE = "MULTIMEDIA_PROFILE"
    QUEUE = "QUEUE"
    ENTRY_POINT = "ENTRY_POINT"
    DIAL_NUMBER = "DIAL_NUMBER"
    IDLE_CODE = "IDLE_CODE"
    WRAP_UP_CODE = "WRAP_UP_CODE"
    CHAT_RESPONSE = "CHAT_RESPONSE"
    MESSAGE_TEMPLATE = "MESSAGE_TEMPLATE"
    CAD_VARIABLE = "CAD_VARIABLE"


@dataclass(frozen=True)
class Reference:
    """A field that must name an active entity of ``kind`` in the same organization."""

    field: str
    kind: ConfigKind
    id: str


@dataclass(frozen=True)
class Dependent:
    """Something active that needs a configuration entity (so it cannot be deactivated)."""

    kind: str
    id: str
    name: str


_ENTITY_CLASSES: dict[ConfigKind, type[ConfigEntity]] = {}


@dataclass(frozen=True, kw_only=True)
class ConfigEntity:
    kind: ClassVar[ConfigKind]
    # Kinds whose collection-wide rules (``collection_violations``) must see every sibling.
    has_collection_rules: ClassVar[bool] = False

    id: str
    org_id: str
    name: str
    active: bool = True
    version: int = 1
    created_at: datetime
    updated_at: datetime

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _ENTITY_CLASSES[cls.kind] = cls

    def validate(self) -> list[Violation]:
        rules = Rules()
        rules.text("name", self.name, max_length=100)
        self.add_rules(rules)
        return rules.violations

    def add_rules(self, rules: Rules) -> None:
        """Entity-specific field rules; the default has none beyond the name."""

    def references(self) -> list[Reference]:
        return []

    def reference_violations(self, targets: Mapping[Reference, ConfigEntity]) -> list[Violation]:
        """Rules over what referenced entities say, e.g. an entry point's queue must serve its
        channel. ``targets`` holds the references found active (not necessarily all of them): check
        only those present. The use cases also run this when a target is updated, so a change to
        the target cannot break an active entity that relies on it."""
        return []

    def unique_keys(self) -> dict[str, str]:
        """Field → normalized value that no other entity of this kind in the org may share."""
        return {"name": self.name.strip().casefold()}

    def collection_violations(self, siblings: list[ConfigEntity]) -> list[Violation]:
        """Rules over all active entities of the kind (``siblings`` excludes this one)."""
        return []


def entity_class(kind: ConfigKind) -> type[ConfigEntity]:
    if kind not in _ENTITY_CLASSES:
        import domain.configuration.kinds  # noqa: F401 - registers every kind on first use
    return _ENTITY_CLASSES[kind]
