"""Agents: who they are, which teams they may log in to, their skills and their profile."""

from __future__ import annotations

from dataclasses import dataclass

from domain.configuration.base import ConfigEntity, ConfigKind, Reference
from domain.validation import Rules

MAX_SKILL_LEVEL = 10
MAX_SKILLS = 50


@dataclass(frozen=True)
class Skill:
    name: str
    level: int


@dataclass(frozen=True, kw_only=True)
class Agent(ConfigEntity):
    kind = ConfigKind.AGENT

    email: str
    team_ids: tuple[str, ...]
    profile_id: str
    skills: tuple[Skill, ...] = ()
    # The extension or dial number offered by default at log-in (SPEC §2: "optionally a dial number").
    extension: str | None = None

    def add_rules(self, rules: Rules) -> None:
        rules.email("email", self.email)
        if not self.team_ids:
            rules.fail("teamIds", "required", "an agent belongs to at least one team")
        rules.unique_items("teamIds", self.team_ids)
        if len(self.skills) > MAX_SKILLS:
            rules.fail("skills", f"max_items:{MAX_SKILLS}", f"at most {MAX_SKILLS} skills")
        rules.unique_items("skills", (skill.name.strip() for skill in self.skills))
        for index, skill in enumerate(self.skills):
            rules.text(f"skills.{index}.name", skill.name, max_length=50)
            rules.int_range(f"skills.{index}.level", skill.level, minimum=1, maximum=MAX_SKILL_LEVEL)
        if self.extension is not None and not (
            1 <= len(self.extension) <= 15 and self.extension.lstrip("+").isdigit()
        ):
            rules.fail("extension", "extension", "extension must be 1 to 15 digits, optionally after '+'")

    def references(self) -> list[Reference]:
        refs = [Reference("teamIds", ConfigKind.TEAM, team_id) for team_id in self.team_ids]
        refs.append(Reference("profileId", ConfigKind.MULTIMEDIA_PROFILE, self.profile_id))
        return refs

    def unique_keys(self) -> dict[str, str]:
        return {"email": self.email.strip().casefold()}

    def skill_level(self, name: str) -> int:
        return next((skill.level for skill in self.skills if skill.name.casefold() == name.casefold()), 0)
