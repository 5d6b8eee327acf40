"""Idle codes (why an agent takes no work, SPEC §2) and wrap-up codes (why a task ended, §8)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.configuration.base import ConfigEntity, ConfigKind
from domain.validation import Rules

DESCRIPTION_MAX_LENGTH = 250
# SPEC §8: the desktop searches wrap-up reasons once at least 3 characters are typed; shorter
# searches would match nearly every code, so the API refuses them instead of paging everything.
WRAP_UP_SEARCH_MIN_LENGTH = 3


@dataclass(frozen=True, kw_only=True)
class IdleCode(ConfigEntity):
    kind = ConfigKind.IDLE_CODE

    description: str | None = None

    def add_rules(self, rules: Rules) -> None:
        rules.optional_text("description", self.description, max_length=DESCRIPTION_MAX_LENGTH)


@dataclass(frozen=True, kw_only=True)
class WrapUpCode(ConfigEntity):
    kind = ConfigKind.WRAP_UP_CODE

    description: str | None = None

    def add_rules(self, rules: Rules) -> None:
        rules.optional_text("description", self.description, max_length=DESCRIPTION_MAX_LENGTH)
