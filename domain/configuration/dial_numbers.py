"""Dial numbers: named external numbers agents consult, transfer to or dial (SPEC §1, §6)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.configuration.base import ConfigEntity, ConfigKind
from domain.configuration.entry_points import normalize_phone
from domain.validation import Rules


@dataclass(frozen=True, kw_only=True)
class DialNumber(ConfigEntity):
    kind = ConfigKind.DIAL_NUMBER

    number: str

    def add_rules(self, rules: Rules) -> None:
        rules.phone("number", self.number)

    def unique_keys(self) -> dict[str, str]:
        # Two names for one number would make a transfer target ambiguous in reports.
        return {"name": self.name.strip().casefold(), "number": normalize_phone(self.number)}
