"""Events of configuration changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.configuration.base import ConfigKind
from domain.events import DomainEvent
from domain.streams import StreamKey, agent_stream, configuration_stream


class ConfigurationChange(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DEACTIVATED = "DEACTIVATED"
    REACTIVATED = "REACTIVATED"


@dataclass(frozen=True, kw_only=True)
class ConfigurationChanged(DomainEvent):
    kind: ConfigKind
    entity_id: str
    change: ConfigurationChange
    version: int
    changed_fields: tuple[str, ...]

    def streams(self) -> tuple[StreamKey, ...]:
        if self.kind is ConfigKind.AGENT:
            return (configuration_stream(self.org_id), agent_stream(self.org_id, self.entity_id))
        return (configuration_stream(self.org_id),)


@dataclass(frozen=True, kw_only=True)
class PoliciesChanged(DomainEvent):
    version: int
    changed_fields: tuple[str, ...]

    def streams(self) -> tuple[StreamKey, ...]:
        return (configuration_stream(self.org_id),)
